"""Dead letters (issue 29): a background task that fails for good is recorded (gisportal/core/deadletters.py,
Celery's task_failure signal) and shown to the staff at /urzad/zadania/, who can send it again once; citizens
see nothing of it."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import override_settings

from gisportal.core.models import FailedTask

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed():
    """A real task failing for good: the import of a job that does not exist (run eagerly, not propagated)."""
    from layers.tasks import import_job

    with override_settings(CELERY_TASK_ALWAYS_EAGER=True, CELERY_TASK_EAGER_PROPAGATES=False):
        result = import_job.apply(args=(987654,))
    assert result.failed()
    return FailedTask.objects.get(task_id=result.id)


def test_a_task_failing_for_good_is_recorded(failed):
    assert failed.task_name == "layers.import_job"
    assert "987654" in failed.args and failed.error.startswith("DoesNotExist")
    assert "import_job_run" in failed.traceback and failed.retried_at is None


def test_staff_see_and_send_again_once(client, make_user, failed):
    clerk = make_user("clerk.tasks", "clerk")
    client.force_login(clerk)
    page = client.get("/urzad/zadania/")
    assert page.status_code == 200 and "layers.import_job" in page.content.decode()
    with mock.patch("celery.current_app.send_task") as send:
        r = client.post("/urzad/zadania/", {"task": failed.pk})
    assert r.status_code == 302
    send.assert_called_once_with("layers.import_job", [987654], {})
    failed.refresh_from_db()
    assert failed.retried_at is not None and failed.retried_by == clerk
    with mock.patch("celery.current_app.send_task") as send:  # once only
        r = client.post("/urzad/zadania/", {"task": failed.pk})
    assert r.status_code == 400 and not send.called
    assert client.post("/urzad/zadania/", {"task": "x"}).status_code == 404
    assert client.post("/urzad/zadania/", {"task": "99999999"}).status_code == 404


def test_citizens_and_strangers_see_nothing(client, make_user, failed):
    assert client.get("/urzad/zadania/").status_code == 302  # to the login page
    client.force_login(make_user("citizen.tasks", "citizen"))
    assert client.get("/urzad/zadania/").status_code == 403
    assert client.post("/urzad/zadania/", {"task": failed.pk}).status_code == 403
    failed.refresh_from_db()
    assert failed.retried_at is None


def test_a_recording_failure_never_raises():
    from django.db import DatabaseError

    from gisportal.core.deadletters import task_failure_record

    with mock.patch.object(FailedTask.objects, "update_or_create", side_effect=DatabaseError("down")):
        task_failure_record("t-1", "x.y", (1,), {}, RuntimeError("boom"))  # logged, not raised
    assert not FailedTask.objects.filter(task_id="t-1").exists()


def test_a_task_is_tried_again_with_back_off_before_it_becomes_a_dead_letter(monkeypatch):
    """The database away: tried again five times (every task inherits it: gisportal/celery.py), then a
    dead letter; a task that recovers on a retry leaves none."""
    from django.db import OperationalError

    from layers import tasks

    assert tasks.import_jobs_sweep.retry_backoff == 10 and tasks.import_jobs_sweep.max_retries == 5
    calls = []

    def away(*args, **kwargs):
        calls.append(1)
        raise OperationalError("connection to server failed")

    monkeypatch.setattr(tasks, "import_jobs_orphaned", away)
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True, CELERY_TASK_EAGER_PROPAGATES=False):
        result = tasks.import_jobs_sweep.apply()
    assert result.failed() and len(calls) == 6
    dead = FailedTask.objects.get(task_name="layers.import_jobs_sweep")
    assert dead.error.startswith("OperationalError")

    calls.clear()

    def back_on_the_second_try(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("connection to server failed")
        return []

    monkeypatch.setattr(tasks, "import_jobs_orphaned", back_on_the_second_try)
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True, CELERY_TASK_EAGER_PROPAGATES=False):
        result = tasks.import_jobs_sweep.apply()
    assert result.successful() and len(calls) == 2
    assert FailedTask.objects.filter(task_name="layers.import_jobs_sweep").count() == 1
