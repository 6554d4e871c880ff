"""Writes to the registries. Each action is one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gisportal.core.errors import GisportalError

from .importing import pipeline
from .importing.base import ImportFailed, Report
from .importing.plain import PLAIN_LAYERS, PlainValidator
from .importing.readers import open_reader
from .importing.scope import ImportScope, ScopeCheck
from .importing.sniff import sniff
from .importing.validate import Validator
from .models import ImportJob

Progress = Callable[[dict], None]
MAX_FILE_BYTES: int = settings.GISPORTAL_IMPORT_MAX_BYTES


def registry_import(
    path: str | Path,
    *,
    fmt: str = "auto",
    policy: str = "reject",
    options: dict | None = None,
    job_id: int | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
    scope: ImportScope | None = None,
) -> Report:
    """Import one file into the registries: all or nothing. Raises ImportFailed with a clear message.

    With a `scope` (an office's import), only the layers that office keeps and objects inside its area
    are accepted; the CLI imports without one (the operator of the server)."""
    path = Path(path)
    if policy not in ImportJob.Policy.values:
        raise ImportFailed(_("Unknown policy %(p)s (reject, repair or strict).") % {"p": str(policy)[:20]})
    if not path.exists():
        raise ImportFailed(_("File %(f)s does not exist.") % {"f": path.name})
    if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFailed(
            _("The file is larger than the limit of %(n)s GB.") % {"n": MAX_FILE_BYTES // 1024**3}
        )
    options = options or {}
    sniffed = sniff(path)  # the format from the bytes; anything but our four formats is refused here
    if scope is not None:
        scope.require_dataset(sniffed.fmt, options.get("layer"))
    check_scope = ScopeCheck(scope) if scope is not None else None
    # mpzp and granice are no IIP registry objects: their own, simpler load path (importing/plain.py)
    plain = options.get("layer") in PLAIN_LAYERS
    if plain and sniffed.fmt == "egib":
        raise ImportFailed(
            _("EGiB GML files hold no layer %(l)s; import it from GeoPackage, Shapefile or GeoJSON.")
            % {"l": options["layer"]}
        )
    report = Report()
    validator = PlainValidator(report, policy) if plain else Validator(report, policy)
    state = {"read": 0, "written": 0, "rejected": 0, "phase": "reading"}

    def tick(phase: str | None = None) -> None:
        if phase:
            state["phase"] = phase
        state["rejected"] = report.total_rejected
        if progress:
            progress(dict(state))

    reader = open_reader(path, fmt=fmt, options=options, sniffed=sniffed)
    try:
        if plain:
            pipeline.run_plain(
                reader,
                report,
                validator,
                state,
                tick,
                policy=policy,
                dry_run=dry_run,
                check_scope=check_scope,
            )
        else:
            pipeline.run(
                reader,
                report,
                validator,
                state,
                tick,
                policy=policy,
                job_id=job_id,
                dry_run=dry_run,
                check_scope=check_scope,
            )
    except (DatabaseError, psycopg.Error) as e:
        diag = getattr(e, "diag", None) or getattr(getattr(e, "__cause__", None), "diag", None)
        constraint = getattr(diag, "constraint_name", None) or ""
        raise ImportFailed(
            _("The data could not be written; nothing was changed (registry rule %(c)s).")
            % {"c": constraint or "?"}
        ) from None
    return report


# Where a stored job goes to be run: layers/tasks.py registers its Celery task at start-up
# (LayersConfig.ready), so this module never imports the tasks that import it.
_import_queue: Callable[[int], object] | None = None


def import_queue_register(enqueue: Callable[[int], object]) -> None:
    global _import_queue
    _import_queue = enqueue


def _cache_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def import_job_create(
    uploaded,
    *,
    user=None,
    fmt: str = "auto",
    policy: str = "reject",
    options: dict | None = None,
    storage_dir: Path,
    scope: ImportScope | None = None,
    dry_run: bool = False,
) -> ImportJob:
    """Store the uploaded file first (nothing submitted is lost), then record the job. A job of a layer the
    office does not keep is refused here, before anything is stored (ImportFailed)."""
    if scope is not None and (options or {}).get("layer"):
        scope.require_layer(options["layer"])
    storage_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    name = Path(getattr(uploaded, "name", "upload")).name[:200]
    safe = "".join(c for c in name if c.isalnum() or c in "._-") or "upload"
    job = ImportJob.objects.create(
        created_by=user if user and user.is_authenticated else None,
        source_name=name,
        path="",
        format=fmt,
        policy=policy,
        options=options or {},
        scope=scope.as_dict() if scope else {},
        dry_run=dry_run,
    )
    target = storage_dir / f"{job.pk:06d}-{safe}"
    size = 0
    with open(target, "wb") as out:
        for chunk in (
            uploaded.chunks() if hasattr(uploaded, "chunks") else iter(lambda: uploaded.read(1 << 20), b"")
        ):
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    job.path, job.sha256, job.size = str(target), digest.hexdigest(), size
    job.save(update_fields=["path", "sha256", "size"])
    enqueue = _import_queue
    if enqueue is None:
        raise RuntimeError(
            "no import queue registered (layers.apps.LayersConfig.ready registers layers.tasks)"
        )
    transaction.on_commit(lambda: enqueue(job.pk))
    return job


# A running job holds a session-level advisory lock (namespace, job id) on its database connection: the
# database releases it when the runner's connection ends, whatever ended it (a killed worker, a lost host), so
# `import_jobs_orphaned` can tell a job still running from one whose worker died, without heartbeats.
JOB_LOCK_NAMESPACE = 7_104  # the first key of pg_advisory_lock(int, int) for import jobs


def _lock_job(job_id: int) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [JOB_LOCK_NAMESPACE, job_id])
        return bool(cur.fetchone()[0])


def _unlock_job(job_id: int) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCK_NAMESPACE, job_id])


def import_jobs_orphaned(older_than: timedelta = timedelta(minutes=1)) -> list[int]:
    """Jobs marked running whose runner is gone (nobody holds their lock): to be queued again. A job's
    import is one transaction, so a run that died wrote nothing and the next run starts afresh."""
    orphans = []
    stale = ImportJob.objects.filter(
        status=ImportJob.Status.RUNNING, started_at__lt=timezone.now() - older_than
    )
    for job_id in stale.values_list("pk", flat=True)[:50]:
        if _lock_job(job_id):  # free: its runner's connection has ended
            _unlock_job(job_id)
            orphans.append(job_id)
    return orphans


def import_job_run(job_id: int) -> ImportJob:
    """Run a stored job (idempotent: a job that is done or failed is not run again, nor one that another
    runner is running now; one whose runner died is run again from the start)."""
    if not _lock_job(job_id):
        return ImportJob.objects.get(pk=job_id)  # another worker runs it now
    try:
        return _import_job_run_locked(job_id)
    finally:
        _unlock_job(job_id)


def _import_job_run_locked(job_id: int) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
            return job
        job.status, job.started_at, job.phase = ImportJob.Status.RUNNING, timezone.now(), "reading"
        job.save(update_fields=["status", "started_at", "phase"])

    def progress(state: dict) -> None:
        cache.set(_cache_key(job_id), state, timeout=3600)

    try:
        report = registry_import(
            job.path,
            fmt=job.format,
            policy=job.policy,
            options=job.options,
            job_id=job.pk,
            progress=progress,
            dry_run=job.dry_run,
            scope=ImportScope.from_dict(job.scope),
        )
    except GisportalError as e:
        job.status, job.error = ImportJob.Status.FAILED, str(e.message)
        job.report = {"error": str(e.message)}
    except Exception:
        import logging

        logging.getLogger(__name__).exception("import job %s failed", job_id)
        job.status, job.error = (
            ImportJob.Status.FAILED,
            _("Internal error while importing; the administrators have been notified."),
        )
        job.report = {"error": job.error}
    else:
        job.status = ImportJob.Status.DONE
        job.report = report.as_dict()
        job.read, job.written, job.rejected = report.total_read, report.total_written, report.total_rejected
    job.finished_at, job.phase = timezone.now(), job.status
    job.save()
    cache.delete(_cache_key(job_id))
    _discard_upload(job)
    return job


def _discard_upload(job: ImportJob) -> None:
    """An uploaded file (it may hold PESEL numbers) is kept only until its job has run; its digest stays."""
    if job.path:
        Path(job.path).unlink(missing_ok=True)


def import_job_progress(job: ImportJob) -> dict:
    live = cache.get(_cache_key(job.pk)) if job.status == ImportJob.Status.RUNNING else None
    data = {
        "id": job.pk,
        "file": job.source_name,
        "status": job.status,
        "phase": job.phase,
        "read": job.read,
        "written": job.written,
        "rejected": job.rejected,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "error": job.error,
        "dry_run": job.dry_run,
        "office": (job.scope or {}).get("office", ""),
    }
    if live:
        data.update({k: live[k] for k in ("read", "written", "rejected", "phase") if k in live})
    return data
