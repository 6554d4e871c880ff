"""Writes to the registries. Each action is one transaction."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gisportal.core.errors import GisportalError

from .importing import parallel
from .importing.base import ImportFailed, Report
from .importing.early import EarlyMerge
from .importing.load import Loader, trace
from .importing.plain import PLAIN_LAYERS, PlainValidator, plain_loader
from .importing.readers import EgibFile, open_reader
from .importing.scope import ImportScope, ScopeCheck
from .importing.sniff import sniff
from .importing.validate import Validator
from .models import ImportJob

Progress = Callable[[dict], None]
PUMP_EVERY = 4096  # records of this process's part between two looks at the next part's rows
MAX_FILE_BYTES = int(os.environ.get("GISPORTAL_IMPORT_MAX_BYTES", str(4 * 1024**3)))


def registry_import(path: str | Path, *, fmt: str = "auto", policy: str = "reject", options: dict | None = None,
                    job_id: int | None = None, progress: Progress | None = None, dry_run: bool = False,
                    scope: ImportScope | None = None) -> Report:
    """Import one file into the registries: all or nothing. Raises ImportFailed with a clear message.

    With a `scope` (an office's import), only the layers that office keeps and objects inside its area
    are accepted; the CLI imports without one (the operator of the server)."""
    path = Path(path)
    if policy not in ImportJob.Policy.values:
        raise ImportFailed(_("Unknown policy %(p)s (reject, repair or strict).") % {"p": str(policy)[:20]})
    if not path.exists():
        raise ImportFailed(_("File %(f)s does not exist.") % {"f": path.name})
    if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFailed(_("The file is larger than the limit of %(n)s GB.") % {"n": MAX_FILE_BYTES // 1024**3})
    options = options or {}
    sniffed = sniff(path)  # the format from the bytes; anything but our four formats is refused here
    if scope is not None:
        scope.require_dataset(sniffed.fmt, options.get("layer"))
    check_scope = ScopeCheck(scope) if scope is not None else None
    # mpzp and granice are no IIP registry objects: their own, simpler load path (importing/plain.py)
    plain = options.get("layer") in PLAIN_LAYERS
    if plain and sniffed.fmt == "egib":
        raise ImportFailed(_("EGiB GML files hold no layer %(l)s; import it from GeoPackage, Shapefile or GeoJSON.")
                           % {"l": options["layer"]})
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
            _run_plain(reader, report, validator, state, tick, policy=policy, dry_run=dry_run, check_scope=check_scope)
        else:
            _run(reader, report, validator, state, tick, policy=policy, job_id=job_id, dry_run=dry_run,
                 check_scope=check_scope)
    except (DatabaseError, psycopg.Error) as e:
        diag = getattr(e, "diag", None) or getattr(getattr(e, "__cause__", None), "diag", None)
        constraint = getattr(diag, "constraint_name", None) or ""
        raise ImportFailed(
            _("The data could not be written; nothing was changed (registry rule %(c)s).") % {"c": constraint or "?"}
        ) from None
    return report


def _read(reader, report: Report, validator: Validator, state: dict, tick, *, policy: str, accept, reject=None,
          check_scope=None) -> None:
    """Check each record of the file; hand the valid ones to `accept`, the others to `reject`. A record
    outside the importing office's scope stops the whole file (ImportFailed) before it is staged."""
    for rec in reader:
        report.bump("read", rec.kind)
        state["read"] += 1
        if validator.check(rec):
            if check_scope is not None:
                check_scope(rec)
            accept(rec)
        else:
            report.bump("rejected", rec.kind)
            if policy == "strict":
                first = report.problems[-1]["message"] if report.problems else ""
                raise ImportFailed(_("The file has errors and the policy is strict: %(m)s") % {"m": first})
            if reject:
                reject(rec)
        if state["read"] % 1000 == 0:
            tick()


def _read_in_parts(cut, reader, report: Report, validator: Validator, state: dict, tick, *, policy: str, loader,
                   check_scope=None) -> None:
    """A large EGiB file: this process reads the first part while child processes read the others;
    kinds of object the reading has moved past are merged meanwhile (importing/early.py)."""
    with parallel.workdir_for(reader.path) as workdir:
        scope = check_scope.scope.as_dict() if check_scope is not None else None
        children = parallel.start_children(cut, policy=policy, workdir=Path(workdir), scope=scope)
        streams = [parallel.RowStream(child) for child in children]
        trace("reading processes started")
        try:
            reader.read_part(cut.parts[0], cut.prefix, cut.footer)
            early = EarlyMerge(loader, report, policy=policy)
            staged = 0

            def stage(rec) -> None:
                nonlocal staged
                loader.stage(rec)
                staged += 1
                if staged % PUMP_EVERY == 0:  # the next part's rows, as far as written, go to PostgreSQL now too
                    streams[0].pump(early.feed)

            _read(reader, report, validator, state, tick, policy=policy, accept=stage, check_scope=check_scope)
            trace(f"first part read and staged ({time.process_time():.1f} s of CPU)")
            early.first_part_read(loader.kinds_staged, last_complete=cut.kind_boundary)
            summaries = []
            for child, stream in zip(children, streams, strict=True):
                stream.rest(early.feed)
                early.part_done()
                summaries.append(parallel.collect(child, report, reader.reader))  # raises what went wrong in the child
                done = summaries[-1]
                trace(f"a reading process finished ({done.get('cpu_seconds', 0):.1f} s of CPU, "
                      f"{done.get('finished_at', 0) - time.monotonic():.1f} s ago), its rows staged")
                state["read"] += sum(done["report"]["read"].values())
                tick()
            reader.reader.check_schema()
            early.finish(children, summaries, parallel.add_report)
        finally:
            reader.close()
            for stream in streams:
                stream.close()
            parallel.cleanup(children)


def _finish_reading(reader, report: Report, state: dict) -> None:
    report.source_crs = getattr(reader, "crs_text", "")
    for note in getattr(reader, "notes", []):
        report.notes.append(note)
    if state["read"] == 0:
        raise ImportFailed(_("The file holds no objects to import."))


def _run(reader, report: Report, validator: Validator, state: dict, tick, *, policy: str, job_id, dry_run: bool,
         check_scope=None) -> None:
    trace("file opened")
    cut = parallel.plan(reader.path) if isinstance(reader, EgibFile) else None
    trace("cut planned")
    with transaction.atomic():
        with Loader(report, job_id=job_id) as loader:
            if cut is None:
                _read(reader, report, validator, state, tick, policy=policy, accept=loader.stage, check_scope=check_scope)
            else:
                _read_in_parts(cut, reader, report, validator, state, tick, policy=policy, loader=loader,
                               check_scope=check_scope)
            loader.finish_staging()
            trace("staging done")
        _finish_reading(reader, report, state)
        tick("writing")
        loader.merge(policy=policy)
        trace("merged")
        state["written"] = report.total_written
        tick("done")
        if dry_run:
            transaction.set_rollback(True)
        else:
            from .selectors import data_version_bump

            transaction.on_commit(data_version_bump)
    trace("committed")


def _run_plain(reader, report: Report, validator: Validator, state: dict, tick, *, policy: str, dry_run: bool,
               check_scope=None) -> None:
    """mpzp and granice: rows checked and kept in memory, then written; one transaction."""
    with transaction.atomic():
        loader = plain_loader(reader.kind, report, policy)
        _read(reader, report, validator, state, tick, policy=policy, accept=loader.add, reject=loader.reject,
              check_scope=check_scope)
        _finish_reading(reader, report, state)
        tick("writing")
        changed = loader.load()
        state["written"] = report.total_written
        tick("done")
        if dry_run:
            transaction.set_rollback(True)
        elif changed:  # a file that changes nothing leaves the caches of maps and tiles alone
            from .selectors import data_version_bump

            transaction.on_commit(data_version_bump)


def _cache_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def import_job_create(uploaded, *, user=None, fmt: str = "auto", policy: str = "reject", options: dict | None = None,
                      storage_dir: Path, scope: ImportScope | None = None, dry_run: bool = False) -> ImportJob:
    """Store the uploaded file first (nothing submitted is lost), then record the job. A job of a layer the
    office does not keep is refused here, before anything is stored (ImportFailed)."""
    if scope is not None and (options or {}).get("layer"):
        scope.require_layer(options["layer"])
    storage_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    name = Path(getattr(uploaded, "name", "upload")).name[:200]
    safe = "".join(c for c in name if c.isalnum() or c in "._-") or "upload"
    job = ImportJob.objects.create(created_by=user if user and user.is_authenticated else None, source_name=name,
                                   path="", format=fmt, policy=policy, options=options or {},
                                   scope=scope.as_dict() if scope else {}, dry_run=dry_run)
    target = storage_dir / f"{job.pk:06d}-{safe}"
    size = 0
    with open(target, "wb") as out:
        for chunk in uploaded.chunks() if hasattr(uploaded, "chunks") else iter(lambda: uploaded.read(1 << 20), b""):
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    job.path, job.sha256, job.size = str(target), digest.hexdigest(), size
    job.save(update_fields=["path", "sha256", "size"])
    from .tasks import import_job  # noqa: PLC0415 - tasks import this module

    transaction.on_commit(lambda: import_job.delay(job.pk))
    return job


def import_job_run(job_id: int) -> ImportJob:
    """Run a stored job (idempotent: a job that is done or failed is not run again)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
            return job
        job.status, job.started_at, job.phase = ImportJob.Status.RUNNING, timezone.now(), "reading"
        job.save(update_fields=["status", "started_at", "phase"])

    def progress(state: dict) -> None:
        cache.set(_cache_key(job_id), state, timeout=3600)

    try:
        report = registry_import(job.path, fmt=job.format, policy=job.policy, options=job.options, job_id=job.pk,
                                 progress=progress, dry_run=job.dry_run, scope=ImportScope.from_dict(job.scope))
    except GisportalError as e:
        job.status, job.error = ImportJob.Status.FAILED, str(e.message)
        job.report = {"error": str(e.message)}
    except Exception:  # noqa: BLE001 - an unexpected failure is recorded, never shown raw to users
        import logging

        logging.getLogger(__name__).exception("import job %s failed", job_id)
        job.status, job.error = ImportJob.Status.FAILED, _("Internal error while importing; the administrators have been notified.")
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
        "id": job.pk, "file": job.source_name, "status": job.status, "phase": job.phase,
        "read": job.read, "written": job.written, "rejected": job.rejected,
        "created_at": job.created_at.isoformat(), "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "error": job.error, "dry_run": job.dry_run, "office": (job.scope or {}).get("office", ""),
    }
    if live:
        data.update({k: live[k] for k in ("read", "written", "rejected", "phase") if k in live})
    return data
