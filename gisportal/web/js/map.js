// The public map: OpenLayers in EPSG:2180 over our WMS (1.1.1: x/y boxes, no axis trouble), search,
// feature info with the zoning designation and the e-form actions, coordinates in 2180/2178/4326.
import Map from "ol/Map.js";
import View from "ol/View.js";
import ImageLayer from "ol/layer/Image.js";
import VectorLayer from "ol/layer/Vector.js";
import ImageWMS from "ol/source/ImageWMS.js";
import VectorTileLayer from "ol/layer/VectorTile.js";
import VectorTileSource from "ol/source/VectorTile.js";
import MVT from "ol/format/MVT.js";
import TileGrid from "ol/tilegrid/TileGrid.js";
import VectorSource from "ol/source/Vector.js";
import GeoJSON from "ol/format/GeoJSON.js";
import { ScaleLine, Zoom, defaults as defaultControls } from "ol/control.js";
import { Stroke, Style, Fill } from "ol/style.js";
import { register } from "ol/proj/proj4.js";
import { transform } from "ol/proj.js";
import proj4 from "proj4";

proj4.defs("EPSG:2180", "+proj=tmerc +lat_0=0 +lon_0=19 +k=0.9993 +x_0=500000 +y_0=-5300000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs");
proj4.defs("EPSG:2178", "+proj=tmerc +lat_0=0 +lon_0=21 +k=0.999923 +x_0=7500000 +y_0=0 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs");
register(proj4);

const root = document.getElementById("portal");
const texts = JSON.parse(document.getElementById("portal-texts").textContent);
const infoBody = document.getElementById("info-body");
const layerBoxes = Array.from(document.querySelectorAll("#layer-list input[name=layer]"));

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
// Layers drawn from our vector tiles on the PUWG-1992 grid (EPSG:2180, no reprojection) when the page
// asks for it (settings GISPORTAL_MAP_VECTOR_TILES); the rest, labels included, come from the WMS.
const VECTOR = root.dataset.vector === "1" ? {
  dzialki: new Style({ stroke: new Stroke({ color: "#e60000", width: 1 }) }),
  budynki: new Style({ fill: new Fill({ color: "#e8cfa8" }), stroke: new Stroke({ color: "#6b4f2a", width: 0.8 }) }),
} : {};
function visibleLayers() { return layerBoxes.filter((b) => b.checked && !VECTOR[b.value]).map((b) => b.value); }

const wms = new ImageWMS({
  url: "/ows",
  params: { SERVICE: "WMS", VERSION: "1.1.1", LAYERS: visibleLayers().join(","), STYLES: "", FORMAT: "image/png", TRANSPARENT: "TRUE" },
  projection: "EPSG:2180",
  ratio: 1,
  serverType: "mapserver",
});
const layers = [];
if (root.dataset.orthoUrl) {
  const ortho = new ImageLayer({
    visible: false,
    source: new ImageWMS({ url: root.dataset.orthoUrl, params: { LAYERS: root.dataset.orthoLayer, VERSION: "1.1.1" }, projection: "EPSG:2180" }),
  });
  layers.push(ortho);
  document.getElementById("ortho-toggle").addEventListener("change", (e) => ortho.setVisible(e.target.checked));
}
layers.push(new ImageLayer({ source: wms }));
const PUWG_SPAN = 819200;
const puwgGrid = new TileGrid({
  extent: [100000, 100000, 919200, 919200], origin: [100000, 919200], tileSize: 512,
  resolutions: Array.from({ length: 18 }, (_, z) => PUWG_SPAN / 2 ** z / 512),
});
const vectorLayers = {};
for (const [name, style] of Object.entries(VECTOR)) {
  vectorLayers[name] = new VectorTileLayer({
    declutter: false, style, maxResolution: name === "dzialki" ? 6.25 : 3.2,
    visible: layerBoxes.some((b) => b.value === name && b.checked),
    source: new VectorTileSource({
      format: new MVT(), projection: "EPSG:2180", tileGrid: puwgGrid,
      url: `/ogcapi/collections/${name}/tiles/PUWG1992/{z}/{y}/{x}`,
    }),
  });
  layers.push(vectorLayers[name]);
}
const highlight = new VectorSource();
layers.push(new VectorLayer({
  source: highlight,
  style: new Style({ stroke: new Stroke({ color: "#ffbf47", width: 4 }), fill: new Fill({ color: "rgba(255,191,71,0.25)" }) }),
}));

const map = new Map({
  target: "map",
  keyboardEventTarget: document.getElementById("map"), // arrows pan, +/- zoom when the map has focus
  layers,
  controls: defaultControls({ zoom: false, rotate: false }).extend([new Zoom(), new ScaleLine({ units: "metric" })]),
  view: new View({ projection: "EPSG:2180", center: [638378, 470129], zoom: 0, resolution: 4, minResolution: 0.05, maxResolution: 200 }),
});
window.gisportalMap = map; // for tests and the browser console

layerBoxes.forEach((b) => b.addEventListener("change", () => {
  if (vectorLayers[b.value]) vectorLayers[b.value].setVisible(b.checked);
  else wms.updateParams({ LAYERS: visibleLayers().join(",") || "granice" });
}));

const fmt = new GeoJSON();
function showGeometry(geometry) {
  highlight.clear();
  if (!geometry) return;
  highlight.addFeature(fmt.readFeature({ type: "Feature", geometry, properties: {} }));
}

// ---- coordinates
const c2180 = document.getElementById("coords-2180");
const c2178 = document.getElementById("coords-2178");
const c4326 = document.getElementById("coords-4326");
map.on("pointermove", (e) => {
  const [x, y] = e.coordinate;
  const [x78, y78] = transform(e.coordinate, "EPSG:2180", "EPSG:2178");
  const [lon, lat] = transform(e.coordinate, "EPSG:2180", "EPSG:4326");
  c2180.textContent = `EPSG:2180 x ${y.toFixed(2)} y ${x.toFixed(2)}`;
  c2178.textContent = `EPSG:2178 x ${y78.toFixed(2)} y ${x78.toFixed(2)}`;
  c4326.textContent = `EPSG:4326 ${lat.toFixed(6)}° N ${lon.toFixed(6)}° E`;
});

// ---- feature info
function parcelActions(id) {
  const q = encodeURIComponent(id);
  const links = texts.forms.map(([code, label]) => `<li><a href="/uslugi/${code}/?parcels=${q}">${esc(label)}</a></li>`).join("");
  return `<p><a href="/dzialka/${esc(id)}">${esc(texts.details)}</a></p><h3>${esc(texts.actions)}</h3><ul>${links}</ul>`;
}
function table(props) {
  return "<table class='facts'>" + Object.entries(props).map(([k, v]) => `<tr><th scope='row'>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("") + "</table>";
}
async function featureInfo(coordinate) {
  const view = map.getView();
  const queryable = layerBoxes.filter((b) => b.checked && b.dataset.queryable === "1").map((b) => b.value);
  const requests = [];
  if (queryable.length) {
    const src = new ImageWMS({ url: "/ows", params: { VERSION: "1.1.1", LAYERS: queryable.join(",") }, projection: "EPSG:2180" });
    requests.push(fetch(src.getFeatureInfoUrl(coordinate, view.getResolution(), "EPSG:2180",
      { INFO_FORMAT: "application/json", QUERY_LAYERS: queryable.join(","), FEATURE_COUNT: 5, STYLES: "" })).then((r) => r.json()));
  }
  const mpzp = new ImageWMS({ url: "/ows", params: { VERSION: "1.1.1", LAYERS: "mpzp" }, projection: "EPSG:2180" });
  requests.push(fetch(mpzp.getFeatureInfoUrl(coordinate, view.getResolution(), "EPSG:2180",
    { INFO_FORMAT: "application/json", QUERY_LAYERS: "mpzp", FEATURE_COUNT: 1, STYLES: "" })).then((r) => r.json()));
  const results = await Promise.all(requests.map((p) => p.catch(() => ({ features: [] }))));
  const zoning = results.pop().features || [];
  const features = results.length ? results[0].features || [] : [];
  let html = "";
  const parcel = features.find((f) => f.properties && f.properties.ID_DZIALKI);
  if (parcel) showGeometry(parcel.geometry); else highlight.clear();
  for (const f of features) html += table(f.properties);
  if (zoning.length) html += `<h3>${esc(texts.zoning)}</h3>` + table(zoning[0].properties);
  if (parcel) html += parcelActions(parcel.properties.ID_DZIALKI);
  infoBody.innerHTML = html || `<p>${esc(texts.none)}</p>`;
}
map.on("singleclick", (e) => featureInfo(e.coordinate));

// ---- search with suggestions (listbox, keyboard)
const input = document.getElementById("search-q");
const list = document.getElementById("search-results");
let results = [];
let active = -1;
let timer = null;
function renderResults() {
  list.innerHTML = results.map((r, i) =>
    `<li role="option" id="sr-${i}" data-i="${i}" aria-selected="${i === active}" tabindex="-1">${esc(r.label)}</li>`).join("");
  input.setAttribute("aria-expanded", results.length ? "true" : "false");
  if (active >= 0) input.setAttribute("aria-activedescendant", `sr-${active}`); else input.removeAttribute("aria-activedescendant");
}
async function search(q) {
  const r = await fetch(`/api/search?q=${encodeURIComponent(q)}`);
  results = (await r.json()).results || [];
  active = results.length ? 0 : -1;
  renderResults();
  if (!results.length) list.innerHTML = `<li role="option" aria-disabled="true">${esc(texts.noresults)}</li>`;
  return results;
}
function choose(r) {
  if (!r) return;
  map.getView().fit(r.bbox, { padding: [60, 60, 60, 60], maxZoom: 20, minResolution: 0.1 });
  showGeometry(r.geometry);
  infoBody.innerHTML = `<p><strong>${esc(r.label)}</strong></p>` + (r.kind === "parcel" ? parcelActions(r.id) : "");
  list.innerHTML = "";
  results = [];
  input.setAttribute("aria-expanded", "false");
  document.getElementById("info").focus({ preventScroll: true });
}
input.addEventListener("input", () => {
  clearTimeout(timer);
  const q = input.value.trim();
  if (q.length < 2) { list.innerHTML = ""; results = []; return; }
  timer = setTimeout(() => search(q), 200);
});
input.addEventListener("keydown", (e) => {
  if (e.key === "ArrowDown" && results.length) { active = (active + 1) % results.length; renderResults(); e.preventDefault(); }
  else if (e.key === "ArrowUp" && results.length) { active = (active - 1 + results.length) % results.length; renderResults(); e.preventDefault(); }
  else if (e.key === "Escape") { list.innerHTML = ""; results = []; }
});
document.getElementById("search-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const found = results.length ? results : await search(input.value.trim());
  choose(found[Math.max(active, 0)]);
});
list.addEventListener("click", (e) => {
  const li = e.target.closest("li[data-i]");
  if (li) choose(results[Number(li.dataset.i)]);
});

// a parcel id in the address (#141804_4.0001.12) opens it
if (location.hash.length > 1) {
  const q = decodeURIComponent(location.hash.slice(1));
  input.value = q;
  search(q).then((found) => choose(found[0]));
}
