"""The electronic signatures on a request's attachments: checked once the request is stored (never before:
nothing the applicant sent is lost if a check fails), the result kept with each attachment, and compared with
the applicant for the office (a signer whose PESEL or NIP differs from the applicant's is flagged)."""

from __future__ import annotations

import logging

from django.db.models import Q

from services.signatures.report import TOTAL_PASSED, with_words
from services.signatures.verify import FileTooLarge, NotSigned, UnreadableFile, UnsupportedFile, verify_file

from .models import Attachment, AttachmentCheck, Submission

log = logging.getLogger(__name__)
SIGNABLE = {
    "application/pdf",
    "application/xml",
    "application/pkcs7-signature",
    "application/vnd.etsi.asic-e+zip",
    "application/vnd.etsi.asic-s+zip",
}
DETACHED_SUFFIXES = (".p7s", ".xades", ".sig")


def _read(att: Attachment) -> bytes:
    with att.file.open("rb") as f:
        return f.read()


def _signed_file(att: Attachment, siblings: list[Attachment]) -> Attachment | None:
    """The file a detached signature covers: the attachment named like it without the suffix
    (wniosek.pdf.p7s → wniosek.pdf), else the only other attachment."""
    lower = att.name.lower()
    if not lower.endswith(DETACHED_SUFFIXES):
        return None
    base = att.name[: att.name.rfind(".")]
    others = [s for s in siblings if s.pk != att.pk and not s.name.lower().endswith(DETACHED_SUFFIXES)]
    named = [s for s in others if s.name == base]
    if named:
        return named[0]
    return others[0] if len(others) == 1 else None


def signature_check(att: Attachment, siblings: list[Attachment]) -> dict:
    """What the attachment's signatures are (see Attachment.signature_check)."""
    if att.content_type not in SIGNABLE:
        return {"status": "unsigned"}
    signed = _signed_file(att, siblings)
    try:
        report = verify_file(
            _read(att),
            att.name,
            detached=_read(signed) if signed is not None else None,
            detached_name=signed.name if signed is not None else "",
        )
    except NotSigned:
        return {"status": "unsigned"}
    except (UnreadableFile, UnsupportedFile, FileTooLarge) as e:
        return {"status": "unreadable", "code": e.code}
    return {"status": "verified", "report": report.as_dict(), "signed_file": signed.name if signed else ""}


def attachments_verify(sub: Submission) -> int:
    """Check every attachment of the submission not checked yet; returns how many were checked. Safe to
    repeat (a checked attachment keeps its result: the report is what the office saw)."""
    siblings = list(sub.attachments.select_related("signature_check_row").order_by("id"))
    n = 0
    for att in siblings:
        if att.signature_check is not None:
            continue
        result = signature_check(att, siblings)
        _row, created = AttachmentCheck.objects.get_or_create(attachment=att, defaults={"result": result})
        n += int(created)
    return n


def signatures_sweep(limit: int = 200) -> int:
    """Check the attachments left unchecked (the check after filing failed)."""
    subs = Submission.objects.filter(Q(attachments__signature_check_row__isnull=True)).distinct()[:limit]
    return sum(attachments_verify(s) for s in subs)


def _ids(data: dict) -> dict[str, str]:
    out = {}
    for key, kind in (("pesel", "PESEL"), ("nip", "NIP")):
        value = "".join(ch for ch in str(data.get(key) or "") if ch.isdigit())
        if value:
            out[kind] = value
    return out


def signature_views(attachments: list[Attachment], applicant: dict) -> list[dict]:
    """For the pages: each attachment with its check in the reader's language and, per signature, whether
    the signer is the applicant ("same", "different", or "unknown" when nothing can be compared)."""
    ids = _ids(applicant)
    out = []
    for att in attachments:
        check = att.signature_check or {}
        view = {"attachment": att, "status": check.get("status", "pending"), "code": check.get("code", "")}
        if check.get("status") == "verified":
            report = with_words(check["report"])
            for sig in report["signatures"]:
                signer = sig.get("signer", {})
                mine = ids.get(signer.get("identifier_kind", ""))
                sig["applicant"] = (
                    "unknown" if not mine else ("same" if mine == signer.get("identifier") else "different")
                )
                sig["confirmed"] = sig.get("indication") == TOTAL_PASSED
            view["report"] = report
            view["different_signer"] = any(s["applicant"] == "different" for s in report["signatures"])
        out.append(view)
    return out
