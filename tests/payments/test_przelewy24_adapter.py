"""The Przelewy24 adapter (DOMAIN.md §10) against the local fake gateway, over real HTTP on loopback:
register → hosted page → pay → signed notification to our receiver → parse → verify; and every way a
gateway, a forger or a misconfiguration can make it fail. No database."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from services.payments.adapters import InvalidNotification, Provider, ProviderError, StartRequest
from services.payments.adapters.fake_przelewy24 import (
    DEFAULT_API_KEY,
    DEFAULT_CRC,
    DEFAULT_ID,
    FakePrzelewy24,
)
from services.payments.adapters.przelewy24 import MAX_NOTIFICATION_BYTES, P24_TZ, Przelewy24, sign

Reply = tuple[int, dict[str, str], bytes]


# ------------------------------------------------------------------------------------- helpers
class _LocalServer:
    """A tiny loopback HTTP server: records POST bodies and answers with `reply(method, path)`."""

    def __init__(self, reply: Callable[[str, str], Reply] | None = None):
        self.bodies: list[bytes] = []
        self.paths: list[str] = []
        self.arrived = threading.Event()
        self.reply = reply or (lambda method, path: (200, {}, b"OK"))
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.paths.append(self.path)
                if method == "POST":
                    outer.bodies.append(body)
                    outer.arrived.set()
                status, headers, data = outer.reply(method, self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[FakePrzelewy24]:
    with FakePrzelewy24() as gateway:
        yield gateway


@pytest.fixture
def receiver() -> Iterator[_LocalServer]:
    server = _LocalServer()
    yield server
    server.close()


@pytest.fixture
def p24(fake: FakePrzelewy24) -> Przelewy24:
    return Przelewy24(fake.url, DEFAULT_ID, DEFAULT_ID, DEFAULT_API_KEY, DEFAULT_CRC, timeout=5)


def start_request(receiver: _LocalServer, session_id: str = "gp-att-1", amount: int = 12_340) -> StartRequest:
    return StartRequest(
        session_id=session_id,
        amount=amount,
        currency="PLN",
        description="DOO 17/2026, GN.6640.12.2026 – wypis/wyrys",
        email="jan.kowalski@example.pl",
        return_url="http://127.0.0.1:8000/platnosci/17/powrot/",
        notify_url=f"{receiver.url}/api/payments/notify/przelewy24",
        payer_name="Jan Kowalski",
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


def browser_post(url: str, form: dict[str, str]) -> tuple[int, str]:
    """Submit the hosted page's form like a browser, without following the 303."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    data = urllib.parse.urlencode(form).encode()
    try:
        request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 -- loopback http
        with opener.open(request, timeout=10) as r:
            return r.status, r.headers.get("Location", "")
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers.get("Location", "")


def edited(body: bytes, **changes: Any) -> bytes:
    data = json.loads(body)
    for key, value in changes.items():
        if value is ...:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data, ensure_ascii=False).encode()


# ------------------------------------------------------------------------------------- sign
def test_sign_known_answer_keeps_unicode_and_slash_unescaped():
    fields = {
        "sessionId": "DOO/17/2026-żółć",
        "merchantId": 100001,
        "amount": 1230,
        "currency": "PLN",
        "crc": "k",
    }
    literal = '{"sessionId":"DOO/17/2026-żółć","merchantId":100001,"amount":1230,"currency":"PLN","crc":"k"}'
    assert sign(fields) == hashlib.sha384(literal.encode("utf-8")).hexdigest()
    # the gateway's own documented example
    example = {
        "sessionId": "sessionId",
        "merchantId": 999999,
        "amount": 1000,
        "currency": "PLN",
        "crc": "crc",
    }
    doc = '{"sessionId":"sessionId","merchantId":999999,"amount":1000,"currency":"PLN","crc":"crc"}'
    assert sign(example) == hashlib.sha384(doc.encode()).hexdigest()
    # the order is part of the sign, and escaped forms are a different text
    assert sign(dict(reversed(list(fields.items())))) != sign(fields)
    escaped = literal.replace("/", "\\/")
    assert sign(fields) != hashlib.sha384(escaped.encode()).hexdigest()


@pytest.mark.parametrize("value", [True, 1.5, None, ["x"]])
def test_sign_refuses_values_php_would_encode_differently(value):
    with pytest.raises(TypeError):
        sign({"amount": value, "crc": "k"})


# ------------------------------------------------------------------------------------- the happy path
@pytest.mark.parametrize("notify", ["before", "after"])
def test_register_pay_notify_verify(fake, p24, receiver, notify):
    fake.notify = notify
    provider: Provider = p24  # the type checker holds it to the interface
    assert provider.name == "przelewy24"
    started = provider.start(start_request(receiver))
    token = started.provider_ref
    assert started.redirect_url == f"{fake.url}/trnRequest/{token}"

    with urllib.request.urlopen(started.redirect_url, timeout=10) as page:  # noqa: S310 -- loopback
        assert page.status == 200
        text = page.read().decode()
    assert '<html lang="pl">' in text and '<form method="post"' in text
    assert ">Zapłać</button>" in text and ">Odrzuć płatność</button>" in text and "<label for=" in text
    assert "123,40 zł" in text

    status, location = browser_post(started.redirect_url, {"action": "pay", "method": "154"})
    assert (status, location) == (303, "http://127.0.0.1:8000/platnosci/17/powrot/")
    assert receiver.arrived.wait(10)
    assert receiver.paths == ["/api/payments/notify/przelewy24"]

    n = p24.parse_notification(receiver.bodies[0], {"Content-Type": "application/json"})
    assert (n.session_id, n.amount, n.currency, n.outcome) == ("gp-att-1", 12_340, "PLN", "paid")
    assert n.event_id == f"p24:{n.order_id}" and int(n.order_id) > 0
    assert n.raw["methodId"] == 154

    before = p24.status("gp-att-1")
    assert before is not None and before.status == "advance"  # paid by the payer, not yet verified
    assert not fake.verified("gp-att-1")
    p24.confirm(n)
    assert fake.verified("gp-att-1")
    after = p24.status("gp-att-1")
    assert after is not None
    assert (after.status, after.amount, after.order_id) == ("paid", 12_340, n.order_id)
    assert after.paid_at is not None and after.paid_at.tzinfo is not None
    p24.confirm(n)  # verifying twice (a repeated notification) is harmless


def test_rejected_payment_sends_nothing(fake, p24, receiver):
    started = p24.start(start_request(receiver))
    assert browser_post(started.redirect_url, {"action": "reject"}) == (
        303,
        start_request(receiver).return_url,
    )
    assert not receiver.arrived.wait(0.3)
    assert p24.status("gp-att-1").status == "pending"


def test_repeated_notification_has_one_event_id(fake, p24, receiver):
    p24.start(start_request(receiver))
    fake.pay("gp-att-1", times=2)
    assert len(receiver.bodies) == 2
    events = {p24.parse_notification(b, {}).event_id for b in receiver.bodies}
    assert len(events) == 1


def test_register_twice_returns_the_same_token(p24, receiver):
    assert p24.start(start_request(receiver)) == p24.start(start_request(receiver))


# ------------------------------------------------------------------------------------- refused registrations
def test_wrong_crc_on_our_side_is_refused(fake, receiver):
    ours = Przelewy24(fake.url, DEFAULT_ID, DEFAULT_ID, DEFAULT_API_KEY, "another-crc", timeout=5)
    with pytest.raises(ProviderError) as err:
        ours.start(start_request(receiver))
    assert not err.value.retryable
    assert fake.transactions == {}


def test_wrong_crc_at_the_gateway_is_refused(p24, receiver):
    with FakePrzelewy24(crc="the-gateways-other-crc") as other:
        client = Przelewy24(other.url, DEFAULT_ID, DEFAULT_ID, DEFAULT_API_KEY, DEFAULT_CRC, timeout=5)
        with pytest.raises(ProviderError):
            client.start(start_request(receiver))
        assert other.transactions == {}


def test_wrong_api_key_is_refused_and_never_logged(fake, receiver, caplog):
    client = Przelewy24(fake.url, DEFAULT_ID, DEFAULT_ID, "wrong-secret-key", "secret-crc-value", timeout=5)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ProviderError) as err:
        client.start(start_request(receiver))
    for secret in ("wrong-secret-key", "secret-crc-value"):
        assert secret not in caplog.text and secret not in str(err.value) and secret not in repr(client)


def test_invalid_request_fails_before_the_network(fake, p24, receiver):
    for bad in (
        replace(start_request(receiver), amount=0),
        replace(start_request(receiver), currency="zł"),
        replace(start_request(receiver), notify_url="ftp://127.0.0.1/x"),
        replace(start_request(receiver), session_id="x" * 101),
    ):
        with pytest.raises(ProviderError):
            p24.start(bad)
    assert fake.requests == []


# ------------------------------------------------------------------------------------- notifications
@pytest.fixture
def paid(fake, p24, receiver) -> bytes:
    p24.start(start_request(receiver))
    return fake.pay("gp-att-1", notify=False)


def test_genuine_notification_is_accepted(p24, paid):
    assert p24.parse_notification(paid, {}).amount == 12_340


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda body, fake: edited(body, amount=1), id="amount-changed-sign-kept"),
        pytest.param(lambda body, fake: edited(body, originAmount=1), id="origin-amount-changed"),
        pytest.param(lambda body, fake: edited(body, sessionId="gp-att-2"), id="session-changed"),
        pytest.param(
            lambda body, fake: fake.notification_body("gp-att-1", crc="other"), id="sign-of-another-crc"
        ),
        pytest.param(
            lambda body, fake: fake.notification_body("gp-att-1", tamper_sign=True), id="sign-flipped"
        ),
        pytest.param(lambda body, fake: edited(body, sign=...), id="missing-sign"),
        pytest.param(lambda body, fake: edited(body, orderId=...), id="missing-order"),
        pytest.param(lambda body, fake: edited(body, amount="12340"), id="amount-as-string"),
        pytest.param(lambda body, fake: edited(body, amount=True), id="amount-as-bool"),
        pytest.param(lambda body, fake: edited(body, sign=12), id="sign-as-number"),
        pytest.param(lambda body, fake: edited(body, sign="ż" * 96), id="sign-not-hex"),
        pytest.param(lambda body, fake: b"merchantId=100001&amount=12340", id="not-json"),
        pytest.param(lambda body, fake: b"[" + body + b"]", id="json-list"),
        pytest.param(lambda body, fake: b"\xff\xfe" + body, id="not-utf8"),
        pytest.param(lambda body, fake: b"", id="empty"),
        pytest.param(lambda body, fake: b'{"amount":1,' + body[1:], id="duplicate-key-signed-one-last"),
        pytest.param(
            lambda body, fake: edited(body, padding="x" * MAX_NOTIFICATION_BYTES), id="huge-body-valid-sign"
        ),
    ],
)
def test_tampered_notification_is_refused(p24, fake, paid, tamper):
    with pytest.raises(InvalidNotification):
        p24.parse_notification(tamper(paid, fake), {})


def test_notification_for_another_merchant_is_refused(p24, receiver):
    # properly signed with our CRC, but by (or for) another merchant account
    with FakePrzelewy24(merchant_id=DEFAULT_ID + 1, pos_id=DEFAULT_ID + 1) as other:
        client = Przelewy24(
            other.url, DEFAULT_ID + 1, DEFAULT_ID + 1, DEFAULT_API_KEY, DEFAULT_CRC, timeout=5
        )
        client.start(start_request(receiver))
        body = other.pay("gp-att-1", notify=False)
        assert client.parse_notification(body, {}).amount == 12_340
    with pytest.raises(InvalidNotification):
        p24.parse_notification(body, {})


def test_extra_fields_are_tolerated(p24, paid):
    assert p24.parse_notification(edited(paid, newField="x"), {}).amount == 12_340


# ------------------------------------------------------------------------------------- verify
def test_failing_verify_raises(fake, p24, paid):
    fake.fail_verify = True
    with pytest.raises(ProviderError) as err:
        p24.confirm(p24.parse_notification(paid, {}))
    assert not err.value.retryable
    assert not fake.verified("gp-att-1")


def test_verify_with_another_amount_is_refused(fake, p24, paid):
    n = p24.parse_notification(paid, {})
    with pytest.raises(ProviderError):
        p24.confirm(replace(n, amount=n.amount - 1))
    assert not fake.verified("gp-att-1")


def test_verify_with_another_crc_is_refused(fake, paid):
    n = Przelewy24(fake.url, DEFAULT_ID, DEFAULT_ID, DEFAULT_API_KEY, DEFAULT_CRC).parse_notification(
        paid, {}
    )
    with pytest.raises(ProviderError):
        Przelewy24(fake.url, DEFAULT_ID, DEFAULT_ID, DEFAULT_API_KEY, "other-crc").confirm(n)
    assert not fake.verified("gp-att-1")


def test_outage_is_retryable(fake, p24, paid):
    fake.outage = 503
    with pytest.raises(ProviderError) as err:
        p24.confirm(p24.parse_notification(paid, {}))
    assert err.value.retryable


def test_unreachable_gateway_is_retryable(receiver):
    server = _LocalServer()
    url = server.url
    server.close()
    with pytest.raises(ProviderError) as err:
        Przelewy24(url, DEFAULT_ID, DEFAULT_ID, DEFAULT_API_KEY, DEFAULT_CRC, timeout=2).status("x")
    assert err.value.retryable


# ------------------------------------------------------------------------------------- status, refund, report
def test_status_of_unknown_session_is_none(p24):
    assert p24.status("gp-never-registered") is None
    assert p24.status("../../etc/passwd?x=1#") is None  # quoted into one path segment


def test_refund_is_recorded_once(fake, p24, paid):
    n = p24.parse_notification(paid, {})
    p24.confirm(n)
    ref = p24.refund(
        session_id=n.session_id, order_id=n.order_id, amount=1000, description="Zwrot", request_id="r-1"
    )
    assert ref == "r-1"
    assert len(fake.refunds) == 1
    assert fake.refunds[0]["amount"] == 1000 and fake.refunds[0]["orderId"] == int(n.order_id)
    assert len(fake.refunds[0]["refundsUuid"]) <= 35
    # a retry after a lost answer: the gateway says it already exists, nothing is refunded twice
    again = p24.refund(
        session_id=n.session_id, order_id=n.order_id, amount=1000, description="Zwrot", request_id="r-1"
    )
    assert again == "r-1" and len(fake.refunds) == 1
    with pytest.raises(ProviderError):  # more than what is left
        p24.refund(
            session_id=n.session_id, order_id=n.order_id, amount=20_000, description="", request_id="r-2"
        )
    p24.refund(session_id=n.session_id, order_id=n.order_id, amount=11_340, description="", request_id="r-3")
    assert p24.status(n.session_id).status == "refunded"


def test_refund_of_unverified_payment_is_refused(fake, p24, paid):
    n = p24.parse_notification(paid, {})
    with pytest.raises(ProviderError):
        p24.refund(session_id=n.session_id, order_id=n.order_id, amount=100, description="", request_id="r-1")
    assert fake.refunds == []


@pytest.mark.parametrize("page_size", [100, 1])
def test_report_of_a_day(fake, p24, receiver, page_size):
    fake.report_page_size = page_size
    for i in (1, 2, 3):
        p24.start(start_request(receiver, session_id=f"gp-att-{i}", amount=1000 * i))
    p24.confirm(p24.parse_notification(fake.pay("gp-att-2", notify=False), {}))
    fake.pay("gp-att-3", notify=False)
    today = datetime.now(P24_TZ).date()
    rows = {r.session_id: r for r in p24.report(today)}
    assert {k: (v.status, v.amount) for k, v in rows.items()} == {
        "gp-att-1": ("pending", 1000),
        "gp-att-2": ("paid", 2000),
        "gp-att-3": ("advance", 3000),
    }
    assert rows["gp-att-2"].order_id and rows["gp-att-2"].paid_at is not None
    assert p24.report(date(2001, 1, 1)) == []


# ------------------------------------------------------------------------------------- a misbehaving server
@pytest.mark.parametrize(
    "reply",
    [
        pytest.param((302, {"Location": "/steal"}, b""), id="redirect-not-followed"),
        pytest.param((200, {"Content-Type": "application/json"}, b"<html>not json</html>"), id="html"),
        pytest.param((200, {}, b'{"data": {"token": "../../evil"}}'), id="unsafe-token"),
        pytest.param((200, {}, b'{"data": {}}'), id="no-token"),
        pytest.param((200, {}, b'{"x": "' + b"y" * (1024 * 1024 + 10) + b'"}'), id="oversized"),
    ],
)
def test_misbehaving_gateway_never_passes(receiver, reply):
    server = _LocalServer(lambda method, path: reply)
    try:
        client = Przelewy24(server.url, DEFAULT_ID, DEFAULT_ID, DEFAULT_API_KEY, DEFAULT_CRC, timeout=5)
        with pytest.raises(ProviderError):
            client.start(start_request(receiver))
        assert all(not p.startswith("/steal") for p in server.paths)
    finally:
        server.close()


def test_verify_answer_without_success_is_an_error(paid, fake, p24):
    n = p24.parse_notification(paid, {})
    server = _LocalServer(
        lambda method, path: (200, {}, b'{"data": {"status": "pending"}, "responseCode": 0}')
    )
    try:
        client = Przelewy24(server.url, DEFAULT_ID, DEFAULT_ID, DEFAULT_API_KEY, DEFAULT_CRC, timeout=5)
        with pytest.raises(ProviderError):
            client.confirm(n)
    finally:
        server.close()


def test_errors_speak_polish_to_the_clerk(fake, receiver):
    from django.utils import translation

    client = Przelewy24(fake.url, DEFAULT_ID, DEFAULT_ID, "wrong-key", DEFAULT_CRC, timeout=5)
    with translation.override("pl"), pytest.raises(ProviderError) as err:
        client.start(start_request(receiver))
    assert str(err.value) == "Przelewy24 odrzucił nasze dane dostępowe."
