/* Map picker for parcel fields: a WMS map image of our parcels; click a parcel to add it to (or
   remove it from) the list of identifiers. Progressive enhancement: without JavaScript the textarea
   alone does the job, and every action here has a keyboard path (buttons, and the textarea). */
(function () {
  "use strict";
  var WIDTH = 640, HEIGHT = 400, PIXEL = 0.28e-3;
  function ids(textarea) {
    return textarea.value.split(/[\s,]+/).filter(function (s) { return s.length > 0; });
  }
  function setIds(textarea, list) {
    textarea.value = list.join("\n");
    textarea.dispatchEvent(new Event("change", {bubbles: true}));  // the fee quote follows the parcels
  }

  function Picker(textarea) {
    var t = document.documentElement.lang === "en" ? {
      map: "Map of parcels: click a parcel to add or remove it", zin: "Zoom in", zout: "Zoom out",
      n: "North", s: "South", w: "West", e: "East", added: "Added parcel ", removed: "Removed parcel ", none: "No parcel here.",
      search: "Find a parcel or address on the map", go: "Find", nothing: "Nothing found."
    } : {
      map: "Mapa działek: kliknij działkę, aby ją dodać lub usunąć", zin: "Przybliż", zout: "Oddal",
      n: "Na północ", s: "Na południe", w: "Na zachód", e: "Na wschód", added: "Dodano działkę ", removed: "Usunięto działkę ",
      none: "W tym miejscu nie ma działki.",
      search: "Znajdź działkę lub adres na mapie", go: "Znajdź", nothing: "Nic nie znaleziono."
    };
    var view = {x: 638378, y: 470129, scale: 4000};  // Piaseczno centre, EPSG:2180 x = easting
    var box = document.createElement("div");
    box.className = "picker";
    var img = document.createElement("img");
    img.width = WIDTH; img.height = HEIGHT; img.alt = t.map; img.className = "picker-map";
    img.setAttribute("data-testid", "parcel-map");
    var status = document.createElement("p");
    status.setAttribute("role", "status"); status.className = "picker-status";
    var bar = document.createElement("div");
    bar.className = "picker-bar";
    [[t.zin, function () { view.scale /= 2; }], [t.zout, function () { view.scale *= 2; }],
     [t.n, function () { view.y += span().h / 3; }], [t.s, function () { view.y -= span().h / 3; }],
     [t.w, function () { view.x -= span().w / 3; }], [t.e, function () { view.x += span().w / 3; }]].forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "button"; btn.textContent = b[0];
      btn.addEventListener("click", function () { b[1](); draw(); });
      bar.appendChild(btn);
    });
    // search: a parcel found is added to the list; an address or precinct only moves the map
    var find = document.createElement("div");
    find.className = "picker-search";
    var findId = textarea.id + "_find";
    var label = document.createElement("label");
    label.htmlFor = findId; label.textContent = t.search;
    var q = document.createElement("input");
    q.type = "search"; q.id = findId; q.autocomplete = "off";
    var go = document.createElement("button");
    go.type = "button"; go.textContent = t.go;
    var hits = document.createElement("ul");
    hits.className = "picker-hits";
    find.appendChild(label); find.appendChild(q); find.appendChild(go); find.appendChild(hits);
    function runSearch() {
      fetch("/api/search?q=" + encodeURIComponent(q.value.trim())).then(function (r) { return r.json(); }).then(function (body) {
        hits.innerHTML = "";
        if (!body.results.length) { status.textContent = t.nothing; return; }
        body.results.forEach(function (h) {
          var li = document.createElement("li");
          var b = document.createElement("button");
          b.type = "button"; b.className = "link"; b.textContent = h.label;
          b.addEventListener("click", function () {
            view.x = (h.bbox[0] + h.bbox[2]) / 2; view.y = (h.bbox[1] + h.bbox[3]) / 2; view.scale = 2000;
            if (h.kind === "parcel") {
              var list = ids(textarea);
              if (list.indexOf(h.id) < 0) { list.push(h.id); setIds(textarea, list); }
              status.textContent = t.added + h.id;
            }
            hits.innerHTML = "";
            draw();
          });
          li.appendChild(b); hits.appendChild(li);
        });
      });
    }
    go.addEventListener("click", runSearch);
    q.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); runSearch(); } });
    box.appendChild(find); box.appendChild(bar); box.appendChild(img); box.appendChild(status);
    textarea.parentNode.insertBefore(box, textarea.nextSibling);

    function span() { return {w: WIDTH * PIXEL * view.scale, h: HEIGHT * PIXEL * view.scale}; }
    function bbox() {
      var s = span();
      return [view.x - s.w / 2, view.y - s.h / 2, view.x + s.w / 2, view.y + s.h / 2];
    }
    function common(b) {  // WMS 1.1.1: EPSG:2180 box in x/y (easting first)
      return "/ows?SERVICE=WMS&VERSION=1.1.1&SRS=EPSG:2180&BBOX=" + b.join(",") + "&WIDTH=" + WIDTH + "&HEIGHT=" + HEIGHT;
    }
    function draw() {
      img.src = common(bbox()) + "&REQUEST=GetMap&LAYERS=dzialki,budynki,numery_dzialek&STYLES=&FORMAT=image/png";
    }
    img.addEventListener("click", function (ev) {
      var r = img.getBoundingClientRect();
      var i = Math.round((ev.clientX - r.left) * WIDTH / r.width), j = Math.round((ev.clientY - r.top) * HEIGHT / r.height);
      var url = common(bbox()) + "&REQUEST=GetFeatureInfo&LAYERS=dzialki&QUERY_LAYERS=dzialki&STYLES=&FORMAT=image/png" +
        "&INFO_FORMAT=application/json&FEATURE_COUNT=1&X=" + i + "&Y=" + j;
      fetch(url).then(function (resp) { return resp.json(); }).then(function (fc) {
        if (!fc.features || !fc.features.length) { status.textContent = t.none; return; }
        var id = fc.features[0].properties.ID_DZIALKI, list = ids(textarea), at = list.indexOf(id);
        if (at >= 0) { list.splice(at, 1); status.textContent = t.removed + id; }
        else { list.push(id); status.textContent = t.added + id; }
        setIds(textarea, list);
      });
    });
    // start on the first parcel already typed (from a map link or a draft)
    var first = ids(textarea)[0];
    if (first) {
      fetch("/ows?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&STOREDQUERY_ID=urn:gisportal:query:GetParcelById&ID=" +
            encodeURIComponent(first) + "&SRSNAME=EPSG:2180&OUTPUTFORMAT=application/json&PROPERTYNAME=ID_DZIALKI")
        .then(function (resp) { return resp.json(); }).then(function (fc) {
          var ring = fc.features && fc.features[0] && fc.features[0].geometry.coordinates[0][0];
          if (ring) {
            var sx = 0, sy = 0;
            ring.forEach(function (p) { sx += p[0]; sy += p[1]; });
            view.x = sx / ring.length; view.y = sy / ring.length; view.scale = 2000;
          }
          draw();
        }).catch(draw);
    } else {
      draw();
    }
  }
  document.querySelectorAll("textarea[data-picker='parcels']").forEach(function (el) { new Picker(el); });
})();
