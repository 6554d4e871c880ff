"""GML 3.2 geometry encoding (used by GetFeatureInfo now and WFS later). Coordinates come in x/y
(storage order after any transformation); `swap` writes them in authority order (N,E / lat,lon)."""

from __future__ import annotations

from lxml import etree

GML = "http://www.opengis.net/gml/3.2"
GML311 = "http://www.opengis.net/gml"
GISPORTAL_NS = "https://gisportal.piaseczno.eu/schemas/gisportal/1.0"  # our application schema


def _pos_list(coords, swap: bool, decimals: int) -> str:
    fmt = f"{{:.{decimals}f}}"
    if swap:
        return " ".join(f"{fmt.format(c[1])} {fmt.format(c[0])}" for c in coords)
    return " ".join(f"{fmt.format(c[0])} {fmt.format(c[1])}" for c in coords)


def _polygon(parent, poly, swap: bool, decimals: int, gml_id: str | None, srs: str | None):
    el = etree.SubElement(parent, f"{{{GML}}}Polygon")
    if gml_id:
        el.set(f"{{{GML}}}id", gml_id)
    if srs:
        el.set("srsName", srs)
    for i, ring in enumerate(poly):
        boundary = etree.SubElement(el, f"{{{GML}}}{'exterior' if i == 0 else 'interior'}")
        lr = etree.SubElement(boundary, f"{{{GML}}}LinearRing")
        etree.SubElement(lr, f"{{{GML}}}posList").text = _pos_list(ring.coords, swap, decimals)
    return el


def geometry(parent, geom, *, srs: str, swap: bool, gml_id: str, decimals: int = 2):
    """Append a GML 3.2 element for a GEOS geometry (Point, Polygon, MultiPolygon, LineString)."""
    kind = geom.geom_type
    if kind == "Point":
        el = etree.SubElement(parent, f"{{{GML}}}Point", {"srsName": srs, f"{{{GML}}}id": gml_id})
        etree.SubElement(el, f"{{{GML}}}pos").text = _pos_list([geom.coords], swap, decimals)
        return el
    if kind == "Polygon":
        return _polygon(parent, geom, swap, decimals, gml_id, srs)
    if kind == "MultiPolygon":
        el = etree.SubElement(parent, f"{{{GML}}}MultiSurface", {"srsName": srs, f"{{{GML}}}id": gml_id})
        for i, poly in enumerate(geom):
            _polygon(etree.SubElement(el, f"{{{GML}}}surfaceMember"), poly, swap, decimals, f"{gml_id}.{i + 1}", None)
        return el
    if kind == "LineString":
        el = etree.SubElement(parent, f"{{{GML}}}LineString", {"srsName": srs, f"{{{GML}}}id": gml_id})
        etree.SubElement(el, f"{{{GML}}}posList").text = _pos_list(geom.coords, swap, decimals)
        return el
    raise ValueError(kind)
