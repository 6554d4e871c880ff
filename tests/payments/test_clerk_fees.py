"""Fee documents a clerk issues from the case page when the fee depends on what the office finds
(pages and parts of a zoning extract; the starosta's computation for survey materials), the stamp-duty
payment request at filing for a certificate, and who may do what."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.test import Client

from gisportal.core.errors import Forbidden, InvalidInput
from layers.models import Parcel
from services.cases.actions import case_fee_issue, cases_payments_sweep
from services.cases.models import Case, State
from services.forms.actions import submission_file
from services.forms.models import ServiceDefinition
from services.offices.models import Office, StaffMembership
from services.payments.models import Payment

from .conftest import APPLICANT

pytestmark = pytest.mark.django_db


@pytest.fixture
def town_parcel(demo_data, django_db_blocker):
    with django_db_blocker.unblock():
        return (
            Parcel.objects.current()
            .filter(precinct__unit__unit_id="141804_4")
            .order_by("parcel_id")[7]
            .parcel_id
        )


@pytest.fixture
def gmina_clerk(make_user):
    office = Office.objects.get(code="um-piaseczno")
    user = make_user("urbanista", "clerk", first_name="Ewa", last_name="Plan")
    StaffMembership.objects.create(user=user, office=office, unit=office.units.get(code="UiA"))
    return user


def file(code: str, data: dict, user):
    service = ServiceDefinition.objects.get(code=code, active=True)
    return submission_file(service, data, user=user, idempotency_key=str(uuid.uuid4()))


def test_certificate_gets_a_stamp_duty_request_at_filing(gateways, citizen, town_parcel):
    sub = file("zaswiadczenie-mpzp", {**APPLICANT, "parcels": [town_parcel], "purpose": "kredyt"}, citizen)
    payment = Payment.objects.get(document__submission_id=sub.id)
    doc = payment.document
    assert doc.kind == "stamp_duty" and doc.amount == Decimal("17.00") and doc.number.startswith("OS/")
    assert doc.account == "PL05124069731111001086706226" and doc.office.kind == "gmina"
    assert Case.objects.get(submission=sub).state == State.PAYMENT_DUE


def test_housing_exemption_asks_for_nothing(gateways, citizen, town_parcel):
    sub = file(
        "zaswiadczenie-mpzp",
        {**APPLICANT, "parcels": [town_parcel], "purpose": "kredyt", "housing_exemption": True},
        citizen,
    )
    assert not Payment.objects.filter(document__submission_id=sub.id).exists()
    assert Case.objects.get(submission=sub).state == State.REGISTERED


def test_zoning_extract_fee_is_issued_by_the_clerk_with_pages_and_parts(
    gateways, citizen, town_parcel, gmina_clerk
):
    sub = file(
        "wypis-wyrys-mpzp",
        {**APPLICANT, "parcels": [town_parcel], "product": "wypis_wyrys", "copies": 1},
        citizen,
    )
    case = Case.objects.get(submission=sub)
    assert case.state == State.REGISTERED and not Payment.objects.filter(document__case_id=case.pk).exists()
    with pytest.raises(InvalidInput):  # the office must state pages and parts first
        case_fee_issue(case.pk, actor=gmina_clerk, key="k1")
    # DOMAIN.md §6: a 7-page wypis and a 3-part wyrys = 50 + 60 = 110 zł
    payment = case_fee_issue(case.pk, actor=gmina_clerk, key="k2", pages=7, parts=3)
    assert payment.document.kind == "stamp_duty" and payment.amount == Decimal("110.00")
    assert payment.document.issued_by == gmina_clerk
    case.refresh_from_db()
    assert case.state == State.PAYMENT_DUE
    # the same form sent twice issues one document; another while one is unpaid is refused
    with pytest.raises(InvalidInput):
        case_fee_issue(case.pk, actor=gmina_clerk, key="k3", pages=1, parts=1)


def test_materials_fee_lines_are_rounded_to_10_grosze(gateways, county, clerk, make_user, rural_parcel):
    surveyor = make_user("geo", "surveyor")
    sub = file(
        "zgloszenie-prac",
        {
            **APPLICANT,
            "parcels": [rural_parcel],
            "licence_no": "99999",
            "purpose": "podzial",
            "materials": ["egib"],
            "end_date": "2027-03-01",
            # form v2: the work area is required (here the parcel's own boundary)
            "work_area": Parcel.objects.current().get(parcel_id=rural_parcel).geom.wkt,
        },
        surveyor,
    )
    case = Case.objects.get(submission=sub)
    assert not Payment.objects.filter(document__case_id=case.pk).exists()  # pgik_materials: set by the DOO
    lines = [
        {
            "label": "mapa zasadnicza, 12 sekcji × współczynniki",
            "quantity": 1,
            "unit_price": Decimal("12.35"),
            "amount": Decimal("12.35"),
        }
    ]
    payment = case_fee_issue(case.pk, actor=clerk, key="m1", lines=lines)
    assert payment.document.kind == "doo" and payment.amount == Decimal("12.40")  # 12.35 → 12.40
    assert payment.document.lines[0]["amount"] == "12.40"
    assert payment.document.account == county.fee_account


def test_clerk_of_another_office_cannot_issue_or_see(gateways, citizen, town_parcel, clerk):
    sub = file(
        "wypis-wyrys-mpzp", {**APPLICANT, "parcels": [town_parcel], "product": "wypis", "copies": 1}, citizen
    )
    case = Case.objects.get(submission=sub)  # the gmina's case; `clerk` works at the county
    with pytest.raises(Forbidden):
        case_fee_issue(case.pk, actor=clerk, key="x", pages=2)
    assert not Payment.objects.filter(document__case_id=case.pk).exists()


def test_clerk_pages(gateways, filed, clerk, citizen):
    payment = Payment.objects.get(document__submission_id=filed.id)
    c = Client()
    c.force_login(clerk)
    r = c.get("/urzad/platnosci/")
    assert r.status_code == 200 and payment.document.number in r.content.decode()
    r = c.get(f"/urzad/platnosci/{payment.pk}/")
    assert r.status_code == 200 and "140,00" in r.content.decode().replace("140.00", "140,00")
    r = c.post(
        f"/urzad/platnosci/{payment.pk}/",
        {
            "action": "transfer",
            "amount": "140,00",
            "booked_on": "2026-12-01",
            "statement": "KOWALSKI JAN " + payment.document.number,
        },
    )
    assert r.status_code == 302 and Payment.objects.get(pk=payment.pk).status == "paid"
    c.force_login(citizen)
    assert c.get("/urzad/platnosci/").status_code == 403
    assert c.get(f"/urzad/platnosci/{payment.pk}/").status_code == 403


def test_sweep_moves_a_paid_case_whose_callback_was_lost(gateways, filed, clerk):
    from datetime import date

    from services.payments import actions

    payment = Payment.objects.get(document__submission_id=filed.id)
    actions.PAYMENT_HOOKS_SAVED = list(actions.PAYMENT_HOOKS)
    actions.PAYMENT_HOOKS.clear()
    try:
        actions.payment_transfer_book(
            payment.pk, actor=clerk, amount=Decimal("140.00"), booked_on=date(2026, 12, 1), statement="x"
        )
    finally:
        actions.PAYMENT_HOOKS.extend(actions.PAYMENT_HOOKS_SAVED)
    case = Case.objects.get(submission=filed)
    assert case.state == State.PAYMENT_DUE
    assert cases_payments_sweep() >= 1
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS


@pytest.mark.parametrize(
    ("raw", "rounded"), [("12.34", "12.30"), ("12.35", "12.40"), ("0.05", "0.10"), ("140.00", "140.00")]
)
def test_rounding_to_10_grosze(raw, rounded):
    from services.payments.actions import round_10_grosze

    assert round_10_grosze(Decimal(raw)) == Decimal(rounded)


HOSTILE = [
    "",
    "'",
    "\x00",
    "-5",
    "0",
    "1e9",
    "nan",
    "NaN",
    "inf",
    "99999999999999999999",
    "x" * 3000,
    "140,001",
]


def test_hostile_inputs_on_the_payment_pages_change_nothing(gateways, filed, clerk, citizen):
    """Every bad value gets a 4xx (or the page again with a message), never a 500, and no money moves."""
    payment = Payment.objects.get(document__submission_id=filed.id)
    c = Client(raise_request_exception=False)
    c.force_login(clerk)
    url = f"/urzad/platnosci/{payment.pk}/"
    for value in HOSTILE:
        for form in (
            {"action": "transfer", "amount": value, "booked_on": "2026-12-01", "statement": "x"},
            {"action": "transfer", "amount": "140,00", "booked_on": value, "statement": "x"},
            {"action": "refund", "amount": value, "reason": "r"},
            {"action": value},
        ):
            r = c.post(url, form)
            assert r.status_code < 500, (form, r.status_code)
        r = c.post("/urzad/platnosci/", {"discrepancy": value, "resolution": "x"})
        assert r.status_code < 500
    c.force_login(citizen)
    for value in HOSTILE:
        assert c.post(f"/platnosci/{payment.pk}/", {"provider": value}).status_code < 500
        assert c.get(f"/platnosci/{payment.pk}/powrot/", {"a": value}).status_code < 500
        assert c.get(f"/platnosci/sandbox/{payment.pk}/", {"s": value}).status_code in (400, 404)
        r = c.post(f"/platnosci/sandbox/{payment.pk}/", {"s": value, "outcome": "success"})
        assert r.status_code in (400, 404)
    c.force_login(clerk)
    for value in ("", "\x00", "a\x00b", "   "):
        assert c.post(url, {"action": "cancel", "reason": value}).status_code == 400
    p = Payment.objects.get(pk=payment.pk)
    assert p.status == "due" and not p.refunds.exists()
    assert not p.attempts.filter(status="paid").exists()
