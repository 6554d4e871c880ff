"""A local fake Przelewy24 speaking the REST v1 protocol of `.przelewy24`, for tests and `make demo`.

It keeps transactions in memory, checks Basic auth and every sign as the gateway does, serves a small
hosted payment page (`/trnRequest/{token}`) whose "Zapłać" button pays and sends the signed
notification to `urlStatus`, and answers verify, by/sessionId, refund and report/history.

    python -m services.payments.adapters.fake_przelewy24 --port 8098 \
        [--merchant-id N --pos-id N --api-key K --crc C --notify after]

Tests drive it without a browser: `pay(session_id, ...)` pays and notifies, `notification_body(...)`
gives the exact signed bytes it would send, `fail_verify` / `outage` make it refuse. Nothing here is
secret: the defaults are the demo's keys.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import html
import json
import logging
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .przelewy24 import (
    NOTIFICATION_SIGN_FIELDS,
    P24_TZ,
    REGISTER_SIGN_FIELDS,
    VERIFY_SIGN_FIELDS,
    parse_json_object,
    sign_fields,
    signs_equal,
)

logger = logging.getLogger(__name__)

DEFAULT_ID = 100001
DEFAULT_API_KEY = "fake-p24-api-key"  # the demo's published key, not a secret
DEFAULT_CRC = "fake-p24-crc"
MAX_BODY = 1024 * 1024
MAX_FORM = 16 * 1024
NOTIFY_TIMEOUT = 5.0
METHODS = {25: "Przelew bankowy (atrapa)", 154: "BLIK (atrapa)"}  # methodId → label on the page
P24_TIME = "%Y-%m-%d %H:%M:%S"

Answer = tuple[int, Any]  # (HTTP status, JSON-able body)


@dataclass
class FakeTransaction:
    """One registered transaction; `status` uses the gateway's codes (0 none, 1 advance, 2 paid, 3 returned)."""

    session_id: str
    token: str
    order_id: int
    amount: int
    currency: str
    description: str
    email: str
    url_return: str
    url_status: str
    client: str = ""
    status: int = 0
    paid_amount: int | None = None
    method_id: int = 0
    verified: bool = False
    rejected: bool = False
    refunded: int = 0
    created: datetime = field(default_factory=lambda: datetime.now(P24_TZ))
    paid_at: datetime | None = None
    verified_at: datetime | None = None

    @property
    def statement(self) -> str:
        return f"p24-{self.order_id:09d}"


def _error(status: int, message: str) -> Answer:
    return status, {"error": message, "code": status}


def _typed(data: dict[str, Any], name: str, kind: type, *, optional: bool = False) -> Any:
    value = data.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(name)
    return value


def _http_url(value: str) -> bool:
    """An absolute http(s) URL without control characters (it ends up in a Location header)."""
    parts = urllib.parse.urlsplit(value)
    return (
        parts.scheme in ("http", "https") and bool(parts.netloc) and value.isprintable() and len(value) <= 250
    )


def _p24_time(moment: datetime | None) -> str:
    return moment.astimezone(P24_TZ).strftime(P24_TIME) if moment else ""


def _zloty(grosze: int, currency: str) -> str:
    unit = "zł" if currency == "PLN" else currency
    return f"{grosze // 100},{grosze % 100:02d} {unit}"


class FakePrzelewy24:
    """The fake gateway. State (`transactions` by sessionId, `refunds`, `notifications`, `requests`)
    is public for tests; change it only under `lock` while the server runs."""

    def __init__(
        self,
        merchant_id: int = DEFAULT_ID,
        pos_id: int = DEFAULT_ID,
        api_key: str = DEFAULT_API_KEY,
        crc: str = DEFAULT_CRC,
        *,
        host: str = "127.0.0.1",
        notify: str = "before",
        report_page_size: int = 100,
        verbose: bool = False,
    ):
        if notify not in ("before", "after"):
            raise ValueError('notify must be "before" or "after" (the redirect to urlReturn)')
        self.merchant_id = merchant_id
        self.pos_id = pos_id
        self.api_key = api_key
        self.crc = crc
        self.host = host
        self.notify = notify  # send the hosted page's notification before or after answering the browser
        self.report_page_size = report_page_size
        self.verbose = verbose
        self.fail_verify = False  # verify answers 400
        self.outage: int | None = None  # every API call answers this status (e.g. 503)
        self.transactions: dict[str, FakeTransaction] = {}
        self.refunds: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []  # {"url", "body", "status" | "error"}
        self.requests: list[tuple[str, str]] = []  # (method, path)
        self.lock = threading.RLock()
        self._next_order = 300_000_001
        self._report_pages: dict[str, tuple[list[list[FakeTransaction]], int, int]] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())

    # ---- lifecycle
    def start(self, port: int = 0) -> str:
        """Serve in a daemon thread; returns the base URL (http://127.0.0.1:PORT)."""
        if self._server is not None:
            raise RuntimeError("the fake Przelewy24 is already running")
        server = _Server((self.host, port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="fake-p24", daemon=True
        )
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Przelewy24 is not running")
        host, port = self._server.server_address[:2]
        return f"http://{f'[{host}]' if ':' in str(host) else host}:{port}"

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakePrzelewy24:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- controls for tests
    def pay(
        self,
        session_id: str,
        *,
        notify: bool = True,
        times: int = 1,
        amount: int | None = None,
        tamper_sign: bool = False,
        method_id: int = 25,
    ) -> bytes:
        """Pay the transaction as the payer would and (unless `notify` is False) POST the notification
        `times` times to its urlStatus; `amount` overrides the amount paid and reported (a mismatch).
        Returns the notification body."""
        with self.lock:
            txn = self.transactions[session_id]
            self._mark_paid(txn, amount, method_id)
        body = self.notification_body(session_id, amount=amount, tamper_sign=tamper_sign)
        if notify:
            for _ in range(times):
                self.send_notification(txn.url_status, body)
        return body

    def notification_body(
        self, session_id: str, *, amount: int | None = None, tamper_sign: bool = False, crc: str | None = None
    ) -> bytes:
        """The exact signed JSON the gateway sends for this transaction (`crc` signs with another key)."""
        with self.lock:
            txn = self.transactions[session_id]
            fields: dict[str, Any] = {
                "merchantId": self.merchant_id,
                "posId": self.pos_id,
                "sessionId": txn.session_id,
                "amount": amount if amount is not None else (txn.paid_amount or txn.amount),
                "originAmount": txn.amount,
                "currency": txn.currency,
                "orderId": txn.order_id,
                "methodId": txn.method_id or 25,
                "statement": txn.statement,
            }
        signature = sign_fields(NOTIFICATION_SIGN_FIELDS, fields, self.crc if crc is None else crc)
        if tamper_sign:
            signature = signature[:-1] + ("0" if signature[-1] != "0" else "1")
        fields["sign"] = signature
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def send_notification(self, url: str, body: bytes) -> int | None:
        """POST `body` to `url` as the gateway does; records and returns the HTTP status (None: failed)."""
        record: dict[str, Any] = {"url": url, "body": body}
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            record["error"] = "not an http(s) URL"
        else:
            request = urllib.request.Request(  # noqa: S310 -- scheme checked above
                url, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with self._opener.open(request, timeout=NOTIFY_TIMEOUT) as response:
                    response.read(MAX_BODY)
                    record["status"] = response.status
            except urllib.error.HTTPError as e:
                e.close()
                record["status"] = e.code
            except OSError as e:
                record["error"] = repr(e)
        with self.lock:
            self.notifications.append(record)
        if "error" in record:
            logger.warning("fake Przelewy24: notification to %s failed: %s", url, record["error"])
        return record.get("status")

    def verified(self, session_id: str) -> bool:
        with self.lock:
            txn = self.transactions.get(session_id)
            return bool(txn and txn.verified)

    # ---- state changes
    def _mark_paid(self, txn: FakeTransaction, amount: int | None, method_id: int) -> None:
        if txn.status == 0:
            txn.status = 1
            txn.paid_at = datetime.now(P24_TZ)
        txn.paid_amount = amount if amount is not None else txn.amount
        txn.method_id = method_id

    # ---- the REST API (pure: parsed request in, status and JSON out)
    def api(self, method: str, path: str, query: str, auth: str, body: bytes) -> Answer:
        if self.outage:
            return _error(self.outage, "Service unavailable")
        if not self._authorized(auth):
            return _error(401, "Incorrect authentication")
        try:
            if method == "POST" and path == "/api/v1/transaction/register":
                return self._register(parse_json_object(body, MAX_BODY))
            if method == "PUT" and path == "/api/v1/transaction/verify":
                return self._verify(parse_json_object(body, MAX_BODY))
            if method == "POST" and path == "/api/v1/transaction/refund":
                return self._refund(parse_json_object(body, MAX_BODY))
            if method == "GET" and path.startswith("/api/v1/transaction/by/sessionId/"):
                return self._by_session(urllib.parse.unquote(path.rsplit("/", 1)[1]))
            if method == "GET" and path == "/api/v1/report/history":
                return self._history(urllib.parse.parse_qs(query, max_num_fields=10))
            if method == "GET" and path.startswith("/api/v1/report/history/"):
                return self._history_page(path.rsplit("/", 1)[1])
        except (ValueError, UnicodeDecodeError) as e:
            return _error(400, f"Invalid input data: {e}"[:200])
        return _error(404, "Not Found")

    def _authorized(self, header: str) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.pos_id}:{self.api_key}".encode()).decode("ascii")
        return hmac.compare_digest(header.encode("utf-8", "replace"), expected.encode("ascii"))

    def _ours(self, data: dict[str, Any]) -> bool:
        return data.get("merchantId") == self.merchant_id and data.get("posId") == self.pos_id

    def _register(self, data: dict[str, Any]) -> Answer:
        values = {
            "merchantId": _typed(data, "merchantId", int),
            "posId": _typed(data, "posId", int),
            "sessionId": _typed(data, "sessionId", str),
            "amount": _typed(data, "amount", int),
            "currency": _typed(data, "currency", str),
        }
        for name in ("description", "email", "country", "language", "urlReturn", "sign"):
            _typed(data, name, str)
        url_status = _typed(data, "urlStatus", str, optional=True) or ""
        if not self._ours(data):
            return _error(400, "Invalid input data: merchantId/posId")
        if not _http_url(data["urlReturn"]) or (url_status and not _http_url(url_status)):
            return _error(400, "Invalid input data: urlReturn/urlStatus")
        if not signs_equal(sign_fields(REGISTER_SIGN_FIELDS, values, self.crc), data["sign"]):
            return _error(400, "Invalid input data: sign")
        if not 0 < len(values["sessionId"]) <= 100 or values["amount"] <= 0 or len(values["currency"]) != 3:
            return _error(400, "Invalid input data: sessionId/amount/currency")
        with self.lock:
            known = self.transactions.get(values["sessionId"])
            if known is not None:
                if known.amount != values["amount"] or known.status:
                    return _error(400, "Invalid input data: sessionId already used")
                return 200, {"data": {"token": known.token}, "responseCode": 0}
            txn = FakeTransaction(
                session_id=values["sessionId"],
                token=str(uuid.uuid4()).upper(),
                order_id=self._next_order,
                amount=values["amount"],
                currency=values["currency"],
                description=data["description"],
                email=data["email"],
                url_return=data["urlReturn"],
                url_status=url_status,
                client=data["client"] if isinstance(data.get("client"), str) else "",
            )
            self._next_order += 1
            self.transactions[txn.session_id] = txn
        return 200, {"data": {"token": txn.token}, "responseCode": 0}

    def _verify(self, data: dict[str, Any]) -> Answer:
        values = {
            "sessionId": _typed(data, "sessionId", str),
            "orderId": _typed(data, "orderId", int),
            "amount": _typed(data, "amount", int),
            "currency": _typed(data, "currency", str),
        }
        _typed(data, "sign", str)
        if not self._ours(data):
            return _error(400, "Invalid input data: merchantId/posId")
        if not signs_equal(sign_fields(VERIFY_SIGN_FIELDS, values, self.crc), data["sign"]):
            return _error(400, "Invalid input data: sign")
        if self.fail_verify:
            return _error(400, "Invalid input data")
        with self.lock:
            txn = self.transactions.get(values["sessionId"])
            if txn is None or txn.order_id != values["orderId"] or txn.status == 0:
                return _error(400, "Invalid input data: no such payment")
            if values["amount"] != txn.paid_amount or values["currency"] != txn.currency:
                return _error(400, "Invalid input data: amount")
            if not txn.verified:
                txn.verified, txn.verified_at = True, datetime.now(P24_TZ)
                txn.status = max(txn.status, 2)
        return 200, {"data": {"status": "success"}, "responseCode": 0}

    def _by_session(self, session_id: str) -> Answer:
        with self.lock:
            txn = self.transactions.get(session_id)
            if txn is None:
                return 404, {"error": "Transaction not found", "responseCode": 0}
            data = {
                "statement": txn.statement,
                "orderId": txn.order_id,
                "sessionId": txn.session_id,
                "status": txn.status,
                "amount": txn.paid_amount if txn.paid_amount is not None else txn.amount,
                "currency": txn.currency,
                "date": _p24_time(txn.created),
                "dateOfTransaction": _p24_time(txn.paid_at),
                "clientEmail": txn.email,
                "accountMD5": "",
                "paymentMethod": txn.method_id,
                "description": txn.description,
                "clientName": txn.client,
                "clientAddress": "",
                "clientCity": "",
                "clientPostcode": "",
                "batchId": 0,
                "fee": "0",
            }
        return 200, {"data": data, "responseCode": 0}

    def _refund(self, data: dict[str, Any]) -> Answer:
        request_id = _typed(data, "requestId", str)
        refunds_uuid = _typed(data, "refundsUuid", str)
        items = _typed(data, "refunds", list)
        url_status = _typed(data, "urlStatus", str, optional=True) or ""
        if not 0 < len(request_id) <= 45 or not 0 < len(refunds_uuid) <= 35 or not items:
            return _error(400, "Invalid input parameters")
        wanted = []
        for item in items:
            if not isinstance(item, dict):
                raise ValueError("refunds")
            wanted.append(
                {
                    "orderId": _typed(item, "orderId", int),
                    "sessionId": _typed(item, "sessionId", str),
                    "amount": _typed(item, "amount", int),
                    "description": _typed(item, "description", str, optional=True) or "",
                }
            )
        with self.lock:
            if any(r["requestId"] == request_id for r in self.refunds):
                return _error(400, "Request already exists")
            results = [self._refund_check(w) for w in wanted]
            if not all(r["status"] for r in results):
                return 409, {"error": results, "code": 409}
            for w in wanted:
                txn = self.transactions[w["sessionId"]]
                txn.refunded += w["amount"]
                if txn.refunded >= (txn.paid_amount or 0):
                    txn.status = 3
                self.refunds.append(
                    {"requestId": request_id, "refundsUuid": refunds_uuid, "urlStatus": url_status, **w}
                )
        return 201, {"data": results, "responseCode": 0}

    def _refund_check(self, wanted: dict[str, Any]) -> dict[str, Any]:
        txn = self.transactions.get(wanted["sessionId"])
        if txn is None or txn.order_id != wanted["orderId"] or not txn.verified:
            message = "Transaction not found or not verified"
        elif not 0 < wanted["amount"] <= (txn.paid_amount or 0) - txn.refunded:
            message = "Refund amount exceeds the amount available"
        else:
            message = "success"
        return {**wanted, "status": message == "success", "message": message}

    def _history(self, params: dict[str, list[str]]) -> Answer:
        try:
            first = datetime.strptime(params.get("dateFrom", [""])[0], "%Y%m%d").date()
            last = datetime.strptime(params.get("dateTo", [""])[0], "%Y%m%d").date()
        except ValueError:
            return 400, {"error": "Invalid data provided", "code": 400, "validation": [{"date": "YYYYMMDD"}]}
        kind = params.get("type", [""])[0]
        if (
            last < first
            or last - first > timedelta(days=31)
            or kind not in ("", "transaction", "batch", "refund")
        ):
            return 400, {"error": "Invalid data provided", "code": 400, "validation": [{"type": kind}]}
        with self.lock:
            chosen = [] if kind in ("batch", "refund") else self._created_between(first, last)
            size = max(1, self.report_page_size)
            pages = [chosen[i : i + size] for i in range(0, len(chosen), size)] or [[]]
            return 200, self._history_answer(pages, 0, len(chosen))

    def _history_page(self, token: str) -> Answer:
        with self.lock:
            entry = self._report_pages.pop(token, None)
            if entry is None:
                return 400, {
                    "error": "Invalid data provided",
                    "code": 400,
                    "validation": [{"token": token[:50]}],
                }
            pages, index, total = entry
            return 200, self._history_answer(pages, index, total)

    def _created_between(self, first: date, last: date) -> list[FakeTransaction]:
        chosen = [
            t for t in self.transactions.values() if first <= t.created.astimezone(P24_TZ).date() <= last
        ]
        return sorted(chosen, key=lambda t: t.order_id)

    def _history_answer(self, pages: list[list[FakeTransaction]], index: int, total: int) -> dict[str, Any]:
        token = ""
        if index + 1 < len(pages):
            token = uuid.uuid4().hex
            self._report_pages[token] = (pages, index + 1, total)
        by_currency: dict[str, list[FakeTransaction]] = {}
        for txn in pages[index]:
            by_currency.setdefault(txn.currency, []).append(txn)
        data = [
            {
                "type": "transaction",
                "amount": sum(t.paid_amount or t.amount for t in txns),
                "currency": currency,
                "details": [self._history_detail(t) for t in txns],
            }
            for currency, txns in by_currency.items()
        ]
        return {
            "data": data,
            "token": token,
            "responseCode": 0,
            "pageInformation": {
                "recordsOnPage": len(pages[index]),
                "recordsAll": total,
                "pageCount": len(pages),
            },
        }

    @staticmethod
    def _history_detail(txn: FakeTransaction) -> dict[str, Any]:
        # the field names of the published TransactionObject schema, "ordrId" included
        return {
            "settledAmount": txn.paid_amount if txn.paid_amount is not None else txn.amount,
            "fee": 0,
            "ordrId": txn.order_id,
            "sessionId": txn.session_id,
            "status": txn.status,
            "date": _p24_time(txn.created),
            "dateOfTransaction": _p24_time(txn.paid_at),
            "dateOfVerification": _p24_time(txn.verified_at),
            "clientEmail": txn.email,
            "paymentMethod": txn.method_id,
            "description": txn.description,
            "statement": txn.statement,
        }

    # ---- the hosted payment page
    def find_by_token(self, token: str) -> FakeTransaction | None:
        with self.lock:
            return next((t for t in self.transactions.values() if t.token == token), None)

    def page(self, txn: FakeTransaction) -> str:
        """The payer's page: what is paid, to whom, and a real form with the two choices."""
        token = html.escape(txn.token, quote=True)
        if txn.status or txn.rejected:
            state = "opłacona" if txn.status else "odrzucona"
            body = (
                f"<p>Ta transakcja została już {state}.</p>"
                f'<p><a href="{html.escape(txn.url_return, quote=True)}">Wróć do serwisu</a></p>'
            )
        else:
            choices = "".join(
                f'<div><input type="radio" id="m-{mid}" name="method" value="{mid}"{" checked" if i == 0 else ""}>'
                f'<label for="m-{mid}">{html.escape(label)}</label></div>'
                for i, (mid, label) in enumerate(METHODS.items())
            )
            body = (
                f'<form method="post" action="/trnRequest/{token}">'
                f"<fieldset><legend>Metoda płatności</legend>{choices}</fieldset>"
                '<p><button type="submit" name="action" value="pay">Zapłać</button> '
                '<button type="submit" name="action" value="reject">Odrzuć płatność</button></p>'
                "</form>"
            )
        return (
            '<!DOCTYPE html>\n<html lang="pl"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>Płatność – Przelewy24 (atrapa)</title></head><body><main>"
            "<h1>Przelewy24 – atrapa bramki płatności</h1>"
            "<p>Lokalna atrapa do testów i pokazu: żadne pieniądze nie są pobierane.</p>"
            f"<dl><dt>Odbiorca</dt><dd>Sprzedawca nr {self.merchant_id}</dd>"
            f"<dt>Tytuł płatności</dt><dd>{html.escape(txn.description)}</dd>"
            f"<dt>Kwota</dt><dd>{_zloty(txn.amount, txn.currency)}</dd></dl>"
            f"{body}</main></body></html>"
        )

    def choose(self, txn: FakeTransaction, form: dict[str, list[str]]) -> bytes | None:
        """The payer's choice on the page: the notification to send for a payment, None otherwise."""
        action = form.get("action", [""])[0]
        with self.lock:
            if txn.status or txn.rejected or action not in ("pay", "reject"):
                return None
            if action == "reject":
                txn.rejected = True  # the gateway notifies only payments
                return None
            try:
                method_id = int(form.get("method", ["25"])[0])
            except ValueError:
                method_id = 25
            self._mark_paid(txn, None, method_id if method_id in METHODS else 25)
        return self.notification_body(txn.session_id)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakePrzelewy24/1.0"
    server: _Server

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        parts = urllib.parse.urlsplit(self.path)
        with fake.lock:
            fake.requests.append((method, parts.path))
        body = self._body(MAX_FORM if parts.path.startswith("/trnRequest/") else MAX_BODY)
        if body is None:
            self._json(413, {"error": "Request too large", "code": 413})
        elif parts.path.startswith("/trnRequest/"):
            self._hosted(method, parts.path.removeprefix("/trnRequest/"), body)
        elif parts.path.startswith("/api/"):
            status, payload = fake.api(
                method, parts.path, parts.query, self.headers.get("Authorization", ""), body
            )
            self._json(status, payload)
        else:
            self._json(404, {"error": "Not Found", "code": 404})

    def _body(self, limit: int) -> bytes | None:
        length = self.headers.get("Content-Length", "0").strip() or "0"
        if not length.isdigit() or int(length) > limit:
            self.close_connection = True
            return None
        return self.rfile.read(int(length)) if int(length) else b""

    def _hosted(self, method: str, token: str, body: bytes) -> None:
        fake = self.server.fake
        txn = fake.find_by_token(token)
        if txn is None or method not in ("GET", "POST"):
            self._html(
                404,
                '<!DOCTYPE html>\n<html lang="pl"><title>Nie znaleziono</title><p>Nieznana transakcja.</p></html>',
            )
            return
        if method == "GET":
            self._html(200, fake.page(txn))
            return
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
        notification = fake.choose(txn, form)
        if notification is not None and fake.notify == "before":
            fake.send_notification(txn.url_status, notification)
        self.send_response(303)
        self.send_header("Location", txn.url_return)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.wfile.flush()
        if notification is not None and fake.notify == "after":
            fake.send_notification(txn.url_status, notification)

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _html(self, status: int, page: str) -> None:
        data = page.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.fake.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakePrzelewy24

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        logger.debug("fake Przelewy24: error serving %s", client_address, exc_info=True)


# ------------------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.payments.adapters.fake_przelewy24",
        description="Run a local fake Przelewy24 (REST v1) for tests and the demo.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8098, help="port (default 8098; 0 = any free port)")
    parser.add_argument("--merchant-id", type=int, default=DEFAULT_ID)
    parser.add_argument("--pos-id", type=int, default=DEFAULT_ID)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--crc", default=DEFAULT_CRC)
    parser.add_argument(
        "--notify", choices=("before", "after"), default="before", help="notify before or after the redirect"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    fake = FakePrzelewy24(
        args.merchant_id,
        args.pos_id,
        args.api_key,
        args.crc,
        host=args.host,
        notify=args.notify,
        verbose=args.verbose,
    )

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        fake.start(args.port)
    except OSError as e:
        print(f"fake Przelewy24: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    print(f"fake Przelewy24: merchant {args.merchant_id}, POS {args.pos_id} at {fake.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
