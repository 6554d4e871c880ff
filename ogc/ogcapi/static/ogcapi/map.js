/* The map of the OGC API HTML pages (collection extent, items, one item). Everything it shows comes from
   the page's <script type="application/json" id="ogcapi-map-data"> block (parsed, never evaluated) and
   from our own WMS; labels are set as text, never as HTML. */
(function () {
  "use strict";
  var el = document.getElementById("ogcapi-map");
  var block = document.getElementById("ogcapi-map-data");
  if (!el || !block || typeof L === "undefined") { return; }
  var data = JSON.parse(block.textContent);
  var crs = new URLSearchParams(window.location.search).get("crs");
  if (crs && !/CRS84$/.test(crs)) {  // coordinates in another CRS: the table is the page, no map
    el.hidden = true;
    return;
  }
  var map = L.map(el, { maxZoom: 19 });
  L.tileLayer.wms(el.getAttribute("data-wms"), {
    layers: el.getAttribute("data-wms-layers"), format: "image/png", transparent: true, version: "1.1.1", maxZoom: 19
  }).addTo(map);
  var shown = null;
  if (data.bbox) {
    var b = data.bbox;
    shown = L.rectangle([[b[1], b[0]], [b[3], b[2]]], { weight: 2, fill: false }).addTo(map);
  }
  if (data.features && data.features.length) {
    shown = L.geoJSON({ type: "FeatureCollection", features: data.features }, {
      onEachFeature: function (feature, layer) {
        if (!data.itemsPath) { return; }
        var a = document.createElement("a");
        a.href = data.itemsPath + "/" + encodeURIComponent(String(feature.id)) + "?f=html";
        a.textContent = String(feature.id);
        layer.bindPopup(a);
      }
    }).addTo(map);
  }
  if (shown) {
    map.fitBounds(shown.getBounds(), { maxZoom: 17 });
  } else {
    map.setView([52.07, 21.02], 11);  // Piaseczno
  }
})();
