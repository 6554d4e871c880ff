"""Celery tasks: thin, each calls one action."""

from __future__ import annotations

from celery import shared_task

from .actions import outbox_deliver, outbox_sweep


@shared_task(name="exchange.deliver", ignore_result=True)
def outbox_deliver_task(pk: int) -> None:
    outbox_deliver(pk)


@shared_task(name="exchange.outbox_sweep")
def outbox_sweep_task() -> dict:
    return outbox_sweep()
