"""Issuing end to end: a paid EGiB map extract is generated, sealed (PAdES) and issued by itself; an
extract with personal data and the zoning documents are prepared and issued by a clerk; the case settles;
the applicant downloads the PDF; anyone checks the code and a copy (genuine, altered, unknown)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from layers.models import Parcel, RestrictedAccessLog
from services.cases.models import Case, State
from services.documents import actions
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
    "nip": "123-456-32-18",
}


@pytest.fixture
def county():
    office = Office.objects.get(code="sp-piaseczno")
    office.fee_account = "PL61109010140000071219812874"
    office.save(update_fields=["fee_account"])
    return office


@pytest.fixture
def rural(demo_data, django_db_blocker):
    with django_db_blocker.unblock():
        return (
            Parcel.objects.current()
            .filter(precinct__unit__unit_id="141804_5")
            .order_by("parcel_id")[3]
            .parcel_id
        )


@pytest.fixture
def citizen(make_user):
    return make_user("jan", "citizen", first_name="Jan", last_name="Kowalski")


@pytest.fixture
def clerk(make_user, county):
    user = make_user("geodeta", "clerk", first_name="Anna", last_name="Nowak")
    StaffMembership.objects.create(user=user, office=county, unit=county.units.get(code="GK"))
    return user


def file_egib(citizen, parcel, variant):
    service = ServiceDefinition.objects.get(code="wypis-wyrys-egib", active=True)
    data = {**APPLICANT, "parcels": [parcel], "variant": variant, "form": "electronic"}
    data["legal_interest"] = "Jestem właścicielem działki (akt notarialny Rep. A 123/2020)."
    return submission_file(service, data, user=citizen, idempotency_key=str(uuid.uuid4()))


def pay(sub, clerk, capture):
    payment = Payment.objects.get(document__submission_id=sub.id)
    with capture(execute=True):
        payment_transfer_book(
            payment.pk, actor=clerk, amount=payment.amount, booked_on=date(2026, 12, 1), statement="przelew"
        )


def test_paid_map_extract_is_issued_by_itself(
    county, citizen, clerk, rural, document_jobs_queued, django_capture_on_commit_callbacks, make_user
):
    sub = file_egib(citizen, rural, "wyrys")
    pay(sub, clerk, django_capture_on_commit_callbacks)
    job = DocumentJob.objects.get(submission_id=sub.id)
    assert job.kind == "egib_wyrys" and job.automatic and str(job.pk) in document_jobs_queued
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.job_run(job.pk) == "issued"
    doc = IssuedDocument.objects.get(submission_id=sub.id)
    assert bytes(doc.pdf).startswith(b"%PDF") and doc.issued_by is None and doc.number.startswith("WYR/")
    case = Case.objects.get(submission=sub)
    assert (
        case.state == State.SETTLED and case.timeline.filter(action="document_issued", public=True).exists()
    )
    # the applicant downloads it; another user does not
    c = Client()
    c.force_login(citizen)
    r = c.get(f"/dokumenty/{doc.pk}.pdf")
    assert r.status_code == 200 and r.content == bytes(doc.pdf)
    body = c.get(f"/api/submissions/{sub.id}").json()
    assert body["documents"][0]["verification_code"] == doc.verification_code
    c.force_login(make_user("ewa", "citizen"))
    assert c.get(f"/dokumenty/{doc.pk}.pdf").status_code == 404
    # anyone checks the code, downloads the original (no personal data), checks copies
    anon = Client()
    v = anon.get(f"/api/documents/{doc.verification_code}/verify").json()
    assert v["verdict"] == "genuine" and v["number"] == doc.number and v["issued_by"] == ""
    assert anon.get(v["original_url"]).content == bytes(doc.pdf)
    page = anon.get(f"/verify/{doc.verification_code}").content.decode()
    assert doc.number in page and 'name="file"' in page
    from django.core.files.uploadedfile import SimpleUploadedFile

    def check(data):
        f = SimpleUploadedFile("kopia.pdf", data, content_type="application/pdf")
        return anon.post(f"/api/documents/{doc.verification_code}/verify", {"file": f}).json()["verdict"]

    original = bytes(doc.pdf)
    assert check(original) == "genuine"
    edited = bytearray(original)
    i = original.find(b"/Producer") if b"/Producer" in original else len(original) // 3
    edited[i + 2] ^= 0x01
    assert check(bytes(edited)) == "altered"
    assert check(b"%PDF-1.7 not ours") == "unknown"
    # the document cannot be changed
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        IssuedDocument.objects.filter(pk=doc.pk).update(number="X")


def test_extract_with_personal_data_is_issued_by_a_clerk_and_logged(
    county, citizen, clerk, rural, django_capture_on_commit_callbacks
):
    sub = file_egib(citizen, rural, "wypis_z_danymi")
    pay(sub, clerk, django_capture_on_commit_callbacks)
    job = DocumentJob.objects.get(submission_id=sub.id)
    assert job.kind == "egib_wypis_full" and not job.automatic
    assert actions.job_run(job.pk) == "prepared"
    before = RestrictedAccessLog.objects.count()
    c = Client()
    c.force_login(clerk)
    assert c.get(f"/urzad/dokumenty/{job.pk}/podglad.pdf").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(
            f"/urzad/dokumenty/{job.pk}/wydaj", {"legal_basis": "interes prawny: właściciel", "free_text": ""}
        )
    assert r.status_code == 302
    doc = IssuedDocument.objects.get(submission_id=sub.id)
    assert doc.issued_by == clerk and RestrictedAccessLog.objects.count() > before
    assert Case.objects.get(submission=sub).state == State.SETTLED
    # its original is not public
    v = Client().get(f"/api/documents/{doc.verification_code}/verify").json()
    assert v["original_url"] is None
    # the citizen cannot issue it
    c.force_login(citizen)
    assert c.post(f"/urzad/dokumenty/{job.pk}/wydaj", {}).status_code in (302, 403, 404)
    assert IssuedDocument.objects.filter(submission_id=sub.id).count() == 1


def test_amount_check_kept(county, citizen, rural):
    sub = file_egib(citizen, rural, "wyrys")
    assert Payment.objects.get(document__submission_id=sub.id).amount == Decimal("105.00")
    assert not DocumentJob.objects.filter(submission_id=sub.id).exists()  # nothing before payment


def test_a_correction_is_a_new_document_naming_the_one_it_replaces(
    county, citizen, clerk, rural, django_capture_on_commit_callbacks, make_user
):
    sub = file_egib(citizen, rural, "wyrys")
    pay(sub, clerk, django_capture_on_commit_callbacks)
    job = DocumentJob.objects.get(submission_id=sub.id)
    with django_capture_on_commit_callbacks(execute=True):
        actions.job_run(job.pk)
    first = IssuedDocument.objects.get(submission_id=sub.id)
    other_office_clerk = make_user("urbanista", "clerk")
    StaffMembership.objects.create(
        user=other_office_clerk, office=Office.objects.get(code="um-piaseczno"), unit=None
    )
    c = Client()
    c.force_login(other_office_clerk)
    assert c.post(f"/urzad/dokumenty/korekta/{first.pk}").status_code == 404
    c.force_login(clerk)
    assert c.post(f"/urzad/dokumenty/korekta/{first.pk}").status_code == 302
    correction = DocumentJob.objects.get(replaces=first)
    assert correction.status == "prepared" and not correction.automatic
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(f"/urzad/dokumenty/{correction.pk}/wydaj", {"free_text": "Korekta: poprawiony opis."})
    assert r.status_code == 302
    second = IssuedDocument.objects.get(replaces=first)
    assert second.number != first.number and second.issued_by == clerk
    assert bytes(IssuedDocument.objects.get(pk=first.pk).pdf) == bytes(first.pdf)  # the first stays as issued
    anon = Client()
    assert anon.get(f"/api/documents/{first.verification_code}/verify").json()["replaced_by"] == second.number
    assert anon.get(f"/api/documents/{second.verification_code}/verify").json()["replaces"] == first.number
