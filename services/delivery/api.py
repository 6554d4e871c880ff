"""The addressee's deliveries as JSON (django-ninja router, mounted at /api/ by gisportal/api.py): the
portal inbox of the calling account, the confirmation of receipt and the sealed proof of delivery (UPD XML).
Thin: parse, call one action or selector, answer. Only the addressee sees a delivery; for anyone else it
does not exist (404 problem) and the attempt is logged."""

from __future__ import annotations

import uuid
from typing import Literal

from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from gisportal.core.apiauth import ApiAuth
from gisportal.core.downloads import harden
from gisportal.core.problems import Problem

from . import actions, selectors
from .models import Delivery, Status

router = Router(tags=["deliveries"])
AUTH = ApiAuth()
NOT_YOURS = {404: {"description": "no such delivery of yours (the attempt is logged)"}}


class DeliveryOut(Schema):
    id: uuid.UUID
    title: str
    office: str
    case_sign: str
    kind: Literal["decision", "order", "certificate", "letter", "call", "extract"]
    status: Literal["awaiting", "delivered"] = Field(
        description="awaiting: in the inbox, not opened yet; delivered: opened, or deemed delivered"
    )
    arrived_at: str | None = Field(description="when it arrived in the inbox (ISO 8601, Polish time)")
    deemed_on: str | None = Field(
        description="the day it is (or will be) deemed delivered if its receipt is not confirmed"
    )
    delivered_at: str | None
    delivered_how: Literal["opened", "deemed"] | None = Field(
        description="opened: receipt confirmed by the addressee; deemed: deemed delivered by law"
    )
    period_ends: str | None = Field(
        description="the last day to appeal (a decision) or file a complaint (an order), counted from delivery"
    )
    document_url: str | None = Field(description="the document (once delivered)")
    proof_url: str | None = Field(description="the sealed proof of delivery, XML (once delivered)")


def _local(moment) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None  # Warsaw time, with its offset


def delivery_json(d: Delivery) -> dict:
    delivered = d.status == Status.DELIVERED
    deemed = selectors.deemed_on(d)
    return {
        "id": d.pk,
        "title": d.title,
        "office": d.office.name,
        "case_sign": d.case_sign,
        "kind": d.kind,
        "status": d.status,
        "arrived_at": _local(d.arrived_at),
        "deemed_on": deemed.isoformat() if deemed else None,
        "delivered_at": _local(d.delivered_at),
        "delivered_how": d.delivered_how or None,
        "period_ends": d.period_ends.isoformat() if d.period_ends else None,
        "document_url": reverse("api:api_delivery_document", args=[d.pk]) if delivered else None,
        "proof_url": reverse("api:api_delivery_proof", args=[d.pk]) if delivered else None,
    }


def _own(request, delivery_id) -> Delivery:
    d = selectors.delivery_of_addressee(request.auth, delivery_id)
    if d is None:
        actions.delivery_access_refused(delivery_id, request.auth)
        raise Problem(404, _("There is no such delivery."), code="not_found")
    return d


@router.get(
    "/deliveries/",
    response=list[DeliveryOut],
    auth=AUTH,
    url_name="api_deliveries",
    summary="Documents delivered to you through the portal inbox, newest first",
)
def deliveries(request):
    return [delivery_json(d) for d in selectors.inbox_of(request.auth)]


@router.post(
    "/deliveries/{uuid:id}/acknowledge",
    response=DeliveryOut,
    auth=AUTH,
    url_name="api_delivery_acknowledge",
    summary="Confirm receipt: the document is delivered now and opens (repeating it changes nothing)",
    description=(
        "A period that delivery starts (an appeal against a decision, a complaint against an order) runs from "
        "the day of delivery; `period_ends` gives its last day."
    ),
    openapi_extra={"responses": NOT_YOURS},
)
def acknowledge(request, id: uuid.UUID):
    actions.delivery_acknowledge(id, request.auth)  # anyone else: NotFound (404 problem), logged
    return delivery_json(_own(request, id))


@router.get(
    "/deliveries/{uuid:id}/proof",
    auth=AUTH,
    url_name="api_delivery_proof",
    summary="The proof of delivery (UPD): XML sealed by the office (XAdES), once delivered",
    description="Check the seal with POST /api/signatures/verify or on the portal's page /podpis/.",
    openapi_extra={
        "responses": {
            200: {
                "description": "the sealed proof of delivery",
                "content": {"application/xml": {"schema": {"type": "string"}}},
            },
            404: {"description": "no such delivery of yours, or not delivered yet"},
        }
    },
)
def proof(request, id: uuid.UUID):
    d = _own(request, id)
    if d.status != Status.DELIVERED or not d.proof_xml:
        raise Problem(
            404, _("The proof of delivery is issued when the document is delivered."), code="not_found"
        )
    response = HttpResponse(bytes(d.proof_xml), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="UPD-{d.pk}.xml"'
    return harden(response)


@router.get(
    "/deliveries/{uuid:id}/document",
    auth=AUTH,
    url_name="api_delivery_document",
    summary="The delivered document itself, once delivered (for offices' and applicants' systems with an API key)",
    openapi_extra={
        "responses": {
            200: {"description": "the document as it was delivered (its SHA-256 is in the proof)"},
            404: {"description": "no such delivery of yours, or not delivered yet: acknowledge it first"},
        }
    },
)
def document(request, id: uuid.UUID):
    d = _own(request, id)
    if d.status != Status.DELIVERED:
        raise Problem(
            404,
            _("The document opens once its receipt is confirmed: acknowledge it first."),
            code="not_found",
        )
    response = FileResponse(
        d.file.open("rb"),
        as_attachment=True,
        filename=d.file_name or "dokument",
        content_type=d.content_type or "application/octet-stream",
    )
    return harden(response)
