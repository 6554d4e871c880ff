"""Helpers for OGC tests: decoded images and expected pixels."""

from __future__ import annotations

from ogc.render.engine import mapnik


def image(data: bytes):
    return mapnik().Image.from_string(data)


def rgba(data: bytes, x: int, y: int) -> tuple[int, int, int, int]:
    c = image(data).get_pixel_color(x, y)
    return c.r, c.g, c.b, c.a


def size(data: bytes) -> tuple[int, int]:
    im = image(data)
    return im.width(), im.height()


def pixel_of(
    x: float, y: float, bbox: tuple[float, float, float, float], width: int, height: int
) -> tuple[int, int]:
    """Pixel (column, row) of a map coordinate x/y in a bbox minx,miny,maxx,maxy (x/y order)."""
    minx, miny, maxx, maxy = bbox
    return int((x - minx) / (maxx - minx) * width), int((maxy - y) / (maxy - miny) * height)


# what gisportal.settings sets so that GDAL in the server never reaches the network; GDAL as a *client* of
# the live server (ogrinfo, as a surveyor's desktop would run it) is another program and must not inherit it
SERVER_ONLY_GDAL_ENV = (
    "GDAL_HTTP_PROXY",
    "GDAL_HTTPS_PROXY",
    "GDAL_HTTP_CONNECTTIMEOUT",
    "GDAL_HTTP_MAX_RETRY",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS",
)


def gdal_client_env(**extra: str) -> dict:
    import os

    env = {k: v for k, v in os.environ.items() if k not in SERVER_ONLY_GDAL_ENV}
    env.update(extra)
    return env


# ------------------------------------------------------------------ reading clients' output (issue 19)
def north_first(srs_name: str | None) -> bool:
    """Whether coordinates written with this CRS name come northing/latitude first (OGC.md §2): the URN and
    `def/crs` forms follow the EPSG axis order, `EPSG:xxxx` and the `epsg.xml#` form are east-first."""
    from pyproj import CRS

    name = (srs_name or "").strip()
    if not (name.lower().startswith("urn:ogc:def:crs:") or "/def/crs/" in name):
        return False
    crs = CRS.from_user_input(name)
    return crs.axis_info[0].direction.lower() in ("north", "south")


def east_north(pair, srs_name: str | None) -> tuple[float, float]:
    """A coordinate pair as written under srs_name, turned to (easting/longitude, northing/latitude)."""
    a, b = float(pair[0]), float(pair[1])
    return (b, a) if north_first(srs_name) else (a, b)


def first_position(geometry: dict) -> list:
    """The first position of a GeoJSON geometry (the first vertex of a polygon's exterior ring)."""
    coords = geometry["coordinates"]
    while isinstance(coords[0], list):
        coords = coords[0]
    return coords


def gml_first_points(data: bytes, id_attribute: str) -> list[tuple[str, tuple[float, float]]]:
    """Each feature of a GML feature collection (WFS 1.1/2.0, GetFeatureInfo; GML 3.1.1 or 3.2): the value of
    its id attribute and its first coordinate pair as (easting, northing), read by the srsName the geometry
    declares, as a client that honours srsName would read it."""
    from lxml import etree

    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    out = []
    for ident in root.iter(f"{{*}}{id_attribute}"):
        feature = ident.getparent()
        geom = next((e for e in feature.iter() if e.get("srsName")), None)
        pos = next((e for e in feature.iter("{*}pos", "{*}posList") if e.text and e.text.strip()), None)
        if geom is None or pos is None:
            out.append((ident.text, (float("nan"), float("nan"))))
            continue
        out.append((ident.text, east_north(pos.text.split()[:2], geom.get("srsName"))))
    return out
