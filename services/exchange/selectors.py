"""Reads of the exchange register (the clerk's pages): an office's envelopes, both directions, and the
readable parts of one envelope (its body, files, seal check and receipt)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from . import envelope as env_format
from .models import Direction, Envelope, Kind, Status

# (office, case ids) -> {case id: sign} of the office's own cases: registered at start-up by the case
# register (services/exchange does not import cases); without it a case is shown by its number
CASE_SIGNS: list[Callable[[Any, list[int]], dict[int, str]]] = []
MAX_VALUE = 500  # a value of the request's data shown on the page


def office_envelopes(office, *, direction: str = "", kind: str = "") -> QuerySet[Envelope]:
    """The office's envelopes, newest first; unknown filter values are ignored. The bodies (with their
    files) are not read."""
    qs = Envelope.objects.filter(office=office).defer("body", "seal").order_by("-created_at", "-pk")
    if direction in Direction.values:
        qs = qs.filter(direction=direction)
    if kind in Kind.values:
        qs = qs.filter(kind=kind)
    return qs


def office_envelope(office, pk: int) -> Envelope | None:
    return Envelope.objects.filter(office=office, pk=pk).first()


def case_signs(office, case_ids: Iterable[int | None]) -> dict[int, str]:
    """The signs of the office's cases among `case_ids` (empty without the case register's callback)."""
    ids = sorted({i for i in case_ids if i is not None})
    out: dict[int, str] = {}
    if ids:
        for hook in CASE_SIGNS:
            out.update(hook(office, ids))
    return out


def case_known(office, case_id: int) -> bool:
    """Whether `case_id` is one of the office's cases; True when nobody can tell (no callback)."""
    return not CASE_SIGNS or case_id in case_signs(office, [case_id])


def _flat(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif value is None:
        text = "—"
    elif isinstance(value, bool | int | float):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"


def _items(data: Any) -> list[tuple[str, str]]:
    if not isinstance(data, dict):
        return [] if data is None else [("", _flat(data))]
    return [(str(k)[:100], _flat(v)) for k, v in data.items()]


def envelope_view(row: Envelope) -> dict[str, Any]:
    """What the envelope page shows of the sealed JSON: the text (request, answer) or the forwarded case
    (sign, applicant, the request's data as key: value), the files, the receipt (outgoing)."""
    try:
        env = env_format.parse(bytes(row.body))
    except env_format.BadEnvelope:  # stored only after the same check: not expected
        env = {}
    body = env.get("body") if isinstance(env.get("body"), dict) else {}
    view: dict[str, Any] = {
        "created": env.get("created", ""),
        "sender": env.get("from") or {},
        "text": str(body.get("text") or "") if row.kind != Kind.CASE_FORWARD else "",
        "files": [
            {
                "n": n,
                "name": str(f.get("name", "")),
                "type": str(f.get("content_type", "")),
                "size": f.get("size"),
            }
            for n, f in enumerate(env.get("files") or [], start=1)
        ],
        "receipt": receipt_view(row.receipt) if row.direction == Direction.OUT else None,
    }
    if row.kind == Kind.CASE_FORWARD:
        case = body.get("case") if isinstance(body.get("case"), dict) else {}
        applicant = body.get("applicant") if isinstance(body.get("applicant"), dict) else {}
        request = body.get("request") if isinstance(body.get("request"), dict) else {}
        view["forward"] = {
            "sign": str(case.get("sign") or ""),
            "subject": str(case.get("subject") or ""),
            "received_on": str(case.get("received_on") or ""),
            "parcels": [str(p) for p in case.get("parcels") or []][:50],
            "applicant": {k: str(applicant.get(k) or "") for k in ("name", "email", "address")},
            "service": str(request.get("service") or ""),
            "data": _items(request.get("data")),
            "note": str(body.get("note") or ""),
        }
    return view


def receipt_view(receipt: dict | None) -> dict[str, Any] | None:
    """The receiving office's receipt kept with an outgoing envelope: when, by whom, whether its seal
    verified (outbox_deliver checked it with the signature verifier)."""
    if not receipt:
        return None
    receiver: dict = {}
    try:
        signed = json.loads(base64.b64decode(str(receipt.get("receipt", "")), validate=True))
        if isinstance(signed, dict) and isinstance(signed.get("receiver"), dict):
            receiver = signed["receiver"]
    except (binascii.Error, ValueError, UnicodeDecodeError):
        pass
    try:
        received_at = datetime.fromisoformat(str(receipt.get("received_at", "")))
    except ValueError:
        received_at = None
    hub = str(receiver.get("hub") or "")
    return {
        "status": str(receipt.get("status", "")),
        "received_at": received_at,
        "receiver": str(receiver.get("name") or receiver.get("office") or ""),
        "receiver_hub": "" if hub == settings.GISPORTAL_EXCHANGE_HUB else hub,
        "verified": receipt.get("verified") is True,
    }


def envelope_file(row: Envelope, n: int) -> tuple[str, str, bytes] | None:
    """The n-th file (from 1) of the envelope, or None."""
    try:
        env = env_format.parse(bytes(row.body))
        files = env.get("files") or []
        if not 1 <= n <= len(files):
            return None
        f = files[n - 1]
        return str(f.get("name", "")), str(f.get("content_type", "")), env_format.file_content(f)
    except env_format.BadEnvelope:
        return None


def related(row: Envelope) -> dict[str, Any]:
    """The request an answer replies to, and the answers to a request, within the same office."""
    out: dict[str, Any] = {"request": None, "answers": []}
    if row.in_reply_to:
        out["request"] = (
            Envelope.objects.filter(office=row.office_id, envelope_id=row.in_reply_to)
            .exclude(pk=row.pk)
            .defer("body", "seal")
            .first()
        )
    if row.kind == Kind.REQUEST:
        out["answers"] = list(
            Envelope.objects.filter(office=row.office_id, kind=Kind.ANSWER, in_reply_to=row.envelope_id)
            .defer("body", "seal")
            .order_by("created_at")
        )
    return out


def answerable(row: Envelope) -> bool:
    return (
        row.direction == Direction.IN
        and row.kind == Kind.REQUEST
        and row.status
        in (
            Status.RECEIVED,
            Status.PROCESSED,
        )
    )
