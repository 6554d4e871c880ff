"""Celery application. Tasks stay thin: each calls one action."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gisportal.settings")

app = Celery("gisportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_failure.connect
def _dead_letter(sender=None, task_id=None, exception=None, args=None, kwargs=None, traceback=None, **_kw):
    """A task that failed for good becomes a dead letter the staff see (gisportal/core/deadletters.py)."""
    from gisportal.core.deadletters import task_failure_record

    task_failure_record(task_id, getattr(sender, "name", str(sender)), args, kwargs, exception, traceback)
