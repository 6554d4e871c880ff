"""Reading features from a remote source, page by page, through the one client (http.py): WFS 2.0.0 and
1.1.0 GetFeature as GML (3.2 / 3.1.1), OGC API – Features items as GeoJSON. Each feature comes out as its
identifier, its simple properties and its geometry in EPSG:2180 with x = easting (the storage order).

Axis order (OGC.md §2): a GML geometry whose srsName is a URN or an `http://www.opengis.net/def/crs/...`
URI is in the CRS's authority order (northing first for EPSG:2180 and 4326), `EPSG:nnnn` and the old
`epsg.xml#` form are easting first; OGC API coordinates are in the order of the CRS asked for (`crs`
parameter, Part 2; CRS84 by default). A source whose server gets it wrong has an override
(RemoteSource.axis_override: always x,y or always y,x) that replaces the rule for every geometry it sends.

Nothing here writes: harvest.py applies what was read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from django.contrib.gis.gdal import AxisOrder, CoordTransform, GDALException, OGRGeometry, SpatialReference
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon
from django.utils.translation import gettext as _
from lxml import etree

from . import http
from .capabilities import safe_xml
from .http import SourceError

SRID = 2180
GML_NAMESPACES = ("http://www.opengis.net/gml/3.2", "http://www.opengis.net/gml")
WFS20 = "http://www.opengis.net/wfs/2.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG2180_URI = "http://www.opengis.net/def/crs/EPSG/0/2180"
_IDENT = re.compile(r"[^A-Za-z0-9_]+")
_EPSG = re.compile(r"(?:EPSG[:/]+(?:[0-9.]+/)?|EPSG::|epsg\.xml#)(\d{4,6})$", re.IGNORECASE)


@dataclass
class Feature:
    fid: str
    properties: dict
    geom: GEOSGeometry | None


@dataclass
class Page:
    features: list[Feature]
    next_url: str | None = None
    matched: int | None = None  # numberMatched, when the server says
    warnings: list[str] = field(default_factory=list)


def plain_name(name: str) -> str:
    """A property name as a plain identifier (the catalogue's attribute names): the local part, other
    characters replaced by `_`, never starting with a digit."""
    local = name.rsplit(":", 1)[-1].rsplit("}", 1)[-1]
    out = _IDENT.sub("_", local).strip("_")[:60] or "atrybut"
    return out if not out[0].isdigit() else f"a_{out}"[:60]


# ---------------------------------------------------------------- CRS and axes
def srid_of(srs_name: str) -> int | None:
    """The EPSG code of an srsName or CRS URI (CRS84 → 4326 read as longitude, latitude), or None."""
    s = (srs_name or "").strip()
    if s.upper() in ("CRS:84", "CRS84") or s.endswith("/CRS84"):
        return 4326
    m = _EPSG.search(s)
    return int(m.group(1)) if m else None


@lru_cache(maxsize=64)
def north_first(srid: int) -> bool:
    """Whether the CRS's first axis points north or south (from the EPSG registry, via pyproj)."""
    from pyproj import CRS

    try:
        axis = CRS.from_epsg(srid).axis_info
    except Exception:  # an unknown code: read as easting first
        return False
    return bool(axis) and axis[0].direction.lower() in ("north", "south")


def authority_order(srs_name: str) -> bool:
    """Whether coordinates under this srsName follow the CRS's authority order (URN and def/crs URIs)."""
    s = (srs_name or "").strip().lower()
    return s.startswith("urn:") or s.startswith("http://www.opengis.net/def/crs/")


def swap_needed(srs_name: str, srid: int, override: str) -> bool:
    """Whether the coordinates as sent are (northing, easting) and must be swapped for storage."""
    if override == "xy":
        return False
    if override == "yx":
        return True
    if srs_name.upper() in ("CRS:84", "CRS84") or srs_name.endswith("/CRS84"):
        return False
    return authority_order(srs_name) and north_first(srid)


def to_storage(g: OGRGeometry, srid: int, swap: bool) -> GEOSGeometry:
    """An OGR geometry as read (in `srid`, axes as sent) → GEOS in EPSG:2180, x = easting; polygons as
    MultiPolygon (one geometry type per layer)."""
    wkt = g.wkt
    geos = GEOSGeometry(wkt, srid=srid)
    if swap:
        geos = _swap_geos(geos)
    if srid != SRID:
        geos = _transform(geos, srid)
    if geos.geom_type == "Polygon":
        geos = MultiPolygon(geos, srid=SRID)
    return geos


def _swap_geos(geos: GEOSGeometry) -> GEOSGeometry:
    import shapely
    from shapely import wkb as shapely_wkb

    shape = shapely_wkb.loads(bytes(geos.wkb))
    swapped = shapely.transform(shape, lambda xy: xy[:, ::-1])
    return GEOSGeometry(memoryview(shapely_wkb.dumps(swapped)), srid=geos.srid)


@lru_cache(maxsize=16)
def _transformation(srid: int) -> tuple[SpatialReference, CoordTransform]:
    """GIS order (x = easting / longitude) on both sides: the geometry is already in that order."""
    source = SpatialReference(srid, axis_order=AxisOrder.TRADITIONAL)
    target = SpatialReference(SRID, axis_order=AxisOrder.TRADITIONAL)
    return source, CoordTransform(source, target)


def _transform(geos: GEOSGeometry, srid: int) -> GEOSGeometry:
    source, transformation = _transformation(srid)
    g = geos.ogr
    g.srs = source
    g.transform(transformation)
    return GEOSGeometry(memoryview(bytes(g.wkb)), srid=SRID)


# ---------------------------------------------------------------- GML
def _gml_ns(el) -> bool:
    return etree.QName(el).namespace in GML_NAMESPACES


def _srs_of(el) -> str:
    """The srsName of a geometry: its own, or the nearest ancestor's (boundedBy envelopes do not count)."""
    node = el
    while node is not None:
        s = node.get("srsName")
        if s:
            return s
        node = node.getparent()
    return ""


def _gml_geometry(geom_el, default_srs: str, override: str) -> GEOSGeometry:
    srs = _srs_of(geom_el) or default_srs
    srid = srid_of(srs) or SRID
    try:
        g = OGRGeometry.from_gml(etree.tostring(geom_el).decode())
    except (GDALException, ValueError) as e:
        raise ValueError(_("a geometry that cannot be read (%(e)s)") % {"e": str(e)[:100]}) from None
    return to_storage(g, srid, swap_needed(srs, srid, override))


def read_gml(body: bytes, *, default_srs: str = "", override: str = "none") -> Page:
    """A WFS GetFeature answer (GML): features with their simple properties and geometry."""
    root, _body = safe_xml(body)
    name = etree.QName(root).localname
    if name in ("ExceptionReport", "ServiceExceptionReport"):
        text = " ".join(t.strip() for t in root.itertext() if t.strip())[:300]
        raise SourceError(
            _("The source answered with an exception: %(text)s") % {"text": text}, code="exception"
        )
    if name != "FeatureCollection":
        raise SourceError(_("The answer is not a WFS feature collection."), code="not_features")
    members = []
    for child in root:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if local in ("member", "featureMember"):
            members += [m for m in child if isinstance(m.tag, str)]
        elif local == "featureMembers":
            members += [m for m in child if isinstance(m.tag, str)]
    page = Page([])
    matched = root.get("numberMatched") or root.get("numberOfFeatures")
    if matched and matched.isdigit() and root.get("numberMatched"):
        page.matched = int(matched)
    page.next_url = root.get("next") or None
    for m in members:
        if etree.QName(m).localname == "FeatureCollection":  # WFS 2.0 additionalObjects and the like
            continue
        fid = m.get(f"{{{GML_NAMESPACES[0]}}}id") or m.get(f"{{{GML_NAMESPACES[1]}}}id") or m.get("fid") or ""
        props: dict = {}
        geom = None
        for prop in m:
            if not isinstance(prop.tag, str) or _gml_ns(prop):  # gml:boundedBy, gml:name, ...
                continue
            children = [c for c in prop if isinstance(c.tag, str)]
            if children and _gml_ns(children[0]):
                if geom is None:
                    try:
                        geom = _gml_geometry(children[0], default_srs, override)
                    except (ValueError, GEOSException, GDALException) as e:
                        page.warnings.append(f"{fid}: {e}")
                continue
            if children:  # a complex property: not a column of ours
                continue
            text = (prop.text or "").strip()
            if prop.get("{http://www.w3.org/2001/XMLSchema-instance}nil") in ("true", "1"):
                text = None
            props[plain_name(etree.QName(prop).localname)] = text
        page.features.append(Feature(fid, props, geom))
    return page


# ---------------------------------------------------------------- GeoJSON
def read_geojson(body: bytes, *, srs: str = CRS84, override: str = "none") -> Page:
    """An OGC API items answer (GeoJSON FeatureCollection) whose coordinates are in `srs`."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SourceError(_("The source's answer is not valid JSON."), code="json_invalid") from None
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise SourceError(_("The answer is not a GeoJSON feature collection."), code="not_features")
    srid = srid_of(srs) or 4326
    swap = swap_needed(srs, srid, override)
    page = Page([])
    if isinstance(data.get("numberMatched"), int):
        page.matched = data["numberMatched"]
    for link in data.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "next" and isinstance(link.get("href"), str):
            kind = str(link.get("type") or "")
            if not kind or "json" in kind:
                page.next_url = link["href"]
                break
    for f in data["features"]:
        if not isinstance(f, dict):
            continue
        fid = f.get("id")
        fid = str(fid) if isinstance(fid, (str, int)) else ""
        raw = f.get("properties") if isinstance(f.get("properties"), dict) else {}
        props = {
            plain_name(str(k)): v
            for k, v in raw.items()
            if v is None or isinstance(v, (str, int, float, bool))
        }
        geom = None
        if isinstance(f.get("geometry"), dict):
            try:
                g = OGRGeometry(json.dumps(f["geometry"]))
                geom = to_storage(g, srid, swap)
            except (GDALException, GEOSException, ValueError, TypeError) as e:
                page.warnings.append(f"{fid}: {str(e)[:100]}")
        page.features.append(Feature(fid, props, geom))
    return page


# ---------------------------------------------------------------- paging
def same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def wfs_pages(source, type_name: str, *, page_size: int, max_pages: int, fetch=http.get) -> Iterator[Page]:
    """GetFeature pages of a WFS type (STARTINDEX/COUNT in 2.0.0, STARTINDEX/MAXFEATURES in 1.1.0), in the
    type's own CRS when it is not EPSG:2180's available (then transformed), asking for EPSG:2180 in URN
    form when the type offers it."""
    caps = source.capabilities or {}
    version = caps.get("version") or "2.0.0"
    layer = next((x for x in caps.get("layers", []) if x.get("name") == type_name), {})
    offered = [str(c) for c in layer.get("crs") or []]
    srs = "urn:ogc:def:crs:EPSG::2180"
    if offered and not any(srid_of(c) == SRID for c in offered):
        srs = offered[0]
    start = 0
    for _n in range(max_pages):
        params = {
            "SERVICE": "WFS",
            "VERSION": version,
            "REQUEST": "GetFeature",
            ("TYPENAMES" if version.startswith("2") else "TYPENAME"): type_name,
            "SRSNAME": srs,
            ("COUNT" if version.startswith("2") else "MAXFEATURES"): str(page_size),
            "STARTINDEX": str(start),
        }
        answer = fetch(http.with_params(source.url, params), accept="application/gml+xml, text/xml")
        page = read_gml(answer.body, default_srs=srs, override=source.axis_override)
        yield page
        if len(page.features) < page_size:
            return
        start += len(page.features)
    raise SourceError(
        _("The source did not end its pages after %(n)s pages; the harvest stopped.") % {"n": max_pages},
        code="endless_paging",
    )


def ogcapi_pages(
    source, collection: str, *, page_size: int, max_pages: int, fetch=http.get
) -> Iterator[Page]:
    """Items pages of a collection, following `next` links (same origin only; a link seen before ends the
    harvest with an error), in EPSG:2180 when the collection offers it, else CRS84."""
    caps = source.capabilities or {}
    layer = next((x for x in caps.get("layers", []) if x.get("name") == collection), {})
    offered = [str(c) for c in layer.get("crs") or []]
    srs = EPSG2180_URI if any(c.rstrip("/") == EPSG2180_URI for c in offered) else CRS84
    params = {"limit": str(page_size), "f": "json"}
    if srs != CRS84:
        params["crs"] = srs
    url = http.with_params(http.with_path(source.url, f"/collections/{collection}/items"), params)
    seen: set[str] = set()
    for _n in range(max_pages):
        if url in seen:
            raise SourceError(
                _("The source's pages lead in a loop; the harvest stopped."), code="paging_loop"
            )
        seen.add(url)
        answer = fetch(url, accept="application/geo+json, application/json")
        page = read_geojson(answer.body, srs=srs, override=source.axis_override)
        yield page
        if not page.next_url or not page.features:
            return
        if not same_origin(page.next_url, source.url):
            raise SourceError(
                _("The source's next page is at another address (%(url)s); it is not fetched.")
                % {"url": page.next_url[:200]},
                code="not_registered",
            )
        url = page.next_url
    raise SourceError(
        _("The source did not end its pages after %(n)s pages; the harvest stopped.") % {"n": max_pages},
        code="endless_paging",
    )
