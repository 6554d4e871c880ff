"""Streaming export of the registry database to EGiB GML 2021 (`ewidencjaGruntowIBudynkow:1.0`, GML 3.2).

**The file contains personal data** (owners with PESEL, their shares, KW numbers): it is a full
registry exchange, for authorised recipients only (DOMAIN.md §11). Never publish it, never serve it
from a public endpoint, delete working copies when the exchange is done.

The format, which `layers.importing.egib` reads back to the same registry content:
- one `gml:featureMember` per feature in `gml:FeatureCollection gml:id="gisportal-export"`, in the
  order units, precincts, JRG, parcels, buildings, land-use contours, soil contours, addresses,
  subjects, shares;
- `gml:id` = `<przestrzenNazw>_<lokalnyId>_<wersjaId with ':' → '-'>`, and `xlink:href` is that id
  (no '#'); geometry ids add `.g` (`.g1`, `.g2`... for the members of a MultiSurface);
- datetimes are Europe/Warsaw wall-clock time without offset (`YYYY-MM-DDTHH:MM:SS`, the hour
  repeated when clocks go back is ambiguous); NULL start dates are left out;
- coordinates northing first (authority order of EPSG:2176–2180), 2 decimals, srsName
  `urn:ogc:def:crs:EPSG::<srid>` on every Polygon, MultiSurface and Point.

JRG and shares are not rows of ours: a JRG (EGB_JednostkaRejestrowaGruntow) is synthesised per
registration unit and przestrzenNazw of the exported parcels (lokalnyId uuid5 of `jrg:<unit>`), with
the registration group of its first parcel (current first, then by idDzialki); a share gets the
lokalnyId uuid5 of `share:<id>`. Both carry wersjaId, startObiekt and startWersjaObiekt
2026-01-01T00:00:00 (the XSD requires the dates; we have none).

Lost on the way out, as EGiB has no element for them: the postal code, TERC and status of address
points; a subject's address and REGON and the wording of a share's right; a registration group
that differs between parcels of one registration unit. Only natural persons are exported as
subjects (EGB_OsobaFizyczna); other subjects and the shares that point to something not exported
are skipped and counted. The boundary points (`punktGranicy*`, mandatory in the XSD) are not
modelled, so the document as a whole does not validate against EGIB_2021_v1.10.xsd.

With an `area` (a work area, EPSG:2180, buffered by the caller) the file holds a closed part of the
registry, selected in SQL with the spatial indexes:
- parcels, buildings, land-use and soil-class contours and address points whose geometry intersects
  the area, and also the parcels the included buildings stand on (`dzialkaZabudowana`: a re-import
  replaces a building's parcel links with those in the file, so none is left out);
- precincts that intersect the area or hold an included parcel, cadastral units that intersect the
  area or hold an included precinct;
- the JRG of the included parcels; with personal data, their KW numbers, the shares in those
  registration units and the natural persons holding them (a person's shares elsewhere are not
  written); land uses (klasouzytki) of the included parcels.
Every xlink of such a file resolves inside it.
"""

from __future__ import annotations

import os
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import IO, Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from django.contrib.gis.db.models.functions import AsWKB
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _
from lxml import etree
from pyproj import Transformer

from gisportal.core.crs import STORAGE_SRID, north_first
from gisportal.core.errors import InvalidInput

from ..models import (
    AddressPoint,
    Building,
    CadastralUnit,
    LandUseContour,
    Parcel,
    ParcelLandUse,
    Precinct,
    RestrictedLandRegisterEntry,
    RestrictedShare,
    RestrictedSubject,
    SoilClassContour,
)

GML = "http://www.opengis.net/gml/3.2"
EGB = "ewidencjaGruntowIBudynkow:1.0"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"gml": GML, "egb": EGB, "xlink": XLINK, "xsi": XSI}
SCHEMA_LOCATION = f"{GML} http://schemas.opengis.net/gml/3.2.1/gml.xsd {EGB} EGIB_2021_v1.10.xsd"
COLLECTION_ID = "gisportal-export"

SRIDS = (2180, 2176, 2177, 2178, 2179)  # storage (PL-1992) and the four PL-2000 zones
SYNTHETIC_VERSION = "2026-01-01T00:00:00"
DEFAULT_REGISTRATION_GROUP = 7
CHUNK = 2000
PROGRESS_EVERY = 100_000
WARSAW = ZoneInfo("Europe/Warsaw")
SYNTHETIC_START = datetime(2026, 1, 1, tzinfo=WARSAW)  # written as SYNTHETIC_VERSION

# feature types in the order they are written
UNIT, PRECINCT, JRG = "EGB_JednostkaEwidencyjna", "EGB_ObrebEwidencyjny", "EGB_JednostkaRejestrowaGruntow"
PARCEL, BUILDING = "EGB_DzialkaEwidencyjna", "EGB_Budynek"
LAND_USE, SOIL = "EGB_KonturUzytkuGruntowego", "EGB_KonturKlasyfikacyjny"
ADDRESS, PERSON, SHARE = "EGB_AdresNieruchomosci", "EGB_OsobaFizyczna", "EGB_UdzialWeWlasnosci"
POSSESSION = "EGB_UdzialWeWladaniu"
FEATURE_TYPES = (UNIT, PRECINCT, JRG, PARCEL, BUILDING, LAND_USE, SOIL, ADDRESS, PERSON, SHARE, POSSESSION)

IIP_FIELDS = (
    "local_id",
    "namespace",
    "version_id",
    "start_object",
    "start_version",
    "end_version",
    "end_object",
)

_GML_ID = f"{{{GML}}}id"
_HREF = f"{{{XLINK}}}href"
_NOT_NCNAME = re.compile(r"[^A-Za-z0-9._-]")

T = TypeVar("T")
Progress = Callable[[str], None]


def gml_id(namespace: str, local_id: str, version_id: str) -> str:
    """`<przestrzenNazw>_<lokalnyId>_<wersjaId, ':' → '-'>`, made an NCName if it is not one."""
    value = _NOT_NCNAME.sub("-", f"{namespace}_{local_id}_{(version_id or '').replace(':', '-')}")
    return value if value[0].isalpha() or value[0] == "_" else f"id-{value}"


def jrg_local_id(registration_unit: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"jrg:{registration_unit}"))


def share_local_id(share_id: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"share:{share_id}"))


def plec_from_pesel(pesel: str) -> str:
    """EGB_PlecType: 1 man (odd 10th digit), 2 woman (even); 1 when there is no PESEL."""
    if len(pesel) == 11 and pesel.isdigit():
        return "1" if int(pesel[9]) % 2 else "2"
    return "1"


@lru_cache(maxsize=4096)
def local_time(value: datetime) -> str:
    return value.astimezone(WARSAW).strftime("%Y-%m-%dT%H:%M:%S")


def validate_srid(srid: int) -> None:
    if srid not in SRIDS:
        raise InvalidInput(
            _("Unsupported SRID %(srid)s: use one of %(allowed)s.")
            % {"srid": srid, "allowed": ", ".join(str(s) for s in SRIDS)},
            code="unsupported_srid",
            field="srid",
        )


def validate_area(area: object) -> GEOSGeometry | None:
    """The work area as a valid, non-empty geometry in the storage CRS (a missing SRID is taken as
    EPSG:2180, another one is transformed); None stays None (the whole registry)."""
    if area is None:
        return None
    if not isinstance(area, GEOSGeometry) or area.empty or not area.valid:
        raise InvalidInput(
            _("The work area must be a valid, non-empty geometry."), code="invalid_area", field="area"
        )
    if area.srid is None:
        area = area.clone()
        area.srid = STORAGE_SRID
    elif area.srid != STORAGE_SRID:
        area = area.transform(STORAGE_SRID, clone=True)
    return area


def _chunks(rows: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def _grouped(pairs: Iterable[tuple[Any, ...]]) -> dict[Any, list[Any]]:
    """{key: [value, ...]} of (key, value...) rows, order kept."""
    out: dict[Any, list[Any]] = defaultdict(list)
    for key, *rest in pairs:
        out[key].append(rest[0] if len(rest) == 1 else tuple(rest))
    return out


def _synthetic_iip(local_id: str, namespace: str) -> dict[str, Any]:
    """IIP of a feature that is not a row of ours (JRG, share); the start dates the XSD requires."""
    return {
        "local_id": local_id,
        "namespace": namespace,
        "version_id": SYNTHETIC_VERSION,
        "start_object": SYNTHETIC_START,
        "start_version": SYNTHETIC_START,
    }


def _decimal(value: Decimal | float | int, places: int) -> str:
    return f"{value:.{places}f}"


class _GmlWriter:
    """Writes features into an open `etree.xmlfile` one element at a time (nothing is kept)."""

    def __init__(self, xf, srid: int, progress: Progress | None):
        self.xf = xf
        self.srs_name = f"urn:ogc:def:crs:EPSG::{srid}"
        self.north_first = north_first(srid)
        self.transformer = (
            None if srid == STORAGE_SRID else Transformer.from_crs(STORAGE_SRID, srid, always_xy=True)
        )
        self.progress = progress
        self.counts: dict[str, int] = dict.fromkeys(FEATURE_TYPES, 0)

    # ---- elements ------------------------------------------------------------------------
    def leaf(self, name: str, text: object, attrib: dict[str, str] | None = None) -> None:
        with self.xf.element(f"{{{EGB}}}{name}", attrib):
            self.xf.write(str(text))

    def href(self, name: str, target: str | None) -> None:
        """An xlink property; an empty element when the target is unknown."""
        with self.xf.element(f"{{{EGB}}}{name}", {_HREF: target} if target else None):
            pass

    @contextmanager
    def feature(self, type_name: str, iip: dict[str, Any]) -> Iterator[str]:
        fid = gml_id(iip["namespace"], iip["local_id"], iip["version_id"])
        xf = self.xf
        with xf.element(f"{{{GML}}}featureMember"), xf.element(f"{{{EGB}}}{type_name}", {_GML_ID: fid}):
            with xf.element(f"{{{EGB}}}idIIP"), xf.element(f"{{{EGB}}}EGB_IdentyfikatorIIP"):
                self.leaf("lokalnyId", iip["local_id"])
                self.leaf("przestrzenNazw", iip["namespace"])
                if iip["version_id"]:
                    self.leaf("wersjaId", iip["version_id"])
            for field, name in (
                ("start_object", "startObiekt"),
                ("start_version", "startWersjaObiekt"),
                ("end_version", "koniecWersjaObiekt"),
                ("end_object", "koniecObiekt"),
            ):
                if iip.get(field) is not None:
                    self.leaf(name, local_time(iip[field]))
            yield fid
        xf.write("\n")
        n = self.counts[type_name] = self.counts[type_name] + 1
        if self.progress and n % PROGRESS_EVERY == 0:
            self.progress(_("%(feature)s: %(count)d written so far") % {"feature": type_name, "count": n})

    # ---- geometry ------------------------------------------------------------------------
    def _pos_text(self, coords: np.ndarray) -> str:
        x, y = coords[:, 0], coords[:, 1]
        if self.transformer is not None:
            x, y = self.transformer.transform(x, y)
        first, second = (y, x) if self.north_first else (x, y)
        return " ".join(
            f"{a:.2f} {b:.2f}"
            for a, b in zip(np.asarray(first).tolist(), np.asarray(second).tolist(), strict=True)
        )

    def _ring(self, boundary: str, ring) -> None:
        xf = self.xf
        with xf.element(f"{{{GML}}}{boundary}"), xf.element(f"{{{GML}}}LinearRing"):
            with xf.element(f"{{{GML}}}posList", {"srsDimension": "2"}):
                xf.write(self._pos_text(shapely.get_coordinates(ring)))

    def _polygon(self, polygon, pid: str) -> None:
        with self.xf.element(f"{{{GML}}}Polygon", {_GML_ID: pid, "srsName": self.srs_name}):
            self._ring("exterior", polygon.exterior)
            for hole in polygon.interiors:
                self._ring("interior", hole)

    def surface(self, wkb: bytes | memoryview | None, fid: str, *, multi: bool) -> None:
        """`egb:geometria` of a (multi)polygon: gml:MultiSurface when `multi` or when it has several
        parts, else gml:Polygon. Nothing when the geometry is NULL."""
        if wkb is None:
            return
        geom = shapely.from_wkb(bytes(wkb))
        polygons = list(geom.geoms) if hasattr(geom, "geoms") else ([] if geom.is_empty else [geom])
        xf = self.xf
        with xf.element(f"{{{EGB}}}geometria"):
            if not multi and len(polygons) == 1:
                self._polygon(polygons[0], f"{fid}.g")
                return
            with xf.element(f"{{{GML}}}MultiSurface", {_GML_ID: f"{fid}.g", "srsName": self.srs_name}):
                for i, polygon in enumerate(polygons, 1):
                    with xf.element(f"{{{GML}}}surfaceMember"):
                        self._polygon(polygon, f"{fid}.g{i}")

    def point(self, wkb: bytes | memoryview | None, fid: str) -> None:
        if wkb is None:
            return
        geom = shapely.from_wkb(bytes(wkb))
        if geom.is_empty:
            return
        xf = self.xf
        with (
            xf.element(f"{{{EGB}}}geometria"),
            xf.element(f"{{{GML}}}Point", {_GML_ID: f"{fid}.g", "srsName": self.srs_name}),
        ):
            with xf.element(f"{{{GML}}}pos"):
                xf.write(self._pos_text(shapely.get_coordinates(geom)))


class _Exporter:
    def __init__(
        self,
        writer: _GmlWriter,
        only_current: bool,
        personal_data: bool = True,
        area: GEOSGeometry | None = None,
    ):
        self.w = writer
        self.only_current = only_current
        self.personal_data = personal_data
        self.area = area
        self.precincts: dict[str, str] = {}  # precinct_id → gml:id (a few hundred at most)
        self.skipped: dict[str, int] = {}

    def rows(self, model) -> QuerySet:
        qs = model.objects.all()
        return qs.filter(end_object__isnull=True) if self.only_current else qs

    # ---- the work area: every selection is SQL (GiST on geom), nothing is looped over in Python ------
    def in_area(self, model) -> QuerySet:
        """Rows of a model with a geometry, limited to those intersecting the area (if any)."""
        qs = self.rows(model)
        return qs if self.area is None else qs.filter(geom__intersects=self.area)

    # parcels intersecting the area and those an intersecting building stands on
    AREA_PARCELS_SQL = """
        SELECT p.id FROM layers_parcel p
        WHERE ST_Intersects(p.geom, ST_GeomFromEWKB(%s)) {p_current}
        UNION
        SELECT bp.parcel_id FROM layers_building_parcels bp
        JOIN layers_building b ON b.id = bp.building_id
        JOIN layers_parcel p ON p.id = bp.parcel_id
        WHERE ST_Intersects(b.geom, ST_GeomFromEWKB(%s)) {b_current}
    """

    def area_parcels_sql(self) -> tuple[str, tuple[bytes, bytes]]:
        current = " AND {t}.end_object IS NULL" if self.only_current else ""
        sql = self.AREA_PARCELS_SQL.format(
            p_current=current.format(t="p"),
            b_current=(current.format(t="b") + current.format(t="p")),
        )
        ewkb = bytes(self.area.ewkb)
        return sql, (ewkb, ewkb)

    def parcel_rows(self) -> QuerySet:
        qs = self.rows(Parcel)
        if self.area is None:
            return qs
        # constant SQL, the area a bound parameter
        return qs.filter(id__in=RawSQL(*self.area_parcels_sql()))  # noqa: S611

    # precincts and units: a small table probed with two hashed id sets, each found by an index
    def precinct_rows(self) -> QuerySet:
        qs = self.rows(Precinct)
        if self.area is None:
            return qs
        return qs.filter(
            Q(pk__in=Precinct.objects.filter(geom__intersects=self.area).values("id"))
            | Q(pk__in=self.parcel_rows().values("precinct_id"))
        )

    def unit_rows(self) -> QuerySet:
        qs = self.rows(CadastralUnit)
        if self.area is None:
            return qs
        return qs.filter(
            Q(pk__in=CadastralUnit.objects.filter(geom__intersects=self.area).values("id"))
            | Q(pk__in=self.precinct_rows().values("unit_id"))
        )

    def share_rows(self) -> QuerySet:
        """Shares in the registration units of the exported parcels."""
        qs = RestrictedShare.objects.all()
        if self.area is None:
            return qs
        return qs.filter(registration_unit__in=self.parcel_rows().values("registration_unit"))

    @staticmethod
    def ref(row: dict[str, Any], prefix: str) -> str:
        return gml_id(row[f"{prefix}__namespace"], row[f"{prefix}__local_id"], row[f"{prefix}__version_id"])

    @staticmethod
    def stream(qs: QuerySet, *fields: str, geom: bool = True) -> Iterator[dict[str, Any]]:
        if geom:
            qs = qs.annotate(wkb=AsWKB("geom"))
            fields = (*fields, "wkb")
        return qs.order_by("id").values("id", *IIP_FIELDS, *fields).iterator(chunk_size=CHUNK)

    def precinct_of_contour(self, contour_id: str) -> str | None:
        return self.precincts.get(".".join(contour_id.split(".")[:2]))

    # ---- feature types -------------------------------------------------------------------
    def units(self) -> None:
        w = self.w
        for row in self.stream(self.unit_rows(), "unit_id", "name"):
            with w.feature(UNIT, row) as fid:
                w.surface(row["wkb"], fid, multi=True)
                w.leaf("idJednostkiEwid", row["unit_id"])
                w.leaf("nazwaWlasna", row["name"])

    def precincts_(self) -> None:
        w = self.w
        qs = self.precinct_rows()
        for row in self.stream(
            qs, "precinct_id", "name", "unit__namespace", "unit__local_id", "unit__version_id"
        ):
            with w.feature(PRECINCT, row) as fid:
                w.surface(row["wkb"], fid, multi=True)
                w.leaf("idObrebu", row["precinct_id"])
                w.leaf("nazwaWlasna", row["name"])
                w.href("lokalizacjaObrebu", self.ref(row, "unit"))
            if row["end_object"] is None or row["precinct_id"] not in self.precincts:
                self.precincts[row["precinct_id"]] = fid

    def jrgs(self) -> None:
        """One JRG per (registration unit, przestrzenNazw) of the exported parcels, streamed with
        DISTINCT ON: the current parcel with the lowest idDzialki gives the group and the precinct."""
        w = self.w
        qs = (
            self.parcel_rows()
            .exclude(registration_unit="")
            .order_by(
                "registration_unit", "namespace", F("end_object").asc(nulls_first=True), "parcel_id", "id"
            )
            .distinct("registration_unit", "namespace")
            .values(
                "registration_unit",
                "namespace",
                "registration_group",
                "precinct__namespace",
                "precinct__local_id",
                "precinct__version_id",
            )
        )
        for row in qs.iterator(chunk_size=CHUNK):
            unit = row["registration_unit"]
            iip = _synthetic_iip(jrg_local_id(unit), row["namespace"])
            with w.feature(JRG, iip):
                w.leaf("idJednostkiRejestrowej", unit)
                w.leaf("grupaRejestrowa", row["registration_group"] or DEFAULT_REGISTRATION_GROUP)
                w.href("lokalizacjaJRG", self.ref(row, "precinct"))

    def parcels(self) -> None:
        w = self.w
        rows = self.stream(
            self.parcel_rows(),
            "parcel_id",
            "area_ha",
            "area_accuracy",
            "registration_unit",
            "precinct__namespace",
            "precinct__local_id",
            "precinct__version_id",
        )
        for chunk in _chunks(rows):
            ids = [r["id"] for r in chunk]
            uses = _grouped(
                ParcelLandUse.objects.filter(parcel_id__in=ids)
                .order_by("id")
                .values_list("parcel_id", "ofu", "ozu", "ozk", "area_ha")
            )
            kws = (
                _grouped(
                    RestrictedLandRegisterEntry.objects.filter(parcel_id__in=ids)
                    .order_by("id")
                    .values_list("parcel_id", "kw_number")
                )
                if self.personal_data
                else {}
            )
            for row in chunk:
                with w.feature(PARCEL, row) as fid:
                    w.leaf("idDzialki", row["parcel_id"])
                    w.surface(row["wkb"], fid, multi=False)
                    for kw in kws.get(row["id"], ()):
                        w.leaf("numerKW", kw)
                    w.leaf("poleEwidencyjne", _decimal(row["area_ha"], 4), {"uom": "ha"})
                    w.leaf("dokladnoscReprezentacjiPola", row["area_accuracy"])
                    for ofu, ozu, ozk, area in uses.get(row["id"], ()):
                        with w.xf.element(f"{{{EGB}}}klasouzytek"), w.xf.element(f"{{{EGB}}}EGB_Klasouzytek"):
                            w.leaf("OFU", ofu)
                            if ozu:
                                w.leaf("OZU", ozu)
                            if ozk:
                                w.leaf("OZK", ozk)
                            w.leaf("powierzchnia", _decimal(area, 4), {"uom": "ha"})
                    unit = row["registration_unit"]
                    w.href(
                        "JRG2",
                        gml_id(row["namespace"], jrg_local_id(unit), SYNTHETIC_VERSION) if unit else None,
                    )
                    w.href("lokalizacjaDzialki", self.ref(row, "precinct"))

    def buildings(self) -> None:
        w = self.w
        rows = self.stream(
            self.in_area(Building),
            "building_id",
            "kst_type",
            "storeys_above",
            "storeys_below",
            "built_up_area_m2",
        )
        links = Building.parcels.through.objects.all()
        if self.only_current:
            links = links.filter(parcel__end_object__isnull=True)
        for chunk in _chunks(rows):
            ids = [r["id"] for r in chunk]
            kws = (
                _grouped(
                    RestrictedLandRegisterEntry.objects.filter(building_id__in=ids)
                    .order_by("id")
                    .values_list("building_id", "kw_number")
                )
                if self.personal_data
                else {}
            )
            parcels = _grouped(
                links.filter(building_id__in=ids)
                .order_by("building_id", "parcel__parcel_id", "parcel_id")
                .values_list("building_id", "parcel__namespace", "parcel__local_id", "parcel__version_id")
            )
            for row in chunk:
                with w.feature(BUILDING, row) as fid:
                    w.leaf("idBudynku", row["building_id"])
                    w.surface(row["wkb"], fid, multi=True)
                    w.leaf("rodzajWgKST", row["kst_type"])
                    w.leaf("liczbaKondygnacjiNadziemnych", row["storeys_above"])
                    w.leaf("liczbaKondygnacjiPodziemnych", row["storeys_below"])
                    w.leaf("powZabudowy", _decimal(row["built_up_area_m2"], 2), {"uom": "m2"})
                    for kw in kws.get(row["id"], ()):
                        w.leaf("numerKW", kw)
                    for namespace, local_id, version_id in parcels.get(row["id"], ()):
                        w.href("dzialkaZabudowana", gml_id(namespace, local_id, version_id))

    def land_use_contours(self) -> None:
        w = self.w
        for row in self.stream(self.in_area(LandUseContour), "contour_id", "ofu"):
            with w.feature(LAND_USE, row) as fid:
                w.surface(row["wkb"], fid, multi=False)
                w.leaf("idUzytku", row["contour_id"])
                w.leaf("OFU", row["ofu"])
                if precinct := self.precinct_of_contour(row["contour_id"]):
                    w.href("lokalizacjaUzytku", precinct)

    def soil_contours(self) -> None:
        w = self.w
        for row in self.stream(self.in_area(SoilClassContour), "contour_id", "ozu", "ozk"):
            with w.feature(SOIL, row) as fid:
                w.surface(row["wkb"], fid, multi=False)
                w.leaf("idKonturu", row["contour_id"])
                w.leaf("OZU", row["ozu"])
                if row["ozk"]:
                    w.leaf("OZK", row["ozk"])
                if precinct := self.precinct_of_contour(row["contour_id"]):
                    w.href("lokalizacjaKonturu", precinct)

    def addresses(self) -> None:
        w = self.w
        for row in self.stream(self.in_area(AddressPoint), "locality", "simc", "street", "ulic", "number"):
            with w.feature(ADDRESS, row) as fid:
                w.leaf("nazwaMiejscowosci", row["locality"])
                if row["simc"]:
                    w.leaf("idMiejscowosci", row["simc"])
                if row["street"]:
                    w.leaf("nazwaUlicy", row["street"])
                if row["ulic"]:
                    w.leaf("idNazwyUlicy", row["ulic"])
                w.leaf("numerPorzadkowy", row["number"])
                w.point(row["wkb"], fid)

    def subjects(self) -> None:
        w = self.w
        subjects = self.rows(RestrictedSubject)
        if self.area is not None:  # those holding a share in a registration unit of the exported parcels
            subjects = subjects.filter(Exists(self.share_rows().filter(subject=OuterRef("pk"))))
        persons = subjects.filter(kind=RestrictedSubject.Kind.PERSON)
        for row in self.stream(persons, "first_name", "surname", "pesel", geom=False):
            with w.feature(PERSON, row):
                w.leaf("pierwszeImie", row["first_name"])
                w.leaf("pierwszyCzlonNazwiska", row["surname"])
                if row["pesel"]:
                    w.leaf("pesel", row["pesel"])
                w.leaf("plec", plec_from_pesel(row["pesel"]))
                w.leaf("status", "1")
        if others := subjects.exclude(kind=RestrictedSubject.Kind.PERSON).count():
            self.skipped["skipped_subjects"] = others

    # Each share needs the przestrzenNazw of its JRG, which is that of a parcel of the registration
    # unit: one join, streamed through a server-side cursor (an ORM subquery would be correlated).
    SHARES_SQL = """
        SELECT s.id, s.kind, s.numerator, s.denominator, s.registration_unit,
               subj.namespace, subj.local_id, subj.version_id, j.namespace
        FROM layers_restrictedshare s
        JOIN layers_restrictedsubject subj ON subj.id = s.subject_id
        JOIN (
            SELECT DISTINCT ON (registration_unit) registration_unit, namespace
            FROM layers_parcel
            WHERE registration_unit <> '' AND (NOT %(current)s OR end_object IS NULL) {in_area}
            ORDER BY registration_unit, end_object IS NOT NULL, parcel_id, id
        ) j ON j.registration_unit = s.registration_unit
        WHERE subj.kind = 'person' AND (NOT %(current)s OR subj.end_object IS NULL)
        ORDER BY s.id
    """

    def shares(self) -> None:
        w = self.w
        connection.ensure_connection()
        with connection.connection.cursor(name="egib_export_shares") as cur:
            cur.itersize = CHUNK
            params: dict[str, Any] = {"current": self.only_current}
            in_area = ""
            if self.area is not None:
                sql, _params = self.area_parcels_sql()
                in_area = f"AND id IN ({sql.replace('%s', '%(area)s')})"
                params["area"] = _params[0]
            cur.execute(self.SHARES_SQL.format(in_area=in_area), params)
            for sid, kind, numerator, denominator, unit, s_ns, s_lid, s_ver, jrg_ns in cur:
                iip = _synthetic_iip(share_local_id(sid), s_ns)
                # ownership (udział we własności) and possession (udział we władaniu) are two feature types
                owned = kind == RestrictedShare.Kind.OWNERSHIP
                with w.feature(SHARE if owned else POSSESSION, iip):
                    w.leaf("rodzajPrawa" if owned else "rodzajWladania", "1")
                    w.leaf("licznikUlamkaOkreslajacegoWartoscUdzialu", numerator)
                    w.leaf("mianownikUlamkaOkreslajacegoWartoscUdzialu", denominator)
                    w.href(
                        "podmiotUdzialuWlasnosci" if owned else "podmiotUdzialuWeWladaniu",
                        gml_id(s_ns, s_lid, s_ver),
                    )
                    w.href(
                        "przedmiotUdzialuWlasnosci" if owned else "przedmiotUdzialuWladania",
                        gml_id(jrg_ns, jrg_local_id(unit), SYNTHETIC_VERSION),
                    )
        if missing := self.share_rows().count() - w.counts[SHARE] - w.counts[POSSESSION]:
            self.skipped["skipped_shares"] = missing

    def run(self) -> None:
        steps = (
            (UNIT, self.units),
            (PRECINCT, self.precincts_),
            (JRG, self.jrgs),
            (PARCEL, self.parcels),
            (BUILDING, self.buildings),
            (LAND_USE, self.land_use_contours),
            (SOIL, self.soil_contours),
            (ADDRESS, self.addresses),
            (PERSON, self.subjects),
            (SHARE, self.shares),
        )
        for type_name, step in steps:
            if not self.personal_data and type_name in (PERSON, SHARE, POSSESSION):
                continue
            step()
            if self.w.progress:
                self.w.progress(
                    _("%(feature)s: %(count)d") % {"feature": type_name, "count": self.w.counts[type_name]}
                )


@contextmanager
def _read_only_snapshot() -> Iterator[None]:
    """One consistent snapshot for all the queries, so that every xlink finds its target even while
    an import runs; read only, so the export cannot write by mistake."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _write(
    out: IO[bytes],
    srid: int,
    only_current: bool,
    progress: Progress | None,
    personal_data: bool = True,
    area: GEOSGeometry | None = None,
) -> dict[str, int]:
    with _read_only_snapshot(), etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        attrib = {_GML_ID: COLLECTION_ID, f"{{{XSI}}}schemaLocation": SCHEMA_LOCATION}
        with xf.element(f"{{{GML}}}FeatureCollection", attrib, nsmap=NSMAP):
            xf.write("\n")
            exporter = _Exporter(_GmlWriter(xf, srid, progress), only_current, personal_data, area)
            exporter.run()
    return {**exporter.w.counts, **exporter.skipped}


def export_egib(
    path_or_file: str | os.PathLike[str] | IO[bytes],
    *,
    srid: int = 2180,
    only_current: bool = False,
    progress: Progress | None = None,
    personal_data: bool = True,
    area: GEOSGeometry | None = None,
) -> dict[str, int]:
    """Write the registry as EGiB GML 2021; return the number of features per type (plus
    `skipped_subjects` / `skipped_shares` when some could not be exported).

    With `area` (a geometry in EPSG:2180, already buffered by the caller) only the objects that
    intersect it and what they refer to are written (see the module's docstring); an empty or
    invalid area is InvalidInput.

    A path is written atomically: to `<path>.part` first, renamed over `<path>` when complete, and
    removed on failure. A binary file object is written as it is. Nothing is written to the database.
    """
    validate_srid(srid)
    area = validate_area(area)
    if not isinstance(path_or_file, str | os.PathLike):
        return _write(path_or_file, srid, only_current, progress, personal_data, area)
    path = Path(path_or_file)
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "wb") as out:
            counts = _write(out, srid, only_current, progress, personal_data, area)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return counts
