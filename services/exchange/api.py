"""Hub to hub (django-ninja router, mounted at /api/ by gisportal/api.py): `POST /api/exchange/inbox` takes a
sealed envelope from another hub's system account (API key; the capability exchange_messages) and answers
with the receiving office's sealed receipt."""

from __future__ import annotations

import base64
import binascii

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from gisportal.core.apiauth import ApiAuth
from gisportal.core.errors import Forbidden, InvalidInput

from .actions import inbox_receive
from .envelope import MAX_ENVELOPE

router = Router(tags=["exchange"])


class Incoming(Schema):
    envelope: str = Field(
        ..., max_length=MAX_ENVELOPE * 4 // 3 + 8, description="base64 of the canonical JSON"
    )
    seal: str = Field(..., max_length=200_000, description="base64 of the detached CMS seal over it")


class Receipt(Schema):
    envelope_id: str
    status: str  # accepted | duplicate
    received_at: str
    receipt: str  # base64 of the canonical receipt JSON
    receipt_seal: str  # base64 of the receiving office's detached CMS seal over it


def _b64(value: str, name: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(_("%(name)s is not base64.") % {"name": name}) from None


@router.post(
    "/exchange/inbox",
    response=Receipt,
    auth=ApiAuth(),
    url_name="api_exchange_inbox",
    summary="Receive a sealed envelope from another hub (forwarded case, request, answer) and give a receipt",
    openapi_extra={
        "responses": {
            409: {"description": "another envelope with this id was received before"},
            422: {
                "description": "malformed, not sealed by the office it names, not trusted, or no such office"
            },
        }
    },
)
def inbox(request, payload: Incoming):
    if not request.user.has_perm("gisportal.exchange_messages"):
        raise Forbidden(_("This account may not deliver messages between offices."))
    return inbox_receive(_b64(payload.envelope, "envelope"), _b64(payload.seal, "seal"))
