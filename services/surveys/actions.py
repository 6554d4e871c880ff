"""Writes of the surveyor's materials package: requested once the work notification's fee is paid (a
PAYMENT_HOOKS callback registered in apps.ready), built by a Celery task after the commit."""

from __future__ import annotations

import logging
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from services.cases.models import Case

from .models import Package

log = logging.getLogger(__name__)
SERVICE_CODE = "zgloszenie-prac"
KEEP_UNKNOWN = timedelta(days=3 * 365 + 1)  # no end date: 3 years
STALE_RUNNING = timedelta(hours=2)  # a build this old was lost with its worker: built again


def _enqueue(package_id) -> None:
    from .tasks import package_build

    try:
        package_build.delay(str(package_id))
    except Exception:  # the broker is down: a later request or the sweep queues it again
        log.exception("could not queue materials package %s", package_id)


def expires_for(case: Case, now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    end = (case.submission.data or {}).get("end_date") if case.submission_id else None
    try:
        end_day = date.fromisoformat(str(end)) if end else None
    except ValueError:
        end_day = None
    if end_day is None:
        return now + KEEP_UNKNOWN
    try:  # the work's end date + 1 year, to the end of that day
        keep_until = end_day.replace(year=end_day.year + 1)
    except ValueError:  # 29 February
        keep_until = end_day.replace(year=end_day.year + 1, day=28)
    return timezone.make_aware(datetime.combine(keep_until, time(23, 59, 59)))


def package_request(case_id: int) -> Package | None:
    """The case's package, stored queued (once) and its build queued after the commit; a failed or lost
    build is queued again. None for a case that is not a work notification."""
    with transaction.atomic():
        case = Case.objects.select_related("service", "submission", "office").filter(pk=case_id).first()
        if case is None or case.service is None or case.service.code != SERVICE_CODE:
            return None
        package, created = Package.objects.select_for_update().get_or_create(
            case_id=case.pk,
            defaults={
                "kerg": case.sign,
                "office": case.office,
                "surveyor": case.submission.user if case.submission_id else case.applicant_user,
                "expires_at": expires_for(case),
            },
        )
        lost = (
            package.status == Package.Status.RUNNING
            and package.created_at < timezone.now() - STALE_RUNNING
            and package.ready_at is None
        )
        if not created and package.status != Package.Status.FAILED and not lost:
            return package
        if not created:
            package.status, package.progress, package.error = Package.Status.QUEUED, 0, ""
            package.save(update_fields=["status", "progress", "error"])
        pk = package.pk
        transaction.on_commit(lambda: _enqueue(pk))
    return package


def package_payment_changed(change) -> None:
    """PAYMENT_HOOKS callback: a paid fee of a work notification requests its materials package."""
    if change.event != "paid" or not change.case_id:
        return
    package_request(change.case_id)


def _set_progress(package_id, value: int) -> None:
    Package.objects.filter(pk=package_id).update(progress=value)


def _title(case: Case, now: datetime):
    from services.documents.kinds import TitleBlock

    office = case.office
    return TitleBlock(
        office_name=office.name,
        office_address=f"{office.street}, {office.postcode} {office.city}",
        kind_label="Mapa obszaru prac geodezyjnych",
        number=case.sign,
        case_sign=case.sign,
        issued_at=now,
        issued_by="",
        verification_code="",
        verify_url=case.sign,
    )


def package_build(package_id) -> str:
    """Build the package (the task; idempotent): a ready one is left as it is, one being built by another
    worker too. Returns the status."""
    claimed = Package.objects.filter(pk=package_id, status__in=[Package.Status.QUEUED, Package.Status.FAILED])
    if not claimed.update(status=Package.Status.RUNNING, progress=1, error=""):
        current = Package.objects.filter(pk=package_id).values_list("status", flat=True).first()
        return current or "missing"
    package = Package.objects.select_related("office", "surveyor").get(pk=package_id)
    case = Case.objects.select_related("office", "submission").get(pk=package.case_id)
    try:
        from . import package as builder

        with tempfile.TemporaryDirectory(prefix="pakiet-") as tmp:
            path, contents = builder.build(
                Path(tmp),
                case=case,
                surveyor=package.surveyor,
                title=_title(case, timezone.now()),
                progress=lambda v: _set_progress(package_id, v),
            )
            digest = builder._sha256_file(path).hexdigest()
            size = path.stat().st_size
            with open(path, "rb") as f:
                package.file.save(
                    f"{case.sign.replace('/', '_')}-{package.pk.hex[:8]}.asice", File(f), save=False
                )
        package.sha256, package.size, package.contents = digest, size, contents
        package.status, package.progress, package.ready_at = Package.Status.READY, 100, timezone.now()
        package.save(update_fields=["file", "sha256", "size", "contents", "status", "progress", "ready_at"])
    except Exception as e:
        log.exception("materials package %s failed", package_id)
        Package.objects.filter(pk=package_id).update(status=Package.Status.FAILED, error=str(e)[:300])
        return Package.Status.FAILED
    return Package.Status.READY


def package_sweep(*, now: datetime | None = None) -> int:
    """Queue again the packages whose build was lost: queued for more than 15 minutes, or running too long."""
    now = now or timezone.now()
    stuck = Package.objects.filter(
        Q(status=Package.Status.QUEUED, created_at__lte=now - timedelta(minutes=15))
        | Q(status=Package.Status.RUNNING, created_at__lte=now - STALE_RUNNING)
    )
    n = 0
    for pkg in stuck:
        _enqueue(pkg.pk)
        n += 1
    return n
