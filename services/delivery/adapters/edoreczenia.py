"""e-Doręczenia (the public registered e-delivery service, PURDE) over its REST API: the real client behind
`adapters.EDeliveryProvider`, spoken alike by the local fake (`.fake_edoreczenia`).

What is known, and what is modelled here. The ministry publishes no open API description for public
bodies (DOMAIN.md §8: "office API not public"); integrators get the operator's (Poczta Polska) "User Agent
API" (UA API) and the address search ("Search Engine API") under an agreement. What public integration
code shows (founder-pl/edoreczenia; a TypeScript UA API v3 client and a Python client generated from the
operator's ua.json / se.json, found by code search; the PHP SDK b44x/edoreczenia on Packagist):

- a token from the operator's Keycloak realm "EDOR": `POST /auth/realms/EDOR/protocol/openid-connect/token`,
  OAuth2 client credentials; the live service wants `private_key_jwt` (RFC 7523: a JWT signed with the
  key of a QWAC certificate, over mutual TLS), not a client secret;
- every mailbox call is under the sender's own address: `/api/v3/{eDeliveryAddress}/...`;
- sending: `POST /api/v3/{eDeliveryAddress}/messages`, JSON with `messageMetadata` (`from`/`to` lists of
  `{"eDeliveryAddress": ...}`, `subject`), a text body and attachments (base64); the answer carries
  `messageMetadata.messageId`;
- evidences: `GET /api/v3/{eDeliveryAddress}/messages/{messageId}/evidences` lists them (id, type, time);
  each is an XML document (sealed by the operator) fetched by its id; the legal ones are the dowód
  wysłania and the dowód otrzymania (ETSI EN 319 522 event names: SubmissionAcceptance, ContentHandover);
- addresses look like `AE:PL-12345-67890-ABCDE-12` (DOMAIN.md §1, services/forms/validators.py).

Guesses (no public source; the adapter is swapped by configuration, GISPORTAL_EDORECZENIA_URL, and these
are the places to change against the real contract): client_secret_post instead of private_key_jwt and
no mutual TLS; the exact JSON field names; `textBody` and the attachment fields (`filename`, `mimeType`,
`content`); the answer to a send already listing the first evidences; the evidence file at
`/api/v3/{eDeliveryAddress}/evidences/{evidenceId}`; the type names `ContentConsignment` (the message
reached the addressee's box: "acceptance" here) and a `deemed` flag on the dowód otrzymania issued for a
message left unopened (u.d.e. art. 41-42); naive times read as UTC; an `Idempotency-Key` header (the
delivery's id) honoured by the provider, so that a send repeated after a lost answer is not a second
message; 422 for an address that does not exist.

`SendResult.message_id` is `<sender address>/<provider message id>`: the API's paths are per mailbox and
`evidences()` gets only the id. Errors are ProviderError: `retry=True` when trying later may help (no
answer, timeouts, 5xx, 429, refused credentials, a redirect, the office's own address missing), False when
the message itself is refused (a malformed or unknown addressee, any other 4xx). Credentials never appear
in a message, a log line or a repr; redirects are never followed; answers are size-capped; proxies and
~/.netrc from the environment are ignored (the credentials go to the configured URL only).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import urllib.parse
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import requests
from django.utils.translation import gettext as _

from . import Evidence, Message, ProviderError, SendResult

log = logging.getLogger(__name__)

TOKEN_PATH = "/auth/realms/EDOR/protocol/openid-connect/token"  # noqa: S105 -- a path
API_PREFIX = "/api/v3"
# the address shape used across the project (services/forms/validators.py `_ADE_RE`); no check digit
ADE_RE = re.compile(r"AE:PL-[0-9]{5}-[0-9]{5}-[A-Z]{5}-[0-9]{2}")
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
_TOKEN_RE = re.compile(r"[\x21-\x7e]{1,8192}")
# provider evidence type → our Evidence.kind (adapters.Evidence); other types are logged and skipped
EVIDENCE_KINDS = {
    "SubmissionAcceptance": "submission",  # dowód wysłania (nadania)
    "ContentConsignment": "acceptance",  # in the addressee's box (technical evidence; guessed name)
    "ContentHandover": "receipt",  # dowód otrzymania (opened, or deemed with "deemed": true)
}
MAX_RESPONSE_BYTES = 2 * 1024 * 1024  # JSON answers and evidence XML are a few kB
MAX_EVIDENCES = 50  # per message; a loop guard
_EVIDENCE_CACHE_SIZE = 512  # evidence documents never change: fetched once per process
_RETRY_STATUSES = {401, 403, 404, 408, 425, 429}  # and every 5xx


def normalise_address(value: str) -> str:
    """Spaces removed, letters in upper case (as the forms store it)."""
    return "".join((value or "").split()).upper()


def is_address(value: str) -> bool:
    return value.isascii() and ADE_RE.fullmatch(value) is not None


class HttpProvider:
    """The e-Doręczenia client (adapters.EDeliveryProvider). No database I/O; thread-safe (one bearer
    token shared, refreshed before it expires and once more when the provider refuses it)."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        secret: str,
        timeout: float = 10.0,
        *,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ):
        parts = urllib.parse.urlsplit(base_url or "")
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.username
            or parts.password
            or parts.query
            or parts.fragment
        ):
            raise ValueError("the e-Doręczenia URL must be http(s)://host[:port][/path] without credentials")
        if not client_id or not secret:
            raise ValueError("the e-Doręczenia client id and secret must not be empty")
        if not timeout or timeout <= 0:
            raise ValueError("the e-Doręczenia timeout must be positive")
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._secret = secret
        self.timeout = float(timeout)
        self.max_response_bytes = max_response_bytes
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy or ~/.netrc from the environment
        self._lock = threading.Lock()
        self._bearer = ""
        self._bearer_until = 0.0
        self._evidence_xml: OrderedDict[str, bytes] = OrderedDict()

    @classmethod
    def from_settings(cls) -> HttpProvider:
        from django.conf import settings

        return cls(
            settings.GISPORTAL_EDORECZENIA_URL,
            settings.GISPORTAL_EDORECZENIA_CLIENT_ID,
            settings.GISPORTAL_EDORECZENIA_SECRET,
            settings.GISPORTAL_EDORECZENIA_TIMEOUT,
        )

    def __repr__(self) -> str:
        return f"HttpProvider({self.base_url!r}, client_id={self.client_id!r})"

    # ------------------------------------------------------------------ the provider interface
    def send(self, message: Message) -> SendResult:
        sender = normalise_address(message.sender_ade)
        if not sender:
            raise ProviderError(_("The office has no e-delivery address (ADE) to send from."), retry=True)
        if not is_address(sender):
            raise ProviderError(
                _("The office's e-delivery address “%(address)s” is not valid.") % {"address": sender[:40]},
                retry=True,
            )
        recipient = normalise_address(message.recipient_ade)
        if not is_address(recipient):
            raise ProviderError(
                _("“%(address)s” is not a valid e-delivery address (expected AE:PL-12345-67890-ABCDE-12).")
                % {"address": (message.recipient_ade or "")[:40]},
                retry=False,
            )
        if not message.content:
            raise ProviderError(_("The document to send is empty."), retry=False)
        subject = " ".join((message.subject or "").split())[:255] or _("Document")
        body = {
            "messageMetadata": {
                "from": [{"eDeliveryAddress": sender}],
                "to": [{"eDeliveryAddress": recipient}],
                "subject": subject,
            },
            "textBody": _("The document “%(subject)s” is attached.") % {"subject": subject},
            "attachments": [
                {
                    "filename": _file_name(message.file_name),
                    "mimeType": message.content_type or "application/octet-stream",
                    "content": base64.b64encode(message.content).decode("ascii"),
                }
            ],
        }
        status, payload = self._api_json(
            "POST",
            f"{_mailbox(sender)}/messages",
            json_body=body,
            headers={"Idempotency-Key": message.delivery_id[:100]},
        )
        if status not in (200, 201, 202):
            raise self._refused("send", status, payload)
        meta = payload.get("messageMetadata") if isinstance(payload, dict) else None
        raw_id = (meta or {}).get("messageId") if isinstance(meta, dict) else None
        if raw_id is None and isinstance(payload, dict):
            raw_id = payload.get("messageId")
        if not isinstance(raw_id, str) or not _ID_RE.fullmatch(raw_id):
            # the message may have been accepted: retrying is safe only through the idempotency key
            log.warning("e-Doręczenia send of %s answered without a usable message id", message.delivery_id)
            raise ProviderError(_("e-Doręczenia's answer was not understood."), retry=True)
        message_id = f"{sender}/{raw_id}"
        # from here on the provider has the message: nothing may fail the send (a retry would be a resend)
        try:
            listed = payload.get("evidences") if isinstance(payload, dict) else None
            evidences = (
                self._evidences_from(sender, raw_id, listed)
                if isinstance(listed, list)
                else self.evidences(message_id)
            )
        except ProviderError as e:
            log.warning("e-Doręczenia evidences of %s not fetched yet: %s", message_id, e)
            evidences = []
        return SendResult(message_id=message_id, evidences=evidences)

    def evidences(self, message_id: str) -> list[Evidence]:
        sender, _sep, raw_id = (message_id or "").partition("/")
        if not is_address(sender) or not _ID_RE.fullmatch(raw_id):
            raise ProviderError(_("Unknown e-Doręczenia message identifier."), retry=False)
        status, payload = self._api_json("GET", f"{_mailbox(sender)}/messages/{_q(raw_id)}/evidences")
        if status != 200:
            raise self._refused("evidences", status, payload)
        listed = payload.get("evidences") if isinstance(payload, dict) else payload
        if not isinstance(listed, list):
            raise ProviderError(_("e-Doręczenia's answer was not understood."), retry=True)
        return self._evidences_from(sender, raw_id, listed)

    # ------------------------------------------------------------------ evidences
    def _evidences_from(self, sender: str, raw_id: str, listed: list) -> list[Evidence]:
        found = []
        for item in listed[:MAX_EVIDENCES]:
            if not isinstance(item, dict):
                continue
            kind = EVIDENCE_KINDS.get(item.get("evidenceType"))
            at = _moment(item.get("eventTime"))
            evidence_id = item.get("evidenceId")
            if (
                kind is None
                or at is None
                or not isinstance(evidence_id, str)
                or not _ID_RE.fullmatch(evidence_id)
            ):
                log.info("e-Doręczenia evidence of %s skipped: %r", raw_id, str(item)[:200])
                continue
            found.append(
                Evidence(
                    kind=kind,
                    at=at,
                    xml=self._evidence_document(sender, evidence_id),
                    deemed=kind == "receipt" and item.get("deemed") is True,
                )
            )
        return found

    def _evidence_document(self, sender: str, evidence_id: str) -> bytes:
        with self._lock:
            cached = self._evidence_xml.get(evidence_id)
        if cached is not None:
            return cached
        status, body, _ctype = self._api(
            "GET", f"{_mailbox(sender)}/evidences/{_q(evidence_id)}", accept="application/xml"
        )
        if status != 200:
            raise self._refused("evidence", status, _json_or_none(body))
        if not body.lstrip().startswith(b"<"):
            log.warning("e-Doręczenia evidence %s is not XML", evidence_id)
            raise ProviderError(_("e-Doręczenia's answer was not understood."), retry=True)
        with self._lock:
            self._evidence_xml[evidence_id] = body
            while len(self._evidence_xml) > _EVIDENCE_CACHE_SIZE:
                self._evidence_xml.popitem(last=False)
        return body

    # ------------------------------------------------------------------ token
    def _token(self, *, fresh: bool = False) -> str:
        with self._lock:
            if not fresh and self._bearer and time.monotonic() < self._bearer_until:
                return self._bearer
            form = {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._secret,
            }
            status, body, _ctype = self._request("POST", TOKEN_PATH, data=form)
            payload = _json_or_none(body)
            if status in (400, 401, 403) and _oauth_error(payload) in (
                "invalid_client",
                "unauthorized_client",
                "",
            ):
                log.error(
                    "e-Doręczenia refused the client credentials of %r (HTTP %s)", self.client_id, status
                )
                raise ProviderError(
                    _(
                        "e-Doręczenia refused the portal's credentials (client ID or secret); the administrator must correct them."
                    ),
                    retry=True,
                )
            if status != 200:
                raise self._refused("token", status, payload)
            token = payload.get("access_token") if isinstance(payload, dict) else None
            kind = payload.get("token_type", "Bearer") if isinstance(payload, dict) else None
            if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token) or str(kind).lower() != "bearer":
                log.warning("e-Doręczenia token answer not understood")
                raise ProviderError(_("e-Doręczenia's answer was not understood."), retry=True)
            expires = payload.get("expires_in", 300)
            expires = expires if isinstance(expires, int) and not isinstance(expires, bool) else 300
            self._bearer = token
            self._bearer_until = time.monotonic() + max(5, min(expires, 86400) - 30)
            return token

    # ------------------------------------------------------------------ HTTP
    def _api_json(
        self, method: str, path: str, *, json_body: Any = None, headers: dict | None = None
    ) -> tuple[int, Any]:
        status, body, ctype = self._api(method, path, json_body=json_body, headers=headers)
        if 200 <= status < 300:
            try:
                return status, json.loads(body.decode("utf-8")) if body.strip() else None
            except (ValueError, UnicodeDecodeError):
                log.warning(
                    "e-Doręczenia %s %s answered something that is not JSON: %r", method, path, body[:200]
                )
                raise ProviderError(_("e-Doręczenia's answer was not understood."), retry=True) from None
        return status, _json_or_none(body)

    def _api(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict | None = None,
        accept: str = "application/json",
    ) -> tuple[int, bytes, str]:
        """A mailbox call with the bearer token; a refused token is renewed once (it may have expired or
        been revoked), which is safe to repeat: a 401 answer means nothing was done."""
        for attempt in (0, 1):
            token = self._token(fresh=attempt == 1)
            sent = {"Authorization": f"Bearer {token}", "Accept": accept, **(headers or {})}
            status, body, ctype = self._request(method, API_PREFIX + path, json_body=json_body, headers=sent)
            if status != 401:
                return status, body, ctype
        return status, body, ctype

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: dict | None = None,
        headers: dict | None = None,
    ) -> tuple[int, bytes, str]:
        """(status, body, content type) of any answer; ProviderError(retry) when there is none."""
        url = self.base_url + path
        where = path.split("?")[0]
        sent = {"User-Agent": "gisportal-edoreczenia/1.0", **(headers or {})}
        deadline = time.monotonic() + 3 * self.timeout  # per read the timeout, the whole answer at most 3x
        try:
            with self._session.request(
                method,
                url,
                json=json_body,
                data=data,
                headers=sent,
                timeout=(self.timeout, self.timeout),
                allow_redirects=False,
                stream=True,
            ) as response:
                if 300 <= response.status_code < 400:
                    log.warning(
                        "e-Doręczenia %s %s answered a redirect (%s)", method, where, response.status_code
                    )
                    raise ProviderError(
                        _("e-Doręczenia answered with a redirect, which is not followed."), retry=True
                    )
                declared = response.headers.get("Content-Length", "")
                if declared.strip().isdigit() and int(declared) > self.max_response_bytes:
                    raise ProviderError(_("e-Doręczenia's answer is too large."), retry=True)
                chunks, size = [], 0
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > self.max_response_bytes:
                        raise ProviderError(_("e-Doręczenia's answer is too large."), retry=True)
                    if time.monotonic() > deadline:
                        raise requests.Timeout("the answer takes too long")
                    chunks.append(chunk)
                return response.status_code, b"".join(chunks), response.headers.get("Content-Type", "")
        except requests.Timeout:
            log.warning("e-Doręczenia %s %s: no answer within %ss", method, where, self.timeout)
            raise ProviderError(_("e-Doręczenia did not answer in time."), retry=True) from None
        except requests.RequestException as e:
            log.warning("e-Doręczenia %s %s unreachable: %s", method, where, type(e).__name__)
            raise ProviderError(_("e-Doręczenia could not be reached."), retry=True) from None

    def _refused(self, what: str, status: int, payload: Any) -> ProviderError:
        detail = _error_text(payload)
        log.warning("e-Doręczenia %s refused: HTTP %s %s", what, status, detail)
        if status >= 500 or status in _RETRY_STATUSES:
            return ProviderError(
                _("e-Doręczenia is unavailable or refused the request (%(what)s, HTTP %(status)s).")
                % {"what": what, "status": status},
                retry=True,
            )
        if what == "send":
            text = _("e-Doręczenia refused the message (HTTP %(status)s).") % {"status": status}
        else:
            text = _("e-Doręczenia refused the request (%(what)s, HTTP %(status)s).") % {
                "what": what,
                "status": status,
            }
        return ProviderError(f"{text} {detail}" if detail else text, retry=False)


# ---------------------------------------------------------------------- helpers
def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _mailbox(address: str) -> str:
    return "/" + _q(address)


def _file_name(name: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip()
    return base[:200] or "dokument.pdf"


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8")) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None


def _oauth_error(payload: Any) -> str:
    error = payload.get("error") if isinstance(payload, dict) else None
    return error if isinstance(error, str) else ""


def _error_text(payload: Any) -> str:
    """The provider's own explanation, printable and short (it ends up on the clerk's page)."""
    if not isinstance(payload, dict):
        return ""
    for key in ("message", "error_description", "detail", "error"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return "".join(c for c in value if c.isprintable())[:200]
    return ""
