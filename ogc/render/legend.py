"""Legend images drawn by Mapnik from the same style descriptions as the maps."""

from __future__ import annotations

import json

from .engine import mapnik
from .maps import _setup_once, _symbolizer_xml
from .styles import FONT, Style

ROW = 20
SWATCH = 16


def _rules(style: Style) -> list:
    return [r for r in style.rules if r.legend] or list(style.rules[:1])


def legend_size(style: Style, language: str, width: int | None = None) -> tuple[int, int]:
    """Width and height of the legend image (advertised in LegendURL without rendering it)."""
    rules = _rules(style)
    w = width or max(120, 34 + 7 * max(len(r.title(language)) for r in rules))
    return w, ROW * len(rules) + 4


def legend_png(style: Style, language: str, *, width: int | None = None, fmt: str = "png32") -> bytes:
    rules = _rules(style)
    labels = [r.title(language) for r in rules]
    w, h = legend_size(style, language, width)
    features, styles, layers = [], [], []
    for i, rule in enumerate(rules):
        y0 = h - (i + 1) * ROW + (ROW - SWATCH) / 2
        kinds = {k for k, _ in rule.symbolizers}
        if "polygon" in kinds:
            geom = {
                "type": "Polygon",
                "coordinates": [
                    [[4, y0], [4 + SWATCH, y0], [4 + SWATCH, y0 + SWATCH], [4, y0 + SWATCH], [4, y0]]
                ],
            }
        elif "line" in kinds:
            # on a pixel's middle for odd widths (a 1 px line crisp, not smeared over two rows), between two
            # pixels for even ones
            width = max(float(a["stroke-width"]) for k, a in rule.symbolizers if k == "line")
            y = y0 + SWATCH / 2 + (0.5 if round(width) % 2 else 0)
            geom = {"type": "LineString", "coordinates": [[3, y], [5 + SWATCH, y]]}
        else:
            geom = {"type": "Point", "coordinates": [4 + SWATCH / 2, y0 + SWATCH / 2]}
        features.append(
            {"type": "Feature", "properties": {"row": i, "kind": "swatch", "t": "Ab"}, "geometry": geom}
        )
        features.append(
            {
                "type": "Feature",
                "properties": {"row": i, "kind": "label", "t": labels[i]},
                "geometry": {"type": "Point", "coordinates": [28, y0 + SWATCH / 2]},
            }
        )
        symbolizers = []
        for k, a in rule.symbolizers:
            if k == "text" and not a.get("glyph"):  # a label rule shows a sample; a glyph (a square) itself
                a = {**a, "expr": "[t]", "placement": "point"}
            symbolizers.append(_symbolizer_xml(k, a))
        styles.append(
            f"<Style name='r{i}'><Rule><Filter>[row] = {i} and [kind] = 'swatch'</Filter>{''.join(symbolizers)}</Rule></Style>"
        )
        layers.append(f"<StyleName>r{i}</StyleName>")
    label_style = (
        f"<Style name='labels'><Rule><Filter>[kind] = 'label'</Filter><TextSymbolizer face-name='{FONT}' size='11' "
        "fill='#1a1a1a' placement='point' horizontal-alignment='right' allow-overlap='true'>[t]</TextSymbolizer></Rule></Style>"
    )
    data = (
        json.dumps({"type": "FeatureCollection", "features": features})
        .replace("&", "&amp;")
        .replace("<", "&lt;")
    )
    xml = (
        f"<Map srs='epsg:3857' background-color='white'>{''.join(styles)}{label_style}"
        f"<Layer name='legend' srs='epsg:3857'>{''.join(layers)}<StyleName>labels</StyleName>"
        f"<Datasource><Parameter name='type'>geojson</Parameter><Parameter name='inline'>{data}</Parameter></Datasource></Layer></Map>"
    )
    mk = mapnik()
    _setup_once()
    m = mk.Map(w, h)
    mk.load_map_from_string(m, xml)
    m.aspect_fix_mode = mk.aspect_fix_mode.RESPECT
    m.zoom_to_box(mk.Box2d(0, 0, w, h))
    im = mk.Image(w, h)
    mk.render(m, im)
    return im.to_string(fmt)
