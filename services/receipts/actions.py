"""Issuing receipts. Idempotent: one receipt per document, whoever asks first or twice."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from services.offices.sealing import verification_code_new
from services.offices.seals import seal_for

from . import upp as receipt_xml
from .models import Receipt


def receipt_issue(
    *,
    document_id: str,
    document_sha256: str,
    office,
    sender_name: str,
    sender_identifier: str,
    received_at: datetime,
    service: str,
    parcels: tuple[str, ...] = (),
    attachments: tuple[tuple[str, str, int], ...] = (),
    tracking_code: str = "",
    access_code: str = "",
) -> Receipt:
    """The sealed UPP for a stored document (issued now, or the one issued before)."""
    existing = Receipt.objects.filter(kind=Receipt.Kind.SUBMISSION, document_id=document_id).first()
    if existing is not None:
        return existing
    rid, code = uuid.uuid4(), verification_code_new()
    issued_at = timezone.now()
    verify_url = settings.GISPORTAL_PUBLIC_URL + reverse("receipt_verify_code", args=[code])
    data = receipt_xml.ReceiptData(
        receipt_id=str(rid),
        verification_code=code,
        sender_name=sender_name,
        sender_identifier=sender_identifier,
        addressee_name=office.name,
        addressee_id=office.jurisdiction_teryt,
        received_at=timezone.localtime(received_at).isoformat(),
        issued_at=timezone.localtime(issued_at).isoformat(),
        document_id=document_id,
        document_sha256=document_sha256,
        service=service,
        attachments=attachments,
        parcels=parcels,
        verify_url=verify_url,
        tracking_code=tracking_code,
        access_code=access_code,
    )
    signed = receipt_xml.sign(receipt_xml.build(data), seal_for(office))
    try:
        with transaction.atomic():
            return Receipt.objects.create(
                id=rid,
                verification_code=code,
                document_id=document_id,
                document_sha256=document_sha256,
                office=office,
                sender_name=sender_name,
                sender_identifier=sender_identifier,
                received_at=received_at,
                issued_at=issued_at,
                summary={
                    "service": service,
                    "parcels": list(parcels),
                    "attachments": [{"name": n, "sha256": s, "size": z} for n, s, z in attachments],
                    "tracking_code": tracking_code,  # the access code is only in the sealed XML
                },
                xml=signed,
            )
    except IntegrityError:  # issued concurrently by another worker
        return Receipt.objects.get(kind=Receipt.Kind.SUBMISSION, document_id=document_id)
