"""Celery tasks: thin, each calls one action."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from .actions import import_job_run, import_jobs_orphaned, import_queue_register
from .models import HarvestRun, ImportJob
from .sources import harvest


@shared_task(name="layers.import_job", acks_late=True, max_retries=3)
def import_job(job_id: int) -> str:
    return import_job_run(job_id).status


@shared_task(name="layers.import_jobs_sweep")
def import_jobs_sweep() -> int:
    """Re-queue stored jobs whose enqueue was lost (the file is kept, so nothing submitted is lost) and jobs
    whose worker died while running them (their lock is free: `import_jobs_orphaned`)."""
    stale = ImportJob.objects.filter(
        status=ImportJob.Status.QUEUED, created_at__lt=timezone.now() - timedelta(minutes=5)
    )
    n = 0
    for job_id in [*stale.values_list("pk", flat=True)[:50], *import_jobs_orphaned()]:
        import_job.delay(job_id)
        n += 1
    return n


@shared_task(
    name="layers.harvest_run",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=30,
    max_retries=3,
)
def harvest_run(run_id: int) -> str:
    return harvest.harvest_run(run_id).status


@shared_task(name="layers.harvest_due")
def harvest_due() -> int:
    """Beat: queue the scheduled harvests that are due, and again the runs whose enqueue was lost."""
    n = harvest.harvest_due()
    stale = HarvestRun.objects.filter(
        status=HarvestRun.Status.QUEUED, created_at__lt=timezone.now() - timedelta(minutes=10)
    )
    for run_id in stale.values_list("pk", flat=True)[:20]:
        harvest_run.delay(run_id)
    return n


def _enqueue(job_id: int) -> None:
    import_job.delay(job_id)


def register() -> None:
    """Called once at start-up (LayersConfig.ready): stored import jobs are run by `import_job`, harvest
    runs by `harvest_run`."""
    import_queue_register(_enqueue)
    harvest._enqueue = harvest_run.delay
