"""The sandbox gateway, on in the demo: a hosted page at /platnosci/sandbox/<payment id>/ where the
payer chooses the outcome, and notifications signed and sent as a gateway would (HMAC-SHA256 of the raw
body in the `X-Sandbox-Signature` header; possibly twice; the first before the payer's browser returns).

It stands for the gateway's side, so unlike the other adapters it keeps a book of its own
(`SandboxTransaction`), which reconciliation reads as it reads a real gateway's report.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import date

from django.conf import settings
from django.urls import reverse

from ..models import SandboxTransaction
from . import InvalidNotification, Notification, ProviderError, RemoteStatus, Started, StartRequest

HEADER = "X-Sandbox-Signature"
MAX_BODY = 64 * 1024
FIELDS = {"sessionId": str, "orderId": int, "amount": int, "currency": str, "outcome": str, "eventId": str}


def _key() -> bytes:
    configured = getattr(settings, "GISPORTAL_SANDBOX_KEY", "")
    base = (
        configured or hmac.new(settings.SECRET_KEY.encode(), b"payments-sandbox", hashlib.sha256).hexdigest()
    )
    return base.encode()


def signature(body: bytes) -> str:
    return hmac.new(_key(), body, hashlib.sha256).hexdigest()


def notification_body(tx: SandboxTransaction, outcome: str, *, event: str = "1") -> bytes:
    doc = {
        "sessionId": tx.session_id,
        "orderId": tx.order_id,
        "amount": tx.amount,
        "currency": tx.currency,
        "outcome": outcome,
        "eventId": f"{tx.order_id}:{outcome}:{event}",
    }
    return json.dumps(doc, separators=(",", ":")).encode()


class Sandbox:
    name = "sandbox"

    def start(self, req: StartRequest) -> Started:
        tx, _created = SandboxTransaction.objects.get_or_create(
            session_id=req.session_id,
            defaults={
                "payment_id": req.payment_id,
                "amount": req.amount,
                "currency": req.currency,
                "description": req.description[:200],
                "return_url": req.return_url,
            },
        )
        url = settings.GISPORTAL_PUBLIC_URL + reverse("payment_sandbox", args=[tx.payment_id])
        return Started(redirect_url=f"{url}?s={tx.session_id}", provider_ref=str(tx.order_id))

    def parse_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        if len(body) > MAX_BODY:
            raise InvalidNotification("body too large")
        given = headers.get(HEADER) or headers.get(HEADER.lower()) or ""
        if not given or not hmac.compare_digest(given.encode(), signature(body).encode()):
            raise InvalidNotification("signature does not verify")
        try:
            doc = json.loads(body)
        except ValueError:
            raise InvalidNotification("not JSON") from None
        if not isinstance(doc, dict) or any(
            type(doc.get(k)) is not t for k, t in FIELDS.items()
        ):  # bool is not int here
            raise InvalidNotification("fields missing or of the wrong type")
        if doc["outcome"] not in ("paid", "failed"):
            raise InvalidNotification("unknown outcome")
        return Notification(
            session_id=doc["sessionId"],
            order_id=str(doc["orderId"]),
            amount=doc["amount"],
            currency=doc["currency"],
            outcome=doc["outcome"],
            event_id=f"sandbox:{doc['eventId']}",
            raw=doc,
        )

    def confirm(self, n: Notification) -> None:
        tx = SandboxTransaction.objects.filter(session_id=n.session_id).first()
        if tx is None or str(tx.order_id) != n.order_id or tx.status != "paid" or tx.amount != n.amount:
            raise ProviderError("the sandbox does not confirm this payment")

    def status(self, session_id: str) -> RemoteStatus | None:
        tx = SandboxTransaction.objects.filter(session_id=session_id).first()
        return None if tx is None else _remote(tx)

    def refund(
        self, *, session_id: str, order_id: str, amount: int, description: str, request_id: str
    ) -> str:
        tx = SandboxTransaction.objects.filter(session_id=session_id, status="paid").first()
        if tx is None or amount > tx.amount:
            raise ProviderError("the sandbox has no such paid transaction or the amount is too high")
        if amount == tx.amount:
            tx.status = "refunded"
            tx.save(update_fields=["status"])
        return f"sandbox-refund:{request_id}"

    def report(self, day: date) -> list[RemoteStatus]:
        return [_remote(tx) for tx in SandboxTransaction.objects.filter(created_at__date=day)]


def _remote(tx: SandboxTransaction) -> RemoteStatus:
    status = {"paid": "paid", "failed": "failed", "refunded": "refunded", "abandoned": "failed"}.get(
        tx.status, "pending"
    )
    return RemoteStatus(tx.session_id, str(tx.order_id), status, tx.amount, tx.currency, tx.paid_at)


def http_notify(body: bytes, headers: dict[str, str]) -> dict:
    """POST a notification to our own notification URL (GISPORTAL_INTERNAL_URL, the public URL unless set:
    configuration, never a user's input), as the gateway does; raises on anything but 200 so the task
    retries."""
    import urllib.request

    url = settings.GISPORTAL_INTERNAL_URL + reverse("api:payments_notify", args=["sandbox"])
    req = urllib.request.Request(  # noqa: S310 (our own configured URL, http or https)
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    opener = urllib.request.build_opener(urllib.request.HTTPHandler, urllib.request.HTTPSHandler)
    opener.handlers = [h for h in opener.handlers if not isinstance(h, urllib.request.HTTPRedirectHandler)]
    with opener.open(req, timeout=10) as resp:
        return json.loads(resp.read(65536))


def complete(payment_id: str, session_id: str, outcome: str) -> tuple[SandboxTransaction, bytes | None]:
    """The payer's choice on the hosted page: the sandbox's book changes, and the notification to
    send (None for an abandoned payment, of which a gateway says nothing). Repeated choices change
    nothing once the transaction is decided."""
    from django.db import transaction
    from django.utils import timezone

    if outcome not in ("success", "failure", "abandon"):
        raise ProviderError("unknown outcome")
    with transaction.atomic():
        tx = (
            SandboxTransaction.objects.select_for_update()
            .filter(session_id=session_id, payment_id=payment_id)
            .first()
        )
        if tx is None:
            raise ProviderError("no such sandbox transaction")
        if tx.status == "new":
            tx.status = {"success": "paid", "failure": "failed", "abandon": "abandoned"}[outcome]
            tx.paid_at = timezone.now() if tx.status == "paid" else None
            tx.save(update_fields=["status", "paid_at"])
    if tx.status in ("paid", "failed"):
        return tx, notification_body(tx, "paid" if tx.status == "paid" else "failed")
    return tx, None
