"""The receipt as PDF (WeasyPrint) with the verification code and a QR code of the check page."""

from __future__ import annotations

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Receipt
from .selectors import format_code


def receipt_pdf(receipt: Receipt, *, title: str, access_code: str = "") -> bytes:
    """The printable receipt; `access_code` only for its owner (it is in the sealed XML, never in `summary`)."""
    import weasyprint  # heavy: loaded on first use

    url = settings.GISPORTAL_PUBLIC_URL + reverse("receipt_verify_code", args=[receipt.verification_code])
    qr = segno.make(url, error="m").svg_data_uri(scale=3)
    html = render_to_string(
        "receipts/receipt_pdf.html",
        {
            "r": receipt,
            "title": title,
            "code": format_code(receipt.verification_code),
            "qr": qr,
            "verify_url": url,
            "access_code": access_code,
            "status_url": settings.GISPORTAL_PUBLIC_URL + reverse("case_status"),
        },
    )
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
