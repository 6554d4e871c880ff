"""Reads of issued documents: by verification code, of a request, of a case; their JSON; the check of
an uploaded copy against the original."""

from __future__ import annotations

import hashlib

from django.urls import reverse

from services.offices.sealing import code_well_formed, normalise_code

from .kinds import KINDS
from .models import DocumentJob, IssuedDocument

MAX_COPY = 20 * 1024 * 1024


def document_by_code(code: str) -> IssuedDocument | None:
    code = normalise_code(code)
    if not code_well_formed(code):
        return None
    return IssuedDocument.objects.select_related("office", "issued_by").filter(verification_code=code).first()


def documents_of_submission(submission_id) -> list[IssuedDocument]:
    return list(IssuedDocument.objects.filter(submission_id=submission_id).order_by("issued_at"))


def documents_of_case(case_id: int) -> list[IssuedDocument]:
    return list(IssuedDocument.objects.filter(case_id=case_id).order_by("issued_at"))


def jobs_of_submission(submission_id) -> list[DocumentJob]:
    return list(DocumentJob.objects.filter(submission_id=submission_id).order_by("created_at"))


def jobs_of_case(case_id: int) -> list[DocumentJob]:
    return list(
        DocumentJob.objects.filter(case_id=case_id)
        .select_related("document", "replaces")
        .order_by("created_at")
    )


def personal(doc: IssuedDocument) -> bool:
    return KINDS[doc.kind][1]


# Asked before the owner downloads a document: a gate answers the page where the document still waits
# (a delivery to confirm first) or None. Registered at start-up by the case register (services.cases).
DOWNLOAD_GATES: list = []


def held_back(doc: IssuedDocument, user) -> str | None:
    """Where the owner must go first (the inbox entry to acknowledge), None when the file may be sent."""
    if user is None or doc.owner_id != getattr(user, "pk", None):
        return None  # the issuing office's staff are not held back
    for gate in DOWNLOAD_GATES:
        where = gate(f"issued:{doc.pk}", user)
        if where:
            return where
    return None


def may_download(doc: IssuedDocument, user) -> bool:
    """The owner, or staff of the issuing office who work on cases."""
    if user is None or not user.is_authenticated:
        return False
    if doc.owner_id == user.pk:
        return True
    from services.offices.selectors import office_of

    office = office_of(user)
    return office is not None and office.pk == doc.office_id and user.has_perm("gisportal.work_cases")


def document_json(doc: IssuedDocument) -> dict:
    return {
        "id": str(doc.pk),
        "kind": doc.kind,
        "title": doc.title,
        "number": doc.number,
        "issued_at": doc.issued_at.isoformat(),
        "verification_code": doc.verification_code,
        "url": reverse("document_download", args=[doc.pk]),
    }


def verify_json(doc: IssuedDocument) -> dict:
    """What the public check says of a code: what was issued, when, by whom (never personal data)."""
    return {
        "verdict": "genuine",
        "verification_code": doc.verification_code,
        "kind": doc.kind,
        "kind_label": str(KINDS[doc.kind][0]),
        "number": doc.number,
        "office": doc.office.name,
        "case_sign": doc.case_sign,
        "issued_at": doc.issued_at.isoformat(),
        "issued_by": (doc.issued_by.get_full_name() or doc.issued_by.get_username()) if doc.issued_by else "",
        "sha256": doc.sha256,
        "original_url": None if personal(doc) else reverse("document_original", args=[doc.verification_code]),
        "replaces": doc.replaces.number if doc.replaces_id else None,
        "replaced_by": next(
            (d.number for d in IssuedDocument.objects.filter(replaces=doc).order_by("issued_at")), None
        ),
    }


def check_copy(doc: IssuedDocument, data: bytes) -> dict:
    """An uploaded copy against the original of this code: genuine (the same bytes), altered (our seal on
    it but not the original: edited, incrementally updated, or another of our documents), or unknown."""
    from . import pades

    out = {"verification_code": doc.verification_code, "number": doc.number, "office": doc.office.name}
    if len(data) > MAX_COPY:
        return {**out, "verdict": "unknown", "reason": "too large"}
    if hashlib.sha256(data).hexdigest() == doc.sha256:
        return {**out, "verdict": "genuine", "reason": "identical to the original"}
    v = pades.check_pdf(data, [doc.office])
    if v.verdict == "unknown":
        return {**out, "verdict": "unknown", "reason": v.reason}
    reason = v.reason if v.verdict == "altered" else "sealed by the office, but not this document"
    return {**out, "verdict": "altered", "reason": reason, "signed_by": v.signed_by}
