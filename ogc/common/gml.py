"""GML 3.2 and 3.1.1 geometry encoding (GetFeatureInfo). Coordinates come in x/y (storage order after
any transformation); `swap` writes them in authority order (N,E / lat,lon). Which order goes with
which srsName is decided once, by `srs_name` (OGC.md §2, column "GML out")."""

from __future__ import annotations

from lxml import etree

from .crs import CrsRef, Form, Protocol

GML = "http://www.opengis.net/gml/3.2"
GML311 = "http://www.opengis.net/gml"
GISPORTAL_NS = "https://gisportal.piaseczno.eu/schemas/gisportal/1.0"  # our application schema
CRS84_URN = "urn:ogc:def:crs:OGC:1.3:CRS84"


def srs_name(crs: CrsRef, form: Form) -> tuple[str, bool]:
    """The srsName of `crs` written in `form`, and whether coordinates then go in authority order.

    The form carries the axis order, as in WFS output (CrsRef.swap(Protocol.WFS)): `EPSG:xxxx` is
    x/y (easting/longitude first); `urn:ogc:def:crs:EPSG::xxxx` and `http://www.opengis.net/def/crs/EPSG/0/xxxx`
    follow the EPSG axis order (N,E for 2180, lat,lon for 4326). GDAL, OWSLib and QGIS read it so."""
    if crs.epsg is None:
        return CRS84_URN, False
    ref = CrsRef(crs.epsg, form, crs.as_form(form))
    return ref.text, ref.swap(Protocol.WFS)


def _pos_list(coords, swap: bool, decimals: int) -> str:
    fmt = f"{{:.{decimals}f}}"
    if swap:
        return " ".join(f"{fmt.format(c[1])} {fmt.format(c[0])}" for c in coords)
    return " ".join(f"{fmt.format(c[0])} {fmt.format(c[1])}" for c in coords)


def _polygon(parent, poly, swap: bool, decimals: int, gml_id: str | None, srs: str | None, ns: str):
    el = etree.SubElement(parent, f"{{{ns}}}Polygon")
    if gml_id:
        el.set(f"{{{ns}}}id", gml_id)
    if srs:
        el.set("srsName", srs)
    for i, ring in enumerate(poly):
        boundary = etree.SubElement(el, f"{{{ns}}}{'exterior' if i == 0 else 'interior'}")
        lr = etree.SubElement(boundary, f"{{{ns}}}LinearRing")
        etree.SubElement(lr, f"{{{ns}}}posList").text = _pos_list(ring.coords, swap, decimals)
    return el


def geometry(parent, geom, *, srs: str, swap: bool, gml_id: str, decimals: int = 2, ns: str = GML):
    """Append a GML element for a GEOS geometry (Point, Polygon, MultiPolygon, LineString); `ns` is
    GML (3.2) or GML311 (3.1.1: the same elements, gml:id optional but allowed)."""
    kind = geom.geom_type
    if kind == "Point":
        el = etree.SubElement(parent, f"{{{ns}}}Point", {"srsName": srs, f"{{{ns}}}id": gml_id})
        etree.SubElement(el, f"{{{ns}}}pos").text = _pos_list([geom.coords], swap, decimals)
        return el
    if kind == "Polygon":
        return _polygon(parent, geom, swap, decimals, gml_id, srs, ns)
    if kind == "MultiPolygon":
        el = etree.SubElement(parent, f"{{{ns}}}MultiSurface", {"srsName": srs, f"{{{ns}}}id": gml_id})
        for i, poly in enumerate(geom):
            _polygon(
                etree.SubElement(el, f"{{{ns}}}surfaceMember"),
                poly,
                swap,
                decimals,
                f"{gml_id}.{i + 1}",
                None,
                ns,
            )
        return el
    if kind == "LineString":
        el = etree.SubElement(parent, f"{{{ns}}}LineString", {"srsName": srs, f"{{{ns}}}id": gml_id})
        etree.SubElement(el, f"{{{ns}}}posList").text = _pos_list(geom.coords, swap, decimals)
        return el
    raise ValueError(kind)
