"""Mapnik maps straight from PostGIS, built from the layer catalogue and the style descriptions.

A map for a (layers, styles, CRS) combination is built once per thread and reused: Mapnik Map
objects are not thread-safe, their PostGIS datasources keep pooled connections. Each request only
resizes and zooms it. The PostGIS queries carry a statement and a lock timeout (PGOPTIONS for Mapnik's libpq).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from xml.sax.saxutils import quoteattr

from django.conf import settings

from layers.catalogue import Layer, get_layer, layer_sql_source, quote

from .engine import mapnik
from .png import encode_rgb
from .styles import FONT, Rule, Style, style_for

OPAQUE_PNG = "rgb"  # our own encoder (png.py) for opaque PNG; other names are Mapnik format strings


def encode(im, fmt: str) -> bytes:
    if fmt == OPAQUE_PNG:
        return encode_rgb(im.to_string(), im.width(), im.height())
    return im.to_string(fmt)


POLAND_EXTENT_2180 = "100000,100000,900000,900000"
_local = threading.local()
MAX_CACHED_MAPS = 32
STATEMENT_TIMEOUT_MS: int = settings.GISPORTAL_RENDER_STATEMENT_TIMEOUT_MS
LOCK_TIMEOUT_MS: int = settings.GISPORTAL_LOCK_TIMEOUT_MS  # as for the app's own connections
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype")


def _setup_once() -> None:
    if getattr(_local, "ready", False):
        return
    os.environ.setdefault(
        "PGOPTIONS", f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}"
    )
    m = mapnik()
    for d in FONT_DIRS:
        if os.path.isdir(d):
            m.register_fonts(d)
    _local.ready = True


def layer_subquery(layer: Layer, style: Style) -> str:
    """Mapnik's PostGIS `table`: the layer's rows (catalogue SQL source) in the box, with the columns
    its style's rules read (`Style.columns`: ORM paths of public attributes, named as in the rules)."""
    attrs = []
    for column in style.columns:
        attr = layer.attribute_of_source(column)
        if attr is None:
            raise ValueError(f"a style of {layer.name} reads {column}, no public attribute's source")
        attrs.append(attr)
    src = layer_sql_source(layer, attrs)
    cols = "".join(f", {expr} AS {quote(attr.source)}" for attr, expr in src.columns)
    where = src.where(f"{src.geometry} && !bbox!")  # Mapnik's token for the map's box
    # identifiers from the catalogue only, quoted
    return f"(SELECT {src.geometry} AS geom{cols} FROM {src.from_clause} WHERE {where}) AS t"  # noqa: S608


def _symbolizer_xml(kind: str, attrs: dict) -> str:
    if kind == "polygon":
        return (
            f'<PolygonSymbolizer fill="{attrs["fill"]}" fill-opacity="{attrs["fill-opacity"]}" gamma="0.6"/>'
        )
    if kind == "line":
        dash = f' stroke-dasharray="{attrs["stroke-dasharray"]}"' if "stroke-dasharray" in attrs else ""
        return (
            f'<LineSymbolizer stroke="{attrs["stroke"]}" stroke-width="{attrs["stroke-width"]}" '
            f'stroke-opacity="{attrs["stroke-opacity"]}"{dash}/>'
        )
    if kind == "text":
        a = attrs
        return (
            f'<TextSymbolizer face-name="{a["face-name"]}" size="{a["size"]}" fill="{a["fill"]}" halo-fill="{a["halo-fill"]}" '
            f'halo-radius="{a["halo-radius"]}" placement="{a["placement"]}" allow-overlap="{a["allow-overlap"]}" '
            f'avoid-edges="{a["avoid-edges"]}">{a["expr"]}</TextSymbolizer>'
        )
    if kind == "marker":
        a = attrs
        return (
            f'<MarkersSymbolizer fill="{a["fill"]}" width="{a["width"]}" height="{a["height"]}" stroke="{a["stroke"]}" '
            f'stroke-width="{a["stroke-width"]}" allow-overlap="{a["allow-overlap"]}" placement="{a["placement"]}"/>'
        )
    raise ValueError(kind)


def rule_xml(rule: Rule) -> str:
    parts = ["<Rule>"]
    if rule.filter:
        parts.append(f"<Filter>{rule.filter.replace('&', '&amp;').replace('<', '&lt;')}</Filter>")
    if rule.min_scale:
        parts.append(f"<MinScaleDenominator>{rule.min_scale}</MinScaleDenominator>")
    if rule.max_scale:
        parts.append(f"<MaxScaleDenominator>{rule.max_scale}</MaxScaleDenominator>")
    parts += [_symbolizer_xml(k, a) for k, a in rule.symbolizers]
    parts.append("</Rule>")
    return "".join(parts)


def style_xml(name: str, style: Style) -> str:
    return f'<Style name="{name}">' + "".join(rule_xml(r) for r in style.rules) + "</Style>"


def _datasource_xml(layer: Layer, style: Style, alias: str = "default") -> str:
    db = settings.DATABASES[alias]
    params = {
        "type": "postgis",
        "host": db.get("HOST") or "127.0.0.1",
        "port": str(db.get("PORT") or 5432),
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or "",
        "dbname": db["NAME"],
        "table": layer_subquery(layer, style),
        "geometry_field": "geom",
        "srid": "2180",
        "extent": POLAND_EXTENT_2180,
        "estimate_extent": "false",
        "persist_connection": "true",
        "max_size": "4",
        "simplify_geometries": "true",
    }
    return (
        "<Datasource>"
        + "".join(
            f"<Parameter name={quoteattr(k)}>{v.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</Parameter>"
            for k, v in params.items()
        )
        + "</Datasource>"
    )


def map_xml(layer_styles: tuple[tuple[str, str], ...], srs: str, alias: str = "default") -> str:
    styles, layers = [], []
    for i, (layer_name, style_name) in enumerate(layer_styles):
        layer = get_layer(layer_name)
        style = style_for(layer_name, style_name)
        sname = f"s{i}_{layer_name}_{style_name}"
        styles.append(style_xml(sname, style))
        layers.append(
            f'<Layer name="{layer_name}" srs="epsg:2180"><StyleName>{sname}</StyleName>{_datasource_xml(layer, style, alias)}</Layer>'
        )
    return f'<Map srs="{srs}" font-directory="{FONT_DIRS[0]}">' + "".join(styles) + "".join(layers) + "</Map>"


def get_map(layer_styles: tuple[tuple[str, str], ...], srs: str, alias: str = "default"):
    """A Mapnik map for these layers and styles in this CRS, reading the database `alias` (the primary, or
    a read replica for WMS requests: gisportal/core/replica.py) (thread-local cache, LRU)."""
    _setup_once()
    cache: OrderedDict = getattr(_local, "maps", None)
    if cache is None:
        cache = _local.maps = OrderedDict()
    db = settings.DATABASES[alias]
    key = (layer_styles, srs, alias, db["NAME"], db.get("HOST"), db.get("PORT"))
    m = cache.get(key)
    if m is None:
        mk = mapnik()
        m = mk.Map(256, 256)
        mk.load_map_from_string(m, map_xml(layer_styles, srs, alias))
        m.aspect_fix_mode = mk.aspect_fix_mode.RESPECT
        cache[key] = m
        if len(cache) > MAX_CACHED_MAPS:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return m


def render(
    layer_styles,
    srs: str,
    bbox: tuple[float, float, float, float],
    width: int,
    height: int,
    *,
    background: tuple[int, int, int, int] | None,
    fmt: str,
) -> bytes:
    """Render to encoded bytes. `bbox` in the map CRS, x first. `fmt`: Mapnik format string.

    Mapnik keeps its PostGIS connections in its own pool; after the database restarted, each of them fails
    once (and is then replaced). Such a failure is rendered again on a fresh connection, on the primary when
    it was a replica's."""
    from gisportal.core.replica import read_alias

    mk = mapnik()
    alias = read_alias()
    # each pool's broken connection fails once: a replica's, then (after a restart of both) the primary's
    tries = [alias, "default", "default"] if alias != "default" else ["default", "default"]
    for i, alias in enumerate(tries):
        m = get_map(layer_styles, srs, alias)
        m.resize(width, height)
        m.background = mk.Color(*background) if background else mk.Color(0, 0, 0, 0)
        m.zoom_to_box(mk.Box2d(*bbox))
        im = mk.Image(width, height)
        try:
            mk.render(m, im)
        except Exception as e:
            if i == len(tries) - 1 or not connection_lost(e):
                raise
            continue
        return encode(im, fmt)
    raise AssertionError("unreachable")


_LOST = (
    "server closed the connection",
    "terminating connection",
    "connection to server",
    "no connection to the server",
    "could not connect",
    "connection refused",
    "ssl syscall",
)


def connection_lost(error: Exception) -> bool:
    """Did this error come from a database connection that broke (a restart), not from the query?"""
    text = str(error).lower()
    return any(marker in text for marker in _LOST)


def blank(width: int, height: int, *, background: tuple[int, int, int, int] | None, fmt: str) -> bytes:
    mk = mapnik()
    _setup_once()
    im = mk.Image(width, height)
    im.fill(mk.Color(*background) if background else mk.Color(0, 0, 0, 0))
    return encode(im, fmt if background else "png32:z=1" if fmt == OPAQUE_PNG else fmt)


def message_image(text: str, width: int, height: int, *, background, fmt: str) -> bytes:
    """An image carrying an error message (EXCEPTIONS=INIMAGE)."""
    import json

    mk = mapnik()
    _setup_once()
    feature = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"t": text[:200]},
                "geometry": {"type": "Point", "coordinates": [0, 0]},
            }
        ],
    }
    xml = (
        f'<Map srs="epsg:3857"><Style name="m"><Rule><TextSymbolizer face-name="{FONT}" size="11" fill="#b00000" '
        f'halo-fill="#ffffff" halo-radius="1" wrap-width="{max(width - 20, 40)}" placement="point">[t]</TextSymbolizer></Rule></Style>'
        f'<Layer name="m" srs="epsg:3857"><StyleName>m</StyleName><Datasource><Parameter name="type">geojson</Parameter>'
        f'<Parameter name="inline">{json.dumps(feature).replace("&", "&amp;").replace("<", "&lt;")}</Parameter></Datasource></Layer></Map>'
    )
    m = mk.Map(width, height)
    mk.load_map_from_string(m, xml)
    m.background = mk.Color(*background) if background else mk.Color(255, 255, 255, 255)
    m.aspect_fix_mode = mk.aspect_fix_mode.RESPECT
    m.zoom_to_box(mk.Box2d(-width / 2, -height / 2, width / 2, height / 2))
    im = mk.Image(width, height)
    mk.render(m, im)
    return encode(im, fmt if background or fmt != OPAQUE_PNG else "png32:z=1")
