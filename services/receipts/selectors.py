"""Reads: a receipt by its verification code, and whether it is genuine."""

from __future__ import annotations

from services.offices.sealing import code_well_formed, format_code, normalise_code, sealed_by

from .models import Receipt
from .upp import NS

__all__ = ["format_code", "normalise_code", "receipt_by_code", "receipt_genuine"]


def receipt_by_code(code: str) -> Receipt | None:
    code = normalise_code(code)
    if not code_well_formed(code):
        return None
    return Receipt.objects.select_related("office").filter(verification_code=code).first()


def receipt_genuine(receipt: Receipt) -> bool:
    """The stored XML carries a valid seal of the receipt's office (`sealing.sealed_by`: one of the
    office's own certificates, valid when the receipt was issued) and states what the register holds."""
    signed = sealed_by(bytes(receipt.xml), receipt.office, at=receipt.issued_at)
    if signed is None:
        return False
    return (
        signed.findtext(f"{{{NS}}}KodWeryfikacyjny") == receipt.verification_code
        and signed.findtext(f"{{{NS}}}SkrotDokumentu") == receipt.document_sha256
        and signed.findtext(f"{{{NS}}}IdentyfikatorDokumentu") == receipt.document_id
    )
