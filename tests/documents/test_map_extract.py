"""The map extract (wyrys) at true scale: the PDF's vector paths measured against the ground.

Positions are read from the PDF with pdfplumber (points, 1 pt = 25.4/72 mm, y from the top) and
compared with `Layout.on_page`, the ground → paper mapping; lengths with the ground lengths of the
parcel's edges in EPSG:2178. The map under the overlays comes from the WMS's Mapnik styles through the
renderer that gisportal.wiring registered at start-up.
"""

from __future__ import annotations

import io
import math
import re
import time
from datetime import UTC, datetime

import pdfplumber
import pytest
from django.contrib.gis.db.models.functions import Transform
from django.utils import translation

from gisportal.core.errors import InvalidInput
from layers.models import Parcel, RestrictedLandRegisterEntry, RestrictedShare
from services.documents import mapextract as mx
from services.documents import rendering
from services.documents.kinds import TitleBlock

pytestmark = pytest.mark.django_db

PT_MM = 25.4 / 72
HIGHLIGHT_RGB = tuple(int(mx.HIGHLIGHT[i : i + 2], 16) / 255 for i in (1, 3, 5))
PARCEL_RED = (0xE6 / 255, 0.0, 0.0)  # dzialki's boundary in the WMS style
GRID_RGB = tuple(int(mx.GRID_COLOUR[i : i + 2], 16) / 255 for i in (1, 3, 5))
CODE = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def title(issued_by: str = "") -> TitleBlock:
    return TitleBlock(
        office_name="Starostwo Powiatowe w Piasecznie",
        office_address="ul. Chyliczkowska 14, 05-500 Piaseczno",
        kind_label="Wyrys z mapy ewidencyjnej",
        number="GK.6640.17.2026/W/3",
        case_sign="GK.6640.17.2026",
        issued_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        issued_by=issued_by,
        verification_code=CODE,
        verify_url=f"https://gisportal.example.pl/verify/{CODE}",
    )


# ---------------------------------------------------------------- helpers
def _colour(obj: dict) -> tuple[float, ...]:
    c = obj.get("stroking_color")
    return tuple(float(v) for v in c) if isinstance(c, (list, tuple)) else ()


def _same_colour(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return len(a) == 3 and all(abs(x - y) < 0.01 for x, y in zip(a, b, strict=True))


def _page(data: bytes):
    return pdfplumber.open(io.BytesIO(data)).pages[0]


def _mm(pt: tuple[float, float]) -> tuple[float, float]:
    return pt[0] * PT_MM, pt[1] * PT_MM


def _paths(page, rgb) -> list[list[tuple[float, float]]]:
    """The points (mm, from the page's top-left) of every stroked path in that colour."""
    out = []
    for obj in (*page.curves, *page.lines, *page.rects):
        if _same_colour(_colour(obj), rgb):
            pts = obj.get("pts") or [(obj["x0"], obj["top"]), (obj["x1"], obj["bottom"])]
            out.append([_mm(p) for p in pts])
    return out


def _dist(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _runs(page) -> list[dict]:
    """Text runs (mm): chars on one baseline closer than 2 mm, spaces restored from the gaps (SVG text
    has no space glyphs)."""
    lines: dict[float, list[dict]] = {}
    for ch in page.chars:
        lines.setdefault(round(ch["bottom"], 1), []).append(ch)
    runs = []
    for chars in lines.values():
        chars.sort(key=lambda c: c["x0"])
        run: list[dict] = []
        for ch in chars:
            if run and (ch["x0"] - run[-1]["x1"]) * PT_MM > 2.0:
                runs.append(run)
                run = []
            run.append(ch)
        runs.append(run)
    out = []
    for run in runs:
        text = run[0]["text"]
        for prev, ch in zip(run, run[1:], strict=False):
            gap = ch["x0"] - prev["x1"]
            text += (" " if gap > 0.2 * ch["size"] else "") + ch["text"]
        out.append(
            {
                "text": text.strip(),
                "x0": run[0]["x0"] * PT_MM,
                "x1": run[-1]["x1"] * PT_MM,
                "bottom": run[0]["bottom"] * PT_MM,
            }
        )
    return out


def _reading_text(page, layout: mx.Layout) -> str:
    """The page's text with the band read column by column (pdfplumber reads a page line by line
    across the columns), lines joined by spaces."""
    band_top = layout.sheet.band_top_mm / PT_MM
    parts = [page.crop((0, 0, page.width, band_top)).extract_text()]
    x = mx.PAGE_MARGIN_MM / PT_MM
    band_w = page.width - 2 * x
    for share in mx.BAND_COLUMNS:
        w = band_w * share / 100
        parts.append(page.crop((x, band_top, min(x + w, page.width), page.height)).extract_text())
        x += w
    return " ".join(" ".join(parts).split())


def _parcels_2178():
    return (
        Parcel.objects.current()
        .annotate(g=Transform("geom", mx.SRID))
        .order_by("parcel_id")
        .values_list("parcel_id", "g")
    )


def _owned_parcel_for(scale: int) -> str:
    """A parcel with an owner on record that fits an A4 sheet at this scale and has a long edge."""
    owned_units = set(RestrictedShare.objects.values_list("registration_unit", flat=True))
    for parcel_id, geom in _parcels_2178().filter(registration_unit__in=owned_units).iterator():
        chosen = mx.choose_sheet(geom.extent, (scale,), ("A4",))
        ring = geom[0][0].coords
        longest = max(_dist(a, b) for a, b in zip(ring, ring[1:], strict=False))
        if chosen is not None and longest > 50 * scale / 1000:
            return parcel_id
    pytest.fail("the demo data has no owned parcel fitting A4 at this scale")


def _edges(parcel: mx.PlacedParcel) -> list[tuple[int, float]]:
    """(index, ground length) of the exterior ring's edges, longest first."""
    ring = parcel.polygons[0][0]
    return sorted(
        ((i, _dist(a, b)) for i, (a, b) in enumerate(zip(ring, ring[1:], strict=False))), key=lambda x: -x[1]
    )


def _layout_for_edge(scale: int) -> tuple[mx.Layout, int, float]:
    """A layout at this scale on A4 portrait showing the longest edge (of some parcel) that fits the
    frame: at 1:1000 as `plan` makes it (the parcel fits); at 1:500, where no demo parcel fits an A4
    or A3 sheet whole, a window centred on the edge (the drawing path is the same)."""
    if scale == 1000:
        layout = mx.plan(mx.MapExtractRequest((_owned_parcel_for(1000),), scale=1000))
        i, length = _edges(layout.parcels[0])[0]
        return layout, i, length
    sheet = mx.Sheet("A4", "portrait")
    fw, fh = (side * scale / 1000 for side in sheet.frame_mm)
    for parcel_id, _geom in _parcels_2178().iterator():
        parcel = mx.load_parcels((parcel_id,))[0]
        for i, length in _edges(parcel):
            if 20 < length < min(fw, fh) - 10:
                ring = parcel.polygons[0][0]
                ce, cn = ((ring[i][k] + ring[i + 1][k]) / 2 for k in (0, 1))
                e0, n0 = round(ce - fw / 2), round(cn - fh / 2)
                return mx.Layout((parcel,), scale, sheet, (e0, n0, e0 + fw, n0 + fh)), i, length
    pytest.fail("no parcel edge fits the frame at this scale")


# ---------------------------------------------------------------- the renderer
def test_wiring_registered_the_mapnik_renderer(demo_data):
    r = rendering.renderer()
    assert type(r).__name__ == "MapnikRenderer"
    layout = mx.plan(mx.MapExtractRequest((_owned_parcel_for(1000),), 1000))
    png = r.render(list(mx.LAYERS), layout.window, mx.SRID, 200, 150, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[25] == 6  # colour type 6: RGBA
    svg = r.render(list(mx.LAYERS), layout.window, mx.SRID, 650, 725, "svg")
    assert b"<svg" in svg[:300] and b'viewBox="0 0 650 725"' in svg[:300]
    assert r.legend_png("budynki", "pl")[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError):
        r.render(["no_such_layer"], layout.window, mx.SRID, 10, 10, "svg")
    with pytest.raises(ValueError):
        r.render(list(mx.LAYERS), layout.window, mx.SRID, 10, 10, "gif")
    with pytest.raises(ValueError):
        r.render(list(mx.LAYERS), layout.window[2:] + layout.window[:2], mx.SRID, 10, 10, "svg")


# ---------------------------------------------------------------- true scale
@pytest.mark.parametrize("scale", [1000, 500])
def test_the_parcel_is_drawn_at_true_scale(demo_data, scale):
    layout, i, ground = _layout_for_edge(scale)
    assert layout.scale == scale and layout.paper == "A4"
    data = mx.render(layout, title()).write_pdf(pdf_tags=True)
    page = _page(data)
    frame_bottom = layout.frame_origin_mm[1] + layout.frame_mm[1]

    # the highlight: one polygon, every vertex where the ground mapping puts it
    highlights = [p for p in _paths(page, HIGHLIGHT_RGB) if min(y for _x, y in p) < frame_bottom]
    assert len(highlights) == 1
    drawn = highlights[0]
    ring = layout.parcels[0].polygons[0][0]
    assert len(drawn) >= len(ring) - 1
    for (e, n), got in zip(ring, drawn, strict=False):
        assert _dist(got, layout.on_page(e, n)) < 0.5

    # the edge: ground length × 1000 / scale on paper, within 0.5 mm; another scale would fail
    on_paper = _dist(drawn[i], drawn[i + 1])
    assert abs(on_paper - ground * 1000 / scale) < 0.5
    other = 500 if scale == 1000 else 1000
    assert abs(on_paper - ground * 1000 / other) > 5

    # the map image (Mapnik's own red boundary of this parcel) lies exactly under the highlight: its
    # placement and size are those of the frame
    red_points = [pt for path in _paths(page, PARCEL_RED) for pt in path]
    assert red_points, "the map image drew no parcel boundary"
    for e, n in (ring[i], ring[i + 1]):
        expected = layout.on_page(e, n)
        assert min(_dist(pt, expected) for pt in red_points) < 0.5

    # the frame: a rectangle of exactly the frame's size where the layout puts it
    left, top = layout.frame_origin_mm
    fw, fh = layout.frame_mm
    frames = [
        r
        for r in page.rects
        if _same_colour(_colour(r), (0.0, 0.0, 0.0))
        and abs(r["width"] * PT_MM - fw) < 0.1
        and abs(r["height"] * PT_MM - fh) < 0.1
    ]
    assert frames, "no frame rectangle of the frame's size"
    assert abs(frames[0]["x0"] * PT_MM - left) < 0.1 and abs(frames[0]["top"] * PT_MM - top) < 0.1
    # the ground window is the frame at the scale
    e0, n0, e1, n1 = layout.window
    assert math.isclose(e1 - e0, fw * scale / 1000) and math.isclose(n1 - n0, fh * scale / 1000)
    assert layout.image_px == (round(fw / 0.28), round(fh / 0.28))


# ---------------------------------------------------------------- the grid
def test_grid_labels_and_lines_are_at_their_coordinates(demo_data):
    req = mx.MapExtractRequest((_owned_parcel_for(1000),), scale=1000)
    layout = mx.plan(req)
    assert layout.grid_step_m == 100
    page = _page(mx.pdf(req, title()))
    lines = _paths(page, GRID_RGB)
    verticals = [p[0][0] for p in lines if abs(p[0][0] - p[-1][0]) < 0.01]
    horizontals = [p[0][1] for p in lines if abs(p[0][1] - p[-1][1]) < 0.01]
    tol = 1.0 * layout.mm_per_metre  # 1 m on the ground
    assert layout.grid_eastings() and layout.grid_northings()
    for e in layout.grid_eastings():
        assert e % 100 == 0
        assert min(abs(x - layout.on_page(e, 0)[0]) for x in verticals) < tol
    for n in layout.grid_northings():
        assert n % 100 == 0
        assert min(abs(y - layout.on_page(0, n)[1]) for y in horizontals) < tol
    assert len(verticals) == len(layout.grid_eastings())
    assert len(horizontals) == len(layout.grid_northings())

    e0, n0, e1, n1 = layout.window
    grid_labels = 0
    for run in _runs(page):
        m = re.fullmatch(r"([XY])=(\d{1,3}(?: \d{3})+)", run["text"])
        if not m:
            continue
        axis, value = m.group(1), float(m.group(2).replace(" ", ""))
        corner = value in ((n0, n1) if axis == "X" else (e0, e1))
        if corner:
            continue
        grid_labels += 1
        assert value % 100 == 0, run
        if axis == "Y":  # an easting: centred on its vertical line, above or below the frame
            x = layout.on_page(value, 0)[0]
            assert abs((run["x0"] + run["x1"]) / 2 - x) < 1.0, run
            assert min(abs(v - x) for v in verticals) < tol
        else:  # a northing: written just above its horizontal line
            y = layout.on_page(0, value)[1]
            assert 0 < y - run["bottom"] < 2.0, run
            assert min(abs(h - y) for h in horizontals) < tol
    assert grid_labels >= 2
    # the corner coordinates are printed too
    text = page.extract_text(x_tolerance=1)
    for value in (n0, n1):
        assert f"X={mx.coordinate(value)}" in text
    for value in (e0, e1):
        assert f"Y={mx.coordinate(value)}" in text


def test_coordinates_print_as_surveyors_write_them():
    assert mx.coordinate(5771200) == "5 771 200"
    assert mx.coordinate(7501858.0) == "7 501 858"
    assert mx.coordinate(5771234.5) == "5 771 234,50"
    # grid every 10 cm of paper
    sheet = mx.Sheet("A4", "portrait")
    for scale, step in ((500, 50), (1000, 100), (2000, 200), (5000, 500)):
        assert mx.Layout((), scale, sheet, (0, 0, 1, 1)).grid_step_m == step


# ---------------------------------------------------------------- paper and limits
def test_sheet_choice():
    a4p, a4l = mx.Sheet("A4", "portrait"), mx.Sheet("A4", "landscape")
    a3p = mx.Sheet("A3", "portrait")
    assert mx.choose_sheet((0, 0, 60, 60)) == (a4p, 500)
    assert mx.choose_sheet((0, 0, 150, 150)) == (a4p, 1000)
    assert mx.choose_sheet((0, 0, 240, 100)) == (a4l, 1000)
    assert mx.choose_sheet((0, 0, 240, 300)) == (a4p, 2000)  # A4 first: citizens print at home
    assert mx.choose_sheet((0, 0, 240, 300), (1000,)) == (a3p, 1000)
    assert mx.choose_sheet((0, 0, 300, 400), (1000,)) is None
    assert mx.choose_sheet((0, 0, 2000, 1000)) is None  # more than A3 at 1:5000
    for sheet in (a4p, a4l, a3p, mx.Sheet("A3", "landscape")):
        w, h = sheet.frame_mm
        assert w % 7 == 0 and h % 7 == 0 and w > 100 and h > 100
        left, top = sheet.frame_origin_mm
        assert left >= mx.PAGE_MARGIN_MM + mx.GUTTER_MM - 1e-9
        assert sheet.band_top_mm + mx.BAND_MM <= sheet.page_mm[1] - mx.PAGE_MARGIN_MM + 1e-9


def _group(around: str, count: int, radius: float) -> tuple[str, ...]:
    """Up to `count` current parcels within `radius` m of a parcel, the farthest first."""
    from django.contrib.gis.db.models.functions import Distance

    centre = Parcel.objects.current().get(parcel_id=around).geom.centroid
    near = (
        Parcel.objects.current()
        .filter(geom__dwithin=(centre, radius))
        .exclude(parcel_id=around)
        .annotate(d=Distance("geom", centre))
        .order_by("-d", "parcel_id")
        .values_list("parcel_id", flat=True)[: count - 1]
    )
    return (around, *near)


def test_a_big_group_gets_a3_or_a_smaller_scale(demo_data):
    ids = _group(_owned_parcel_for(1000), 20, 250.0)
    assert len(ids) >= 8
    layout = mx.plan(mx.MapExtractRequest(ids))
    e0, n0, e1, n1 = mx._extent(layout.parcels)
    assert mx.choose_sheet((e0, n0, e1, n1), (1000,), ("A4",)) is None, "the group fits A4 at 1:1000"
    assert layout.paper == "A3" or layout.scale > 1000
    # every parcel inside the window, with free paper around
    free_m = mx.FREE_MM * layout.scale / 1000 - 0.5
    w0, s0, w1, s1 = layout.window
    assert w0 + free_m <= e0 and e1 <= w1 - free_m and s0 + free_m <= n0 and n1 <= s1 - free_m
    # the same group at 1:1000 as asked: on A3, or refused with a reason, never silently rescaled
    try:
        at_1000 = mx.plan(mx.MapExtractRequest(ids, scale=1000))
    except InvalidInput as e:
        assert e.code == "extract_too_large"
    else:
        assert at_1000.scale == 1000 and at_1000.paper == "A3"
    data = mx.pdf(mx.MapExtractRequest(ids), title())
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == 1
        w, h = layout.page_mm
        assert abs(pdf.pages[0].width * PT_MM - w) < 0.1 and abs(pdf.pages[0].height * PT_MM - h) < 0.1
        highlights = [
            p
            for p in _paths(pdf.pages[0], HIGHLIGHT_RGB)
            if max(y for _x, y in p) < layout.frame_origin_mm[1] + layout.frame_mm[1]
        ]
        assert len(highlights) == len(ids)


def test_limits_and_bad_requests(demo_data):
    ids = tuple(Parcel.objects.current().order_by("parcel_id").values_list("parcel_id", flat=True)[:21])
    with translation.override("pl"), pytest.raises(InvalidInput) as too_many:
        mx.plan(mx.MapExtractRequest(ids))
    assert too_many.value.code == "too_many_parcels" and "20" in too_many.value.message
    assert "działek" in too_many.value.message  # Polish
    assert mx.plan(mx.MapExtractRequest(ids[:1] * 25)).parcels[0].parcel_id == ids[0]  # duplicates count once
    with pytest.raises(InvalidInput) as unknown:
        mx.plan(mx.MapExtractRequest((ids[0], "141804_5.0099.9999/9")))
    assert unknown.value.code == "parcel_not_found" and "9999/9" in unknown.value.message
    with pytest.raises(InvalidInput):
        mx.plan(mx.MapExtractRequest(()))
    with pytest.raises(InvalidInput):
        mx.plan(mx.MapExtractRequest(ids[:1], scale=750))
    with pytest.raises(InvalidInput):
        mx.plan(mx.MapExtractRequest(ids[:1], paper="A0"))
    # the two parcels farthest apart east-west: more than A3 at 1:5000 in the demo gmina
    rows = list(_parcels_2178())
    west = min(rows, key=lambda r: r[1].extent[0])[0]
    east = max(rows, key=lambda r: r[1].extent[2])[0]
    with translation.override("pl"), pytest.raises(InvalidInput) as too_far:
        mx.plan(mx.MapExtractRequest((west, east)))
    assert too_far.value.code == "extract_too_large" and "A3" in too_far.value.message


# ---------------------------------------------------------------- the text
def test_the_text_holds_the_title_block_and_no_owner_data(demo_data):
    parcel_id = _owned_parcel_for(1000)
    parcel = Parcel.objects.current().get(parcel_id=parcel_id)
    data = mx.pdf(mx.MapExtractRequest((parcel_id,), scale=1000), title())
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert "StructTreeRoot" in pdf.doc.catalog  # tagged
    page = _page(data)
    text = _reading_text(page, mx.plan(mx.MapExtractRequest((parcel_id,), scale=1000)))
    t = title()
    for expected in (
        t.office_name,
        t.office_address,
        t.kind_label,
        t.number,
        t.case_sign,
        "2 marca 2026",
        "Dokument wydany automatycznie",
        "ABCD EFGH JKLM NPQR STUV WXYZ",
        "Skala 1:1000",
        "EPSG:2178",
        "PL-2000 strefa 7",
        parcel.number,
        "Kod weryfikacyjny",
    ):
        assert expected in text, expected
    assert t.verify_url in text.replace(" ", "")

    owners = list(
        RestrictedShare.objects.filter(registration_unit=parcel.registration_unit).values_list(
            "subject__name", "subject__surname", "subject__pesel", "subject__address"
        )
    )
    assert owners, "the chosen parcel has owners on record"
    not_the_office = text.replace(t.office_address, "")  # an owner may live in the office's town
    for values in owners:
        for value in values:
            if value and len(value) > 3:
                assert value not in not_the_office
    for kw in RestrictedLandRegisterEntry.objects.filter(parcel=parcel).values_list("kw_number", flat=True):
        assert kw not in text

    req = mx.MapExtractRequest((parcel_id,), scale=1000)
    by_clerk = _reading_text(_page(mx.pdf(req, title("Anna Nowak"))), mx.plan(req))
    assert "Anna Nowak" in by_clerk and "automatycznie" not in by_clerk


def test_time_of_an_a4_extract_at_1_1000(demo_data):
    req = mx.MapExtractRequest((_owned_parcel_for(1000),), scale=1000)
    started = time.perf_counter()
    data = mx.pdf(req, title())
    elapsed = time.perf_counter() - started
    print(f"\nA4 1:1000 map extract: {elapsed:.2f} s, {len(data)} bytes (target < 3 s)")
    assert data.startswith(b"%PDF")
