"""Delivery in the case register: a settled case's decision goes to the applicant by the channel the request
chose (the portal inbox by default for an e-filer, e-Doręczenia with the AE address, registered post with the
postal address, nothing for "in person"), stays closed on the applicant's pages until receipt is confirmed,
and its delivery moves the case to "delivered" with the date, the way and the end of the appeal period."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail
from django.test import Client

from services.cases.actions import case_outgoing_document_add, case_register, case_transition
from services.cases.models import Case, State
from services.delivery.actions import deliveries_settle, delivery_acknowledge
from services.delivery.models import Channel, Delivery, Status
from services.forms.actions import submission_file
from services.forms.models import ServiceDefinition
from services.offices.actions import staff_add
from services.offices.models import Office, OfficeUnit

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
APPLICANT = {
    "applicant_name": "Jan Kowalski",
    "email": "jan@example.pl",
    "pesel": "44051401359",
    "street": "Kościuszki",
    "house_no": "5",
    "postal_code": "05-500",
    "locality": "Piaseczno",
}


@pytest.fixture
def gmina():
    return Office.objects.get(code="um-piaseczno")


@pytest.fixture
def clerk(make_user, gmina):
    user = make_user("anna.nowak", "clerk", first_name="Anna", last_name="Nowak")
    staff_add(user, gmina, OfficeUnit.objects.get(office=gmina, code="KAN"))
    return user


@pytest.fixture
def citizen(make_user):
    return make_user("jan.k", "citizen", first_name="Jan", last_name="Kowalski")


def letter_case(citizen, **delivery) -> Case:
    """An e-filed general letter (to the gmina's registry unit)."""
    service = ServiceDefinition.objects.get(code="pismo-ogolne", active=True)
    data = {**APPLICANT, "subject": "Wniosek o decyzję", "content": "Proszę o wydanie decyzji.", **delivery}
    sub = submission_file(service, data, user=citizen, idempotency_key=str(uuid.uuid4()))
    return Case.objects.get(submission=sub)


def settle_with_decision(case, clerk, django_capture_on_commit_callbacks) -> Case:
    staff_add(clerk, case.office, case.unit)
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(case.pk, "start", actor=clerk)
        case_outgoing_document_add(
            case.pk,
            actor=clerk,
            kind="decision",
            name="decyzja.pdf",
            content_type="application/pdf",
            content=PDF,
        )
        case_transition(case.pk, "settle", actor=clerk)
    return Case.objects.get(pk=case.pk)


def test_a_decision_goes_to_the_inbox_and_its_receipt_delivers_the_case(
    citizen, clerk, django_capture_on_commit_callbacks
):
    case = letter_case(citizen)  # no delivery choice in this request: the e-filer's inbox
    mail.outbox.clear()
    case = settle_with_decision(case, clerk, django_capture_on_commit_callbacks)
    d = Delivery.objects.get(case_id=case.pk)
    assert (d.channel, d.status, d.addressee_user) == (Channel.PORTAL, Status.AWAITING, citizen)
    assert any("/skrzynka/" in m.body for m in mail.outbox if "jan@example.pl" in m.to)
    assert case.state == State.SETTLED and case.timeline.filter(action="delivery_sent").exists()

    # the decision stays closed on "My case" until receipt is confirmed
    browser = Client()
    browser.force_login(citizen)
    decision = case.documents.get(direction="out", kind="decision")
    r = browser.get(f"/moje-sprawy/{case.pk}/dokumenty/{decision.pk}")
    assert r.status_code == 302 and r["Location"] == f"/skrzynka/{d.pk}/"

    with django_capture_on_commit_callbacks(execute=True):
        delivery_acknowledge(d.pk, citizen)
    case = Case.objects.get(pk=case.pk)
    assert case.state == State.DELIVERED
    entry = case.timeline.get(action="deliver")
    assert entry.data["method"] == "portal" and entry.data["how"] == "opened"
    assert entry.data["period_ends"] == Delivery.objects.get(pk=d.pk).period_ends.isoformat()
    assert browser.get(f"/moje-sprawy/{case.pk}/dokumenty/{decision.pk}").status_code == 200
    page = browser.get(f"/moje-sprawy/{case.pk}/").content.decode()
    assert 'data-testid="my-case-delivery"' in page and 'data-status="delivered"' in page

    # a second confirmation or a late job changes nothing twice
    with django_capture_on_commit_callbacks(execute=True):
        delivery_acknowledge(d.pk, citizen)
        deliveries_settle()
    assert (
        Case.objects.get(pk=case.pk).timeline.filter(action__in=("deliver", "document_delivered")).count()
        == 1
    )


def test_an_unopened_decision_is_deemed_delivered_and_the_case_says_so(
    citizen, clerk, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    case = settle_with_decision(
        letter_case(citizen, delivery="portal"), clerk, django_capture_on_commit_callbacks
    )
    d = Delivery.objects.get(case_id=case.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_settle(now=timezone.now() + timedelta(days=16))["deemed"] == 1
    entry = Case.objects.get(pk=case.pk).timeline.get(action="deliver")
    assert entry.data["how"] == "deemed"
    assert Delivery.objects.get(pk=d.pk).delivered_how == "deemed"


def test_the_chosen_channel_is_used(citizen, clerk, django_capture_on_commit_callbacks, deliveries_queued):
    ade = settle_with_decision(
        letter_case(citizen, delivery="ade", delivery_ade="AE:PL-12345-67890-ABCDE-12"),
        clerk,
        django_capture_on_commit_callbacks,
    )
    d = Delivery.objects.get(case_id=ade.pk)
    assert d.channel == Channel.EDORECZENIA and d.ade_address == "AE:PL-12345-67890-ABCDE-12"
    assert str(d.pk) in deliveries_queued  # sent to the provider by Celery after the commit

    post = settle_with_decision(
        letter_case(citizen, delivery="post"), clerk, django_capture_on_commit_callbacks
    )
    d = Delivery.objects.get(case_id=post.pk)
    assert d.channel == Channel.PAPER and d.status == Status.PREPARED  # the clerk posts it
    assert d.postal_address == "Kościuszki 5, 05-500 Piaseczno"

    in_person = settle_with_decision(
        letter_case(citizen, delivery="office"), clerk, django_capture_on_commit_callbacks
    )
    assert not Delivery.objects.filter(case_id=in_person.pk).exists()  # the clerk records it by hand


def test_a_paper_filed_case_without_an_address_is_delivered_by_hand(
    clerk, gmina, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    case, _code = case_register(
        office=gmina,
        unit=OfficeUnit.objects.get(office=gmina, code="KAN"),
        jrwa="0123",
        subject="Pismo papierowe",
        channel="paper",
        applicant_name="Jan Papierowy",
        applicant_email="",
        received_on=timezone.localdate(),
        deadline_kind="one_month",
    )
    case = settle_with_decision(case, clerk, django_capture_on_commit_callbacks)
    assert not Delivery.objects.filter(case_id=case.pk).exists()
    assert case.state == State.SETTLED  # "Record the delivery" stays the clerk's step


def test_the_time_to_supplement_runs_from_the_calls_delivery(
    citizen, clerk, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from gisportal.core import calendar

    case = letter_case(citizen)
    staff_add(clerk, case.office, case.unit)
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(case.pk, "start", actor=clerk)
        case_transition(case.pk, "request_supplement", actor=clerk, due_days=7, note="Podaj numer działki.")
    call = case.documents.get(direction="out", kind="call_art64")
    d = Delivery.objects.get(source=f"case:{call.pk}")
    assert (d.kind, d.period_days, d.status) == ("call", 7, Status.AWAITING)
    # not opened: deemed delivered after 14 days, and the 7 days run from then
    later = timezone.now() + timedelta(days=16)
    with django_capture_on_commit_callbacks(execute=True):
        deliveries_settle(now=later)
    d = Delivery.objects.get(pk=d.pk)
    case = Case.objects.get(pk=case.pk)
    assert case.state == State.WAITING_APPLICANT
    assert case.supplement_due == d.period_ends == calendar.add_days(timezone.localdate(d.delivered_at), 7)
    entry = case.timeline.get(action="document_delivered")
    assert entry.data["what"] == "call" and entry.data["how"] == "deemed"
