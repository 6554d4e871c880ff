"""Writes of the exchange between offices. Order of work, so that nothing is lost or done twice:

- sending: `envelope_send` seals the envelope and stores it as an outbox row in the caller's transaction
  (the case change and its envelope commit together); `outbox_deliver` hands it over after the commit
  (on this hub: straight into the addressee office's inbox; to another hub: POST /api/exchange/inbox with that
  hub's API key) and keeps the receipt; a failure waits with back-off (`outbox_sweep`, Celery beat) until
  the peer acknowledges, a refusal that retrying cannot change ends it;
- receiving: `inbox_receive` checks the envelope's shape, its seal (the signature verifier, registered at
  start-up) and that the seal is the sending office's, stores it once by its id (a repeat gets the same
  receipt and is not processed again; another envelope under a used id is refused), seals a receipt, and
  after the commit hands it to the case register (INBOUND_HOOKS); a failed hand-over is repeated by the sweep.

The hubs and their API keys are configuration (GISPORTAL_EXCHANGE_PEERS): a user chooses an office, never
an address; requests go only to configured hubs, without redirects, within a timeout."""

from __future__ import annotations

import base64
import hashlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests
import urllib3.exceptions
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gisportal.core.errors import GisportalError, InvalidInput
from services.offices.models import Office

from . import envelope as env_format
from .models import Direction, Envelope, Kind, Status

log = logging.getLogger(__name__)
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=6)
MAX_ANSWER = 1024 * 1024

# (seal, body) -> {"ok": bool, "indication", "sub_indication", "signer": {...}}: the signature verifier,
# registered at start-up by gisportal/wiring (services may not import each other)
VERIFIERS: list[Callable[[bytes, bytes], dict]] = []
# (the incoming envelope row, the envelope) -> the case it opened or concerns (or None): the case register
INBOUND_HOOKS: list[Callable[[Envelope, dict], int | None]] = []


class Refused(GisportalError):
    """An envelope this hub does not accept (the sender must not retry it unchanged)."""

    code = "envelope_refused"
    status = 422


class Conflict(Refused):
    code = "envelope_conflict"
    status = 409


# ---------------------------------------------------------------- where an office is
def _peers() -> list[dict]:
    return [
        p for p in settings.GISPORTAL_EXCHANGE_PEERS if isinstance(p, dict) and p.get("hub") and p.get("url")
    ]


def route(office_code: str) -> dict:
    """{"hub": "", "office": Office} for an office of this hub, {"hub", "peer", "name"} for another hub's."""
    for peer in _peers():
        for o in peer.get("offices", []):
            if o.get("code") == office_code:
                return {"hub": peer["hub"], "peer": peer, "name": o.get("name", office_code)}
    office = Office.objects.filter(code=office_code, active=True).first()
    if office is None:
        raise InvalidInput(_("There is no such office to send to."))
    return {"hub": "", "office": office, "name": office.name}


def reachable_offices(sender) -> list[tuple[str, str, str]]:
    """(code, name, hub) of every office the sender can send to: this hub's others and the peers'."""
    out: dict[str, tuple[str, str, str]] = {}
    for peer in _peers():
        for o in peer.get("offices", []):
            if o.get("code") and o.get("code") != sender.code:
                out[o["code"]] = (o["code"], o.get("name", o["code"]), peer["hub"])
    for o in Office.objects.filter(active=True).exclude(pk=sender.pk).order_by("name"):
        out.setdefault(o.code, (o.code, o.name, ""))
    return sorted(out.values(), key=lambda r: r[1])


# ---------------------------------------------------------------- sending
def envelope_send(
    *,
    office,
    to_office: str,
    kind: str,
    subject: str,
    body: dict[str, Any],
    files: list[tuple[str, str, bytes]] = (),
    in_reply_to=None,
    case_id: int | None = None,
) -> Envelope:
    """Seal and store an outgoing envelope (in the caller's transaction); it goes out after the commit."""
    if kind not in Kind.values:
        raise InvalidInput(_("Unknown kind of message."))
    subject = (subject or "").strip()
    if not subject:
        raise InvalidInput(_("Give the subject."))
    where = route(to_office)
    if where["hub"] == "" and where["office"].pk == office.pk:
        raise InvalidInput(_("An office does not send messages to itself."))
    envelope_id = uuid.uuid4()
    env = {
        "v": env_format.VERSION,
        "id": str(envelope_id),
        "kind": kind,
        "created": timezone.now().isoformat(),
        "from": {
            "hub": settings.GISPORTAL_EXCHANGE_HUB,
            "office": office.code,
            "name": office.name,
            "nip": office.nip,
        },
        "to": {"hub": where["hub"] or settings.GISPORTAL_EXCHANGE_HUB, "office": to_office},
        "in_reply_to": str(in_reply_to) if in_reply_to else None,
        "subject": subject[:300],
        "body": body,
        "files": [env_format.file_entry(n, t, c) for n, t, c in files],
    }
    raw = env_format.canonical(env)
    if len(raw) > env_format.MAX_ENVELOPE:
        raise InvalidInput(_("The message with its files is too large (at most 7 MB)."))
    row = Envelope.objects.create(
        envelope_id=envelope_id,
        direction=Direction.OUT,
        kind=kind,
        office=office,
        peer_office=to_office,
        peer_office_name=where["name"][:200],
        peer_hub=where["hub"],
        subject=subject[:300],
        in_reply_to=in_reply_to,
        case_id=case_id,
        body=raw,
        seal=env_format.seal(raw, office),
        status=Status.PENDING,
    )
    transaction.on_commit(lambda: _enqueue(row.pk))
    return row


def _enqueue(pk) -> None:
    from .tasks import outbox_deliver_task

    try:
        outbox_deliver_task.delay(pk)
    except Exception:  # the broker is down: the sweep sends it (the envelope is stored)
        log.warning("envelope %s not queued", pk, exc_info=True)


def outbox_deliver(pk, *, now: datetime | None = None) -> Envelope:
    """Hand one outgoing envelope over and keep the receipt; safe to repeat (an acknowledged or refused
    one is left alone; the peer answers a repeat with the same receipt)."""
    now = now or timezone.now()
    row = Envelope.objects.get(pk=pk, direction=Direction.OUT)
    if row.status != Status.PENDING:
        return row
    try:
        if row.peer_hub == "":
            receipt = inbox_receive(bytes(row.body), bytes(row.seal))
        else:
            receipt = _post(row)
    except Refused as e:
        return _outcome(pk, failed=str(e.message), now=now, retry=False)
    except _Retry as e:
        return _outcome(pk, failed=str(e), now=now, retry=True)
    receipt["verified"] = _receipt_verified(receipt)
    return _outcome(pk, receipt=receipt, now=now)


class _Retry(Exception):
    pass


def _post(row: Envelope) -> dict:
    peer = next((p for p in _peers() if p["hub"] == row.peer_hub), None)
    if peer is None:
        raise _Retry(f"hub {row.peer_hub} is not configured")
    try:
        r = requests.post(
            peer["url"].rstrip("/") + "/api/exchange/inbox",
            json={
                "envelope": base64.b64encode(bytes(row.body)).decode(),
                "seal": base64.b64encode(bytes(row.seal)).decode(),
            },
            headers={
                "Authorization": f"Bearer {peer.get('api_key', '')}",
                "User-Agent": "gisportal-exchange",
            },
            timeout=settings.GISPORTAL_EXCHANGE_TIMEOUT,
            allow_redirects=False,
            stream=True,
        )
        content = r.raw.read(MAX_ANSWER + 1, decode_content=True)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as e:  # the body read is urllib3's
        raise _Retry(f"{peer['hub']} unreachable: {e.__class__.__name__}") from e
    if len(content) > MAX_ANSWER:
        raise _Retry("the answer is too large")
    if r.status_code in (409, 422):
        raise Refused(_detail(content) or f"refused ({r.status_code})")
    if r.status_code != 200:
        raise _Retry(f"{peer['hub']} answered {r.status_code}")
    try:
        receipt = requests.models.complexjson.loads(content)
    except ValueError as e:
        raise _Retry("the answer is not JSON") from e
    if not isinstance(receipt, dict) or receipt.get("envelope_id") != str(row.envelope_id):
        raise _Retry("the answer is not this envelope's receipt")
    return receipt


def _detail(content: bytes) -> str:
    try:
        return str(requests.models.complexjson.loads(content).get("detail", ""))[:300]
    except (ValueError, AttributeError):
        return ""


def _receipt_verified(receipt: dict) -> bool:
    try:
        body, seal = base64.b64decode(receipt["receipt"]), base64.b64decode(receipt["receipt_seal"])
    except (KeyError, ValueError, TypeError):
        return False
    return any(v(seal, body).get("ok") for v in VERIFIERS)


def _outcome(
    pk, *, now: datetime, receipt: dict | None = None, failed: str = "", retry: bool = True
) -> Envelope:
    with transaction.atomic():
        row = Envelope.objects.select_for_update().get(pk=pk)
        if row.status != Status.PENDING:
            return row
        row.attempts += 1
        if receipt is not None:
            row.status, row.acknowledged_at, row.receipt, row.last_error = (
                Status.ACKNOWLEDGED,
                now,
                receipt,
                "",
            )
            row.next_attempt_at = None
        elif retry:
            row.last_error = failed[:300]
            row.next_attempt_at = now + min(RETRY_BASE * (2 ** min(row.attempts - 1, 12)), RETRY_MAX)
        else:
            row.status, row.last_error, row.next_attempt_at = Status.FAILED, failed[:300], None
        row.save()
    return row


# ---------------------------------------------------------------- receiving
def inbox_receive(body: bytes, seal: bytes, *, now: datetime | None = None) -> dict:
    """Accept an envelope (see the module); returns the receipt. Raises Refused (422) or Conflict (409)."""
    now = now or timezone.now()
    try:
        env = env_format.parse(body)
        envelope_id = uuid.UUID(env["id"])
    except (env_format.BadEnvelope, ValueError) as e:
        raise Refused(_("The envelope is malformed: %(reason)s.") % {"reason": str(e)}) from None
    office = Office.objects.filter(code=str(env["to"].get("office", "")), active=True).first()
    if office is None:
        raise Refused(_("The addressee office is not on this hub."))
    earlier = Envelope.objects.filter(envelope_id=envelope_id, direction=Direction.IN).first()
    if earlier is not None:
        if bytes(earlier.body) != body:
            raise Conflict(_("Another envelope with this identifier was received before."))
        return {**(earlier.receipt or {}), "status": "duplicate"}
    signer = _verify(seal, body, env)
    kind = env["kind"]
    reply = env.get("in_reply_to")
    try:
        with transaction.atomic():
            row = Envelope.objects.create(
                envelope_id=envelope_id,
                direction=Direction.IN,
                kind=kind,
                office=office,
                peer_office=str(env["from"].get("office", ""))[:60],
                peer_office_name=str(env["from"].get("name", ""))[:200],
                peer_hub=""
                if env["from"].get("hub") == settings.GISPORTAL_EXCHANGE_HUB
                else str(env["from"].get("hub", ""))[:60],
                subject=env["subject"][:300],
                in_reply_to=uuid.UUID(reply) if reply else None,
                body=body,
                seal=seal,
                status=Status.RECEIVED,
                signer=signer,
            )
            row.receipt = _receipt(row, office, now)
            row.save(update_fields=["receipt"])
            transaction.on_commit(lambda: inbox_process(row.pk))
    except IntegrityError:  # the same envelope arriving twice at once: the first one stands
        earlier = Envelope.objects.get(envelope_id=envelope_id, direction=Direction.IN)
        return {**(earlier.receipt or {}), "status": "duplicate"}
    return row.receipt


def _verify(seal: bytes, body: bytes, env: dict) -> dict:
    if not VERIFIERS:
        raise Refused(_("This hub cannot check seals now."))
    result = VERIFIERS[0](seal, body)
    if not result.get("ok"):
        raise Refused(
            _("The envelope's seal is not valid or not trusted here (%(reason)s).")
            % {"reason": result.get("sub_indication") or result.get("indication") or "?"}
        )
    signer = result.get("signer") or {}
    nip = str(env["from"].get("nip") or "")
    if nip:  # an office with a NIP: its seal must carry it (organizationIdentifier VATPL-<NIP>)
        same = signer.get("identifier_kind") == "NIP" and signer.get("identifier") == nip
    else:  # an office without one in our register: the seal must name it exactly
        same = (
            bool(signer.get("organisation"))
            and signer.get("organisation") == str(env["from"].get("name", ""))[:64]
        )
    if not same:
        raise Refused(_("The envelope is not sealed by the office it claims to come from."))
    return signer


def _receipt(row: Envelope, office, now: datetime) -> dict:
    """The receipt the sender keeps: which envelope (id and SHA-256) reached which office when, sealed by it."""
    from .envelope import canonical

    receipt = {
        "v": env_format.VERSION,
        "envelope_id": str(row.envelope_id),
        "sha256": hashlib.sha256(bytes(row.body)).hexdigest(),
        "received_at": now.isoformat(),
        "receiver": {
            "hub": settings.GISPORTAL_EXCHANGE_HUB,
            "office": office.code,
            "name": office.name,
            "nip": office.nip,
        },
    }
    raw = canonical(receipt)
    return {
        "envelope_id": str(row.envelope_id),
        "status": "accepted",
        "received_at": receipt["received_at"],
        "receipt": base64.b64encode(raw).decode(),
        "receipt_seal": base64.b64encode(env_format.seal(raw, office)).decode(),
    }


def inbox_process(pk) -> Envelope:
    """Hand a received envelope to the case register (once; a failure is repeated by the sweep)."""
    with transaction.atomic():
        row = Envelope.objects.select_for_update().get(pk=pk, direction=Direction.IN)
        if row.status != Status.RECEIVED:
            return row
        env = env_format.parse(bytes(row.body))
        try:
            with transaction.atomic():
                for hook in INBOUND_HOOKS:
                    case_id = hook(row, env)
                    if case_id is not None:
                        row.case_id = case_id
                row.status = Status.PROCESSED
                row.save(update_fields=["status", "case_id"])
        except Exception:
            log.exception("incoming envelope %s not processed (the sweep repeats it)", row.envelope_id)
    return row


def outbox_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Envelopes whose turn has come: pending ones sent again, received ones not yet processed."""
    now = now or timezone.now()
    counts = {"sent": 0, "processed": 0}
    due = Envelope.objects.filter(direction=Direction.OUT, status=Status.PENDING).filter(
        Q(next_attempt_at__lte=now)
        | Q(next_attempt_at__isnull=True, created_at__lte=now - timedelta(minutes=1))
    )
    for row in due.order_by("created_at")[:200]:
        counts["sent"] += int(outbox_deliver(row.pk, now=now).status == Status.ACKNOWLEDGED)
    stuck = Envelope.objects.filter(
        direction=Direction.IN, status=Status.RECEIVED, created_at__lte=now - timedelta(minutes=1)
    )
    for row in stuck[:200]:
        counts["processed"] += int(inbox_process(row.pk).status == Status.PROCESSED)
    return counts


def envelope_files(row: Envelope) -> list[tuple[str, str, bytes]]:
    env = env_format.parse(bytes(row.body))
    return [(f["name"], f["content_type"], env_format.file_content(f)) for f in env.get("files") or []]
