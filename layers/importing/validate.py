"""Checks of one record before it is staged (no database access). SQL-level checks (duplicates,
parcel outside its precinct, identifiers already in use) run in `load.py` on the staged rows."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

import shapely
from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon, Point, Polygon

from gisportal.core import identifiers

from ..models import KstType, LandUseCode, SoilClass, SoilUseCode
from .base import Record, Report

POLYGONAL = {"unit", "precinct", "parcel", "building", "landuse", "soil"}
OFU, OZU, OZK, KST = (
    set(LandUseCode.values),
    set(SoilUseCode.values),
    set(SoilClass.values),
    set(KstType.values),
)
REQUIRED_GEOMETRY = {"unit", "precinct", "parcel", "landuse", "soil"}
HECTARES, SQUARE_METRES = Decimal("0.0001"), Decimal("0.01")  # the registry's precision of each


def allowed_area_difference(area_m2: float) -> float:
    """Tolerance between registered and computed area [m²]: 0.0004·P + 0.2·√P, at least 1 m²."""
    return max(1.0, 0.0004 * area_m2 + 0.2 * math.sqrt(max(area_m2, 0.0)))


class Validator:
    def __init__(self, report: Report, policy: str):
        self.report = report
        self.policy = policy
        self._kinds: dict = {}  # kind -> its check method (or None), looked up once

    def _error(self, rec: Record, code: str, message: str) -> bool:
        """Record an error; returns True (the object is dropped)."""
        self.report.problem(
            "error",
            code,
            message,
            kind=rec.kind,
            ident=rec.official_id or rec.local_id,
            line=rec.line,
            action="rejected",
        )
        return True

    def _warn(self, rec: Record, code: str, message: str) -> None:
        self.report.problem(
            "warning",
            code,
            message,
            kind=rec.kind,
            ident=rec.official_id or rec.local_id,
            line=rec.line,
            action="kept",
        )

    def check(self, rec: Record) -> bool:
        """True when the record may be staged (possibly repaired)."""
        if rec.problems:  # found while reading (e.g. no IIP identifier)
            return not self._error(rec, rec.problems[0]["code"], rec.problems[0]["message"])
        ok = self._geometry(rec)
        try:
            check = self._kinds[rec.kind]
        except KeyError:
            check = self._kinds[rec.kind] = getattr(self, f"_{rec.kind}", None)
        return (check(rec) if check is not None else True) and ok

    # ---- geometry
    def _geometry(self, rec: Record) -> bool:
        g = rec.geom
        if g is None:
            if rec.kind in REQUIRED_GEOMETRY:
                return not self._error(rec, "geometry_missing", _("The object has no geometry."))
            return True
        if rec.kind in POLYGONAL and not isinstance(g, Polygon | MultiPolygon):
            return not self._error(
                rec, "geometry_type", _("Expected a polygon, found %(type)s.") % {"type": g.geom_type}
            )
        if rec.kind == "address" and not isinstance(g, Point):
            return not self._error(
                rec, "geometry_type", _("Expected a point, found %(type)s.") % {"type": g.geom_type}
            )
        if g.is_empty:
            return not self._error(rec, "geometry_empty", _("The geometry is empty."))
        if not (g.is_valid if rec.valid is None else rec.valid):
            reason = shapely.is_valid_reason(g)
            if self.policy == "repair":
                fixed = shapely.make_valid(g)
                polys = [p for p in getattr(fixed, "geoms", [fixed]) if isinstance(p, Polygon | MultiPolygon)]
                if polys:
                    fixed = shapely.unary_union(polys)
                    if fixed.is_valid and not fixed.is_empty:
                        rec.geom, rec.wkb, rec.valid = fixed, None, True
                        self.report.bump("repaired", rec.kind)
                        self.report.problem(
                            "warning",
                            "geometry_repaired",
                            _("Invalid geometry (%(reason)s) repaired.") % {"reason": reason},
                            kind=rec.kind,
                            ident=rec.official_id or rec.local_id,
                            line=rec.line,
                            action="repaired",
                        )
                        return True
            return not self._error(
                rec, "geometry_invalid", _("Invalid geometry: %(reason)s") % {"reason": reason}
            )
        return True

    # ---- per kind
    def _unit(self, rec: Record) -> bool:
        if not identifiers.is_unit_id(rec.official_id):
            return not self._error(
                rec,
                "id_format",
                _("“%(id)s” is not a cadastral unit identifier (WWPPGG_R).") % {"id": rec.official_id[:40]},
            )
        return True

    def _precinct(self, rec: Record) -> bool:
        if not identifiers.is_precinct_id(rec.official_id):
            return not self._error(
                rec,
                "id_format",
                _("“%(id)s” is not a precinct identifier (WWPPGG_R.XXXX).") % {"id": rec.official_id[:40]},
            )
        if not rec.attrs.get("name"):
            rec.attrs["name"] = rec.official_id
        return True

    def _jrg(self, rec: Record) -> bool:
        if not rec.official_id:
            return not self._error(rec, "id_missing", _("The registration unit has no identifier."))
        g = rec.attrs.get("group")
        if g is not None and not 1 <= g <= 16:
            self._warn(rec, "group_range", _("Registration group %(g)s is outside 1–16; ignored.") % {"g": g})
            rec.attrs["group"] = None
        return True

    def _parcel(self, rec: Record) -> bool:
        try:
            identifiers.parse_parcel_id(rec.official_id)
        except identifiers.InvalidInput as e:
            return not self._error(rec, "id_format", str(e.message))
        area = _positive_decimal(rec.attrs.get("area_ha"))
        if area is None:
            return not self._error(
                rec, "area_missing", _("The registered area is missing or not a positive number.")
            )
        rec.attrs["area_ha"] = str(area.quantize(HECTARES))
        if rec.attrs.get("accuracy") not in (1, 2):
            rec.attrs["accuracy"] = 1
        computed = rec.geom.area if rec.geom is not None else 0.0
        registered = float(area) * 10_000
        if abs(registered - computed) > allowed_area_difference(registered):
            self._warn(
                rec,
                "area_mismatch",
                _(
                    "Registered area %(reg)s ha differs from the area computed from the geometry (%(geo).4f ha)."
                )
                % {"reg": area, "geo": computed / 10_000},
            )
        uses = []
        total = Decimal(0)
        for u in rec.attrs.get("land_uses", []):
            if (
                u["ofu"] not in OFU
                or (u["ozu"] and u["ozu"] not in OZU)
                or (u["ozk"] and u["ozk"] not in OZK)
            ):
                self._warn(
                    rec,
                    "land_use_code",
                    _("Unknown land-use class %(c)s; ignored.")
                    % {"c": "/".join(filter(None, (u["ofu"], u["ozu"], u["ozk"])))[:20]},
                )
                continue
            a = _positive_decimal(u.get("area_ha"))
            if a is None:
                self._warn(rec, "land_use_area", _("A land-use class without a valid area; ignored."))
                continue
            total += a
            uses.append({**u, "area_ha": str(a.quantize(HECTARES))})
        rec.attrs["land_uses"] = uses
        if uses and total != area:
            self._warn(
                rec,
                "land_use_sum",
                _("Land-use classes add up to %(sum)s ha, the parcel has %(area)s ha.")
                % {"sum": total, "area": area},
            )
        kws = []
        for kw in rec.attrs.get("kw", []):
            kw = kw.strip().upper()
            if identifiers.KW_RE.match(kw):
                if not identifiers.is_kw_number(kw):
                    self._warn(
                        rec,
                        "kw_check_digit",
                        _("Land register number %(kw)s has a wrong check digit.") % {"kw": kw},
                    )
                kws.append(kw)
            else:
                self._warn(
                    rec, "kw_format", _("“%(kw)s” is not a land register number; ignored.") % {"kw": kw[:30]}
                )
        rec.attrs["kw"] = kws
        return True

    def _building(self, rec: Record) -> bool:
        a = rec.attrs
        if not rec.official_id:
            return not self._error(rec, "id_missing", _("The building has no identifier."))
        if not identifiers.is_building_id(rec.official_id):
            self._warn(
                rec,
                "id_format",
                _("Building identifier “%(id)s” does not have the form <parcel>.<n>_BUD.")
                % {"id": rec.official_id[:60]},
            )
        if a.get("kst") not in KST:
            return not self._error(
                rec, "kst", _("Unknown building type (rodzajWgKST) “%(v)s”.") % {"v": str(a.get("kst"))[:10]}
            )
        if a.get("above") is None or not 0 <= a["above"] <= 200 or not 0 <= (a.get("below") or 0) <= 20:
            return not self._error(rec, "storeys", _("The number of storeys is missing or out of range."))
        a["below"] = a.get("below") or 0
        area = _positive_decimal(a.get("area_m2"))
        if area is None:
            area = (
                Decimal(str(round(rec.geom.area, 2))) if rec.geom is not None and rec.geom.area > 0 else None
            )
            if area is None:
                return not self._error(rec, "area_missing", _("The built-up area is missing."))
            self._warn(rec, "area_missing", _("The built-up area is missing; taken from the geometry."))
        a["area_m2"] = str(area.quantize(SQUARE_METRES))
        kws = [k.strip().upper() for k in a.get("kw", []) if identifiers.KW_RE.match(k.strip().upper())]
        for k in kws:
            if not identifiers.is_kw_number(k):
                self._warn(
                    rec,
                    "kw_check_digit",
                    _("Land register number %(kw)s has a wrong check digit.") % {"kw": k},
                )
        a["kw"] = kws
        return True

    def _landuse(self, rec: Record) -> bool:
        if rec.attrs.get("ofu") not in OFU:
            return not self._error(
                rec, "ofu", _("Unknown land use (OFU) “%(v)s”.") % {"v": str(rec.attrs.get("ofu"))[:10]}
            )
        if not rec.official_id:
            return not self._error(rec, "id_missing", _("The contour has no identifier."))
        return True

    def _soil(self, rec: Record) -> bool:
        a = rec.attrs
        if a.get("ozu") not in OZU or (a.get("ozk") and a["ozk"] not in OZK):
            return not self._error(
                rec, "ozu", _("Unknown soil class “%(v)s”.") % {"v": f"{a.get('ozu')}{a.get('ozk')}"[:10]}
            )
        if not rec.official_id:
            return not self._error(rec, "id_missing", _("The contour has no identifier."))
        return True

    def _address(self, rec: Record) -> bool:
        a = rec.attrs
        if not a.get("locality") or not a.get("number"):
            return not self._error(
                rec, "address_incomplete", _("The address has no locality or house number.")
            )
        if rec.geom is None:
            return not self._error(
                rec, "geometry_missing", _("The address point has no geometry; it cannot be published.")
            )
        if a.get("simc") and not (len(a["simc"]) == 7 and a["simc"].isdigit()):
            self._warn(rec, "simc", _("SIMC id “%(v)s” is not 7 digits; ignored.") % {"v": a["simc"][:10]})
            a["simc"] = ""
        if a.get("ulic") and not (len(a["ulic"]) == 5 and a["ulic"].isdigit()):
            self._warn(rec, "ulic", _("ULIC id “%(v)s” is not 5 digits; ignored.") % {"v": a["ulic"][:10]})
            a["ulic"] = ""
        return True


def _positive_decimal(value) -> Decimal | None:
    if value is None:
        return None
    try:
        d = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    return d if d.is_finite() and d > 0 else None
