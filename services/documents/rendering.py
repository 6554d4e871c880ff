"""How documents get map images: through a renderer registered at start-up by the wiring
(gisportal/wiring.py), because services may not import ogc (ARCHITECTURE §4) while the WMS's Mapnik
styles are the one source of how layers look."""

from __future__ import annotations

from typing import Protocol


class MapRenderer(Protocol):
    def render(
        self,
        layers: list[str],
        bbox: tuple[float, float, float, float],
        srid: int,
        width: int,
        height: int,
        fmt: str,
    ) -> bytes:
        """The named catalogue layers (WMS names, drawn in this order) over bbox (x = easting) in srid,
        at width × height pixels; fmt "svg" (vector, Cairo) or "png" (RGBA)."""
        ...

    def legend_png(self, layer: str, language: str) -> bytes:
        """The layer's legend as the WMS's GetLegendGraphic draws it."""
        ...


_renderer: MapRenderer | None = None


def register(renderer: MapRenderer) -> None:
    global _renderer
    _renderer = renderer


def renderer() -> MapRenderer:
    if _renderer is None:
        raise RuntimeError("no map renderer registered (gisportal.wiring is not in INSTALLED_APPS)")
    return _renderer
