"""Writes of issued documents: jobs that prepare a document, issuing it (numbered, built, sealed as PAdES,
stored once), and the callback that tells the case register.

Order of work, so that nothing is lost: the job is stored first (idempotent by key) and run by Celery
after the commit; a sweep re-queues jobs whose run was lost; issuing takes the number under the counter
row in the same transaction that stores the document.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from gisportal.core.errors import Forbidden, GisportalError, InvalidInput, NotFound
from services.offices.sealing import verification_code_new
from services.offices.selectors import office_of

from .kinds import KINDS, TitleBlock
from .models import DocumentJob, IssuedDocument

log = logging.getLogger(__name__)
PREFIX = {
    "egib_wyrys": "WYR",
    "egib_wypis": "WYP",
    "egib_wypis_full": "WYP",
    "zoning_extract": "MPZP",
    "zoning_certificate": "ZAS",
}


@dataclass(frozen=True)
class DocumentIssued:
    document_id: str
    case_id: int | None
    job_id: str
    kind: str
    number: str
    note: str  # Polish, for the case timeline
    actor_id: int | None = None


DOCUMENT_HOOKS: list[Callable[[DocumentIssued], object]] = []  # registered at start-up (services.cases)


def _enqueue(job_id) -> None:
    from .tasks import job_run

    try:
        job_run.delay(str(job_id))
    except Exception:  # the broker is down: the sweep re-queues it (the job is stored)
        log.exception("could not queue document job %s", job_id)


def job_create(
    *,
    key: str,
    kind: str,
    office,
    params: dict,
    case_id: int | None = None,
    case_sign: str = "",
    submission_id=None,
    owner=None,
    free_text: str = "",
) -> DocumentJob:
    """A document to prepare (or the one asked for before under this key); its run is queued after the
    commit. Kinds without personal data are issued by themselves (KINDS)."""
    if kind not in KINDS:
        raise InvalidInput(_("Unknown kind of document."))
    earlier = DocumentJob.objects.filter(key=key).first()
    if earlier is not None:
        return earlier
    try:
        with transaction.atomic():
            job = DocumentJob.objects.create(
                key=key[:150],
                kind=kind,
                office=office,
                params=params,
                case_id=case_id,
                case_sign=case_sign,
                submission_id=submission_id,
                owner=owner,
                automatic=KINDS[kind][2],
                free_text=free_text,
            )
    except IntegrityError:
        return DocumentJob.objects.get(key=key[:150])
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _progress(job_id, progress: int, status: str | None = None, error: str = "") -> None:
    fields = {"progress": progress, "updated_at": timezone.now()}
    if status:
        fields["status"] = status
    if error:
        fields["error"] = error[:500]
    DocumentJob.objects.filter(pk=job_id).update(**fields)


def job_run(job_id) -> str:
    """Prepare a job: an automatic one is built, sealed and issued; another is checked by building it
    once (so a clerk finds it ready, or sees why not) and waits for the clerk. Safe to repeat."""
    job = DocumentJob.objects.filter(pk=job_id).select_related("office", "owner").first()
    if job is None or job.status in (DocumentJob.Status.ISSUED, DocumentJob.Status.PREPARED):
        return job.status if job else "missing"
    _progress(job.pk, 10, DocumentJob.Status.RUNNING)
    try:
        if job.automatic:
            document_issue(job.pk, actor=None)
        else:
            if not KINDS[job.kind][1]:  # personal data is read only when a clerk looks (and is logged then)
                preview_pdf(job)
            _progress(job.pk, 100, DocumentJob.Status.PREPARED)
    except GisportalError as e:
        _progress(job.pk, 100, DocumentJob.Status.FAILED, error=str(e.message))
    except Exception as e:  # kept for the clerk and the sweep; the job stays
        log.exception("document job %s failed", job.pk)
        _progress(job.pk, 100, DocumentJob.Status.FAILED, error=type(e).__name__)
    return DocumentJob.objects.values_list("status", flat=True).get(pk=job.pk)


def jobs_sweep(older_than: timedelta = timedelta(minutes=5)) -> int:
    """Re-queue jobs whose run was lost (queued, or running for long)."""
    stale = DocumentJob.objects.filter(
        status__in=[DocumentJob.Status.QUEUED, DocumentJob.Status.RUNNING],
        updated_at__lt=timezone.now() - older_than,
    )
    n = 0
    for job_id in stale.values_list("pk", flat=True)[:50]:
        _enqueue(job_id)
        n += 1
    return n


def _number_next(office, year: int) -> int:
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO documents_documentcounter (office_id, year, last) VALUES (%s, %s, 1) "
            "ON CONFLICT (office_id, year) DO UPDATE SET last = documents_documentcounter.last + 1 RETURNING last",
            [office.pk, year],
        )
        return cur.fetchone()[0]


def _title(job: DocumentJob, *, number: str, code: str, issued_at, actor) -> TitleBlock:
    office = job.office
    with override("pl"):
        label = str(KINDS[job.kind][0])
    return TitleBlock(
        office_name=office.name,
        office_address=f"{office.street}, {office.postcode} {office.city}",
        kind_label=label,
        number=number,
        case_sign=job.case_sign,
        issued_at=issued_at,
        issued_by=(actor.get_full_name() or actor.get_username()) if actor else "",
        verification_code=code,
        verify_url=settings.GISPORTAL_PUBLIC_URL + reverse("receipt_verify_code", args=[code])
        if code
        else "",
    )


def _build(job: DocumentJob, title: TitleBlock, *, actor=None, free_text: str = "") -> bytes:
    """The unsigned PDF of a job (the builders do no sealing)."""
    p = job.params
    parcels = tuple(p.get("parcels") or ())
    with override("pl"):
        if job.kind == "egib_wyrys":
            from . import mapextract

            return mapextract.pdf(
                mapextract.MapExtractRequest(parcels, p.get("scale"), p.get("paper")), title
            )
        if job.kind in ("egib_wypis", "egib_wypis_full"):
            from . import registers

            full = job.kind == "egib_wypis_full"
            if full and actor is None:
                raise InvalidInput(_("A clerk issues an extract with personal data."))
            data = registers.wypis_data(
                parcels,
                with_personal_data=full,
                user=actor,
                case_sign=job.case_sign,
                legal_basis=p.get("legal_basis", ""),
            )
            return registers.wypis_pdf(data, title)
        from . import zoning

        data = zoning.zoning_data(parcels)
        if job.kind == "zoning_extract":
            return zoning.extract_pdf(data, title, map_png=_zoning_map(parcels), free_text=free_text)
        return zoning.certificate_pdf(data, title, purpose=p.get("purpose", ""), free_text=free_text)


def _zoning_map(parcels: tuple[str, ...]) -> bytes | None:
    """The plan over the parcels (the wyrys part of a zoning extract), at 150 dpi on a 160 × 120 mm frame."""
    from django.contrib.gis.db.models import Extent

    from layers.models import Parcel

    from .rendering import renderer

    box = Parcel.objects.current().filter(parcel_id__in=parcels).aggregate(e=Extent("geom"))["e"]
    if box is None:
        return None
    x0, y0, x1, y1 = box
    pad = max(x1 - x0, y1 - y0, 80) * 0.5
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w, half_h = pad * 4 / 3, pad
    return renderer().render(
        ["mpzp", "dzialki", "numery_dzialek"],
        (cx - half_w, cy - half_h, cx + half_w, cy + half_h),
        2180,
        945,
        709,
        "png",
    )


def preview_pdf(job: DocumentJob, *, actor=None, free_text: str | None = None) -> bytes:
    """The document as it would be issued, unsealed, marked as a draft (for the clerk's review)."""
    title = _title(job, number=_("DRAFT"), code="", issued_at=timezone.now(), actor=actor)
    return _build(job, title, actor=actor, free_text=job.free_text if free_text is None else free_text)


def _check_clerk(job: DocumentJob, actor) -> None:
    if actor is None or not actor.has_perm("gisportal.work_cases"):
        raise Forbidden(_("You may not issue documents."))
    office = office_of(actor)
    if office is None or office.pk != job.office_id:
        raise Forbidden(_("This document belongs to another office."))


def document_issue(job_id, *, actor=None, free_text: str | None = None) -> IssuedDocument:
    """Issue the job's document: number, build, seal (PAdES), store; once (a second call returns it)."""
    from . import pades

    job = DocumentJob.objects.select_related("office", "owner", "replaces").get(pk=job_id)
    if job.document_id:
        return job.document
    if not job.automatic or actor is not None:
        _check_clerk(job, actor)
    if free_text is not None:
        if "\x00" in free_text:
            raise InvalidInput(_("The value holds a NUL character."))
        DocumentJob.objects.filter(pk=job.pk).update(free_text=free_text[:20000])
        job.free_text = free_text[:20000]
    _progress(job.pk, 30, DocumentJob.Status.RUNNING)
    issued_at = timezone.now()
    code = verification_code_new()
    with transaction.atomic():
        locked = DocumentJob.objects.select_for_update().get(pk=job.pk)
        if locked.document_id:
            return locked.document
        n = _number_next(job.office, issued_at.year)
        number = f"{PREFIX[job.kind]}/{n}/{issued_at.year}"
        title = _title(job, number=number, code=code, issued_at=issued_at, actor=actor)
        unsigned = _build(job, title, actor=actor, free_text=job.free_text)
        DocumentJob.objects.filter(pk=job.pk).update(progress=70)
        sealed = pades.seal_pdf(
            unsigned, job.office, reason=f"{title.kind_label} {number}", location=job.office.city
        )
        doc = IssuedDocument.objects.create(
            kind=job.kind,
            number=number,
            title=f"{title.kind_label}: {', '.join(job.params.get('parcels') or [])}"[:300],
            office=job.office,
            case_id=job.case_id,
            case_sign=job.case_sign,
            submission_id=job.submission_id,
            owner=job.owner,
            params=job.params,
            verification_code=code,
            pdf=sealed,
            sha256=hashlib.sha256(sealed).hexdigest(),
            issued_at=issued_at,
            issued_by=actor,
            replaces_id=job.replaces_id,
        )
        DocumentJob.objects.filter(pk=job.pk).update(
            status=DocumentJob.Status.ISSUED, progress=100, document=doc, error="", updated_at=timezone.now()
        )
        with override("pl"):
            note = _("Document issued: %(kind)s %(number)s.") % {"kind": title.kind_label, "number": number}
            if job.replaces_id:
                note += " " + _("It replaces %(number)s.") % {"number": job.replaces.number}
        change = DocumentIssued(
            str(doc.pk), job.case_id, str(job.pk), job.kind, number, note, getattr(actor, "pk", None)
        )
        transaction.on_commit(lambda: _tell(change))
    return doc


def _tell(change: DocumentIssued) -> None:
    for hook in DOCUMENT_HOOKS:
        try:
            hook(change)
        except Exception:  # the case register catches up with its sweep
            log.exception("document hook failed for %s", change.document_id)


def document_correct(document_id, *, actor) -> DocumentJob:
    """A correction of an issued document: a new job of the same kind and data, prepared for the clerk,
    whose document names the one it replaces (the issued one stays as it was: documents are immutable)."""
    doc = IssuedDocument.objects.select_related("office").filter(pk=document_id).first()
    if doc is None:
        raise NotFound(_("There is no such document."))
    _check_clerk(DocumentJob(office=doc.office, kind=doc.kind), actor)
    pending = DocumentJob.objects.filter(replaces=doc).exclude(status=DocumentJob.Status.ISSUED).first()
    if pending is not None:
        return pending
    job = DocumentJob.objects.create(
        key=f"correction:{doc.pk}:{timezone.now().timestamp()}"[:150],
        kind=doc.kind,
        office=doc.office,
        params=doc.params,
        case_id=doc.case_id,
        case_sign=doc.case_sign,
        submission_id=doc.submission_id,
        owner=doc.owner,
        automatic=False,
        status=DocumentJob.Status.PREPARED,
        progress=100,
        replaces=doc,
    )
    return job


def job_for_clerk(job_id, actor) -> DocumentJob:
    job = DocumentJob.objects.select_related("office").filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("There is no such document."))
    _check_clerk(job, actor)
    return job
