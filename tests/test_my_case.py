"""The applicant's side of a case: codes on the receipt (UPP) and in the first e-mail, the "my case" page
with its history, documents and actions (answer a call to supplement, withdraw), access codes re-issued,
and nobody else reaching any of it."""

from __future__ import annotations

import re
import uuid
from io import BytesIO

import pdfplumber
import pytest
from django.core import mail
from django.test import Client
from lxml import etree

from gisportal.core.errors import Forbidden, InvalidInput
from services.cases import selectors
from services.cases.actions import (
    access_code_hash,
    case_access_code_reissue,
    case_document_add,
    case_transition,
)
from services.cases.models import Case, CaseDocument, State
from services.forms.actions import submission_file
from services.forms.codes import case_codes
from services.forms.models import ServiceDefinition
from services.offices.actions import staff_add
from services.offices.models import Office, OfficeUnit
from services.receipts.models import Receipt

pytestmark = pytest.mark.django_db
UPP = "{https://gisportal.piaseczno.eu/schemas/upp/1.0}"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def citizen(make_user):
    return make_user("ola", "citizen", first_name="Ola", last_name="Nowa")


@pytest.fixture
def clerk(make_user):
    office = Office.objects.get(code="um-piaseczno")
    user = make_user("clerk.k", "clerk", first_name="Anna", last_name="Nowak")
    staff_add(user, office, OfficeUnit.objects.get(office=office, code="KAN"))
    return user


@pytest.fixture
def filed(citizen, django_capture_on_commit_callbacks):
    service = ServiceDefinition.objects.get(code="pismo-ogolne", active=True)
    with django_capture_on_commit_callbacks(execute=True):
        sub = submission_file(
            service,
            {
                "applicant_name": "Ola Nowa",
                "email": "ola@example.pl",
                "subject": "Pytanie",
                "content": "Treść pytania do urzędu.",
            },
            user=citizen,
            idempotency_key=str(uuid.uuid4()),
        )
    return Case.objects.get(submission=sub)


@pytest.fixture
def gateways_on(settings):
    settings.GISPORTAL_PAYMENT_PROVIDERS = ("sandbox",)


def public_client() -> Client:
    return Client(REMOTE_ADDR=f"client-{uuid.uuid4()}")


def status_of(reference: str, access: str) -> str:
    return public_client().post("/status/", {"reference": reference, "access_code": access}).content.decode()


def test_an_e_filer_gets_both_codes_on_the_receipt_and_in_the_first_email(filed):
    tracking, access = case_codes(filed.submission_id)
    assert filed.tracking_code == tracking and filed.access_code_hash == access_code_hash(access)
    receipt = Receipt.objects.get(document_id=str(filed.submission_id))
    xml = etree.fromstring(bytes(receipt.xml))
    assert xml.findtext(f"{UPP}KodSledzeniaSprawy") == tracking
    assert xml.findtext(f"{UPP}KodDostepuDoSprawy") == access
    assert "access" not in str(receipt.summary)  # the access code is only in the sealed XML
    first = mail.outbox[0]
    assert tracking in first.body and access in first.body
    # the codes open the public status; another code does not
    assert "Nie znaleziono" not in status_of(tracking, access) and filed.sign in status_of(tracking, access)
    assert filed.sign not in status_of(tracking, "ABCDEFGHJK")


def test_the_receipt_page_and_pdf_carry_the_codes(client, filed, citizen):
    tracking, access = case_codes(filed.submission_id)
    client.force_login(citizen)
    page = client.get(f"/wnioski/{filed.submission_id}/").content.decode()
    assert tracking in page and access in page
    pdf = client.get(f"/wnioski/{filed.submission_id}/upp.pdf")
    text = "".join(p.extract_text() or "" for p in pdfplumber.open(BytesIO(pdf.content)).pages)
    assert tracking in text and access in text


def test_my_cases_links_to_my_case_with_history_and_documents(client, filed, citizen):
    client.force_login(citizen)
    listing = client.get("/moje-sprawy/").content.decode()
    assert f'href="/moje-sprawy/{filed.pk}/"' in listing
    page = client.get(f"/moje-sprawy/{filed.pk}/").content.decode()
    assert filed.sign in page and filed.tracking_code in page
    assert case_codes(filed.submission_id)[1] in page  # still the receipt's code
    assert f"/wnioski/{filed.submission_id}/" in page
    assert 'data-testid="my-case-timeline"' in page and "<li>" in page.split('my-case-timeline"')[1]


def test_nobody_else_reaches_my_case(client, filed, make_user, clerk):
    doc = case_document_add(
        filed, name="pismo.txt", content_type="text/plain", content=b"x", direction="out", actor=clerk
    )
    for user in (make_user("other", "citizen"), clerk):
        client.force_login(user)
        assert client.get(f"/moje-sprawy/{filed.pk}/").status_code == 404
        assert client.get(f"/moje-sprawy/{filed.pk}/dokumenty/{doc.pk}").status_code == 404
        r = client.post(f"/moje-sprawy/{filed.pk}/", {"action": "withdraw", "confirm": "1"})
        assert r.status_code == 404
    client.logout()
    assert client.get(f"/moje-sprawy/{filed.pk}/").status_code == 302  # to the login page
    filed.refresh_from_db()
    assert filed.state == State.REGISTERED


def test_the_applicant_answers_a_call_to_supplement(client, filed, citizen, clerk):
    case_transition(filed.pk, "start", actor=clerk)
    case_transition(filed.pk, "request_supplement", actor=clerk, due_days=7)
    internal = case_document_add(
        filed, name="notatka.txt", content_type="text/plain", content=b"internal", direction="in", actor=clerk
    )
    client.force_login(citizen)
    page = client.get(f"/moje-sprawy/{filed.pk}/").content.decode()
    assert 'id="answer"' in page
    # a file outside the allow-list: refused, nothing stored, still waiting
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("x.exe", b"MZ\x90\x00" + b"\x00" * 50, content_type="application/octet-stream")
    r = client.post(f"/moje-sprawy/{filed.pk}/", {"action": "answer", "text": "Odpowiedź", "files": [bad]})
    assert r.status_code == 302
    filed.refresh_from_db()
    # the call itself (art. 64 § 2) is an outgoing letter, on its way to the applicant's inbox
    assert filed.documents.filter(direction="out", kind="call_art64").count() == 1
    assert filed.state == State.WAITING_APPLICANT and filed.documents.count() == 2
    assert "x.exe" in client.get(f"/moje-sprawy/{filed.pk}/").content.decode()  # the message names it
    # an empty answer: refused
    client.post(f"/moje-sprawy/{filed.pk}/", {"action": "answer", "text": "  "})
    filed.refresh_from_db()
    assert filed.state == State.WAITING_APPLICANT
    good = SimpleUploadedFile("skan.png", PNG, content_type="image/png")
    client.post(
        f"/moje-sprawy/{filed.pk}/", {"action": "answer", "text": "Uzupełniam wniosek.", "files": [good]}
    )
    filed.refresh_from_db()
    assert filed.state == State.IN_PROGRESS and filed.supplement_due is None
    assert not filed.pauses.filter(ended_on__isnull=True).exists()
    answers = list(filed.documents.filter(direction="in", added_by=citizen))
    assert sorted(d.content_type for d in answers) == ["image/png", "text/plain"]
    text_doc = next(d for d in answers if d.content_type == "text/plain")
    assert client.get(f"/moje-sprawy/{filed.pk}/dokumenty/{text_doc.pk}").status_code == 200
    assert client.get(f"/moje-sprawy/{filed.pk}/dokumenty/{internal.pk}").status_code == 404
    # answering again when the office is not waiting changes nothing
    client.post(f"/moje-sprawy/{filed.pk}/", {"action": "answer", "text": "Jeszcze raz"})
    assert filed.documents.count() == 4


def test_withdrawal_asks_for_confirmation_first(client, filed, citizen):
    client.force_login(citizen)
    r = client.post(f"/moje-sprawy/{filed.pk}/", {"action": "withdraw"})
    assert r.status_code == 200 and 'name="confirm"' in r.content.decode()
    filed.refresh_from_db()
    assert filed.state == State.REGISTERED
    client.post(f"/moje-sprawy/{filed.pk}/", {"action": "withdraw", "confirm": "1", "reason": "Nieaktualne"})
    filed.refresh_from_db()
    assert filed.state == State.WITHDRAWN
    assert filed.timeline.filter(action="withdraw", actor=citizen).exists()
    r = client.post(f"/moje-sprawy/{filed.pk}/", {"action": "withdraw", "confirm": "1"})
    filed.refresh_from_db()
    assert filed.state == State.WITHDRAWN  # no second time


def test_a_new_access_code_replaces_the_old_one(client, filed, citizen, django_capture_on_commit_callbacks):
    tracking, old = case_codes(filed.submission_id)
    client.force_login(citizen)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/moje-sprawy/{filed.pk}/", {"action": "access_code"})
    new = re.search(r"\b([A-Z2-9]{10})\b", mail.outbox[0].body.split(":", 1)[1]).group(1)
    assert new != old and mail.outbox[0].to == ["ola@example.pl"]
    assert filed.sign in status_of(tracking, new) and filed.sign not in status_of(tracking, old)
    filed.refresh_from_db()
    assert selectors.access_code_current(filed) == ""  # the receipt's code is no longer shown as valid
    assert old not in client.get(f"/moje-sprawy/{filed.pk}/").content.decode()


def test_reissue_is_limited_and_only_for_the_applicant_or_the_office(filed, make_user, clerk):
    with pytest.raises(Forbidden):
        case_access_code_reissue(filed.pk, actor=make_user("eve", "citizen"))
    other_clerk = make_user("clerk.p", "clerk")
    staff_add(other_clerk, Office.objects.get(code="sp-piaseczno"), OfficeUnit.objects.get(code="GK"))
    with pytest.raises(Forbidden):
        case_access_code_reissue(filed.pk, actor=other_clerk)
    for _ in range(3):
        case_access_code_reissue(filed.pk, actor=clerk)
    with pytest.raises(InvalidInput):
        case_access_code_reissue(filed.pk, actor=clerk)


def test_the_public_reissue_form_sends_only_to_the_address_of_the_request(
    filed, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    before = Case.objects.get(pk=filed.pk).access_code_hash
    with django_capture_on_commit_callbacks(execute=True):
        wrong = public_client().post(
            "/status/", {"action": "reissue", "reference": filed.tracking_code, "email": "eve@example.pl"}
        )
    assert wrong.status_code == 200 and not mail.outbox
    assert Case.objects.get(pk=filed.pk).access_code_hash == before
    with django_capture_on_commit_callbacks(execute=True):
        right = public_client().post(
            "/status/", {"action": "reissue", "reference": filed.sign, "email": "OLA@example.pl"}
        )
    assert mail.outbox and mail.outbox[0].to == ["ola@example.pl"]
    assert Case.objects.get(pk=filed.pk).access_code_hash != before
    # the same words whether it matched or not: nothing tells an attacker which e-mail is right
    said = 'data-testid="reissue-sent"'
    assert said in wrong.content.decode() and said in right.content.decode()


def test_letters_from_the_office_are_listed_for_the_applicant(client, filed, citizen, clerk):
    doc = case_document_add(
        filed,
        name="wezwanie.pdf",
        content_type="application/pdf",
        content=b"%PDF-1.4 x",
        direction="out",
        actor=clerk,
    )
    client.force_login(citizen)
    page = client.get(f"/moje-sprawy/{filed.pk}/").content.decode()
    assert f"/moje-sprawy/{filed.pk}/dokumenty/{doc.pk}" in page
    r = client.get(f"/moje-sprawy/{filed.pk}/dokumenty/{doc.pk}")
    assert r.status_code == 200 and r["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/moje-sprawy/{filed.pk}/dokumenty/{uuid.uuid4()}").status_code == 404
    assert CaseDocument.objects.filter(case=filed).count() == 1


def test_the_demo_citizen_has_a_case_to_answer_and_a_fee_to_pay(demo_data, gateways_on):
    from services.cases.demo import demo_cases_ensure
    from services.offices.actions import demo_accounts_ensure

    demo_accounts_ensure()
    cases = demo_cases_ensure()
    assert sorted(c.state for c in cases) == [State.PAYMENT_DUE, State.WAITING_APPLICANT]
    assert demo_cases_ensure() == cases  # once only
    waiting = next(c for c in cases if c.state == State.WAITING_APPLICANT)
    assert waiting.supplement_due is not None and waiting.applicant_user.username == "obywatel"
    # the letter carries a copy sealed by the county: its signature is checked and names the county
    check = waiting.submission.attachments.get().signature_check
    assert check["status"] == "verified" and check["report"]["indication"] == "TOTAL_PASSED"
    assert check["report"]["signatures"][0]["signer"]["organisation"] == "Starostwo Powiatowe w Piasecznie"
