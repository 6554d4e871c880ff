"""Celery tasks: thin, each calls one action."""

from __future__ import annotations

from celery import shared_task

from . import actions, results


@shared_task(name="surveys.package_build", acks_late=True)
def package_build(package_id: str) -> str:
    return actions.package_build(package_id)


@shared_task(name="surveys.results_check", acks_late=True)
def results_check(results_id: str) -> str:
    return results.results_check(results_id)


@shared_task(name="surveys.results_apply", acks_late=True)
def results_apply(results_id: str) -> str:
    return results.results_apply(results_id)


@shared_task(name="surveys.sweep")
def sweep() -> dict:
    """Lost jobs queued again: results checks and entries, and packages (actions.package_sweep)."""
    return {"results": results.results_sweep(), "packages": actions.package_sweep()}
