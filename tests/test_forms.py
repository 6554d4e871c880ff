"""E-forms: the catalogue as data, checking against the registries and ULDK, routing to the competent
office, filing (stored first, idempotent), signed receipts that verify independently, the pages and
the JSON API, and hostile inputs."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test import Client
from lxml import etree
from signxml.xades import XAdESVerifier

from layers.models import Parcel
from layers.registries.uldk import DEFAULT_PARCELS, FakeUldk
from services.forms.catalogue import definitions
from services.forms.models import Draft, ServiceDefinition, Submission
from services.offices.seals import seal_for
from services.receipts.models import Receipt
from services.receipts.upp import NS

pytestmark = pytest.mark.django_db

GOOD_APPLICANT = {
    "applicant_name": "Jan Kowalski",
    "email": "jan@example.pl",
    "pesel": "44051401359",
    "postal_code": "05-500",
    "locality": "Piaseczno",
    "nip": "123-456-32-18",
}


@pytest.fixture(scope="module")
def parcels(demo_data, django_db_blocker):
    with django_db_blocker.unblock():
        current = Parcel.objects.current()
        return {
            "town": current.filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[3].parcel_id,
            "town2": current.filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[4].parcel_id,
            "rural": current.filter(precinct__unit__unit_id="141804_5").order_by("parcel_id")[3].parcel_id,
        }


@pytest.fixture
def citizen(make_user):
    return make_user("jan", "citizen", first_name="Jan", last_name="Kowalski")


@pytest.fixture
def logged(client, citizen):
    client.force_login(citizen)
    return client


@pytest.fixture
def uldk(settings):
    with FakeUldk(DEFAULT_PARCELS) as fake:
        settings.GISPORTAL_ULDK_URL = fake.url
        yield fake


def post_form(client, code: str, data: dict, files=None, **extra):
    service = ServiceDefinition.objects.get(code=code, active=True)
    payload = {
        "version": service.version,
        "idempotency_key": extra.pop("key", str(uuid.uuid4())),
        "action": "submit",
    }
    for k, v in data.items():
        payload[k] = "\n".join(v) if isinstance(v, list) else ("1" if v is True else v)
    if files:
        payload["attachments"] = files
    return client.post(f"/uslugi/{code}/", payload, **extra)


# ------------------------------------------------------------------ catalogue
def test_catalogue_loaded_from_data():
    codes = set(ServiceDefinition.objects.filter(active=True).values_list("code", flat=True))
    assert codes == {
        "wypis-wyrys-mpzp",
        "zaswiadczenie-mpzp",
        "wypis-wyrys-egib",
        "numer-porzadkowy",
        "zgloszenie-prac",
        "pismo-ogolne",
    }
    assert {d["code"] for d in definitions()} == codes
    egib = ServiceDefinition.objects.get(code="wypis-wyrys-egib", active=True)
    assert egib.service_kind == "egib_extract" and "pesel" in egib.schema["properties"]


def test_service_list_and_form_pages(client):
    r = client.get("/uslugi/")
    assert r.status_code == 200 and "Wypis i wyrys z miejscowego planu" in r.content.decode()
    r = client.get("/uslugi/wypis-wyrys-mpzp/")
    html = r.content.decode()
    assert r.status_code == 200
    assert 'for="id_parcels"' in html and 'id="id_parcels"' in html and 'name="idempotency_key"' in html
    r = client.get("/uslugi/wypis-wyrys-mpzp/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Parcel identifiers" in r.content.decode()
    assert client.get("/uslugi/nope/").status_code == 404


def test_prefill_from_map_link(client, parcels):
    r = client.get(f"/uslugi/wypis-wyrys-mpzp/?parcels={parcels['town']}")
    assert parcels["town"] in r.content.decode()


# ------------------------------------------------------------------ filing, routing, receipts
def test_zoning_extract_goes_to_the_gmina_with_a_receipt_that_verifies(logged, parcels):
    r = post_form(
        logged,
        "wypis-wyrys-mpzp",
        {
            **GOOD_APPLICANT,
            "parcels": [parcels["town"], parcels["rural"]],
            "product": "wypis_wyrys",
            "copies": "2",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    sub = Submission.objects.get()
    assert (sub.office.code, sub.office.kind) == ("um-piaseczno", "gmina")
    assert sub.data["nip"] == "1234563218" and sub.data["copies"] == 2
    assert hashlib.sha256(bytes(sub.document)).hexdigest() == sub.sha256
    assert json.loads(bytes(sub.document))["parcels"] == [parcels["town"], parcels["rural"]]
    receipt = Receipt.objects.get(document_id=str(sub.id))
    # independent check: signxml with the office certificate, and the digest of the stored document
    signed = (
        XAdESVerifier()
        .verify(etree.fromstring(bytes(receipt.xml)), x509_cert=seal_for(sub.office).cert_pem.decode())[0]
        .signed_xml
    )
    assert signed.findtext(f"{{{NS}}}SkrotDokumentu") == sub.sha256
    assert signed.findtext(f"{{{NS}}}IdentyfikatorDokumentu") == str(sub.id)
    page = logged.get(r["Location"])
    assert page.status_code == 200 and sub.office.name in page.content.decode()
    pdf = logged.get(f"/wnioski/{sub.id}/upp.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    xml = logged.get(f"/wnioski/{sub.id}/upp.xml")
    assert xml.content == bytes(receipt.xml)
    ok = Client().get(f"/verify/{receipt.verification_code}", HTTP_ACCEPT_LANGUAGE="en")
    assert ok.status_code == 200 and "The confirmation is genuine" in ok.content.decode()
    assert sub.sha256 in ok.content.decode()
    spaced = " ".join(receipt.verification_code[i : i + 4] for i in range(0, 24, 4))
    typed = Client().get("/verify/", {"code": spaced.lower()}, HTTP_ACCEPT_LANGUAGE="en")
    assert typed.status_code == 200 and "The confirmation is genuine" in typed.content.decode()
    assert sub.sha256 in typed.content.decode()
    assert Client().get("/verify/AAAABBBBCCCCDDDDEEEEFFFF").status_code == 404


def test_egib_extract_goes_to_the_county(logged, parcels):
    r = post_form(
        logged,
        "wypis-wyrys-egib",
        {
            **GOOD_APPLICANT,
            "parcels": [parcels["rural"]],
            "variant": "wypis_uproszczony",
            "form": "electronic",
        },
    )
    assert r.status_code == 302
    assert Submission.objects.get().office.kind == "county"


def test_personal_data_needs_a_legal_interest(logged, parcels):
    r = post_form(
        logged,
        "wypis-wyrys-egib",
        {**GOOD_APPLICANT, "parcels": [parcels["rural"]], "variant": "wypis_z_danymi", "form": "paper"},
    )
    # form version 2: the ground for personal data is chosen (tests/test_forms_journeys.py has the rest)
    assert r.status_code == 422 and 'id="id_legal_ground_error"' in r.content.decode()
    assert not Submission.objects.exists()


def test_parcel_of_another_gmina_found_in_uldk_is_routed_away(logged, uldk):
    lesznowola = next(pid for pid in DEFAULT_PARCELS if pid.startswith("141803_2"))
    r = post_form(
        logged,
        "wypis-wyrys-mpzp",
        {**GOOD_APPLICANT, "parcels": [lesznowola], "product": "wypis", "copies": "1"},
    )
    assert r.status_code == 422
    html = r.content.decode()
    assert "id_parcels_error" in html and "Lesznowola" in html  # names the competent gmina
    assert not Submission.objects.exists()
    # the county serves Lesznowola too: an EGiB extract there is filed with the starostwo
    r = post_form(
        logged,
        "wypis-wyrys-egib",
        {**GOOD_APPLICANT, "parcels": [lesznowola], "variant": "wyrys", "form": "electronic"},
    )
    assert r.status_code == 302
    assert Submission.objects.get().office.kind == "county"


def test_parcel_in_warsaw_is_outside_the_county(logged, uldk):
    warsaw = next(pid for pid in DEFAULT_PARCELS if pid.startswith("1465"))
    r = post_form(
        logged,
        "wypis-wyrys-egib",
        {**GOOD_APPLICANT, "parcels": [warsaw], "variant": "wyrys", "form": "electronic"},
    )
    assert r.status_code == 422 and "id_parcels_error" in r.content.decode()


def test_forged_parcel_id_of_our_unit(logged, parcels):
    r = post_form(
        logged,
        "wypis-wyrys-mpzp",
        {**GOOD_APPLICANT, "parcels": ["141804_4.0001.999999"], "product": "wypis", "copies": "1"},
    )
    assert r.status_code == 422 and "141804_4.0001.999999" in r.content.decode()
    r = post_form(
        logged,
        "wypis-wyrys-mpzp",
        {**GOOD_APPLICANT, "parcels": ["1' OR '1'='1"], "product": "wypis", "copies": "1"},
    )
    assert r.status_code == 422
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("pesel", "44051401358"),
        ("nip", "1234563219"),
        ("postal_code", "05500"),
        ("email", "not-an-email"),
        ("applicant_name", ""),
    ],
)
def test_field_errors_are_linked_and_nothing_is_stored(logged, parcels, field, value):
    r = post_form(
        logged,
        "zaswiadczenie-mpzp",
        {**GOOD_APPLICANT, field: value, "parcels": [parcels["town"]], "purpose": "sprzedaż"},
    )
    html = r.content.decode()
    assert r.status_code == 422
    assert (
        f'href="#id_{field}"' in html and f'id="id_{field}_error"' in html and 'aria-invalid="true"' in html
    )
    assert not Submission.objects.exists()


def test_script_in_text_is_escaped(logged, parcels):
    evil = "<script>alert(1)</script>"
    r = post_form(logged, "pismo-ogolne", {**GOOD_APPLICANT, "subject": evil, "content": "x", "pesel": "bad"})
    html = r.content.decode()
    assert evil not in html and "&lt;script&gt;" in html


# ------------------------------------------------------------------ idempotency, versions, CSRF, permissions
def test_double_click_files_one_submission(logged, parcels):
    data = {**GOOD_APPLICANT, "parcels": [parcels["town"]], "purpose": "kredyt"}
    a = post_form(logged, "zaswiadczenie-mpzp", data, key="k-1")
    b = post_form(logged, "zaswiadczenie-mpzp", data, key="k-1")
    assert a["Location"] == b["Location"]
    assert Submission.objects.count() == 1 and Receipt.objects.count() == 1


def test_form_version_that_no_longer_exists(logged, parcels):
    service = ServiceDefinition.objects.get(code="zaswiadczenie-mpzp", active=True)
    r = logged.post(
        "/uslugi/zaswiadczenie-mpzp/",
        {
            "version": service.version + 7,
            "idempotency_key": "x",
            **GOOD_APPLICANT,
            "parcels": parcels["town"],
            "purpose": "kredyt",
        },
    )
    assert r.status_code == 409 and not Submission.objects.exists()
    assert GOOD_APPLICANT["applicant_name"] in r.content.decode()  # the data typed is kept on the page


def test_missing_csrf_token(citizen, parcels):
    c = Client(enforce_csrf_checks=True)
    c.force_login(citizen)
    r = c.post(
        "/uslugi/zaswiadczenie-mpzp/",
        {"version": 1, **GOOD_APPLICANT, "parcels": parcels["town"], "purpose": "kredyt"},
    )
    assert r.status_code == 403 and not Submission.objects.exists()


def test_anonymous_post_goes_to_login(client, parcels):
    r = post_form(
        client, "zaswiadczenie-mpzp", {**GOOD_APPLICANT, "parcels": [parcels["town"]], "purpose": "kredyt"}
    )
    assert r.status_code == 302 and "/konto/logowanie/" in r["Location"]
    assert not Submission.objects.exists()


def test_survey_work_only_for_surveyors(client, make_user, parcels):
    data = {
        **GOOD_APPLICANT,
        "parcels": [parcels["rural"]],
        "licence_no": "12345",
        "purpose": "podzial",
        "materials": ["egib", "mapa"],
        "end_date": "2027-03-01",
    }
    geom = Parcel.objects.get(parcel_id=parcels["rural"], end_object__isnull=True).geom
    data["work_area"] = geom.wkt  # form version 2: the work area (here the parcel itself) is required
    client.force_login(make_user("cit", "citizen"))
    assert post_form(client, "zgloszenie-prac", data).status_code == 403
    client.force_login(make_user("geo", "surveyor"))
    r = post_form(client, "zgloszenie-prac", data)
    assert r.status_code == 302 and Submission.objects.get().office.kind == "county"


def test_general_letter_without_parcels_goes_to_the_gmina(logged):
    r = post_form(
        logged, "pismo-ogolne", {**GOOD_APPLICANT, "subject": "Wniosek", "content": "Proszę o informację."}
    )
    assert r.status_code == 302 and Submission.objects.get().office.kind == "gmina"


def test_draft_saved_and_restored(logged, parcels):
    data = {"applicant_name": "Jan", "purpose": "do kredytu", "parcels": [parcels["town"]]}
    service = ServiceDefinition.objects.get(code="zaswiadczenie-mpzp", active=True)
    logged.post(
        "/uslugi/zaswiadczenie-mpzp/",
        {
            "version": service.version,
            "action": "draft",
            "idempotency_key": "d",
            "applicant_name": "Jan",
            "purpose": "do kredytu",
            "parcels": parcels["town"],
        },
    )
    draft = Draft.objects.get()
    assert {name: draft.data.get(name) for name in data} == data
    page = logged.get("/uslugi/zaswiadczenie-mpzp/").content.decode()
    assert "do kredytu" in page and parcels["town"] in page
    assert not Submission.objects.exists()


# ------------------------------------------------------------------ attachments
def test_attachments_checked_by_content(logged):
    data = {**GOOD_APPLICANT, "subject": "Pismo", "content": "Treść pisma."}
    fake_pdf = SimpleUploadedFile("umowa.pdf", b"MZ\x90\x00 this is an exe", content_type="application/pdf")
    r = post_form(logged, "pismo-ogolne", data, files=[fake_pdf])
    assert r.status_code == 422 and "id_attachments_error" in r.content.decode()
    big = SimpleUploadedFile(
        "skan.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 10), content_type="application/pdf"
    )
    assert post_form(logged, "pismo-ogolne", data, files=[big]).status_code == 422
    assert not Submission.objects.exists()
    good = SimpleUploadedFile("skan.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    r = post_form(logged, "pismo-ogolne", data, files=[good])
    assert r.status_code == 302
    sub = Submission.objects.get()
    att = sub.attachments.get()
    assert (
        att.sha256 == hashlib.sha256(b"%PDF-1.4\n%%EOF\n").hexdigest()
        and att.content_type == "application/pdf"
    )
    receipt = Receipt.objects.get(document_id=str(sub.id))
    assert att.sha256 in bytes(receipt.xml).decode()


# ------------------------------------------------------------------ immutability
def test_submissions_and_receipts_cannot_be_changed(logged, parcels):
    post_form(
        logged, "zaswiadczenie-mpzp", {**GOOD_APPLICANT, "parcels": [parcels["town"]], "purpose": "kredyt"}
    )
    sub = Submission.objects.get()
    for sql in (
        "UPDATE forms_submission SET sha256 = repeat('0', 64)",
        "DELETE FROM forms_submission",
        "UPDATE receipts_receipt SET document_sha256 = repeat('0', 64)",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    assert Submission.objects.get().sha256 == sub.sha256


# ------------------------------------------------------------------ JSON API
def test_api_services(client):
    body = client.get("/api/services/").json()
    assert len(body["services"]) == 6
    one = client.get("/api/services/wypis-wyrys-egib").json()
    assert one["schema"]["properties"]["pesel"]["x-validator"] == "pesel"
    assert client.get("/api/services/nope").status_code == 404


def _basic(user: str, password: str = "x-Secret-2026!") -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_api_submission_with_idempotency_key(client, make_user, parcels):
    make_user("system.test", "office_system")
    payload = {
        "service": "zaswiadczenie-mpzp",
        "data": {**GOOD_APPLICANT, "parcels": [parcels["town2"]], "purpose": "kredyt"},
    }
    r1 = client.post(
        "/api/submissions/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="abc",
        **_basic("system.test"),
    )
    assert r1.status_code == 201, r1.content
    r2 = client.post(
        "/api/submissions/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="abc",
        **_basic("system.test"),
    )
    assert r2.json()["id"] == r1.json()["id"] and Submission.objects.count() == 1
    other = {**payload, "data": {**payload["data"], "purpose": "inny cel"}}
    r3 = client.post(
        "/api/submissions/",
        json.dumps(other),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="abc",
        **_basic("system.test"),
    )
    assert r3.status_code == 409 and r3["Content-Type"] == "application/problem+json"
    got = client.get(f"/api/submissions/{r1.json()['id']}", **_basic("system.test")).json()
    assert got["receipt"]["verification_code"] == r1.json()["receipt"]["verification_code"]


def test_api_errors(client, make_user, parcels):
    make_user("system.test", "office_system")
    assert client.post("/api/submissions/", "{}", content_type="application/json").status_code == 401
    assert (
        client.post(
            "/api/submissions/", "{}", content_type="application/json", **_basic("system.test", "wrong")
        ).status_code
        == 401
    )
    r = client.post("/api/submissions/", "not json", content_type="application/json", **_basic("system.test"))
    assert r.status_code == 400
    r = client.post(
        "/api/submissions/",
        json.dumps({"service": "zaswiadczenie-mpzp", "data": {"applicant_name": "J", "extra": 1}}),
        content_type="application/json",
        **_basic("system.test"),
    )
    body = r.json()
    assert r.status_code == 422 and {"applicant_name", "email", "parcels", "purpose", "__all__"} <= set(
        body["errors"]
    )
    r = client.post(
        "/api/submissions/",
        json.dumps({"service": "zaswiadczenie-mpzp", "version": 99, "data": {}}),
        content_type="application/json",
        **_basic("system.test"),
    )
    assert r.status_code == 409 and r.json()["current_version"] == 2  # zaswiadczenie-mpzp v2: delivery
    assert not Submission.objects.exists()


def test_property_address_must_lie_at_the_parcel(logged, parcels):
    from layers.models import AddressPoint

    ap = next(a for a in AddressPoint.objects.current().order_by("pk") if a.street)
    here = Parcel.objects.current().filter(geom__dwithin=(ap.geom, 5)).first()
    address = f"{ap.street} {ap.number}"
    data = {**GOOD_APPLICANT, "purpose": "kredyt", "property_address": address}
    far = next(
        p
        for p in (parcels["rural"], parcels["town"])
        if Parcel.objects.get(parcel_id=p, end_object__isnull=True).geom.distance(ap.geom) > 100
    )
    r = post_form(logged, "zaswiadczenie-mpzp", {**data, "parcels": [far]})
    assert r.status_code == 422 and "id_property_address_error" in r.content.decode()
    r = post_form(
        logged,
        "zaswiadczenie-mpzp",
        {**data, "property_address": "Nieistniejąca 999", "parcels": [here.parcel_id]},
    )
    assert r.status_code == 422 and "id_property_address_error" in r.content.decode()
    r = post_form(logged, "zaswiadczenie-mpzp", {**data, "parcels": [here.parcel_id]})
    assert r.status_code == 302, r.content.decode()[-3000:]


def test_nul_characters_are_refused(logged, client, make_user, parcels):
    r = post_form(logged, "pismo-ogolne", {**GOOD_APPLICANT, "subject": "a\x00b", "content": "Treść pisma."})
    assert r.status_code == 400 and not Submission.objects.exists()  # refused for every form (middleware)
    make_user("system.nul", "office_system")
    body = json.dumps(
        {
            "service": "pismo-ogolne",
            "data": {**GOOD_APPLICANT, "subject": "a\u0000b", "content": "Treść pisma."},
        }
    )
    r = client.post("/api/submissions/", body, content_type="application/json", **_basic("system.nul"))
    assert r.status_code == 422 and not Submission.objects.exists()
