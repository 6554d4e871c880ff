"""Writes of the e-forms: filing a submission (stored first, then the receipt) and drafts.

Order of work, so that nothing a user submits is lost: the form is checked, then the submission
(canonical document, digest, attachments) is committed in one transaction; only then is the receipt
issued, in its own idempotent step that a sweeper repeats for any submission left without one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from gisportal.core.errors import Forbidden, GisportalError
from services.receipts.actions import receipt_issue
from services.receipts.models import Receipt

from .codes import case_codes
from .models import Attachment, Draft, ServiceDefinition, Submission
from .signing import attachments_verify
from .validation import FormInvalid, check

MAX_ATTACHMENT = 10 * 1024 * 1024
ALLOWED_TYPES = {  # MIME type: (extensions, magic prefixes)
    "application/pdf": ((".pdf",), (b"%PDF-",)),
    "image/jpeg": ((".jpg", ".jpeg"), (b"\xff\xd8\xff",)),
    "image/png": ((".png",), (b"\x89PNG\r\n\x1a\n",)),
    "application/xml": ((".xml", ".xades"), (b"<?xml", b"<")),
    "text/plain": ((".txt",), ()),
    # signed files: a detached CAdES signature (beside the file it signs) and ASiC containers
    "application/pkcs7-signature": ((".p7s",), (b"0", b"-----BEGIN")),
    "application/vnd.etsi.asic-e+zip": ((".asice", ".sce"), (b"PK\x03\x04",)),
    "application/vnd.etsi.asic-s+zip": ((".asics", ".scs"), (b"PK\x03\x04",)),
}


# called with each newly filed submission after its receipt (the case register opens the case);
# registered at start-up by the apps that need it, so forms imports none of them
FILED_HOOKS: list[Callable[[Submission], object]] = []
log = logging.getLogger(__name__)


class IdempotencyConflict(GisportalError):
    code = "idempotency_conflict"
    status = 409


def _sniff(name: str, head: bytes) -> str | None:
    """The MIME type from the extension AND the content (a renamed .exe is not a PDF)."""
    lower = name.lower()
    for mime, (exts, magics) in ALLOWED_TYPES.items():
        if lower.endswith(exts):
            if mime == "text/plain":
                try:
                    head.decode("utf-8")
                except UnicodeDecodeError:
                    return None
                return mime if b"\x00" not in head else None
            if mime == "application/xml":
                stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
                return mime if stripped.startswith(magics) else None
            return mime if head.startswith(magics) else None
    return None


def check_attachments(rules: dict, files: list) -> list[tuple[str, str, bytes]]:
    """(name, type, content) of each upload under the rules (max_files, required), or FormInvalid."""
    errors = []
    if len(files) > rules.get("max_files", 5):
        errors.append(_("At most %(n)s attachments.") % {"n": rules.get("max_files", 5)})
    if rules.get("required") and not files:
        errors.append(_("Add at least one attachment."))
    out = []
    for f in files[:20]:
        name = (getattr(f, "name", "") or "attachment").replace("/", "_").replace("\\", "_")[-150:]
        size = getattr(f, "size", None)
        if size is not None and size > MAX_ATTACHMENT:
            errors.append(
                _("%(name)s is larger than %(n)s MB.") % {"name": name[:60], "n": MAX_ATTACHMENT // 1024**2}
            )
            continue
        content = f.read(MAX_ATTACHMENT + 1)
        if len(content) > MAX_ATTACHMENT:
            errors.append(
                _("%(name)s is larger than %(n)s MB.") % {"name": name[:60], "n": MAX_ATTACHMENT // 1024**2}
            )
            continue
        mime = _sniff(name, content[:64])
        if mime is None:
            errors.append(
                _(
                    "%(name)s: only PDF, JPEG, PNG, XML, plain text and signature files (.p7s, .asice, .asics) are "
                    "accepted, and the content must match the file type."
                )
                % {"name": name[:60]}
            )
            continue
        out.append((name, mime, content))
    if errors:
        raise FormInvalid({"attachments": errors})
    return out


def canonical(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def submission_file(
    service: ServiceDefinition,
    data: dict,
    *,
    user,
    files: list | None = None,
    idempotency_key: str = "",
    channel: str = "portal",
) -> Submission:
    """File a form: checked, stored with its digest and attachments, then receipted. A repeated
    Idempotency-Key returns the first submission (409 when the content differs)."""
    if not user.is_authenticated or not user.has_perm("gisportal." + service.capability):
        raise Forbidden(_("You may not file this form."))
    key = (idempotency_key or "").strip()[:100]
    if key:
        earlier = Submission.objects.filter(user=user, idempotency_key=key).first()
        if earlier is not None:
            return _same_or_conflict(earlier, service, data)
    if not service.active:
        raise FormInvalid(
            {"__all__": [_("This version of the form is no longer in use; open the form again.")]}
        )
    checked = check(service, data, user=user)
    uploads = check_attachments(service.layout.get("attachments", {}), list(files or []))
    received = timezone.now()
    atts = [
        {"name": n, "type": t, "size": len(c), "sha256": hashlib.sha256(c).hexdigest()} for n, t, c in uploads
    ]
    document = {
        "service": service.code,
        "version": service.version,
        "office": checked.office.code,
        "received": received.isoformat(),
        "sender": user.get_username(),
        "data": checked.data,
        "parcels": [p.parcel_id for p in checked.parcels],
        "attachments": atts,
    }
    body = canonical(document)
    try:
        with transaction.atomic():
            sub = Submission.objects.create(
                service=service,
                user=user,
                office=checked.office,
                data=checked.data,
                parcels=[p.parcel_id for p in checked.parcels],
                location=checked.location,
                document=body,
                sha256=hashlib.sha256(body).hexdigest(),
                request_sha256=hashlib.sha256(canonical(data)).hexdigest(),
                idempotency_key=key,
                channel=channel,
                submitted_at=received,
            )
            for (name, mime, content), meta in zip(uploads, atts, strict=True):
                Attachment.objects.create(
                    submission=sub,
                    name=name,
                    content_type=mime,
                    size=meta["size"],
                    sha256=meta["sha256"],
                    file=ContentFile(content, name=meta["sha256"]),
                )
            Draft.objects.filter(user=user, service_code=service.code).delete()
    except IntegrityError:
        if key:  # the same key filed concurrently: the first one stands
            return _same_or_conflict(Submission.objects.get(user=user, idempotency_key=key), service, data)
        raise
    submission_receipt(sub)
    try:  # the signatures are checked now so that the office sees them at once; a sweep repeats a failure
        attachments_verify(sub)
    except Exception:
        log.exception("signature check failed for submission %s", sub.id)
    for hook in FILED_HOOKS:
        try:
            hook(sub)
        except Exception:
            log.exception("after-filing step failed for submission %s", sub.id)
    return sub


def _same_or_conflict(earlier: Submission, service: ServiceDefinition, data: dict) -> Submission:
    if (
        earlier.service_id != service.id
        or earlier.request_sha256 != hashlib.sha256(canonical(data)).hexdigest()
    ):
        raise IdempotencyConflict(_("This Idempotency-Key was already used for a different submission."))
    return earlier


def submission_receipt(sub: Submission) -> Receipt:
    """The receipt of a stored submission (issued now or earlier). Safe to repeat."""
    user = sub.user
    sender = (
        (user.get_full_name() or sub.data.get("applicant_name") or user.get_username())
        if user
        else sub.data.get("applicant_name", "")
    )
    tracking, access = case_codes(sub.id)
    return receipt_issue(
        document_id=str(sub.id),
        document_sha256=sub.sha256,
        office=sub.office,
        sender_name=str(sender)[:200],
        sender_identifier=user.get_username() if user else "",
        received_at=sub.submitted_at,
        service=f"{sub.service.title_pl} ({sub.service.code} v{sub.service.version})",
        parcels=tuple(sub.parcels),
        attachments=tuple((a.name, a.sha256, a.size) for a in sub.attachments.all()),
        tracking_code=tracking,
        access_code=access,
    )


def receipts_sweep() -> int:
    """Issue receipts for stored submissions that have none (the step after commit failed)."""
    receipted = Receipt.objects.filter(kind=Receipt.Kind.SUBMISSION).values("document_id")
    pending = (
        Submission.objects.annotate(sid=Cast("id", CharField()))
        .exclude(sid__in=receipted)
        .select_related("service", "office", "user")
        .order_by("submitted_at")[:1000]
    )
    n = 0
    for sub in pending:
        submission_receipt(sub)
        n += 1
    return n


def draft_save(user, service: ServiceDefinition, data: dict) -> Draft:
    draft, _created = Draft.objects.update_or_create(
        user=user, service_code=service.code, defaults={"data": data}
    )
    return draft
