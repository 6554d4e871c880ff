"""Celery tasks: thin, each calls one action."""

from __future__ import annotations

import json
from datetime import date

from celery import shared_task

from . import actions


@shared_task(name="payments.reconcile")
def reconcile(day: str | None = None) -> int:
    """Compare yesterday's (or `day`'s) books with each gateway's report; returns differences found."""
    runs = actions.payments_reconcile(date.fromisoformat(day) if day else None)
    return sum(r.differences for r in runs)


@shared_task(name="payments.pending_poll")
def pending_poll() -> int:
    """Ask the gateways about attempts whose notification has not come."""
    return actions.payments_pending_poll()


@shared_task(name="payments.sandbox_notify", autoretry_for=(Exception,), retry_backoff=5, max_retries=5)
def sandbox_notify(body: str, signature: str) -> str:
    """The sandbox gateway's repeated notification, over HTTP to our notification URL as a gateway
    sends it (the first one was delivered before the payer's browser came back)."""
    from .adapters.sandbox import HEADER, http_notify

    return json.dumps(http_notify(body.encode(), {HEADER: signature}))
