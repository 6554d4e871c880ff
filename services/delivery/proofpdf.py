"""The proof of delivery (UPD) in words, as PDF (WeasyPrint, A4): the office, the addressee, the channel,
when the document was sent, arrived and was delivered and how, its title and SHA-256, the end of the period
delivery starts, and where to check the sealed XML, which is the proof itself (this is its rendering).
Polish unless another language is asked for."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import Delivery, Kind


def proof_pdf(delivery: Delivery, *, language: str | None = None) -> bytes:
    import weasyprint  # heavy: loaded on first use

    with translation.override(language or settings.LANGUAGE_CODE):
        html = render_to_string(
            "delivery/proof_pdf.html",
            {
                "d": delivery,
                "appeal": delivery.kind == Kind.DECISION,
                "complaint": delivery.kind == Kind.ORDER,
                "check_url": settings.GISPORTAL_PUBLIC_URL + reverse("signature_check"),
                "portal_url": settings.GISPORTAL_PUBLIC_URL,
            },
        )
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
