"""Negative paths of ownership: a citizen never reaches another citizen's submission or receipt
(page, PDF, XML, JSON API), an anonymous caller neither, and a clerk never reaches another office's
case or its documents. Each answer is the same as for something that does not exist (no oracle)."""

from __future__ import annotations

import base64
import uuid
from datetime import date

import pytest
from django.test import Client

from services.cases.actions import case_document_add, case_register
from services.forms.models import ServiceDefinition, Submission
from services.offices.actions import staff_add
from services.offices.models import Office, OfficeUnit

pytestmark = pytest.mark.django_db
PASSWORD = "x-Secret-2026!"  # make_user's password


@pytest.fixture
def submission_of_a(make_user):
    """Citizen A files a general letter (no parcels needed) through the e-form."""
    a = make_user("obywatel.a", "citizen", first_name="Anna", last_name="Pierwsza")
    client = Client()
    client.force_login(a)
    service = ServiceDefinition.objects.get(code="pismo-ogolne", active=True)
    r = client.post(
        "/uslugi/pismo-ogolne/",
        {
            "version": service.version,
            "idempotency_key": str(uuid.uuid4()),
            "action": "submit",
            "applicant_name": "Anna Pierwsza",
            "email": "anna@example.pl",
            "subject": "Tajna sprawa A",
            "content": "Treść pisma obywatelki A.",
        },
    )
    assert r.status_code == 302, r.content.decode()[-1500:]
    sub = Submission.objects.get(user=a)
    return sub, client


@pytest.fixture
def citizen_b(make_user):
    b = make_user("obywatel.b", "citizen")
    client = Client()
    client.force_login(b)
    return b, client


SUBMISSION_PAGES = ["/wnioski/{id}/", "/wnioski/{id}/upp.pdf", "/wnioski/{id}/upp.xml"]


def test_the_owner_reaches_all_of_them(submission_of_a):
    """The control: the same requests by the owner succeed, so the 404s below are the owner check."""
    sub, a = submission_of_a
    for page in SUBMISSION_PAGES:
        assert a.get(page.format(id=sub.id)).status_code == 200, page
    assert a.get(f"/api/submissions/{sub.id}").status_code == 200


@pytest.mark.parametrize("page", SUBMISSION_PAGES)
def test_another_citizen_gets_404_for_the_pages(submission_of_a, citizen_b, page):
    sub, _a = submission_of_a
    _b, b = citizen_b
    r = b.get(page.format(id=sub.id))
    assert r.status_code == 404
    assert b"Tajna sprawa A" not in r.content and b"Anna Pierwsza" not in r.content
    assert not r.get("Content-Disposition")
    assert b.get(page.format(id=uuid.uuid4())).status_code == 404  # same as a submission that does not exist


def test_another_citizen_gets_404_from_the_api(submission_of_a, citizen_b):
    sub, _a = submission_of_a
    b_user, b = citizen_b
    mine = b.get(f"/api/submissions/{sub.id}")
    missing = b.get(f"/api/submissions/{uuid.uuid4()}")
    assert mine.status_code == 404 and missing.status_code == 404
    # no oracle: the same answer as for a made-up id (but for `instance`, the path asked for)
    assert mine.json().pop("instance") == f"/api/submissions/{sub.id}"
    assert {**mine.json(), "instance": ""} == {**missing.json(), "instance": ""}
    basic = base64.b64encode(f"{b_user.username}:{PASSWORD}".encode()).decode()
    r = Client().get(f"/api/submissions/{sub.id}", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert r.status_code == 404 and b"Tajna sprawa A" not in r.content


@pytest.mark.parametrize("page", SUBMISSION_PAGES)
def test_an_anonymous_caller_is_sent_to_log_in_and_sees_nothing(submission_of_a, page):
    sub, _a = submission_of_a
    r = Client().get(page.format(id=sub.id))
    assert r.status_code == 302 and r["Location"].startswith("/konto/logowanie/")
    assert b"Tajna sprawa A" not in r.content


def test_an_anonymous_caller_gets_401_from_the_api(submission_of_a):
    sub, _a = submission_of_a
    r = Client().get(f"/api/submissions/{sub.id}")
    assert r.status_code == 401 and b"Tajna sprawa A" not in r.content
    bad = base64.b64encode(b"obywatel.a:wrong-password").decode()
    r = Client().get(f"/api/submissions/{sub.id}", HTTP_AUTHORIZATION=f"Basic {bad}")
    assert r.status_code == 401


# ------------------------------------------------------------------ clerks of another office
@pytest.fixture
def offices():
    return Office.objects.get(code="um-piaseczno"), Office.objects.get(code="sp-piaseczno")


@pytest.fixture
def county_case(offices):
    """A paper case of the county office with a scanned document."""
    _gmina, county = offices
    case, _access = case_register(
        office=county,
        unit=OfficeUnit.objects.get(office=county, code="GK"),
        jrwa="6640",
        subject="Sprawa starostwa",
        channel="paper",
        applicant_name="Jan Starostwo",
        received_on=date(2026, 3, 2),
        deadline_kind="one_month",
    )
    doc = case_document_add(
        case,
        name="skan.pdf",
        content_type="application/pdf",
        content=b"%PDF-1.4 tajne starostwa",
        direction="in",
    )
    return case, doc


def _clerk(make_user, office, unit_code: str, name: str) -> Client:
    user = make_user(name, "clerk")
    staff_add(user, office, OfficeUnit.objects.get(office=office, code=unit_code))
    client = Client()
    client.force_login(user)
    return client


def test_the_county_clerk_reaches_the_case_and_document(make_user, offices, county_case):
    """The control: the same requests by a clerk of the case's office succeed."""
    _gmina, county = offices
    case, doc = county_case
    c = _clerk(make_user, county, "GK", "clerk.county")
    assert c.get(f"/urzad/sprawy/{case.pk}/").status_code == 200
    r = c.get(f"/urzad/sprawy/{case.pk}/dokumenty/{doc.id}")
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"%PDF-1.4 tajne starostwa"


def test_a_clerk_of_another_office_gets_404_for_the_case_and_its_documents(make_user, offices, county_case):
    gmina, _county = offices
    case, doc = county_case
    c = _clerk(make_user, gmina, "UiA", "clerk.gmina")
    for path in (
        f"/urzad/sprawy/{case.pk}/",
        f"/urzad/sprawy/{case.pk}/dokumenty/{doc.id}",
        f"/urzad/sprawy/{case.pk}/potwierdzenie/",
    ):
        r = c.get(path)
        assert r.status_code == 404, path
        assert b"tajne starostwa" not in r.content and b"Sprawa starostwa" not in r.content
    assert c.post(f"/urzad/sprawy/{case.pk}/", {"action": "note", "note": "obca notatka"}).status_code == 404
    assert not case.timeline.filter(note="obca notatka").exists()
    inbox = c.get(
        "/urzad/sprawy/", {"q": case.sign}
    ).content.decode()  # the sign is echoed in links; the case is not listed
    assert (
        "Sprawa starostwa" not in inbox
        and "Jan Starostwo" not in inbox
        and f"/urzad/sprawy/{case.pk}/" not in inbox
    )


def test_citizens_and_anonymous_callers_never_reach_case_pages(make_user, county_case):
    case, doc = county_case
    citizen = Client()
    citizen.force_login(make_user("obywatel.c", "citizen"))
    for path in (f"/urzad/sprawy/{case.pk}/", f"/urzad/sprawy/{case.pk}/dokumenty/{doc.id}"):
        assert citizen.get(path).status_code == 403, path
        anon = Client().get(path)
        assert anon.status_code == 302 and anon["Location"].startswith("/konto/logowanie/")
