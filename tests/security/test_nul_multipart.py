"""RejectNulMiddleware checks the path, the query string and url-encoded bodies only: it never
parses a multipart body (uploads of gigabytes) before a view has checked who is asking. A NUL in a
multipart field is refused by the views themselves (Django form fields: ProhibitNullCharactersValidator;
the e-form, the status page, the case page and the OGC KVP reader check it): a 4xx or a form error,
never a 500, and nothing stored."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.client import MULTIPART_CONTENT, encode_multipart

from gisportal.middleware import RejectNulMiddleware
from layers.models import ImportJob
from services.cases.actions import case_register
from services.forms.models import Draft, ServiceDefinition, Submission
from services.offices.actions import staff_add
from services.offices.models import Office, OfficeUnit

pytestmark = pytest.mark.django_db
BOUNDARY = "BoUnDaRy"


def _multipart(data: dict) -> tuple[bytes, str]:
    return encode_multipart(BOUNDARY, data), f"multipart/form-data; boundary={BOUNDARY}"


# ------------------------------------------------------------------ the middleware itself
def test_the_middleware_does_not_parse_a_multipart_body():
    seen = {}

    def view(request):
        seen["parsed"] = hasattr(request, "_post")  # Django sets _post once the body has been parsed
        return HttpResponse("ok")

    body, ctype = _multipart({"note": "a\x00b", "file": SimpleUploadedFile("x.gml", b"<x/>" * 1000)})
    request = RequestFactory().generic("POST", "/urzad/importy/", body, content_type=ctype)
    response = RejectNulMiddleware(view)(request)
    assert response.status_code == 200 and seen == {"parsed": False}


@pytest.mark.parametrize(
    ("path", "query", "body"),
    [
        ("/a\x00b/", "", None),
        ("/status/", "q=a%00b", None),
        ("/status/", "", "reference=a%00b&access_code=x"),
    ],
)
def test_the_middleware_refuses_nul_in_path_query_and_urlencoded_body(path, query, body):
    called = []
    rf = RequestFactory()
    if body is None:
        request = rf.get(path + ("?" + query if query else ""))
    else:
        request = rf.generic("POST", path, body, content_type="application/x-www-form-urlencoded")
    response = RejectNulMiddleware(lambda r: called.append(r) or HttpResponse("ok"))(request)
    assert response.status_code == 400 and called == []


# ------------------------------------------------------------------ the e-form
@pytest.fixture
def citizen_client(make_user):
    client = Client(raise_request_exception=False)
    client.force_login(make_user("nul.obywatel", "citizen"))
    return client


def _letter(**extra) -> dict:
    service = ServiceDefinition.objects.get(code="pismo-ogolne", active=True)
    return {
        "version": service.version,
        "idempotency_key": str(uuid.uuid4()),
        "action": "submit",
        "applicant_name": "Jan Kowalski",
        "email": "jan@example.pl",
        "subject": "Pytanie",
        "content": "Treść pytania do urzędu.",
        **extra,
    }


@pytest.mark.parametrize(
    "field", ["applicant_name", "subject", "content", "idempotency_key", "email", "unknown\x00field"]
)
def test_a_nul_in_an_e_form_field_is_a_form_error(citizen_client, field):
    data = _letter()
    data[field] = "ab\x00cd"
    r = citizen_client.post("/uslugi/pismo-ogolne/", data)  # the test client sends multipart
    assert r.status_code == 400
    assert "NUL" in r.content.decode()
    assert not Submission.objects.exists()


def test_a_nul_in_a_draft_is_a_form_error_and_no_draft_is_stored(citizen_client):
    r = citizen_client.post("/uslugi/pismo-ogolne/", _letter(action="draft", content="szkic\x00"))
    assert r.status_code == 400 and not Draft.objects.exists()


def test_a_nul_in_an_attachment_name_is_no_500(citizen_client):
    pdf = SimpleUploadedFile("skan\x00.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    r = citizen_client.post("/uslugi/pismo-ogolne/", {**_letter(), "attachments": pdf})
    assert r.status_code < 500
    for sub in Submission.objects.all():
        assert all("\x00" not in a.name for a in sub.attachments.all())


def test_the_e_form_still_files_without_nul(citizen_client):
    """The control: the same post without the NUL is filed."""
    r = citizen_client.post("/uslugi/pismo-ogolne/", _letter())
    assert r.status_code == 302, r.content.decode()[-3000:]
    assert Submission.objects.count() == 1


# ------------------------------------------------------------------ the import form (staff page and API)
@pytest.fixture
def importer(make_user):
    """A clerk of the county office (imports are scoped to the importer's office)."""
    county = Office.objects.get(code="sp-piaseczno")
    user = make_user("nul.importer", "clerk")
    staff_add(user, county, OfficeUnit.objects.get(office=county, code="GK"))
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _gml(name: str = "x.gml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b'<?xml version="1.0"?><x/>', content_type="application/gml+xml")


@pytest.mark.parametrize("field", ["mapping", "srs", "encoding", "policy", "layer"])
def test_a_nul_in_an_import_form_field_is_a_form_error(importer, settings, tmp_path, field):
    settings.GISPORTAL_IMPORT_DIR = tmp_path
    data = {"file": _gml(), "policy": "reject", "layer": "", "mapping": "", "srs": "", "encoding": ""}
    data[field] = "ID_DZIALKI=id\x00" if field == "mapping" else "ab\x00"
    page = importer.post("/urzad/importy/", data)
    assert page.status_code in (200, 400, 422) and page.context["form"].errors.get(field), (
        page.status_code
    )  # a form error
    data["file"] = _gml()
    api = importer.post("/api/imports/", data)
    assert api.status_code == 400 and field in api.json()["errors"]
    assert not ImportJob.objects.exists()


def test_a_nul_in_an_upload_name_is_no_500(importer, settings, tmp_path):
    settings.GISPORTAL_IMPORT_DIR = tmp_path
    r = importer.post("/api/imports/", {"file": _gml("dzia\x00lki.gml"), "policy": "reject"})
    assert r.status_code < 500
    assert all(
        "\x00" not in (j.source_name if hasattr(j, "source_name") else "") for j in ImportJob.objects.all()
    )


def test_an_anonymous_multipart_post_to_the_import_page_is_sent_to_log_in():
    r = Client().post("/urzad/importy/", {"file": _gml(), "policy": "reject", "mapping": "a\x00"})
    assert r.status_code == 302 and r["Location"].startswith("/konto/logowanie/")
    assert not ImportJob.objects.exists()


# ------------------------------------------------------------------ other multipart posts
def test_a_nul_in_the_status_page_is_a_400():
    c = Client(REMOTE_ADDR=f"nul-{uuid.uuid4()}", raise_request_exception=False)
    r = c.post("/status/", {"reference": "KAN\x00.1.1.2026", "access_code": "x"})
    assert r.status_code == 400 and "\x00" not in r.content.decode()


def test_a_nul_in_the_login_form_is_a_form_error():
    r = Client(raise_request_exception=False).post(
        "/konto/logowanie/", {"username": "adm\x00in", "password": "x"}
    )
    assert r.status_code in (200, 400, 403) and r.status_code < 500


def test_a_nul_in_set_language_is_no_500():
    r = Client(raise_request_exception=False).post("/i18n/setlang/", {"language": "en\x00", "next": "/\x00"})
    assert r.status_code < 500


def test_a_nul_in_a_multipart_ows_post_is_an_ogc_400():
    body, ctype = _multipart(
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "TYPENAMES": "gisportal:dzialki",
            "RESOURCEID": "dzialki.1\x00",
        }
    )
    r = Client(raise_request_exception=False).generic("POST", "/ows", body, content_type=ctype)
    assert r.status_code == 400 and b"ExceptionReport" in r.content


def test_a_nul_in_a_clerk_note_is_refused_and_not_stored(make_user):
    gmina = Office.objects.get(code="um-piaseczno")
    clerk = make_user("nul.clerk", "clerk")
    staff_add(clerk, gmina, OfficeUnit.objects.get(office=gmina, code="UiA"))
    case, _ = case_register(
        office=gmina,
        unit=OfficeUnit.objects.get(office=gmina, code="UiA"),
        jrwa="6727",
        subject="Sprawa",
        channel="paper",
        applicant_name="Jan",
        received_on=date(2026, 3, 2),
        deadline_kind="one_month",
    )
    c = Client(raise_request_exception=False)
    c.force_login(clerk)
    r = c.post(f"/urzad/sprawy/{case.pk}/", {"action": "note", "note": "notatka\x00"})
    assert r.status_code == 302
    assert not case.timeline.filter(action="note").exists()
    page = c.get(r["Location"])
    assert "NUL" in page.content.decode()
    assert MULTIPART_CONTENT.startswith("multipart/form-data")


@pytest.mark.parametrize(
    "path, ctype, marker",
    [
        ("/ows?SERVICE=WMS&REQUEST=GetMap&LAYERS=dzialki%00", "xml", b"InvalidParameterValue"),
        ("/ows?SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=%00", "xml", b"InvalidParameterValue"),
        (
            "/ogcapi/collections/dzialki/items?filter=%00",
            "application/problem+json",
            b"InvalidParameterValue",
        ),
        ("/api/search?q=%00", "application/problem+json", b'"status": 400'),
        ("/szukaj/?q=%00", "text/html", b"Znaki NUL"),
    ],
)
def test_a_nul_is_answered_in_the_form_asked_for(client, path, ctype, marker):
    r = client.get(path)
    assert r.status_code == 400 and ctype in r["Content-Type"] and marker in r.content
