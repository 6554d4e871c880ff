"""The delivery rules of DOMAIN.md §7 as pure functions over dates (Europe/Warsaw days):

- opened in the inbox or the e-delivery box, or signed for: delivered at that moment;
- the portal inbox and e-Doręczenia left unopened: deemed delivered on the day after the 14 days counted
  from arrival (u.d.e. art. 41-42; the act's rule applied to the portal alike);
- paper not collected after notices: deemed delivered on the last of the 14 days from the first notice
  (KPA art. 44 § 4; the second notice does not extend it);
- the period a delivered document starts: an appeal against a decision 14 days (art. 129 § 2), a complaint
  against a procedural order 7 days (art. 141 § 2), counted by art. 57 (the end moves off days off);
- reminders by e-mail on configurable days after arrival, while the document is unopened.

The day counting itself lives in the statutory calendar (gisportal/core/calendar.py)."""

from __future__ import annotations

from datetime import date

from gisportal.core import calendar

from .models import Channel, Kind

PERIODS = {Kind.DECISION: 14, Kind.ORDER: 7}  # days the addressee has to appeal / complain


def deemed_on(channel: str, *, arrived_on: date | None, first_notice_on: date | None) -> date | None:
    """The day a delivery left unopened is deemed delivered (None while it cannot be known yet)."""
    if channel in (Channel.PORTAL, Channel.EDORECZENIA):
        return calendar.deemed_delivery_edelivery(arrived_on) if arrived_on else None
    if channel == Channel.PAPER:
        return calendar.deemed_delivery_paper(first_notice_on) if first_notice_on else None
    return None


def period_days(kind: str) -> int | None:
    return PERIODS.get(kind)


def period_end(kind: str, delivered_on: date) -> date | None:
    """The last day of the appeal or complaint period that delivery on `delivered_on` starts."""
    days = period_days(kind)
    return calendar.add_days(delivered_on, days) if days else None


def period_end_days(delivered_on: date, days: int | None) -> date | None:
    """The last day of a period of `days` days that delivery on `delivered_on` starts (art. 57)."""
    return calendar.add_days(delivered_on, days) if days else None


def reminders_due(arrived_on: date, today: date, days: tuple[int, ...], sent: list[int]) -> list[int]:
    """The reminder days (after arrival) reached by `today` whose reminder has not gone out yet."""
    elapsed = (today - arrived_on).days
    return [d for d in sorted(set(days)) if d <= elapsed and d not in sent]
