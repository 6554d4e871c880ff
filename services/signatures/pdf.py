"""The signature verification report as PDF (WeasyPrint, A4) for the case file: the date of the check, the
file's name and SHA-256, each signature's verdict and details, what the check trusted. Takes a stored report
(Report.as_dict(), no words) and gives the words in `language` (Polish unless told otherwise)."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from .report import with_words


def report_pdf(report: dict, *, language: str | None = None) -> bytes:
    import weasyprint  # heavy: loaded on first use

    with translation.override(language or settings.LANGUAGE_CODE):
        html = render_to_string(
            "signatures/report_pdf.html",
            {"report": with_words(report), "portal_url": settings.GISPORTAL_PUBLIC_URL},
        )
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
