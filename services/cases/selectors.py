"""Reads of the case register: the clerk's inbox, the applicant's view, status lookups (throttled)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from . import calendar
from .actions import access_code_hash
from .models import Case, State
from .states import ACTIVE

STATUS_ATTEMPTS = 10  # per client address and 10 minutes
STATUS_WINDOW = 600
FILTERS = ("overdue", "this_week", "mine")


def inbox(office, *, unit=None, flt: str = "", state: str = "", service: str = "", q: str = "", user=None):
    today = timezone.localdate()
    qs = Case.objects.filter(office=office).select_related("unit", "service", "assigned_to")
    if unit is not None:
        qs = qs.filter(unit=unit)
    if flt == "overdue":
        qs = qs.filter(state__in=ACTIVE, deadline__lt=today)
    elif flt == "this_week":
        qs = qs.filter(state__in=ACTIVE, deadline__gte=today, deadline__lte=today + timedelta(days=7))
    elif flt == "mine" and user is not None:
        qs = qs.filter(assigned_to=user)
    if state in State.values:
        qs = qs.filter(state=state)
    if service:
        qs = qs.filter(service__code=service)
    q = (q or "").strip()[:100]
    if q:
        qs = qs.filter(
            Q(sign__icontains=q)
            | Q(applicant_name__icontains=q)
            | Q(subject__icontains=q)
            | Q(parcels__icontains=q)
            | Q(tracking_code=q.upper())
        )
    return qs.order_by("deadline", "id")


def flag(case: Case, today=None) -> str:
    """overdue | due_soon | ok for active cases, '' for others."""
    if case.state not in ACTIVE:
        return ""
    return calendar.status(case.deadline, today or timezone.localdate())


def office_case(office, case_id: int) -> Case | None:
    """A case of this office only: another office's case is as good as missing (no leak)."""
    return (
        Case.objects.filter(office=office, pk=case_id)
        .select_related("office", "unit", "service", "assigned_to", "submission")
        .first()
    )


@dataclass(frozen=True)
class PublicStatus:
    sign: str
    subject: str
    office: str
    state: str
    state_label: str
    received_on: str
    deadline: str | None
    supplement_due: str | None
    timeline: list[dict]
    payment: dict | None = None


def public_status(case: Case) -> PublicStatus:
    active = case.state in ACTIVE
    return PublicStatus(
        sign=case.sign,
        subject=case.subject,
        office=case.office.name,
        state=case.state,
        state_label=str(State(case.state).label),
        received_on=case.received_on.isoformat(),
        deadline=case.deadline.isoformat() if active else None,
        supplement_due=case.supplement_due.isoformat() if case.supplement_due and active else None,
        timeline=[
            {"at": timezone.localtime(e.at).isoformat(timespec="minutes"), "note": e.note}
            for e in case.timeline.filter(public=True).order_by("at", "id")
        ],
        payment=_public_payment(case),
    )


def _public_payment(case: Case) -> dict | None:
    """The latest fee of the case as the status page shows it (amount, account, title, status)."""
    from services.payments.selectors import payments_of_case

    payments = payments_of_case(case.pk)
    if not payments:
        return None
    p = payments[-1]
    return {
        "status": p.status,
        "status_label": str(p.get_status_display()),
        "amount": f"{p.amount:.2f}",
        "currency": p.currency,
        "number": p.document.number,
        "account": p.document.account,
        "title": p.document.title,
        "due_date": p.document.due_date.isoformat(),
    }


def throttled(client: str) -> bool:
    """True when this client has used up its status lookups for the window (counts every attempt)."""
    key = f"gisportal:status-attempts:{client}"
    n = cache.get_or_set(key, 0, timeout=STATUS_WINDOW)
    try:
        n = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=STATUS_WINDOW)
        n = 1
    return n > STATUS_ATTEMPTS


STATUS_CANDIDATES = 20  # cases sharing one sign: one per office at most (signs are unique per office)


def status_lookup(reference: str, access_code: str) -> Case | None:
    """The case with this sign or tracking code whose access code matches; None for any mismatch
    (the same answer whether the case exists or not).

    A sign is unique only within its office (DOMAIN.md §8): two offices both have a KAN unit, so
    "KAN.1510.1.2026" may name a case in each. The access code (random, per case) says which one:
    every candidate's code is compared, and only the case whose code matches is returned, never
    another office's case of the same sign."""
    reference = (reference or "").strip()[:60]
    if not reference or not access_code or "\x00" in reference:  # PostgreSQL cannot even compare a NUL
        return None
    candidates = list(
        Case.objects.filter(Q(sign__iexact=reference) | Q(tracking_code=reference.upper()))
        .select_related("office")
        .order_by("pk")[:STATUS_CANDIDATES]
    )
    given = access_code_hash(access_code)
    if not candidates:  # the same work whether a case of that reference exists or not
        hmac.compare_digest(access_code_hash("-"), given)
    matching = [case for case in candidates if hmac.compare_digest(case.access_code_hash, given)]
    return matching[0] if matching else None


def applicant_cases(user):
    return Case.objects.filter(applicant_user=user).select_related("office").order_by("-received_on", "-id")
