"""Celery tasks: thin, each calls one action."""

from __future__ import annotations

from celery import shared_task

from .actions import cases_from_submissions_sweep, cases_payments_sweep


@shared_task(name="cases.from_submissions_sweep")
def from_submissions_sweep() -> int:
    """Cases for e-filed submissions left without one."""
    return cases_from_submissions_sweep()


@shared_task(name="cases.payments_sweep")
def payments_sweep() -> int:
    """Fee documents and paid cases whose callback was lost."""
    return cases_payments_sweep()
