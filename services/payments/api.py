"""Payments' JSON API (django-ninja router, mounted at /api/ by gisportal/api.py): a payment's status,
starting (or resuming) it with a gateway, and the gateways' notifications. Thin: parse, call one action
or selector, answer; errors are rendered by the API's one problem-JSON mapper."""

from __future__ import annotations

import uuid
from typing import Literal

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema

from gisportal.core.apiauth import ApiAuth
from gisportal.core.problems import Problem

from . import actions, selectors
from .adapters import InvalidNotification

router = Router(tags=["payments"])
AUTH = ApiAuth()


class FeeDocumentLine(Schema):
    label: str
    quantity: int
    unit_price: str
    amount: str


class FeeDocumentOut(Schema):
    kind: Literal["doo", "stamp_duty"]
    number: str
    issued: str
    legal_basis: str
    verification_code: str
    verify_url: str
    pdf_url: str
    lines: list[FeeDocumentLine]


class PaymentOut(Schema):
    id: uuid.UUID
    status: Literal["due", "pending", "paid", "failed", "refunded", "cancelled"]
    amount: str
    currency: str
    title: str
    account: str
    pay_url: str
    due_date: str
    paid_at: str | None
    refunded_amount: str
    providers: list[str]
    case_sign: str
    document: FeeDocumentOut


class StartIn(Schema):
    provider: Literal["sandbox", "przelewy24"]


class StartOut(Schema):
    redirect_url: str


class NotifyOut(Schema):
    status: str
    outcome: str


def _visible(request, payment_id):
    payment = selectors.payment_get(payment_id)
    if payment is None or not selectors.may_see_payment(payment, request.auth):
        raise Problem(404, _("There is no such payment."), code="not_found")
    return payment


@router.get(
    "/payments/{uuid:id}",
    response=PaymentOut,
    auth=AUTH,
    url_name="api_payment",
    summary="A payment asked for by a fee document: amount, account, title, status",
    openapi_extra={"responses": {404: {"description": "no such payment of yours"}}},
)
def payment(request, id: uuid.UUID):
    return selectors.payment_json(_visible(request, id))


@router.post(
    "/payments/{uuid:id}/start",
    response=StartOut,
    auth=AUTH,
    url_name="api_payment_start",
    summary="Start paying with a gateway (or resume the interrupted attempt); send the payer to redirect_url",
    openapi_extra={
        "responses": {
            404: {"description": "no such payment of yours"},
            409: {"description": "already paid, cancelled, or being started"},
            503: {"description": "the gateway does not answer; nothing was charged"},
        }
    },
)
def payment_start(request, id: uuid.UUID, body: StartIn):
    return {"redirect_url": actions.payment_start(id, body.provider, user=request.auth)}


@router.post(
    "/payments/notify/{provider}",
    response=NotifyOut,
    auth=None,
    url_name="payments_notify",
    summary="A gateway's notification (signed; checked over the raw body)",
    description="For the gateways only. Duplicates are answered as accepted and settle nothing twice.",
    openapi_extra={
        "responses": {
            400: {"description": "signature or form invalid, or not our transaction (logged)"},
            404: {"description": "no such gateway"},
            503: {"description": "the gateway did not confirm the payment; notify again"},
        }
    },
)
def notify(request, provider: str, response: HttpResponse):
    try:
        outcome = actions.notification_receive(
            provider, request.body, request.headers, remote_addr=request.META.get("REMOTE_ADDR", "")
        )
    except InvalidNotification:
        raise Problem(400, _("The notification is not valid."), code="invalid_notification") from None
    return {"status": "OK", "outcome": outcome}
