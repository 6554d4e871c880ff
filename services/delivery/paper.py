"""Paper delivery on A4 (WeasyPrint): page 1 the envelope / address label of a registered letter with a
return receipt ("Polecony ZPO"), page 2 the return receipt form (zwrotne potwierdzenie odbioru, in the
style of the KPA form: what is delivered, the receipt's date and signature, the notices, return to the
sender). Always in Polish: it goes to the Polish post, whatever the clerk's language."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import override

from .models import Delivery, Kind


def short_id(d: Delivery) -> str:
    """The delivery's reference printed on the envelope and the receipt (the start of its id: enough to
    find it among an office's letters, no barcode needed)."""
    head = d.pk.hex[:8].upper()
    return f"{head[:4]}-{head[4:]}"


def address_lines(postal_address: str) -> list[str]:
    """The postal address as lines of the label: "ul. Kwiatowa 1, 05-500 Piaseczno" → two lines."""
    return [part.strip() for part in (postal_address or "").replace("\n", ",").split(",") if part.strip()]


def envelope_pdf(d: Delivery) -> bytes:
    """The envelope (page 1) and the return receipt (page 2) of a paper delivery, as PDF."""
    import weasyprint  # heavy: loaded on first use

    with override("pl"):
        html = render_to_string(
            "delivery/envelope_pdf.html",
            {
                "d": d,
                "office": d.office,
                "ref": short_id(d),
                "lines": address_lines(d.postal_address),
                "kind": Kind(d.kind).label if d.kind in Kind.values else d.kind,
                "LANGUAGE_CODE": "pl",
            },
        )
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
