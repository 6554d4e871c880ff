"""One settlement whatever races (DOMAIN.md §10): the gateway's notification sent many times at once
over real HTTP to the live server (a threaded WSGI server, each request on a connection of its own),
and two different attempts of one fee paid and notified together. The data is committed (the live
server sees nothing else) and removed afterwards, the county's fee account restored."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from services.payments.adapters import sandbox
from services.payments.models import Attempt, Discrepancy, Event, Payment, SandboxTransaction

from ..e2e.helpers import committed, remove_cases

pytestmark = pytest.mark.django_db

FEE_ACCOUNT = "PL61109010140000071219812874"
APPLICANT = "Jan Współbieżny"
PARALLEL = 12


@dataclass(frozen=True)
class Committed:
    user_id: int
    case_id: int
    payment_id: uuid.UUID


def _create(username: str) -> Committed:
    """A citizen, a paper case of the county's GK unit and a DOO of 140 zł for it, all committed."""
    from gisportal.core.models import User
    from services.cases.actions import case_register
    from services.offices.models import Office
    from services.payments.actions import fee_document_issue

    office = Office.objects.get(code="sp-piaseczno")
    office.fee_account = FEE_ACCOUNT
    office.save(update_fields=["fee_account"])
    user = User.objects.create_user(
        username=username, email=f"{username}@example.pl", password="x-Secret-2026!", role="citizen"
    )
    case, _access = case_register(
        office=office,
        unit=office.units.get(code="GK"),
        jrwa="6640",
        subject="Udostępnienie materiałów PZGiK (test współbieżności)",
        channel="paper",
        applicant_name=APPLICANT,
        received_on=timezone.localdate(),
        deadline_kind="one_month",
        applicant_user=user,
    )
    payment = fee_document_issue(
        key=f"test-concurrency:{uuid.uuid4().hex}",
        kind="doo",
        office=office,
        lines=[
            {
                "label": "Wypis i wyrys z EGiB",
                "quantity": 1,
                "unit_price": Decimal("140.00"),
                "amount": Decimal("140.00"),
            }
        ],
        legal_basis="art. 40b ust. 1 Pgik",
        subject=case.subject,
        payer_name=APPLICANT,
        due_date=timezone.localdate() + timedelta(days=14),
        case_id=case.pk,
        case_sign=case.sign,
        applicant_user=user,
    )
    return Committed(user.pk, case.pk, payment.pk)


def _counter_state() -> tuple[str, int | None]:
    """The county's fee account and its DOO counter of this year (None: no counter yet)."""
    from services.offices.models import Office
    from services.payments.models import FeeDocumentCounter

    office = Office.objects.get(code="sp-piaseczno")
    counter = FeeDocumentCounter.objects.filter(
        office=office, kind="doo", year=timezone.localdate().year
    ).first()
    return office.fee_account, (counter.last if counter else None)


def _remove(data: Committed | None, username: str, before: tuple[str, int | None]) -> None:
    """Everything committed goes, fee documents included; the account and the DOO counter as before."""
    from gisportal.core.models import User
    from services.cases.models import Case
    from services.offices.models import Office
    from services.payments.models import FeeDocumentCounter

    if data is not None:
        # refused notifications belong to no attempt: found by the session ids in their bodies
        for session_id in SandboxTransaction.objects.filter(payment_id=data.payment_id).values_list(
            "session_id", flat=True
        ):
            Event.objects.filter(attempt__isnull=True, body__contains=session_id).delete()
        remove_cases(Case.objects.filter(pk=data.case_id))  # with its payments (tests/e2e/helpers.py)
    User.objects.filter(username=username).delete()
    office = Office.objects.get(code="sp-piaseczno")
    account, last = before
    Office.objects.filter(pk=office.pk).update(fee_account=account)
    counters = FeeDocumentCounter.objects.filter(office=office, kind="doo", year=timezone.localdate().year)
    if last is None:
        counters.delete()
    else:
        counters.update(last=last)


@pytest.fixture
def fee(live_url, settings) -> Iterator[Committed]:
    """The committed case and fee, the sandbox gateway on (the live server runs in this process and
    reads the same settings)."""
    settings.GISPORTAL_PAYMENT_PROVIDERS = ("sandbox",)
    username = f"flow-{uuid.uuid4().hex[:10]}"
    before = committed(_counter_state)
    data = None
    try:
        data = committed(lambda: _create(username))
        yield data
    finally:
        committed(lambda: _remove(data, username, before))


def _paid_attempt(data: Committed) -> tuple[bytes, str]:
    """Start with the sandbox as the citizen, the payer pays there: the signed notification."""
    from gisportal.core.models import User
    from services.payments.actions import payment_start

    payment_start(data.payment_id, "sandbox", user=User.objects.get(pk=data.user_id))
    tx = SandboxTransaction.objects.get(payment_id=data.payment_id)
    tx.status, tx.paid_at = "paid", timezone.now()
    tx.save(update_fields=["status", "paid_at"])
    body = sandbox.notification_body(tx, "paid")
    return body, sandbox.signature(body)


def _second_paid_attempt(data: Committed) -> tuple[bytes, str]:
    """Another attempt of the same fee (a second tab, another gateway session), also paid."""
    payment = Payment.objects.get(pk=data.payment_id)
    attempt = Attempt.objects.create(
        payment=payment,
        provider="sandbox",
        session_id=f"GP-{uuid.uuid4().hex}",
        status=Attempt.Status.PENDING,
        amount=payment.grosze,
        currency=payment.currency,
    )
    tx = SandboxTransaction.objects.create(
        session_id=attempt.session_id,
        payment_id=payment.pk,
        amount=attempt.amount,
        currency=attempt.currency,
        description=payment.document.title,
        return_url="http://127.0.0.1/",
        status="paid",
        paid_at=timezone.now(),
    )
    body = sandbox.notification_body(tx, "paid")
    return body, sandbox.signature(body)


def _send_all(url: str, notifications: list[tuple[bytes, str]]) -> list[tuple[int, str]]:
    """POST every (body, signature) at once, each on a thread of its own released together by a
    barrier: (HTTP status, body) per request, in order."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    barrier = threading.Barrier(len(notifications))

    def post(item: tuple[bytes, str]) -> tuple[int, str]:
        body, signature = item
        request = urllib.request.Request(  # noqa: S310 -- the live server on loopback
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", sandbox.HEADER: signature},
        )
        barrier.wait(timeout=30)
        try:
            with opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.read().decode()

    with ThreadPoolExecutor(len(notifications)) as pool:
        return list(pool.map(post, notifications))


def _books(payment_id: uuid.UUID) -> dict:
    """What our books say about the payment, read from committed data."""

    def read() -> dict:
        payment = Payment.objects.get(pk=payment_id)
        return {
            "status": payment.status,
            "paid_at": payment.paid_at,
            "attempts": Counter(Attempt.objects.filter(payment=payment).values_list("status", flat=True)),
            "events": Counter(
                Event.objects.filter(attempt__payment=payment).values_list("outcome", flat=True)
            ),
            "settled_events": list(
                Event.objects.filter(attempt__payment=payment, outcome="settled").values_list(
                    "attempt_id", flat=True
                )
            ),
            "overpaid": list(
                Attempt.objects.filter(payment=payment, status="overpaid").values_list("pk", flat=True)
            ),
            "discrepancies": list(
                Discrepancy.objects.filter(payment=payment).values_list("kind", "attempt_id", "source")
            ),
        }

    return committed(read)


def test_the_same_notification_twelve_times_at_once_settles_once(live_url, fee):
    body, signature = committed(lambda: _paid_attempt(fee))
    answers = _send_all(f"{live_url}/api/payments/notify/sandbox", [(body, signature)] * PARALLEL)
    assert [status for status, _text in answers] == [200] * PARALLEL, answers
    outcomes = Counter(json.loads(text)["outcome"] for _status, text in answers)
    assert outcomes == Counter({"settled": 1, "duplicate": PARALLEL - 1}), answers
    books = _books(fee.payment_id)
    assert books["events"] == Counter({"settled": 1, "duplicate": PARALLEL - 1})
    assert books["attempts"] == Counter({"paid": 1})
    assert books["status"] == "paid" and books["paid_at"] is not None
    assert books["discrepancies"] == []


def test_a_forged_signature_sent_with_the_genuine_ones_settles_nothing_itself(live_url, fee):
    body, signature = committed(lambda: _paid_attempt(fee))
    forged = (body, "0" * 64)
    answers = _send_all(f"{live_url}/api/payments/notify/sandbox", [forged, (body, signature)] * 3)
    assert [status for status, _text in answers] == [400, 200] * 3, answers
    books = _books(fee.payment_id)
    assert books["events"] == Counter({"settled": 1, "duplicate": 2})  # the forged ones have no attempt
    assert books["attempts"] == Counter({"paid": 1}) and books["discrepancies"] == []
    rejected = committed(
        lambda: Event.objects.filter(provider="sandbox", outcome="rejected", body=body.decode()).count()
    )
    assert rejected == 3


def test_two_attempts_paid_together_settle_one_and_flag_the_other(live_url, fee):
    first = committed(lambda: _paid_attempt(fee))
    second = committed(lambda: _second_paid_attempt(fee))
    answers = _send_all(f"{live_url}/api/payments/notify/sandbox", [first, second] * 3)
    assert [status for status, _text in answers] == [200] * 6, answers
    outcomes = Counter(json.loads(text)["outcome"] for _status, text in answers)
    assert outcomes == Counter({"settled": 1, "late": 1, "duplicate": 4}), answers
    books = _books(fee.payment_id)
    assert books["status"] == "paid" and books["paid_at"] is not None
    assert books["attempts"] == Counter({"paid": 1, "overpaid": 1})
    assert books["events"] == Counter({"settled": 1, "late": 1, "duplicate": 4})
    assert books["discrepancies"] == [("paid_twice", books["overpaid"][0], "notification")]
    assert books["settled_events"] != books["overpaid"]
