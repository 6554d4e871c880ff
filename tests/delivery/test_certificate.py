"""An issued zoning certificate (art. 217 KPA) is delivered through the inbox of the e-filer who asked for it
electronically: the issuing settles the case and sends it; the document stays closed on "My case" and at
/dokumenty/<id>.pdf until the applicant confirms receipt; the case is then delivered. (Register and map extracts are data made
available: they open at once, as tests/documents/test_issuing.py shows, and no delivery is made for them.)"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.test import Client

from layers.models import Parcel
from services.cases.models import Case, State
from services.delivery.actions import delivery_acknowledge
from services.delivery.models import Channel, Delivery, Kind, Status
from services.documents import actions as documents
from services.documents.models import DocumentJob, IssuedDocument
from services.forms.actions import submission_file
from services.forms.models import ServiceDefinition
from services.offices.models import Office, StaffMembership
from services.payments.actions import payment_transfer_book
from services.payments.models import Payment

pytestmark = pytest.mark.django_db
APPLICANT = {
    "applicant_name": "Jan Kowalski",
    "email": "jan@example.pl",
    "pesel": "44051401359",
    "postal_code": "05-500",
    "locality": "Piaseczno",
}


@pytest.fixture
def gmina():
    office = Office.objects.get(code="um-piaseczno")
    office.stamp_duty_account = office.stamp_duty_account or "PL61109010140000071219812874"
    office.fee_account = office.fee_account or "PL61109010140000071219812874"
    office.save()
    return office


@pytest.fixture
def clerk(make_user, gmina):
    user = make_user("urbanista", "clerk", first_name="Ula", last_name="Urbanistka")
    StaffMembership.objects.create(user=user, office=gmina, unit=gmina.units.get(code="UiA"))
    return user


@pytest.fixture
def citizen(make_user):
    return make_user("jan", "citizen", first_name="Jan", last_name="Kowalski")


@pytest.fixture
def town(demo_data):
    return (
        Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[7].parcel_id
    )


def test_an_issued_certificate_waits_in_the_inbox_until_receipt_is_confirmed(
    gmina, clerk, citizen, town, django_capture_on_commit_callbacks
):
    service = ServiceDefinition.objects.get(code="zaswiadczenie-mpzp", active=True)
    data = {**APPLICANT, "parcels": [town], "purpose": "kredyt hipoteczny", "delivery": "portal"}
    sub = submission_file(service, data, user=citizen, idempotency_key=str(uuid.uuid4()))
    payment = Payment.objects.filter(document__submission_id=sub.id).first()
    if payment is not None:  # the stamp duty, booked by the clerk
        with django_capture_on_commit_callbacks(execute=True):
            payment_transfer_book(
                payment.pk,
                actor=clerk,
                amount=payment.amount,
                booked_on=date(2026, 12, 1),
                statement="przelew",
            )
    case = Case.objects.get(submission=sub)
    if not DocumentJob.objects.filter(case_id=case.pk).exists():
        from services.cases.actions import case_documents_prepare

        case_documents_prepare(case)
    job = DocumentJob.objects.get(case_id=case.pk)
    assert job.kind == "zoning_certificate"
    assert documents.job_run(job.pk) == "prepared"
    with django_capture_on_commit_callbacks(execute=True):
        documents.document_issue(job.pk, actor=clerk)
    doc = IssuedDocument.objects.get(case_id=case.pk)
    case = Case.objects.get(pk=case.pk)
    assert case.state == State.SETTLED
    d = Delivery.objects.get(source=f"issued:{doc.pk}")
    assert (d.channel, d.kind, d.status) == (Channel.PORTAL, Kind.CERTIFICATE, Status.AWAITING)
    assert d.sha256 == doc.sha256

    browser = Client()
    browser.force_login(citizen)
    r = browser.get(f"/dokumenty/{doc.pk}.pdf")
    assert r.status_code == 302 and r["Location"] == f"/skrzynka/{d.pk}/"
    staff = Client()
    staff.force_login(clerk)
    assert staff.get(f"/dokumenty/{doc.pk}.pdf").status_code == 200  # the office is not held back

    with django_capture_on_commit_callbacks(execute=True):
        delivery_acknowledge(d.pk, citizen)
    assert browser.get(f"/dokumenty/{doc.pk}.pdf").status_code == 200
    case = Case.objects.get(pk=case.pk)
    assert case.state == State.DELIVERED
    assert Delivery.objects.get(pk=d.pk).period_ends is None  # a certificate starts no appeal period
