"""Reads: a receipt by its verification code, and whether it is genuine."""

from __future__ import annotations

import re

from cryptography.hazmat.primitives.serialization import Encoding

from .models import Receipt
from .seals import certificates_for
from .upp import NS, embedded_certificates, verify

_CODE = re.compile(r"^[A-Z0-9]{24}$")


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()[:40]


def receipt_by_code(code: str) -> Receipt | None:
    code = normalise_code(code)
    if not _CODE.match(code):
        return None
    return Receipt.objects.select_related("office").filter(verification_code=code).first()


def receipt_genuine(receipt: Receipt) -> bool:
    """The stored XML carries a valid seal of the receipt's office and states what the register holds.

    The certificate that sealed it is the one the XAdES signature embeds, accepted only when it is
    byte for byte one of the office's own certificates (the one in use or an archived one: receipts
    sealed before a rotation keep verifying), valid when the receipt was issued. Another key with
    the same subject, an edited receipt or an office without certificates is never genuine, and
    verification never creates a seal."""
    try:
        xml = bytes(receipt.xml)
        own = {c.public_bytes(Encoding.DER): c for c in certificates_for(receipt.office)}
        signer = next(
            (
                own[der]
                for der in (c.public_bytes(Encoding.DER) for c in embedded_certificates(xml))
                if der in own
            ),
            None,
        )
        if signer is None:
            return False
        signed = verify(xml, signer, at=receipt.issued_at)
    except Exception:
        return False
    return (
        signed.findtext(f"{{{NS}}}KodWeryfikacyjny") == receipt.verification_code
        and signed.findtext(f"{{{NS}}}SkrotDokumentu") == receipt.document_sha256
        and signed.findtext(f"{{{NS}}}IdentyfikatorDokumentu") == receipt.document_id
    )


def format_code(code: str) -> str:
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))
