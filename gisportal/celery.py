"""Celery application. Tasks stay thin: each calls one action."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gisportal.settings")

app = Celery("gisportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
