"""The cadastral map extract (wyrys) at true scale as a PDF.

A request names parcels; `plan` finds their current geometry in EPSG:2178 (PL-2000 zone 7, the
survey grid of Piaseczno, DOMAIN.md §12), picks the scale and the sheet, and fixes the ground window
so that the map is exact: ground metres = paper mm × scale / 1000. `pdf` lays the sheet out in mm with
WeasyPrint: the map from the registered renderer (the WMS's Mapnik styles, as vector SVG), and over it,
as vector SVG of our own, the requested parcels, the coordinate grid, the corner coordinates, the scale
bar and the north arrow; then the legend and the title block with the verification code and QR code.

Axis words follow Polish surveying: X is the northing, Y the easting. In code, as in storage, `e` is
the easting and `n` the northing (x = easting in GeoDjango); only the printed labels say X and Y.

No owner data is ever read here: the parcel's id, number and geometry are public (art. 40a ust. 2).
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.contrib.gis.db.models.functions import Transform
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from gisportal.core.errors import InvalidInput
from layers.models import Parcel

from . import rendering
from .kinds import SCALES, TitleBlock

SRID = 2178
LAYERS = ("uzytki", "budynki", "dzialki", "numery_dzialek")  # drawing order, WMS names
MAX_PARCELS = 20
PAPERS: dict[str, tuple[int, int]] = {"A4": (210, 297), "A3": (297, 420)}  # portrait width, height in mm
ORIENTATIONS = ("portrait", "landscape")
PAGE_MARGIN_MM = 8.0
HEADER_MM = 14.0  # office, title and number above the map
BAND_MM = 46.0  # at least this much below the map: details, legend, scale, verification
GUTTER_MM = 6.0  # around the frame, for the grid labels
FREE_MM = 8.0  # paper kept free around the parcels inside the frame
GRID_STEP_MM = 100.0  # a grid line every 10 cm on paper
# the map image's pixel is OGC's standard 0.28 mm, so the WMS styles' widths and scale denominators hold
# on paper as on screen; frames are multiples of 7 mm (25 pixels) so that the image fits them exactly
PIXEL_MM = 0.28
FRAME_STEP_MM = 7.0
BAND_COLUMNS = (32, 24, 26, 18)  # % of the band: details, legend, scale and north, verification
HIGHLIGHT = "#0a3fd6"
GRID_COLOUR = "#1a1a1a"
LABEL_FONT_MM = 2.4
CORNER_CLEAR_MM = 9.0  # grid lines this close to a frame edge get no label (corner coordinates are there)


# ---------------------------------------------------------------- the request and the layout
@dataclass(frozen=True)
class MapExtractRequest:
    """Which parcels (ID_DZIALKI), at which scale denominator (None: chosen) on which paper (None:
    A4 when the parcels fit on it, else A3)."""

    parcel_ids: tuple[str, ...]
    scale: int | None = None
    paper: str | None = None


@dataclass(frozen=True)
class Sheet:
    """A paper in an orientation and where the map frame sits on it (mm from the top-left corner)."""

    paper: str
    orientation: str

    @property
    def page_mm(self) -> tuple[float, float]:
        w, h = PAPERS[self.paper]
        return (float(w), float(h)) if self.orientation == "portrait" else (float(h), float(w))

    @property
    def frame_mm(self) -> tuple[float, float]:
        """Width and height of the map frame: what is left for it, down to a multiple of 7 mm."""
        w, h = self.page_mm
        avail_w = w - 2 * (PAGE_MARGIN_MM + GUTTER_MM)
        avail_h = h - 2 * PAGE_MARGIN_MM - HEADER_MM - BAND_MM - 2 * GUTTER_MM
        return _down(avail_w), _down(avail_h)

    @property
    def frame_origin_mm(self) -> tuple[float, float]:
        """Left and top of the frame on the page: centred across, right below the header."""
        w, _h = self.page_mm
        return (w - self.frame_mm[0]) / 2, PAGE_MARGIN_MM + HEADER_MM + GUTTER_MM

    @property
    def band_top_mm(self) -> float:
        return self.frame_origin_mm[1] + self.frame_mm[1] + GUTTER_MM + 1.0


def _down(mm: float) -> float:
    return math.floor(mm / FRAME_STEP_MM) * FRAME_STEP_MM


@dataclass(frozen=True)
class PlacedParcel:
    """A requested parcel in EPSG:2178: polygons as rings of (easting, northing), exterior first."""

    parcel_id: str
    number: str
    polygons: tuple[tuple[tuple[tuple[float, float], ...], ...], ...]
    label_at: tuple[float, float]  # (easting, northing): where its number is printed


@dataclass(frozen=True)
class Layout:
    """Everything about the sheet that follows from the request; `on_frame` is the one mapping from
    the ground (EPSG:2178) to paper that the map, the overlays and the tests share."""

    parcels: tuple[PlacedParcel, ...]
    scale: int
    sheet: Sheet
    window: tuple[float, float, float, float]  # EPSG:2178 e_min, n_min, e_max, n_max (x = easting)

    @property
    def paper(self) -> str:
        return self.sheet.paper

    @property
    def orientation(self) -> str:
        return self.sheet.orientation

    @property
    def page_mm(self) -> tuple[float, float]:
        return self.sheet.page_mm

    @property
    def frame_mm(self) -> tuple[float, float]:
        return self.sheet.frame_mm

    @property
    def frame_origin_mm(self) -> tuple[float, float]:
        return self.sheet.frame_origin_mm

    @property
    def mm_per_metre(self) -> float:
        return 1000.0 / self.scale

    @property
    def grid_step_m(self) -> float:
        """100 m at 1:1000, 50 m at 1:500, 200 m at 1:2000, 500 m at 1:5000."""
        return GRID_STEP_MM * self.scale / 1000.0

    @property
    def image_px(self) -> tuple[int, int]:
        w, h = self.frame_mm
        return round(w / PIXEL_MM), round(h / PIXEL_MM)

    def on_frame(self, e: float, n: float) -> tuple[float, float]:
        """Paper position (mm right, mm down) from the frame's top-left corner of a ground point."""
        return (e - self.window[0]) * self.mm_per_metre, (self.window[3] - n) * self.mm_per_metre

    def on_page(self, e: float, n: float) -> tuple[float, float]:
        x, y = self.on_frame(e, n)
        left, top = self.frame_origin_mm
        return left + x, top + y

    def grid_eastings(self) -> tuple[float, ...]:
        return _multiples(self.window[0], self.window[2], self.grid_step_m)

    def grid_northings(self) -> tuple[float, ...]:
        return _multiples(self.window[1], self.window[3], self.grid_step_m)


def _multiples(lo: float, hi: float, step: float) -> tuple[float, ...]:
    first = math.floor(lo / step) + 1
    return tuple(k * step for k in range(first, math.ceil(hi / step)) if lo < k * step < hi)


# ---------------------------------------------------------------- planning
def plan(req: MapExtractRequest) -> Layout:
    """The layout of the extract. Paper: A4 if the parcels fit on it at some scale (citizens print at
    home), else A3; scale: the largest (most detailed) of SCALES at which they fit with FREE_MM of paper
    around them; portrait before landscape. A given scale or paper is kept, never changed silently."""
    ids = _checked_ids(req.parcel_ids)
    scales = _checked_scales(req.scale)
    papers = _checked_papers(req.paper)
    parcels = load_parcels(ids)
    extent = _extent(parcels)
    chosen = choose_sheet(extent, scales, papers)
    if chosen is None:
        raise InvalidInput(_too_large(req), code="extract_too_large", field="parcel_ids")
    sheet, scale = chosen
    return Layout(parcels, scale, sheet, _window(extent, sheet, scale))


def choose_sheet(
    extent: tuple[float, float, float, float],
    scales: tuple[int, ...] = SCALES,
    papers: tuple[str, ...] = tuple(PAPERS),
) -> tuple[Sheet, int] | None:
    """The first sheet and scale (papers, then scales largest first, then orientations, in the given
    order) on which a ground extent (e_min, n_min, e_max, n_max in metres) fits with FREE_MM around it."""
    for paper in papers:
        for scale in sorted(scales):
            for orientation in ORIENTATIONS:
                sheet = Sheet(paper, orientation)
                if _fits(extent, sheet, scale):
                    return sheet, scale
    return None


def _checked_ids(parcel_ids: tuple[str, ...]) -> tuple[str, ...]:
    ids = tuple(dict.fromkeys(str(p).strip() for p in parcel_ids if str(p).strip()))
    if not ids:
        raise InvalidInput(_("Give at least one parcel for the extract."), field="parcel_ids")
    if len(ids) > MAX_PARCELS:
        raise InvalidInput(
            _("One map extract can show at most %(max)d parcels; ask for several extracts.")
            % {"max": MAX_PARCELS},
            code="too_many_parcels",
            field="parcel_ids",
        )
    return ids


def _checked_scales(scale: int | None) -> tuple[int, ...]:
    if scale is None:
        return SCALES
    if scale not in SCALES:
        choices = ", ".join(f"1:{s}" for s in SCALES)
        raise InvalidInput(_("The scale must be one of %(scales)s.") % {"scales": choices}, field="scale")
    return (scale,)


def _checked_papers(paper: str | None) -> tuple[str, ...]:
    if paper is None:
        return tuple(PAPERS)
    if paper not in PAPERS:
        raise InvalidInput(_("The paper size must be A4 or A3."), field="paper")
    return (paper,)


def _too_large(req: MapExtractRequest) -> str:
    if req.scale is not None or req.paper is not None:
        return _(
            "The parcels do not fit on one sheet at the chosen scale and paper; choose a smaller scale "
            "or a larger paper, or ask for separate extracts."
        )
    return _(
        "The parcels lie too far apart for one extract (more than an A3 sheet at 1:5000); "
        "ask for separate extracts."
    )


def load_parcels(ids: tuple[str, ...]) -> tuple[PlacedParcel, ...]:
    """The current rows of these parcels in this order, transformed to EPSG:2178 by PostGIS (no local
    PROJ involved); InvalidInput names the ids with no current row."""
    rows = (
        Parcel.objects.current()
        .filter(parcel_id__in=ids)
        .annotate(g=Transform("geom", SRID))
        .values_list("parcel_id", "number", "g")
    )
    found = {pid: (number, geom) for pid, number, geom in rows}
    missing = [pid for pid in ids if pid not in found]
    if missing:
        raise InvalidInput(
            _("No current parcel has the identifier %(ids)s.") % {"ids": ", ".join(missing)},
            code="parcel_not_found",
            field="parcel_ids",
        )
    return tuple(_placed(pid, *found[pid]) for pid in ids)


def _placed(parcel_id: str, number: str, geom) -> PlacedParcel:
    from shapely import wkb

    shape = wkb.loads(bytes(geom.wkb))
    parts = list(getattr(shape, "geoms", [shape]))
    polygons = tuple(
        tuple(tuple((float(x), float(y)) for x, y in ring.coords) for ring in (p.exterior, *p.interiors))
        for p in parts
    )
    return PlacedParcel(parcel_id, number, polygons, _label_point(max(parts, key=lambda p: p.area)))


def _label_point(polygon) -> tuple[float, float]:
    """Where Mapnik's "interior" placement puts a polygon's number (its centroid when that lies well
    inside, else the pole of inaccessibility), so that the highlighted number covers the map's own."""
    from shapely.ops import polylabel

    centre = polygon.centroid
    if polygon.contains(centre) and polygon.boundary.distance(centre) > 0.25 * _inradius(polygon):
        return centre.x, centre.y
    pole = polylabel(polygon, tolerance=0.1)
    return pole.x, pole.y


def _inradius(polygon) -> float:
    from shapely.ops import polylabel

    return polygon.boundary.distance(polylabel(polygon, tolerance=0.1))


def _extent(parcels: tuple[PlacedParcel, ...]) -> tuple[float, float, float, float]:
    es = [e for p in parcels for poly in p.polygons for e, _n in poly[0]]
    ns = [n for p in parcels for poly in p.polygons for _e, n in poly[0]]
    return min(es), min(ns), max(es), max(ns)


def _fits(extent: tuple[float, float, float, float], sheet: Sheet, scale: int) -> bool:
    free_m = 2 * FREE_MM * scale / 1000.0
    w_m, h_m = (side * scale / 1000.0 for side in sheet.frame_mm)
    return extent[2] - extent[0] + free_m <= w_m and extent[3] - extent[1] + free_m <= h_m


def _window(
    extent: tuple[float, float, float, float], sheet: Sheet, scale: int
) -> tuple[float, float, float, float]:
    """The ground seen by the frame, centred on the parcels, its lower-left corner on whole metres."""
    w_m, h_m = (side * scale / 1000.0 for side in sheet.frame_mm)
    e0 = round((extent[0] + extent[2]) / 2 - w_m / 2)
    n0 = round((extent[1] + extent[3]) / 2 - h_m / 2)
    return float(e0), float(n0), e0 + w_m, n0 + h_m


# ---------------------------------------------------------------- numbers as printed
def coordinate(value: float) -> str:
    """A coordinate as Polish surveyors print it: "5 771 200", or "5 771 234,50" when not whole."""
    if abs(value - round(value)) < 0.005:
        return f"{round(value):,}".replace(",", " ")
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


def _num(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- SVG overlays (units: mm)
def _text(x: float, y: float, s: str, *, size: float, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" text-anchor="{anchor}"{extra}>'
        f"{escape(s)}</text>"
    )


def _backed_text(
    x: float, y: float, s: str, *, size: float, anchor: str = "start", fill: str = "#000"
) -> str:
    """Text on a white box (over the map), box width estimated from DejaVu Sans' average advance."""
    w = 0.62 * size * len(s) + 0.8
    left = {"start": x - 0.4, "middle": x - w / 2, "end": x - w + 0.4}[anchor]
    box = (
        f'<rect x="{_num(left)}" y="{_num(y - size * 0.95)}" width="{_num(w)}" height="{_num(size * 1.25)}" '
        'fill="#ffffff" fill-opacity="0.85"/>'
    )
    return box + _text(x, y, s, size=size, anchor=anchor, extra=f' fill="{fill}"')


def _ring_path(layout: Layout, ring: tuple[tuple[float, float], ...]) -> str:
    pts = [layout.on_frame(e, n) for e, n in ring]
    return "M " + " L ".join(f"{_num(x)} {_num(y)}" for x, y in pts) + " Z"


def highlight_svg(layout: Layout) -> str:
    """The requested parcels: outline and a light fill in HIGHLIGHT, their numbers on white."""
    parts = []
    for p in layout.parcels:
        d = " ".join(_ring_path(layout, ring) for poly in p.polygons for ring in poly)
        parts.append(
            f'<path d="{d}" fill="{HIGHLIGHT}" fill-opacity="0.12" fill-rule="evenodd" stroke="{HIGHLIGHT}" '
            'stroke-width="0.5" stroke-linejoin="round"/>'
        )
    for p in layout.parcels:
        x, y = layout.on_frame(*p.label_at)
        parts.append(
            _backed_text(x, y + 1.1, p.number, size=3.0, anchor="middle", fill=HIGHLIGHT).replace(
                "<text ", '<text font-weight="bold" ', 1
            )
        )
    return "".join(parts)


def grid_svg(layout: Layout) -> str:
    """Grid lines every GRID_STEP_MM of paper, EPSG:2178 labels: Y (easting) in the gutters above
    and below, X (northing) inside the frame at both ends of each line."""
    fw, fh = layout.frame_mm
    lines, labels = [], []
    for e in layout.grid_eastings():
        x, _y = layout.on_frame(e, layout.window[3])
        lines.append(f'<line x1="{_num(x)}" y1="0" x2="{_num(x)}" y2="{_num(fh)}"/>')
        if not CORNER_CLEAR_MM < x < fw - CORNER_CLEAR_MM:
            continue  # its label would stick out of the gutter
        label = f"Y={coordinate(e)}"
        labels.append(_text(x, -1.4, label, size=LABEL_FONT_MM, anchor="middle"))
        labels.append(_text(x, fh + 1.2 + LABEL_FONT_MM, label, size=LABEL_FONT_MM, anchor="middle"))
    for n in layout.grid_northings():
        _x, y = layout.on_frame(layout.window[0], n)
        lines.append(f'<line x1="0" y1="{_num(y)}" x2="{_num(fw)}" y2="{_num(y)}"/>')
        if not CORNER_CLEAR_MM < y < fh - CORNER_CLEAR_MM:
            continue  # its label would cover the corner coordinates
        label = f"X={coordinate(n)}"
        labels.append(_backed_text(1.2, y - 0.8, label, size=LABEL_FONT_MM))
        labels.append(_backed_text(fw - 1.2, y - 0.8, label, size=LABEL_FONT_MM, anchor="end"))
    return (
        f'<g stroke="{GRID_COLOUR}" stroke-width="0.15" stroke-opacity="0.8" clip-path="url(#frame)">'
        + "".join(lines)
        + "</g>"
        + "".join(labels)
    )


def corners_svg(layout: Layout) -> str:
    """The coordinates of the frame's four corners, inside the frame."""
    e0, n0, e1, n1 = layout.window
    fw, fh = layout.frame_mm
    s = LABEL_FONT_MM
    out = []
    for e, n, x, y, anchor in (
        (e0, n1, 1.2, 1.2 + s, "start"),
        (e1, n1, fw - 1.2, 1.2 + s, "end"),
        (e0, n0, 1.2, fh - 1.6 - s * 1.3, "start"),
        (e1, n0, fw - 1.2, fh - 1.6 - s * 1.3, "end"),
    ):
        out.append(_backed_text(x, y, f"X={coordinate(n)}", size=s, anchor=anchor))
        out.append(_backed_text(x, y + s * 1.3, f"Y={coordinate(e)}", size=s, anchor=anchor))
    return "".join(out)


def overlay_svg(layout: Layout) -> str:
    """The SVG laid over the map image: frame plus gutter, origin at the frame's top-left, in mm."""
    fw, fh = layout.frame_mm
    g = GUTTER_MM
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="overlay" width="{_num(fw + 2 * g)}mm" '
        f'height="{_num(fh + 2 * g)}mm" viewBox="{_num(-g)} {_num(-g)} {_num(fw + 2 * g)} {_num(fh + 2 * g)}" '
        'font-family="DejaVu Sans" role="img" aria-hidden="true">'
        f'<defs><clipPath id="frame"><rect x="0" y="0" width="{_num(fw)}" height="{_num(fh)}"/></clipPath></defs>'
        f'<g clip-path="url(#frame)">{highlight_svg(layout)}</g>'
        f"{grid_svg(layout)}{corners_svg(layout)}"
        f'<rect x="0" y="0" width="{_num(fw)}" height="{_num(fh)}" fill="none" stroke="#000000" '
        'stroke-width="0.3"/></svg>'
    )


SCALE_BAR_SEGMENTS = 4
SCALE_BAR_SEGMENT_MM = 10.0


def scale_bar_svg(scale: int) -> str:
    """A bar of 4 × 10 mm, exact on paper, labelled in ground metres (10 m per segment at 1:1000)."""
    seg_m = SCALE_BAR_SEGMENT_MM * scale / 1000.0
    total = SCALE_BAR_SEGMENTS * SCALE_BAR_SEGMENT_MM
    parts = []
    for i in range(SCALE_BAR_SEGMENTS):
        fill = "#000000" if i % 2 == 0 else "#ffffff"
        parts.append(
            f'<rect x="{_num(i * SCALE_BAR_SEGMENT_MM)}" y="4" width="{_num(SCALE_BAR_SEGMENT_MM)}" height="1.6" '
            f'fill="{fill}" stroke="#000000" stroke-width="0.2"/>'
        )
    for i in range(SCALE_BAR_SEGMENTS + 1):
        value = _num(i * seg_m) + (" m" if i == SCALE_BAR_SEGMENTS else "")
        parts.append(_text(i * SCALE_BAR_SEGMENT_MM, 3.2, value, size=2.3, anchor="middle"))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="scalebar" width="{_num(total + 10)}mm" height="6.5mm" '
        f'viewBox="-3 0 {_num(total + 10)} 6.5" font-family="DejaVu Sans" role="img" aria-hidden="true">'
        + "".join(parts)
        + "</svg>"
    )


def north_arrow_svg() -> str:
    """Grid north: the map's up is the northing axis of PL-2000 zone 7."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" class="north" width="9mm" height="13mm" viewBox="0 0 9 13" '
        'font-family="DejaVu Sans" role="img" aria-hidden="true">'
        '<path d="M 4.5 3.2 L 7.5 12.5 L 4.5 10.2 Z" fill="#000000"/>'
        '<path d="M 4.5 3.2 L 1.5 12.5 L 4.5 10.2 Z" fill="#ffffff" stroke="#000000" stroke-width="0.25"/>'
        + _text(4.5, 2.8, "N", size=3.0, anchor="middle", extra=' font-weight="bold"')
        + "</svg>"
    )


def swatch_svg(stroke: str, fill: str, fill_opacity: float, width: float) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" class="swatch" width="6mm" height="4mm" viewBox="0 0 6 4" '
        'aria-hidden="true">'
        f'<rect x="0.4" y="0.4" width="5.2" height="3.2" fill="{fill}" fill-opacity="{fill_opacity}" '
        f'stroke="{stroke}" stroke-width="{width}"/></svg>'
    )


# ---------------------------------------------------------------- the document
def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def legend_swatch(layer: str, language: str) -> str:
    """The first row's symbol of the layer's legend as the WMS draws it, cut from GetLegendGraphic's
    image (its raster label is left out: the PDF prints the label as text)."""
    from PIL import Image

    png = rendering.renderer().legend_png(layer, language)
    with Image.open(io.BytesIO(png)) as im:
        cut = im.convert("RGBA").crop((0, 0, 24, min(im.height, 22)))
        out = io.BytesIO()
        cut.save(out, format="PNG")
    return _data_uri("image/png", out.getvalue())


def parcel_groups(layout: Layout) -> list[tuple[str, str]]:
    """The requested parcels' numbers grouped by precinct (the id's part before the number)."""
    groups: dict[str, list[str]] = {}
    for p in layout.parcels:
        precinct = (
            p.parcel_id[: len(p.parcel_id) - len(p.number) - 1] if p.parcel_id.endswith(p.number) else ""
        )
        groups.setdefault(precinct, []).append(p.number)
    return [(precinct, ", ".join(numbers)) for precinct, numbers in groups.items()]


def _context(layout: Layout, title: TitleBlock, language: str) -> dict[str, object]:
    import segno

    from services.offices.sealing import format_code

    w, h = layout.image_px
    svg = rendering.renderer().render(list(LAYERS), layout.window, SRID, w, h, "svg")
    fw, fh = layout.frame_mm
    left, top = layout.frame_origin_mm
    page_w, page_h = layout.page_mm
    band_top = layout.sheet.band_top_mm
    return {
        "t": title,
        "lang": language,
        "layout": layout,
        "page": {"w": _num(page_w), "h": _num(page_h)},
        "paper_size": f"{layout.paper} {layout.orientation}",
        "map": {
            "src": _data_uri("image/svg+xml", svg),
            "left": _num(left - GUTTER_MM),
            "top": _num(top - GUTTER_MM),
            "w": _num(fw),
            "h": _num(fh),
            "box_w": _num(fw + 2 * GUTTER_MM),
            "box_h": _num(fh + 2 * GUTTER_MM),
            "gutter": _num(GUTTER_MM),
        },
        "overlay": overlay_svg(layout),
        "band": {
            "left": _num(PAGE_MARGIN_MM),
            "top": _num(band_top),
            "w": _num(page_w - 2 * PAGE_MARGIN_MM),
            "h": _num(page_h - PAGE_MARGIN_MM - band_top),
            "columns": BAND_COLUMNS,
        },
        "header": {
            "left": _num(PAGE_MARGIN_MM),
            "top": _num(PAGE_MARGIN_MM),
            "w": _num(page_w - 2 * PAGE_MARGIN_MM),
        },
        "scale_text": _("Scale 1:%(scale)d") % {"scale": layout.scale},
        "scale_bar": scale_bar_svg(layout.scale),
        "north_arrow": north_arrow_svg(),
        "grid_step": _num(layout.grid_step_m),
        "parcel_groups": parcel_groups(layout),
        "legend": [
            (swatch_svg(HIGHLIGHT, HIGHLIGHT, 0.12, 0.5), "", _("Parcels of this extract")),
            ("", legend_swatch("dzialki", language), pgettext("map legend", "Parcel boundary")),
            ("", legend_swatch("budynki", language), pgettext("map legend", "Building")),
            ("", legend_swatch("uzytki", language), _("Land-use contour (colour by land-use class)")),
        ],
        "issued_automatically": pgettext("extract", "Document issued automatically"),
        "code": format_code(title.verification_code),
        "qr": segno.make(title.verify_url, error="m").svg_data_uri(scale=3),
    }


def html(layout: Layout, title: TitleBlock, *, language: str = "pl") -> str:
    """The sheet as HTML in mm (absolute positions: the frame lands exactly where `Layout` says)."""
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override(language):
        return render_to_string("documents/map_extract.html", _context(layout, title, language))


def render(layout: Layout, title: TitleBlock, *, language: str = "pl"):
    """The laid-out WeasyPrint document: what `pdf` writes, and what tests can inspect."""
    import weasyprint  # heavy: loaded on first use
    from django.conf import settings

    return weasyprint.HTML(
        string=html(layout, title, language=language), base_url=str(settings.BASE_DIR)
    ).render()


def pdf(req: MapExtractRequest, title: TitleBlock, *, language: str = "pl") -> bytes:
    """The extract as a one-page tagged PDF (unsigned; pades.py seals it)."""
    return render(plan(req), title, language=language).write_pdf(pdf_tags=True)
