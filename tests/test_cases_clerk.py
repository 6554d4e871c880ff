"""The clerk workspace records facts and confirms destructive steps (issue 23), through the clerk's pages
(Django client, real PostGIS): a destructive step answers with a confirmation page and acts only on a POST
with confirm=1; a case is settled only by an outgoing document (its issued document for a service that
issues one); a delivery records its method, date, tracking number and proof; a bank transfer is booked
from the case page with amount, date and reference; the filed form shows as labelled fields with parcel
links, the receipt and the attachments; the timeline reads in past tense without repeating anybody;
e-mails are whole sentences with an absolute link; another office's clerk gets 404 everywhere."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape

from layers.models import Parcel
from services.cases.actions import (
    Delivery,
    case_access_code_reissue,
    case_note_add,
    case_outgoing_document_add,
    case_register,
    case_transition,
)
from services.cases.models import Case, CaseDocument, Pause, State, TimelineEntry
from services.cases.selectors import status_lookup
from services.cases.states import SYSTEM_TEXTS, TRANSITIONS, entry_text
from services.documents import actions as documents
from services.documents.models import DocumentJob, IssuedDocument
from services.forms.actions import submission_file
from services.forms.models import ServiceDefinition
from services.offices.actions import staff_add
from services.offices.models import Office, OfficeUnit
from services.payments.models import Payment


def _day(iso: str, lang: str = "en") -> str:
    """A day as the timeline and the e-mails show it ("18 December 2026", "18 grudnia 2026")."""
    from django.utils.formats import date_format

    with translation.override(lang):
        return date_format(date.fromisoformat(iso), "j E Y")


pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
APPLICANT = {
    "applicant_name": "Jan Kowalski",
    "email": "jan@example.pl",
    "pesel": "44051401359",
    "postal_code": "05-500",
    "locality": "Piaseczno",
}


def _pl(msgid: str, **values) -> str:
    """What a Polish page or e-mail says for msgid (the msgid itself while its translation is missing)."""
    with translation.override("pl"):
        text = translation.gettext(msgid)
    return text % values if values else text


def _html(text) -> str:
    """A (lazy) text as a Polish page shows it, HTML-escaped."""
    with translation.override("pl"):
        return escape(str(text))


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def gmina():
    return Office.objects.get(code="um-piaseczno")


@pytest.fixture
def county():
    office = Office.objects.get(code="sp-piaseczno")
    office.fee_account = "PL61109010140000071219812874"
    office.save(update_fields=["fee_account"])
    return office


@pytest.fixture
def clerk(make_user, gmina):
    user = make_user("anna.nowak", "clerk", first_name="Anna", last_name="Nowak")
    staff_add(user, gmina, OfficeUnit.objects.get(office=gmina, code="UiA"))
    return user


@pytest.fixture
def county_clerk(make_user, county):
    user = make_user("ewa.geodetka", "clerk", first_name="Ewa", last_name="Geodetka")
    staff_add(user, county, OfficeUnit.objects.get(office=county, code="GK"))
    return user


@pytest.fixture
def citizen(make_user):
    return make_user("jan.k", "citizen", first_name="Jan", last_name="Kowalski")


@pytest.fixture
def rural(demo_data):
    return (
        Parcel.objects.current().filter(precinct__unit__unit_id="141804_5").order_by("parcel_id")[3].parcel_id
    )


def logged(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def paper_case(office, *, email="jan@example.pl", user=None, received_on=None) -> Case:
    case, _access = case_register(
        office=office,
        unit=OfficeUnit.objects.get(office=office, code="UiA" if office.code == "um-piaseczno" else "GK"),
        jrwa="6727",
        subject="Wniosek papierowy",
        channel="paper",
        applicant_name="Jan Papierowy",
        applicant_email=email,
        applicant_user=user,
        received_on=received_on or timezone.localdate() - timedelta(days=3),
        deadline_kind="one_month",
    )
    return case


def egib_case(citizen, parcel, *, variant="wyrys", files=None) -> Case:
    """An e-filed request for a cadastral map extract: a service that issues a document (a product)."""
    service = ServiceDefinition.objects.get(code="wypis-wyrys-egib", active=True)
    data = {**APPLICANT, "parcels": [parcel], "variant": variant, "form": "electronic"}
    data["legal_interest"] = "Jestem właścicielem działki (akt notarialny Rep. A 123/2020)."
    sub = submission_file(service, data, user=citizen, files=files, idempotency_key=str(uuid.uuid4()))
    return Case.objects.get(submission=sub)


def post(client, case, **data):
    return client.post(f"/urzad/sprawy/{case.pk}/", data)


def state_of(case) -> str:
    return Case.objects.get(pk=case.pk).state


def book_transfer(client, case, capture, **over):
    payment = Payment.objects.get(document__case_id=case.pk)
    data = {
        "action": "transfer",
        "payment": str(payment.pk),
        "amount": f"{payment.amount:.2f}".replace(".", ","),
        "booked_on": timezone.localdate().isoformat(),
        "reference": "PKO BP 2026-03-02 Jan Kowalski tytuł DOO",
    }
    data.update(over)
    with capture(execute=True):
        return post(client, case, **data)


# ------------------------------------------------------------------ confirmation of destructive steps
@pytest.mark.parametrize("action", ["withdraw", "forward", "suspend", "mark_complicated", "notify_delay"])
def test_a_destructive_step_without_confirm_changes_nothing(clerk, gmina, action):
    case = paper_case(gmina)
    case_transition(case.pk, "start", actor=clerk)
    before = (
        Case.objects.filter(pk=case.pk).values().get(),
        case.timeline.count(),
        Pause.objects.filter(case=case).count(),
        CaseDocument.objects.filter(case=case).count(),
    )
    c = logged(clerk)
    mail.outbox.clear()
    new_date = (timezone.localdate() + timedelta(days=90)).isoformat()
    for confirm in ("", "0", "yes", "true"):  # only confirm=1 acts
        r = post(
            c,
            case,
            action=action,
            forwarded_to="Starostwo",
            new_date=new_date,
            note="powody zwłoki",
            confirm=confirm,
        )
        assert r.status_code == 200
        page = r.content.decode()
        assert 'data-testid="confirm-page"' in page and 'name="confirm" value="1"' in page
        assert 'name="csrfmiddlewaretoken"' in page and _html(TRANSITIONS[action].consequence) in page
    after = (
        Case.objects.filter(pk=case.pk).values().get(),
        case.timeline.count(),
        Pause.objects.filter(case=case).count(),
        CaseDocument.objects.filter(case=case).count(),
    )
    assert after == before and mail.outbox == []
    r = post(
        c, case, action=action, forwarded_to="Starostwo", new_date=new_date, note="powody zwłoki", confirm="1"
    )
    assert r.status_code == 302 and case.timeline.filter(action=action).count() == 1


def test_withdraw_and_close_are_confirmed_with_the_csrf_token(clerk, gmina):
    case = paper_case(gmina)
    c = Client(enforce_csrf_checks=True)
    c.force_login(clerk)

    def token(html: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    page = c.get(f"/urzad/sprawy/{case.pk}/").content.decode()
    assert 'data-action="withdraw"' in page and 'data-action="close"' not in page
    confirm = c.post(
        f"/urzad/sprawy/{case.pk}/",
        {"action": "withdraw", "note": "pismo z 2 marca", "csrfmiddlewaretoken": token(page)},
    )
    assert confirm.status_code == 200 and state_of(case) == State.REGISTERED
    html = confirm.content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    hidden.pop("csrfmiddlewaretoken")
    assert hidden["action"] == "withdraw" and hidden["note"] == "pismo z 2 marca" and hidden["confirm"] == "1"
    assert c.post(f"/urzad/sprawy/{case.pk}/", hidden).status_code == 403  # no token, no step
    assert state_of(case) == State.REGISTERED
    hidden["csrfmiddlewaretoken"] = token(html)
    assert c.post(f"/urzad/sprawy/{case.pk}/", hidden).status_code == 302
    assert state_of(case) == State.WITHDRAWN
    page = c.get(f"/urzad/sprawy/{case.pk}/").content.decode()
    r = c.post(f"/urzad/sprawy/{case.pk}/", {"action": "close", "csrfmiddlewaretoken": token(page)})
    assert r.status_code == 200 and state_of(case) == State.WITHDRAWN
    r = c.post(
        f"/urzad/sprawy/{case.pk}/", {"action": "close", "confirm": "1", "csrfmiddlewaretoken": token(page)}
    )
    assert r.status_code == 302 and state_of(case) == State.CLOSED
    withdrawn = case.timeline.get(action="withdraw")
    assert withdrawn.data["note"] == "pismo z 2 marca" and withdrawn.actor == clerk


def test_routine_steps_need_no_confirmation(clerk, gmina):
    case = paper_case(gmina)
    c = logged(clerk)
    assert post(c, case, action="assign", assignee=clerk.pk).status_code == 302
    assert post(c, case, action="start").status_code == 302
    assert state_of(case) == State.IN_PROGRESS


# ------------------------------------------------------------------ settling needs the outgoing document
def test_a_product_case_is_settled_only_with_its_issued_document(
    county, county_clerk, citizen, rural, django_capture_on_commit_callbacks
):
    case = egib_case(citizen, rural)
    c = logged(county_clerk)
    assert state_of(case) == State.PAYMENT_DUE
    assert book_transfer(c, case, django_capture_on_commit_callbacks).status_code == 302
    assert state_of(case) == State.IN_PROGRESS
    job = DocumentJob.objects.get(case_id=case.pk)
    refusal = _html(_pl("The case cannot be settled without its document: issue the document first."))
    entries = case.timeline.count()
    for confirm in ("", "1"):
        r = post(c, case, action="settle", confirm=confirm)
        assert r.status_code == 400 and refusal in r.content.decode()
    # a mere letter does not settle a case whose service issues a document
    case_outgoing_document_add(
        case.pk,
        actor=county_clerk,
        kind="letter",
        name="pismo.pdf",
        content_type="application/pdf",
        content=PDF,
    )
    r = post(c, case, action="settle", confirm="1")
    assert r.status_code == 400 and refusal in r.content.decode()
    assert state_of(case) == State.IN_PROGRESS and case.timeline.count() == entries + 1  # the filed letter
    assert not case.timeline.filter(action="settle").exists()

    assert documents.job_run(job.pk) == "issued"  # on_commit hooks not run: the case waits for the clerk
    doc = IssuedDocument.objects.get(case_id=case.pk)
    key = f"issued:{doc.pk}"
    confirm = post(c, case, action="settle", document=key)
    assert confirm.status_code == 200 and doc.number in confirm.content.decode()
    assert state_of(case) == State.IN_PROGRESS
    # a tampered key (another document, garbage) is refused and changes nothing
    for bad in (f"issued:{uuid.uuid4()}", "case:../../etc/passwd", "x" * 500):
        r = post(c, case, action="settle", document=bad, confirm="1")
        assert r.status_code == 400 and state_of(case) == State.IN_PROGRESS
    assert post(c, case, action="settle", document=key, confirm="1").status_code == 302
    assert state_of(case) == State.SETTLED
    settled = case.timeline.get(action="settle")
    assert settled.data["document_keys"] == [key] and doc.number in entry_text(settled)


def test_a_case_without_a_product_is_settled_by_a_filed_decision(clerk, gmina):
    case = paper_case(gmina)
    case_transition(case.pk, "start", actor=clerk)
    c = logged(clerk)
    r = post(c, case, action="settle", confirm="1")
    assert r.status_code == 400
    refusal = _pl(
        "The case cannot be settled without an outgoing document: add the decision or letter first."
    )
    assert _html(refusal) in r.content.decode()
    # filing the decision: a PDF, JPEG or PNG only, checked by content
    bad = SimpleUploadedFile("decyzja.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    r = c.post(f"/urzad/sprawy/{case.pk}/", {"action": "document", "kind": "decision", "file": bad})
    assert r.status_code == 422 and not case.documents.exists()
    ok = SimpleUploadedFile("decyzja.pdf", PDF, content_type="application/pdf")
    r = c.post(f"/urzad/sprawy/{case.pk}/", {"action": "document", "kind": "notice_art36", "file": ok})
    assert r.status_code == 400 and not case.documents.exists()  # not a kind a clerk files here
    ok.seek(0)
    r = c.post(f"/urzad/sprawy/{case.pk}/", {"action": "document", "kind": "decision", "file": ok})
    assert r.status_code == 302
    decision = case.documents.get(direction="out", kind="decision")
    assert post(c, case, action="settle").status_code == 200 and state_of(case) == State.IN_PROGRESS
    assert post(c, case, action="settle", document=f"case:{decision.pk}", confirm="1").status_code == 302
    assert state_of(case) == State.SETTLED
    assert case.timeline.get(action="settle").data["documents"] == "decyzja.pdf"


# ------------------------------------------------------------------ delivery: method, date, proof
def _settled(clerk, gmina) -> Case:
    case = paper_case(gmina)
    case_transition(case.pk, "start", actor=clerk)
    case_outgoing_document_add(
        case.pk, actor=clerk, kind="decision", name="decyzja.pdf", content_type="application/pdf", content=PDF
    )
    case_transition(case.pk, "settle", actor=clerk)
    return case


def test_delivery_by_post_records_method_date_tracking_number_and_proof(
    clerk, gmina, django_capture_on_commit_callbacks
):
    case = _settled(clerk, gmina)
    c = logged(clerk)
    today = timezone.localdate().isoformat()
    base = {"action": "deliver", "method": "post", "delivered_on": today, "tracking_no": "RR 1234 5678 9PL"}
    confirm = post(c, case, **base)
    html = confirm.content.decode()
    assert confirm.status_code == 200 and 'enctype="multipart/form-data"' in html
    assert re.search(r'<input id="id_proof" name="proof" type="file"[^>]* required', html)
    assert state_of(case) == State.SETTLED

    def scan(data=PDF, name="zwrotka.pdf"):
        return SimpleUploadedFile(name, data, content_type="application/pdf")

    TRACKING_MSG = "Give the tracking number of the registered letter (5–40 letters and digits)."
    SETTLED_MSG = "The date of delivery cannot be earlier than the day the case was settled."
    bad_inputs = [
        (
            {**base, "confirm": "1"},
            "Attach the proof of delivery: the scan of the return receipt or of the signed confirmation.",
        ),  # no proof
        ({**base, "confirm": "1", "proof": scan(), "tracking_no": ""}, TRACKING_MSG),
        ({**base, "confirm": "1", "proof": scan(), "tracking_no": "<script>"}, TRACKING_MSG),
        (
            {
                **base,
                "confirm": "1",
                "proof": scan(),
                "delivered_on": (date.today() + timedelta(days=2)).isoformat(),
            },
            "The date of delivery cannot be in the future.",
        ),
        (
            {**base, "confirm": "1", "proof": scan(), "delivered_on": "2026-02-30"},
            "Give the date of delivery.",
        ),
        ({**base, "confirm": "1", "proof": scan(), "delivered_on": "2001-01-01"}, SETTLED_MSG),
        (
            {**base, "confirm": "1", "proof": scan(), "method": "pigeon"},
            "Choose how the document was delivered.",
        ),
        ({**base, "confirm": "1", "proof": scan(b"MZ\x90\x00", "zwrotka.pdf")}, "PDF"),
        ({**base, "confirm": "1", "proof": scan(b"<?xml version='1.0'?><a/>", "zwrotka.xml")}, "PDF"),
    ]
    for data, words in bad_inputs:
        r = c.post(f"/urzad/sprawy/{case.pk}/", data)
        assert 400 <= r.status_code < 500, data
        assert words.lower() in r.content.decode().lower() or _pl(words).lower() in r.content.decode().lower()
        assert state_of(case) == State.SETTLED and not case.documents.filter(kind="delivery_proof").exists()
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(f"/urzad/sprawy/{case.pk}/", {**base, "confirm": "1", "proof": scan()})
    assert r.status_code == 302 and state_of(case) == State.DELIVERED
    proof = case.documents.get(kind="delivery_proof")
    assert proof.direction == "in" and bytes(proof.file.read()) == PDF
    entry = case.timeline.get(action="deliver")
    assert entry.data["method"] == "post" and entry.data["date"] == today
    assert entry.data["tracking_no"] == "RR 1234 5678 9PL" and entry.data["proof"] == str(proof.pk)
    with translation.override("en"):
        text = entry_text(entry)
    assert "by registered post" in text and _day(today) in text and "RR 1234 5678 9PL" in text
    assert "zwrotka.pdf" in text
    page = c.get(f"/urzad/sprawy/{case.pk}/").content.decode()
    assert f"/urzad/sprawy/{case.pk}/dokumenty/{proof.pk}" in page
    assert _pl("The document in case %(sign)s was delivered to you %(method)s on %(date)s.").split("%")[
        0
    ] in (mail.outbox[-1].body)


def test_delivery_through_the_portal_needs_no_proof_and_in_person_does(clerk, gmina):
    a, b = _settled(clerk, gmina), _settled(clerk, gmina)
    today = timezone.localdate()
    case_transition(a.pk, "deliver", actor=clerk, delivery=Delivery("portal", today))
    assert state_of(a) == State.DELIVERED and a.timeline.get(action="deliver").data["method"] == "portal"
    with pytest.raises(Exception) as e:
        case_transition(b.pk, "deliver", actor=clerk, delivery=Delivery("in_person", today))
    assert "proof" in str(e.value).lower() or "potwierdzenia" in str(e.value).lower()
    assert state_of(b) == State.SETTLED
    case_transition(
        b.pk,
        "deliver",
        actor=clerk,
        delivery=Delivery("in_person", today, proof=("podpis.png", "image/png", b"\x89PNG")),
    )
    assert state_of(b) == State.DELIVERED and b.documents.get(kind="delivery_proof").name == "podpis.png"


# ------------------------------------------------------------------ a bank transfer booked from the case page
def test_transfer_booked_from_the_case_page_with_amount_date_and_reference(
    county, county_clerk, citizen, rural, django_capture_on_commit_callbacks
):
    case = egib_case(citizen, rural)
    payment = Payment.objects.get(document__case_id=case.pk)
    c = logged(county_clerk)
    page = c.get(f"/urzad/sprawy/{case.pk}/").content.decode()
    assert 'data-testid="transfer-form"' in page and f'value="{payment.pk}"' in page
    # hostile or wrong input: nothing booked
    other = egib_case(citizen, rural)
    other_payment = Payment.objects.get(document__case_id=other.pk)
    for bad in (
        {"amount": "abc"},
        {"amount": "NaN"},
        {"booked_on": "jutro"},
        {"booked_on": (timezone.localdate() + timedelta(days=1)).isoformat()},
        {"reference": ""},
        {"payment": str(other_payment.pk)},  # another case's fee document
        {"payment": "not-a-uuid"},
    ):
        r = book_transfer(c, case, django_capture_on_commit_callbacks, **bad)
        assert 400 <= r.status_code < 500, bad
        assert not payment.attempts.exists() and not other_payment.attempts.exists()
    assert state_of(case) == State.PAYMENT_DUE
    # a different amount is recorded for review, not settled
    r = book_transfer(c, case, django_capture_on_commit_callbacks, amount="1,00")
    assert r.status_code == 302 and state_of(case) == State.PAYMENT_DUE
    payment.refresh_from_db()
    assert payment.status == "due"
    booked_on = (timezone.localdate() - timedelta(days=1)).isoformat()
    r = book_transfer(
        c, case, django_capture_on_commit_callbacks, booked_on=booked_on, reference="PKO 42/2026"
    )
    assert r.status_code == 302 and state_of(case) == State.IN_PROGRESS
    payment.refresh_from_db()
    assert payment.status == "paid" and payment.paid_via == "transfer"
    entry = case.timeline.get(action="payment_received")
    assert entry.data["booked_on"] == booked_on and entry.data["reference"] == "PKO 42/2026"
    assert entry.data["amount"] == f"{payment.amount:.2f}".replace(".", ",")
    with translation.override("en"):
        text = entry_text(entry)
    assert (
        text.startswith("Fee paid")
        and "PKO 42/2026" in text
        and _day(booked_on) in text
        and "bank transfer" in text
    )


# ------------------------------------------------------------------ another office
def test_another_offices_clerk_gets_404_on_every_new_url(
    clerk, county_clerk, citizen, county, rural, make_user, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("mapa.pdf", PDF, content_type="application/pdf")
    case = egib_case(citizen, rural, files=[upload])
    attachment = case.submission.attachments.get()
    payment = Payment.objects.get(document__case_id=case.pk)
    own = logged(county_clerk)
    assert own.get(f"/urzad/sprawy/{case.pk}/zalaczniki/{attachment.pk}").status_code == 200
    stranger = logged(clerk)  # a gmina clerk: the case is the county's
    before = (Case.objects.filter(pk=case.pk).values().get(), case.timeline.count(), case.documents.count())
    assert stranger.get(f"/urzad/sprawy/{case.pk}/zalaczniki/{attachment.pk}").status_code == 404
    assert stranger.get(f"/urzad/sprawy/{case.pk}/potwierdzenie/").status_code == 404
    posts = [
        {"action": "transfer", "payment": str(payment.pk), "amount": "140,00", "booked_on": "2026-03-02"},
        {"action": "document", "kind": "decision", "file": SimpleUploadedFile("d.pdf", PDF)},
        {"action": "reissue_code"},
        {"action": "reissue_code", "confirm": "1"},
        {"action": "settle"},
        {"action": "settle", "confirm": "1"},
        {"action": "deliver", "method": "portal", "delivered_on": "2026-03-02", "confirm": "1"},
        {"action": "withdraw"},
        {"action": "withdraw", "confirm": "1"},
        {"action": "close", "confirm": "1"},
    ]
    for data in posts:
        r = stranger.post(f"/urzad/sprawy/{case.pk}/", data)
        assert r.status_code == 404, data
        assert b"Jan Kowalski" not in r.content
    after = (Case.objects.filter(pk=case.pk).values().get(), case.timeline.count(), case.documents.count())
    assert after == before and not payment.attempts.exists()
    # an attachment of another case through one's own case: 404 too
    mine = paper_case(county)
    assert own.get(f"/urzad/sprawy/{mine.pk}/zalaczniki/{attachment.pk}").status_code == 404
    citizen_client = logged(make_user("ktos", "citizen"))
    assert citizen_client.get(f"/urzad/sprawy/{case.pk}/zalaczniki/{attachment.pk}").status_code == 403
    assert Client().get(f"/urzad/sprawy/{case.pk}/zalaczniki/{attachment.pk}").status_code == 302


# ------------------------------------------------------------------ the case page shows the request
def test_the_case_page_shows_labelled_fields_parcel_links_receipt_and_attachments(
    county_clerk, citizen, county, rural
):
    upload = SimpleUploadedFile("mapa-sytuacyjna.pdf", PDF, content_type="application/pdf")
    case = egib_case(citizen, rural, variant="wypis_wyrys", files=[upload])
    from services.receipts.models import Receipt

    receipt = Receipt.objects.get(document_id=str(case.submission_id))
    c = logged(county_clerk)
    with translation.override("pl"):
        page = c.get(f"/urzad/sprawy/{case.pk}/", HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    form = page.split('data-testid="case-form"')[1].split("</div>")[0]
    fields = {f["name"]: f for sec in case.submission.service.layout["sections"] for f in sec["fields"]}
    variant = fields["variant"]  # the label and the choice label, as the form's definition words them
    assert f"<dt>{escape(variant['label']['pl'])}</dt>" in form
    assert f"<dd>{escape(variant['choices']['wypis_wyrys']['pl'])}</dd>" in form
    assert f"<dt>{escape(fields['form']['label']['pl'])}</dt>" in form
    assert escape(fields["form"]["choices"]["electronic"]["pl"]) in form
    assert (
        ">variant<" not in form and "wypis_wyrys" not in form and "['" not in form and "[&#x27;" not in form
    )
    assert f'<a href="/dzialka/{rural}">{rural}</a>' in form
    assert f'href="/dzialka/{rural}"' in page.split('data-testid="case-parcels"')[1]
    assert f'href="/verify/{receipt.verification_code}"' in page.split('data-testid="case-receipt"')[1]
    attachment = case.submission.attachments.get()
    link = f"/urzad/sprawy/{case.pk}/zalaczniki/{attachment.pk}"
    assert link in page and "mapa-sytuacyjna.pdf" in page
    r = c.get(link)
    assert r.status_code == 200 and b"".join(r.streaming_content) == PDF
    assert r["X-Content-Type-Options"] == "nosniff"
    with translation.override("en"):
        page_en = c.get(f"/urzad/sprawy/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    if escape(variant["label"]["en"]) in page_en:  # the page follows the language the clerk chose
        assert escape(variant["choices"]["wypis_wyrys"]["en"]) in page_en


# ------------------------------------------------------------------ the timeline in plain words
IMPERATIVES = ("Assign", "Start", "Mark", "Call", "Notify", "Suspend", "Resume", "Settle", "Record", "Close")
IMPERATIVES += ("Leave", "Forward", "Issue", "Ask")
PAST = re.compile(r"\b([A-Za-z]+ed|paid|sent|withdrawn|left|did|given)\b")

FACTS = {
    "assign": {"assignee": "Anna Nowak", "assignee_id": 1},
    "request_supplement": {"date": "2026-12-18"},
    "notify_delay": {"date": "2027-02-01"},
    "forward": {"forwarded_to": "Starostwo Powiatowe w Piasecznie"},
    "request_payment": {"number": "GK.DOO.1.2026", "amount": "140,00", "due": "2026-12-24"},
    "payment_received": {
        "number": "GK.DOO.1.2026",
        "amount": "140,00",
        "how": "transfer",
        "reference": "PKO 1",
    },
    "settle": {"documents": "decyzja.pdf", "document_keys": ["case:x"]},
    "deliver": {"method": "post", "date": "2026-03-02", "tracking_no": "RR1", "proof_name": "zwrotka.pdf"},
    "document_issued": {"number": "WYR/1/2026", "kind": "egib_wyrys"},
    "document_added": {"name": "decyzja.pdf", "kind": "decision"},
    "payment_started": {"number": "GK.DOO.1.2026", "amount": "140,00", "how": "sandbox"},
    "payment_refunded": {"number": "GK.DOO.1.2026", "amount": "10,00"},
}


def _check_words(text: str, action: str, assignee: str = "Anna Nowak") -> None:
    assert text and text.split()[0] not in IMPERATIVES, (action, text)
    assert PAST.search(text), (action, text)
    assert text.count(assignee) <= 1, (action, text)


@pytest.mark.parametrize("action", sorted(set(TRANSITIONS) | set(SYSTEM_TEXTS)))
def test_entry_text_is_past_tense_and_names_each_fact_once(clerk, gmina, action):
    case = paper_case(gmina)
    data = {"v": 1, "note": "", **FACTS.get(action, {})}
    entry = TimelineEntry.objects.create(case=case, actor=clerk, action=action, data=data)
    with translation.override("en"):
        text = entry_text(entry)
    _check_words(text, action)
    t = TRANSITIONS.get(action)
    if t is not None:
        assert text != str(t.label)
    for value in FACTS.get(action, {}).values():  # every fact the step recorded is in the words
        if isinstance(value, str) and action not in ("document_issued", "document_added") and value != "post":
            if value != "transfer" and value != "sandbox" and not value.startswith("case:"):
                shown = _day(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else value
                assert shown in text, (action, shown, text)


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
@pytest.mark.parametrize("lang", ["pl", "en"])
def test_entry_text_of_old_rows_is_past_tense_without_the_assignee_twice(clerk, gmina, action, lang):
    """Rows written before the facts were structured: "label (extra): note" in the language of the clerk."""
    case = paper_case(gmina)
    t = TRANSITIONS[action]
    extra = {
        "assign": "Anna Nowak",
        "request_supplement": "answer by 2026-12-18",
        "notify_delay": "new date: 2027-02-01",
        "forward": "Starostwo",
    }.get(action, "")
    with translation.override(lang):
        label = str(t.label)
    note = label + (f" ({extra})" if extra else "") + ": uwaga urzędnika"
    entry = TimelineEntry.objects.create(case=case, actor=clerk, action=action, note=note)
    with translation.override("en"):
        text = entry_text(entry)
    _check_words(text, action)
    with translation.override("en"):
        done = str(t.done)
    assert (label not in text or label == done) and text.startswith(done.split("%")[0])
    assert "uwaga urzędnika" in text
    if action == "assign":
        assert "Anna Nowak" in text
    if action in ("request_supplement", "notify_delay"):
        assert _day("2026-12-18") in text or _day("2027-02-01") in text, text


def test_real_entries_of_every_kind_read_in_plain_words(clerk, gmina, citizen):
    case = paper_case(gmina, user=citizen)
    case_transition(case.pk, "assign", actor=clerk, assignee=clerk)  # the clerk takes the case
    case_transition(case.pk, "start", actor=clerk, note="zaczynam")
    case_transition(case.pk, "request_supplement", actor=clerk, due_days=7)
    case_note_add(case.pk, actor=clerk, note="telefon od strony", public=False)
    case_access_code_reissue(case.pk, actor=clerk)
    with translation.override("en"):
        texts = {e.action: entry_text(e) for e in case.timeline.all()}
    assert texts["assign"] == "Assigned to Anna Nowak"
    assert texts["start"] == "Work started – zaczynam"
    due = Case.objects.get(pk=case.pk).supplement_due.isoformat()
    assert texts["request_supplement"] == f"Supplement requested until {_day(due)}"
    assert texts["note"] == "telefon od strony"
    with translation.override("en"):
        channel = str(case.get_channel_display())
    assert texts["register"] == f"Request received ({channel}) and registered as case {case.sign}"
    for action, text in texts.items():
        if action != "note":
            _check_words(text, action)
    # the clerk's page names the assignee once: the actor is left out when the words name them
    page = logged(clerk).get(f"/urzad/sprawy/{case.pk}/").content.decode()
    timeline = page.split('data-testid="case-timeline"')[1].split("</ol>")[0]
    assigned = next(li for li in timeline.split("<li>") if "Anna Nowak" in li and "Przydziel" not in li)
    assert assigned.count("Anna Nowak") == 1
    assert _pl("Assign to a clerk") not in timeline and _pl("Start work") not in timeline
    # the status page's words (the stored Polish text) are past tense too
    assert case.timeline.get(action="start").note == _pl("Work started") + " – zaczynam"


# ------------------------------------------------------------------ e-mails
def test_emails_are_whole_sentences_with_an_absolute_link(
    clerk, gmina, citizen, django_capture_on_commit_callbacks
):
    anonymous = paper_case(gmina, email="anna@example.pl")
    with_account = paper_case(gmina, email="jan@example.pl", user=citizen)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(anonymous.pk, "start", actor=clerk)
        case_transition(with_account.pk, "start", actor=clerk, note="proszę o cierpliwość")
        case_transition(with_account.pk, "request_supplement", actor=clerk, due_days=7)
    first, second, third = mail.outbox
    sentence = _pl(
        "Your case %(sign)s is now being handled by %(office)s.", sign=anonymous.sign, office=gmina.name
    )
    assert sentence in first.body and sentence.endswith(".")
    assert f"{settings.GISPORTAL_PUBLIC_URL}/status/?ref={anonymous.tracking_code}" in first.body
    assert settings.GISPORTAL_PUBLIC_URL.startswith("http")
    assert f"{settings.GISPORTAL_PUBLIC_URL}/moje-sprawy/{with_account.pk}/" in second.body
    assert _pl("The office's note: %(note)s", note="proszę o cierpliwość") in second.body
    for m in (first, second, third):
        assert (
            _pl("Start work") not in m.body
            and _pl("Call the applicant to supplement the request") not in m.body
        )
        assert re.search(r"https?://[^\s]+/(status/\?ref=|moje-sprawy/\d+/)", m.body)
    due = Case.objects.get(pk=with_account.pk).supplement_due.isoformat()
    assert (
        _pl(
            "%(office)s asks you to supplement your request in case %(sign)s by %(date)s.",
            office=gmina.name,
            sign=with_account.sign,
            date=_day(due, "pl"),
        )
        in third.body
    )


# ------------------------------------------------------------------ the access code, re-issued
def test_reissue_of_the_access_code_is_confirmed_and_shown_once(clerk, gmina):
    case = paper_case(gmina)
    old_hash = case.access_code_hash
    c = logged(clerk)
    r = post(c, case, action="reissue_code")
    assert r.status_code == 200 and 'name="confirm" value="1"' in r.content.decode()
    assert Case.objects.get(pk=case.pk).access_code_hash == old_hash
    r = post(c, case, action="reissue_code", confirm="1")
    assert r.status_code == 302 and r["Location"] == f"/urzad/sprawy/{case.pk}/potwierdzenie/"
    page = c.get(r["Location"]).content.decode()
    code = page.split('data-testid="access-code">')[1].split("<")[0].strip()
    assert len(code) == 10 and Case.objects.get(pk=case.pk).access_code_hash != old_hash
    assert status_lookup(case.tracking_code, code) == case
    assert code not in c.get(r["Location"]).content.decode()  # shown once
    # the printout: an absolute status link and a print stylesheet that leaves out the site around it
    assert f'href="{settings.GISPORTAL_PUBLIC_URL}/status/?ref={case.tracking_code}"' in page
    assert re.search(r'<link rel="stylesheet" href="[^"]*cases/print\.css" media="print">', page)
    assert case.timeline.filter(action="access_reissued").exists()
