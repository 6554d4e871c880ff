"""GetFeatureInfo: the features under a pixel (with a pixel tolerance), public attributes only, as
GeoJSON, escaped HTML in the request's language, GML 3.2 or 3.1.1, or plain text. Owners and KW numbers are
never read here: only the catalogue's public attributes are selected."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, Point, Polygon
from django.utils.html import escape
from django.utils.translation import gettext as _
from lxml import etree

from layers import catalogue

from ..common import gml
from ..common.crs import Form
from ..common.exceptions import OGCException
from .requests import GetFeatureInfo

GISPORTAL_NS = gml.GISPORTAL_NS
LABELS = {
    "pl": {"layer": "Warstwa", "none": "Brak obiektów w tym miejscu.", "title": "Informacja o obiektach"},
    "en": {"layer": "Layer", "none": "No features at this place.", "title": "Feature information"},
}


def _search_area(req: GetFeatureInfo) -> tuple[Point, Polygon]:
    v = req.view
    minx, miny, maxx, maxy = v.bbox
    rx, ry = (maxx - minx) / v.width, (maxy - miny) / v.height
    x, y = minx + (req.i + 0.5) * rx, maxy - (req.j + 0.5) * ry
    t = max(req.tolerance, 0.5)
    box = Polygon.from_bbox((x - t * rx, y - t * ry, x + t * rx, y + t * ry))
    box.srid = v.crs.srid
    point = Point(x, y, srid=v.crs.srid)
    if v.crs.srid != 2180:
        try:
            box.transform(2180)
            point.transform(2180)
        except (GDALException, GEOSException):  # PROJ: a latitude beyond 90°, a point outside the projection
            raise OGCException(
                "InvalidParameterValue", _("BBOX lies outside the CRS's area of use."), "BBOX"
            ) from None
    if not all(math.isfinite(c) for c in (*point.coords, *box.extent)):
        raise OGCException("InvalidParameterValue", _("BBOX lies outside the CRS's area of use."), "BBOX")
    return point, box


def query(req: GetFeatureInfo) -> list[tuple[catalogue.Layer, list[dict]]]:
    """[(layer, [ {attribute: value, '_geom': GEOS in the request CRS, '_id': pk} ])] per query layer."""
    point, box = _search_area(req)
    out = []
    for name in req.query_layers:
        layer = catalogue.get_layer(name)
        qs = catalogue.layer_queryset(layer)
        sources = [a.source for a in layer.public_attributes]
        rows = (
            qs.filter(geom__intersects=box)
            .annotate(_d=Distance("geom", point))
            .order_by("_d", "pk")
            .values("pk", "geom", *sources)[: req.feature_count]
        )
        features = []
        for row in rows:
            geom = row["geom"]
            if req.view.crs.srid != 2180:
                geom = geom.transform(req.view.crs.srid, clone=True)
            props = {a.name: row[a.source] for a in layer.public_attributes}
            features.append({"_id": row["pk"], "_geom": geom, **props})
        out.append((layer, features))
    return out


def _plain(value) -> str | int | float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_geojson(results, req: GetFeatureInfo) -> bytes:
    features = []
    for layer, rows in results:
        for r in rows:
            props = {k: _plain(v) for k, v in r.items() if not k.startswith("_")}
            features.append(
                {
                    "type": "Feature",
                    "id": f"{layer.name}.{r['_id']}",
                    "layer": layer.name,
                    "properties": props,
                    "geometry": json.loads(r["_geom"].json),
                }
            )
    doc = {
        "type": "FeatureCollection",
        "features": features,
        "crs": {"type": "name", "properties": {"name": req.view.crs.as_form(req.view.crs.form)}},
    }
    return json.dumps(doc, ensure_ascii=False).encode()


def to_html(results, req: GetFeatureInfo) -> bytes:
    lang = req.view.language
    t = LABELS[lang]
    parts = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{t["title"]}</title></head><body>'
    ]
    found = False
    for layer, rows in results:
        if not rows:
            continue
        found = True
        parts.append(f"<h2>{escape(t['layer'])}: {escape(layer.title(lang))}</h2>")
        for r in rows:
            parts.append(f"<table><caption>{escape(layer.title(lang))}</caption><tbody>")
            for a in layer.public_attributes:
                title = a.title_en if lang == "en" else a.title_pl
                value = _plain(r[a.name])
                parts.append(
                    f'<tr><th scope="row">{escape(title or a.name)}</th><td>{escape("" if value is None else value)}</td></tr>'
                )
            parts.append("</tbody></table>")
    if not found:
        parts.append(f"<p>{escape(t['none'])}</p>")
    parts.append("</body></html>")
    return "".join(parts).encode()


def to_text(results, req: GetFeatureInfo) -> bytes:
    lines = []
    for layer, rows in results:
        lines.append(f"Layer '{layer.name}'")
        for r in rows:
            lines.append(f"  Feature {r['_id']}:")
            for a in layer.public_attributes:
                value = _plain(r[a.name])
                lines.append(f"    {a.name} = {'' if value is None else value}")
    return ("\n".join(lines) + "\n").encode()


def to_gml(results, req: GetFeatureInfo, *, ns: str = gml.GML) -> bytes:
    """GML 3.2 (or 3.1.1 with ns=gml.GML311) in the request CRS. The srsName form carries the axis
    order (gml.srs_name): WMS 1.3.0 answers in the URN form, in EPSG order (N,E for 2180, lat,lon for
    4326) as its CRS parameter; 1.1.1 in the EPSG:xxxx form, easting/longitude first as its SRS."""
    crs = req.view.crs
    srs, swap = gml.srs_name(crs, Form.URN if req.view.version == "1.3.0" else Form.EPSG)
    root = etree.Element(f"{{{ns}}}FeatureCollection", nsmap={"gml": ns, "gisportal": GISPORTAL_NS})
    root.set(f"{{{ns}}}id", "gfi")
    for layer, rows in results:
        for r in rows:
            member = etree.SubElement(root, f"{{{ns}}}featureMember")
            fid = f"{layer.name}.{r['_id']}"
            feat = etree.SubElement(member, f"{{{GISPORTAL_NS}}}{layer.name}", {f"{{{ns}}}id": fid})
            for a in layer.public_attributes:
                value = _plain(r[a.name])
                if value is not None:
                    etree.SubElement(feat, f"{{{GISPORTAL_NS}}}{a.name}").text = str(value)
            holder = etree.SubElement(feat, f"{{{GISPORTAL_NS}}}geometry")
            gml.geometry(
                holder,
                r["_geom"],
                srs=srs,
                swap=swap,
                gml_id=f"{fid}.geom",
                decimals=7 if crs.srid in (4326, 4258) else 2,
                ns=ns,
            )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def to_gml311(results, req: GetFeatureInfo) -> bytes:
    return to_gml(results, req, ns=gml.GML311)


ENCODERS = {
    "application/json": (to_geojson, "application/json"),
    "text/html": (to_html, "text/html; charset=utf-8"),
    "text/plain": (to_text, "text/plain; charset=utf-8"),
    "application/vnd.ogc.gml": (to_gml, "application/vnd.ogc.gml"),
    "application/vnd.ogc.gml/3.1.1": (to_gml311, "application/vnd.ogc.gml/3.1.1"),
    "application/gml+xml; version=3.2": (to_gml, "application/gml+xml; version=3.2"),
    "text/xml": (to_gml, "text/xml; charset=utf-8"),
}
