"""Celery tasks: thin, each calls one action."""

from __future__ import annotations

from celery import shared_task

from .actions import receipts_sweep
from .signing import signatures_sweep


@shared_task(name="forms.receipts_sweep")
def receipts_sweep_task() -> int:
    """Receipts for submissions stored without one (the receipt step failed after the commit)."""
    return receipts_sweep()


@shared_task(name="forms.signatures_sweep")
def signatures_sweep_task() -> int:
    """Signature checks of attachments left unchecked (the check after filing failed)."""
    return signatures_sweep()
