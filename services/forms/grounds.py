"""The grounds on which the owners' personal data in the land and building register (EGiB) are given
(art. 24 ust. 5 Pgik; the regulation on the land and building register), as the EGiB extract form
(version 2) names them. Pure: the issued document and the disclosure log word the ground from here."""

from __future__ import annotations

# ground -> (its words on the document, the form field that justifies it)
LEGAL_GROUNDS: dict[str, tuple[str, str]] = {
    "owner": ("właściciel, użytkownik wieczysty lub władający", ""),
    "legal_interest": ("interes prawny", "legal_interest"),
    "public_body": ("organ lub urząd działający na podstawie ustawy", "legal_provision"),
    "notary_bailiff": ("notariusz lub komornik sądowy", "legal_provision"),
}


def legal_ground_of(data: dict) -> str:
    """The ground chosen; a request of form version 1 gave only the legal interest it described."""
    ground = data.get("legal_ground")
    if ground in LEGAL_GROUNDS:
        return ground
    return "legal_interest" if data.get("legal_interest") else ""


def legal_ground_detail(data: dict) -> str:
    ground = legal_ground_of(data)
    field = LEGAL_GROUNDS[ground][1] if ground else ""
    return str(data.get(field, "") or "").strip() if field else ""


def egib_legal_basis(data: dict) -> str:
    """The ground in words for the document: "interes prawny: <the justification>", "właściciel, …"."""
    ground = legal_ground_of(data)
    if not ground:
        return ""
    words, detail = LEGAL_GROUNDS[ground][0], legal_ground_detail(data)
    return f"{words}: {detail}" if detail else words
