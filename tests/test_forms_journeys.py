"""Forms that keep work and say who may file them: role-restricted services only for their holders (a
clear 403 page otherwise), a form sent before logging in kept in the session and shown again after the
log-in (never filed by itself); the EGiB extract's legal grounds for personal data; the delivery method;
the surveyor's licence number from the account and the work area (drawn as WKT, or GeoJSON, GML 3.2,
a zipped Shapefile) located in the county and made the case's location; one statutory deadline for the
list, the form and the case. Hostile inputs (zip bombs, ../ paths, XXE, huge or nested JSON, areas
outside the county or crossing themselves) get a clear 4xx and store nothing."""

from __future__ import annotations

import io
import json
import struct
import uuid
import zipfile
from datetime import date

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.test import Client
from django.utils import timezone
from shapely.geometry import Polygon

from gisportal.core import calendar
from layers.models import AdministrativeUnit, Parcel
from services.cases.issuing import documents_for
from services.cases.models import Case
from services.forms import area as area_mod
from services.forms.models import ServiceDefinition, Submission
from services.forms.pending import SESSION_KEY
from services.forms.selectors import delivery_of

pytestmark = pytest.mark.django_db

PASSWORD = "x-Secret-2026!"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
APPLICANT = {
    "applicant_name": "Jan Kowalski",
    "email": "jan@example.pl",
    "postal_code": "05-500",
    "locality": "Piaseczno",
}


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture(scope="module")
def town(demo_data, django_db_blocker):
    """A parcel in the middle of the town and a work area around it, well inside the county."""
    with django_db_blocker.unblock():
        county = AdministrativeUnit.objects.get(teryt="1418").geom
        for p in (
            Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[20:400]
        ):
            box = p.geom.envelope.buffer(3).envelope
            box.srid = 2180
            if county.contains(box.buffer(200)) and p.geom.area > 300:
                return {"parcel": p.parcel_id, "area": box, "geom": p.geom}
    raise AssertionError("no parcel well inside the county")


@pytest.fixture
def citizen(make_user):
    return make_user("jan", "citizen", first_name="Jan", last_name="Kowalski")


@pytest.fixture
def surveyor(make_user):
    return make_user("geo", "surveyor", first_name="Ewa", last_name="Mierniczy", licence_no="12345")


def post(client, code: str, data: dict, files: dict | None = None, **extra):
    service = ServiceDefinition.objects.get(code=code, active=True)
    payload = {"version": service.version, "idempotency_key": str(uuid.uuid4()), "action": "submit"}
    for k, v in data.items():
        payload[k] = "\n".join(v) if isinstance(v, list) else ("1" if v is True else v)
    payload.update(files or {})
    return client.post(f"/uslugi/{code}/", payload, **extra)


def field_errors(html: str, name: str) -> str:
    marker = f'id="id_{name}_error">'
    at = html.find(marker)
    return html[at + len(marker) : html.find("</p>", at)] if at >= 0 else ""


def survey_data(area_wkt: str = "", **more) -> dict:
    return {
        **APPLICANT,
        "licence_no": "12345",
        "purpose": "podzial",
        "materials": ["egib", "warstwy", "mapa", "punkty"],
        "end_date": "2027-03-01",
        **({"work_area": area_wkt} if area_wkt else {}),
        **more,
    }


def upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"work_area_file": SimpleUploadedFile(name, content, content_type="application/octet-stream")}


def ring_2180(poly) -> list[tuple[float, float]]:
    return [tuple(c) for c in poly.exterior_ring.coords]


def shapefile_zip(
    ring: list[tuple[float, float]], *, prj: str | None = "EPSG2180", extra: dict | None = None
) -> bytes:
    """A one-polygon Shapefile set (clockwise ring, as the format wants) in a ZIP, written by hand."""
    pts = list(ring)
    if not _clockwise(pts):
        pts.reverse()
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    bbox = (min(xs), min(ys), max(xs), max(ys))
    content = struct.pack("<i4d2i", 5, *bbox, 1, len(pts)) + struct.pack("<i", 0)
    content += b"".join(struct.pack("<2d", *p) for p in pts)
    record = struct.pack(">2i", 1, len(content) // 2) + content

    def header(length_words: int) -> bytes:
        return (
            struct.pack(">7i", 9994, 0, 0, 0, 0, 0, length_words)
            + struct.pack("<2i", 1000, 5)
            + struct.pack("<8d", *bbox, 0, 0, 0, 0)
        )

    shp = header((100 + len(record)) // 2) + record
    shx = header((100 + 8) // 2) + struct.pack(">2i", 50, len(content) // 2)
    field = b"ID".ljust(11, b"\x00") + b"N" + b"\x00" * 4 + bytes([4, 0]) + b"\x00" * 14
    dbf = struct.pack("<B3BIHH20x", 3, 126, 12, 7, 1, 32 + 32 + 1, 1 + 4) + field + b"\r" + b"    1" + b"\x1a"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("obszar.shp", shp)
        z.writestr("obszar.shx", shx)
        z.writestr("obszar.dbf", dbf)
        if prj == "EPSG2180":
            from pyproj import CRS

            z.writestr("obszar.prj", CRS.from_epsg(2180).to_wkt("WKT1_ESRI"))
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def _clockwise(pts) -> bool:
    return sum((b[0] - a[0]) * (b[1] + a[1]) for a, b in zip(pts, pts[1:], strict=False)) > 0


def gml(
    ring_en: list[tuple[float, float]], *, srs: str = "urn:ogc:def:crs:EPSG::2180", doctype: str = ""
) -> bytes:
    """A GML 3.2 feature collection with one polygon; a URN srsName writes northing first (EGiB style)."""
    north_first = srs.startswith("urn:")
    pos = " ".join(f"{y} {x}" if north_first else f"{x} {y}" for x, y in ring_en)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + doctype
        + '<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2" '
        'xmlns:t="urn:test" gml:id="fc"><gml:featureMember><t:ObszarPrac gml:id="a1"><t:geometria>'
        f'<gml:Polygon gml:id="p1" srsName="{srs}"><gml:exterior><gml:LinearRing><gml:posList>{pos}'
        "</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></t:geometria></t:ObszarPrac>"
        "</gml:featureMember></gml:FeatureCollection>"
    ).encode()


# ------------------------------------------------------------------ who may file, up front


def test_service_list_shows_restricted_services_only_to_their_holders(client, citizen, surveyor):
    assert "/uslugi/zgloszenie-prac/" not in client.get("/uslugi/").content.decode()
    assert "/uslugi/wypis-wyrys-egib/" in client.get("/uslugi/").content.decode()
    client.force_login(citizen)
    assert "/uslugi/zgloszenie-prac/" not in client.get("/uslugi/").content.decode()
    client.force_login(surveyor)
    page = client.get("/uslugi/", **EN).content.decode()
    assert "/uslugi/zgloszenie-prac/" in page and "up to 10 working days (art. 12 Pgik)" in page


def test_restricted_form_gives_a_page_saying_who_may_file_it(client, citizen, town):
    r = client.get("/uslugi/zgloszenie-prac/", **EN)
    html = r.content.decode()
    assert r.status_code == 403 and 'data-testid="service-forbidden"' in html
    assert "licensed surveyor" in html and 'class="eform"' not in html
    assert "/konto/logowanie/?next=%2Fuslugi%2Fzgloszenie-prac%2F" in html  # log in with such an account
    client.force_login(citizen)
    r = client.get("/uslugi/zgloszenie-prac/", **EN)
    html = r.content.decode()
    assert r.status_code == 403 and "Your account (citizen or business) may not file it." in html
    assert 'class="eform"' not in html
    r = post(client, "zgloszenie-prac", survey_data(town["area"].wkt))  # sending it anyway: the same page
    assert r.status_code == 403 and not Submission.objects.exists()


def test_anonymous_post_of_a_restricted_form_is_refused_and_not_kept(client, town):
    r = post(client, "zgloszenie-prac", survey_data(town["area"].wkt))
    assert r.status_code == 403 and SESSION_KEY not in client.session and not Submission.objects.exists()


def test_staff_cannot_open_applicant_forms(client, make_user):
    client.force_login(make_user("urzednik", "clerk"))
    r = client.get("/uslugi/wypis-wyrys-egib/", **EN)
    assert r.status_code == 403 and "citizen or business" in r.content.decode()
    assert "Your account cannot file e-forms" in client.get("/uslugi/", **EN).content.decode()


def test_the_form_says_at_the_top_that_it_needs_a_login(client, citizen):
    html = client.get("/uslugi/wypis-wyrys-mpzp/", **EN).content.decode()
    assert 'data-testid="login-first"' in html and "Log in first" in html
    assert html.index('data-testid="login-first"') < html.index('class="eform"')
    assert 'href="/konto/logowanie/?next=%2Fuslugi%2Fwypis-wyrys-mpzp%2F"' in html
    client.force_login(citizen)
    assert 'data-testid="login-first"' not in client.get("/uslugi/wypis-wyrys-mpzp/").content.decode()


# ------------------------------------------------------------------ a draft kept across the log-in


def test_anonymous_fill_submit_login_prefilled_then_filed(client, citizen, town):
    data = {**APPLICANT, "parcels": [town["parcel"]], "purpose": "Sprzedaż działki siedliskowej"}
    r = post(client, "zaswiadczenie-mpzp", data, **EN)
    assert r.status_code == 302
    assert r["Location"] == "/konto/logowanie/?next=/uslugi/zaswiadczenie-mpzp/"
    assert not Submission.objects.exists()  # never filed without the applicant seeing it again
    kept = client.session[SESSION_KEY]["zaswiadczenie-mpzp"]
    assert kept["data"]["purpose"] == data["purpose"] and kept["files"] is False
    # the real log-in page (the session is cycled, its content kept) and its redirect to `next`
    r = client.post(
        "/konto/logowanie/?next=/uslugi/zaswiadczenie-mpzp/",
        {"username": "jan", "password": PASSWORD, "next": "/uslugi/zaswiadczenie-mpzp/"},
        **EN,
    )
    assert r.status_code == 302 and r["Location"] == "/uslugi/zaswiadczenie-mpzp/"
    page = client.get("/uslugi/zaswiadczenie-mpzp/", **EN).content.decode()
    assert "Sprzedaż działki siedliskowej" in page and town["parcel"] in page
    assert "The form holds what you entered before logging in" in page
    assert not Submission.objects.exists()
    r = post(client, "zaswiadczenie-mpzp", data)
    assert r.status_code == 302 and "/wnioski/" in r["Location"]
    sub = Submission.objects.get()
    assert sub.user == citizen and sub.data["purpose"] == data["purpose"] and sub.data["delivery"] == "portal"
    assert "zaswiadczenie-mpzp" not in (client.session.get(SESSION_KEY) or {})  # gone once filed
    assert (
        "The form holds what you entered"
        not in client.get("/uslugi/zaswiadczenie-mpzp/", **EN).content.decode()
    )


def test_kept_draft_is_bounded_never_holds_files_and_stays_in_its_session(client, make_user, town):
    from django.core.files.uploadedfile import SimpleUploadedFile

    scan = SimpleUploadedFile("skan.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    data = {**APPLICANT, "subject": "Wniosek", "content": "Proszę o informację."}
    post(client, "pismo-ogolne", data, {"attachments": scan})
    kept = client.session[SESSION_KEY]["pismo-ogolne"]
    assert kept["files"] is True and "attachments" not in kept["data"] and "%PDF" not in json.dumps(kept)
    # too long to keep: nothing kept, a message says so, nothing filed
    other = Client()
    r = post(other, "pismo-ogolne", {**data, "content": "ż" * 20000, "locality": "y" * 40000})
    assert r.status_code == 302 and SESSION_KEY not in other.session
    # another person's session sees none of it after logging in
    stranger = Client()
    stranger.force_login(make_user("obcy", "citizen"))
    assert "Proszę o informację." not in stranger.get("/uslugi/pismo-ogolne/").content.decode()
    # a logged-in user of the first session sees it, with a word about the attachment
    client.force_login(make_user("anna", "citizen"))
    page = client.get("/uslugi/pismo-ogolne/", **EN).content.decode()
    assert "Proszę o informację." in page and "Attachments are not kept across the log-in" in page
    assert not Submission.objects.exists()


def test_pending_draft_keeps_at_most_three_forms(client):
    for code in ("pismo-ogolne", "wypis-wyrys-mpzp", "zaswiadczenie-mpzp", "numer-porzadkowy"):
        post(client, code, {**APPLICANT, "subject": "Wniosek", "purpose": "cel"})
    assert len(client.session[SESSION_KEY]) == 3 and "pismo-ogolne" not in client.session[SESSION_KEY]


# ------------------------------------------------------------------ EGiB legal grounds


def egib(client, town, **more):
    return post(
        client,
        "wypis-wyrys-egib",
        {**APPLICANT, "parcels": [town["parcel"]], "variant": "wypis_z_danymi", "form": "electronic", **more},
        **EN,
    )


def test_owner_needs_no_justification(client, citizen, town):
    client.force_login(citizen)
    r = egib(client, town, legal_ground="owner")
    assert r.status_code == 302, r.content.decode()[-3000:]
    sub = Submission.objects.get()
    assert sub.data["legal_ground"] == "owner" and "legal_interest" not in sub.data
    page = client.get(r["Location"], **EN).content.decode()
    assert "I am the owner, perpetual usufructuary or holder of this property" in page
    # the document the case ends in names the ground (a personal-data extract needs one)
    kinds = documents_for("wypis-wyrys-egib", sub.data, sub.parcels)
    assert kinds == [
        (
            "egib_wypis_full",
            {"parcels": sub.parcels, "legal_basis": "właściciel, użytkownik wieczysty lub władający"},
        )
    ]


def test_legal_interest_ground_needs_a_justification(client, citizen, town):
    client.force_login(citizen)
    r = egib(client, town, legal_ground="legal_interest")
    assert r.status_code == 422 and "Describe your legal interest" in field_errors(
        r.content.decode(), "legal_interest"
    )
    r = egib(client, town, legal_ground="legal_interest", legal_interest="bo tak")
    assert r.status_code == 422 and "at least 10 characters" in field_errors(
        r.content.decode(), "legal_interest"
    )
    assert not Submission.objects.exists()
    r = egib(
        client, town, legal_ground="legal_interest", legal_interest="Postępowanie spadkowe, sygn. I Ns 12/26."
    )
    assert r.status_code == 302 and Submission.objects.get().data["legal_interest"].startswith("Postępowanie")


def test_public_body_gives_the_provision_notary_may(client, citizen, town):
    client.force_login(citizen)
    r = egib(client, town, legal_ground="public_body")
    assert r.status_code == 422 and "provision of the statute" in field_errors(
        r.content.decode(), "legal_provision"
    )
    assert egib(client, town, legal_ground="notary_bailiff").status_code == 302
    assert Submission.objects.get().data["legal_ground"] == "notary_bailiff"


def test_personal_data_without_a_ground_and_tampered_grounds(client, citizen, town):
    client.force_login(citizen)
    r = egib(client, town)
    assert r.status_code == 422 and "Choose the ground" in field_errors(r.content.decode(), "legal_ground")
    r = egib(client, town, legal_ground="administrator")
    assert r.status_code == 422 and field_errors(r.content.decode(), "legal_ground")
    assert not Submission.objects.exists()
    # a variant without personal data needs no ground; one sent anyway is not kept
    r = egib(client, town, variant="wypis_bez_danych", legal_ground="legal_interest", legal_interest="x" * 20)
    assert r.status_code == 302
    assert not {"legal_ground", "legal_interest"} & set(Submission.objects.get().data)


def test_version_1_clients_and_submissions_still_work(client, make_user, town, citizen):
    import base64

    make_user("system.egib", "office_system")
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"system.egib:{PASSWORD}".encode()).decode()}
    payload = {
        "service": "wypis-wyrys-egib",
        "data": {
            **APPLICANT,
            "parcels": [town["parcel"]],
            "variant": "wypis_wyrys",
            "form": "electronic",
            "legal_interest": "Jestem właścicielem działki.",
        },
    }
    r = client.post("/api/submissions/", json.dumps(payload), content_type="application/json", **auth)
    assert r.status_code == 201, r.content
    sub = Submission.objects.get()
    assert sub.data["legal_ground"] == "legal_interest" and sub.data["delivery"] == "portal"
    assert delivery_of(sub.data) == {"method": "portal"}
    # a request filed with version 1 (its definition kept, inactive, where the demo database had it; a new
    # database starts at version 2, so it is made here as it was) still renders
    v2 = ServiceDefinition.objects.get(code="wypis-wyrys-egib", active=True)
    v1 = ServiceDefinition.objects.filter(code="wypis-wyrys-egib", version=1).first()
    if v1 is None:
        fields = {
            f.name: getattr(v2, f.name)
            for f in ServiceDefinition._meta.concrete_fields
            if f.name not in ("id", "created_at")
        }
        schema = {
            **v2.schema,
            "properties": {
                k: v for k, v in v2.schema["properties"].items() if not k.startswith(("legal_", "delivery"))
            },
        }
        schema.pop("allOf")
        v1 = ServiceDefinition.objects.create(
            **{**fields, "version": 1, "active": False, "schema": schema, "deadline_kind": ""}
        )
    assert not v1.active and "legal_ground" not in v1.schema["properties"]
    old = Submission.objects.create(
        service=v1,
        user=citizen,
        office=sub.office,
        data={**APPLICANT, "variant": "wypis_z_danymi", "form": "paper", "legal_interest": "Dawny wniosek."},
        parcels=[town["parcel"]],
        document=b"{}",
        sha256="0" * 64,
        request_sha256="0" * 64,
        submitted_at=timezone.now(),
    )
    client.force_login(citizen)
    page = client.get(f"/wnioski/{old.id}/", **EN)
    assert page.status_code == 200 and "Legal interest: Dawny wniosek." in page.content.decode()
    assert "Delivery of the document" not in page.content.decode()


# ------------------------------------------------------------------ delivery


def test_delivery_to_an_e_delivery_address(client, citizen, town):
    client.force_login(citizen)
    data = {**APPLICANT, "parcels": [town["parcel"]], "product": "wypis", "copies": "1", "delivery": "ade"}
    r = post(client, "wypis-wyrys-mpzp", data, **EN)
    assert r.status_code == 422 and "e-delivery address" in field_errors(r.content.decode(), "delivery_ade")
    r = post(client, "wypis-wyrys-mpzp", {**data, "delivery_ade": "AE:PL-1234-67890-ABCDE-12"}, **EN)
    assert r.status_code == 422 and "AE:PL-12345-67890-ABCDE-12" in field_errors(
        r.content.decode(), "delivery_ade"
    )
    r = post(client, "wypis-wyrys-mpzp", {**data, "delivery_ade": "ae:pl-12345-67890-abcde-12 "}, **EN)
    assert r.status_code == 302
    sub = Submission.objects.get()
    assert delivery_of(sub.data) == {"method": "ade", "ade_address": "AE:PL-12345-67890-ABCDE-12"}
    page = client.get(r["Location"], **EN).content.decode()
    assert "E-delivery address (e-Doręczenia): AE:PL-12345-67890-ABCDE-12" in page


def test_delivery_by_post_needs_the_address_and_paper_is_not_sent_to_the_inbox(client, citizen, town):
    client.force_login(citizen)
    base = {**APPLICANT, "parcels": [town["parcel"]], "variant": "wyrys", "form": "paper"}
    r = post(client, "wypis-wyrys-egib", {**base, "delivery": "portal"}, **EN)
    assert r.status_code == 422 and "paper document is posted" in field_errors(r.content.decode(), "delivery")
    r = post(client, "wypis-wyrys-egib", {**base, "delivery": "post"}, **EN)
    assert r.status_code == 422 and "we post the document there" in field_errors(
        r.content.decode(), "house_no"
    )
    assert not Submission.objects.exists()
    r = post(
        client,
        "wypis-wyrys-egib",
        {**base, "delivery": "post", "street": "Kościuszki", "house_no": "5"},
        **EN,
    )
    assert r.status_code == 302
    assert delivery_of(Submission.objects.get().data) == {
        "method": "post",
        "postal_address": "Kościuszki 5, 05-500 Piaseczno",
    }
    r = post(client, "wypis-wyrys-egib", {**base, "delivery": "office", "variant": "wypis_uproszczony"}, **EN)
    page = client.get(r["Location"], **EN).content.decode()
    assert "Collection in person at the office: Starostwo" in page
    assert post(client, "wypis-wyrys-egib", {**base, "delivery": "pigeon"}).status_code == 422


# ------------------------------------------------------------------ instant fee quote (the page; the browser test runs it)


def test_form_page_carries_the_quote_region_where_the_fee_depends_on_choices(client):
    html = client.get("/uslugi/wypis-wyrys-egib/").content.decode()
    assert 'data-quote-service="wypis-wyrys-egib"' in html and 'aria-live="polite"' in html
    assert 'data-quote-url="/api/fees/quote"' in html and "forms/form.js" in html
    assert "Opłata wg tabeli 11" in html  # the fee note stays for browsers without JavaScript
    assert "data-quote-service" not in client.get("/uslugi/pismo-ogolne/").content.decode()


# ------------------------------------------------------------------ surveyor: licence and work area


def test_licence_number_comes_from_the_account(client, surveyor, town):
    client.force_login(surveyor)
    html = client.get("/uslugi/zgloszenie-prac/").content.decode()
    assert 'name="licence_no" value="12345" readonly' in html
    r = post(client, "zgloszenie-prac", survey_data(town["area"].wkt, licence_no="99999"))
    assert r.status_code == 302, r.content.decode()[-3000:]
    assert Submission.objects.get().data["licence_no"] == "12345"  # the tampered value is ignored


def test_superuser_without_a_licence_is_told_so(client, make_user, town):
    admin = make_user("szef", "clerk", is_superuser=True)
    client.force_login(admin)
    r = post(client, "zgloszenie-prac", survey_data(town["area"].wkt), **EN)
    assert r.status_code == 422 and "no surveyor licence number" in field_errors(
        r.content.decode(), "licence_no"
    )
    assert not Submission.objects.exists()


def test_work_area_drawn_becomes_the_case_location_with_the_10_working_day_deadline(client, surveyor, town):
    client.force_login(surveyor)
    r = post(client, "zgloszenie-prac", survey_data(town["area"].wkt, parcels=[town["parcel"]]))
    assert r.status_code == 302, r.content.decode()[-3000:]
    sub = Submission.objects.get()
    expected = GEOSGeometry(sub.data["work_area"], srid=2180)
    assert abs(expected.area - town["area"].area) < 1 and sub.office.kind == "county"
    assert sub.location.equals(expected) and sub.parcels == [town["parcel"]]
    case = Case.objects.get(submission=sub)
    assert case.location.equals(expected)
    assert case.deadline_kind == "working_days_10" == sub.service.deadline_kind
    assert case.deadline == calendar.settlement_deadline(case.started_on, "working_days_10")
    page = client.get(r["Location"], **EN).content.decode()
    assert 'data-testid="work-area-map"' in page and "Licence number" in page
    assert f"{expected.area / 10000:.4f} ha" in page
    form = client.get("/uslugi/zgloszenie-prac/", **EN).content.decode()
    assert "up to 10 working days (art. 12 Pgik)" in form  # the list, the form and the case agree


def test_ten_working_days_skip_weekends_and_holidays():
    # Fri 18 XII 2026: 21, 22, 23, (24-26 holidays, 27 Sun), 28, 29, 30, 31, (1 I, 2-3), 4, 5, (6 I), 7 I
    assert calendar.settlement_deadline(date(2026, 12, 18), "working_days_10") == date(2027, 1, 7)
    assert calendar.settlement_deadline(date(2026, 3, 2), "working_days_10") == date(2026, 3, 16)
    paused = [(date(2026, 3, 3), date(2026, 3, 4))]  # two working days paused: two more
    assert calendar.settlement_deadline(date(2026, 3, 2), "working_days_10", paused) == date(2026, 3, 18)


def test_every_definition_deadline_is_a_case_deadline_kind():
    from services.cases.models import DeadlineKind
    from services.forms.catalogue import definitions

    for d in definitions():
        assert d["deadline_kind"] in DeadlineKind.values
        calendar.settlement_deadline(date(2026, 5, 4), d["deadline_kind"])
    api = Client().get("/api/services/zgloszenie-prac").json()
    assert (api["deadline_kind"], api["deadline_days"]) == ("working_days_10", 10)


def test_work_area_uploaded_as_geojson_in_wgs84(client, surveyor, town):
    from pyproj import Transformer

    to_wgs = Transformer.from_crs(2180, 4326, always_xy=True)
    ring = [list(to_wgs.transform(x, y)) for x, y in ring_2180(town["area"])]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
        ],
    }
    client.force_login(surveyor)
    r = post(client, "zgloszenie-prac", survey_data(), upload("obszar.geojson", json.dumps(doc).encode()))
    assert r.status_code == 302, r.content.decode()[-3000:]
    stored = GEOSGeometry(Submission.objects.get().data["work_area"], srid=2180)
    assert stored.sym_difference(town["area"]).area < 1.0


def test_work_area_uploaded_as_gml_northing_first(client, surveyor, town):
    client.force_login(surveyor)
    r = post(client, "zgloszenie-prac", survey_data(), upload("obszar.gml", gml(ring_2180(town["area"]))))
    assert r.status_code == 302, r.content.decode()[-3000:]
    stored = GEOSGeometry(Submission.objects.get().data["work_area"], srid=2180)
    assert stored.sym_difference(town["area"]).area < 1.0


def test_work_area_uploaded_as_a_zipped_shapefile(client, surveyor, town):
    client.force_login(surveyor)
    r = post(
        client, "zgloszenie-prac", survey_data(), upload("obszar.zip", shapefile_zip(ring_2180(town["area"])))
    )
    assert r.status_code == 302, r.content.decode()[-3000:]
    stored = GEOSGeometry(Submission.objects.get().data["work_area"], srid=2180)
    assert stored.sym_difference(town["area"]).area < 1.0


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("obszar.shp", b"\x00\x00\x27\x0a" + b"\x00" * (30 * 1024 * 1024))
        z.writestr("obszar.shx", b"x")
        z.writestr("obszar.dbf", b"x")
    return out.getvalue()


def _traversal(town) -> bytes:
    good = zipfile.ZipFile(io.BytesIO(shapefile_zip(ring_2180(town["area"]))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in good.infolist():
            z.writestr(
                "../../tmp/" + info.filename if info.filename.endswith(".shp") else info.filename,
                good.read(info),
            )
    return out.getvalue()


XXE = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'


@pytest.mark.parametrize(
    "name, make, message",
    [
        ("bomb.zip", lambda t: _bomb(), "implausibly much data"),
        ("traversal.zip", _traversal, "disallowed name"),
        (
            "vrt.zip",
            lambda t: shapefile_zip(ring_2180(t["area"]), extra={"obszar.vrt": "<OGRVRTDataSource/>"}),
            "only the files of one Shapefile",
        ),
        (
            "two.zip",
            lambda t: shapefile_zip(ring_2180(t["area"]), extra={"inny.shp": b"\x00\x00\x27\x0a"}),
            "more than one Shapefile",
        ),
        (
            "noprj.zip",
            lambda t: shapefile_zip(
                [(7500000 + x, 5770000 + y) for x, y in [(0, 0), (0, 100), (100, 100), (0, 0)]], prj=None
            ),
            "no .prj",
        ),
        ("xxe.gml", lambda t: gml(ring_2180(t["area"]), doctype=XXE), "document type or entities"),
        (
            "gml2.gml",
            lambda t: b'<r xmlns:gml="http://www.opengis.net/gml"><gml:Polygon/></r>',
            "Only GML 3.2",
        ),
        ("bad.xml", lambda t: b"<gml:Polygon", "not well-formed"),
        (
            "huge.geojson",
            lambda t: b'{"type": "Polygon", "coordinates": [' + b" " * (6 * 1024 * 1024) + b"]}",
            "larger than 5 MB",
        ),
        (
            "nested.geojson",
            lambda t: b'{"type": "Polygon", "coordinates": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
            "cannot be read",
        ),
        (
            "line.geojson",
            lambda t: json.dumps(
                {"type": "LineString", "coordinates": [[21.0, 52.0], [21.01, 52.01]]}
            ).encode(),
            "must be a polygon",
        ),
        ("exe.bin", lambda t: b"MZ\x90\x00 an exe", "GeoJSON, GML 3.2 or a zipped Shapefile"),
    ],
)
def test_hostile_work_area_files_are_refused_and_nothing_stored(client, surveyor, town, name, make, message):
    client.force_login(surveyor)
    r = post(client, "zgloszenie-prac", survey_data(), upload(name, make(town)), **EN)
    html = r.content.decode()
    assert r.status_code == 422 and message in field_errors(html, "work_area"), field_errors(
        html, "work_area"
    )
    assert "root:" not in html and not Submission.objects.exists() and not Case.objects.exists()


def test_hostile_work_areas_typed(client, surveyor, town):
    client.force_login(surveyor)
    x0, y0, x1, y1 = town["area"].extent
    bowtie = f"POLYGON(({x0} {y0}, {x1} {y1}, {x1} {y0}, {x0} {y1}, {x0} {y0}))"
    vx, vy = (
        AdministrativeUnit.objects.get(teryt="1418").geom[0].exterior_ring.coords[0]
    )  # on the county's edge
    straddling = f"POLYGON(({vx - 300} {vy - 300}, {vx + 300} {vy - 300}, {vx + 300} {vy + 300}, {vx - 300} {vy + 300}, {vx - 300} {vy - 300}))"
    cases = {
        bowtie: "boundary crosses itself",
        "POLYGON((500000 250000, 500100 250000, 500100 250100, 500000 250000))": "outside the area served",
        straddling: ("reaches outside", "more than one unit"),
        "POLYGON((21.0 52.0, 21.1 52.0, 21.1 52.1, 21.0 52.0))": "outside Poland",  # lon/lat typed as 2180
        f"POLYGON(({x0 - 4000} {y0 - 4000}, {x0 + 4000} {y0 - 4000}, {x0 + 4000} {y0 + 4000}, {x0 - 4000} {y0 + 4000}, {x0 - 4000} {y0 - 4000}))": "at most 50 km²",
        "POLYGON((nan nan, 1 1, 2 2, nan nan))": "",
        "DROP TABLE forms_submission; --": "WKT",
        "x" * (area_mod.MAX_TEXT + 1): "1000000",
    }
    for text, message in cases.items():
        r = post(client, "zgloszenie-prac", survey_data(text), **EN)
        errors = field_errors(r.content.decode(), "work_area")
        expected = message if isinstance(message, tuple) else (message,)
        assert r.status_code == 422 and errors and any(m in errors for m in expected), (text[:80], errors)
    far = (
        Parcel.objects.current()
        .filter(precinct__unit__unit_id="141804_5")
        .exclude(geom__intersects=town["area"])
        .first()
    )
    r = post(client, "zgloszenie-prac", survey_data(town["area"].wkt, parcels=[far.parcel_id]), **EN)
    assert r.status_code == 422 and "do not lie in the work area" in field_errors(
        r.content.decode(), "work_area"
    )
    assert not Submission.objects.exists()


def test_area_readers_directly():
    square = [(638000, 470000), (638000, 470100), (638100, 470100), (638100, 470000), (638000, 470000)]
    assert area_mod.area_from_text(
        f"SRID=2180;POLYGON(({', '.join(f'{x} {y}' for x, y in square)}))"
    ).area == pytest.approx(10000)
    p = area_mod.area_from_text(
        json.dumps(
            {
                "type": "Polygon",
                "coordinates": [square],
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2180"}},
            }
        )
    )
    assert p.area == pytest.approx(10000)
    with pytest.raises(area_mod.AreaInvalid):  # a CRS given as a link is never followed
        area_mod.area_from_text(
            json.dumps(
                {
                    "type": "Polygon",
                    "coordinates": [square],
                    "crs": {"type": "link", "properties": {"href": "http://127.0.0.1/x"}},
                }
            )
        )
    with pytest.raises(area_mod.AreaInvalid):
        area_mod.area_from_text(
            json.dumps(
                {
                    "type": "MultiPolygon",
                    "coordinates": [[square], [[(p[0] + 500, p[1]) for p in square]]],
                    "crs": {"type": "name", "properties": {"name": "EPSG:2180"}},
                }
            )
        )
    for crs in (
        {"type": "name", "properties": []},
        {"type": "name", "properties": {"name": ["EPSG:2180"]}},
        "EPSG:2180",
    ):
        with pytest.raises(area_mod.AreaInvalid):
            area_mod.area_from_text(json.dumps({"type": "Polygon", "coordinates": [square], "crs": crs}))
    with pytest.raises(area_mod.AreaInvalid, match="crosses itself"):
        area_mod.check_polygon(
            Polygon(
                [(638000, 470000), (638100, 470100), (638100, 470000), (638000, 470100), (638000, 470000)]
            )
        )


def test_surveyor_through_the_api_with_a_geojson_object(client, surveyor, town):
    import base64

    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"geo:{PASSWORD}".encode()).decode()}
    geometry = {
        "type": "Polygon",
        "coordinates": [ring_2180(town["area"])],
        "crs": {"type": "name", "properties": {"name": "EPSG:2180"}},
    }
    body = {"service": "zgloszenie-prac", "data": {**survey_data(licence_no="77777"), "work_area": geometry}}
    r = client.post("/api/submissions/", json.dumps(body), content_type="application/json", **auth)
    assert r.status_code == 201, r.content
    sub = Submission.objects.get()
    assert sub.data["licence_no"] == "12345" and sub.data["work_area"].startswith("POLYGON ((")
    assert GEOSGeometry(sub.data["work_area"], srid=2180).sym_difference(town["area"]).area < 1.0
    body["data"]["work_area"] = {"type": "Polygon", "coordinates": "nonsense"}
    r = client.post("/api/submissions/", json.dumps(body), content_type="application/json", **auth)
    assert r.status_code == 422 and "work_area" in r.json()["errors"] and Submission.objects.count() == 1
