"""Import jobs: started from the staff page or the JSON API, run by Celery, progress and report visible."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from gisportal.core.models import User
from layers.models import ImportJob, Parcel

from .egib_files import document, parcel, square

pytestmark = pytest.mark.django_db
NS = "PL.PZGiK.9999.EGiB"


def gml_upload(name="parcels.gml"):
    doc = document(
        parcel("J1", "141899_2.0001.1", square(500_000, 500_000)),
        parcel("J2", "141899_2.0001.2", square(500_100, 500_000)),
    )
    return SimpleUploadedFile(name, doc.encode(), content_type="application/gml+xml")


@pytest.fixture
def clerk(make_user, client):
    """A clerk of the county office (the starosta keeps EGiB; the parcels above lie in county 1418)."""
    from services.offices.actions import staff_add
    from services.offices.models import Office

    user = make_user("importer", "clerk")
    staff_add(user, Office.objects.get(code="sp-piaseczno"))
    client.force_login(user)
    return user


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_api_import_runs_and_reports(client, clerk, tmp_path, settings, django_capture_on_commit_callbacks):
    settings.GISPORTAL_IMPORT_DIR = tmp_path
    from gisportal.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post("/api/imports/", {"file": gml_upload(), "policy": "reject"})
    finally:
        app.conf.task_always_eager = False
    assert r.status_code == 202
    job_id = r.json()["id"]
    job = ImportJob.objects.get(pk=job_id)
    assert job.status == "done" and job.read == 2 and job.written == 2 and job.created_by == clerk
    assert len(job.sha256) == 64 and not Path(job.path).exists()  # stored first, removed once the job has run
    body = client.get(f"/api/imports/{job_id}").json()
    assert body["status"] == "done" and body["report"]["written"] == {"parcel": 2}
    assert Parcel.objects.filter(namespace=NS).count() == 2
    page = client.get(reverse("import_detail", args=[job_id]))
    assert page.status_code == 200 and "parcels.gml" in page.content.decode()


def test_failed_job_keeps_a_clear_error(client, clerk, tmp_path, settings):
    from layers.actions import import_job_create, import_job_run

    settings.GISPORTAL_IMPORT_DIR = tmp_path
    bad = SimpleUploadedFile(
        "bad.gml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    )
    from services.offices.selectors import import_scope_of

    job = import_job_create(bad, user=clerk, storage_dir=tmp_path, scope=import_scope_of(clerk))
    job = import_job_run(job.pk)
    assert job.status == "failed" and "DOCTYPE" in job.error
    assert import_job_run(job.pk).status == "failed"  # idempotent: not run twice
    assert client.get(f"/api/imports/{job.pk}").json()["report"]["error"] == job.error


def test_permissions(client, make_user):
    assert client.get("/api/imports/").status_code == 401
    assert client.get("/api/imports/").headers["Content-Type"] == "application/problem+json"
    client.force_login(make_user("citizen1"))
    assert client.get("/api/imports/").status_code == 403
    assert client.post("/api/imports/", {"file": gml_upload()}).status_code == 403
    assert client.get(reverse("import_list")).status_code == 403
    client.force_login(make_user("wgik1", "geodesist"))
    assert client.get(reverse("import_list")).status_code == 403  # staff without an office import nothing
    from services.offices.actions import staff_add
    from services.offices.models import Office

    staff_add(User.objects.get(username="wgik1"), Office.objects.get(code="wgik-mazowsze"))
    assert client.get(reverse("import_list")).status_code == 200


def test_api_bad_request_is_a_problem(client, clerk):
    r = client.post("/api/imports/", {"policy": "nonsense"})
    assert r.status_code == 400 and r.json()["status"] == 400 and "file" in r.json()["errors"]
    assert client.get("/api/imports/999999").status_code == 404


def test_staff_page_upload_stores_and_redirects(
    client, clerk, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.GISPORTAL_IMPORT_DIR = tmp_path
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = client.post(reverse("import_list"), {"file": gml_upload("x.gml"), "policy": "repair"})
    assert r.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == "queued" and job.policy == "repair" and len(callbacks) == 1  # enqueued after commit


def test_sweeper_requeues_lost_jobs(clerk, tmp_path):
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    from layers.actions import import_job_create
    from layers.tasks import import_jobs_sweep

    job = import_job_create(gml_upload(), user=clerk, storage_dir=tmp_path)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    with mock.patch("layers.tasks.import_job.delay") as delay:
        assert import_jobs_sweep() == 1
    delay.assert_called_once_with(job.pk)


def test_a_job_whose_worker_died_runs_again_once(clerk, tmp_path):
    """A job marked running is queued again only when nobody holds its lock (its worker's connection ended);
    while a runner holds it, the sweep leaves it alone and a second runner does not start it."""
    from datetime import timedelta
    from unittest import mock

    import psycopg
    from django.db import connection
    from django.utils import timezone

    from layers.actions import JOB_LOCK_NAMESPACE, import_job_create, import_job_run
    from layers.tasks import import_jobs_sweep

    job = import_job_create(gml_upload(), user=clerk, storage_dir=tmp_path)
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", started_at=timezone.now() - timedelta(minutes=5)
    )
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    runner = psycopg.connect(
        **{k: v for k, v in params.items() if k in ("host", "port", "user", "password", "dbname")}
    )
    try:  # another worker, alive, running the job
        runner.execute("SELECT pg_advisory_lock(%s, %s)", [JOB_LOCK_NAMESPACE, job.pk])
        with mock.patch("layers.tasks.import_job.delay") as delay:
            assert import_jobs_sweep() == 0
        delay.assert_not_called()
        assert import_job_run(job.pk).status == "running"  # not started twice
        assert Parcel.objects.filter(parcel_id="141899_2.0001.1").count() == 0
    finally:
        runner.close()  # the worker dies: its lock goes with its connection
    with mock.patch("layers.tasks.import_job.delay") as delay:
        assert import_jobs_sweep() == 1
    delay.assert_called_once_with(job.pk)
    done = import_job_run(job.pk)
    assert done.status == "done" and done.written == 2
    assert Parcel.objects.filter(parcel_id__startswith="141899_2.0001.").count() == 2
    assert import_job_run(job.pk).written == 2  # done stays done
    with mock.patch("layers.tasks.import_job.delay") as delay:
        assert import_jobs_sweep() == 0
