"""Map images for printed documents (the wyrys at scale), drawn by the same Mapnik maps and styles as the
WMS, so that a printed extract looks like the map portal.

Implements `services.documents.rendering.MapRenderer` structurally (ogc may not import services,
ARCHITECTURE §4); gisportal.wiring registers an instance at start-up. "svg" goes through Mapnik's
Cairo SVG surface, so the printed map stays vector; "png" is RGBA. Rendering happens in this process,
as the WMS does: `engine.mapnik()` imports Mapnik with GDAL's PROJ path put back (engine.py).
"""

from __future__ import annotations

import os
import tempfile

from layers.catalogue import get_layer

from . import maps
from .engine import mapnik
from .legend import legend_png as draw_legend
from .styles import style_for

FORMATS = ("svg", "png")
MAX_PIXELS = 8192  # per side: an A3 sheet at 300 dpi is 4961 px; anything larger is a caller's mistake


def layer_styles(layers: list[str] | tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The (layer, default style) pairs of catalogue layers, in drawing order; an unknown name is a
    programming error of the caller (documents name their layers in code)."""
    pairs = []
    for name in layers:
        layer = get_layer(name)
        if layer is None:
            raise ValueError(f"unknown catalogue layer {name!r}")
        pairs.append((name, layer.default_style))
    return tuple(pairs)


def _prepared_map(
    layers: list[str] | tuple[str, ...], bbox: tuple[float, float, float, float], srid: int, w: int, h: int
):
    """The WMS's cached map for these layers in srid, resized to w × h and zoomed to bbox (x first), on a
    transparent background (the cached map may carry a WMS request's BGCOLOR)."""
    if not (0 < w <= MAX_PIXELS and 0 < h <= MAX_PIXELS):
        raise ValueError(f"image size {w}x{h} outside 1..{MAX_PIXELS}")
    if not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
        raise ValueError("bbox must have min < max on both axes")
    mk = mapnik()
    m = maps.get_map(layer_styles(layers), f"epsg:{int(srid)}")
    m.resize(w, h)
    m.background = mk.Color(0, 0, 0, 0)
    m.zoom_to_box(mk.Box2d(*bbox))
    return m


def _svg(m, scale_factor: float) -> bytes:
    """Mapnik's Cairo renderer writes SVG only to a file: a private temporary one, read and removed."""
    mk = mapnik()
    fd, path = tempfile.mkstemp(prefix="gisportal-map-", suffix=".svg")
    os.close(fd)
    try:
        mk.render_to_file(m, path, "svg", scale_factor)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def _png(m, w: int, h: int, scale_factor: float) -> bytes:
    mk = mapnik()
    im = mk.Image(w, h)
    mk.render(m, im, scale_factor)
    return im.to_string("png32")


class MapnikRenderer:
    """The map renderer of services.documents (rendering.MapRenderer), backed by the WMS's Mapnik maps."""

    def render(
        self,
        layers: list[str],
        bbox: tuple[float, float, float, float],
        srid: int,
        width: int,
        height: int,
        fmt: str,
        *,
        scale_factor: float = 1.0,
    ) -> bytes:
        """The layers (default styles, drawn in this order) over bbox (x = easting) in srid. A pixel is
        the unit of the styles' widths and sizes; `scale_factor` multiplies them (a 300 dpi PNG
        needs about 3.8 to look like the 0.28 mm-pixel map)."""
        if fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {FORMATS}")
        m = _prepared_map(layers, bbox, srid, int(width), int(height))
        if fmt == "svg":
            return _svg(m, scale_factor)
        return _png(m, int(width), int(height), scale_factor)

    def legend_png(self, layer: str, language: str) -> bytes:
        """The layer's legend in its default style, as GetLegendGraphic draws it."""
        entry = get_layer(layer)
        if entry is None:
            raise ValueError(f"unknown catalogue layer {layer!r}")
        return draw_legend(style_for(layer, entry.default_style), language)
