"""Celery tasks: thin, each calls one action."""

from __future__ import annotations

from celery import shared_task

from . import actions


@shared_task(name="surveys.package_build", acks_late=True)
def package_build(package_id: str) -> str:
    return actions.package_build(package_id)
