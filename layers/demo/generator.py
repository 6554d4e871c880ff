"""Deterministic synthetic registry data for gmina Piaseczno (no database access here).

Geometry model
--------------
The area is a grid of quadrilateral cells whose corners are jittered by a fixed hash, so the gmina,
its neighbours, the county and the voivodeship share exact boundaries. Each cell inside the gmina
is a precinct (rural area) or four precincts (town). Inside a cell, a point is addressed by
bilinear parameters (u, v) in [0, 1]²; lines of constant u or v are straight, so any axis-aligned
parameter rectangle maps to a convex quadrilateral inside the cell.

A cell is cut into horizontal *bands* (rows of parcels, or road parcels between blocks), and each
parcel band into parcels by cuts of constant u that span the band. Every polygon ring carries all
vertices of its neighbours that lie on its edges (including those of neighbouring cells), so the
tiling is exact: parcels share vertices bit for bit, with no gaps, overlaps or T-junctions.

The gmina outline does not depend on the seed (routing tests rely on it); everything inside does.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from gisportal.core.identifiers import kw_check_digit

# --------------------------------------------------------------------------------- the map
X0, Y0 = 628_700.0, 455_400.0  # SW corner of the gmina's bounding box in EPSG:2180 (E, N)
CW, CH = 1_760.0, 1_940.0  # cell width / height (m)
JITTER = 0.16  # of the cell size
EXT = 4  # cells of neighbours around the gmina grid

# rows from north (r=9) to south (r=0); R = rural precinct, T = town (4 precincts)
MASK = [
    "....RR....",
    "...RTTR...",
    "..RRTTR...",
    "..RRTRRR..",
    ".RRRRRRR..",
    ".RRRRRR...",
    "..RRRRR...",
    "..RRRR....",
    "...RR.....",
    "..........",
]
RURAL_NAMES = [
    "Józefosław I",
    "Józefosław II",
    "Julianów",
    "Chylice",
    "Chyliczki",
    "Józefosław III",
    "Siedliska",
    "Bobrowiec",
    "Kamionka",
    "Pólko",
    "Zawady",
    "Żabieniec",
    "Jastrzębie",
    "Łbiska",
    "Mieszkowo",
    "Orzeszyn",
    "Nowinki",
    "Gołków",
    "Wola Gołkowska",
    "Runów",
    "Jesówka",
    "Pęchery",
    "Wólka Pęcherska",
    "Głosków",
    "Głosków-Letnisko",
    "Bogatki",
    "Wólka Kozodawska",
    "Jazgarzew",
    "Henryków-Urocze",
    "Grochowa",
    "Zalesie Górne",
    "Złotokłos",
    "Szczaki",
    "Wólka Pracka",
    "Kuleszówka",
    "Pilawa",
]
STREETS = [
    "Puławska",
    "Kościuszki",
    "Sienkiewicza",
    "Warszawska",
    "Żeromskiego",
    "Jana Pawła II",
    "Okulickiego",
    "Chyliczkowska",
    "Młynarska",
    "Dworcowa",
    "Kilińskiego",
    "Świętojańska",
    "Fabryczna",
    "Energetyczna",
    "Geodetów",
    "Szkolna",
    "Ogrodowa",
    "Polna",
    "Leśna",
    "Słoneczna",
    "Nadarzyńska",
    "Czajewicza",
    "Jana Kazimierza",
    "Wojska Polskiego",
    "Sierakowskiego",
    "Mickiewicza",
    "Armii Krajowej",
    "Tuwima",
    "Powstańców Warszawy",
    "Kusocińskiego",
    "Wschodnia",
    "Zachodnia",
    "Mazowiecka",
    "Kolejowa",
    "Staszica",
    "Pużaka",
    "Szpitalna",
    "Zgoda",
    "Wiosenna",
    "Jesienna",
    "Letnia",
    "Zimowa",
    "Różana",
    "Kwiatowa",
    "Lipowa",
    "Kasztanowa",
    "Dębowa",
    "Brzozowa",
    "Sosnowa",
    "Klonowa",
]
FIRST_NAMES = [
    ("Anna", "F"),
    ("Maria", "F"),
    ("Katarzyna", "F"),
    ("Małgorzata", "F"),
    ("Agnieszka", "F"),
    ("Barbara", "F"),
    ("Ewa", "F"),
    ("Zofia", "F"),
    ("Piotr", "M"),
    ("Krzysztof", "M"),
    ("Andrzej", "M"),
    ("Tomasz", "M"),
    ("Paweł", "M"),
    ("Jan", "M"),
    ("Michał", "M"),
    ("Marek", "M"),
]
SURNAMES = [
    ("Nowak", "Nowak"),
    ("Kowalski", "Kowalska"),
    ("Wiśniewski", "Wiśniewska"),
    ("Wójcik", "Wójcik"),
    ("Kowalczyk", "Kowalczyk"),
    ("Kamiński", "Kamińska"),
    ("Lewandowski", "Lewandowska"),
    ("Zieliński", "Zielińska"),
    ("Szymański", "Szymańska"),
    ("Woźniak", "Woźniak"),
    ("Dąbrowski", "Dąbrowska"),
]

# neighbours by direction from the gmina (angle in degrees, counter-clockwise from east)
NEIGHBOURS = [
    # (from, to, TERYT gmina, name, county TERYT, county name)
    (60, 125, "1465011", "Warszawa", "1465", "Warszawa"),
    (125, 205, "1418032", "Lesznowola", "1418", "powiat piaseczyński"),
    (205, 250, "1418063", "Tarczyn", "1418", "powiat piaseczyński"),
    (250, 295, "1418052", "Prażmów", "1418", "powiat piaseczyński"),
    (295, 335, "1418013", "Góra Kalwaria", "1418", "powiat piaseczyński"),
    (335, 420, "1418023", "Konstancin-Jeziorna", "1418", "powiat piaseczyński"),
]
GMINA_TERYT, GMINA_NAME = "1418043", "Piaseczno"
TOWN_UNIT, RURAL_UNIT = "141804_4", "141804_5"
NAMESPACE = "PL.PZGiK.1418.EGiB"
ADDRESS_NAMESPACE = "PL.PZGiK.994.EMUiA"
SHEET_PRECINCT = "Zawady"  # this precinct numbers its parcels per map sheet (AR_n)
VERSION_TIME = datetime(2026, 1, 15, 10, 0, 0)

# zoning plans: (name, cells (row, col), resolution no, date)
PLANS = [
    ("Centrum Piaseczna", [(8, 4), (8, 5)], "XII/245/2019", date(2019, 6, 12)),
    ("Piaseczno – rejon ulicy Puławskiej", [(7, 4), (7, 5), (6, 4)], "XXXI/712/2021", date(2021, 3, 24)),
    ("Józefosław i Julianów", [(9, 4), (9, 5), (8, 3)], "LII/1180/2022", date(2022, 11, 16)),
    ("Chylice – Chyliczki", [(8, 6), (7, 6)], "XLV/998/2014", date(2014, 4, 9)),
    ("Zalesie Górne", [(3, 4), (3, 5)], "VIII/150/2011", date(2011, 5, 25)),
    ("Głosków – Runów", [(4, 2), (5, 2)], "XXIII/502/2024", date(2024, 2, 28)),
]

TOWN_KINDS = ["MN", "MN", "MN", "MW", "U", "MNU", "P", "ZP"]  # block kinds in the town
RURAL_KINDS = ["R", "R", "R", "R", "RM", "MN", "Ł", "Ls", "Ps", "ZL"]
BLOCK_LANDUSE = {
    "MN": ("B",),
    "MW": ("B",),
    "U": ("Bi", "B"),
    "MNU": ("B", "Bi"),
    "P": ("Ba",),
    "ZP": ("Bz", "Lz"),
    "R": ("R",),
    "RM": ("Br", "R"),
    "Ł": ("Ł",),
    "Ls": ("Ls",),
    "Ps": ("Ps",),
    "ZL": ("Ls", "Lz"),
}
ZONING_TEXT = {
    "MN": "teren zabudowy mieszkaniowej jednorodzinnej",
    "MW": "teren zabudowy mieszkaniowej wielorodzinnej",
    "U": "teren zabudowy usługowej",
    "MNU": "teren zabudowy mieszkaniowej jednorodzinnej i usługowej",
    "P": "teren obiektów produkcyjnych, składów i magazynów",
    "ZP": "teren zieleni urządzonej",
    "R": "teren rolniczy",
    "RM": "teren zabudowy zagrodowej w gospodarstwach rolnych",
    "Ł": "teren łąk i pastwisk",
    "Ls": "teren lasu",
    "Ps": "teren łąk i pastwisk",
    "ZL": "teren lasu",
    "KD": "teren drogi publicznej",
}
ZONING_SYMBOL = {"MNU": "MN/U", "Ł": "RZ", "Ps": "RZ", "Ls": "ZL"}
SOIL_CLASSES = {
    "R": ["IIIa", "IIIb", "IVa", "IVb", "V", "VI"],
    "Ł": ["III", "IV", "V"],
    "Ps": ["IV", "V", "VI"],
    "Ls": ["IV", "V", "VI"],
    "Lz": ["V", "VI"],
    "N": ["VI"],
}


# --------------------------------------------------------------------------------- records
@dataclass
class Ring:
    xy: list[tuple[float, float]]  # closed ring (first == last), counter-clockwise, EPSG:2180 (E, N)


@dataclass
class AdminUnitRec:
    id: int
    teryt: str
    level: str
    name: str
    parent_id: int | None
    polygons: list  # shapely geometry (Polygon/MultiPolygon)


@dataclass
class UnitRec:
    id: int
    unit_id: str
    name: str
    polygons: object


@dataclass
class PrecinctRec:
    id: int
    unit_pk: int
    precinct_id: str
    number: str
    name: str
    ring: list


@dataclass
class ParcelRec:
    id: int
    precinct_pk: int
    parcel_id: str
    number: str
    sheet: int | None
    area_ha: str
    jrg: str
    group: int
    ring: list
    land_uses: list = field(default_factory=list)  # (ofu, ozu, ozk, area_ha str)


@dataclass
class BuildingRec:
    id: int
    building_id: str
    kst: str
    storeys_above: int
    storeys_below: int
    area_m2: str
    parcel_pk: int
    ring: list


@dataclass
class AddressRec:
    id: int
    local_id: str
    simc: str
    locality: str
    ulic: str
    street: str
    number: str
    postcode: str
    point: tuple[float, float]


@dataclass
class ContourRec:
    id: int
    contour_id: str
    ofu: str
    ring: list


@dataclass
class SoilRec:
    id: int
    contour_id: str
    ozu: str
    ozk: str
    ring: list


@dataclass
class ZoningAreaRec:
    id: int
    plan_pk: int
    label: str
    symbol: str
    description: str
    ring: list


@dataclass
class CellBatch:
    """Everything generated for one cell: streamed to the loader, then dropped."""

    precincts: list[PrecinctRec] = field(default_factory=list)
    parcels: list[ParcelRec] = field(default_factory=list)
    buildings: list[BuildingRec] = field(default_factory=list)
    addresses: list[AddressRec] = field(default_factory=list)
    contours: list[ContourRec] = field(default_factory=list)
    soils: list[SoilRec] = field(default_factory=list)
    zoning: list[ZoningAreaRec] = field(default_factory=list)
    kw: list[tuple[int, str]] = field(default_factory=list)  # (parcel pk, KW number)
    subjects: list[tuple] = field(default_factory=list)  # (id, local_id, first, surname, pesel, address)
    shares: list[tuple] = field(default_factory=list)  # (subject id, jrg)


# --------------------------------------------------------------------------------- grid
def _hash_unit(*key) -> float:
    h = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2**64


def vertex(i: int, j: int) -> tuple[float, float]:
    """Grid vertex (column i, row j), jittered by a fixed hash (independent of the seed)."""
    dx = (_hash_unit("x", i, j) - 0.5) * 2 * JITTER * CW
    dy = (_hash_unit("y", i, j) - 0.5) * 2 * JITTER * CH
    return X0 + i * CW + dx, Y0 + j * CH + dy


def cell_kind(r: int, c: int) -> str:
    if 0 <= r < len(MASK) and 0 <= c < len(MASK[0]):
        return MASK[len(MASK) - 1 - r][c]
    return "."


class Cell:
    def __init__(self, r: int, c: int):
        self.r, self.c = r, c
        self.A, self.B, self.C, self.D = (
            vertex(c, r),
            vertex(c + 1, r),
            vertex(c + 1, r + 1),
            vertex(c, r + 1),
        )

    def at(self, u: float, v: float) -> tuple[float, float]:
        a, b, c, d = self.A, self.B, self.C, self.D
        w00, w10, w11, w01 = (1 - u) * (1 - v), u * (1 - v), u * v, (1 - u) * v
        return (
            round(w00 * a[0] + w10 * b[0] + w11 * c[0] + w01 * d[0], 2),
            round(w00 * a[1] + w10 * b[1] + w11 * c[1] + w01 * d[1], 2),
        )

    def outline(self) -> list[tuple[float, float]]:
        return [self.A, self.B, self.C, self.D, self.A]

    @property
    def width(self) -> float:
        return (math.dist(self.A, self.B) + math.dist(self.D, self.C)) / 2

    @property
    def height(self) -> float:
        return (math.dist(self.A, self.D) + math.dist(self.B, self.C)) / 2


def gmina_centre() -> tuple[float, float]:
    cells = [(r, c) for r in range(len(MASK)) for c in range(len(MASK[0])) if cell_kind(r, c) != "."]
    return (
        X0 + (sum(c for _, c in cells) / len(cells) + 0.5) * CW,
        Y0 + (sum(r for r, _ in cells) / len(cells) + 0.5) * CH,
    )


def neighbour_of(r: int, c: int) -> tuple[str, str, str, str]:
    cx, cy = gmina_centre()
    x, y = X0 + (c + 0.5) * CW, Y0 + (r + 0.5) * CH
    ang = math.degrees(math.atan2(y - cy, x - cx)) % 360
    for lo, hi, teryt, name, county, county_name in NEIGHBOURS:
        if lo <= ang < hi or lo <= ang + 360 < hi:
            return teryt, name, county, county_name
    raise AssertionError(ang)


# --------------------------------------------------------------------------------- bands
@dataclass
class Band:
    v0: float
    v1: float
    road: bool
    cuts: list[float]  # sorted u values including 0 and 1
    split: set[int] = field(default_factory=set)  # cut indices that split a parcel into k/1, k/2
    kind: str = ""  # block kind (MN, R, ...)
    block: int = 0  # index of the block (group of bands between roads)


def _breaks(rng: random.Random, n: int, lo: float, hi: float, spread: float) -> list[float]:
    """n intervals between lo and hi with random widths (±spread), endpoints included."""
    w = [1 + spread * (2 * rng.random() - 1) for _ in range(n)]
    s = sum(w)
    out, acc = [lo], 0.0
    for x in w[:-1]:
        acc += x
        out.append(lo + (hi - lo) * acc / s)
    out.append(hi)
    return out


class CellLayout:
    """Bands and cuts of one gmina cell, sized for about `target` parcels."""

    def __init__(self, cell: Cell, town: bool, target: int, rng: random.Random):
        self.cell, self.town = cell, town
        W, H = cell.width, cell.height
        aspect = 1.6 if town else 7.0  # depth : width of a parcel
        road_m = 12.0 if town else 6.0
        rows_per_block = 2 if town else 1
        target = max(target, 4 if town else 1)
        # parcel depth d so that (W / (d/aspect)) * (H_eff / d) ~ target
        d = math.sqrt(W * H * aspect / target)
        for _ in range(3):
            nblocks = max(1, round(H / (rows_per_block * d + road_m)))
            h_eff = H - nblocks * road_m
            d = math.sqrt(max(W * h_eff * aspect / target, 1.0))
        nblocks = max(1, round(H / (rows_per_block * d + road_m)))
        if nblocks > 150:  # very dense: fewer roads, more rows per block
            rows_per_block = math.ceil(nblocks * rows_per_block / 150)
            nblocks = 150
        halves = [(0.0, 0.5), (0.5, 1.0)] if town else [(0.0, 1.0)]
        self.bands: list[Band] = []
        road_frac = road_m / H
        blocks_per_half = max(1, nblocks // len(halves))
        kinds = TOWN_KINDS if town else RURAL_KINDS
        block_no = 0
        for lo, hi in halves:
            # each block: [road, rows...]; band heights jittered
            span = hi - lo
            unit = span / blocks_per_half
            road_h = min(road_frac, unit * 0.3)
            v = lo
            for b in range(blocks_per_half):
                kind = rng.choice(kinds)
                v_end = (
                    hi
                    if b == blocks_per_half - 1
                    else lo + unit * (b + 1) * (1 + 0.25 * (rng.random() - 0.5) / blocks_per_half)
                )
                v_end = min(max(v_end, v + road_h * 2), hi)
                self.bands.append(
                    Band(
                        v,
                        v + road_h,
                        True,
                        [0.0, 0.5, 1.0] if town else [0.0, 1.0],
                        kind="KD",
                        block=block_no,
                    )
                )
                rows = _breaks(rng, rows_per_block, v + road_h, v_end, 0.25)
                for k in range(rows_per_block):
                    self.bands.append(Band(rows[k], rows[k + 1], False, [], kind=kind, block=block_no))
                v = v_end
                block_no += 1
        parcel_bands = [b for b in self.bands if not b.road]
        per_band = max(1, round(target / len(parcel_bands)))
        for band in parcel_bands:
            n = max(1, round(per_band * (1 + 0.3 * (rng.random() - 0.5))))
            if town:
                half = max(1, n // 2)
                cuts = _breaks(rng, half, 0.0, 0.5, 0.4)[:-1] + _breaks(
                    rng, n - half if n > half else 1, 0.5, 1.0, 0.4
                )
            else:
                cuts = _breaks(rng, n, 0.0, 1.0, 0.4)
            band.cuts = cuts
        self.vbreaks = sorted({b.v0 for b in self.bands} | {1.0})

    def parcel_count(self) -> int:
        return sum(len(b.cuts) - 1 for b in self.bands)

    def add_splits(self, rng: random.Random, fraction: float) -> None:
        """Split some parcels in two (numbers k/1 and k/2)."""
        for band in self.bands:
            if band.road:
                continue
            new_cuts = [band.cuts[0]]
            splits = set()
            for i in range(1, len(band.cuts)):
                a, b = band.cuts[i - 1], band.cuts[i]
                if rng.random() < fraction and (b - a) * self.cell.width > 8:
                    new_cuts.append((a + b) / 2)
                    splits.add(len(new_cuts) - 1)
                new_cuts.append(b)
            band.cuts, band.split = new_cuts, splits

    def removable_cuts(self) -> list[tuple[int, int]]:
        out = []
        for bi, band in enumerate(self.bands):
            for ci in range(1, len(band.cuts) - 1):
                if ci in band.split or (ci - 1) in band.split or (ci + 1) in band.split:
                    continue
                if self.town and band.cuts[ci] == 0.5:
                    continue
                out.append((bi, ci))
        return out

    def remove_cuts(self, which: list[tuple[int, int]]) -> None:
        by_band: dict[int, set[int]] = {}
        for bi, ci in which:
            by_band.setdefault(bi, set()).add(ci)
        for bi, cis in by_band.items():
            band = self.bands[bi]
            keep = [i for i in range(len(band.cuts)) if i not in cis]
            remap = {old: new for new, old in enumerate(keep)}
            band.split = {remap[s] for s in band.split if s in remap}
            band.cuts = [band.cuts[i] for i in keep]


# --------------------------------------------------------------------------------- rings
class RingBuilder:
    """Rings of parameter rectangles of one cell, with every neighbouring vertex on their edges."""

    def __init__(self, layout: CellLayout, ext: dict[str, list[float]]):
        self.layout = layout
        self.cell = layout.cell
        self.ext = ext  # bottom/top: u values; left/right: v values, from neighbouring cells
        self.by_v0 = {b.v0: b for b in layout.bands}
        self.by_v1 = {b.v1: b for b in layout.bands}
        self.vbreaks = layout.vbreaks

    def _hline(self, v: float) -> list[float]:
        s: set[float] = set()
        below, above = self.by_v1.get(v), self.by_v0.get(v)
        s.update(below.cuts if below else self.ext["bottom"] if v == 0.0 else [])
        s.update(above.cuts if above else self.ext["top"] if v == 1.0 else [])
        if v == 0.0:
            s.update(self.ext["bottom"])
        if v == 1.0:
            s.update(self.ext["top"])
        return sorted(s)

    def _vline(self, u: float) -> list[float]:
        if u == 0.0:
            return sorted(set(self.vbreaks) | set(self.ext["left"]))
        if u == 1.0:
            return sorted(set(self.vbreaks) | set(self.ext["right"]))
        return self.vbreaks

    @staticmethod
    def _between(values: list[float], lo: float, hi: float) -> list[float]:
        i, j = bisect.bisect_right(values, lo), bisect.bisect_left(values, hi)
        return values[i:j]

    def param_ring(self, u0: float, u1: float, v0: float, v1: float) -> list[tuple[float, float]]:
        pts = [(u0, v0)]
        pts += [(u, v0) for u in self._between(self._hline(v0), u0, u1)]
        pts.append((u1, v0))
        pts += [(u1, v) for v in self._between(self._vline(u1), v0, v1)]
        pts.append((u1, v1))
        pts += [(u, v1) for u in reversed(self._between(self._hline(v1), u0, u1))]
        pts.append((u0, v1))
        pts += [(u0, v) for v in reversed(self._between(self._vline(u0), v0, v1))]
        pts.append((u0, v0))
        return pts

    def ring(self, u0: float, u1: float, v0: float, v1: float) -> list[tuple[float, float]]:
        at = self.cell.at
        out: list[tuple[float, float]] = []
        for u, v in self.param_ring(u0, u1, v0, v1):
            p = at(u, v)
            if not out or out[-1] != p:
                out.append(p)
        return out


def ring_area(xy: list[tuple[float, float]]) -> float:
    s = 0.0
    for (x1, y1), (x2, y2) in zip(xy, xy[1:], strict=False):
        s += x1 * y2 - x2 * y1
    return abs(s) / 2


def centroid(xy: list[tuple[float, float]]) -> tuple[float, float]:
    pts = xy[:-1]
    return (round(sum(p[0] for p in pts) / len(pts), 2), round(sum(p[1] for p in pts) / len(pts), 2))


def _ha(area_m2: float) -> str:
    return f"{max(area_m2, 1.0) / 10000:.4f}"


def _local_id(kind: str, ident: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"gisportal:{kind}:{ident}"))


def simc_of(name: str) -> str:
    return f"{zlib.crc32(('SIMC' + name).encode()) % 9_000_000 + 1_000_000:07d}"


def ulic_of(name: str) -> str:
    return f"{zlib.crc32(('ULIC' + name).encode()) % 90_000 + 10_000:05d}"


def pesel_for(rng: random.Random, sex: str) -> str:
    y = rng.randint(1940, 2004)
    m, d = rng.randint(1, 12), rng.randint(1, 28)
    mm = m + (20 if y >= 2000 else 0)
    serial = rng.randint(0, 999)
    sexd = rng.choice([1, 3, 5, 7, 9] if sex == "M" else [0, 2, 4, 6, 8])
    digits = f"{y % 100:02d}{mm:02d}{d:02d}{serial:03d}{sexd}"
    w = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    check = (10 - sum(int(c) * k for c, k in zip(digits, w, strict=True)) % 10) % 10
    return digits + str(check)


# --------------------------------------------------------------------------------- generator
class Ids:
    def __init__(self):
        self.n: dict[str, int] = {}

    def next(self, kind: str) -> int:
        self.n[kind] = self.n.get(kind, 0) + 1
        return self.n[kind]


class DemoGenerator:
    """Generates the whole data set for `parcels` parcels and `seed`; iterate `cells()` for batches."""

    def __init__(self, parcels: int, seed: int = 1):
        if parcels < 1000:
            raise ValueError("at least 1000 parcels (every precinct needs roads and blocks)")
        self.target, self.seed = parcels, seed
        self.ids = Ids()
        self.gmina_cells = [
            (r, c) for r in range(len(MASK)) for c in range(len(MASK[0])) if cell_kind(r, c) != "."
        ]
        self.town_cells = [rc for rc in self.gmina_cells if cell_kind(*rc) == "T"]
        self.rural_cells = [rc for rc in self.gmina_cells if cell_kind(*rc) == "R"]
        self._plan_of_cell = {rc: i for i, (_, cells, _, _) in enumerate(PLANS) for rc in cells}
        self._plan_area_no: dict[int, int] = {}
        self._street_no: dict[str, int] = {}
        self._locality_no: dict[str, int] = {}
        self._layouts = self._plan_layouts()

    # ---- layouts: sized per cell, then trimmed so that the total is exactly `parcels`
    def _plan_layouts(self) -> dict[tuple[int, int], CellLayout]:
        town_weight = 4.0
        weights = {rc: (town_weight if rc in self.town_cells else 1.0) for rc in self.gmina_cells}
        total_w = sum(weights.values())
        layouts: dict[tuple[int, int], CellLayout] = {}
        for rc in sorted(self.gmina_cells):
            rng = random.Random(f"layout:{self.seed}:{rc}")
            want = self.target * weights[rc] / total_w
            lay = CellLayout(Cell(*rc), rc in self.town_cells, max(1, round(want * 1.08 / 1.12)), rng)
            lay.add_splits(rng, 0.12)
            # make sure every cell overshoots a little so trimming can reach the exact total
            layouts[rc] = lay
        total = sum(lay.parcel_count() for lay in layouts.values())
        rng = random.Random(f"trim:{self.seed}")
        if total < self.target:
            # not enough: densify the largest rural bands by splitting further
            deficit = self.target - total
            cands = [(rc, bi) for rc, lay in layouts.items() for bi, b in enumerate(lay.bands) if not b.road]
            while deficit > 0:
                rc, bi = cands[rng.randrange(len(cands))]
                band = layouts[rc].bands[bi]
                widths = [(band.cuts[i + 1] - band.cuts[i], i) for i in range(len(band.cuts) - 1)]
                w, i = max(widths)
                if w * layouts[rc].cell.width < 3:
                    continue
                band.cuts.insert(i + 1, (band.cuts[i] + band.cuts[i + 1]) / 2)
                band.split = {s + 1 if s > i else s for s in band.split}
                deficit -= 1
        elif total > self.target:
            excess = total - self.target
            cands = [(rc, bi, ci) for rc, lay in sorted(layouts.items()) for bi, ci in lay.removable_cuts()]
            if len(cands) < excess:
                raise ValueError("cannot reach the requested number of parcels")
            chosen = rng.sample(cands, excess)
            per_cell: dict = {}
            for rc, bi, ci in chosen:
                per_cell.setdefault(rc, []).append((bi, ci))
            for rc, which in per_cell.items():
                layouts[rc].remove_cuts(which)
        assert sum(lay.parcel_count() for lay in layouts.values()) == self.target
        return layouts

    def _ext(self, rc: tuple[int, int]) -> dict[str, list[float]]:
        r, c = rc
        ext = {"bottom": [], "top": [], "left": [], "right": []}
        below, above, left, right = (r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)
        if below in self._layouts:
            ext["bottom"] = self._layouts[below].bands[-1].cuts
        if above in self._layouts:
            ext["top"] = self._layouts[above].bands[0].cuts
        if left in self._layouts:
            ext["left"] = self._layouts[left].vbreaks
        if right in self._layouts:
            ext["right"] = self._layouts[right].vbreaks
        return ext

    def _cell_vertices_on_edges(self, rc) -> dict[str, list[float]]:
        lay = self._layouts[rc]
        ext = self._ext(rc)
        return {
            "bottom": sorted(set(lay.bands[0].cuts) | set(ext["bottom"])),
            "top": sorted(set(lay.bands[-1].cuts) | set(ext["top"])),
            "left": sorted(set(lay.vbreaks) | set(ext["left"])),
            "right": sorted(set(lay.vbreaks) | set(ext["right"])),
        }

    def cell_outline(self, rc) -> list[tuple[float, float]]:
        """The cell's outline with every vertex its parcels and neighbours put on its edges."""
        if rc in self._layouts:
            return RingBuilder(self._layouts[rc], self._ext(rc)).ring(0.0, 1.0, 0.0, 1.0)
        # cells outside the gmina: add the vertices of adjacent gmina cells on shared edges
        r, c = rc
        cell = Cell(r, c)
        e = {"bottom": [], "top": [], "left": [], "right": []}
        if (r - 1, c) in self._layouts:
            e["bottom"] = self._cell_vertices_on_edges((r - 1, c))["top"]
        if (r + 1, c) in self._layouts:
            e["top"] = self._cell_vertices_on_edges((r + 1, c))["bottom"]
        if (r, c - 1) in self._layouts:
            e["left"] = self._cell_vertices_on_edges((r, c - 1))["right"]
        if (r, c + 1) in self._layouts:
            e["right"] = self._cell_vertices_on_edges((r, c + 1))["left"]
        pts = [(0.0, 0.0)] + [(u, 0.0) for u in e["bottom"] if 0 < u < 1] + [(1.0, 0.0)]
        pts += [(1.0, v) for v in e["right"] if 0 < v < 1] + [(1.0, 1.0)]
        pts += [(u, 1.0) for u in reversed(e["top"]) if 0 < u < 1] + [(0.0, 1.0)]
        pts += [(0.0, v) for v in reversed(e["left"]) if 0 < v < 1] + [(0.0, 0.0)]
        return [cell.at(u, v) for u, v in pts]

    # ---- administrative units
    def admin_units(self) -> tuple[list[AdminUnitRec], list[UnitRec]]:
        from shapely.geometry import Polygon
        from shapely.ops import unary_union

        rows = range(-EXT, len(MASK) + EXT)
        cols = range(-EXT, len(MASK[0]) + EXT)
        groups: dict[str, list] = {}
        names: dict[str, tuple[str, str, str]] = {}
        for r in rows:
            for c in cols:
                poly = Polygon(self.cell_outline((r, c)))
                if cell_kind(r, c) != ".":
                    groups.setdefault(GMINA_TERYT, []).append(poly)
                    groups.setdefault("town" if cell_kind(r, c) == "T" else "rural", []).append(poly)
                else:
                    teryt, name, county, county_name = neighbour_of(r, c)
                    groups.setdefault(teryt, []).append(poly)
                    names[teryt] = (name, county, county_name)
        out: list[AdminUnitRec] = []
        all_polys = [p for k, v in groups.items() if k not in ("town", "rural") for p in v]
        voiv = AdminUnitRec(
            self.ids.next("admin"), "14", "voivodeship", "mazowieckie", None, unary_union(all_polys)
        )
        out.append(voiv)
        county_polys: dict[str, list] = {"1418": list(groups[GMINA_TERYT])}
        county_names = {"1418": "powiat piaseczyński"}
        for teryt, (_name, county, county_name) in names.items():
            county_polys.setdefault(county, []).extend(groups[teryt])
            county_names[county] = county_name
        county_ids = {}
        for county in sorted(county_polys):
            rec = AdminUnitRec(
                self.ids.next("admin"),
                county,
                "county",
                county_names[county],
                voiv.id,
                unary_union(county_polys[county]),
            )
            county_ids[county] = rec.id
            out.append(rec)
        out.append(
            AdminUnitRec(
                self.ids.next("admin"),
                GMINA_TERYT,
                "gmina",
                GMINA_NAME,
                county_ids["1418"],
                unary_union(groups[GMINA_TERYT]),
            )
        )
        for teryt in sorted(names):
            name, county, _ = names[teryt]
            out.append(
                AdminUnitRec(
                    self.ids.next("admin"),
                    teryt,
                    "gmina",
                    name,
                    county_ids[county],
                    unary_union(groups[teryt]),
                )
            )
        units = [
            UnitRec(self.ids.next("unit"), TOWN_UNIT, "Piaseczno – miasto", unary_union(groups["town"])),
            UnitRec(
                self.ids.next("unit"), RURAL_UNIT, "Piaseczno – obszar wiejski", unary_union(groups["rural"])
            ),
        ]
        return out, units

    def plans(self) -> list[tuple[int, str, str, str, date, object]]:
        from shapely.geometry import Polygon
        from shapely.ops import unary_union

        out = []
        for i, (name, cells, res, day) in enumerate(PLANS):
            geom = unary_union([Polygon(self.cell_outline(rc)) for rc in cells])
            out.append(
                (
                    i + 1,
                    f"MPZP-{GMINA_TERYT}-{i + 1:03d}",
                    f"Miejscowy plan zagospodarowania przestrzennego: {name}",
                    res,
                    day,
                    geom,
                )
            )
        return out

    # ---- the cells
    def cells(self, unit_pks: dict[str, int]) -> Iterator[CellBatch]:
        town_no = 0
        rural_no = 0
        for rc in sorted(self.gmina_cells, key=lambda rc: (-rc[0], rc[1])):
            lay = self._layouts[rc]
            rng = random.Random(f"cell:{self.seed}:{rc}")
            rb = RingBuilder(lay, self._ext(rc))
            batch = CellBatch()
            if lay.town:
                regions = []
                for v0, v1 in ((0.5, 1.0), (0.0, 0.5)):
                    for u0, u1 in ((0.0, 0.5), (0.5, 1.0)):
                        town_no += 1
                        regions.append(
                            (u0, u1, v0, v1, TOWN_UNIT, f"{town_no:04d}", f"Piaseczno {town_no:02d}")
                        )
            else:
                rural_no += 1
                regions = [(0.0, 1.0, 0.0, 1.0, RURAL_UNIT, f"{rural_no:04d}", RURAL_NAMES[rural_no - 1])]
            for u0, u1, v0, v1, unit, number, name in regions:
                prec = PrecinctRec(
                    self.ids.next("precinct"),
                    unit_pks[unit],
                    f"{unit}.{number}",
                    number,
                    name,
                    rb.ring(u0, u1, v0, v1),
                )
                batch.precincts.append(prec)
                self._parcels_of_region(batch, rb, lay, prec, (u0, u1, v0, v1), rng, town=lay.town)
            if rc in self._plan_of_cell:
                self._zoning_of_cell(batch, rb, lay, self._plan_of_cell[rc] + 1)
            yield batch

    def _parcels_of_region(
        self, batch: CellBatch, rb: RingBuilder, lay: CellLayout, prec: PrecinctRec, region, rng, town: bool
    ):
        u0r, u1r, v0r, v1r = region
        sheets = prec.name == SHEET_PRECINCT
        k = 0
        sheet = 1
        bands = [b for b in lay.bands if b.v0 >= v0r and b.v1 <= v1r]
        blocks_per_sheet = max(1, len({b.block for b in bands}) // 4)
        first_block = bands[0].block if bands else 0
        uc, kc, jrg_no = 0, 0, 0
        for band in bands:
            if sheets:
                s = (band.block - first_block) // blocks_per_sheet + 1
                if s != sheet:
                    sheet, k = s, 0
            cuts = [u for u in band.cuts if u0r <= u <= u1r]
            if band.road:
                cuts = [u0r, u1r]
            index = {u: i for i, u in enumerate(band.cuts)}
            for i in range(len(cuts) - 1):
                a, b = cuts[i], cuts[i + 1]
                first_half = not band.road and index[b] in band.split
                second_half = not band.road and index[a] in band.split
                if not second_half:
                    k += 1
                number = f"{k}/1" if first_half else f"{k}/2" if second_half else str(k)
                sheet_part = f"AR_{sheet}." if sheets else ""
                pid = f"{prec.precinct_id}.{sheet_part}{number}"
                ring = rb.ring(a, b, band.v0, band.v1)
                area = ring_area(ring)
                area_ha = _ha(area)
                if not second_half:  # both halves of a split parcel stay in one JRG with one group
                    group = 4 if band.road else (7 if rng.random() < 0.85 else rng.choice([1, 2, 10, 11]))
                if not second_half:
                    jrg_no += 1
                jrg = f"{prec.precinct_id}.G{jrg_no}"
                parcel = ParcelRec(
                    self.ids.next("parcel"),
                    prec.id,
                    pid,
                    number,
                    sheet if sheets else None,
                    area_ha,
                    jrg,
                    group,
                    ring,
                )
                batch.parcels.append(parcel)
                # land use: one class, or two along u for some rural parcels
                uses = BLOCK_LANDUSE.get(band.kind, ("dr",)) if not band.road else ("dr",)
                if len(uses) > 1 and rng.random() < 0.5:
                    t = a + (b - a) * (0.35 + 0.3 * rng.random())
                    parts = [
                        (uses[0], rb.ring(a, t, band.v0, band.v1)),
                        (uses[1], rb.ring(t, b, band.v0, band.v1)),
                    ]
                else:
                    parts = [(uses[0], ring)]
                total = int(area_ha.replace(".", ""))
                acc = 0
                for pi, (ofu, pring) in enumerate(parts):
                    if pi == len(parts) - 1:
                        part = total - acc
                    else:
                        part = max(1, min(total - 1, round(ring_area(pring) / 1.0)))
                        acc += part
                    ozu = ofu if ofu in SOIL_CLASSES else ""
                    ozk = rng.choice(SOIL_CLASSES[ofu]) if ozu else ""
                    parcel.land_uses.append((ofu, ozu, ozk, f"{part / 10000:.4f}"))
                    uc += 1
                    batch.contours.append(
                        ContourRec(self.ids.next("contour"), f"{prec.precinct_id}.UG.{uc}", ofu, pring)
                    )
                    if ozu:
                        kc += 1
                        batch.soils.append(
                            SoilRec(self.ids.next("soil"), f"{prec.precinct_id}.KL.{kc}", ozu, ozk, pring)
                        )
                if not band.road:
                    self._buildings(batch, rb, parcel, band, (a, b), rng, town, prec)
                    if rng.random() < 0.6:
                        court = "WA1I"
                        no = f"{parcel.id:08d}"
                        batch.kw.append((parcel.id, f"{court}/{no}/{kw_check_digit(court, no)}"))
                    if not second_half:  # one owner per JRG
                        self._owner(batch, parcel, rng)

    def _owner(self, batch: CellBatch, parcel: ParcelRec, rng) -> None:
        first, sex = rng.choice(FIRST_NAMES)
        surname = rng.choice(SURNAMES)[0 if sex == "M" else 1]
        sid = self.ids.next("subject")
        batch.subjects.append(
            (sid, _local_id("subject", str(sid)), first, surname, pesel_for(rng, sex), "05-500 Piaseczno")
        )
        batch.shares.append((sid, parcel.jrg))

    def _buildings(
        self,
        batch: CellBatch,
        rb: RingBuilder,
        parcel: ParcelRec,
        band: Band,
        ab,
        rng,
        town: bool,
        prec: PrecinctRec,
    ):
        a, b = ab
        kind = band.kind
        if kind in ("R", "Ł", "Ls", "Ps", "ZL", "ZP"):
            return
        chance = 0.75 if town else 0.85
        if rng.random() > chance:
            return
        cell = rb.cell
        width_m = (b - a) * cell.width
        depth_m = (band.v1 - band.v0) * cell.height
        if width_m < 6 or depth_m < 8:
            return
        n_b = 2 if (rng.random() < 0.1 and depth_m > 30) else 1
        for n in range(1, n_b + 1):
            du = b - a
            dv = band.v1 - band.v0
            bw = min(0.6, max(0.3, 14 / max(width_m, 1))) * du
            bd = min(0.35, 12 / depth_m) * dv
            ua = a + (du - bw) / 2
            va = band.v0 + dv * (0.1 if n == 1 else 0.55)
            bu0, bu1, bv0, bv1 = ua, ua + bw, va, va + bd
            at = cell.at
            ring = [at(bu0, bv0), at(bu1, bv0), at(bu1, bv1), at(bu0, bv1), at(bu0, bv0)]
            area = ring_area(ring)
            if area < 4:
                continue
            kst = {"MW": "m", "U": "h", "P": "p", "MNU": rng.choice("mh"), "RM": rng.choice("mg")}.get(
                kind, "m"
            )
            if n == 2:
                kst = "g" if kind == "RM" else "i"
            storeys = {"MW": rng.randint(4, 6), "U": rng.randint(1, 3), "P": rng.randint(1, 2)}.get(
                kind, rng.randint(1, 2)
            )
            bid = f"{parcel.parcel_id}.{n}_BUD"
            brec = BuildingRec(
                self.ids.next("building"),
                bid,
                kst,
                storeys,
                rng.choice([0, 0, 1]),
                f"{area:.2f}",
                parcel.id,
                ring,
            )
            batch.buildings.append(brec)
            if n == 1 and kst in "mhbp":
                self._address(batch, brec, parcel, band, town, prec)

    def _address(
        self,
        batch: CellBatch,
        brec: BuildingRec,
        parcel: ParcelRec,
        band: Band,
        town: bool,
        prec: PrecinctRec,
    ):
        if town:
            street = STREETS[(hash_int(f"{prec.precinct_id}:{band.block}")) % len(STREETS)]
            self._street_no[street] = self._street_no.get(street, 0) + 1
            number = str(self._street_no[street])
            locality, simc, ulic, postcode = "Piaseczno", simc_of("Piaseczno"), ulic_of(street), "05-500"
        else:
            locality = (
                prec.name.split(" ")[0]
                if prec.name.startswith(("Józefosław", "Wólka Pracka PGR"))
                else prec.name
            )
            self._locality_no[locality] = self._locality_no.get(locality, 0) + 1
            number = str(self._locality_no[locality])
            street, simc, ulic = "", simc_of(locality), ""
            postcode = f"05-50{1 + int(prec.number) % 9}"
        point = centroid(brec.ring)
        batch.addresses.append(
            AddressRec(
                self.ids.next("address"),
                _local_id("address", brec.building_id),
                simc,
                locality,
                ulic,
                street,
                number,
                postcode,
                point,
            )
        )

    def _zoning_of_cell(self, batch: CellBatch, rb: RingBuilder, lay: CellLayout, plan_pk: int):
        blocks: dict[int, list[Band]] = {}
        for band in lay.bands:
            blocks.setdefault(band.block, []).append(band)
        for _bno, bands in sorted(blocks.items()):
            road = [b for b in bands if b.road]
            rows = [b for b in bands if not b.road]
            for group in ([road] if road else []) + ([rows] if rows else []):
                kind = group[0].kind
                self._plan_area_no[plan_pk] = self._plan_area_no.get(plan_pk, 0) + 1
                n = self._plan_area_no[plan_pk]
                symbol = "KD" if kind == "KD" else ZONING_SYMBOL.get(kind, kind)
                label = f"{n}{'KDD' if kind == 'KD' else symbol.replace('/', '')}"
                ring = rb.ring(0.0, 1.0, group[0].v0, group[-1].v1)
                batch.zoning.append(
                    ZoningAreaRec(self.ids.next("zoning"), plan_pk, label, symbol, ZONING_TEXT[kind], ring)
                )


def hash_int(key: str) -> int:
    return zlib.crc32(key.encode())


VERSION_START = VERSION_TIME
VERSION_ID = VERSION_TIME.strftime("%Y-%m-%dT%H:%M:%S")
START_OBJECT = VERSION_TIME - timedelta(days=3650)
