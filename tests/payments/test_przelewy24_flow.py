"""Paying a fee with Przelewy24 end to end (DOMAIN.md §10): our API and pages through Django's test
client, the gateway a local fake over real HTTP on loopback (register → pay → signed notification →
verify → settled), and every way the money rules can be tested from outside: duplicates, forgeries,
a wrong amount, a gateway that does not confirm, a payer back before the notification, resumption,
refunds, reconciliation. The data stays in the test's transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from services.cases.models import Case, State
from services.payments import actions, providers
from services.payments.adapters.fake_przelewy24 import FakePrzelewy24
from services.payments.adapters.przelewy24 import NOTIFICATION_SIGN_FIELDS, sign_fields
from services.payments.models import Attempt, Discrepancy, Event, Payment, Refund

pytestmark = pytest.mark.django_db

# this module's own merchant and keys (not the fake's defaults: a body signed with those is a forgery)
MERCHANT_ID = 234567
API_KEY = "flow-test-api-key"
CRC = "flow-test-crc-key"
NOTIFY_PATH = "/api/payments/notify/przelewy24"
VERIFY = ("PUT", "/api/v1/transaction/verify")


@pytest.fixture
def fake() -> Iterator[FakePrzelewy24]:
    """A fresh fake gateway per test; adapters are cached by (name, URL), so the cache is cleared
    on both sides to leave no adapter bound to a stopped fake."""
    gateway = FakePrzelewy24(MERCHANT_ID, MERCHANT_ID, API_KEY, CRC)
    gateway.start(port=0)
    providers._build.cache_clear()
    yield gateway
    gateway.stop()
    providers._build.cache_clear()


@pytest.fixture
def p24(gateways, fake: FakePrzelewy24) -> FakePrzelewy24:
    """Both gateways on, Przelewy24 pointed at the fake with matching credentials (after `gateways`,
    which turns on the sandbox alone)."""
    gateways.GISPORTAL_PAYMENT_PROVIDERS = ("sandbox", "przelewy24")
    gateways.GISPORTAL_P24_URL = fake.url
    gateways.GISPORTAL_P24_MERCHANT_ID = MERCHANT_ID
    gateways.GISPORTAL_P24_POS_ID = MERCHANT_ID
    gateways.GISPORTAL_P24_API_KEY = API_KEY
    gateways.GISPORTAL_P24_CRC = CRC
    return fake


@pytest.fixture
def payment(filed) -> Payment:
    return Payment.objects.get(document__submission_id=filed.id)


@pytest.fixture
def payer(citizen) -> Client:
    c = Client()
    c.force_login(citizen)
    return c


def start(client: Client, payment: Payment, provider: str = "przelewy24") -> HttpResponse:
    return client.post(
        f"/api/payments/{payment.pk}/start",
        json.dumps({"provider": provider}),
        content_type="application/json",
    )


def started(client: Client, payment: Payment) -> Attempt:
    """Start with Przelewy24 through the API and return the attempt it registered."""
    r = start(client, payment)
    assert r.status_code == 200, r.content
    return Attempt.objects.get(payment=payment, provider="przelewy24", status="pending")


def notify(body: bytes) -> HttpResponse:
    """POST a notification as the gateway does: no session, no CSRF token, the raw JSON body."""
    return Client().post(NOTIFY_PATH, body, content_type="application/json")


def paid_body(fake: FakePrzelewy24, attempt: Attempt, **kwargs: Any) -> bytes:
    """Pay at the fake without its own notification, and return the signed body it would send."""
    fake.pay(attempt.session_id, notify=False, amount=kwargs.pop("amount", None))
    return fake.notification_body(attempt.session_id, **kwargs)


def verify_calls(fake: FakePrzelewy24) -> int:
    with fake.lock:
        return fake.requests.count(VERIFY)


def assert_problem(r: HttpResponse, status: int, code: str) -> dict:
    assert r.status_code == status, r.content
    assert r["Content-Type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["type"] == f"about:blank#{code}"
    return body


def settle(fake: FakePrzelewy24, client: Client, payment: Payment, capture) -> Attempt:
    """Start, pay and notify: a payment settled through Przelewy24."""
    attempt = started(client, payment)
    with capture(execute=True):
        r = notify(paid_body(fake, attempt))
    assert r.status_code == 200 and r.json()["outcome"] == "settled", r.content
    attempt.refresh_from_db()
    return attempt


# ------------------------------------------------------------------------------------- 1. start
def test_start_registers_the_transaction_at_przelewy24(p24, payment, payer):
    r = start(payer, payment)
    assert r.status_code == 200, r.content
    attempt = Attempt.objects.get(payment=payment)
    txn = p24.transactions[attempt.session_id]
    assert r.json()["redirect_url"] == f"{p24.url}/trnRequest/{txn.token}"
    assert attempt.provider == "przelewy24" and attempt.provider_ref == txn.token
    assert ("POST", "/api/v1/transaction/register") in p24.requests
    assert (txn.amount, txn.currency) == (14000, "PLN") and attempt.amount == 14000
    assert txn.url_status.endswith(NOTIFY_PATH)
    assert txn.url_return.endswith(f"/platnosci/{payment.pk}/powrot/?a={attempt.pk}")
    assert payment.document.number in txn.description and txn.email == "jan@example.pl"
    assert Payment.objects.get(pk=payment.pk).status == "pending"


# ------------------------------------------------------------------------------------- 2. settle
def test_signed_notification_is_verified_and_settles_the_case(
    p24, payment, payer, filed, django_capture_on_commit_callbacks
):
    attempt = started(payer, payment)
    body = paid_body(p24, attempt)
    assert Payment.objects.get(pk=payment.pk).status == "pending"  # paid at the gateway, not yet here
    with django_capture_on_commit_callbacks(execute=True):
        r = notify(body)
    assert r.status_code == 200 and r.json() == {"status": "OK", "outcome": "settled"}
    payment.refresh_from_db()
    assert payment.status == "paid" and payment.paid_via == "przelewy24" and payment.paid_at is not None
    attempt.refresh_from_db()
    assert attempt.status == "paid" and attempt.order_id == str(p24.transactions[attempt.session_id].order_id)
    assert p24.verified(attempt.session_id) and verify_calls(p24) == 1
    case = Case.objects.get(submission=filed)
    assert case.state == State.IN_PROGRESS
    assert case.timeline.filter(action="payment_received", public=True).exists()


# ------------------------------------------------------------------------------------- 3. duplicate
def test_repeated_notification_is_a_duplicate(p24, payment, payer, django_capture_on_commit_callbacks):
    attempt = settle(p24, payer, payment, django_capture_on_commit_callbacks)
    body = p24.notification_body(attempt.session_id)
    r = notify(body)
    assert r.status_code == 200 and r.json()["outcome"] == "duplicate"
    assert Event.objects.filter(attempt=attempt, outcome="settled").count() == 1
    assert Event.objects.filter(attempt=attempt, outcome="duplicate").count() == 1
    assert Attempt.objects.filter(payment=payment, status="paid").count() == 1
    assert verify_calls(p24) == 1  # a settled payment is not verified again


# ------------------------------------------------------------------------------------- 4. forged
def test_notification_signed_with_another_crc_is_refused(p24, payment, payer):
    attempt = started(payer, payment)
    p24.pay(attempt.session_id, notify=False)
    forged = p24.notification_body(attempt.session_id, crc="not-our-crc")
    assert_problem(notify(forged), 400, "invalid_notification")
    tampered = p24.notification_body(attempt.session_id, tamper_sign=True)
    assert_problem(notify(tampered), 400, "invalid_notification")
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    assert not Attempt.objects.filter(payment=payment, status="paid").exists()
    assert not Event.objects.filter(outcome="settled").exists()
    rejected = Event.objects.filter(provider="przelewy24", outcome="rejected")
    assert rejected.count() == 2 and attempt.session_id in rejected.first().body
    assert verify_calls(p24) == 0 and not p24.verified(attempt.session_id)


# ------------------------------------------------------------------------------------- 5. amount
def test_wrong_amount_is_flagged_and_never_verified(p24, payment, payer):
    attempt = started(payer, payment)
    body = paid_body(p24, attempt, amount=100)
    r = notify(body)
    assert r.status_code == 200 and r.json()["outcome"] == "mismatch"
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    assert Attempt.objects.get(pk=attempt.pk).status == "pending"
    d = Discrepancy.objects.get(payment=payment)
    assert d.kind == "amount" and "1,00" in d.detail and "140,00" in d.detail
    assert Event.objects.filter(attempt=attempt, outcome="mismatch").count() == 1
    assert not p24.verified(attempt.session_id) and verify_calls(p24) == 0


# ------------------------------------------------------------------------------------- 6. verify fails
def test_failed_verify_answers_503_and_the_retry_settles(p24, payment, payer):
    attempt = started(payer, payment)
    body = paid_body(p24, attempt)
    p24.fail_verify = True
    assert_problem(notify(body), 503, "gateway_unavailable")
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    assert Attempt.objects.get(pk=attempt.pk).status == "pending"
    assert Event.objects.filter(attempt=attempt, outcome="verify_failed").count() == 1
    assert not p24.verified(attempt.session_id)
    p24.fail_verify = False
    r = notify(body)  # the gateway notifies again
    assert r.status_code == 200 and r.json()["outcome"] == "settled"
    assert Payment.objects.get(pk=payment.pk).status == "paid" and p24.verified(attempt.session_id)
    assert verify_calls(p24) == 2


# ------------------------------------------------------------------------------------- 7. return first
def test_payer_back_before_the_notification_settles_by_asking_the_gateway(
    p24, payment, payer, filed, django_capture_on_commit_callbacks
):
    attempt = started(payer, payment)
    p24.pay(attempt.session_id, notify=False)
    with django_capture_on_commit_callbacks(execute=True):
        r = payer.get(f"/platnosci/{payment.pk}/powrot/?a={attempt.pk}")
    assert r.status_code == 200
    path = f"/api/v1/transaction/by/sessionId/{attempt.session_id}"
    assert ("GET", path) in p24.requests  # the page asked the gateway
    assert Payment.objects.get(pk=payment.pk).status == "paid"
    assert Attempt.objects.get(pk=attempt.pk).status == "paid"
    assert p24.verified(attempt.session_id)  # and verified it: without that the money is not ours
    assert Case.objects.get(submission=filed).state == State.IN_PROGRESS
    # the notification that follows is a duplicate
    r = notify(p24.notification_body(attempt.session_id))
    assert r.status_code == 200 and r.json()["outcome"] == "duplicate"


# ------------------------------------------------------------------------------------- 8. resumption
def test_a_second_start_resumes_the_same_transaction(p24, payment, payer):
    first, again = start(payer, payment), start(payer, payment)
    assert first.status_code == again.status_code == 200
    assert first.json()["redirect_url"] == again.json()["redirect_url"]
    assert len(p24.transactions) == 1 and payment.attempts.count() == 1
    assert p24.requests.count(("POST", "/api/v1/transaction/register")) == 1


def test_switching_to_the_sandbox_after_paying_at_przelewy24_is_not_a_second_charge(p24, payment, payer):
    attempt = started(payer, payment)
    p24.pay(attempt.session_id, notify=False)  # paid; the notification is late
    r = start(payer, payment, "sandbox")
    assert_problem(r, 409, "already_paid")
    assert Attempt.objects.get(pk=attempt.pk).status == "paid" and p24.verified(attempt.session_id)
    assert Payment.objects.get(pk=payment.pk).status == "paid"
    assert not payment.attempts.filter(provider="sandbox").exists()


# ------------------------------------------------------------------------------------- 9. refunds
def test_clerk_refund_goes_to_przelewy24(p24, payment, payer, clerk, django_capture_on_commit_callbacks):
    attempt = settle(p24, payer, payment, django_capture_on_commit_callbacks)
    refund = actions.payment_refund(payment.pk, actor=clerk, amount=Decimal("140.00"), reason="wycofany")
    assert refund.status == "done"
    assert len(p24.refunds) == 1
    recorded = p24.refunds[0]
    assert recorded["orderId"] == int(attempt.order_id) and recorded["amount"] == 14000
    assert recorded["sessionId"] == attempt.session_id and recorded["requestId"] == str(refund.pk)
    p = Payment.objects.get(pk=payment.pk)
    assert p.status == "refunded" and p.refunded_amount == Decimal("140.00")
    assert Refund.objects.get(pk=refund.pk).status == "done"


def test_refund_refused_by_the_gateway_is_recorded_failed(
    p24, payment, payer, clerk, django_capture_on_commit_callbacks
):
    settle(p24, payer, payment, django_capture_on_commit_callbacks)
    p24.outage = 503
    with pytest.raises(actions.GatewayUnavailable):
        actions.payment_refund(payment.pk, actor=clerk, amount=Decimal("40.00"), reason="częściowy zwrot")
    assert p24.refunds == []
    p = Payment.objects.get(pk=payment.pk)
    assert p.status == "paid" and p.refunded_amount == Decimal("0.00")
    assert list(Refund.objects.filter(payment=payment).values_list("status", flat=True)) == ["failed"]


# ------------------------------------------------------------------------------------- 10. reconciliation
def test_reconciliation_finds_a_payment_przelewy24_has_and_we_do_not(p24, payment, payer):
    attempt = started(payer, payment)
    p24.pay(attempt.session_id, notify=False)  # the notification is lost
    runs = actions.payments_reconcile(timezone.localdate())
    run = next(r for r in runs if r.provider == "przelewy24")
    assert run.error == "" and run.checked == 1 and run.differences == 1
    d = Discrepancy.objects.get(payment=payment)
    assert d.kind == "missing_here" and d.source == "reconciliation" and attempt.session_id in d.detail
    again = next(r for r in actions.payments_reconcile(timezone.localdate()) if r.provider == "przelewy24")
    assert again.differences == 0 and Discrepancy.objects.filter(payment=payment).count() == 1
    assert Payment.objects.get(pk=payment.pk).status == "pending"  # a clerk decides, nothing by itself


def test_reconciliation_of_a_settled_day_finds_nothing(
    p24, payment, payer, django_capture_on_commit_callbacks
):
    settle(p24, payer, payment, django_capture_on_commit_callbacks)
    run = next(r for r in actions.payments_reconcile(timezone.localdate()) if r.provider == "przelewy24")
    assert run.error == "" and run.checked == 1 and run.differences == 0
    assert not Discrepancy.objects.exists()


# ------------------------------------------------------------------------------------- 11. unknowns
def test_unknown_gateway_is_not_found(p24):
    r = Client().post("/api/payments/notify/payu", b"{}", content_type="application/json")
    assert_problem(r, 404, "not_found")
    assert not Event.objects.exists()


def test_signed_notification_for_a_transaction_not_ours_is_refused(p24):
    fields: dict[str, Any] = {
        "merchantId": MERCHANT_ID,
        "posId": MERCHANT_ID,
        "sessionId": "GP-never-started-here",
        "amount": 14000,
        "originAmount": 14000,
        "currency": "PLN",
        "orderId": 399_999_999,
        "methodId": 25,
        "statement": "p24-399999999",
    }
    fields["sign"] = sign_fields(NOTIFICATION_SIGN_FIELDS, fields, CRC)
    r = notify(json.dumps(fields, separators=(",", ":")).encode())
    assert_problem(r, 400, "unknown_transaction")
    event = Event.objects.get(provider="przelewy24")
    assert event.outcome == "unknown" and event.event_id == "p24:399999999" and event.attempt is None
    assert verify_calls(p24) == 0
