"""Fee payment end to end on the sandbox gateway: the fee document issued at filing, the case waiting
for payment, the payer's pages, settlement by the gateway's notification, and the money rules
(duplicates, forged signatures, amount mismatch, resumption, refunds, transfers, reconciliation)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from services.cases.models import Case, State
from services.payments import actions
from services.payments.adapters import InvalidNotification, sandbox
from services.payments.models import Attempt, Discrepancy, Event, FeeDocument, Payment, SandboxTransaction

pytestmark = pytest.mark.django_db


def pay_page(client, payment, provider="sandbox"):
    return client.post(f"/platnosci/{payment.pk}/", {"provider": provider})


def sandbox_choose(client, redirect_url, outcome="success"):
    path = redirect_url.split("://", 1)[1].split("/", 1)[1]
    r = client.get("/" + path)
    assert r.status_code == 200 and 'name="outcome"' in r.content.decode()
    session = path.split("?s=")[1]
    return client.post("/" + path.split("?")[0], {"s": session, "outcome": outcome})


def test_fixed_fee_gets_a_sealed_fee_document_at_filing_and_the_case_waits(filed):
    case = Case.objects.get(submission=filed)
    payment = Payment.objects.get(document__submission_id=filed.id)
    doc = payment.document
    assert doc.kind == "doo" and doc.amount == Decimal("140.00") and payment.status == "due"
    assert doc.account == "PL61109010140000071219812874" and doc.number.startswith("DOO/")
    assert doc.case_id == case.pk and doc.case_sign == case.sign and doc.number in doc.title
    assert case.state == State.PAYMENT_DUE and case.supplement_due == doc.due_date
    assert case.pauses.filter(reason="payment", ended_on__isnull=True).exists()
    assert case.timeline.filter(action="request_payment").exists()
    # the fee is stored, never recomputed: filing again under the same key changes nothing
    assert (
        actions.fee_document_issue(
            key=doc.key,
            kind="doo",
            office=doc.office,
            lines=[],
            legal_basis="",
            subject="",
            payer_name="",
            due_date=doc.due_date,
        ).pk
        == payment.pk
    )


def test_submission_api_carries_the_payment(filed, citizen):
    c = Client()
    c.force_login(citizen)
    body = c.get(f"/api/submissions/{filed.id}").json()
    p = body["payment"]
    assert p["status"] == "due" and p["amount"] == "140.00" and p["currency"] == "PLN"
    assert p["account"] == "PL61109010140000071219812874" and p["pay_url"] == f"/platnosci/{p['id']}/"
    got = c.get(f"/api/payments/{p['id']}").json()
    assert got["status"] == "due" and got["document"]["kind"] == "doo"


def test_pay_with_the_sandbox_settles_once_and_moves_the_case_on(
    filed, citizen, django_capture_on_commit_callbacks
):
    payment = Payment.objects.get(document__submission_id=filed.id)
    c = Client()
    c.force_login(citizen)
    r = pay_page(c, payment)
    assert r.status_code == 302 and "/platnosci/sandbox/" in r["Location"]
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        r = sandbox_choose(c, r["Location"], "success")
    assert r.status_code == 302 and f"/platnosci/{payment.pk}/powrot/" in r["Location"]
    payment.refresh_from_db()
    assert payment.status == "paid" and payment.paid_via == "sandbox"
    case = Case.objects.get(submission=filed)
    assert case.state == State.IN_PROGRESS and case.supplement_due is None
    assert case.timeline.filter(action="payment_received", public=True).exists()
    page = c.get(r["Location"].split("testserver")[-1])
    assert page.status_code == 200 and "opłata została wniesiona" in page.content.decode().lower()
    # the gateway's repeated notification: accepted, settles nothing twice
    tx = SandboxTransaction.objects.get(payment_id=payment.pk)
    body = sandbox.notification_body(tx, "paid")
    out = actions.notification_receive("sandbox", body, {sandbox.HEADER: sandbox.signature(body)})
    assert out == "duplicate" and Attempt.objects.filter(payment=payment, status="paid").count() == 1
    assert Event.objects.filter(attempt__payment=payment, outcome="settled").count() == 1


def test_forged_notification_is_refused_and_logged(filed, citizen):
    payment = Payment.objects.get(document__submission_id=filed.id)
    url = actions.payment_start(payment.pk, "sandbox", user=citizen)
    tx = SandboxTransaction.objects.get(payment_id=payment.pk)
    tx.status = "paid"
    body = sandbox.notification_body(tx, "paid")
    c = Client()
    r = c.post(
        "/api/payments/notify/sandbox",
        body,
        content_type="application/json",
        HTTP_X_SANDBOX_SIGNATURE="0" * 64,
    )
    assert r.status_code == 400 and r["Content-Type"].startswith("application/problem+json")
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    assert Event.objects.filter(outcome="rejected").exists()
    with pytest.raises(InvalidNotification):
        actions.notification_receive(
            "sandbox", body.replace(b"14000", b"1"), {sandbox.HEADER: sandbox.signature(body)}
        )
    assert url


def test_amount_mismatch_is_flagged_not_settled(filed, citizen):
    payment = Payment.objects.get(document__submission_id=filed.id)
    actions.payment_start(payment.pk, "sandbox", user=citizen)
    tx = SandboxTransaction.objects.get(payment_id=payment.pk)
    tx.amount = 100
    tx.status = "paid"
    body = sandbox.notification_body(tx, "paid")
    out = actions.notification_receive("sandbox", body, {sandbox.HEADER: sandbox.signature(body)})
    assert out == "mismatch" and Payment.objects.get(pk=payment.pk).status == "pending"
    d = Discrepancy.objects.get(payment=payment)
    assert d.kind == "amount" and "1,00" in d.detail


def test_an_interrupted_payment_is_resumed_not_registered_again(filed, citizen):
    payment = Payment.objects.get(document__submission_id=filed.id)
    first = actions.payment_start(payment.pk, "sandbox", user=citizen)
    again = actions.payment_start(payment.pk, "sandbox", user=citizen)
    assert first == again and payment.attempts.count() == 1 and SandboxTransaction.objects.count() == 1


def test_another_users_payment_is_not_found(filed, make_user):
    payment = Payment.objects.get(document__submission_id=filed.id)
    other = make_user("ewa", "citizen")
    c = Client()
    c.force_login(other)
    assert c.get(f"/platnosci/{payment.pk}/").status_code == 404
    assert c.get(f"/api/payments/{payment.pk}").status_code == 404
    r = c.post(
        f"/api/payments/{payment.pk}/start",
        json.dumps({"provider": "sandbox"}),
        content_type="application/json",
    )
    assert r.status_code in (403, 404)
    assert not payment.attempts.exists()


def test_clerk_books_a_transfer_and_refunds(filed, clerk, django_capture_on_commit_callbacks):
    payment = Payment.objects.get(document__submission_id=filed.id)
    from datetime import date

    out = actions.payment_transfer_book(
        payment.pk, actor=clerk, amount=Decimal("100.00"), booked_on=date(2026, 12, 1), statement="x"
    )
    assert out == "mismatch" and Payment.objects.get(pk=payment.pk).status == "due"
    with django_capture_on_commit_callbacks(execute=True):
        out = actions.payment_transfer_book(
            payment.pk,
            actor=clerk,
            amount=Decimal("140.00"),
            booked_on=date(2026, 12, 1),
            statement="JAN KOWALSKI DOO",
        )
    assert out == "settled" and Payment.objects.get(pk=payment.pk).status == "paid"
    assert Case.objects.get(submission=filed).state == State.IN_PROGRESS
    with django_capture_on_commit_callbacks(execute=True):
        actions.payment_refund(payment.pk, actor=clerk, amount=Decimal("140.00"), reason="wniosek wycofany")
    p = Payment.objects.get(pk=payment.pk)
    assert p.status == "refunded" and p.refunded_amount == Decimal("140.00")


def test_fee_documents_cannot_be_changed(filed):
    from django.db import DatabaseError, transaction

    doc = FeeDocument.objects.get(submission_id=filed.id)
    with pytest.raises(DatabaseError), transaction.atomic():
        FeeDocument.objects.filter(pk=doc.pk).update(amount=Decimal("1.00"))


def test_verify_page_shows_a_genuine_fee_document(filed):
    doc = FeeDocument.objects.get(submission_id=filed.id)
    r = Client().get(f"/verify/{doc.verification_code}")
    assert r.status_code == 200 and doc.number in r.content.decode() and "140,00" in r.content.decode()


def test_reconciliation_finds_what_the_gateway_paid_and_we_did_not(filed, citizen):
    from django.utils import timezone

    payment = Payment.objects.get(document__submission_id=filed.id)
    actions.payment_start(payment.pk, "sandbox", user=citizen)
    SandboxTransaction.objects.filter(payment_id=payment.pk).update(status="paid", paid_at=timezone.now())
    runs = actions.payments_reconcile(timezone.localdate())
    sandbox_run = next(r for r in runs if r.provider == "sandbox")
    assert sandbox_run.differences == 1
    assert Discrepancy.objects.get(payment=payment).kind == "missing_here"
    again = next(r for r in actions.payments_reconcile(timezone.localdate()) if r.provider == "sandbox")
    assert again.differences == 0 and Discrepancy.objects.filter(payment=payment).count() == 1
