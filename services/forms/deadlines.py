"""The statutory time to settle each e-service, as data: one key per kind of term, named in the
service's definition (`"deadline"`), stored on its ServiceDefinition (`deadline_kind`), shown on the
service list and the form, and used by the case register to compute the case's deadline (the same
key is a `cases.models.DeadlineKind`, counted by `gisportal.core.calendar.settlement_deadline`). One source:
nothing else says how long a service takes."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# kind -> (days, for the API's `deadline_days`; what the applicant reads)
DEADLINES: dict[str, tuple[int, object]] = {
    "immediate": (0, _("without delay")),
    "certificate_7_days": (7, _("up to 7 days (art. 217 § 3 KPA)")),
    "working_days_10": (10, _("up to 10 working days (art. 12 Pgik)")),
    "one_month": (30, _("up to one month (art. 35 § 3 KPA)")),
    "two_months": (60, _("up to two months (art. 35 § 3 KPA)")),
}


def deadline_text(kind: str) -> str:
    entry = DEADLINES.get(kind or "")
    return str(entry[1]) if entry else ""


def kind_for_days(days: int | None) -> str:
    """The term of a definition row written before the kind was stored (as the case register read
    its days then: up to 7 a certificate, up to 31 a month, else two months)."""
    if days is None:
        return "one_month"
    if days <= 7:
        return "certificate_7_days"
    return "one_month" if days <= 31 else "two_months"
