"""Case signs are unique within an office, not system-wide (DOMAIN.md §8): the gmina and the county
both have a registry office (KAN), so each office's first general letter is KAN.<JRWA>.1.<year>.
Both must be stored, and a status lookup by that sign must answer each applicant with their own
case (the access code decides), never the other office's."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from services.cases.actions import case_register
from services.cases.models import Case
from services.cases.selectors import status_lookup
from services.offices.models import Office, OfficeUnit

pytestmark = pytest.mark.django_db


@pytest.fixture
def offices():
    gmina, county = Office.objects.get(code="um-piaseczno"), Office.objects.get(code="sp-piaseczno")
    assert OfficeUnit.objects.filter(office=gmina, code="KAN").exists()
    assert OfficeUnit.objects.filter(office=county, code="KAN").exists()
    return gmina, county


def _letter(office, subject: str) -> tuple[Case, str]:
    return case_register(
        office=office,
        unit=OfficeUnit.objects.get(office=office, code="KAN"),
        jrwa="1510",
        subject=subject,
        channel="paper",
        applicant_name="Jan Papierowy",
        received_on=date(2026, 3, 2),
        deadline_kind="one_month",
    )


def test_first_case_of_each_office_gets_the_same_sign_and_both_are_stored(offices):
    gmina, county = offices
    a, _ = _letter(gmina, "Pismo do gminy")
    b, _ = _letter(county, "Pismo do starostwa")
    assert a.sign == b.sign == "KAN.1510.1.2026"
    assert Case.objects.filter(sign="KAN.1510.1.2026").count() == 2
    assert {c.office_id for c in Case.objects.filter(sign="KAN.1510.1.2026")} == {gmina.pk, county.pk}
    c, _ = _letter(gmina, "Drugie pismo do gminy")
    assert c.sign == "KAN.1510.2.2026"


def test_a_sign_is_still_unique_within_one_office(offices):
    gmina, _county = offices
    a, _ = _letter(gmina, "Pismo")
    dup = Case.objects.get(pk=a.pk)
    dup.pk, dup.number, dup.tracking_code = None, 99, "DUPLICATE01"
    with pytest.raises(IntegrityError), transaction.atomic():
        dup.save()


def test_status_by_a_shared_sign_answers_each_applicant_with_their_own_case(offices):
    gmina, county = offices
    a, access_a = _letter(gmina, "Pismo do gminy")
    b, access_b = _letter(county, "Pismo do starostwa")
    assert a.sign == b.sign
    assert status_lookup(a.sign, access_a) == a
    assert status_lookup(b.sign, access_b) == b
    assert status_lookup(a.sign.lower(), access_b) == b
    assert status_lookup(a.sign, "WRONGCODE1") is None
    assert status_lookup(a.tracking_code, access_b) is None  # tracking code of A with B's access code
    assert status_lookup(b.tracking_code, access_b) == b


def test_status_page_and_api_by_a_shared_sign(offices):
    gmina, county = offices
    a, access_a = _letter(gmina, "Pismo do gminy")
    b, access_b = _letter(county, "Pismo do starostwa")
    for access, mine, other in ((access_a, a, b), (access_b, b, a)):
        client = Client(REMOTE_ADDR=f"signs-{uuid.uuid4()}")
        page = client.post("/status/", {"reference": mine.sign, "access_code": access})
        assert page.status_code == 200
        html = page.content.decode()
        assert mine.subject in html and other.subject not in html
        api = client.post(
            "/api/cases/status",
            {"reference": mine.sign, "access_code": access},
            content_type="application/json",
        )
        assert api.status_code == 200
        assert api.json()["office"] == mine.office.name and api.json()["subject"] == mine.subject


def test_status_api_with_a_nul_is_a_clear_404_not_a_500(offices):
    client = Client(REMOTE_ADDR=f"signs-{uuid.uuid4()}", raise_request_exception=False)
    r = client.post(
        "/api/cases/status", {"reference": "KAN\x00.1", "access_code": "x"}, content_type="application/json"
    )
    assert r.status_code == 404 and r["Content-Type"].startswith("application/problem+json")
