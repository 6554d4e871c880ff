"""Reads: a receipt by its verification code, and whether it is genuine."""

from __future__ import annotations

import re

from .models import Receipt
from .seals import seal_for
from .upp import NS, verify

_CODE = re.compile(r"^[A-Z0-9]{24}$")


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()[:40]


def receipt_by_code(code: str) -> Receipt | None:
    code = normalise_code(code)
    if not _CODE.match(code):
        return None
    return Receipt.objects.select_related("office").filter(verification_code=code).first()


def receipt_genuine(receipt: Receipt) -> bool:
    """The stored XML carries a valid seal of the receipt's office and states what the register holds."""
    try:
        signed = verify(bytes(receipt.xml), seal_for(receipt.office).cert_pem)
    except Exception:  # noqa: BLE001 - any verification failure means "not genuine"
        return False
    return (signed.findtext(f"{{{NS}}}KodWeryfikacyjny") == receipt.verification_code
            and signed.findtext(f"{{{NS}}}SkrotDokumentu") == receipt.document_sha256
            and signed.findtext(f"{{{NS}}}IdentyfikatorDokumentu") == receipt.document_id)


def format_code(code: str) -> str:
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))
