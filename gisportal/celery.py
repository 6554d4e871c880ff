"""Celery application. Tasks stay thin: each calls one action."""

import os

from celery import Celery, Task, signals
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gisportal.settings")


class GisportalTask(Task):
    """What every task inherits: acknowledged late (settings: a task a dying worker held is delivered again;
    every task acts on stored rows and skips what is done), and tried again with exponential back-off (10 s
    doubling to 10 min, with jitter, five times) when the database is away or a lock or statement timed out;
    then it fails for good and becomes a dead letter (below). A task may set its own (delivery.send: none)."""

    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = 10
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 5


app = Celery("gisportal", task_cls=GisportalTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_failure.connect
def _dead_letter(sender=None, task_id=None, exception=None, args=None, kwargs=None, traceback=None, **_kw):
    """A task that failed for good becomes a dead letter the staff see (gisportal/core/deadletters.py)."""
    from gisportal.core.deadletters import task_failure_record

    task_failure_record(task_id, getattr(sender, "name", str(sender)), args, kwargs, exception, traceback)
