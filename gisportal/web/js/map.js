// The public map: OpenLayers in EPSG:2180 over our WMS (1.1.1: x/y boxes, no axis trouble), filling the
// window under the header, with search (a WAI-ARIA 1.2 combobox), layers and feature info as panels over it
// (a bottom sheet on phones), feature info in people's words (the catalogue's titles, units, local dates),
// the zoning designation and the e-form actions, coordinates in 2180/2178/4326.
// Addresses: /?bbox=x0,y0,x1,y1 (EPSG:2180, x = easting) zooms there; /?dzialka=<id> (or #<id>) opens a parcel.
import Map from "ol/Map.js";
import View from "ol/View.js";
import Feature from "ol/Feature.js";
import Point from "ol/geom/Point.js";
import ImageLayer from "ol/layer/Image.js";
import VectorLayer from "ol/layer/Vector.js";
import ImageWMS from "ol/source/ImageWMS.js";
import VectorTileLayer from "ol/layer/VectorTile.js";
import VectorTileSource from "ol/source/VectorTile.js";
import MVT from "ol/format/MVT.js";
import TileGrid from "ol/tilegrid/TileGrid.js";
import VectorSource from "ol/source/Vector.js";
import GeoJSON from "ol/format/GeoJSON.js";
import { ScaleLine, Zoom } from "ol/control.js";
import { Circle as CircleStyle, Stroke, Style, Fill } from "ol/style.js";
import { register } from "ol/proj/proj4.js";
import { transform } from "ol/proj.js";
import proj4 from "proj4";

proj4.defs("EPSG:2180", "+proj=tmerc +lat_0=0 +lon_0=19 +k=0.9993 +x_0=500000 +y_0=-5300000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs");
proj4.defs("EPSG:2178", "+proj=tmerc +lat_0=0 +lon_0=21 +k=0.999923 +x_0=7500000 +y_0=0 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs");
register(proj4);

const root = document.getElementById("portal");
const mapEl = document.getElementById("map");
const texts = JSON.parse(document.getElementById("portal-texts").textContent);
const labels = JSON.parse(document.getElementById("portal-labels").textContent);
const info = document.getElementById("info");
const infoBody = document.getElementById("info-body");
const infoHeading = document.getElementById("info-h");
const layerBoxes = Array.from(document.querySelectorAll("#layer-list input[name=layer]"));
const LOCALE = root.dataset.lang === "en" ? "en-GB" : "pl-PL";
const PHONE = window.matchMedia("(max-width: 600px)");

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
// Layers drawn from our vector tiles on the PUWG-1992 grid (EPSG:2180, no reprojection) when the page
// asks for it (settings GISPORTAL_MAP_VECTOR_TILES); the rest, labels included, come from the WMS.
const VECTOR = root.dataset.vector === "1" ? {
  dzialki: new Style({ stroke: new Stroke({ color: "#e60000", width: 1 }) }),
  budynki: new Style({ fill: new Fill({ color: "#e8cfa8" }), stroke: new Stroke({ color: "#6b4f2a", width: 0.8 }) }),
} : {};
function visibleLayers() { return layerBoxes.filter((b) => b.checked && !VECTOR[b.value] && !b.dataset.cascaded).map((b) => b.value); }
// Layers of external WMS sources (cascaded): drawn through our WMS too, never by the browser calling the
// remote, as an image of their own under ours, so that a failing remote blanks only itself.
function remoteLayers() { return layerBoxes.filter((b) => b.checked && b.dataset.cascaded).map((b) => b.value); }

const layers = [];
// A light base from our own registry layers (land use, address points), drawn faded under the cadastre.
if (root.dataset.base) {
  const base = new ImageLayer({
    properties: { name: "base" },
    opacity: 0.45,
    source: new ImageWMS({
      url: "/ows",
      params: { SERVICE: "WMS", VERSION: "1.1.1", LAYERS: root.dataset.base, STYLES: "", FORMAT: "image/png", TRANSPARENT: "TRUE" },
      projection: "EPSG:2180", ratio: 1, serverType: "mapserver",
    }),
  });
  layers.push(base);
  document.getElementById("base-toggle").addEventListener("change", (e) => base.setVisible(e.target.checked));
}
if (root.dataset.orthoUrl) {
  const ortho = new ImageLayer({
    properties: { name: "ortho" },
    visible: false,
    source: new ImageWMS({ url: root.dataset.orthoUrl, params: { LAYERS: root.dataset.orthoLayer, VERSION: "1.1.1" }, projection: "EPSG:2180" }),
  });
  layers.push(ortho);
  document.getElementById("ortho-toggle").addEventListener("change", (e) => ortho.setVisible(e.target.checked));
}
const remote = new ImageWMS({
  url: "/ows",
  params: { SERVICE: "WMS", VERSION: "1.1.1", LAYERS: remoteLayers().join(","), STYLES: "", FORMAT: "image/png", TRANSPARENT: "TRUE", EXCEPTIONS: "application/vnd.ogc.se_blank" },
  projection: "EPSG:2180",
  ratio: 1,
  serverType: "mapserver",
});
const remoteLayer = new ImageLayer({ source: remote, visible: remoteLayers().length > 0, properties: { name: "remote" } });
layers.push(remoteLayer);
const wms = new ImageWMS({
  url: "/ows",
  params: { SERVICE: "WMS", VERSION: "1.1.1", LAYERS: visibleLayers().join(","), STYLES: "", FORMAT: "image/png", TRANSPARENT: "TRUE" },
  projection: "EPSG:2180",
  ratio: 1,
  serverType: "mapserver",
});
layers.push(new ImageLayer({ source: wms, properties: { name: "wms" } }));
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
    properties: { name: `tiles-${name}` },
    source: new VectorTileSource({
      format: new MVT(), projection: "EPSG:2180", tileGrid: puwgGrid,
      url: `/ogcapi/collections/${name}/tiles/PUWG1992/{z}/{y}/{x}`,
    }),
  });
  layers.push(vectorLayers[name]);
}
const highlight = new VectorSource();
layers.push(new VectorLayer({
  properties: { name: "highlight" },
  source: highlight,
  style: [
    new Style({ stroke: new Stroke({ color: "#0b0c0c", width: 6 }) }),
    new Style({ stroke: new Stroke({ color: "#ffbf47", width: 3 }), fill: new Fill({ color: "rgba(255,191,71,0.25)" }) }),
  ],
}));
const marker = new VectorSource();
layers.push(new VectorLayer({
  properties: { name: "marker" },
  source: marker,
  style: new Style({ image: new CircleStyle({ radius: 9, fill: new Fill({ color: "#d4351c" }), stroke: new Stroke({ color: "#ffffff", width: 3 }) }) }),
}));

const map = new Map({
  target: "map",
  keyboardEventTarget: mapEl, // arrows pan, +/- zoom when the map has focus
  layers,
  controls: [new Zoom({ zoomInTipLabel: texts.zoomin, zoomOutTipLabel: texts.zoomout }), new ScaleLine({ units: "metric" })],
  view: new View({ projection: "EPSG:2180", center: [638378, 470129], zoom: 0, resolution: 4, minResolution: 0.05, maxResolution: 200 }),
});
window.gisportalMap = map; // for tests and the browser console

layerBoxes.forEach((b) => b.addEventListener("change", () => {
  if (vectorLayers[b.value]) vectorLayers[b.value].setVisible(b.checked);
  else if (b.dataset.cascaded) {
    const names = remoteLayers();
    remoteLayer.setVisible(names.length > 0);
    if (names.length) remote.updateParams({ LAYERS: names.join(",") });
  } else wms.updateParams({ LAYERS: visibleLayers().join(",") || "granice" });
}));

const fmt = new GeoJSON();
function showGeometry(geometry) {
  highlight.clear();
  if (!geometry) return null;
  const feature = fmt.readFeature({ type: "Feature", geometry, properties: {} });
  highlight.addFeature(feature);
  return feature.getGeometry();
}
function showMarker(coordinate) {
  marker.clear();
  if (coordinate) marker.addFeature(new Feature(new Point(coordinate)));
}

// ---- panels: layers (collapsible), feature info (beside the map; a bottom sheet on phones)
const layersToggle = document.getElementById("layers-toggle");
const layersBody = document.getElementById("layers-body");
function setLayersOpen(open) {
  layersToggle.setAttribute("aria-expanded", open ? "true" : "false");
  layersBody.hidden = !open;
}
setLayersOpen(!PHONE.matches);
layersToggle.addEventListener("click", () => {
  const open = layersToggle.getAttribute("aria-expanded") !== "true";
  setLayersOpen(open);
  if (open && PHONE.matches && !info.hidden) closeInfo(false); // one sheet at a time on a phone
});

function openInfo(html, focus = true) {
  infoBody.innerHTML = html;
  info.hidden = false;
  if (PHONE.matches) setLayersOpen(false);
  if (focus) {
    infoHeading.focus({ preventScroll: true });
    info.scrollIntoView({ block: "nearest" });
  }
}
function closeInfo(returnFocus = true) {
  info.hidden = true;
  infoBody.innerHTML = "";
  highlight.clear();
  marker.clear();
  if (returnFocus) mapEl.focus({ preventScroll: true });
}
document.getElementById("info-close").addEventListener("click", () => closeInfo());
info.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); closeInfo(); } });
mapEl.addEventListener("keydown", (e) => { if (e.key === "Escape" && !info.hidden) { e.preventDefault(); closeInfo(); } });

// Room the panels leave free on the map, so that what is shown is not hidden under them.
function freePadding() {
  const m = mapEl.getBoundingClientRect();
  const pad = [24, 24, 24, 24]; // top, right, bottom, left
  const side = document.querySelector(".map-side").getBoundingClientRect();
  const search = document.querySelector(".panel-search").getBoundingClientRect();
  if (PHONE.matches) {
    pad[0] = Math.max(pad[0], search.bottom - m.top + 16);
    // the sheet may still grow to its full height (55 % of the map) when its content comes
    const sheetTop = Math.min(info.hidden ? m.bottom : m.bottom - m.height * 0.55,
      document.querySelector(".panel-layers").getBoundingClientRect().top);
    pad[2] = Math.max(pad[2], m.bottom - sheetTop + 16);
  } else {
    pad[3] = Math.max(pad[3], side.right - m.left + 16);
    if (!info.hidden) pad[1] = Math.max(pad[1], m.right - info.getBoundingClientRect().left + 16);
  }
  if (m.width - pad[1] - pad[3] < 120) { pad[1] = 24; pad[3] = 24; }
  if (m.height - pad[0] - pad[2] < 120) { pad[0] = 24; pad[2] = 24; }
  return pad;
}
function fitExtent(extent, minResolution) {
  map.getView().fit(extent, { padding: freePadding(), minResolution });
}

// ---- people's words for attributes: the catalogue's titles and units (portal.py), local numbers and dates
const numberFormat = (digits) => new Intl.NumberFormat(LOCALE, { minimumFractionDigits: digits, maximumFractionDigits: digits });
const dateTime = new Intl.DateTimeFormat(LOCALE, { timeZone: "Europe/Warsaw", dateStyle: "long", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(LOCALE, { timeZone: "UTC", dateStyle: "long" });
function formatValue(layer, name, value) {
  if (value === null || value === undefined || value === "") return "—";
  const spec = (labels[layer] && labels[layer].attributes[name]) || { type: "string", unit: "" };
  const coded = labels[layer] && labels[layer].values[name] && labels[layer].values[name][value];
  if (coded) return coded;
  const unit = spec.unit ? ` ${spec.unit}` : "";
  if (spec.type === "decimal" && Number.isFinite(Number(value))) {
    const n = Number(value);
    if (spec.unit === "ha") return `${numberFormat(4).format(n)} ha (${numberFormat(0).format(n * 10000)} m²)`;
    return `${numberFormat(2).format(n)}${unit}`;
  }
  if (spec.type === "datetime") {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return dateTime.format(d);
  }
  if (spec.type === "date" && /^\d{4}-\d{2}-\d{2}$/.test(String(value))) {
    return dateOnly.format(new Date(`${value}T12:00:00Z`));
  }
  return `${value}${unit}`;
}
function factsTable(layer, props) {
  const spec = labels[layer];
  const names = spec ? spec.order.filter((n) => n in props) : Object.keys(props);
  const rows = names.map((n) => {
    const label = spec && spec.attributes[n] ? spec.attributes[n].label : n;
    return `<tr><th scope="row">${esc(label)}</th><td>${esc(formatValue(layer, n, props[n]))}</td></tr>`;
  }).join("");
  const caption = spec ? spec.title : layer;
  return `<table class="facts"><caption class="visually-hidden">${esc(caption)}</caption>${rows}</table>`;
}
function layerTitle(layer) { return labels[layer] ? labels[layer].title : layer; }
function parcelActions(id) {
  const q = encodeURIComponent(id);
  const links = texts.forms.map(([code, label]) => `<li><a href="/uslugi/${code}/?parcels=${q}">${esc(label)}</a></li>`).join("");
  return `<p><a href="/dzialka/${esc(id)}">${esc(texts.details)}</a></p><h3>${esc(texts.actions)}</h3><ul class="actions">${links}</ul>`;
}
function zoningList(zoning) {
  if (!zoning || !zoning.length) return "";
  const items = zoning.map((z) => `<li><strong>${esc(z.label)}</strong> – ${esc(z.description)} (${esc(numberFormat(1).format(z.share))}% ${esc(texts.ofparcel)}); ${esc(z.plan)}, ${esc(texts.resolution)} ${esc(z.resolution)}</li>`).join("");
  return `<h3>${esc(texts.zoning)}</h3><ul>${items}</ul>`;
}

// ---- feature info at a point (GetFeatureInfo, JSON), one request at a time
let infoSeq = 0;
const ORDER = ["dzialki", "budynki", "adresy", "mpzp", "obreby", "jednostki_ewidencyjne", "uzytki", "kontury_klasyfikacyjne", "granice"];
function gfi(coordinate, names, count) {
  const view = map.getView();
  const src = new ImageWMS({ url: "/ows", params: { VERSION: "1.1.1", LAYERS: names.join(",") }, projection: "EPSG:2180" });
  const url = src.getFeatureInfoUrl(coordinate, view.getResolution(), "EPSG:2180",
    { INFO_FORMAT: "application/json", QUERY_LAYERS: names.join(","), FEATURE_COUNT: count, STYLES: "" });
  return fetch(url).then((r) => (r.ok ? r.json() : { features: [] })).then((d) => d.features || []);
}
async function featureInfo(coordinate, lead = "") {
  const seq = ++infoSeq;
  openInfo(lead + `<p>${esc(texts.loading)}</p>`);
  const queryable = layerBoxes.filter((b) => b.checked && b.dataset.queryable === "1" && b.value !== "mpzp").map((b) => b.value);
  const requests = [queryable.length ? gfi(coordinate, queryable, 5) : Promise.resolve([])];
  if (labels.mpzp) requests.push(gfi(coordinate, ["mpzp"], 1));
  let found;
  try {
    found = (await Promise.all(requests)).flat();
  } catch {
    if (seq === infoSeq) infoBody.innerHTML = lead + `<p>${esc(texts.failed)}</p>`;
    return;
  }
  if (seq !== infoSeq) return; // a later click or choice won
  const byLayer = {};
  for (const f of found) (byLayer[f.layer] = byLayer[f.layer] || []).push(f);
  const order = ORDER.concat(Object.keys(byLayer).filter((n) => !ORDER.includes(n)));
  let html = lead;
  let parcel = null;
  for (const name of order) {
    const features = byLayer[name];
    if (!features) continue;
    html += `<h3>${esc(name === "mpzp" ? texts.zoning : layerTitle(name))}</h3>`;
    for (const f of features) html += factsTable(name, f.properties || {});
    if (name === "dzialki") {
      parcel = features[0];
      html += parcelActions(parcel.properties.ID_DZIALKI);
    }
  }
  if (parcel) showGeometry(parcel.geometry); else highlight.clear();
  infoBody.innerHTML = html === lead ? lead + `<p>${esc(texts.none)}</p>` : html;
}
// a single click (not the first of a double click, which zooms): OpenLayers' own "singleclick" is dropped
// when the clicked canvas was replaced meanwhile (a new WMS image came), so it is timed here
let clickTimer = null;
map.on("click", (e) => {
  clearTimeout(clickTimer);
  const coordinate = e.coordinate;
  clickTimer = setTimeout(() => { showMarker(null); featureInfo(coordinate); }, 260);
});
map.on("dblclick", () => clearTimeout(clickTimer));

// ---- one parcel by its identifier (the JSON API), from a search choice or the address /?dzialka=
// WWPPGG_R.XXXX.[AR_n.]NDZ, kept permissive in the number (DOMAIN §3.1); no "." or ".." path segment
const PARCEL_ID = /^\d{6}_\d\.\d{4}\.[0-9A-Za-z_.\/-]{1,60}$/;
function parcelIdOk(id) {
  return PARCEL_ID.test(id) && !id.split("/").some((part) => part === "" || part === "." || part === "..");
}
async function openParcel(id, { lead = "", fit = true, quiet = false } = {}) {
  if (!parcelIdOk(id)) return false;
  const seq = ++infoSeq;
  if (!quiet) openInfo(lead + `<p>${esc(texts.loading)}</p>`);
  let parcel;
  try {
    const r = await fetch(`/api/parcels/${id.split("/").map(encodeURIComponent).join("/")}`, { headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(String(r.status));
    parcel = await r.json();
    if (!parcel || parcel.type !== "Feature" || parcel.id !== id) throw new Error("not this parcel");
  } catch {
    if (seq === infoSeq && !quiet) infoBody.innerHTML = lead + `<p>${esc(texts.failed)}</p>`;
    return false;
  }
  if (seq !== infoSeq) return false;
  const html = lead + `<h3>${esc(layerTitle("dzialki"))}</h3>` + factsTable("dzialki", parcel.properties || {})
    + parcelActions(parcel.id) + zoningList(parcel.zoning);
  if (quiet) openInfo(html); else infoBody.innerHTML = html;
  const geometry = showGeometry(parcel.geometry);
  if (fit && geometry) fitExtent(geometry.getExtent(), 0.1);
  return true;
}

// ---- search: a WAI-ARIA 1.2 combobox (input role=combobox + listbox); nothing highlighted until the arrows
const form = document.getElementById("search-form");
const input = document.getElementById("search-q");
const list = document.getElementById("search-results");
const status = document.getElementById("search-status");
let results = [];
let active = -1;
let timer = null;
let searchSeq = 0;
function setStatus(text, visible) {
  status.textContent = text;
  status.classList.toggle("visible", Boolean(visible));
}
function render() {
  const expanded = results.length > 0;
  list.replaceChildren(...results.map((r, i) => {
    const li = document.createElement("li");
    li.id = `sr-${i}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", i === active ? "true" : "false");
    li.dataset.i = String(i);
    li.textContent = r.label;
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = ` (${texts.kinds[r.kind] || r.kind})`;
    li.append(kind);
    return li;
  }));
  list.hidden = !expanded;
  input.setAttribute("aria-expanded", expanded ? "true" : "false");
  const option = active >= 0 ? document.getElementById(`sr-${active}`) : null;
  if (expanded && option) {
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}
function collapse() {
  results = [];
  active = -1;
  render();
}
async function search(q) {
  const seq = ++searchSeq;
  let found = [];
  try {
    const r = await fetch(`/api/search?q=${encodeURIComponent(q)}`);
    found = r.ok ? (await r.json()).results || [] : [];
  } catch {
    found = [];
  }
  if (seq !== searchSeq) return null; // typed on meanwhile
  results = found;
  active = -1;
  render();
  if (found.length) setStatus(texts.results.replace("%(n)s", String(found.length)), false);
  else setStatus(texts.noresults, true);
  return found;
}
function choose(r) {
  if (!r) return;
  searchSeq++; // a pending answer must not reopen the list
  clearTimeout(timer);
  collapse();
  setStatus("", false);
  const lead = `<p><strong>${esc(r.label)}</strong></p>`;
  if (r.kind === "parcel") {
    showMarker(null);
    openParcel(r.id, { lead: "" });
  } else if (r.kind === "address" && r.geometry && r.geometry.type === "Point") {
    const [x, y] = r.geometry.coordinates;
    highlight.clear();
    showMarker([x, y]);
    const addressLead = `<h3>${esc(texts.address)}</h3>${lead}`;
    openInfo(addressLead + `<p>${esc(texts.loading)}</p>`);
    fitExtent([x - 1, y - 1, x + 1, y + 1], 0.3);
    if (r.parcel_id) openParcel(r.parcel_id, { lead: addressLead, fit: false });
    else featureInfo([x, y], addressLead);
  } else {
    showMarker(null);
    showGeometry(r.geometry);
    openInfo(`<h3>${esc(r.kind === "precinct" ? texts.precinct : texts.kinds[r.kind] || "")}</h3>${lead}`);
    if (r.bbox) fitExtent(r.bbox, 0.3);
  }
}
input.addEventListener("input", () => {
  clearTimeout(timer);
  const q = input.value.trim();
  if (q.length < 2) { searchSeq++; collapse(); setStatus("", false); return; }
  timer = setTimeout(() => search(q), 200);
});
input.addEventListener("keydown", (e) => {
  const expanded = input.getAttribute("aria-expanded") === "true";
  if (e.key === "ArrowDown" && results.length) {
    active = expanded ? (active + 1) % results.length : 0;
    render();
    e.preventDefault();
  } else if (e.key === "ArrowUp" && results.length) {
    active = !expanded || active <= 0 ? results.length - 1 : active - 1;
    render();
    e.preventDefault();
  } else if (e.key === "Enter" && expanded && active >= 0) {
    e.preventDefault();
    choose(results[active]);
  } else if (e.key === "Escape" && expanded) {
    e.preventDefault(); // closes the list; the text stays
    results = [];
    active = -1;
    render();
  }
});
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  clearTimeout(timer);
  const q = input.value.trim();
  if (q.length < 2) return;
  const found = await search(q);
  if (!found || !found.length) return;
  // one answer, or one that is exactly what was typed: show it; otherwise the list stays open to choose from
  const exact = found.find((r) => r.id === q || r.label.toLowerCase() === q.toLowerCase());
  if (found.length === 1 || exact) choose(exact || found[0]);
});
list.addEventListener("mousedown", (e) => e.preventDefault()); // the input keeps focus
list.addEventListener("click", (e) => {
  const li = e.target.closest("li[data-i]");
  if (li) choose(results[Number(li.dataset.i)]);
});
form.addEventListener("focusout", (e) => {
  if (!form.contains(e.relatedTarget)) { results = []; active = -1; render(); }
});

// ---- coordinates under the pointer
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

// ---- what the address asks for: ?bbox=x0,y0,x1,y1 (EPSG:2180, x = easting), ?dzialka=<id>, #<id>;
// anything malformed or outside Poland's PUWG-1992 area is ignored
function parseBbox(text) {
  if (!text || text.length > 200) return null;
  const parts = text.split(",");
  if (parts.length !== 4 || parts.some((p) => !/^\s*-?\d+(\.\d+)?\s*$/.test(p))) return null;
  const [x0, y0, x1, y1] = parts.map(Number);
  if (!(x0 < x1 && y0 < y1)) return null;
  if (x0 < 100000 || y0 < 100000 || x1 > 1000000 || y1 > 1000000) return null;
  return [x0, y0, x1, y1];
}
const params = new URLSearchParams(location.search);
const bbox = parseBbox(params.get("bbox"));
if (bbox) map.getView().fit(bbox, { padding: freePadding() });
function fromHash() {
  try {
    return location.hash.length > 1 ? decodeURIComponent(location.hash.slice(1)) : "";
  } catch {
    return ""; // a malformed escape
  }
}
const wanted = params.get("dzialka") || fromHash();
if (wanted && parcelIdOk(wanted)) {
  openParcel(wanted, { quiet: true });
}
