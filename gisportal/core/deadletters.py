"""Dead letters: background tasks that failed for good, recorded for the staff (/urzad/zadania/).

Celery's `task_failure` signal (connected in gisportal/celery.py) calls `task_failure_record` once a task
raises and will not be retried (a task that retries with back-off signals `task_retry` instead, until its
retries are used up). The record holds the task's name and arguments (ids; shortened) and the error; the
traceback is for administrators. `task_send_again` sends the same task with the same arguments: every task
is idempotent (it acts on a stored row and skips what is already done), so sending it again is safe.
"""

from __future__ import annotations

import logging
import traceback as tb

from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import InvalidInput
from .models import FailedTask

log = logging.getLogger("gisportal.tasks")
ARGS_MAX = 1000


def task_failure_record(task_id: str, name: str, args, kwargs, error: BaseException, trace=None) -> None:
    """Record a task that failed for good (never raises: a dead letter must not become a second failure)."""
    try:
        FailedTask.objects.update_or_create(
            task_id=str(task_id)[:64],
            defaults={
                "task_name": str(name)[:200],
                "args": repr({"args": list(args or ()), "kwargs": dict(kwargs or {})})[:ARGS_MAX],
                "error": f"{type(error).__name__}: {error}"[:500],
                "traceback": "".join(tb.format_tb(trace))[-4000:] if trace is not None else "",
            },
        )
    except DatabaseError:
        log.exception("task %s (%s) failed and could not be recorded", name, task_id)


def task_send_again(failed: FailedTask, user, send) -> FailedTask:
    """Send a failed task again with its arguments (`send(name, args, kwargs)` returns the new task id)."""
    import ast

    if failed.retried_at is not None:
        raise InvalidInput(_("This task was already sent again."))
    try:
        call = ast.literal_eval(failed.args)
    except (ValueError, SyntaxError):
        raise InvalidInput(
            _("The task's arguments were too long to keep; it cannot be sent again from here.")
        ) from None
    send(failed.task_name, call["args"], call["kwargs"])
    failed.retried_at, failed.retried_by = timezone.now(), user
    failed.save(update_fields=["retried_at", "retried_by"])
    return failed
