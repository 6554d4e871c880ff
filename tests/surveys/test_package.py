"""The surveyor's materials package (issue 26): a work notification filed by a surveyor over a few demo
parcels, its DOO issued by the county clerk and booked as paid, the package requested by the payment hook
(once), built into an ASiC-E container the portal's verifier passes with the county as signer; egib.gml
holds exactly the area's parcels, dzialki.csv lists them, the read is logged; the API answers 402 before
payment, 404 to anyone else, 409 while it is prepared, 200 with the zip, 410 after expiry."""

# ruff: noqa: S608 (SQL from constants; the area is a bound parameter)
from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import time
import uuid
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection
from django.test import Client
from django.utils import timezone
from lxml import etree

from layers.models import AdministrativeUnit, Parcel, RestrictedAccessLog
from services.cases.actions import case_fee_issue
from services.cases.models import Case
from services.forms.actions import submission_file
from services.forms.models import ServiceDefinition
from services.offices.models import Office, StaffMembership
from services.payments.actions import payment_transfer_book
from services.payments.models import Payment
from services.surveys import actions, package
from services.surveys.models import Package

pytestmark = pytest.mark.django_db
EGB = "ewidencjaGruntowIBudynkow:1.0"
APPLICANT = {
    "applicant_name": "Ewa Mierniczy",
    "email": "ewa@example.pl",
    "postal_code": "05-500",
    "locality": "Piaseczno",
}
AREA = "ST_GeomFromEWKB(%(area)s)"
# the parcels the area export writes (layers.exporting.egib, current only): those intersecting the area and
# those under a building that intersects it
PARCELS_SQL = f"""
    SELECT count(*) FROM (
        SELECT id FROM layers_parcel WHERE end_object IS NULL AND ST_Intersects(geom, {AREA})
        UNION SELECT bp.parcel_id FROM layers_building_parcels bp
            JOIN layers_building b ON b.id = bp.building_id
            JOIN layers_parcel p ON p.id = bp.parcel_id
        WHERE b.end_object IS NULL AND p.end_object IS NULL AND ST_Intersects(b.geom, {AREA})
    ) x"""


@pytest.fixture(scope="module")
def few_parcels(demo_data, django_db_blocker):
    """Three neighbouring town parcels well inside the county; the work area is their hull."""
    with django_db_blocker.unblock():
        county = AdministrativeUnit.objects.get(teryt="1418").geom
        for p in (
            Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[30:300]
        ):
            near = list(
                Parcel.objects.current()
                .filter(geom__touches=p.geom)
                .exclude(pk=p.pk)
                .order_by("parcel_id")[:2]
            )
            if len(near) < 2:
                continue
            hull = p.geom.union(near[0].geom).union(near[1].geom).convex_hull
            hull.srid = 2180
            if county.contains(hull.buffer(500)) and hull.area < 40000:
                return {"ids": [p.parcel_id, near[0].parcel_id, near[1].parcel_id], "area": hull}
    raise AssertionError("no three neighbouring parcels well inside the county")


@pytest.fixture
def queued(monkeypatch):
    jobs: list[str] = []
    monkeypatch.setattr(actions, "_enqueue", lambda pk: jobs.append(str(pk)))
    return jobs


@pytest.fixture
def county():
    office = Office.objects.get(code="sp-piaseczno")
    office.fee_account = "PL61109010140000071219812874"
    office.save(update_fields=["fee_account"])
    return office


@pytest.fixture
def county_clerk(make_user, county):
    user = make_user("geodeta.powiat", "clerk", first_name="Anna", last_name="Nowak")
    StaffMembership.objects.create(user=user, office=county, unit=county.units.get(code="GK"))
    return user


@pytest.fixture
def surveyor(make_user):
    return make_user("geo", "surveyor", first_name="Ewa", last_name="Mierniczy", licence_no="12345")


@pytest.fixture
def filed(surveyor, county, few_parcels) -> Case:
    service = ServiceDefinition.objects.get(code="zgloszenie-prac", active=True)
    data = {
        **APPLICANT,
        "parcels": few_parcels["ids"],
        "licence_no": "12345",
        "purpose": "podzial",
        "materials": ["egib", "warstwy", "mapa", "punkty"],
        "end_date": "2027-03-01",
        "work_area": few_parcels["area"].wkt,
    }
    sub = submission_file(service, data, user=surveyor, idempotency_key=str(uuid.uuid4()))
    return Case.objects.get(submission=sub)


def _pay(case, clerk, capture) -> Payment:
    lines = [
        {
            "label": "materiały zasobu",
            "quantity": 1,
            "unit_price": Decimal("50.00"),
            "amount": Decimal("50.00"),
        }
    ]
    payment = case_fee_issue(case.pk, actor=clerk, key=f"doo-{case.pk}", lines=lines)
    with capture(execute=True):
        payment_transfer_book(
            payment.pk,
            actor=clerk,
            amount=payment.amount,
            booked_on=timezone.localdate(),
            statement="PKO BP Ewa Mierniczy " + payment.document.number,
        )
    payment.refresh_from_db()
    return payment


@pytest.fixture
def paid(filed, county_clerk, queued, django_capture_on_commit_callbacks) -> Case:
    payment = _pay(filed, county_clerk, django_capture_on_commit_callbacks)
    assert payment.status == "paid"
    return filed


def _api(user, kerg):
    c = Client()
    if user is not None:
        c.force_login(user)
    return c.get(f"/api/surveys/{kerg}/package")


# ------------------------------------------------------------------ before payment, the request
def test_before_payment_402_and_nothing_queued(filed, surveyor, queued):
    r = _api(surveyor, filed.sign)
    assert r.status_code == 402 and r["Content-Type"] == "application/problem+json"
    assert r.json()["type"].endswith("not_paid")
    assert not Package.objects.exists() and not queued


def test_payment_requests_one_package_queued_after_the_commit(paid, queued, surveyor):
    pkg = Package.objects.get(case_id=paid.pk)
    assert queued == [str(pkg.pk)]
    assert pkg.status == "queued" and pkg.kerg == paid.sign and pkg.surveyor == surveyor
    assert pkg.office.code == "sp-piaseczno"
    # end date 2027-03-01 + 1 year
    assert timezone.localtime(pkg.expires_at).date().isoformat() == "2028-03-01"
    # idempotent: asked again, the same package and nothing more queued
    assert actions.package_request(paid.pk).pk == pkg.pk and len(queued) == 1
    r = _api(surveyor, paid.sign)
    assert r.status_code == 409 and r.json()["type"].endswith("being_prepared") and r.json()["progress"] == 0


def test_another_case_kind_asks_for_nothing(make_user, county_clerk, queued):
    citizen = make_user("jan", "citizen")
    rural = Parcel.objects.current().filter(precinct__unit__unit_id="141804_5").order_by("parcel_id")[3]
    service = ServiceDefinition.objects.get(code="wypis-wyrys-egib", active=True)
    data = {
        **APPLICANT,
        "parcels": [rural.parcel_id],
        "variant": "wyrys",
        "form": "electronic",
        "legal_interest": "Jestem właścicielem działki.",
    }
    sub = submission_file(service, data, user=citizen, idempotency_key=str(uuid.uuid4()))
    assert actions.package_request(Case.objects.get(submission=sub).pk) is None
    assert not Package.objects.exists() and not queued


# ------------------------------------------------------------------ the build
@pytest.fixture
def built(paid, settings, tmp_path) -> Package:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    pkg = Package.objects.get(case_id=paid.pk)
    started = time.monotonic()
    assert actions.package_build(pkg.pk) == "ready"
    pkg.refresh_from_db()
    assert time.monotonic() - started < 60  # 2–4 s on the demo data
    return pkg


def _zip(pkg) -> zipfile.ZipFile:
    with pkg.file.open("rb") as f:
        return zipfile.ZipFile(io.BytesIO(f.read()))


def _area(case) -> GEOSGeometry:
    return package.work_area(case.location)


def test_the_package_is_an_asic_e_container_the_verifier_passes_sealed_by_the_county(built, paid):
    from services.signatures import trust
    from services.signatures.verify import verify_file

    assert built.status == "ready" and built.progress == 100 and built.ready_at
    with built.file.open("rb") as f:
        data = f.read()
    assert len(data) == built.size and built.sha256 == __import__("hashlib").sha256(data).hexdigest()
    z = zipfile.ZipFile(io.BytesIO(data))
    names = z.namelist()
    assert names[0] == "mimetype" and z.read("mimetype") == b"application/vnd.etsi.asic-e+zip"
    assert z.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
    assert {"egib.gml", "mapa.pdf", "dzialki.csv", "punkty.csv", package.MANIFEST, package.SIGNATURE} <= set(
        names
    )
    trust.forget()
    try:
        report = verify_file(data, "pakiet.asice").as_dict()
    finally:
        trust.forget()
    assert report["format"] == "ASiC-E" and report["indication"] == "TOTAL_PASSED", report
    sig = report["signatures"][0]
    assert sig["trust_anchor"] == "office:sp-piaseczno" and sig["whole_document"] is True
    assert sig["signer"]["organisation"] == paid.office.name[:64]
    covered = {c["name"] for c in sig["covers"] if c.get("kind") == "file"}
    assert covered - {package.MANIFEST} == set(names) - {"mimetype", package.MANIFEST, package.SIGNATURE}
    # a changed file fails the check
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as w:
        for info in z.infolist():
            body = z.read(info.filename)
            w.writestr(info, body + b"\n" if info.filename == "dzialki.csv" else body)
    trust.forget()
    try:
        assert verify_file(out.getvalue(), "x.asice").as_dict()["indication"] == "TOTAL_FAILED"
    finally:
        trust.forget()


def test_egib_gml_holds_exactly_the_areas_parcels_and_the_read_is_logged(built, paid, surveyor):
    z = _zip(built)
    root = etree.fromstring(z.read("egib.gml"))
    parcels = root.findall(f".//{{{EGB}}}EGB_DzialkaEwidencyjna")
    with connection.cursor() as cur:
        cur.execute(PARCELS_SQL, {"area": bytes(_area(paid).ewkb)})
        expected = cur.fetchone()[0]
    assert len(parcels) == expected > 0
    assert built.contents["files"]["egib.gml"]["EGB_DzialkaEwidencyjna"] == expected
    exported = {p.findtext(f"{{{EGB}}}idDzialki") for p in parcels}
    assert set(Case.objects.get(pk=paid.pk).parcels) <= exported
    log = RestrictedAccessLog.objects.get(case_sign=paid.sign)
    assert log.user_id == surveyor.pk and log.object_kind == "egib_export" and "12" in log.legal_basis


def test_the_csv_files_list_the_parcels_and_their_points(built, paid):
    z = _zip(built)
    raw = z.read("dzialki.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["id_dzialki", "pole_ewidencyjne_m2", "numer_obrebu", "nazwa_obrebu", "uzytki"]
    ids = {r[0] for r in rows[1:]}
    expected = set(
        Parcel.objects.current().filter(geom__intersects=_area(paid)).values_list("parcel_id", flat=True)
    )
    assert ids == expected and set(Case.objects.get(pk=paid.pk).parcels) <= ids
    one = Parcel.objects.current().get(parcel_id=rows[1][0])
    assert rows[1][1] == f"{one.area_ha * 10000:.0f}" and rows[1][3] == one.precinct.name
    points = list(csv.reader(io.StringIO(z.read("punkty.csv").decode("utf-8-sig")), delimiter=";"))
    assert points[0] == ["nr", "X", "Y", "dzialki"]
    coords = [(p[1], p[2]) for p in points[1:]]
    assert len(coords) == len(set(coords)) == built.contents["files"]["punkty.csv"]["points"] > 3 * len(ids)
    x, y = (float(v.replace(",", ".")) for v in coords[0])
    assert 400_000 < x < 600_000 and 600_000 < y < 700_000  # EPSG:2180 around Piaseczno: X northing


def test_the_layers_and_the_map(built, paid):
    z = _zip(built)
    assert z.read("mapa.pdf").startswith(b"%PDF") and built.contents["files"]["mapa.pdf"]["scale"] in (
        500,
        1000,
        2000,
        5000,
    )
    if shutil.which("ogr2ogr") is None:
        assert "warstwy.gpkg" not in z.namelist() and built.contents["notes"]
        pytest.skip("ogr2ogr (gdal-bin) is not installed: the layers file is left out, as tested above")
    path = settings.MEDIA_ROOT + "/w.gpkg"
    with open(path, "wb") as f:
        f.write(z.read("warstwy.gpkg"))
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT table_name FROM gpkg_contents")}
        assert {"dzialki", "budynki", "uzytki", "adresy"} <= tables and "numery_dzialek" not in tables
        n = db.execute("SELECT count(*) FROM dzialki").fetchone()[0]
        cols = {r[1] for r in db.execute("PRAGMA table_info(dzialki)")}
    assert (
        n == built.contents["files"]["warstwy.gpkg"]["dzialki"] >= len(Case.objects.get(pk=paid.pk).parcels)
    )
    assert {"ID_DZIALKI", "POLE_EWIDENCYJNE"} <= cols


def test_build_is_idempotent(built):
    assert actions.package_build(built.pk) == "ready"
    assert Package.objects.get(pk=built.pk).sha256 == built.sha256


def test_a_failed_build_is_said_and_queued_again(
    paid, queued, surveyor, monkeypatch, django_capture_on_commit_callbacks
):
    pkg = Package.objects.get(case_id=paid.pk)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(package, "build", broken)
    assert actions.package_build(pkg.pk) == "failed"
    pkg.refresh_from_db()
    assert pkg.status == "failed" and pkg.error == "disk full" and not pkg.file
    r = _api(surveyor, paid.sign)
    assert r.status_code == 409 and r.json()["type"].endswith("failed") and "disk" not in r.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.package_request(paid.pk).status == "queued"
    assert queued == [str(pkg.pk)] * 2


def test_a_lost_payment_callback_is_caught_up_by_the_api(filed, county_clerk, surveyor, queued, monkeypatch):
    from services.payments import actions as payments

    monkeypatch.setattr(payments, "PAYMENT_HOOKS", [])  # the callback never ran
    _pay(filed, county_clerk, lambda **kw: __import__("contextlib").nullcontext())
    assert not Package.objects.exists()
    r = _api(surveyor, filed.sign)
    assert r.status_code == 409 and r.json()["type"].endswith("being_prepared")
    assert Package.objects.filter(case_id=filed.pk, status="queued").exists()


# ------------------------------------------------------------------ the API and the page
def test_api_gives_the_zip_to_the_surveyor_only(built, paid, surveyor, make_user, county_clerk):
    r = _api(surveyor, paid.sign)
    assert r.status_code == 200 and r["Content-Type"] == "application/vnd.etsi.asic-e+zip"
    assert r["Content-Disposition"] == f'attachment; filename="{paid.sign}.asice"'
    assert r["X-Content-Type-Options"] == "nosniff"
    assert b"".join(r.streaming_content)[:2] == b"PK"
    other = make_user("geo2", "surveyor", licence_no="54321")
    gmina_clerk = make_user("urbanista", "clerk")
    gmina = Office.objects.get(code="um-piaseczno")
    StaffMembership.objects.create(user=gmina_clerk, office=gmina, unit=gmina.units.get(code="UiA"))
    for user in (other, gmina_clerk):
        r = _api(user, paid.sign)
        assert r.status_code == 404 and r["Content-Type"] == "application/problem+json"
    assert _api(None, paid.sign).status_code == 401
    for bad in ("GK.6640.999999.2026", "..%2F..", "x" * 300):
        assert _api(surveyor, bad).status_code == 404
    # the page's download and panel
    c = Client()
    c.force_login(surveyor)
    r = c.get(f"/moje-sprawy/{paid.pk}/pakiet/")
    assert r.status_code == 200 and r["X-Content-Type-Options"] == "nosniff"
    c.force_login(other)
    assert c.get(f"/moje-sprawy/{paid.pk}/pakiet/").status_code == 404
    from django.template.loader import render_to_string

    from services.surveys.views import package_panel

    html = render_to_string("surveys/_package.html", package_panel(paid, surveyor))
    assert 'data-state="ready"' in html and f"/moje-sprawy/{paid.pk}/pakiet/" in html and "egib.gml" in html
    assert render_to_string("surveys/_package.html", package_panel(paid, other)).strip() == ""


def test_api_410_after_expiry(built, paid, surveyor):
    Package.objects.filter(pk=built.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    r = _api(surveyor, paid.sign)
    assert r.status_code == 410 and r.json()["type"].endswith("expired")


def test_the_api_documents_the_endpoint(client):
    doc = client.get("/api/schema/").json()
    op = doc["paths"]["/api/surveys/{kerg}/package"]["get"]
    assert {"200", "402", "404", "409", "410"} <= set(op["responses"])
    assert "application/vnd.etsi.asic-e+zip" in op["responses"]["200"]["content"]
