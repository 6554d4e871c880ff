"""Reads of the surveyor's materials package: only the surveyor who filed the work notification sees it;
for anyone else it does not exist."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils import timezone

from services.cases.models import Case

from .models import Package

SERVICE_CODE = "zgloszenie-prac"
KERG = re.compile(r"^[A-Z]{1,6}\.\d{4}\.\d{1,7}\.\d{4}$")


@dataclass(frozen=True)
class PackageView:
    """Where the surveyor's package stands: not_paid | queued | running | ready | failed | expired."""

    case: Case
    package: Package | None
    state: str


def case_paid(case_id: int) -> bool:
    from services.payments.models import Payment

    return Payment.objects.filter(document__case_id=case_id, status="paid").exists()


def state_of(case: Case, package: Package | None) -> str:
    if package is None:
        return "not_paid" if not case_paid(case.pk) else "queued"
    if package.expires_at and package.expires_at <= timezone.now():
        return "expired"
    return package.status


def package_for(user, *, kerg: str = "", case_id: int | None = None) -> PackageView | None:
    """The package of the surveyor's own work notification (by its KERG sign or case id), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    cases = Case.objects.select_related("office", "submission").filter(
        service__code=SERVICE_CODE, submission__user=user
    )
    if kerg:
        if not KERG.match(kerg):
            return None
        cases = cases.filter(sign=kerg)
    elif case_id is not None:
        cases = cases.filter(pk=case_id)
    else:
        return None
    case = cases.order_by("-pk").first()
    if case is None:
        return None
    package = Package.objects.filter(case_id=case.pk).first()
    return PackageView(case, package, state_of(case, package))
