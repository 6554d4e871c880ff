"""Przelewy24 REST API v1 (DOMAIN.md §10): the real client behind the Provider interface.

The protocol, as spoken here and by the local fake (`.fake_przelewy24`), after Przelewy24's public
OpenAPI description (github api-evangelist/przelewy24, openapi/_original/openapi.yml):

- every call: HTTP Basic `posId:apiKey`, JSON in and out, amounts in grosze;
- `POST /api/v1/transaction/register` → `{"data": {"token": T}}`; the payer goes to `/trnRequest/T`;
- the payer pays → Przelewy24 POSTs a signed JSON notification to our `urlStatus` (only for payments,
  possibly more than once, possibly before the browser comes back);
- `PUT /api/v1/transaction/verify` → `{"data": {"status": "success"}}`: without it the money stays
  with the payer as an advance and is never settled to the office;
- `GET /api/v1/transaction/by/sessionId/{sessionId}` (404: no such transaction),
  `POST /api/v1/transaction/refund` (201), `GET /api/v1/report/history?dateFrom=YYYYMMDD&dateTo=...`
  (paged by `GET /api/v1/report/history/{token}`; must be enabled for the merchant by Przelewy24).

`sign` is the SHA-384 hex of the compact JSON of a few fields in a fixed order, with the CRC key as the
last field, encoded like PHP's `json_encode(..., JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES)`.
The API key and the CRC key are never logged nor put in an error message or a repr.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from . import InvalidNotification, Notification, ProviderError, RemoteStatus, Started, StartRequest

logger = logging.getLogger(__name__)

# the fields each sign covers, in the order the gateway hashes them ("crc" is always the last one)
REGISTER_SIGN_FIELDS = ("sessionId", "merchantId", "amount", "currency", "crc")
NOTIFICATION_SIGN_FIELDS = (
    "merchantId",
    "posId",
    "sessionId",
    "amount",
    "originAmount",
    "currency",
    "orderId",
    "methodId",
    "statement",
    "crc",
)
VERIFY_SIGN_FIELDS = ("sessionId", "orderId", "amount", "currency", "crc")

# what a notification must carry, with the JSON type of each field
NOTIFICATION_FIELDS: dict[str, type] = {
    "merchantId": int,
    "posId": int,
    "sessionId": str,
    "amount": int,
    "originAmount": int,
    "currency": str,
    "orderId": int,
    "methodId": int,
    "statement": str,
    "sign": str,
}

MAX_NOTIFICATION_BYTES = 64 * 1024  # a real notification is a few hundred bytes
MAX_RESPONSE_BYTES = 1024 * 1024
MAX_REPORT_PAGES = 200  # a day of one office's payments fits in a few pages; a loop guard, not a quota
P24_TZ = ZoneInfo("Europe/Warsaw")  # the gateway's dates carry no zone; they are Polish local time

# by/sessionId status → ours. 1 is an "advance": paid by the payer but not yet verified by us, so the
# money does not count yet; the report's "1 – paid" / "2 – paid and verified" are the same two states.
# 1 "advance": the payer paid, we have not verified yet (a lost notification): settled by polling, which verifies
STATUS_MAP = {0: "pending", 1: "advance", 2: "paid", 3: "refunded"}

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_SIGN_RE = re.compile(r"^[0-9a-f]{96}$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_REFUND_NS = uuid.UUID("5b0e8c3e-6a8f-4a57-9c55-3f0c2b1e7d24")  # refundsUuid = uuid5(this, requestId)
_ALREADY_EXISTS = "request already exists"


# ------------------------------------------------------------------------------------- signing
def _json_compact(fields: Mapping[str, Any]) -> str:
    """PHP `json_encode` with JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES: Python's compact dump
    already leaves "/" and non-ASCII alone; PHP still escapes the two JavaScript line terminators."""
    for key, value in fields.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"sign fields must be str → int | str, not {key!r}: {type(value).__name__}")
    text = json.dumps(dict(fields), ensure_ascii=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def sign(fields: Mapping[str, Any]) -> str:
    """SHA-384 hex of the compact JSON of `fields` in their order (include "crc" as the last one)."""
    return hashlib.sha384(_json_compact(fields).encode("utf-8")).hexdigest()


def sign_fields(names: Iterable[str], values: Mapping[str, Any], crc: str) -> str:
    """The sign over `names` (one of the *_SIGN_FIELDS tuples) taken from `values`, "crc" from `crc`;
    one place that knows the order, used by the adapter and the fake alike."""
    return sign({name: (crc if name == "crc" else values[name]) for name in names})


def signs_equal(expected: str, given: object) -> bool:
    """Constant-time comparison of a sign we computed with one we were sent (any type)."""
    if not isinstance(given, str) or not _SIGN_RE.match(given):
        return False
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))


# ------------------------------------------------------------------------------------- parsing
def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Two values for one key would let the signed and the used value differ: refuse them."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_json_object(body: bytes, limit: int) -> dict[str, Any]:
    """A JSON object from at most `limit` bytes of UTF-8, with no duplicate keys; ValueError otherwise."""
    if len(body) > limit:
        raise ValueError(f"body of {len(body)} bytes exceeds {limit}")
    data = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _typed(data: Mapping[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if value is None or isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{name}: expected {kind.__name__}")
    return value


def _p24_datetime(value: object) -> datetime | None:
    """`YYYY-MM-DD HH:MM:SS` (Polish local time) → aware datetime; anything else → None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=P24_TZ)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx from the API is an error, never a hop with our Basic credentials to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


# ------------------------------------------------------------------------------------- adapter
class Przelewy24:
    """The Przelewy24 gateway (Provider protocol). No database I/O: plain values in and out."""

    name = "przelewy24"

    def __init__(
        self,
        base_url: str,
        merchant_id: int,
        pos_id: int,
        api_key: str,
        crc: str,
        timeout: float = 10.0,
        *,
        refund_url_status: str = "",
    ):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("the Przelewy24 base URL must be http(s)://host[:port]")
        for label, number in (("merchant_id", merchant_id), ("pos_id", pos_id)):
            if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
                raise ValueError(f"{label} must be a positive integer")
        if not api_key or not crc:
            raise ValueError("the Przelewy24 API key and CRC key must not be empty")
        self.base_url = base_url.rstrip("/")
        self.merchant_id = merchant_id
        self.pos_id = pos_id
        self.timeout = float(timeout)
        self.refund_url_status = refund_url_status
        self._api_key = api_key
        self._crc = crc
        token = base64.b64encode(f"{pos_id}:{api_key}".encode()).decode("ascii")
        self._auth = f"Basic {token}"
        self._opener = urllib.request.build_opener(_NoRedirect())

    def __repr__(self) -> str:
        return f"Przelewy24({self.base_url!r}, merchant_id={self.merchant_id}, pos_id={self.pos_id})"

    # ---- Provider
    def start(self, req: StartRequest) -> Started:
        self._check_start(req)
        body: dict[str, Any] = {
            "merchantId": self.merchant_id,
            "posId": self.pos_id,
            "sessionId": req.session_id,
            "amount": req.amount,
            "currency": req.currency,
            "description": req.description,
            "email": req.email,
            "country": "PL",
            "language": req.language,
            "urlReturn": req.return_url,
            "urlStatus": req.notify_url,
        }
        if req.payer_name:
            body["client"] = req.payer_name[:40]
        body["sign"] = sign_fields(REGISTER_SIGN_FIELDS, body, self._crc)
        status, payload = self._call("POST", "/api/v1/transaction/register", body)
        if status != 200:
            raise self._refused("register", status, payload)
        token = _data(payload).get("token")
        if not isinstance(token, str) or not _TOKEN_RE.match(token):
            logger.warning("Przelewy24 register for %s answered without a usable token", req.session_id)
            raise ProviderError(_("Przelewy24 answered without a transaction token."))
        return Started(redirect_url=f"{self.base_url}/trnRequest/{token}", provider_ref=token)

    def parse_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        try:
            data = parse_json_object(body, MAX_NOTIFICATION_BYTES)
            values = {name: _typed(data, name, kind) for name, kind in NOTIFICATION_FIELDS.items()}
        except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
            raise InvalidNotification(f"malformed Przelewy24 notification: {e}") from None
        if values["merchantId"] != self.merchant_id or values["posId"] != self.pos_id:
            raise InvalidNotification("Przelewy24 notification for another merchant or POS")
        if values["amount"] < 0 or values["orderId"] <= 0 or not _CURRENCY_RE.match(values["currency"]):
            raise InvalidNotification("Przelewy24 notification with an impossible amount, order or currency")
        expected = sign_fields(NOTIFICATION_SIGN_FIELDS, values, self._crc)
        if not signs_equal(expected, values["sign"]):
            raise InvalidNotification("Przelewy24 notification sign does not verify")
        return Notification(
            session_id=values["sessionId"],
            order_id=str(values["orderId"]),
            amount=values["amount"],
            currency=values["currency"],
            outcome="paid",
            event_id=f"p24:{values['orderId']}",
            raw=data,
        )

    def confirm(self, n: Notification) -> None:
        try:
            order_id = int(n.order_id)
        except ValueError:
            raise ProviderError(_("The payment has no Przelewy24 order number.")) from None
        body: dict[str, Any] = {
            "merchantId": self.merchant_id,
            "posId": self.pos_id,
            "sessionId": n.session_id,
            "amount": n.amount,
            "currency": n.currency,
            "orderId": order_id,
        }
        body["sign"] = sign_fields(VERIFY_SIGN_FIELDS, body, self._crc)
        status, payload = self._call("PUT", "/api/v1/transaction/verify", body)
        if status != 200 or _data(payload).get("status") != "success":
            raise self._refused("verify", status, payload)

    def status(self, session_id: str) -> RemoteStatus | None:
        path = "/api/v1/transaction/by/sessionId/" + urllib.parse.quote(session_id, safe="")
        status, payload = self._call("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise self._refused("by/sessionId", status, payload)
        data = _data(payload)
        try:
            remote = _remote_status(data, data.get("status"))
        except ValueError as e:
            logger.warning("Przelewy24 by/sessionId for %s not understood: %s", session_id, e)
            raise ProviderError(_("Przelewy24's answer was not understood.")) from None
        if remote.session_id != session_id:
            logger.warning("Przelewy24 answered about %r when asked for %r", remote.session_id, session_id)
            raise ProviderError(_("Przelewy24's answer was not understood."))
        return remote

    def refund(
        self, *, session_id: str, order_id: str, amount: int, description: str, request_id: str
    ) -> str:
        if not request_id or len(request_id) > 45:
            raise ValueError("request_id must be 1-45 characters")
        try:
            order_number = int(order_id)
        except ValueError:
            raise ProviderError(_("The payment has no Przelewy24 order number.")) from None
        body: dict[str, Any] = {
            "requestId": request_id,
            "refundsUuid": uuid.uuid5(_REFUND_NS, request_id).hex,  # ≤ 35 chars, the same on a retry
            "refunds": [
                {
                    "orderId": order_number,
                    "sessionId": session_id,
                    "amount": amount,
                    "description": description[:35],
                }
            ],
        }
        if self.refund_url_status:
            body["urlStatus"] = self.refund_url_status
        status, payload = self._call("POST", "/api/v1/transaction/refund", body)
        if status == 400 and _error_text(payload).lower() == _ALREADY_EXISTS:
            return request_id  # our earlier attempt got through (a retry after a lost answer)
        if status != 201:
            raise self._refused("refund", status, payload)
        items = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items or not all(_refund_ok(i) for i in items):
            logger.warning("Przelewy24 refund %s not accepted: %r", request_id, str(items)[:300])
            raise ProviderError(_("Przelewy24 did not accept the refund."))
        return request_id

    def report(self, day: date) -> list[RemoteStatus]:
        stamp = day.strftime("%Y%m%d")
        query = urllib.parse.urlencode({"dateFrom": stamp, "dateTo": stamp, "type": "transaction"})
        path = f"/api/v1/report/history?{query}"
        seen: set[str] = set()
        found: dict[str, RemoteStatus] = {}
        for page in range(1, MAX_REPORT_PAGES + 1):
            status, payload = self._call("GET", path)
            if status != 200 or not isinstance(payload, dict):
                raise self._refused("report/history", status, payload)
            for remote in _history_transactions(payload.get("data")):
                found[remote.session_id] = remote
            token = payload.get("token")
            if not isinstance(token, str) or not token or token in seen or not _more_pages(payload, page):
                return list(found.values())
            seen.add(token)
            path = "/api/v1/report/history/" + urllib.parse.quote(token, safe="")
        logger.warning("Przelewy24 report for %s has more than %d pages", stamp, MAX_REPORT_PAGES)
        raise ProviderError(_("Przelewy24's report is too long."))

    # ---- checks
    @staticmethod
    def _check_start(req: StartRequest) -> None:
        """Fail before the network for what the gateway would refuse anyway (its documented limits)."""
        problems = []
        if isinstance(req.amount, bool) or not isinstance(req.amount, int) or req.amount <= 0:
            problems.append("amount")
        if not _CURRENCY_RE.match(req.currency or ""):
            problems.append("currency")
        if not req.session_id or len(req.session_id) > 100:
            problems.append("session_id")
        if not req.description or len(req.description) > 1024:
            problems.append("description")
        if len(req.email) > 50 or len(req.language) != 2:
            problems.append("email/language")
        for url in (req.return_url, req.notify_url):
            if len(url) > 250 or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                problems.append("return_url/notify_url")
        if problems:
            raise ProviderError(
                _("The payment cannot be registered at Przelewy24: invalid %(fields)s.")
                % {"fields": ", ".join(problems)}
            )

    def _refused(self, what: str, status: int, payload: object) -> ProviderError:
        """The error for a non-success answer: 5xx, 429 and a missing answer are worth retrying."""
        detail = _error_text(payload)[:200]
        logger.warning("Przelewy24 %s refused: HTTP %s %s", what, status, detail)
        retryable = status >= 500 or status == 429
        if status == 401:
            return ProviderError(_("Przelewy24 refused our credentials."))
        return ProviderError(
            _("Przelewy24 refused the request (%(what)s, HTTP %(status)s).")
            % {"what": what, "status": status},
            retryable=retryable,
        )

    # ---- HTTP
    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> tuple[int, Any]:
        """(HTTP status, parsed JSON or None) for any answer the gateway gives; ProviderError
        (retryable) when there is none: timeout, refused connection, broken or oversized reply."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 -- the scheme is checked in __init__ (http/https)
            self.base_url + path,
            data=data,
            method=method,
            headers={
                "Authorization": self._auth,
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": "gisportal-p24/1.0",
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.status, _read_json(response)
        except urllib.error.HTTPError as e:
            with e:
                try:
                    payload = _read_json(e)
                except ProviderError:
                    payload = None
                return e.code, payload
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as e:
            reason = getattr(e, "reason", e)
            logger.warning("Przelewy24 %s %s unreachable: %r", method, path.split("?")[0], reason)
            raise ProviderError(_("Przelewy24 could not be reached."), retryable=True) from None


def _read_json(response: Any) -> Any:
    """At most MAX_RESPONSE_BYTES of a JSON reply; None for an empty body."""
    declared = response.headers.get("Content-Length")
    if declared and declared.strip().isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise ProviderError(_("Przelewy24's answer is too large."), retryable=True)
    raw = response.read(MAX_RESPONSE_BYTES + 1)
    if len(raw) > MAX_RESPONSE_BYTES:
        raise ProviderError(_("Przelewy24's answer is too large."), retryable=True)
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        logger.warning("Przelewy24 answered something that is not JSON: %r", raw[:200])
        raise ProviderError(_("Przelewy24's answer was not understood."), retryable=True) from None


def _data(payload: object) -> dict[str, Any]:
    data = payload.get("data") if isinstance(payload, dict) else None
    return data if isinstance(data, dict) else {}


def _error_text(payload: object) -> str:
    if not isinstance(payload, dict):
        return ""
    error = payload.get("error")
    return error if isinstance(error, str) else json.dumps(error, ensure_ascii=False)[:200]


def _refund_ok(item: object) -> bool:
    return isinstance(item, dict) and item.get("status") is True


def _remote_status(data: Mapping[str, Any], code: object) -> RemoteStatus:
    """One transaction record (by/sessionId `data`, or a report entry) → RemoteStatus."""
    session_id = _typed(data, "sessionId", str)
    # the report's schema spells it "ordrId" (unverified whether the live API does too)
    order = data.get("orderId", data.get("ordrId"))
    amount = data.get("amount")
    if amount is None and isinstance(data.get("settledAmount"), int):
        fee = data.get("fee")
        amount = data["settledAmount"] + (fee if isinstance(fee, int) and not isinstance(fee, bool) else 0)
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError("amount: expected int")
    status = (
        STATUS_MAP.get(code, "unknown") if isinstance(code, int) and not isinstance(code, bool) else "unknown"
    )
    currency = data.get("currency")
    return RemoteStatus(
        session_id=session_id,
        order_id=str(order) if isinstance(order, int) and not isinstance(order, bool) and order > 0 else "",
        status=status,
        amount=amount,
        currency=currency if isinstance(currency, str) else "PLN",
        paid_at=_p24_datetime(data.get("dateOfTransaction")) if status in ("paid", "refunded") else None,
    )


def _history_transactions(data: object) -> list[RemoteStatus]:
    """The transactions of one report page: `data` is a list of {type, currency, details: [...]}."""
    if not isinstance(data, list):
        return []
    found = []
    for group in data:
        if not isinstance(group, dict) or group.get("type") != "transaction":
            continue
        details = group.get("details")
        for item in details if isinstance(details, list) else []:
            if not isinstance(item, dict):
                continue
            item = {**item} if "currency" in item else {**item, "currency": group.get("currency", "PLN")}
            try:
                # "0 not paid, 1 paid, 2 paid and verified, 3 returned": read as by/sessionId's codes
                found.append(_remote_status(item, item.get("status")))
            except ValueError as e:
                logger.warning("Przelewy24 report entry skipped: %s", e)
    return found


def _more_pages(payload: Mapping[str, Any], fetched: int) -> bool:
    """Whether another page follows `fetched` pages; without page information the token decides."""
    info = payload.get("pageInformation")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        info = info[0]  # the schema declares it with "items"; accept an object or a one-element list
    if not isinstance(info, dict):
        return True
    on_page, count = info.get("recordsOnPage"), info.get("pageCount")
    if isinstance(on_page, int) and on_page == 0:
        return False
    return not (isinstance(count, int) and count <= fetched)
