"""Delivery by e-Doręczenia end to end (DOMAIN.md §7, u.d.e. art. 41-42): our delivery actions and the
daily job, the provider a local fake over real HTTP on loopback (token → send → evidences), time moved by
`now=` and the fake's clock, never by sleeping. Covers: the message and its first evidences; opened by
the addressee (delivered at the receipt's time, with a sealed proof); never opened (deemed delivered the
day after the 14 days); the provider down, failing or silent (the delivery waits with growing back-off and
goes out once, later); a bad address (no retry, the clerk sees why); wrong credentials; the job run twice;
the adapter's own limits and the fake's control API. The data stays in the test's transaction."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from django.utils import timezone, translation

from services.delivery import adapters
from services.delivery.actions import RETRY_BASE, deliveries_settle, delivery_create, delivery_send
from services.delivery.adapters.edoreczenia import ADE_RE, HttpProvider
from services.delivery.adapters.fake_edoreczenia import FakeEDoreczenia
from services.delivery.models import Channel, Delivery, How, Kind, Status
from services.offices import sealing
from services.offices.models import Office

pytestmark = pytest.mark.django_db

WARSAW = ZoneInfo("Europe/Warsaw")
CLIENT_ID = "edoreczenia-test-client"
SECRET = "edoreczenia-test-secret"
SENDER = "AE:PL-51000-12345-UMPIA-01"  # the office's box (made up)
RECIPIENT = "AE:PL-12345-67890-ABCDE-12"
UNKNOWN = "AE:PL-12345-67890-ABCDE-00"  # the fake knows every well-formed address but those ending -00
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=WARSAW)  # Monday 2 March 2026, DOMAIN.md §7
SEND = ("POST", f"/api/v3/{SENDER.replace(':', '%3A')}/messages")


def at(day: int, hour: int = 12, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=WARSAW)


@pytest.fixture
def fake() -> Iterator[FakeEDoreczenia]:
    provider = FakeEDoreczenia(CLIENT_ID, SECRET)
    provider.start(0)
    provider.set_time(T0)
    yield provider
    provider.stop()


@pytest.fixture
def edor(settings, fake: FakeEDoreczenia) -> Iterator[FakeEDoreczenia]:
    """Our settings pointing at the fake with its credentials; the cached client dropped around the test."""
    settings.GISPORTAL_EDORECZENIA_URL = fake.url
    settings.GISPORTAL_EDORECZENIA_CLIENT_ID = CLIENT_ID
    settings.GISPORTAL_EDORECZENIA_SECRET = SECRET
    settings.GISPORTAL_EDORECZENIA_TIMEOUT = 0.25
    adapters.use(None)
    yield fake
    adapters.use(None)


@pytest.fixture
def office() -> Office:
    o = Office.objects.get(code="um-piaseczno")
    o.ade_address = SENDER
    o.save(update_fields=["ade_address"])
    return o


def stored(office: Office, ade: str = RECIPIENT, kind: str = Kind.DECISION) -> Delivery:
    return delivery_create(
        office=office,
        source=f"issued:{uuid.uuid4()}",
        kind=kind,
        title="Decyzja o warunkach zabudowy",
        content=PDF,
        file_name="decyzja.pdf",
        channel=Channel.EDORECZENIA,
        addressee_name="Jan Kowalski",
        addressee_email="jan@example.pl",
        ade_address=ade,
        case_sign="GN.6730.1.2026",
        send=False,
    )


def in_polish(msgid: str) -> str:
    """What the clerk reads for msgid (the msgid itself while its translation is missing)."""
    with translation.override("pl"):
        return translation.gettext(msgid)


def kinds(d: Delivery) -> list[str]:
    """The delivery's events ("created" is stamped with the real clock, the others with `now`)."""
    return list(d.events.values_list("kind", flat=True))


def sends(fake: FakeEDoreczenia) -> int:
    with fake.lock:
        return fake.requests.count(SEND)


# ------------------------------------------------------------------ sent, opened, deemed
def test_sent_delivery_gets_the_provider_id_and_its_arrival(edor, office):
    d = delivery_send(stored(office).pk, now=T0)

    assert d.status == Status.AWAITING
    assert d.provider_id.startswith(SENDER + "/") and d.attempts == 1 and not d.last_error
    assert d.sent_at == T0 and d.arrived_at == T0  # the acceptance evidence's time (the fake's clock)
    assert sorted(kinds(d)) == ["created", "evidence_acceptance", "evidence_submission", "sent"]
    submission = d.events.get(kind="evidence_submission")
    assert "SubmissionAcceptance" in submission.data["xml"] and "dowód wysłania" in submission.data["xml"]

    [message] = edor.messages_list()
    meta = message["messageMetadata"]
    assert meta["messageId"] == d.provider_id.split("/", 1)[1]
    assert meta["from"] == [{"eDeliveryAddress": SENDER}] and meta["to"] == [{"eDeliveryAddress": RECIPIENT}]
    assert meta["subject"] == "Decyzja o warunkach zabudowy"
    assert message["attachments"] == [
        {"filename": "decyzja.pdf", "mimeType": "application/pdf", "size": len(PDF), "sha256": d.sha256}
    ]


def test_opened_by_the_addressee_is_delivered_at_the_receipt_time_with_a_sealed_proof(edor, office):
    d = delivery_send(stored(office).pk, now=T0)
    opened_at = at(5, 9, 15)
    edor.open(d.provider_id, at=opened_at)

    counts = deliveries_settle(now=at(5, 10))
    d.refresh_from_db()

    assert counts["evidences"] == 1 and counts["deemed"] == 0
    assert d.status == Status.DELIVERED and d.delivered_how == How.OPENED
    assert d.delivered_at == opened_at
    assert d.period_ends == date(2026, 3, 19)  # appeal: 14 days from Thu 5 March
    assert {"evidence_receipt", "delivered"} <= set(kinds(d))
    proof = bytes(d.proof_xml)
    assert sealing.sealed_by(proof, office, at=timezone.now()) is not None
    assert "odebrano" in proof.decode() and RECIPIENT in proof.decode()


def test_the_job_run_twice_changes_nothing_twice(edor, office):
    d = delivery_send(stored(office).pk, now=T0)
    edor.open(d.provider_id, at=at(4, 8))
    first = deliveries_settle(now=at(4, 9))
    d.refresh_from_db()
    events, proof = kinds(d), bytes(d.proof_xml)

    second = deliveries_settle(now=at(4, 9))
    d.refresh_from_db()

    assert first["evidences"] == 1
    assert second == {"evidences": 0, "deemed": 0, "reminders": 0, "retried": 0}
    assert kinds(d) == events and bytes(d.proof_xml) == proof
    assert len(edor.messages) == 1 and sends(edor) == 1


def test_never_opened_is_deemed_delivered_the_day_after_the_14_days(edor, office):
    d = delivery_send(stored(office).pk, now=T0)  # arrives Monday 2 March 2026

    deliveries_settle(now=at(16, 23, 59))
    d.refresh_from_db()
    assert d.status == Status.AWAITING  # the 14 days run 3-16 March

    counts = deliveries_settle(now=at(17, 0, 5))
    d.refresh_from_db()
    assert counts["deemed"] == 1
    assert d.status == Status.DELIVERED and d.delivered_how == How.DEEMED
    assert timezone.localtime(d.delivered_at) == at(17, 0, 0)  # Tuesday 17 March 2026
    assert timezone.localdate(d.delivered_at).isoweekday() == 2
    assert d.period_ends == date(2026, 3, 31)
    assert "uznano za doręczone" in bytes(d.proof_xml).decode()

    again = deliveries_settle(now=at(18))
    assert again["deemed"] == 0 and again["evidences"] == 0


def test_a_receipt_the_provider_issued_for_an_unopened_message_counts_from_our_rule(edor, office):
    d = delivery_send(stored(office).pk, now=T0)
    edor.deem(d.provider_id, at=at(17, 3))

    deliveries_settle(now=at(17, 4))
    d.refresh_from_db()

    assert d.delivered_how == How.DEEMED
    assert timezone.localtime(d.delivered_at) == at(17, 0, 0)
    assert d.events.get(kind="evidence_receipt").data["deemed"] is True


# ------------------------------------------------------------------ failures and retries
@pytest.mark.parametrize("failure", ["down", "error", "timeout"])
def test_provider_unavailable_the_delivery_waits_with_back_off_and_goes_out_once(edor, office, failure):
    earlier = delivery_send(stored(office).pk, now=T0)  # the client holds a token: the send itself fails
    if failure == "down":
        edor.stop()  # connection refused
    elif failure == "error":
        edor.fail_next(50, "error", status=500)
    else:
        edor.fail_next(50, "timeout", hang=0.5)  # longer than our 0.25 s timeout

    d = delivery_send(stored(office).pk, now=T0)
    assert d.status == Status.PREPARED and d.attempts == 1 and d.last_error
    assert d.next_attempt_at == T0 + RETRY_BASE
    assert d.events.get(kind="send_failed").data["retry"] is True

    assert deliveries_settle(now=T0 + timedelta(minutes=1))["retried"] == 0  # not due yet
    d.refresh_from_db()
    assert d.attempts == 1

    second = T0 + timedelta(minutes=2)
    deliveries_settle(now=second)
    d.refresh_from_db()
    assert d.status == Status.PREPARED and d.attempts == 2
    assert d.next_attempt_at == second + 2 * RETRY_BASE  # the wait doubles
    assert len(edor.messages) == 1  # the earlier one only

    if failure == "down":  # the provider is back, at the same address
        edor.start()
    else:
        edor.fail_next(0)
    deliveries_settle(now=second + 2 * RETRY_BASE)
    d.refresh_from_db()
    assert d.status == Status.AWAITING and d.attempts == 3
    assert d.provider_id not in ("", earlier.provider_id) and not d.last_error and d.next_attempt_at is None

    deliveries_settle(now=second + 3 * RETRY_BASE)
    assert len(edor.messages) == 2
    assert [m.id for m in edor.messages.values()].count(d.provider_id.split("/", 1)[1]) == 1


def test_an_answer_lost_after_the_provider_took_the_message_does_not_send_it_twice(edor, office):
    first = delivery_send(stored(office).pk, now=T0)  # the client holds a token now
    edor.fail_next(1, "slow", hang=0.5)  # the message is taken, the answer comes after our timeout

    d = delivery_send(stored(office).pk, now=T0)
    assert d.status == Status.PREPARED and d.attempts == 1
    assert len(edor.messages) == 2  # the provider has it nonetheless

    deliveries_settle(now=T0 + RETRY_BASE)
    d.refresh_from_db()
    assert d.status == Status.AWAITING and d.provider_id != first.provider_id
    assert len(edor.messages) == 2  # the repeated send was recognised by its idempotency key
    assert edor.find(d.provider_id).idempotency_key == str(d.pk)


@pytest.mark.parametrize("address", [UNKNOWN, "AE:PL-123", "ae:pl-12345-67890-abcde-1x"])
def test_a_bad_address_is_not_retried_and_the_clerk_sees_why(edor, office, address):
    d = delivery_send(stored(office, ade=address).pk, now=T0)

    assert d.status == Status.PREPARED and d.attempts == 1 and d.next_attempt_at is None
    assert address.upper()[:26] in d.last_error.upper()
    assert d.events.get(kind="send_failed").data["retry"] is False

    counts = deliveries_settle(now=T0 + timedelta(days=2))
    d.refresh_from_db()
    assert counts["retried"] == 0 and d.attempts == 1 and d.status == Status.PREPARED
    assert not edor.messages
    assert sends(edor) == (1 if address == UNKNOWN else 0)  # a malformed one never leaves


def test_a_wrong_secret_is_a_clear_error_and_the_delivery_goes_out_once_corrected(edor, office, settings):
    settings.GISPORTAL_EDORECZENIA_SECRET = "not-the-secret"
    adapters.use(None)

    d = delivery_send(stored(office).pk, now=T0)
    assert d.status == Status.PREPARED and d.next_attempt_at == T0 + RETRY_BASE
    assert d.last_error == in_polish(
        "e-Doręczenia refused the portal's credentials (client ID or secret); the administrator must correct them."
    )
    assert "not-the-secret" not in d.last_error
    assert sends(edor) == 0

    settings.GISPORTAL_EDORECZENIA_SECRET = SECRET
    adapters.use(None)
    deliveries_settle(now=T0 + RETRY_BASE)
    d.refresh_from_db()
    assert d.status == Status.AWAITING and len(edor.messages) == 1


def test_an_office_without_its_own_address_waits_for_one(edor, office):
    office.ade_address = ""
    office.save(update_fields=["ade_address"])

    d = delivery_send(stored(office).pk, now=T0)

    assert d.status == Status.PREPARED and d.next_attempt_at is not None
    assert d.last_error == in_polish("The office has no e-delivery address (ADE) to send from.")
    assert sends(edor) == 0


# ------------------------------------------------------------------ the adapter itself
def test_the_address_pattern_is_the_forms_one():
    from services.forms.validators import _ADE_RE

    assert ADE_RE.pattern == _ADE_RE.pattern


def test_the_client_is_built_from_the_settings_and_keeps_its_secret(edor):
    client = adapters.provider()
    assert isinstance(client, HttpProvider)
    assert client.base_url == edor.url and client.client_id == CLIENT_ID and client.timeout == 0.25
    assert SECRET not in repr(client)
    for bad in ("ftp://example.org", "https://user:pw@example.org", "http://", "https://example.org/?x=1"):
        with pytest.raises(ValueError):
            HttpProvider(bad, CLIENT_ID, SECRET)


@pytest.mark.parametrize(
    ("mode", "text"),
    [
        ("redirect", "redirect"),
        ("oversize", "too large"),
        ("error", "HTTP 503"),
        ("timeout", "in time"),
    ],
)
def test_unusable_answers_are_errors_worth_retrying(edor, mode, text):
    client = HttpProvider(edor.url, CLIENT_ID, SECRET, 0.25)
    message = adapters.Message(str(uuid.uuid4()), SENDER, RECIPIENT, "Pismo", "pismo.pdf", PDF)
    edor.fail_next(1, mode, status=503, hang=0.5)

    with translation.override("en"), pytest.raises(adapters.ProviderError) as caught:
        client.send(message)

    assert caught.value.retry is True and text in str(caught.value)
    assert not edor.messages
    assert client.send(message).message_id.startswith(SENDER + "/")  # the next try goes through


def test_a_refused_token_is_renewed_once(edor):
    client = HttpProvider(edor.url, CLIENT_ID, SECRET, 0.25)
    message = adapters.Message(str(uuid.uuid4()), SENDER, RECIPIENT, "Pismo", "pismo.pdf", PDF)
    sent = client.send(message)
    edor.revoke_tokens()  # e.g. the provider restarted

    found = client.evidences(sent.message_id)

    assert [e.kind for e in found] == ["submission", "acceptance"]
    assert all(e.xml.startswith(b"<?xml") for e in found)
    with pytest.raises(adapters.ProviderError) as caught:
        client.evidences("not-an-id")
    assert caught.value.retry is False


# ------------------------------------------------------------------ the fake's control API
def test_the_control_api_opens_messages_and_steers_failures(edor, office):
    d = delivery_send(stored(office).pk, now=T0)
    raw_id = d.provider_id.split("/", 1)[1]
    base = edor.url + "/_fake"

    listed = requests.get(base + "/messages", timeout=2).json()["messages"]
    assert [m["messageMetadata"]["messageId"] for m in listed] == [raw_id]

    r = requests.post(f"{base}/messages/{raw_id}/open", json={"at": "2026-03-03T08:30:00+01:00"}, timeout=2)
    assert r.status_code == 200 and r.json()["evidenceType"] == "ContentHandover"
    assert requests.post(f"{base}/messages/nope/open", json={}, timeout=2).status_code == 404
    assert requests.post(f"{base}/fail", json={"count": 1, "mode": "sideways"}, timeout=2).status_code == 400
    clock = requests.post(f"{base}/clock", json={"at": None}, timeout=2).json()["now"]
    assert abs(datetime.fromisoformat(clock) - timezone.now()) < timedelta(minutes=1)

    deliveries_settle(now=at(3, 9))
    d.refresh_from_db()
    assert d.delivered_at == at(3, 8, 30)

    page = requests.get(base + "/", timeout=2)
    assert page.headers["Content-Type"].startswith("text/html") and '<html lang="pl">' in page.text
    assert "dowód otrzymania" in page.text and "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert re.search(r"<caption>Wysłane wiadomości</caption>", page.text)
