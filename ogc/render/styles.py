"""Map styles as data: one description per layer and style, from which both the Mapnik style and the
legend (GetLegendGraphic, the map portal's layer switcher) are built.

Colours follow what Polish users know: parcel boundaries and numbers as in KIEG county services,
land use by OFU, zoning plans in the colours of the MPZP drawing regulation (MN yellow, MW orange,
U red, P violet, ZL/ZP greens, KD grey), boundaries by level.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from layers import catalogue

FONT = "DejaVu Sans Book"
FONT_BOLD = "DejaVu Sans Bold"


@dataclass(frozen=True)
class Rule:
    title_pl: str
    title_en: str
    symbolizers: tuple[tuple[str, dict], ...]
    filter: str | None = None  # Mapnik expression, e.g. "[ofu] = 'R'"
    min_scale: float | None = None  # MinScaleDenominator
    max_scale: float | None = None  # MaxScaleDenominator
    legend: bool = True

    def title(self, language: str) -> str:
        return self.title_en if language.startswith("en") else self.title_pl


@dataclass(frozen=True)
class Style:
    name: str
    title_pl: str
    title_en: str
    rules: tuple[Rule, ...]
    columns: tuple[str, ...] = field(default_factory=tuple)  # attributes the rules need

    def title(self, language: str) -> str:
        return self.title_en if language.startswith("en") else self.title_pl


def poly(fill: str, opacity: float = 1.0) -> tuple[str, dict]:
    return ("polygon", {"fill": fill, "fill-opacity": opacity})


def line(stroke: str, width: float = 1.0, dash: str | None = None, opacity: float = 1.0) -> tuple[str, dict]:
    attrs = {"stroke": stroke, "stroke-width": width, "stroke-opacity": opacity}
    if dash:
        attrs["stroke-dasharray"] = dash
    return ("line", attrs)


def text(
    field_expr: str,
    size: float = 10,
    fill: str = "#000000",
    halo: str = "#ffffff",
    placement: str = "interior",
    face: str = FONT,
) -> tuple[str, dict]:
    return (
        "text",
        {
            "expr": field_expr,
            "size": size,
            "fill": fill,
            "halo-fill": halo,
            "halo-radius": 1.5,
            "placement": placement,
            "face-name": face,
            "allow-overlap": "false",
            "avoid-edges": "false",
        },
    )


def dot(fill: str, size: float = 6, stroke: str = "#ffffff") -> tuple[str, dict]:
    return (
        "marker",
        {
            "fill": fill,
            "width": size,
            "height": size,
            "stroke": stroke,
            "stroke-width": 1,
            "allow-overlap": "true",
            "placement": "point",
        },
    )


PARCEL_RED = "#e60000"
LAND_USE = [
    ("R", "grunty orne", "arable land", "#f7efa5"),
    ("Ł", "łąki trwałe", "meadows", "#c9e7a7"),
    ("Ps", "pastwiska trwałe", "pastures", "#dcefb9"),
    ("S", "sady", "orchards", "#b8dc9a"),
    ("Br", "grunty rolne zabudowane", "built-up farmland", "#f6c89a"),
    ("Ls", "lasy", "forests", "#5f9e4a"),
    ("Lz", "grunty zadrzewione i zakrzewione", "trees and shrubs", "#8fc27a"),
    ("B", "tereny mieszkaniowe", "residential land", "#f3c1c1"),
    ("Ba", "tereny przemysłowe", "industrial land", "#d3a4c6"),
    ("Bi", "inne tereny zabudowane", "other built-up land", "#e9cfe0"),
    ("Bp", "zurbanizowane tereny niezabudowane", "urbanised undeveloped land", "#fbe3c8"),
    ("Bz", "tereny rekreacyjno-wypoczynkowe", "recreation land", "#b3d9a3"),
    ("dr", "drogi", "roads", "#cfcfcf"),
    ("Tk", "tereny kolejowe", "railways", "#a6a6a6"),
    ("W", "rowy", "ditches", "#a7c9ea"),
    ("Wp", "grunty pod wodami płynącymi", "flowing waters", "#8fbde6"),
    ("Ws", "grunty pod wodami stojącymi", "standing waters", "#8fbde6"),
    ("N", "nieużytki", "wasteland", "#e3e3e3"),
]
ZONING = [
    ("MN", "zabudowa mieszkaniowa jednorodzinna", "single-family housing", "#ffe680"),
    ("MW", "zabudowa mieszkaniowa wielorodzinna", "multi-family housing", "#f4a142"),
    ("MN/U", "zabudowa mieszkaniowa jednorodzinna i usługowa", "housing and services", "#ffb380"),
    ("U", "zabudowa usługowa", "services", "#ff5a5a"),
    ("P", "produkcja, składy i magazyny", "production and storage", "#b58ce6"),
    ("ZP", "zieleń urządzona", "parks", "#8fd98f"),
    ("ZL", "lasy", "forests", "#3f9a3f"),
    ("R", "tereny rolnicze", "agriculture", "#eeeeb8"),
    ("RM", "zabudowa zagrodowa", "farmsteads", "#d6bf73"),
    ("RZ", "łąki i pastwiska", "meadows and pastures", "#bfe6bf"),
    ("KD", "drogi publiczne", "public roads", "#d9d9d9"),
]

STYLES: dict[str, dict[str, Style]] = {
    "dzialki": {
        "default": Style(
            "default",
            "Granice działek",
            "Parcel boundaries",
            (Rule("granica działki", "parcel boundary", (line(PARCEL_RED, 1.0),)),),
        ),
        "kieg": Style(
            "kieg",
            "Działki (KIEG)",
            "Parcels (KIEG)",
            (Rule("granica działki", "parcel boundary", (line(PARCEL_RED, 1.2),)),),
        ),
        "wypelnienie": Style(
            "wypelnienie",
            "Działki z wypełnieniem",
            "Filled parcels",
            (Rule("działka", "parcel", (poly("#ffd54f"), line(PARCEL_RED, 1.0))),),
        ),
    },
    "numery_dzialek": {
        "default": Style(
            "default",
            "Numery działek",
            "Parcel numbers",
            (Rule("numer działki", "parcel number", (text("[number]", 10, PARCEL_RED),), max_scale=5000),),
            columns=("number",),
        ),
    },
    "budynki": {
        "default": Style(
            "default",
            "Budynki",
            "Buildings",
            (Rule("budynek", "building", (poly("#e8cfa8"), line("#6b4f2a", 0.8))),),
        ),
    },
    "obreby": {
        "default": Style(
            "default",
            "Obręby",
            "Precincts",
            (
                Rule("granica obrębu", "precinct boundary", (line("#0057b8", 2.0),)),
                Rule(
                    "nazwa obrębu",
                    "precinct name",
                    (text("[name]", 11, "#0057b8", face=FONT_BOLD),),
                    max_scale=50000,
                    legend=False,
                ),
            ),
            columns=("name",),
        ),
    },
    "jednostki_ewidencyjne": {
        "default": Style(
            "default",
            "Jednostki ewidencyjne",
            "Cadastral units",
            (
                Rule(
                    "granica jednostki ewidencyjnej",
                    "cadastral unit boundary",
                    (line("#7a1fa2", 3.0, "8,4"),),
                ),
            ),
        ),
    },
    "uzytki": {
        "default": Style(
            "default",
            "Użytki gruntowe",
            "Land use",
            tuple(
                Rule(
                    f"{code} – {pl}",
                    f"{code} – {en}",
                    (poly(color, 0.85), line("#8c8c8c", 0.3)),
                    filter=f"[ofu] = '{code}'",
                )
                for code, pl, en, color in LAND_USE
            )
            + (
                Rule(
                    "inne",
                    "other",
                    (poly("#f0f0f0", 0.85), line("#8c8c8c", 0.3)),
                    filter="[ofu] != ''",
                    legend=False,
                ),
            ),
            columns=("ofu",),
        ),
    },
    "kontury_klasyfikacyjne": {
        "default": Style(
            "default",
            "Kontury klasyfikacyjne",
            "Soil classes",
            (
                Rule(
                    "granica konturu klasyfikacyjnego", "soil-class contour", (line("#8a5a00", 0.8, "4,3"),)
                ),
                Rule(
                    "oznaczenie konturu",
                    "soil class",
                    (text("[ozu]+[ozk]", 9, "#8a5a00"),),
                    max_scale=5000,
                    legend=False,
                ),
            ),
            columns=("ozu", "ozk"),
        ),
    },
    "adresy": {
        "default": Style(
            "default",
            "Punkty adresowe",
            "Address points",
            (
                Rule("punkt adresowy", "address point", (dot("#c00000", 6),)),
                Rule(
                    "numer porządkowy",
                    "house number",
                    (text("[number]", 9, "#c00000", placement="point"),),
                    max_scale=4000,
                    legend=False,
                ),
            ),
            columns=("number",),
        ),
    },
    "mpzp": {
        "default": Style(
            "default",
            "Przeznaczenie terenu (MPZP)",
            "Zoning (MPZP)",
            tuple(
                Rule(
                    f"{sym} – {pl}",
                    f"{sym} – {en}",
                    (poly(color, 0.75), line("#4d4d4d", 0.6)),
                    filter=f"[symbol] = '{sym}'",
                )
                for sym, pl, en, color in ZONING
            )
            + (
                Rule(
                    "oznaczenie terenu",
                    "zone label",
                    (text("[label]", 9, "#222222"),),
                    max_scale=10000,
                    legend=False,
                ),
            ),
            columns=("symbol", "label"),
        ),
    },
    "granice": {
        "default": Style(
            "default",
            "Granice administracyjne",
            "Administrative boundaries",
            (
                Rule(
                    "granica województwa",
                    "voivodeship boundary",
                    (line("#222222", 4.0),),
                    filter="[level] = 'voivodeship'",
                ),
                Rule(
                    "granica powiatu",
                    "county boundary",
                    (line("#444444", 3.0, "10,4"),),
                    filter="[level] = 'county'",
                ),
                Rule(
                    "granica gminy",
                    "gmina boundary",
                    (line("#666666", 2.0, "6,3"),),
                    filter="[level] = 'gmina'",
                ),
            ),
            columns=("level",),
        ),
    },
}


# ---- the INSPIRE default styles of the view layers (layers.catalogue.INSPIRE_LAYERS), named and titled as the
# data specifications name them (TG Cadastral Parcels 3.1 §11.2, Addresses 3.1 §11.2, Buildings 3.1 §11.2; the
# view service ETS at42 looks for "<layer>.Default"). Arial is drawn in DejaVu Sans, the font the server has.
INSPIRE_BLACK = "#000000"
INSPIRE_SCALE = 20000  # CP: every rule from 1:1 to 1:20 000


def tg_label(field_expr: str, size: float) -> tuple[str, dict]:
    """A TG label: black text of that size, no halo (the TGs give none), placed inside the polygon."""
    kind, attrs = text(field_expr, size, INSPIRE_BLACK)
    return kind, {**attrs, "halo-radius": 0}


def square(fill: str, size: float = 6) -> tuple[str, dict]:
    """A `size` px square with a 1 px black border (SE WellKnownName "square"): Mapnik has no square marker
    shape, so the square is the glyph U+25A0 of the map font with a black halo; `glyph` tells the legend to
    draw the same glyph (not a sample text)."""
    kind, attrs = text("'\u25a0'", size * 1.5, fill, halo=INSPIRE_BLACK, placement="point")
    return kind, {**attrs, "halo-radius": 1, "allow-overlap": "true", "glyph": True}


INSPIRE_STYLES: dict[str, dict[str, Style]] = {
    "CP.CadastralParcel": {
        "CP.CadastralParcel.Default": Style(
            "CP.CadastralParcel.Default",
            "Działka katastralna – styl domyślny",
            "Cadastral Parcel Default Style",
            (
                Rule(
                    "granica działki katastralnej",
                    "cadastral parcel outline",
                    (line(INSPIRE_BLACK, 1.0),),
                    min_scale=1,
                    max_scale=INSPIRE_SCALE,
                ),
                Rule(
                    "etykieta działki (numer)",
                    "parcel label (number)",
                    (tg_label("[number]", 10),),
                    min_scale=1,
                    max_scale=INSPIRE_SCALE,
                    legend=False,
                ),
            ),
            columns=("number",),
        ),
    },
    "CP.CadastralZoning": {
        "CP.CadastralZoning.Default": Style(
            "CP.CadastralZoning.Default",
            "Obszar katastralny – styl domyślny",
            "Cadastral Zoning Default Style",
            (
                Rule(
                    "granica obszaru katastralnego",
                    "cadastral zoning outline",
                    (line(INSPIRE_BLACK, 2.0),),
                    min_scale=1,
                    max_scale=INSPIRE_SCALE,
                ),
                Rule(
                    "etykieta obszaru (nazwa obrębu)",
                    "cadastral zoning label (precinct name)",
                    (tg_label("[name]", 20),),
                    min_scale=1,
                    max_scale=INSPIRE_SCALE,
                    legend=False,
                ),
            ),
            columns=("name",),
        ),
    },
    "CP.CadastralBoundary": {
        # the parcels' outlines drawn as lines: what a LineSymbolizer over CadastralBoundary lines draws
        "CP.CadastralBoundary.Default": Style(
            "CP.CadastralBoundary.Default",
            "Granica katastralna – styl domyślny",
            "Cadastral Boundary Default Style",
            (
                Rule(
                    "granica katastralna",
                    "cadastral boundary",
                    (line(INSPIRE_BLACK, 1.0),),
                    min_scale=1,
                    max_scale=INSPIRE_SCALE,
                ),
            ),
        ),
    },
    "AD.Address": {
        # EMUiA address points lie within the building (or the parcel): position specification "building" or
        # "parcel", the TG's 75 % grey square; no scale limits
        "AD.Address.Default": Style(
            "AD.Address.Default",
            "Adres – styl domyślny",
            "Address Default Style",
            (
                Rule(
                    "adres (punkt w budynku lub działce)",
                    "address (building or parcel)",
                    (square("#c0c0c0"),),
                ),
            ),
        ),
    },
    "BU.Building": {
        # the reference geometry is a surface: grey fill, black outline 0.4 pt (0.5 px); from 1:50 to 1:25 000
        "BU.Building.Default": Style(
            "BU.Building.Default",
            "Budynek – styl domyślny",
            "Building Default Style",
            (
                Rule(
                    "budynek",
                    "building",
                    (poly("#808080"), line(INSPIRE_BLACK, 0.5)),
                    min_scale=50,
                    max_scale=25000,
                ),
            ),
        ),
    },
}
STYLES.update(INSPIRE_STYLES)


# the "default" style of a catalogue layer that has no styles of its own, by geometry type: a new layer
# is one catalogue entry and draws at once; a style of its own is a later choice
GENERIC_STYLES: dict[str, Style] = {
    "MultiPolygon": Style(
        "default",
        "Obiekty",
        "Features",
        (Rule("obiekt", "feature", (poly("#9ecae1", 0.35), line("#3182bd", 1.0))),),
    ),
    "LineString": Style(
        "default", "Obiekty", "Features", (Rule("obiekt", "feature", (line("#3182bd", 1.5),)),)
    ),
    "Point": Style("default", "Obiekty", "Features", (Rule("obiekt", "feature", (dot("#3182bd", 6),)),)),
}


def style_for(layer: str, style: str | None) -> Style | None:
    """The style of that name of a catalogue layer (None: not one of its styles). The layer's own
    styles are in STYLES; a layer without any there gets the generic default of its geometry type."""
    name = style or "default"
    styles = STYLES.get(layer)
    if styles is not None:
        return styles.get(name)
    entry = catalogue.get_layer(layer)
    if entry is None or name != entry.default_style or name not in entry.styles:
        return None
    return GENERIC_STYLES.get(entry.geometry_type)
