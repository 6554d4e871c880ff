"""Celery tasks: thin, each calls one action."""

from __future__ import annotations

from celery import shared_task

from .actions import deliveries_settle, delivery_send


@shared_task(name="delivery.send", autoretry_for=(), ignore_result=True)
def delivery_send_task(delivery_id: str) -> None:
    delivery_send(delivery_id)


@shared_task(name="delivery.settle")
def deliveries_settle_task() -> dict:
    return deliveries_settle()
