/* Drawing a work area on a map of parcels (our WMS in EPSG:2180): each click adds a corner of the
   polygon, written as WKT into the area's text field. Progressive enhancement: the text field (WKT or
   GeoJSON, typed or pasted) and the file upload do the same without JavaScript or a mouse; the map
   buttons work from the keyboard. */
(function () {
  "use strict";
  var WIDTH = 640, HEIGHT = 400, PIXEL = 0.28e-3, SVG = "http://www.w3.org/2000/svg";

  function Drawer(textarea) {
    var t = document.documentElement.lang === "en" ? {
      map: "Map for drawing the work area: click to add a corner of the polygon", zin: "Zoom in", zout: "Zoom out",
      n: "North", s: "South", w: "West", e: "East", undo: "Remove the last corner", clear: "Start again",
      added: "Corner %1 added.", more: " Add at least three.", done: " The area is written in the field below.",
      cleared: "The drawing was cleared.", undone: "The last corner was removed."
    } : {
      map: "Mapa do rysowania obszaru prac: kliknij, aby dodać wierzchołek wielokąta", zin: "Przybliż", zout: "Oddal",
      n: "Na północ", s: "Na południe", w: "Na zachód", e: "Na wschód", undo: "Usuń ostatni wierzchołek", clear: "Zacznij od nowa",
      added: "Dodano wierzchołek %1.", more: " Dodaj co najmniej trzy.", done: " Obszar jest zapisany w polu poniżej.",
      cleared: "Rysunek wyczyszczono.", undone: "Usunięto ostatni wierzchołek."
    };
    var view = {x: 638378, y: 470129, scale: 8000};  // Piaseczno, EPSG:2180 x = easting
    var points = [];

    var box = document.createElement("div");
    box.className = "area-draw-box";
    var bar = document.createElement("div");
    bar.className = "area-bar";
    var wrap = document.createElement("div");
    wrap.className = "area-draw";
    var img = document.createElement("img");
    img.width = WIDTH; img.height = HEIGHT; img.alt = t.map;
    img.setAttribute("data-testid", "area-map");
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + WIDTH + " " + HEIGHT);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("aria-hidden", "true");
    var shape = document.createElementNS(SVG, "polygon");
    shape.setAttribute("fill", "#4c2c92"); shape.setAttribute("fill-opacity", "0.2");
    shape.setAttribute("stroke", "#4c2c92"); shape.setAttribute("stroke-width", "3");
    svg.appendChild(shape);
    var status = document.createElement("p");
    status.setAttribute("role", "status");
    [[t.zin, function () { view.scale /= 2; }], [t.zout, function () { view.scale *= 2; }],
     [t.n, function () { view.y += span().h / 3; }], [t.s, function () { view.y -= span().h / 3; }],
     [t.w, function () { view.x -= span().w / 3; }], [t.e, function () { view.x += span().w / 3; }],
     [t.undo, function () { points.pop(); write(); status.textContent = t.undone; }],
     [t.clear, function () { points = []; write(); status.textContent = t.cleared; }]].forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "button"; btn.textContent = b[0];
      btn.addEventListener("click", function () { b[1](); draw(); });
      bar.appendChild(btn);
    });
    wrap.appendChild(img); wrap.appendChild(svg);
    box.appendChild(bar); box.appendChild(wrap); box.appendChild(status);
    textarea.parentNode.insertBefore(box, textarea);

    function span() { return {w: WIDTH * PIXEL * view.scale, h: HEIGHT * PIXEL * view.scale}; }
    function bbox() {
      var s = span();
      return [view.x - s.w / 2, view.y - s.h / 2, view.x + s.w / 2, view.y + s.h / 2];
    }
    function draw() {
      var b = bbox();
      img.src = "/ows?SERVICE=WMS&VERSION=1.1.1&SRS=EPSG:2180&BBOX=" + b.join(",") + "&WIDTH=" + WIDTH + "&HEIGHT=" + HEIGHT +
        "&REQUEST=GetMap&LAYERS=dzialki,budynki,numery_dzialek&STYLES=&FORMAT=image/png";
      shape.setAttribute("points", points.map(function (p) {
        return ((p[0] - b[0]) / (b[2] - b[0]) * WIDTH).toFixed(1) + "," + ((b[3] - p[1]) / (b[3] - b[1]) * HEIGHT).toFixed(1);
      }).join(" "));
    }
    function write() {
      if (points.length >= 3) {
        var ring = points.concat([points[0]]);
        textarea.value = "POLYGON((" + ring.map(function (p) { return p[0].toFixed(2) + " " + p[1].toFixed(2); }).join(", ") + "))";
      } else {
        textarea.value = "";
      }
    }
    function read() {  // a polygon typed or kept in the field (WKT in EPSG:2180) is shown on the map
      var m = /^\s*POLYGON\s*\(\(([^()]*)\)/i.exec(textarea.value);
      if (!m) { return false; }
      var pts = m[1].split(",").map(function (pair) { return pair.trim().split(/\s+/).map(Number); })
        .filter(function (p) { return p.length >= 2 && isFinite(p[0]) && isFinite(p[1]); });
      if (pts.length > 1 && pts[0][0] === pts[pts.length - 1][0] && pts[0][1] === pts[pts.length - 1][1]) { pts.pop(); }
      if (pts.length < 3) { return false; }
      points = pts.map(function (p) { return [p[0], p[1]]; });
      return true;
    }
    img.addEventListener("click", function (ev) {
      var r = img.getBoundingClientRect(), b = bbox();
      var x = b[0] + (ev.clientX - r.left) / r.width * (b[2] - b[0]);
      var y = b[3] - (ev.clientY - r.top) / r.height * (b[3] - b[1]);
      points.push([Math.round(x * 100) / 100, Math.round(y * 100) / 100]);
      write();
      status.textContent = t.added.replace("%1", points.length) + (points.length < 3 ? t.more : t.done);
      draw();
    });
    textarea.addEventListener("change", function () { if (read()) { draw(); } });
    if (read()) {
      var xs = points.map(function (p) { return p[0]; }), ys = points.map(function (p) { return p[1]; });
      view.x = (Math.min.apply(null, xs) + Math.max.apply(null, xs)) / 2;
      view.y = (Math.min.apply(null, ys) + Math.max.apply(null, ys)) / 2;
      var extent = Math.max(Math.max.apply(null, xs) - Math.min.apply(null, xs), Math.max.apply(null, ys) - Math.min.apply(null, ys));
      view.scale = Math.max(1000, extent * 1.5 / (HEIGHT * PIXEL));
    }
    draw();
  }
  document.querySelectorAll("textarea[data-area='polygon']").forEach(function (el) { new Drawer(el); });
})();
