"""The case register's side of delivery (services/delivery does not know cases: ARCHITECTURE §4).

- When a case is settled, the documents that settle it go to the applicant through the channel the request
  chose: the portal inbox (the default for a logged-in e-filer), e-Doręczenia (the AE address given), or
  registered post (the postal address; paper-filed cases). "In person at the office" and documents that are
  data made available (register extracts, map extracts, downloaded from the request page) are not
  delivered here: the clerk records those as before.
- A call to supplement the request (art. 64 § 2) and a notice of delay (art. 36) are letters of their own,
  delivered the same way; the time to supplement runs from the call's delivery.
- A delivery that ends (opened, signed for, deemed) moves the case to "delivered" with the date, the way and
  the end of the appeal or complaint period; a letter that comes back undelivered is noted for the clerk.
- A document delivered through the inbox stays closed on the request's pages until its addressee confirms
  receipt (`held_back`, asked by services.documents before a download)."""

from __future__ import annotations

import logging

from django.db import transaction

from services.delivery.actions import DeliveryDone, delivery_create
from services.delivery.models import Channel, Kind
from services.delivery.selectors import held_back as delivery_held_back
from services.documents.models import IssuedDocument
from services.forms.selectors import delivery_of

from .models import Case, CaseDocument, State

log = logging.getLogger(__name__)
ISSUED_KINDS = {"zoning_certificate": Kind.CERTIFICATE}  # issued products delivered under the KPA
FILED_KINDS = {
    "decision": Kind.DECISION,
    "letter": Kind.LETTER,
    "call_art64": Kind.CALL,
    "notice_art36": Kind.LETTER,
}
METHOD_OF_CHANNEL = {Channel.PORTAL: "portal", Channel.EDORECZENIA: "edoreczenia", Channel.PAPER: "post"}


def route(case: Case) -> dict | None:
    """How the case's documents reach the applicant: {"channel", "ade_address", "postal_address"}, or None
    (collected in person, or nothing to deliver to)."""
    sub = case.submission
    choice = delivery_of(sub.data or {}) if sub is not None else None
    method = choice["method"] if choice else None
    if method is None and sub is not None and sub.user_id is not None:
        method = "portal"  # an e-filer who was not asked: the inbox of the account that filed
    if method is None and case.applicant_address:
        method = "post"
    postal = (choice or {}).get("postal_address") or case.applicant_address
    if method == "portal" and case.applicant_user_id is not None:
        return {"channel": Channel.PORTAL}
    if method == "ade" and (choice or {}).get("ade_address"):
        return {"channel": Channel.EDORECZENIA, "ade_address": choice["ade_address"]}
    if method in ("post", "portal") and postal:
        return {"channel": Channel.PAPER, "postal_address": postal}
    return None


def _document(key: str):
    """(kind, title, content, file name, content type) of a settling document, None when it is not one
    delivered under the KPA."""
    prefix, _sep, ident = key.partition(":")
    if prefix == "issued":
        doc = IssuedDocument.objects.filter(pk=ident).first()
        if doc is None or doc.kind not in ISSUED_KINDS:
            return None
        return (
            ISSUED_KINDS[doc.kind],
            f"{doc.title} {doc.number}",
            bytes(doc.pdf),
            f"{doc.number}.pdf".replace("/", "-"),
            "application/pdf",
        )
    if prefix == "case":
        doc = CaseDocument.objects.filter(pk=ident, direction="out").first()
        if doc is None or doc.kind not in FILED_KINDS:
            return None
        with doc.file.open("rb") as f:
            content = f.read()
        return FILED_KINDS[doc.kind], doc.name, content, doc.name, doc.content_type
    return None


def case_deliveries_start(case: Case, keys: list[str], *, period_days: int | None = None) -> list:
    """Deliveries of the documents that settled the case (in the same transaction as the settling step:
    stored with it, sent after the commit). Nothing for a route-less case."""
    where = route(case)
    if where is None:
        return []
    out = []
    for key in keys:
        doc = _document(key)
        if doc is None:
            continue
        kind, title, content, name, mime = doc
        d = delivery_create(
            office=case.office,
            source=key,
            kind=kind,
            title=title,
            content=content,
            file_name=name,
            content_type=mime,
            channel=where["channel"],
            addressee_user=case.applicant_user if where["channel"] == Channel.PORTAL else None,
            addressee_name=case.applicant_name,
            addressee_email=case.applicant_email,
            ade_address=where.get("ade_address", ""),
            postal_address=where.get("postal_address", ""),
            case_id=case.pk,
            case_sign=case.sign,
            period_days=period_days,
        )
        out.append(d)
        from .actions import _entry

        _entry(
            case,
            "delivery_sent",
            actor=None,
            before=case.state,
            public=True,
            data={"title": d.title, "method": METHOD_OF_CHANNEL[d.channel], "delivery": str(d.pk)},
        )
    return out


def case_delivery_done(change: DeliveryDone) -> None:
    """Delivery's callback (registered at start-up): the case hears that its document was delivered (or
    came back); a repeated or late call changes nothing twice."""
    if change.case_id is None:
        return
    from .actions import _entry, _system_transition

    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=change.case_id).first()
        if case is None:
            return
        if case.timeline.filter(
            data__delivery=change.delivery_id,
            action__in=("deliver", "document_delivered", "delivery_returned"),
        ).exists():
            return
        method = METHOD_OF_CHANNEL.get(change.channel, change.channel)
        if change.how == "returned":
            _entry(
                case,
                "delivery_returned",
                actor=None,
                before=case.state,
                public=False,
                data={"title": change.title, "method": method, "delivery": change.delivery_id},
            )
            return
        data = {
            "method": method,
            "date": change.delivered_on.isoformat() if change.delivered_on else "",
            "how": change.how,
            "delivery": change.delivery_id,
        }
        if change.period_ends:
            data["period_ends"] = change.period_ends.isoformat()
        if change.kind == Kind.CALL:
            data["what"] = "call"
            if case.state == State.WAITING_APPLICANT and change.period_ends:  # art. 64 § 2: from delivery
                case.supplement_due = change.period_ends
                case.save(update_fields=["supplement_due"])
        if case.state == State.SETTLED and _system_transition(case, "deliver", data=data):
            return
        _entry(case, "document_delivered", actor=None, before=case.state, public=True, data=data)


def held_back(document_key: str, user) -> str | None:
    """The inbox page where a document still waits for its addressee's confirmation (None: not held)."""
    from django.urls import reverse

    d = delivery_held_back(document_key, user)
    return reverse("delivery_detail", args=[d.pk]) if d is not None else None
