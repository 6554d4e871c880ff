"""Office-scoped imports: an office imports only the layers it keeps, only objects inside its own area,
and sees only its own jobs. EGiB: the starosta (county 1418); adresy and mpzp: the gmina (1418043);
granice: the voivodeship geodesist (14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from layers.models import AdministrativeUnit, ImportJob, Parcel, ZoningArea
from services.offices.actions import staff_add
from services.offices.models import Office

from ..egib_files import document, parcel, square

pytestmark = pytest.mark.django_db
NS = "PL.PZGiK.9999.EGiB"


@pytest.fixture(autouse=True)
def eager(settings, tmp_path):
    from gisportal.celery import app

    settings.GISPORTAL_IMPORT_DIR = tmp_path / "imports"
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _staff(make_user, name: str, office_code: str, role: str = "clerk"):
    user = make_user(name, role)
    staff_add(user, Office.objects.get(code=office_code))
    return user


@pytest.fixture
def county(make_user):
    return _staff(make_user, "powiat1", "sp-piaseczno")


@pytest.fixture
def gmina(make_user):
    return _staff(make_user, "gmina1", "um-piaseczno")


@pytest.fixture
def wgik(make_user):
    return _staff(make_user, "wgik1", "wgik-mazowsze", role="geodesist")


def _post(client, user, upload, django_capture_on_commit_callbacks, **data):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/api/imports/", {"file": upload, "policy": "reject", **data})


def _gml(*pids: str) -> SimpleUploadedFile:
    parts = [parcel(f"S{i}", pid, square(500_000 + 100 * i, 500_000)) for i, pid in enumerate(pids)]
    return SimpleUploadedFile("egib.gml", document(*parts).encode(), content_type="application/gml+xml")


def _zoning(ring, name="mpzp.geojson", **props) -> SimpleUploadedFile:
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:2180"}},
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "UCHWALA": "V/5/2026",
                    "OZNACZENIE": "1MN",
                    "DATA_UCHWALY": "2026-01-15",
                    **props,
                },
                "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
            }
        ],
    }
    return SimpleUploadedFile(name, json.dumps(doc).encode(), content_type="application/geo+json")


def _ring_in(teryt: str, size: float = 20.0):
    p = AdministrativeUnit.objects.get(teryt=teryt).geom.point_on_surface
    return square(p.x, p.y, size)


def test_the_county_imports_egib_of_its_own_units(client, county, django_capture_on_commit_callbacks):
    r = _post(client, county, _gml("141899_2.0001.1", "141899_2.0001.2"), django_capture_on_commit_callbacks)
    assert r.status_code == 202
    job = ImportJob.objects.get(pk=r.json()["id"])
    assert job.status == "done" and job.written == 2 and job.scope["teryt"] == "1418"


def test_an_object_of_another_county_stops_the_whole_file(client, county, django_capture_on_commit_callbacks):
    before = Parcel.objects.count()
    r = _post(client, county, _gml("141899_2.0001.1", "141201_1.0001.7"), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get(pk=r.json()["id"])
    assert job.status == "failed" and "141201_1.0001.7" in job.error
    assert Parcel.objects.count() == before  # not even the first, in-county parcel


def test_the_gmina_may_not_import_egib(client, gmina, django_capture_on_commit_callbacks):
    before = Parcel.objects.count()
    r = _post(client, gmina, _gml("141804_5.0001.1"), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get(pk=r.json()["id"])
    assert job.status == "failed" and "EGiB" in job.error
    assert Parcel.objects.count() == before


@pytest.mark.parametrize("layer", ["dzialki", "budynki", "granice"])
def test_the_gmina_is_refused_other_keepers_layers_before_anything_is_stored(
    client, gmina, layer, django_capture_on_commit_callbacks
):
    r = _post(
        client, gmina, _zoning(square(640_000, 470_000)), django_capture_on_commit_callbacks, layer=layer
    )
    assert r.status_code == 403 and r.headers["Content-Type"] == "application/problem+json"
    assert not ImportJob.objects.exists()


def test_the_county_may_not_import_zoning_plans(client, county, django_capture_on_commit_callbacks):
    r = _post(
        client, county, _zoning(square(640_000, 470_000)), django_capture_on_commit_callbacks, layer="mpzp"
    )
    assert r.status_code == 403


def test_the_gmina_imports_a_plan_inside_its_area(
    client, gmina, demo_data, django_capture_on_commit_callbacks
):
    r = _post(client, gmina, _zoning(_ring_in("1418043")), django_capture_on_commit_callbacks, layer="mpzp")
    job = ImportJob.objects.get(pk=r.json()["id"])
    assert job.status == "done", job.error
    assert job.report["written"] == {"plan": 1, "zoning": 1}
    assert ZoningArea.objects.filter(plan__resolution_no="V/5/2026").count() == 1


def test_a_plan_area_in_the_neighbouring_gmina_is_refused(
    client, gmina, demo_data, django_capture_on_commit_callbacks
):
    other = (
        AdministrativeUnit.objects.filter(level="gmina", teryt__startswith="1418")
        .exclude(teryt="1418043")
        .first()
    )
    r = _post(client, gmina, _zoning(_ring_in(other.teryt)), django_capture_on_commit_callbacks, layer="mpzp")
    job = ImportJob.objects.get(pk=r.json()["id"])
    assert job.status == "failed" and "V/5/2026 1MN" in job.error
    assert not ZoningArea.objects.filter(plan__resolution_no="V/5/2026").exists()


def test_a_plan_declaring_another_gmina_is_refused(
    client, gmina, demo_data, django_capture_on_commit_callbacks
):
    r = _post(
        client,
        gmina,
        _zoning(_ring_in("1418043"), TERYT_GMINY="1418053"),
        django_capture_on_commit_callbacks,
        layer="mpzp",
    )
    assert ImportJob.objects.get(pk=r.json()["id"]).status == "failed"


def test_boundaries_are_the_voivodeship_geodesists(client, wgik, gmina, django_capture_on_commit_callbacks):
    outside = {"TERYT": "30", "NAZWA": "wielkopolskie", "POZIOM": "województwo"}
    r = _post(
        client,
        wgik,
        _zoning(square(640_000, 470_000), name="g.geojson", **outside),
        django_capture_on_commit_callbacks,
        layer="granice",
    )
    job = ImportJob.objects.get(pk=r.json()["id"])
    assert job.status == "failed" and "30" in job.error
    assert not AdministrativeUnit.objects.filter(teryt="30").exists()


def test_each_office_sees_its_own_jobs_only(client, county, gmina, django_capture_on_commit_callbacks):
    r = _post(client, county, _gml("141899_2.0001.1"), django_capture_on_commit_callbacks)
    job_id = r.json()["id"]
    client.force_login(gmina)
    assert client.get(f"/api/imports/{job_id}").status_code == 404
    assert client.get("/api/imports/").json()["imports"] == []
    assert client.get(reverse("import_detail", args=[job_id])).status_code == 404
    assert "egib.gml" not in client.get(reverse("import_list")).content.decode()
    client.force_login(county)
    assert client.get(f"/api/imports/{job_id}").status_code == 200
    assert [j["id"] for j in client.get("/api/imports/").json()["imports"]] == [job_id]


def test_staff_without_an_office_import_nothing(client, make_user):
    client.force_login(make_user("lonely", "clerk"))
    r = client.post("/api/imports/", {"file": _gml("141899_2.0001.1")})
    assert r.status_code == 403 and not ImportJob.objects.exists()
    assert client.get(reverse("import_list")).status_code == 403


def test_a_dry_run_checks_and_writes_nothing(client, county, django_capture_on_commit_callbacks):
    before = Parcel.objects.count()
    r = _post(
        client,
        county,
        _gml("141899_2.0001.1", "141899_2.0001.2"),
        django_capture_on_commit_callbacks,
        dry_run="on",
    )
    body = client.get(f"/api/imports/{r.json()['id']}").json()
    assert body["status"] == "done" and body["dry_run"] is True and body["report"]["written"] == {"parcel": 2}
    assert Parcel.objects.count() == before
    page = client.get(reverse("import_detail", args=[body["id"]])).content.decode()
    assert "nic nie zapisano" in page or "nothing was written" in page


@override_settings()
def test_the_uploaded_file_is_removed_once_the_job_has_run(
    client, county, django_capture_on_commit_callbacks
):
    r = _post(client, county, _gml("141899_2.0001.1"), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get(pk=r.json()["id"])
    assert job.status == "done" and job.sha256 and not Path(job.path).exists()
