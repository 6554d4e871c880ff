"""Loading of the layers that are no IIP registry objects: `mpzp` (zoning plans and their areas) and
`granice` (administrative units). Reader-independent: any reader yielding `Record`s of kind "zoning"
or "admin" will do (ogr.py does). Rows are checked one by one (`PlainValidator`), kept in memory
(plans and administrative units are few), then written in the caller's transaction: one per file,
all or nothing.

granice: one row is one unit, identified by its TERYT code as the model stores it: 2 digits
(voivodeship), 4 (county) or 7 (gmina, with its type digit). POZIOM, when present, must agree with
the length; when absent it is derived from it. Units are upserted by TERYT; the parent is the unit
of the code's prefix (the county of a gmina, the voivodeship of a county) when it is in the register
or in the file. Units not in the file are left alone, never deleted.

mpzp: one row is one zoning area with the plan it belongs to. A plan is identified by its resolution
number (UCHWALA, compared ignoring case and repeated spaces) and changes only as a whole: a plan in
the file is created or updated (name, date) and its set of areas becomes the file's, matched by
label (OZNACZENIE, unique within a plan): identical areas are kept (with their ID_TERENU), changed
ones updated, new ones added, the others deleted. When any row of a plan is rejected, the whole plan
is left as it is. Plans not in the file are left alone. Derived: the plan's geometry is the union of
its areas; an empty SYMBOL is the label without its numbers (12MN → MN); a new plan without PLAN is
named after its resolution; its gmina (when TERYT_GMINY is absent) is the gmina of the register it
overlaps most; its identifier is MPZP-<gmina>-<resolution>; `in_force_from` stays empty (no file
says it). Rows of one plan with the same label and designation are parts of one area: merged.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime

import shapely
from django.contrib.gis.db.models.functions import Area, Intersection
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon, Polygon

from ..models import SRID, AdministrativeUnit, ZoningArea, ZoningPlan
from .base import ImportFailed, Record, Report
from .load import IMPORT_STATEMENT_TIMEOUT_MS
from .validate import Validator

# layer of the catalogue -> record kind
PLAIN_LAYERS = {"mpzp": "zoning", "granice": "admin"}
GEOM_TOLERANCE = 0.0005  # m: coordinates are rounded to the millimetre when read
LEVEL_OF_LENGTH = {2: "voivodeship", 4: "county", 7: "gmina"}
# POZIOM as written in files: ours, Polish words and abbreviations, PRG's JPT_SJR_KO codes
LEVEL_WORDS = {
    "voivodeship": "voivodeship",
    "województwo": "voivodeship",
    "wojewodztwo": "voivodeship",
    "woj": "voivodeship",
    "county": "county",
    "powiat": "county",
    "pow": "county",
    "gmina": "gmina",
    "gm": "gmina",
    "gmi": "gmina",
}
# voivodeship codes are even (02–32); county and gmina numbers are never 00; gmina type digit 1–5, 8, 9
TERYT_FORM = re.compile(r"^(0[2468]|[12][02468]|3[02])((?!00)\d{2}((?!00)\d{2}[1-589])?)?\Z")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y", "%Y.%m.%d")
MAX_LEN = {"resolution_no": 60, "label": 30, "symbol": 10, "description": 300, "plan_name": 300}
FIELD_OF = {
    "resolution_no": "UCHWALA",
    "label": "OZNACZENIE",
    "symbol": "SYMBOL",
    "description": "PRZEZNACZENIE",
    "plan_name": "PLAN",
    "resolution_date": "DATA_UCHWALY",
    "teryt_gmina": "TERYT_GMINY",
}


def teryt_problem(code: str) -> str | None:
    """Why `code` is not the TERYT code of an administrative unit (None: it is one)."""
    if not code:
        return _("The unit has no TERYT code.")
    if code.isdigit() and len(code) == 6:
        return _("“%(c)s” has 6 digits: a gmina code has 7, with the gmina type digit (e.g. 1418043).") % {
            "c": code
        }
    if not code.isdigit() or len(code) not in LEVEL_OF_LENGTH:
        return _(
            "“%(c)s” is not a TERYT code of an administrative unit (2 digits: voivodeship, 4: county, "
            "7: gmina with its type digit)."
        ) % {"c": code[:20]}
    if not TERYT_FORM.match(code):
        return _(
            "“%(c)s” is not a TERYT code: a voivodeship code is even (02–32), county and gmina numbers are "
            "not 00 and the gmina type digit is 1–5, 8 or 9."
        ) % {"c": code}
    return None


def parent_code(teryt: str) -> str | None:
    return {4: teryt[:2], 7: teryt[:4]}.get(len(teryt))


def resolution_key(text: str) -> str:
    return " ".join((text or "").split()).upper()


def symbol_of(label: str) -> str:
    """The designation symbol in a label: 1MN → MN, 12MN/U → MN/U, 3.KDD → KDD, KDL.1 → KDL."""
    m = re.match(r"^[\d\s.\-]*(.*?)[\s.\-]*\d*\Z", label)
    return m.group(1) if m else ""


def parse_date(text: str) -> date | None:
    text = text.strip().split("T")[0].split(" ")[0]
    for fmt in DATE_FORMATS:
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return day if date(1945, 1, 1) <= day <= timezone.localdate() else None
    return None


def as_multi(g):
    return MultiPolygon([g]) if isinstance(g, Polygon) else g


def _geos(g) -> GEOSGeometry:
    return GEOSGeometry(memoryview(shapely.to_wkb(as_multi(g))), srid=SRID)


def _same_geom(g, stored) -> bool:
    if stored is None:
        return False
    other = shapely.from_wkb(bytes(stored.wkb))
    return bool(shapely.normalize(as_multi(g)).equals_exact(shapely.normalize(other), GEOM_TOLERANCE))


def _union(geoms) -> MultiPolygon:
    merged = shapely.union_all(list(geoms))
    if not isinstance(merged, Polygon | MultiPolygon):  # touching parts may leave lines or points behind
        merged = shapely.union_all(
            [p for p in getattr(merged, "geoms", [merged]) if isinstance(p, Polygon | MultiPolygon)]
        )
    return as_multi(merged)


class PlainValidator(Validator):
    """Row checks of `mpzp` and `granice` (no database access): a polygonal geometry (repaired under
    the repair policy, as for the registry layers), identifiers of the right form, lengths that fit."""

    def check(self, rec: Record) -> bool:
        if rec.kind == "zoning":
            rec.official_id = f"{' '.join(rec.attrs.get('resolution_no', '').split())} {rec.attrs.get('label', '').strip()}".strip()
        return super().check(rec)

    def _geometry(self, rec: Record) -> bool:
        if rec.geom is None:
            return not self._error(rec, "geometry_missing", _("The object has no geometry."))
        if not isinstance(rec.geom, Polygon | MultiPolygon):
            return not self._error(
                rec, "geometry_type", _("Expected a polygon, found %(type)s.") % {"type": rec.geom.geom_type}
            )
        ok = super()._geometry(rec)
        if ok:
            rec.geom = as_multi(rec.geom)
        return ok

    def _too_long(self, rec: Record, attr: str) -> bool:
        if len(rec.attrs.get(attr, "")) > MAX_LEN[attr]:
            self._error(
                rec,
                "too_long",
                _("%(f)s is longer than %(n)s characters.") % {"f": FIELD_OF[attr], "n": MAX_LEN[attr]},
            )
            return True
        return False

    def _teryt(self, rec: Record, code: str, attr: str) -> str:
        if attr in rec.attrs.get("_numeric", ()) and len(code) in (1, 3, 6):
            # a numeric field has dropped the leading zero of voivodeships 02–08
            self._warn(
                rec,
                "teryt_number",
                _("TERYT code %(v)s came as a number; read as %(c)s.") % {"v": code, "c": "0" + code},
            )
            code = "0" + code
        return code

    def _admin(self, rec: Record) -> bool:
        a = rec.attrs
        code = rec.official_id = self._teryt(rec, rec.official_id, "official_id")
        problem = teryt_problem(code)
        if problem:
            return not self._error(rec, "teryt_format", problem)
        level = LEVEL_OF_LENGTH[len(code)]
        given = a.get("level", "").strip().lower().rstrip(".")
        if given:
            word = LEVEL_WORDS.get(given)
            if word is None:
                return not self._error(
                    rec, "level_unknown", _("Unknown level (POZIOM) “%(v)s”.") % {"v": given[:20]}
                )
            if word != level:
                return not self._error(
                    rec,
                    "level_mismatch",
                    _("Level (POZIOM) “%(v)s” does not match TERYT code %(c)s (%(l)s).")
                    % {"v": given[:20], "c": code, "l": level},
                )
        a["level"] = level
        a["name"] = " ".join(a.get("name", "").split())
        if not a["name"]:
            return not self._error(rec, "name_missing", _("The unit has no name (NAZWA)."))
        if len(a["name"]) > 100:
            return not self._error(
                rec, "too_long", _("%(f)s is longer than %(n)s characters.") % {"f": "NAZWA", "n": 100}
            )
        return True

    def _zoning(self, rec: Record) -> bool:
        a = rec.attrs
        for attr in ("resolution_no", "label", "description", "plan_name"):
            a[attr] = " ".join(a.get(attr, "").split())
        a["symbol"] = a.get("symbol", "").strip()
        if not a["resolution_no"]:
            return not self._error(
                rec,
                "resolution_missing",
                _("The area has no resolution number (UCHWALA): the plan it belongs to is unknown."),
            )
        if not a["label"]:
            return not self._error(rec, "label_missing", _("The area has no label (OZNACZENIE)."))
        if not a["symbol"]:
            a["symbol"] = symbol_of(a["label"])
            a["_symbol_derived"] = True
            if not a["symbol"]:
                return not self._error(
                    rec, "symbol_missing", _("The area has no designation symbol (SYMBOL).")
                )
        if any(self._too_long(rec, attr) for attr in MAX_LEN):
            return False
        if a.get("resolution_date"):
            day = parse_date(a["resolution_date"])
            if day is None:
                return not self._error(
                    rec,
                    "date_format",
                    _("“%(v)s” is not a resolution date (DATA_UCHWALY), e.g. 2021-03-24.")
                    % {"v": a["resolution_date"][:30]},
                )
            a["resolution_date"] = day.isoformat()
        if a.get("teryt_gmina"):
            code = a["teryt_gmina"] = self._teryt(rec, a["teryt_gmina"], "teryt_gmina")
            problem = teryt_problem(code) or (
                None if len(code) == 7 else _("“%(c)s” is not the TERYT code of a gmina.") % {"c": code}
            )
            if problem:
                return not self._error(rec, "teryt_format", problem)
        return True


class _PlainLoader:
    kind = ""

    def __init__(self, report: Report, policy: str):
        self.report = report
        self.policy = policy

    def add(self, rec: Record) -> None:
        raise NotImplementedError

    def reject(self, rec: Record) -> None:
        """A row the validator rejected (already counted and reported)."""

    def load(self) -> bool:
        """Write, in the caller's transaction; True when anything changed."""
        raise NotImplementedError

    def _prepare(self) -> None:
        with connection.cursor() as cur:
            cur.execute(f"SET LOCAL statement_timeout = {IMPORT_STATEMENT_TIMEOUT_MS}")
            # two imports of one layer at a time would race for the same new plans or units
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"gisportal.import.{self.kind}"])

    def _refuse(self, code: str, message: str, *, ident: str, line: int | None, rows: int) -> None:
        if self.policy == "strict":
            raise ImportFailed(_("The file has errors and the policy is strict: %(m)s") % {"m": message})
        self.report.problem("error", code, message, kind=self.kind, ident=ident, line=line, action="rejected")
        self.report.bump("rejected", self.kind, rows)


@dataclass
class _Area:
    label: str
    symbol: str
    description: str
    geom: object


class ZoningLoader(_PlainLoader):
    kind = "zoning"

    def __init__(self, report: Report, policy: str):
        super().__init__(report, policy)
        self.plans: dict[str, list[Record]] = {}
        self.rejected_rows: dict[str, int] = {}

    def add(self, rec: Record) -> None:
        self.plans.setdefault(resolution_key(rec.attrs["resolution_no"]), []).append(rec)

    def reject(self, rec: Record) -> None:
        key = resolution_key(rec.attrs.get("resolution_no", ""))
        if key:
            self.rejected_rows[key] = self.rejected_rows.get(key, 0) + 1

    def load(self) -> bool:
        self._prepare()
        existing: dict[str, list[int]] = {}
        for pk, res in ZoningPlan.objects.order_by("pk").values_list("pk", "resolution_no"):
            existing.setdefault(resolution_key(res), []).append(pk)
        changed = False
        for key, rows in self.plans.items():
            res = rows[0].attrs["resolution_no"]
            if key in self.rejected_rows:
                self._refuse(
                    "plan_incomplete",
                    _(
                        "%(n)s area(s) of the plan of resolution %(r)s were rejected: the plan is left "
                        "as it is (a plan changes only as a whole)."
                    )
                    % {"n": self.rejected_rows[key], "r": res},
                    ident=res,
                    line=rows[0].line,
                    rows=len(rows),
                )
                continue
            changed = self._plan(res, rows, existing.get(key, [])) or changed
        derived = sum(1 for rows in self.plans.values() for r in rows if r.attrs.get("_symbol_derived"))
        if derived:
            self.report.notes.append(
                _("The designation symbol of %(n)s area(s) was taken from the label (1MN → MN).")
                % {"n": derived}
            )
        return changed

    def _plan(self, res: str, rows: list[Record], ids: list[int]) -> bool:
        refuse = {"ident": res, "line": rows[0].line, "rows": len(rows)}
        one: dict[str, str] = {}
        for attr in ("plan_name", "resolution_date", "teryt_gmina"):
            values = {r.attrs.get(attr, "") for r in rows} - {""}
            if len(values) > 1:
                self._refuse(
                    "plan_inconsistent",
                    _(
                        "The areas of the plan of resolution %(r)s disagree on %(f)s (%(v)s): the "
                        "plan is left as it is."
                    )
                    % {"r": res, "f": FIELD_OF[attr], "v": ", ".join(sorted(values))[:120]},
                    **refuse,
                )
                return False
            one[attr] = values.pop() if values else ""
        areas: dict[str, _Area] = {}
        merged = 0
        for r in rows:
            a = r.attrs
            prev = areas.get(a["label"])
            if prev is None:
                areas[a["label"]] = _Area(a["label"], a["symbol"], a["description"], r.geom)
            elif (prev.symbol, prev.description) == (a["symbol"], a["description"]):
                prev.geom = _union([prev.geom, r.geom])
                merged += 1
            else:
                self._refuse(
                    "label_duplicate",
                    _(
                        "Label %(l)s appears twice in the plan of resolution %(r)s with different "
                        "designations: the plan is left as it is."
                    )
                    % {"l": a["label"], "r": res},
                    **refuse,
                )
                return False
        if merged:
            self.report.notes.append(
                _(
                    "Plan of resolution %(r)s: %(n)s object(s) were further parts of an area with the same label "
                    "and designation; merged."
                )
                % {"r": res, "n": merged}
            )
        if len(ids) > 1:
            self._refuse(
                "plan_ambiguous",
                _("The register holds %(n)s plans of resolution %(r)s: the plan is left as it is.")
                % {"n": len(ids), "r": res},
                **refuse,
            )
            return False
        plan = ZoningPlan.objects.select_for_update().get(pk=ids[0]) if ids else None
        geom = _union(a.geom for a in areas.values())
        day = (
            date.fromisoformat(one["resolution_date"])
            if one["resolution_date"]
            else (plan.resolution_date if plan else None)
        )
        if day is None:
            self._refuse(
                "date_missing",
                _("The new plan of resolution %(r)s has no resolution date (DATA_UCHWALY).") % {"r": res},
                **refuse,
            )
            return False
        teryt = one["teryt_gmina"] or (plan.teryt_gmina if plan else self._gmina_of(geom))
        if not teryt:
            self._refuse(
                "gmina_unknown",
                _(
                    "The gmina of the new plan of resolution %(r)s is unknown: it lies in no gmina of the "
                    "register; give TERYT_GMINY."
                )
                % {"r": res},
                **refuse,
            )
            return False
        name = one["plan_name"] or (
            plan.name if plan else f"Miejscowy plan zagospodarowania przestrzennego (uchwała {res})"[:300]
        )
        if not one["plan_name"] and plan is None:
            self.report.problem(
                "warning",
                "plan_name_derived",
                _("The plan has no name (PLAN); named after its resolution."),
                kind=self.kind,
                ident=res,
                line=rows[0].line,
                action="kept",
            )
        if plan is None:
            plan = ZoningPlan.objects.create(
                plan_id=self._new_plan_id(teryt, res),
                name=name,
                teryt_gmina=teryt,
                resolution_no=res,
                resolution_date=day,
                geom=_geos(geom),
            )
            ZoningArea.objects.bulk_create(
                [
                    ZoningArea(
                        plan=plan,
                        label=a.label,
                        symbol=a.symbol,
                        description=a.description,
                        geom=_geos(a.geom),
                    )
                    for a in areas.values()
                ]
            )
            self.report.bump("written", "plan")
            self.report.bump("written", self.kind, len(areas))
            return True
        current = {z.label: z for z in plan.areas.all()}
        gone = [z.pk for label, z in current.items() if label not in areas]
        if gone:
            ZoningArea.objects.filter(pk__in=gone).delete()
            self.report.bump("retired", self.kind, len(gone))
        written = unchanged = 0
        for a in areas.values():
            z = current.get(a.label)
            if z is None:
                ZoningArea.objects.create(
                    plan=plan, label=a.label, symbol=a.symbol, description=a.description, geom=_geos(a.geom)
                )
                written += 1
            elif z.symbol == a.symbol and z.description == a.description and _same_geom(a.geom, z.geom):
                unchanged += 1
            else:
                z.symbol, z.description, z.geom = a.symbol, a.description, _geos(a.geom)
                z.save(update_fields=["symbol", "description", "geom"])
                written += 1
        same = (plan.name, plan.resolution_no, plan.resolution_date, plan.teryt_gmina) == (
            name,
            res,
            day,
            teryt,
        ) and _same_geom(geom, plan.geom)
        if not same:
            plan.name, plan.resolution_no, plan.resolution_date, plan.teryt_gmina = name, res, day, teryt
            plan.geom = _geos(geom)
            plan.save(update_fields=["name", "resolution_no", "resolution_date", "teryt_gmina", "geom"])
        touched = bool(written or gone or not same)
        self.report.bump("written" if touched else "unchanged", "plan")
        if written:
            self.report.bump("written", self.kind, written)
        if unchanged:
            self.report.bump("unchanged", self.kind, unchanged)
        if gone:
            self.report.notes.append(
                _("Plan of resolution %(r)s: %(n)s area(s) no longer in the plan were removed.")
                % {"r": res, "n": len(gone)}
            )
        return touched

    @staticmethod
    def _gmina_of(geom) -> str:
        """The gmina of the register that the plan overlaps most ('' if none)."""
        g = _geos(geom)
        return (
            AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.GMINA, geom__intersects=g)
            .annotate(part=Area(Intersection("geom", g)))
            .order_by("-part", "teryt")
            .values_list("teryt", flat=True)
            .first()
        ) or ""

    @staticmethod
    def _new_plan_id(teryt: str, res: str) -> str:
        plan_id = f"MPZP-{teryt}-{res}"
        if len(plan_id) > 60 or ZoningPlan.objects.filter(plan_id=plan_id).exists():
            plan_id = f"MPZP-{teryt}-{hashlib.sha256(resolution_key(res).encode()).hexdigest()[:16]}"
        return plan_id


class AdminLoader(_PlainLoader):
    kind = "admin"

    def __init__(self, report: Report, policy: str):
        super().__init__(report, policy)
        self.units: dict[str, Record] = {}
        self.merged = 0

    def add(self, rec: Record) -> None:
        prev = self.units.get(rec.official_id)
        if prev is None:
            self.units[rec.official_id] = rec
        elif prev.attrs["name"] == rec.attrs["name"]:  # a multi-part unit written as one row per part
            prev.geom = _union([prev.geom, rec.geom])
            self.merged += 1
        else:
            self._refuse(
                "duplicate",
                _(
                    "TERYT code %(c)s appears more than once in the file with different names; this "
                    "occurrence is rejected."
                )
                % {"c": rec.official_id},
                ident=rec.official_id,
                line=rec.line,
                rows=1,
            )

    def load(self) -> bool:
        self._prepare()
        codes = sorted(self.units, key=lambda t: (len(t), t))  # parents before their children
        wanted = set(codes) | {p for p in map(parent_code, codes) if p}
        existing = {
            u.teryt: u for u in AdministrativeUnit.objects.select_for_update().filter(teryt__in=wanted)
        }
        ids = {t: u.pk for t, u in existing.items()}
        written = unchanged = orphans = 0
        for code in codes:
            rec = self.units[code]
            level, name = rec.attrs["level"], rec.attrs["name"]
            unit = existing.get(code)
            parent = parent_code(code)
            parent_id = ids.get(parent) if parent else None
            if parent and parent_id is None:
                if unit is not None and unit.parent_id:
                    parent_id = unit.parent_id  # keep what the register knows
                else:
                    orphans += 1
            if unit is None:
                unit = AdministrativeUnit.objects.create(
                    teryt=code, level=level, name=name, parent_id=parent_id, geom=_geos(rec.geom)
                )
                ids[code] = unit.pk
                written += 1
            elif (unit.level, unit.name, unit.parent_id) == (level, name, parent_id) and _same_geom(
                rec.geom, unit.geom
            ):
                unchanged += 1
            else:
                unit.level, unit.name, unit.parent_id, unit.geom = level, name, parent_id, _geos(rec.geom)
                unit.save(update_fields=["level", "name", "parent", "geom"])
                written += 1
        if written:
            self.report.bump("written", self.kind, written)
        if unchanged:
            self.report.bump("unchanged", self.kind, unchanged)
        if self.merged:
            self.report.notes.append(
                _(
                    "%(n)s object(s) were further parts of a unit already in the file (same TERYT code and name); "
                    "merged."
                )
                % {"n": self.merged}
            )
        if orphans:
            self.report.notes.append(
                _(
                    "%(n)s unit(s) have no parent unit (the unit of their code's prefix) in the register or the "
                    "file; imported without one."
                )
                % {"n": orphans}
            )
        return written > 0


def plain_loader(kind: str, report: Report, policy: str) -> _PlainLoader:
    return {"zoning": ZoningLoader, "admin": AdminLoader}[kind](report, policy)
