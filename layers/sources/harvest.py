"""Harvesting: the features of a remote WFS type or OGC API collection copied into a local layer
(HarvestedLayer → HarvestedFeature), served like any other catalogue layer (harvested.py).

One run reads every page first (features.py, through the one client, each page retried with back-off on
transient errors), then applies the differences in one transaction, by identifier:
- new: a row;
- changed (properties, or the geometry at 1 mm): the current row retired (`end_object`), a new row;
- gone from the source: retired; rows are never deleted (the history stays);
- unchanged: nothing.
A run that fails (the source unreachable, an endless or looping paging, a page that is not features, a read
smaller than the count the source announced) changes nothing in the layer and says why in its report.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections import Counter
from datetime import date, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gisportal.core.errors import InvalidInput, NotFound
from layers.models import HarvestedFeature, HarvestedLayer, HarvestRun, RemoteSource

from . import features, http
from .http import SourceError

log = logging.getLogger(__name__)
TRANSIENT = {"network", "timeout"}
MAX_WARNINGS = 50
_INT = re.compile(r"^-?\d{1,18}$")
_DEC = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
GEOMETRY_TYPES = {"MultiPolygon": "MultiPolygon", "Point": "Point", "LineString": "LineString"}
_enqueue = None  # set at start-up (tasks.register): harvest runs go to Celery


def _setting(name: str, default):
    return getattr(settings, name, default)


# ---------------------------------------------------------------- layers
def local_name(source: RemoteSource, remote_name: str) -> str:
    """A catalogue name for a harvested layer: `zrodlo<source id>_<remote local name>` (a plain name)."""
    base = features.plain_name(remote_name).lower()
    return f"zrodlo{source.pk}_{base}"[:60].rstrip("_")


def layer_ensure(source_id: int, remote_name: str, *, name: str = "") -> HarvestedLayer:
    """The harvested layer of a remote type or collection (created on first use): only WFS and OGC API
    sources, only names the source's capabilities list."""
    from layers.catalogue import LAYERS

    try:
        source = RemoteSource.objects.get(pk=source_id)
    except (RemoteSource.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("There is no such source.")) from None
    if source.kind not in ("wfs", "ogcapi"):
        raise InvalidInput(_("Only WFS and OGC API sources are harvested; a WMS layer is cascaded."))
    offered = {x.get("name"): x for x in (source.capabilities or {}).get("layers", [])}
    if remote_name not in offered:
        raise InvalidInput(
            _("The source offers no %(name)s (refresh its capabilities?).") % {"name": remote_name[:200]}
        )
    existing = HarvestedLayer.objects.filter(source=source, remote_name=remote_name).first()
    if existing is not None:
        return existing
    name = (name or local_name(source, remote_name)).lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,59}", name) or name in {x.name for x in LAYERS}:
        raise InvalidInput(
            _("%(name)s cannot be a layer name (taken, or not a plain name).") % {"name": name}
        )
    if HarvestedLayer.objects.filter(name=name).exists():
        raise InvalidInput(
            _("%(name)s cannot be a layer name (taken, or not a plain name).") % {"name": name}
        )
    title = str(offered[remote_name].get("title") or remote_name)[:200]
    return HarvestedLayer.objects.create(
        name=name,
        source=source,
        remote_name=remote_name,
        title_pl=title,
        title_en=title,
        abstract_pl=f"Dane pobrane z {source.title or source.url} ({remote_name}).",
        abstract_en=f"Data harvested from {source.title or source.url} ({remote_name}).",
    )


# ---------------------------------------------------------------- runs
def harvest_request(layer_id: int, *, trigger: str = "manual", enqueue: bool = True) -> HarvestRun:
    """A queued run of the layer (the one already queued or running, if any), sent to the worker after
    the commit (unless `enqueue` is False: the caller runs it)."""
    with transaction.atomic():
        layer = HarvestedLayer.objects.select_for_update().get(pk=layer_id)
        run = layer.runs.filter(status__in=[HarvestRun.Status.QUEUED, HarvestRun.Status.RUNNING]).first()
        if run is None:
            run = HarvestRun.objects.create(layer=layer, trigger=trigger)
            if enqueue and _enqueue is not None:
                transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def harvest_due(now: datetime | None = None) -> int:
    """Beat: queue a run of every enabled layer harvested on a schedule whose interval has passed."""
    now = now or timezone.now()
    n = 0
    for layer in HarvestedLayer.objects.filter(enabled=True, interval_hours__gt=0):
        due = (
            layer.harvested_at is None
            or (now - layer.harvested_at).total_seconds() >= layer.interval_hours * 3600
        )
        if due:
            harvest_request(layer.pk, trigger="schedule")
            n += 1
    return n


def _fetch_retrying(report: dict):
    """http.get with retries and exponential back-off on transient failures (network, timeout, 5xx, 429)."""
    retries = int(_setting("GISPORTAL_HARVEST_RETRIES", 3))
    backoff = float(_setting("GISPORTAL_HARVEST_BACKOFF", 1.0))

    def fetch(url: str, *, accept: str = ""):
        for attempt in range(retries + 1):
            try:
                answer = http.get(url, accept=accept)
                report["requests"] += 1
                return answer
            except SourceError as e:
                report["requests"] += 1
                status = getattr(e, "remote_status", 0)
                transient = e.code in TRANSIENT or status >= 500 or status == 429
                if not transient or attempt == retries:
                    raise
                report["retries"] += 1
                time.sleep(backoff * (2**attempt))
        raise AssertionError("unreachable")

    return fetch


def _digest(props: dict, geom) -> str:
    import shapely
    from shapely import wkb as shapely_wkb

    h = hashlib.sha256(json.dumps(props, sort_keys=True, ensure_ascii=False, default=str).encode())
    if geom is not None:
        shape = shapely.set_precision(shapely_wkb.loads(bytes(geom.wkb)), 0.001, mode="pointwise")
        h.update(shapely_wkb.dumps(shape))
    return h.hexdigest()


def _kind(values: list) -> str:
    present = [v for v in values if v is not None and v != ""]
    if not present:
        return "string"
    if all(isinstance(v, bool) for v in present):
        return "string"
    if all(
        isinstance(v, int) and not isinstance(v, bool) or (isinstance(v, str) and _INT.match(v))
        for v in present
    ):
        return "integer"
    if all(
        isinstance(v, (int, float)) and not isinstance(v, bool) or (isinstance(v, str) and _DEC.match(v))
        for v in present
    ):
        return "decimal"
    if all(isinstance(v, str) and _DATE.match(v) for v in present):
        return "date"
    if all(isinstance(v, str) and _DATETIME.match(v) for v in present):
        return "datetime"
    return "string"


def _typed(value, kind: str):
    """A property value as stored (JSON): numbers as numbers, the rest as text; None stays None."""
    if value is None or value == "":
        return None
    try:
        if kind == "integer":
            return int(value)
        if kind == "decimal":
            return float(value)
    except (TypeError, ValueError):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _geometry_type(geoms) -> str:
    kinds = Counter(g.geom_type for g in geoms if g is not None)
    if not kinds:
        return ""
    top = kinds.most_common(1)[0][0]
    return GEOMETRY_TYPES.get(top, "")


def _read(layer: HarvestedLayer, run: HarvestRun, report: dict) -> dict[str, tuple]:
    """Every page of the remote type or collection: {fid: (properties as read, geometry)}."""
    source = layer.source
    page_size = int(_setting("GISPORTAL_HARVEST_PAGE_SIZE", 1000))
    max_features = int(_setting("GISPORTAL_HARVEST_MAX_FEATURES", 500_000))
    max_pages = max_features // page_size + 2
    fetch = _fetch_retrying(report)
    pages = (features.wfs_pages if source.kind == "wfs" else features.ogcapi_pages)(
        source, layer.remote_name, page_size=page_size, max_pages=max_pages, fetch=fetch
    )
    read: dict[str, tuple] = {}
    matched = None
    first_ids: set[str] = set()
    for page in pages:
        report["warnings"] += page.warnings[: MAX_WARNINGS - len(report["warnings"])]
        if page.matched is not None:
            matched = page.matched
        ids = []
        for f in page.features:
            fid = str(f.properties.get(layer.id_property) or "") if layer.id_property else f.fid
            fid = fid.strip()[:200]
            if not fid:
                report["skipped"] += 1
                continue
            if fid in read:
                report["duplicates"] += 1
            read[fid] = (f.properties, f.geom)
            ids.append(fid)
        if run.pages == 0:
            first_ids = set(ids)
        elif ids and set(ids) <= first_ids:  # a server that ignores STARTINDEX sends page 1 again
            raise SourceError(
                _(
                    "The source sends the same features on every page (it does not page); the harvest stopped."
                ),
                code="paging_loop",
            )
        run.pages += 1
        run.read = len(read)
        HarvestRun.objects.filter(pk=run.pk).update(pages=run.pages, read=run.read)
        if len(read) > max_features:
            raise SourceError(
                _("The source has more than %(n)s features; the harvest stopped.") % {"n": max_features},
                code="too_many",
            )
    if matched is not None and len(read) + report["skipped"] < matched:
        raise SourceError(
            _("The source announced %(m)s features but gave %(n)s; nothing was changed.")
            % {"m": matched, "n": len(read)},
            code="incomplete",
        )
    return read


def _attributes(layer: HarvestedLayer, read: dict[str, tuple], report: dict) -> list[dict]:
    """The layer's attributes: fixed by its first harvest (from the values read); later harvests keep them
    and say which new properties they do not publish."""
    names: dict[str, None] = {}
    for props, _g in read.values():
        for k in props:
            names.setdefault(k, None)
    if layer.attributes:
        known = {a["name"] for a in layer.attributes}
        extra = [n for n in names if n not in known and n != "ID"]
        if extra:
            report["warnings"].append(
                _("New properties not published (a new layer would publish them): %(names)s")
                % {"names": ", ".join(extra[:20])}
            )
        return layer.attributes
    attrs = []
    for n in list(names)[:100]:
        if n.upper() == "ID":
            continue
        attrs.append({"name": n, "type": _kind([p.get(n) for p, _g in read.values()])})
    return attrs


def _apply(
    layer: HarvestedLayer, read: dict[str, tuple], attrs: list[dict], run: HarvestRun, report: dict
) -> None:
    now = timezone.now()
    geometry_type = layer.geometry_type or _geometry_type(g for _p, g in read.values())
    rows: dict[str, tuple[dict, object, str]] = {}
    for fid, (props, geom) in read.items():
        if geom is not None and GEOMETRY_TYPES.get(geom.geom_type) != geometry_type:
            report["skipped"] += 1
            if len(report["warnings"]) < MAX_WARNINGS:
                report["warnings"].append(
                    _("%(fid)s: a %(type)s in a layer of %(layer_type)s; left out.")
                    % {"fid": fid, "type": geom.geom_type, "layer_type": geometry_type}
                )
            continue
        typed = {a["name"]: _typed(props.get(a["name"]), a["type"]) for a in attrs}
        rows[fid] = (typed, geom, _digest(typed, geom))
    with transaction.atomic():
        locked = HarvestedLayer.objects.select_for_update().get(pk=layer.pk)
        current = dict(
            HarvestedFeature.objects.filter(layer=locked, end_object__isnull=True).values_list(
                "fid", "digest"
            )
        )
        new = [f for f in rows if f not in current]
        changed = [f for f in rows if f in current and current[f] != rows[f][2]]
        gone = [f for f in current if f not in rows]
        ended = changed + gone
        for i in range(0, len(ended), 5000):
            HarvestedFeature.objects.filter(
                layer=locked, end_object__isnull=True, fid__in=ended[i : i + 5000]
            ).update(end_object=now)
        HarvestedFeature.objects.bulk_create(
            (
                HarvestedFeature(
                    layer=locked,
                    fid=f,
                    properties=rows[f][0],
                    geom=rows[f][1],
                    digest=rows[f][2],
                    start_version=now,
                )
                for f in new + changed
            ),
            batch_size=2000,
        )
        locked.attributes = attrs
        locked.geometry_type = geometry_type
        locked.harvested_at = now
        locked.save(update_fields=["attributes", "geometry_type", "harvested_at"])
        run.new, run.changed, run.retired = len(new), len(changed), len(gone)
        run.unchanged = len(rows) - len(new) - len(changed)
        _catalogue_changed()  # in the transaction: the new data version commits with the features


def _catalogue_changed() -> None:
    from layers.selectors import data_version_bump

    data_version_bump()


def harvest_run(run_id: int) -> HarvestRun:
    """Carry out a queued run (idempotent: a run already finished is returned as it is; one harvest of a
    layer at a time, by a PostgreSQL advisory lock)."""
    run = HarvestRun.objects.select_related("layer", "layer__source").get(pk=run_id)
    if run.status in (HarvestRun.Status.DONE, HarvestRun.Status.FAILED):
        return run
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [7331, run.layer_id])
        if not cur.fetchone()[0]:
            return run  # another worker has this layer; this run stays queued and is picked up again
    try:
        return _run(run)
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", [7331, run.layer_id])


def _run(run: HarvestRun) -> HarvestRun:
    layer = run.layer
    started = time.monotonic()
    report = {"requests": 0, "retries": 0, "skipped": 0, "duplicates": 0, "warnings": []}
    run.status, run.started_at, run.attempts = HarvestRun.Status.RUNNING, timezone.now(), run.attempts + 1
    run.pages = run.read = 0
    run.save(update_fields=["status", "started_at", "attempts", "pages", "read"])
    try:
        read = _read(layer, run, report)
        report["read_seconds"] = round(time.monotonic() - started, 2)
        attrs = _attributes(layer, read, report)
        _apply(layer, read, attrs, run, report)
        run.status = HarvestRun.Status.DONE
    except SourceError as e:
        run.status, run.error = HarvestRun.Status.FAILED, str(e.message)[:2000]
        report["code"] = e.code
    except Exception as e:  # a bug or the database: said in the run, logged with the trace
        log.exception("harvest run %s failed", run.pk)
        run.status, run.error = (
            HarvestRun.Status.FAILED,
            _("Internal error: %(kind)s") % {"kind": type(e).__name__},
        )
        report["code"] = "internal"
    report["seconds"] = round(time.monotonic() - started, 2)
    report["warnings"] = [str(w)[:300] for w in report["warnings"][:MAX_WARNINGS]]
    run.report = report
    run.finished_at = timezone.now()
    run.save()
    return run


def harvest_now(layer_id: int, *, trigger: str = "cli") -> HarvestRun:
    """Request a run and carry it out in this process (the command; tests)."""
    run = harvest_request(layer_id, trigger=trigger, enqueue=False)
    return harvest_run(run.pk)


# ---------------------------------------------------------------- staff pages
def harvest_start(source_id: int, remote_name: str) -> HarvestRun:
    """Staff: harvest a chosen remote layer now (its local layer made on first use); a queued run."""
    layer = layer_ensure(source_id, remote_name)
    return harvest_request(layer.pk, trigger="manual")


def harvest_schedule(layer_id: int, hours: int) -> HarvestedLayer:
    """Staff: harvest the layer every `hours` hours (0: on demand only; at most weekly)."""
    if not 0 <= hours <= 24 * 7:
        raise InvalidInput(_("Give a number of hours from 0 to 168."))
    updated = HarvestedLayer.objects.filter(pk=layer_id).update(interval_hours=hours)
    if not updated:
        raise NotFound(_("There is no such layer."))
    return HarvestedLayer.objects.get(pk=layer_id)


def source_axis(source_id: int, value: str) -> RemoteSource:
    """Staff: the source's axis order override (for a server that gets it wrong)."""
    if value not in RemoteSource.Axis.values:
        raise InvalidInput(_("Unknown axis order."))
    if not RemoteSource.objects.filter(pk=source_id).update(axis_override=value):
        raise NotFound(_("There is no such source."))
    return RemoteSource.objects.get(pk=source_id)


def harvest_overview(source: RemoteSource) -> list[dict]:
    """Per chosen remote layer of a WFS or OGC API source: its local layer (if harvested) and last runs."""
    if source.kind not in ("wfs", "ogcapi"):
        return []
    layers = {h.remote_name: h for h in HarvestedLayer.objects.filter(source=source)}
    rows = []
    for name in source.chosen or []:
        h = layers.get(name)
        rows.append({"remote": name, "layer": h, "runs": list(h.runs.all()[:5]) if h else []})
    return rows
