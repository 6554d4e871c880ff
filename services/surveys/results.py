"""The results of a surveyor's work (issue 26): handed in (the changed EGiB data as GML and the operat's
signed files), checked at once, reviewed by the county's clerk, then accepted (imported into the
registry, in one transaction) or returned with remarks.

What the GML changes is computed here, object by object, from the file's identifiers (lokalnyId in its
namespace) against the registry: the import's own report counts per kind but names no objects. The GML
states the work area as it is after the work: an object of a kind the file holds that lies wholly inside
the work area and is missing from the file is retired; a new or changed object must lie inside the work
area (the case's location, 1 m of tolerance) or the whole file is refused.

The layers' import retires whatever the file no longer holds in the cadastral units it covers, so the
surveyor's partial GML is never imported as it is: it is merged into a current export of the registry
(the changed objects replaced, the retired ones left out) and that whole file is imported, dry first to
check it, for real on acceptance (every other object is then unchanged by its wersjaId).

Both imports take minutes at a county's scale, so they run as Celery jobs (services/surveys/tasks.py):
handing in stores the files, reads the GML, diffs it and refuses objects outside the work area at once
(status "checking"), `results_check` does the dry import ("checked" or "rejected"); accepting records
the decision ("applying"), `results_apply` imports for real ("accepted", or back to "checked" with the
error). Both jobs lock the row and check its status, so a repeated or late job changes nothing."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

import shapely
from django.conf import settings
from django.contrib.gis.db.models import Union
from django.contrib.gis.geos import GEOSGeometry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from gisportal.core.errors import GisportalError, InvalidInput
from layers.actions import registry_import
from layers.exporting.egib import export_egib
from layers.importing.base import ImportFailed
from layers.importing.egib import EGIB_NAMESPACES, FEATURE_KINDS
from layers.importing.readers import EgibFile
from layers.models import (
    AddressPoint,
    Building,
    CadastralUnit,
    LandUseContour,
    Parcel,
    Precinct,
    SoilClassContour,
)
from services.cases.actions import case_note_add
from services.cases.models import Case
from services.signatures.verify import verify_file

from .models import Results

TOLERANCE_M = 1.0  # an object may overhang the work area by this much
MAX_GML = 200 * 1024**2
MAX_FILES = 50
MAX_LISTED = 500  # objects listed per outcome in the report (the counts are always whole)
EGB = "ewidencjaGruntowIBudynkow:1.0"
# kinds compared with the registry: model and the official identifier's field (None: lokalnyId)
KINDS: dict[str, tuple[type, str | None]] = {
    "unit": (CadastralUnit, "unit_id"),
    "precinct": (Precinct, "precinct_id"),
    "parcel": (Parcel, "parcel_id"),
    "building": (Building, "building_id"),
    "landuse": (LandUseContour, "contour_id"),
    "soil": (SoilClassContour, "contour_id"),
    "address": (AddressPoint, None),
}
ACTIVE = (Results.Status.SUBMITTED, Results.Status.CHECKING, Results.Status.CHECKED)
# the importer retires what a file no longer holds per kind within the cadastral units the file names
# (the first part of the official identifier); address points have no unit: within their namespace
SCOPED = tuple(k for k in KINDS if k != "address")
log = logging.getLogger(__name__)


class ResultsRefused(InvalidInput):
    """The results cannot be taken: the GML cannot be read, or it changes objects outside the work area."""

    status = 422
    code = "results_refused"


class NotAllowed(GisportalError):
    status = 409
    code = "results_state"


Key = tuple[str, str]  # (namespace, lokalnyId)


# ---------------------------------------------------------------------------------------- what the GML changes
def _read(path: Path) -> list:
    """The GML's records (the reader's message when it fails)."""
    try:
        reader = EgibFile(path)
        try:
            return list(reader)
        finally:
            reader.close()
    except ImportFailed as e:
        raise ResultsRefused(str(e.message)) from None
    except (etree.XMLSyntaxError, ValueError, OSError) as e:
        raise ResultsRefused(_("The GML file cannot be read: %(m)s") % {"m": str(e)[:300]}) from None


def _work_area(case: Case):
    if case.location is None:
        raise ResultsRefused(_("The case has no work area, so results cannot be checked against it."))
    return shapely.from_wkb(bytes(case.location.wkb)).buffer(TOLERANCE_M)


def _item(kind: str, key: Key, official: str, geom) -> dict:
    out = {"kind": kind, "namespace": key[0], "local_id": key[1], "id": official or key[1]}
    if geom is not None:
        out["area_m2"] = round(float(geom.area), 1)
        out["wkt"] = shapely.to_wkt(geom, rounding_precision=2)
    return out


def results_diff(path: Path, case: Case) -> dict:
    """New, changed, retired and unchanged objects of the GML against the registry, per kind, with the
    objects outside the work area (`outside`); raises ResultsRefused when the file cannot be read."""
    records = _read(path)
    area = _work_area(case)
    shapely.prepare(area)
    area_geos = GEOSGeometry(shapely.to_wkb(area, hex=True), srid=2180)
    out: dict = {
        "new": {},
        "changed": {},
        "retired": {},
        "unchanged": {},
        "outside": [],
        "read": len(records),
    }
    by_kind: dict[str, list] = {}
    for rec in records:
        by_kind.setdefault(rec.kind, []).append(rec)
    for kind, recs in by_kind.items():
        if kind not in KINDS:
            continue
        model, official_field = KINDS[kind]
        fields = [
            "namespace",
            "local_id",
            "version_id",
            "end_object",
            *([official_field] if official_field else []),
        ]
        known = {
            (r["namespace"], r["local_id"]): r
            for r in model.objects.filter(local_id__in={r.local_id for r in recs}).values(*fields, "geom")
        }
        seen: set[Key] = set()
        for rec in recs:
            key = (rec.namespace, rec.local_id)
            seen.add(key)
            row = known.get(key)
            current = row is not None and row["end_object"] is None
            if rec.end_object is not None:  # koniecObiekt: retired by the file itself
                if current:
                    old = shapely.from_wkb(bytes(row["geom"].wkb)) if row["geom"] is not None else None
                    out["retired"].setdefault(kind, []).append(_item(kind, key, rec.official_id, old))
                continue
            if current and row["version_id"] == rec.version_id:
                out["unchanged"][kind] = out["unchanged"].get(kind, 0) + 1
                continue
            outcome = "changed" if current else "new"
            item = _item(kind, key, rec.official_id, rec.geom)
            if current and row["geom"] is not None:
                old = shapely.from_wkb(bytes(row["geom"].wkb))
                item["old_wkt"] = shapely.to_wkt(old, rounding_precision=2)
                item["old_area_m2"] = round(float(old.area), 1)
            out[outcome].setdefault(kind, []).append(item)
            if rec.geom is not None and not area.covers(rec.geom):
                out["outside"].append({"kind": kind, "id": item["id"], "line": rec.line})
        # what lies wholly inside the work area and the file no longer holds
        gone = (
            model.objects.current()
            .filter(geom__coveredby=area_geos)
            .values("namespace", "local_id", "geom", *([official_field] if official_field else []))
        )
        for row in gone:
            key = (row["namespace"], row["local_id"])
            if key not in seen:
                geom = shapely.from_wkb(bytes(row["geom"].wkb))
                out["retired"].setdefault(kind, []).append(
                    _item(kind, key, row.get(official_field, "") if official_field else "", geom)
                )
    return out


def _keys(diff: dict, *outcomes: str) -> set[Key]:
    return {
        (i["namespace"], i["local_id"])
        for outcome in outcomes
        for items in diff.get(outcome, {}).values()
        for i in items
    }


def _counts(diff: dict) -> dict:
    return {o: {k: len(v) for k, v in diff[o].items()} for o in ("new", "changed", "retired")}


# ---------------------------------------------------------------------------------------- the file imported
def _iip(feature) -> Key | None:
    ident = feature.find(f".//{{{EGB}}}idIIP/{{{EGB}}}EGB_IdentyfikatorIIP")
    if ident is None:
        return None
    return (ident.findtext(f"{{{EGB}}}przestrzenNazw") or "", ident.findtext(f"{{{EGB}}}lokalnyId") or "")


def _members(path: Path) -> Iterable[tuple[etree._Element, etree._Element]]:
    """(root, member) for each child of the file's root, streamed (each member freed once handed out)."""
    depth = 0
    root = None
    for event, el in etree.iterparse(
        str(path), events=("start", "end"), resolve_entities=False, huge_tree=True
    ):
        if event == "start":
            depth += 1
            if depth == 1:
                root = el
            continue
        depth -= 1
        if depth == 1:
            yield root, el
            el.clear()
            while el.getprevious() is not None:
                del root[0]


def _unit_of(official_id: str) -> str:
    return (official_id or "").split(".", 1)[0]


GML_NS = "http://www.opengis.net/gml/3.2"
# the child holding an object's official identifier, per kind (as the EGiB reader reads it)
OFFICIAL_ID = {
    "unit": "idJednostkiEwid",
    "precinct": "idObrebu",
    "jrg": "idJednostkiRejestrowej",
    "parcel": "idDzialki",
    "building": "idBudynku",
    "landuse": "idUzytku",
    "soil": "idKonturu",
}


def _kind_and_unit(member) -> tuple[str, str]:
    """An exported object's kind and cadastral unit, from its element (a gml:featureMember's child or the
    object itself): the kind from its EGiB name, the unit from its official identifier."""
    feature = member
    if etree.QName(member).namespace == GML_NS:
        feature = next((c for c in member if isinstance(c.tag, str)), None)
        if feature is None:
            return "", ""
    name = etree.QName(feature)
    kind = FEATURE_KINDS.get(name.localname, "") if name.namespace in EGIB_NAMESPACES else ""
    tag = OFFICIAL_ID.get(kind)
    official = (feature.findtext(f"{{{name.namespace}}}{tag}") or "").strip() if tag else ""
    return kind, _unit_of(official)


def _scope(case: Case, records: list) -> tuple[GEOSGeometry, set[str]] | None:
    """The cadastral units the work is in (those the work area touches and those the file's objects name)
    and the union of their geometries: the merge's export is limited to it. None (the whole register) when
    the file holds address points: they have no unit, the importer retires those a file lacks within
    their whole namespace, so the file must hold all of them."""
    if any(r.kind == "address" for r in records):
        return None
    area = _work_area(case)
    area_geos = GEOSGeometry(shapely.to_wkb(area, hex=True), srid=2180)
    units = set(
        CadastralUnit.objects.current().filter(geom__intersects=area_geos).values_list("unit_id", flat=True)
    )
    units |= {_unit_of(r.official_id) for r in records if r.kind in SCOPED and r.official_id}
    found = CadastralUnit.objects.current().filter(unit_id__in=units, geom__isnull=False)
    if not units or found.count() != len(units):
        return None
    geom = found.aggregate(u=Union("geom"))["u"]
    return (geom, units) if geom is not None and not geom.empty else None


def _complete(written: dict[str, int], units: set[str]) -> bool:
    """The file holds every current object of each scoped kind in these units (so the import retires
    nothing the surveyor did not retire): an object that lies outside its unit's geometry, or has none,
    is not in an area export, and the whole register is merged instead."""
    for kind in SCOPED:
        model, field = KINDS[kind]
        q = Q()
        for u in units:
            q |= Q(**{field: u}) | Q(**{f"{field}__startswith": f"{u}."})
        if model.objects.current().filter(q).count() != written.get(kind, 0):
            return False
    return True


def _write_merged(gml: Path, diff: dict, workdir: Path, kinds: dict, scope) -> Path | None:
    base = workdir / "registry.gml"
    area, units = scope if scope is not None else (None, None)
    export_egib(base, only_current=True, personal_data=False, area=area)
    replace = _keys(diff, "changed", "retired")
    take = _keys(diff, "new", "changed")
    in_base: set[Key] = set()
    written: dict[str, int] = {}
    out = workdir / "merged.gml"
    with open(out, "wb") as f, etree.xmlfile(f, encoding="utf-8") as xf:
        xf.write_declaration()
        opened = None
        try:
            for root, member in _members(base):
                if opened is None:
                    opened = xf.element(root.tag, dict(root.attrib), nsmap=root.nsmap)
                    opened.__enter__()
                key = _iip(member)
                if key is not None:
                    if units is not None:  # each object's kind and unit read as it streams past
                        kind, unit = _kind_and_unit(member)
                        if kind == "address" or (kind in SCOPED and unit not in units):
                            continue  # a neighbouring unit's object touching the area: its unit left alone
                        written[kind] = written.get(kind, 0) + 1
                    in_base.add(key)
                    if key in replace:
                        continue
                xf.write(member)
            for _root, member in _members(gml):
                key = _iip(member)
                if key is None:
                    continue
                # the new and changed objects, and registration units (JRG) the registry lacks
                if key in take or (kinds.get(key) == "jrg" and key not in in_base):
                    xf.write(member)
        finally:
            if opened is not None:
                opened.__exit__(None, None, None)
    if units is not None and not _complete(written, units):
        log.info(
            "survey results: the area export of units %s is incomplete; merging the whole register", units
        )
        return None
    return out


def _merged(gml: Path, diff: dict, workdir: Path, case: Case) -> Path:
    """A current export of the registry with the GML's new and changed objects in place of the old ones
    and the retired ones left out: a file complete in what it covers, so the import changes nothing else.
    The export is limited to the cadastral units of the work (`_scope`); the whole register when that
    cannot be done safely."""
    records = _read(gml)
    kinds = {(r.namespace, r.local_id): r.kind for r in records}
    scope = _scope(case, records)
    if scope is not None:
        out = _write_merged(gml, diff, workdir, kinds, scope)
        if out is not None:
            return out
    return _write_merged(gml, diff, workdir, kinds, None)


def _import(gml: Path, diff: dict, case: Case, *, dry_run: bool) -> dict:
    workdir = Path(settings.GISPORTAL_IMPORT_DIR)
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=workdir, prefix="surveys-") as tmp:
        merged = _merged(gml, diff, Path(tmp), case)
        report = registry_import(merged, policy="reject" if dry_run else "strict", dry_run=dry_run)
    data = report.as_dict()
    return {k: data[k] for k in ("written", "retired", "rejected", "problems", "notes")}


# ---------------------------------------------------------------------------------------- actions
def _enqueue_check(res_id) -> None:
    from .tasks import results_check as task

    try:
        task.delay(str(res_id))
    except Exception:  # the broker is down: the results stay "being checked" (logged for the operator)
        log.exception("could not queue the check of survey results %s", res_id)


def _enqueue_apply(res_id) -> None:
    from .tasks import results_apply as task

    try:
        task.delay(str(res_id))
    except Exception:
        log.exception("could not queue the import of survey results %s", res_id)


def results_submit(case: Case, *, user, gml, files=()) -> Results:
    """Hand in results for the surveyor's own case: the GML stored first, read and diffed against the
    registry (ResultsRefused: kept as refused, nothing active); the operat's files verified, their reports
    kept. The dry import is a Celery job queued after the commit (`results_check`): "checking" until then."""
    if case.applicant_user_id != user.pk:
        raise NotAllowed(_("Only the surveyor who filed the work may hand in its results."))
    if Results.objects.filter(
        case_id=case.pk, status__in=[Results.Status.ACCEPTED, Results.Status.APPLYING]
    ).exists():
        raise NotAllowed(_("The results of this work have already been accepted."))
    data = gml.read(MAX_GML + 1)
    if len(data) > MAX_GML:
        raise ResultsRefused(_("The GML file is larger than %(n)s MB.") % {"n": MAX_GML // 1024**2})
    if len(files) > MAX_FILES:
        raise InvalidInput(_("At most %(n)s files of the operat.") % {"n": MAX_FILES})
    with transaction.atomic():
        # handing in again replaces what was handed in before and not yet decided
        Results.objects.filter(case_id=case.pk, status__in=ACTIVE).update(status=Results.Status.REJECTED)
        res = Results(case_id=case.pk, kerg=case.sign, surveyor=user)
        res.gml.save("wyniki.gml", ContentFile(data), save=False)
        res.gml_sha256 = hashlib.sha256(data).hexdigest()
        res.files, res.signature_reports = _operat(files)
        res.save()
    diff: dict = {}
    try:
        diff = results_diff(Path(res.gml.path), case)
        _refuse_outside(diff, case)
    except ResultsRefused as e:
        res.status = Results.Status.REJECTED
        res.report = {"error": str(e.message), "outside": diff.get("outside", [])}
        res.save(update_fields=["status", "report"])
        raise
    with transaction.atomic():
        res.report = _trimmed(diff)
        res.status = Results.Status.CHECKING
        res.save(update_fields=["status", "report"])
        pk = res.pk
        transaction.on_commit(lambda: _enqueue_check(pk))
    return res


def _refuse_outside(diff: dict, case: Case) -> None:
    if diff["outside"]:
        first = diff["outside"][0]
        raise ResultsRefused(
            _("Object %(id)s lies outside the work area of %(kerg)s; nothing was taken.")
            % {"id": first["id"], "kerg": case.sign}
        )


def results_check(res_id) -> str:
    """The Celery job after handing in: the dry import of the merged file (the registry read again);
    "checked" with its report, or "rejected" with the import's message. Idempotent: results no longer
    being checked (checked already, or replaced by a later hand-in) are left as they are. Returns the
    status."""
    res = Results.objects.filter(pk=res_id).first()
    if res is None or res.status != Results.Status.CHECKING:
        return res.status if res else "missing"
    case = Case.objects.get(pk=res.case_id)
    diff: dict = {}
    try:
        diff = results_diff(Path(res.gml.path), case)
        _refuse_outside(diff, case)
        diff["pipeline"] = _import(Path(res.gml.path), diff, case, dry_run=True)
        status, report = Results.Status.CHECKED, _trimmed(diff)
    except GisportalError as e:  # ResultsRefused, ImportFailed: the validation's message
        status = Results.Status.REJECTED
        report = {
            **(_trimmed(diff) if diff else {}),
            "error": str(e.message),
            "outside": diff.get("outside", []),
        }
    except Exception:
        log.exception("checking survey results %s failed", res_id)
        status = Results.Status.REJECTED
        report = {"error": _("The results could not be checked; hand them in again or ask the office.")}
    with transaction.atomic():
        res = Results.objects.select_for_update().get(pk=res_id)
        if res.status != Results.Status.CHECKING:
            return res.status
        res.status, res.report = status, report
        res.save(update_fields=["status", "report"])
    return status


def _trimmed(diff: dict) -> dict:
    out = dict(diff)
    out["counts"] = _counts(diff)
    for outcome in ("new", "changed", "retired"):
        out[outcome] = {k: v[:MAX_LISTED] for k, v in diff[outcome].items()}
    return out


def _operat(files) -> tuple[list[dict], list[dict]]:
    stored, reports = [], []
    for f in files:
        data = f.read()
        name = Path(getattr(f, "name", "plik")).name[:200]
        digest = hashlib.sha256(data).hexdigest()
        path = default_storage.save(f"surveys/results/operat/{digest[:16]}-{_safe(name)}", ContentFile(data))
        stored.append({"name": name, "sha256": digest, "size": len(data), "path": path})
        try:
            reports.append(verify_file(data, name).as_dict())
        except GisportalError as e:
            reports.append(
                {"file": {"name": name, "sha256": digest, "size": len(data)}, "error": str(e.message)}
            )
    return stored, reports


def _safe(name: str) -> str:
    return "".join(c for c in name if c.isalnum() or c in "._-") or "plik"


def results_accept(res_id, *, case: Case, actor) -> Results:
    """Record the clerk's acceptance of checked results ("applying") and queue their import after the
    commit (`results_apply`, a Celery job)."""
    with transaction.atomic():
        res = Results.objects.select_for_update().get(pk=res_id, case_id=case.pk)
        if res.status != Results.Status.CHECKED:
            raise NotAllowed(_("Only checked results awaiting review can be accepted."))
        res.status = Results.Status.APPLYING
        res.decided_at = timezone.now()
        res.decided_by = actor
        res.report = {k: v for k, v in res.report.items() if k != "apply_error"}
        res.save(update_fields=["status", "decided_at", "decided_by", "report"])
        pk = res.pk
        transaction.on_commit(lambda: _enqueue_apply(pk))
    return res


def results_apply(res_id) -> str:
    """The Celery job after acceptance: the results imported into the registry in one transaction with
    "accepted" and the case's timeline note (the reason of the registry's change). When the import fails
    nothing is changed and the results are "checked" again with the error, for the clerk to decide anew.
    Idempotent: the row locked, only results "applying" are imported. Returns the status."""
    try:
        with transaction.atomic():
            res = Results.objects.select_for_update().filter(pk=res_id).first()
            if res is None or res.status != Results.Status.APPLYING:
                return res.status if res else "missing"
            case = Case.objects.get(pk=res.case_id)
            diff = results_diff(Path(res.gml.path), case)  # again: the registry may have changed meanwhile
            if diff["outside"]:
                raise ResultsRefused(_("The results change objects outside the work area."))
            applied = _import(Path(res.gml.path), diff, case, dry_run=False)
            res.status = Results.Status.ACCEPTED
            res.report = {**res.report, "applied": applied}
            res.save(update_fields=["status", "report"])
            case_note_add(
                case.pk,
                actor=res.decided_by,
                note=_(
                    "The survey results were accepted and entered into the register (%(n)s new, %(c)s changed, %(r)s retired objects)."
                )
                % {
                    "n": sum(len(v) for v in diff["new"].values()),
                    "c": sum(len(v) for v in diff["changed"].values()),
                    "r": sum(len(v) for v in diff["retired"].values()),
                },
                public=True,
            )
        return Results.Status.ACCEPTED
    except GisportalError as e:  # ResultsRefused, ImportFailed: rolled back, the registry untouched
        error = str(e.message)
    except Exception:
        log.exception("importing survey results %s failed", res_id)
        error = _("The import failed unexpectedly; nothing was entered into the register.")
    with transaction.atomic():
        res = Results.objects.select_for_update().get(pk=res_id)
        if res.status != Results.Status.APPLYING:
            return res.status
        res.status, res.decided_at, res.decided_by = Results.Status.CHECKED, None, None
        res.report = {**res.report, "apply_error": error[:2000]}
        res.save(update_fields=["status", "decided_at", "decided_by", "report"])
    return Results.Status.CHECKED


def results_return(res_id, *, case: Case, actor, remarks: str) -> Results:
    """Send the results back with remarks; nothing is applied; the surveyor may hand in again."""
    remarks = (remarks or "").strip()
    if not remarks:
        raise InvalidInput(_("Say what is to be corrected."))
    with transaction.atomic():
        res = Results.objects.select_for_update().get(pk=res_id, case_id=case.pk)
        if res.status != Results.Status.CHECKED:
            raise NotAllowed(_("Only checked results awaiting review can be returned."))
        res.status = Results.Status.RETURNED
        res.remarks = remarks[:5000]
        res.decided_at = timezone.now()
        res.decided_by = actor
        res.save(update_fields=["status", "remarks", "decided_at", "decided_by"])
        case_note_add(
            case.pk,
            actor=actor,
            note=_("The survey results were returned: %(r)s") % {"r": remarks[:500]},
            public=True,
        )
    return res


STUCK_AFTER = timedelta(minutes=15)  # a check or an entry queued this long ago was lost with the broker


def results_sweep(*, now: datetime | None = None) -> int:
    """Queue again the checks and entries whose job was lost (the broker was down, a worker died)."""
    now = now or timezone.now()
    n = 0
    for res in Results.objects.filter(status=Results.Status.CHECKING, submitted_at__lte=now - STUCK_AFTER):
        _enqueue_check(res.pk)
        n += 1
    for res in Results.objects.filter(
        status=Results.Status.APPLYING, decided_at__isnull=False, decided_at__lte=now - STUCK_AFTER
    ):
        _enqueue_apply(res.pk)
        n += 1
    return n
