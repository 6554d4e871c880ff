"""A local fake e-Doręczenia speaking the REST API modelled in `.edoreczenia`, for tests and the demo.

    python -m services.delivery.adapters.fake_edoreczenia --port 8096 [--client-id ID --client-secret S]

It hands out bearer tokens for the configured client (OAuth2 client credentials; a wrong secret answers
401), keeps sent messages in memory and issues their evidences as small unsealed XML documents (the
dowód wysłania and the arrival in the addressee's box at once; the dowód otrzymania when the addressee
opens the message or it is deemed delivered). Any well-formed AE:PL- address exists, except those ending
in "-00" (422, as an unknown address). A send repeated with the same Idempotency-Key returns the first
message. Standard library and this package only.

The control API, for tests and the demo (no authentication: it listens on loopback):

    GET  /_fake/                          a page listing the messages, with buttons to open them
    GET  /_fake/messages                  the messages and their evidences (JSON)
    POST /_fake/messages/{id}/open        the addressee opens it: a dowód otrzymania at `at` (ISO 8601, now)
    POST /_fake/messages/{id}/deem        a dowód otrzymania issued for a message left unopened
    POST /_fake/fail                      the next `count` API requests fail: mode "error" (answer `status`,
                                          500), "timeout" (no answer for `hang` s), "slow" (done, then the
                                          answer `hang` s late), "redirect", "oversize"
    POST /_fake/clock                     the provider's clock stands at `at` (null: the real time again)
    POST /_fake/reset                     forget everything

Tests in-process use the same controls as methods (`open`, `deem`, `fail_next`, `set_time`, ...). Nothing
here is secret: the defaults are the demo's credentials (GISPORTAL_EDORECZENIA_CLIENT_ID / _SECRET).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import html
import json
import logging
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .edoreczenia import ADE_RE, API_PREFIX, TOKEN_PATH

logger = logging.getLogger(__name__)

DEFAULT_CLIENT_ID = "gisportal-demo"
DEFAULT_SECRET = "demo-secret"  # noqa: S105 -- the demo's published secret
MAX_BODY = 64 * 1024 * 1024
MAX_FORM = 16 * 1024
TOKEN_TTL = 300
EV_NS = "urn:gisportal:fake-edoreczenia:evidence:1"
EVENT_NAMES = {
    "SubmissionAcceptance": "dowód wysłania",
    "ContentConsignment": "potwierdzenie dostarczenia do skrzynki adresata",
    "ContentHandover": "dowód otrzymania",
}
FAIL_MODES = ("error", "timeout", "slow", "redirect", "oversize")
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")

Answer = tuple[int, Any]  # (HTTP status, JSON-able body, or bytes for XML)

ET.register_namespace("ev", EV_NS)


@dataclass
class FakeEvidence:
    id: str
    type: str
    at: datetime
    deemed: bool
    xml: bytes

    def meta(self) -> dict[str, Any]:
        return {
            "evidenceId": self.id,
            "evidenceType": self.type,
            "eventTime": self.at.isoformat(),
            "deemed": self.deemed,
        }


@dataclass
class FakeMessage:
    id: str
    sender: str
    recipients: list[str]
    subject: str
    attachments: list[dict[str, Any]]  # filename, mimeType, size, sha256
    digest: str
    submitted_at: datetime
    idempotency_key: str = ""
    evidences: list[FakeEvidence] = field(default_factory=list)

    @property
    def opened(self) -> bool:
        return any(e.type == "ContentHandover" for e in self.evidences)

    def meta(self) -> dict[str, Any]:
        return {
            "messageId": self.id,
            "from": [{"eDeliveryAddress": self.sender}],
            "to": [{"eDeliveryAddress": r} for r in self.recipients],
            "subject": self.subject,
            "submissionDate": self.submitted_at.isoformat(),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "messageMetadata": self.meta(),
            "attachments": self.attachments,
            "evidences": [e.meta() for e in self.evidences],
        }


def _error(status: int, error: str, message: str) -> Answer:
    return status, {"error": error, "message": message[:300]}


def _moment(value: Any) -> datetime | None:
    """An ISO 8601 moment (naive: UTC); ValueError when it is not one."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("at")
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class FakeEDoreczenia:
    """The fake provider. State (`messages` by id, `requests`) is public for tests; change it only under
    `lock` while the server runs."""

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        host: str = "127.0.0.1",
        token_ttl: int = TOKEN_TTL,
        verbose: bool = False,
    ):
        self.client_id = client_id or os.environ.get("GISPORTAL_EDORECZENIA_CLIENT_ID") or DEFAULT_CLIENT_ID
        self.client_secret = client_secret or os.environ.get("GISPORTAL_EDORECZENIA_SECRET") or DEFAULT_SECRET
        self.host = host
        self.token_ttl = token_ttl
        self.verbose = verbose
        self.lock = threading.RLock()
        self.messages: dict[str, FakeMessage] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API request, failed ones too
        self.oversize_bytes = 3 * 1024 * 1024
        self._tokens: dict[str, float] = {}  # token → monotonic expiry
        self._clock: datetime | None = None
        self._failures: list[tuple[str, int, float]] = []  # (mode, status, hang) per coming request
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # ---- lifecycle
    def start(self, port: int | None = None) -> str:
        """Serve in a daemon thread; returns the base URL. Without `port`: the one used before (a restart
        keeps the messages), else any free one."""
        if self._server is not None:
            raise RuntimeError("the fake e-Doręczenia is already running")
        server = _Server((self.host, self._port if port is None else port), _Handler)
        server.fake = self
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-edoreczenia", daemon=True
        )
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        """Stop listening (connections are refused until `start()` again); the state stays."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeEDoreczenia:
        if self._server is None:
            self.start(0)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- controls
    def now(self) -> datetime:
        with self.lock:
            return self._clock or datetime.now(UTC)

    def set_time(self, at: datetime | None) -> None:
        """Stop the provider's clock at `at` (aware; None: the real clock again)."""
        if at is not None and at.tzinfo is None:
            raise ValueError("give an aware datetime")
        with self.lock:
            self._clock = at

    def fail_next(self, count: int = 1, mode: str = "error", *, status: int = 500, hang: float = 1.0) -> None:
        if mode not in FAIL_MODES:
            raise ValueError(f"mode must be one of {FAIL_MODES}")
        if not 0 <= count <= 1000 or not 100 <= status <= 599 or not 0 <= hang <= 60:
            raise ValueError("count 0-1000, status 100-599, hang 0-60 s")
        with self.lock:
            self._failures = [(mode, status, hang)] * count

    def revoke_tokens(self) -> None:
        with self.lock:
            self._tokens.clear()

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.requests.clear()
            self._tokens.clear()
            self._failures.clear()
            self._clock = None

    def find(self, message_id: str) -> FakeMessage:
        """A message by the provider's id, or by our `<sender>/<id>` form; KeyError when unknown."""
        with self.lock:
            return self.messages[message_id.rsplit("/", 1)[-1]]

    def open(self, message_id: str, at: datetime | None = None) -> FakeEvidence:
        """The addressee opens the message: a dowód otrzymania (once; again: the first one)."""
        return self._receipt(message_id, at, deemed=False)

    def deem(self, message_id: str, at: datetime | None = None) -> FakeEvidence:
        """The provider issues the dowód otrzymania for a message left unopened."""
        return self._receipt(message_id, at, deemed=True)

    def messages_list(self) -> list[dict[str, Any]]:
        with self.lock:
            return [m.as_dict() for m in sorted(self.messages.values(), key=lambda m: m.submitted_at)]

    def take_failure(self) -> tuple[str, int, float] | None:
        with self.lock:
            return self._failures.pop(0) if self._failures else None

    # ---- state changes
    def _receipt(self, message_id: str, at: datetime | None, *, deemed: bool) -> FakeEvidence:
        if at is not None and at.tzinfo is None:
            raise ValueError("give an aware datetime")
        with self.lock:
            message = self.find(message_id)
            known = next((e for e in message.evidences if e.type == "ContentHandover"), None)
            if known is not None:
                return known
            return self._evidence(message, "ContentHandover", at or self.now(), deemed=deemed)

    def _evidence(
        self, message: FakeMessage, kind: str, at: datetime, *, deemed: bool = False
    ) -> FakeEvidence:
        evidence_id = str(uuid.uuid4())
        root = ET.Element(f"{{{EV_NS}}}Evidence")

        def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
            node = ET.SubElement(parent, f"{{{EV_NS}}}{tag}", attrs)
            if text is not None:
                node.text = text
            return node

        el(root, "EvidenceIdentifier", evidence_id)
        el(root, "EventCode", kind)
        el(root, "EventName", EVENT_NAMES[kind])
        el(root, "EventTime", at.isoformat())
        el(root, "Deemed", "true" if deemed else "false")
        el(root, "MessageIdentifier", message.id)
        el(root, "SubmissionTime", message.submitted_at.isoformat())
        el(el(root, "Sender"), "EDeliveryAddress", message.sender)
        recipients = el(root, "Recipients")
        for address in message.recipients:
            el(recipients, "EDeliveryAddress", address)
        el(root, "ContentDigest", message.digest, Algorithm="SHA-256")
        el(root, "Issuer", "atrapa e-Doręczeń (dowód bez pieczęci, do testów i pokazu)")
        xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        evidence = FakeEvidence(id=evidence_id, type=kind, at=at, deemed=deemed, xml=xml)
        message.evidences.append(evidence)
        return evidence

    # ---- the REST API (pure: parsed request in, status and body out)
    def api(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if path == TOKEN_PATH:
            return (
                self._token(method, headers, body) if method == "POST" else _error(405, "method", "POST only")
            )
        if not path.startswith(API_PREFIX + "/"):
            return _error(404, "not_found", "Not Found")
        if not self._authorized(headers.get("authorization", "")):
            return _error(401, "invalid_token", "Missing, unknown or expired bearer token")
        parts = [urllib.parse.unquote(p) for p in path[len(API_PREFIX) + 1 :].split("/")]
        mailbox = parts[0]
        if not ADE_RE.fullmatch(mailbox):
            return _error(400, "invalid_address", "The mailbox in the path is not an e-delivery address")
        rest = parts[1:]
        try:
            if rest == ["messages"] and method == "POST":
                return self._send(mailbox, headers.get("idempotency-key", ""), body)
            if rest == ["messages"] and method == "GET":
                with self.lock:
                    mine = [m.meta() for m in self.messages.values() if m.sender == mailbox]
                return 200, {"messages": mine}
            if len(rest) in (2, 3) and rest[0] == "messages" and method == "GET":
                with self.lock:
                    message = self.messages.get(rest[1])
                    if message is None or message.sender != mailbox:
                        return _error(404, "message_not_found", "No such message in this mailbox")
                    if len(rest) == 2:
                        return 200, {"messageMetadata": message.meta(), "attachments": message.attachments}
                    if rest[2] == "evidences":
                        return 200, {"evidences": [e.meta() for e in message.evidences]}
            if len(rest) == 2 and rest[0] == "evidences" and method == "GET":
                with self.lock:
                    for message in self.messages.values():
                        if message.sender != mailbox:
                            continue
                        for evidence in message.evidences:
                            if evidence.id == rest[1]:
                                return 200, evidence.xml
                return _error(404, "evidence_not_found", "No such evidence in this mailbox")
        except (ValueError, UnicodeDecodeError) as e:
            return _error(400, "invalid_request", f"Invalid request: {e}")
        return _error(404, "not_found", "Not Found")

    def _token(self, method: str, headers: dict[str, str], body: bytes) -> Answer:
        if len(body) > MAX_FORM:
            return _error(413, "invalid_request", "Too large")
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), max_num_fields=20)
        client_id = form.get("client_id", [""])[0]
        secret = form.get("client_secret", [""])[0]
        auth = headers.get("authorization", "")
        if auth.lower().startswith("basic "):  # client_secret_basic as well
            try:
                client_id, _sep, secret = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return 401, {"error": "invalid_client", "error_description": "Invalid client credentials"}
        if form.get("grant_type", [""])[0] != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "client_credentials only"}
        ok = hmac.compare_digest(client_id.encode(), self.client_id.encode()) & hmac.compare_digest(
            secret.encode(), self.client_secret.encode()
        )
        if not ok:
            return 401, {"error": "invalid_client", "error_description": "Invalid client credentials"}
        token = secrets.token_urlsafe(32)
        with self.lock:
            now = time.monotonic()
            self._tokens = {t: until for t, until in self._tokens.items() if until > now}
            self._tokens[token] = now + self.token_ttl
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl}

    def _authorized(self, header: str) -> bool:
        if not header.startswith("Bearer "):
            return False
        with self.lock:
            until = self._tokens.get(header[7:])
        return until is not None and until > time.monotonic()

    def _send(self, mailbox: str, key: str, body: bytes) -> Answer:
        data = json.loads(body.decode("utf-8"))
        meta = data.get("messageMetadata") if isinstance(data, dict) else None
        if not isinstance(meta, dict):
            return _error(400, "invalid_request", "messageMetadata is required")
        senders = meta.get("from")
        if not isinstance(senders, list) or len(senders) != 1 or not isinstance(senders[0], dict):
            return _error(400, "invalid_request", "messageMetadata.from: one sender")
        if senders[0].get("eDeliveryAddress") != mailbox:
            return _error(403, "forbidden", "The sender is not this mailbox")
        to = meta.get("to")
        if not isinstance(to, list) or not 1 <= len(to) <= 100:
            return _error(400, "invalid_request", "messageMetadata.to: 1-100 recipients")
        recipients = []
        for item in to:
            address = item.get("eDeliveryAddress") if isinstance(item, dict) else None
            if not isinstance(address, str) or not ADE_RE.fullmatch(address):
                return _error(400, "invalid_address", f"Invalid e-delivery address: {str(address)[:40]}")
            if address.endswith("-00"):
                return _error(422, "recipient_unknown", f"Unknown e-delivery address {address}")
            recipients.append(address)
        subject = meta.get("subject")
        if not isinstance(subject, str) or not subject.strip() or len(subject) > 255:
            return _error(400, "invalid_request", "messageMetadata.subject: 1-255 characters")
        attachments = data.get("attachments")
        if not isinstance(attachments, list) or not 1 <= len(attachments) <= 50:
            return _error(400, "invalid_request", "attachments: 1-50 files")
        files, digest = [], hashlib.sha256()
        for item in attachments:
            if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) for k in ("filename", "mimeType", "content")
            ):
                return _error(400, "invalid_request", "attachments: filename, mimeType, content")
            try:
                content = base64.b64decode(item["content"], validate=True)
            except binascii.Error:
                return _error(400, "invalid_request", "attachments: content is not base64")
            digest.update(content)
            files.append(
                {
                    "filename": item["filename"][:200],
                    "mimeType": item["mimeType"][:100],
                    "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                }
            )
        with self.lock:
            if key:
                known = next(
                    (m for m in self.messages.values() if m.sender == mailbox and m.idempotency_key == key),
                    None,
                )
                if known is not None:
                    if known.digest != digest.hexdigest() or known.recipients != recipients:
                        return _error(409, "conflict", "Idempotency-Key reused for another message")
                    return 200, known.as_dict()
            now = self.now()
            message = FakeMessage(
                id=str(uuid.uuid4()),
                sender=mailbox,
                recipients=recipients,
                subject=subject,
                attachments=files,
                digest=digest.hexdigest(),
                submitted_at=now,
                idempotency_key=key[:100],
            )
            self._evidence(message, "SubmissionAcceptance", now)
            self._evidence(message, "ContentConsignment", now)
            self.messages[message.id] = message
            return 201, message.as_dict()

    # ---- the control API
    def control(self, method: str, path: str, params: dict[str, Any]) -> Answer:
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")][1:]  # after "_fake"
        try:
            if parts == ["messages"] and method == "GET":
                return 200, {"messages": self.messages_list()}
            if method != "POST":
                return _error(405, "method", "POST")
            if len(parts) == 3 and parts[0] == "messages" and parts[2] in ("open", "deem"):
                if not _ID_RE.fullmatch(parts[1]):
                    return _error(404, "message_not_found", "No such message")
                at = _moment(params.get("at"))
                evidence = (self.open if parts[2] == "open" else self.deem)(parts[1], at)
                return 200, evidence.meta()
            if parts == ["fail"]:
                self.fail_next(
                    int(params.get("count", 1)),
                    str(params.get("mode", "error")),
                    status=int(params.get("status", 500)),
                    hang=float(params.get("hang", 1.0)),
                )
                return 200, {"ok": True}
            if parts == ["clock"]:
                self.set_time(_moment(params.get("at")))
                return 200, {"now": self.now().isoformat()}
            if parts == ["reset"]:
                self.reset()
                return 200, {"ok": True}
        except KeyError:
            return _error(404, "message_not_found", "No such message")
        except (ValueError, TypeError) as e:
            return _error(400, "invalid_request", str(e))
        return _error(404, "not_found", "Not Found")

    def page(self) -> str:
        """The demo's page: every message with its evidences and a button to open it as the addressee."""
        rows = []
        for m in self.messages_list():
            meta = m["messageMetadata"]
            kinds = ", ".join(
                EVENT_NAMES.get(e["evidenceType"], e["evidenceType"]) + (" (uznany)" if e["deemed"] else "")
                for e in m["evidences"]
            )
            opened = any(e["evidenceType"] == "ContentHandover" for e in m["evidences"])
            mid = html.escape(meta["messageId"], quote=True)
            action = (
                "odebrana"
                if opened
                else f'<form method="post" action="/_fake/messages/{mid}/open">'
                f'<button type="submit">Odbierz jako adresat</button></form>'
                f'<form method="post" action="/_fake/messages/{mid}/deem">'
                f'<button type="submit">Wystaw dowód otrzymania (nieodebrana)</button></form>'
            )
            rows.append(
                "<tr>"
                f"<td>{html.escape(meta['submissionDate'])}</td>"
                f"<td>{html.escape(meta['from'][0]['eDeliveryAddress'])}</td>"
                f"<td>{html.escape(', '.join(t['eDeliveryAddress'] for t in meta['to']))}</td>"
                f"<td>{html.escape(meta['subject'])}</td>"
                f"<td>{html.escape(kinds)}</td>"
                f"<td>{action}</td>"
                "</tr>"
            )
        table = (
            "<table><caption>Wysłane wiadomości</caption><thead><tr>"
            '<th scope="col">Nadano</th><th scope="col">Nadawca</th><th scope="col">Adresat</th>'
            '<th scope="col">Temat</th><th scope="col">Dowody</th><th scope="col">Działanie</th>'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            if rows
            else "<p>Nie wysłano jeszcze żadnej wiadomości.</p>"
        )
        return (
            '<!DOCTYPE html>\n<html lang="pl"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>e-Doręczenia (atrapa)</title></head><body><main>"
            "<h1>e-Doręczenia – atrapa dostawcy usługi</h1>"
            "<p>Lokalna atrapa do testów i pokazu: nic nie wychodzi poza ten komputer, "
            "a dowody nie są opieczętowane.</p>"
            f"{table}</main></body></html>"
        )


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeEDoreczenia/1.0"  # HTTP/1.0: a connection per request (stop() really stops)
    server: _Server

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path
        control = path == "/_fake" or path.startswith("/_fake/")
        body = self._body(MAX_FORM if control else MAX_BODY)
        if body is None:
            self._send(413, {"error": "too_large", "message": "Request too large"})
            return
        if control:
            self._control(method, path, parts.query, body)
            return
        with fake.lock:
            fake.requests.append((method, path))
        failure = fake.take_failure()
        mode, status, hang = failure if failure else ("", 0, 0.0)
        if mode == "timeout":
            time.sleep(hang)
            self.close_connection = True
            return
        if mode == "error":
            self._send(status, {"error": "server_error", "message": "Simulated failure"})
            return
        if mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "oversize":
            self._send(200, b"{" + b" " * fake.oversize_bytes + b"}", content_type="application/json")
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload = fake.api(method, path, headers, body)
        if mode == "slow":  # done, but the answer comes too late
            time.sleep(hang)
        self._send(status, payload)

    def _control(self, method: str, path: str, query: str, body: bytes) -> None:
        fake = self.server.fake
        if path in ("/_fake", "/_fake/") and method == "GET":
            self._send(200, fake.page().encode("utf-8"), content_type="text/html; charset=utf-8")
            return
        params: dict[str, Any] = {k: v[0] for k, v in urllib.parse.parse_qs(query, max_num_fields=10).items()}
        is_form = (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded")
        try:
            if body.strip() and is_form:
                parsed = urllib.parse.parse_qs(body.decode("utf-8"), max_num_fields=10)
                params.update({k: v[0] for k, v in parsed.items()})
            elif body.strip():
                data = json.loads(body.decode("utf-8"))
                if not isinstance(data, dict):
                    raise ValueError("a JSON object")
                params.update(data)
        except (ValueError, UnicodeDecodeError):
            self._send(400, {"error": "invalid_request", "message": "JSON object or form expected"})
            return
        status, payload = fake.control(method, path, params)
        if is_form and method == "POST" and status == 200:  # the page's buttons: back to the page
            self.send_response(303)
            self.send_header("Location", "/_fake/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(status, payload)

    def _body(self, limit: int) -> bytes | None:
        length = (self.headers.get("Content-Length") or "0").strip()
        if not length.isdigit() or int(length) > limit:
            self.close_connection = True
            return None
        return self.rfile.read(int(length)) if int(length) else b""

    def _send(self, status: int, payload: Any, *, content_type: str | None = None) -> None:
        if isinstance(payload, bytes):
            data = payload
            kind = content_type or "application/xml"
        else:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            kind = content_type or "application/json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            if kind.startswith("text/html"):
                self.send_header("Content-Security-Policy", "default-src 'none'; form-action 'self'")
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up ("slow")
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.fake.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeEDoreczenia

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        logger.debug("fake e-Doręczenia: error serving %s", client_address, exc_info=True)


# ------------------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.delivery.adapters.fake_edoreczenia",
        description="Run a local fake e-Doręczenia provider for tests and the demo.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8096, help="port (default 8096; 0 = any free port)")
    parser.add_argument(
        "--client-id", default=None, help="default: $GISPORTAL_EDORECZENIA_CLIENT_ID or the demo's"
    )
    parser.add_argument(
        "--client-secret", default=None, help="default: $GISPORTAL_EDORECZENIA_SECRET or the demo's"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    fake = FakeEDoreczenia(args.client_id, args.client_secret, host=args.host, verbose=args.verbose)

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        fake.start(args.port)
    except OSError as e:
        print(f"fake e-Doręczenia: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    print(
        f"fake e-Doręczenia: client {fake.client_id} at {fake.url} (messages: {fake.url}/_fake/)", flush=True
    )
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
