"""Celery tasks: thin, each calls one action."""

from __future__ import annotations

from celery import shared_task

from . import actions


@shared_task(name="documents.job_run", acks_late=True)
def job_run(job_id: str) -> str:
    return actions.job_run(job_id)


@shared_task(name="documents.jobs_sweep")
def jobs_sweep() -> int:
    return actions.jobs_sweep()
