"""The import loop: read a file's records, check them, stage them and merge them in one transaction.

`registry_import` (layers/actions.py) checks the request and opens the reader; `run` (registry objects)
or `run_plain` (mpzp, granice) does the rest. `read_records` is the one loop that checks records, in
this process and in the reading processes of a large EGiB file (importing/child.py).

Dependencies run one way: actions → pipeline → parallel, readers, load, …; child → pipeline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from ..selectors import data_version_bump
from . import parallel
from .base import ImportFailed, Record, Report
from .early import EarlyMerge
from .load import Loader, trace
from .plain import plain_loader
from .readers import EgibFile
from .scope import ScopeCheck
from .validate import Validator

PUMP_EVERY = 4096  # records of this process's part between two looks at the next part's rows
Tick = Callable[..., None]
Accept = Callable[[Record], object]


def read_records(
    reader,
    report: Report,
    validator: Validator,
    state: dict,
    tick: Tick,
    *,
    policy: str,
    accept: Accept,
    reject: Accept | None = None,
    check_scope: ScopeCheck | None = None,
) -> None:
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


def _read_in_parts(
    cut: parallel.Plan,
    reader: EgibFile,
    report: Report,
    validator: Validator,
    state: dict,
    tick: Tick,
    *,
    policy: str,
    loader: Loader,
    check_scope: ScopeCheck | None = None,
) -> None:
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

            def stage(rec: Record) -> None:
                nonlocal staged
                loader.stage(rec)
                staged += 1
                if (
                    staged % PUMP_EVERY == 0
                ):  # the next part's rows, as far as written, go to PostgreSQL now too
                    streams[0].pump(early.feed)

            read_records(
                reader, report, validator, state, tick, policy=policy, accept=stage, check_scope=check_scope
            )
            trace(f"first part read and staged ({time.process_time():.1f} s of CPU)")
            early.first_part_read(loader.kinds_staged, last_complete=cut.kind_boundary)
            summaries = []
            for child, stream in zip(children, streams, strict=True):
                stream.rest(early.feed)
                early.part_done()
                summaries.append(
                    parallel.collect(child, report, reader.reader)
                )  # raises what went wrong in the child
                done = summaries[-1]
                trace(
                    f"a reading process finished ({done.get('cpu_seconds', 0):.1f} s of CPU, "
                    f"{done.get('finished_at', 0) - time.monotonic():.1f} s ago), its rows staged"
                )
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


def run(
    reader,
    report: Report,
    validator: Validator,
    state: dict,
    tick: Tick,
    *,
    policy: str,
    job_id: int | None,
    dry_run: bool,
    check_scope: ScopeCheck | None = None,
) -> None:
    """Registry objects: staged (a large EGiB file in parts), merged, one transaction."""
    trace("file opened")
    cut = parallel.plan(reader.path) if isinstance(reader, EgibFile) else None
    trace("cut planned")
    with transaction.atomic():
        with Loader(report, job_id=job_id) as loader:
            if cut is None:
                read_records(
                    reader,
                    report,
                    validator,
                    state,
                    tick,
                    policy=policy,
                    accept=loader.stage,
                    check_scope=check_scope,
                )
            else:
                _read_in_parts(
                    cut,
                    reader,
                    report,
                    validator,
                    state,
                    tick,
                    policy=policy,
                    loader=loader,
                    check_scope=check_scope,
                )
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
            data_version_bump()  # in the transaction: the new version commits with the data
    trace("committed")


def run_plain(
    reader,
    report: Report,
    validator: Validator,
    state: dict,
    tick: Tick,
    *,
    policy: str,
    dry_run: bool,
    check_scope: ScopeCheck | None = None,
) -> None:
    """mpzp and granice: rows checked and kept in memory, then written; one transaction."""
    with transaction.atomic():
        loader = plain_loader(reader.kind, report, policy)
        read_records(
            reader,
            report,
            validator,
            state,
            tick,
            policy=policy,
            accept=loader.add,
            reject=loader.reject,
            check_scope=check_scope,
        )
        _finish_reading(reader, report, state)
        tick("writing")
        changed = loader.load()
        state["written"] = report.total_written
        tick("done")
        if dry_run:
            transaction.set_rollback(True)
        elif changed:  # a file that changes nothing leaves the caches of maps and tiles alone
            data_version_bump()  # in the transaction: the new version commits with the data
