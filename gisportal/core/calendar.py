"""The Polish statutory calendar and KPA deadlines (DOMAIN.md §7).

Pure functions over ``datetime.date``: no database, no network, no models, stdlib only. Callers
convert timezone-aware times to Europe/Warsaw dates first (ARCHITECTURE §7); a ``datetime`` is
refused so that a UTC timestamp is never silently cut to the wrong day.

* ``holidays(year)`` - statutory public holidays (ustawa z 18 I 1951 r. o dniach wolnych od pracy, as
  amended), Polish names, for 1990-2200.
* ``add_days`` / ``add_weeks`` / ``add_months`` / ``add_years`` / ``term_end`` / ``explain`` - KPA
  art. 57 §1-§4: the term's raw end, then the move off a day off.
* ``settlement_deadline`` - KPA art. 35 §3 and art. 217 §3, with the periods of art. 35 §5 left out.
* ``deemed_delivery_paper`` (art. 44) and ``deemed_delivery_edelivery`` (u.d.e. art. 41-42).
* ``status`` - overdue / due soon / ok for the clerk's lists.

Every out-of-range or malformed argument raises ``CalendarError``, which is both our
``InvalidInput`` (rendered at the edge with a code and a translated message) and a ``ValueError``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Literal

from django.utils.translation import gettext as _

from gisportal.core.errors import InvalidInput

__all__ = [
    "CHRISTMAS_EVE_FROM_YEAR",
    "EPIPHANY_FROM_YEAR",
    "MAX_YEAR",
    "MIN_YEAR",
    "SATURDAY_RULE_FROM",
    "CalendarError",
    "DeadlineStatus",
    "Explained",
    "SettlementKind",
    "Unit",
    "add_days",
    "add_months",
    "add_weeks",
    "add_years",
    "deemed_delivery_edelivery",
    "deemed_delivery_paper",
    "easter_sunday",
    "explain",
    "holiday_name",
    "holidays",
    "is_holiday",
    "is_non_working",
    "moves_end",
    "settlement_deadline",
    "status",
    "term_end",
]

date = datetime.date
Unit = Literal["days", "weeks", "months", "years"]
SettlementKind = Literal["immediate", "one_month", "two_months", "certificate_7_days", "working_days_10"]
DeadlineStatus = Literal["overdue", "due_soon", "ok"]

# Years the holiday rules below are written for: 3 May is a holiday again from 1990 (act of 6 IV 1990).
MIN_YEAR = 1990
MAX_YEAR = 2200
# 6 January (Trzech Króli) is a holiday again from 2011 (act of 24 XI 2010).
EPIPHANY_FROM_YEAR = 2011
# 24 December (Wigilia) is a holiday from 2025 (act of 6 XII 2024, in force 1 II 2025).
CHRISTMAS_EVE_FROM_YEAR = 2025
# KPA art. 57 §4 names Saturday from this day on (act of 7 IV 2017, in force 1 VI 2017); before, an
# end moved only off a "dzień ustawowo wolny od pracy", i.e. a Sunday or a holiday.
SATURDAY_RULE_FROM = date(2017, 6, 1)

SATURDAY = "sobota"
SUNDAY = "niedziela"

_ONE_DAY = datetime.timedelta(days=1)
_PAPER_HOLD_DAYS = 14  # KPA art. 44 §1: the post office (or the office) keeps the letter 14 days
_EDELIVERY_DAYS = 14  # u.d.e. art. 41-42: 14 days after arrival in the box (DOMAIN.md §7)
_CERTIFICATE_DAYS = 7  # KPA art. 217 §3


class CalendarError(InvalidInput, ValueError):
    """A date outside 1990-2200, a negative amount, an unknown unit or kind, a malformed pause."""

    code = "calendar"


@dataclass(frozen=True, slots=True)
class Explained:
    """A term's end with the reasons: ``raw_end`` is the end by art. 57 §1-§3 alone, ``end`` the end
    after §4, and ``moved_over`` the days passed over on the way, each with its reason ("sobota",
    "niedziela" or the holiday's name); empty when the raw end is kept."""

    end: date
    raw_end: date
    moved_over: list[tuple[date, str]] = field(default_factory=list)


# -- holidays ----------------------------------------------------------------------------------------


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday: the anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    _check_year(year)
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


@cache
def _holidays(year: int) -> Mapping[date, str]:
    easter = easter_sunday(year)
    days: list[tuple[date, str]] = [
        (date(year, 1, 1), "Nowy Rok"),
        (easter, "Wielkanoc"),
        (easter + datetime.timedelta(days=1), "Poniedziałek Wielkanocny"),
        (date(year, 5, 1), "Święto Pracy"),
        (date(year, 5, 3), "Święto Narodowe Trzeciego Maja"),
        (easter + datetime.timedelta(days=49), "Zielone Świątki"),
        (easter + datetime.timedelta(days=60), "Boże Ciało"),
        (date(year, 8, 15), "Wniebowzięcie Najświętszej Maryi Panny"),
        (date(year, 11, 1), "Wszystkich Świętych"),
        (date(year, 11, 11), "Narodowe Święto Niepodległości"),
        (date(year, 12, 25), "Boże Narodzenie (pierwszy dzień)"),
        (date(year, 12, 26), "Boże Narodzenie (drugi dzień)"),
    ]
    if year >= EPIPHANY_FROM_YEAR:
        days.append((date(year, 1, 6), "Święto Trzech Króli"))
    if year >= CHRISTMAS_EVE_FROM_YEAR:
        days.append((date(year, 12, 24), "Wigilia Bożego Narodzenia"))
    result: dict[date, str] = {}
    for day, name in sorted(days):
        # The movable feasts cannot meet a fixed one (Easter 22 III-25 IV, Pentecost 10 V-13 VI,
        # Corpus Christi 21 V-24 VI); joined anyway rather than one name silently lost.
        result[day] = f"{result[day]}; {name}" if day in result else name
    return MappingProxyType(result)


def holidays(year: int) -> dict[date, str]:
    """The statutory public holidays of ``year`` (1990-2200) by date, with their Polish names, in
    date order: 1 I, 6 I (from 2011), Easter Sunday and Monday, 1 V, 3 V, Pentecost (Easter + 49),
    Corpus Christi (Easter + 60), 15 VIII, 1 XI, 11 XI, 24 XII (from 2025), 25 XII and 26 XII.
    Sundays as such are days off too, but are not listed. Raises ``CalendarError`` outside the range."""
    return dict(_holidays(year))


def holiday_name(d: date) -> str | None:
    """The Polish name of the holiday on ``d``, or None."""
    return _holidays(_check_date(d).year).get(d)


def is_holiday(d: date) -> bool:
    """Whether ``d`` is a statutory public holiday (a plain Sunday is not, see ``is_non_working``)."""
    return holiday_name(d) is not None


def is_non_working(d: date) -> bool:
    """Whether ``d`` is a day off in today's sense: a Saturday, a Sunday or a holiday. For the end of
    a KPA term use ``moves_end``, which knows that Saturdays count only from 1 June 2017."""
    return _check_date(d).weekday() >= 5 or is_holiday(d)


def moves_end(d: date) -> bool:
    """Whether a KPA term ending on ``d`` moves on to the next day (art. 57 §4): ``d`` is a Sunday, a
    holiday, or a Saturday on or after 1 June 2017. The law in force on ``d`` decides."""
    _check_date(d)
    if d.weekday() == 6 or is_holiday(d):
        return True
    return d.weekday() == 5 and d >= SATURDAY_RULE_FROM


def _day_off_reason(d: date) -> str:
    name = holiday_name(d)
    if name is not None:
        return name
    return SUNDAY if d.weekday() == 6 else SATURDAY


# -- art. 57: terms --------------------------------------------------------------------------------


def _raw_days(start: date, n: int) -> date:
    # §1: the day of the triggering event is not counted; the term ends with the n-th day after it.
    _check_date(start)
    _check_amount(n)
    try:
        end = start + datetime.timedelta(days=n)
    except OverflowError:
        raise _out_of_range() from None
    return _check_date(end)


def _raw_months(start: date, n: int) -> date:
    # §3: the day of the month that matches the start day; the month's last day when there is none.
    _check_date(start)
    _check_amount(n)
    index = start.month - 1 + n
    year, month = start.year + index // 12, index % 12 + 1
    if year > MAX_YEAR:
        raise _out_of_range()
    return date(year, month, min(start.day, _days_in_month(year, month)))


def _days_in_month(year: int, month: int) -> int:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (following - _ONE_DAY).day


def _raw_end(start: date, amount: int, unit: str) -> date:
    if unit == "days":
        return _raw_days(start, amount)
    if unit == "weeks":
        # §2: the day of the week named like the start day, ``amount`` weeks on (= 7 * amount days).
        _check_amount(amount)
        return _raw_days(start, 7 * amount)
    if unit == "months":
        return _raw_months(start, amount)
    if unit == "years":
        # §3 "years alike": 12 months, so 29 II + 1 year = 28 II.
        _check_amount(amount)
        return _raw_months(start, 12 * amount)
    raise CalendarError(
        _("Unknown unit of a term: %(unit)s (days, weeks, months or years).") % {"unit": str(unit)[:20]},
        code="calendar_unit",
    )


def _move_off_days_off(raw_end: date) -> Explained:
    # §4: an end on a day off moves to the next day that is not one (each day judged by its own law).
    end, moved = raw_end, []
    while moves_end(end):
        moved.append((end, _day_off_reason(end)))
        end = _check_date(end + _ONE_DAY)
    return Explained(end=end, raw_end=raw_end, moved_over=moved)


def explain(start: date, amount: int, unit: Unit) -> Explained:
    """The end of a term of ``amount`` ``unit`` counted from the event on ``start`` (KPA art. 57),
    with the raw end (§1-§3) and the days off passed over (§4)."""
    return _move_off_days_off(_raw_end(start, amount, unit))


def term_end(start: date, amount: int, unit: Unit) -> date:
    """The last day of a term of ``amount`` ``unit`` counted from the event on ``start`` (KPA art. 57):
    §1 days (the start day not counted), §2 weeks (same weekday), §3 months and years (same day of
    the month, else the month's last day), then §4 (next day that is not a Sunday, a holiday or,
    for ends from 1 June 2017, a Saturday)."""
    return explain(start, amount, unit).end


def add_days(start: date, n: int) -> date:
    """KPA art. 57 §1 + §4: the end of a term of ``n`` days from the event on ``start``."""
    return term_end(start, n, "days")


def add_weeks(start: date, n: int) -> date:
    """KPA art. 57 §2 + §4: the end of a term of ``n`` weeks from the event on ``start``."""
    return term_end(start, n, "weeks")


def add_months(start: date, n: int) -> date:
    """KPA art. 57 §3 + §4: the end of a term of ``n`` months (31 I + 1 month = 28/29 II, then §4)."""
    return term_end(start, n, "months")


def add_years(start: date, n: int) -> date:
    """KPA art. 57 §3 + §4: the end of a term of ``n`` years (29 II + 1 year = 28 II, then §4)."""
    return term_end(start, n, "years")


# -- art. 35 / 217: settling a case ----------------------------------------------------------------

_SETTLEMENT_TERMS: dict[str, tuple[int, str]] = {
    "immediate": (0, "days"),
    "one_month": (1, "months"),  # art. 35 §3 (and an appeal, art. 35 §3 second sentence)
    "two_months": (2, "months"),  # art. 35 §3, a particularly complex case
    "certificate_7_days": (_CERTIFICATE_DAYS, "days"),  # art. 217 §3
    "working_days_10": (10, "working_days"),  # art. 12 Pgik: resource materials for a notified survey
}


def _merged_pauses(start: date, paused: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    """The paused days after ``start`` as sorted, disjoint, non-adjacent inclusive ranges."""
    ranges: list[tuple[date, date]] = []
    for item in paused:
        try:
            first, last = item
        except (TypeError, ValueError):
            raise _bad_pause() from None
        _check_date(first)
        _check_date(last)
        if last < first:
            raise _bad_pause()
        first = max(first, start + _ONE_DAY)  # the start day itself is never counted anyway
        if first <= last:
            ranges.append((first, last))
    ranges.sort()
    merged: list[tuple[date, date]] = []
    for first, last in ranges:
        if merged and first <= merged[-1][1] + _ONE_DAY:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _paused_days_until(ranges: list[tuple[date, date]], end: date) -> int:
    return sum((min(last, end) - first).days + 1 for first, last in ranges if first <= end)


def settlement_deadline(
    start: date,
    kind: SettlementKind,
    paused: Iterable[tuple[date, date]] = (),
) -> date:
    """The day by which a case started on ``start`` must be settled.

    ``kind``: "immediate" (the start day itself), "one_month" / "two_months" (art. 35 §3, counted
    like art. 57 §3), "certificate_7_days" (art. 217 §3, counted like art. 57 §1) or
    "working_days_10" (art. 12 Pgik: the 10th working day after ``start``, paused days not counted).

    ``paused`` (art. 35 §5: waiting for the party's supplement, suspension, delays caused by the
    party or beyond the office's control) are inclusive date ranges, in any order, possibly
    overlapping or touching. The exact rule:

    1. ``raw`` = the term's raw end (art. 57 §1/§3, without §4); for "immediate" ``raw = start``.
    2. The ranges are clipped to the days after ``start`` and merged, so a day paused twice counts
       once and a pause covering the start day counts only from the next day.
    3. ``end`` is the smallest day with ``end = raw + (paused days in start+1 .. end)``: every paused
       day up to and including the growing end pushes it one calendar day further, so the end is
       never itself a paused day. Pauses wholly after that end change nothing, and "immediate" is
       never extended.
    4. Art. 57 §4: an ``end`` on a Sunday, a holiday or (from 1 June 2017) a Saturday moves to the next
       day that is none of them (also for "immediate": a case filed on a Saturday is due on Monday).
    """
    if kind not in _SETTLEMENT_TERMS:
        raise CalendarError(
            _("Unknown kind of settlement deadline: %(kind)s.") % {"kind": str(kind)[:30]},
            code="calendar_kind",
        )
    amount, unit = _SETTLEMENT_TERMS[kind]
    if unit == "working_days":
        return _working_days_end(start, amount, _merged_pauses(start, paused))
    raw = _raw_end(start, amount, unit)
    ranges = _merged_pauses(start, paused)
    end = raw
    if amount:
        while True:  # a fixed point: grows monotonically and stops at the first unpaused solution
            try:
                grown = raw + datetime.timedelta(days=_paused_days_until(ranges, end))
            except OverflowError:
                raise _out_of_range() from None
            if grown == end:
                break
            end = _check_date(grown)
    return _move_off_days_off(end).end


def _working_days_end(start: date, n: int, paused: list[tuple[date, date]]) -> date:
    """The n-th working day after ``start`` (not a Saturday, Sunday or holiday, nor a paused day): a
    term in working days ends on a working day, so art. 57 §4 has nothing to move."""
    _check_date(start)
    end, counted = start, 0
    while counted < n:
        end = _check_date(end + _ONE_DAY)
        if not is_non_working(end) and not any(first <= end <= last for first, last in paused):
            counted += 1
    return end


# -- deemed delivery ---------------------------------------------------------------------------------


def deemed_delivery_paper(first_notice: date) -> date:
    """KPA art. 44 §4: a letter not collected is deemed delivered at the end of the last of the 14
    days it is kept, counted from the first notice (never 21 days, whatever the second notice says).

    Counted like art. 57 §1: the notice day is not counted, so the 14th day is ``first_notice + 14``
    - first notice Mon 2 III 2026 -> days 1..14 are 3..16 III -> deemed delivered Mon 16 III 2026
    (DOMAIN.md §7). Art. 57 §4 is not applied: this is the day of an event fixed by a legal fiction,
    not the end of a term for someone to act; the terms that it starts (e.g. 14 days for an appeal)
    are counted from it with ``add_days`` and move off days off at their own end."""
    return _raw_days(first_notice, _PAPER_HOLD_DAYS)


def deemed_delivery_edelivery(arrival: date) -> date:
    """u.d.e. art. 41-42: an e-Doręczenia letter to a private addressee left unopened is deemed
    delivered on the day after the 14 days counted from its arrival in the box.

    The 14 days are counted like art. 57 §1 (the arrival day not counted, so they end with
    ``arrival + 14``), and delivery is the next day: arrival Mon 2 III 2026 -> the 14 days are
    3..16 III -> deemed delivered Tue 17 III 2026 (DOMAIN.md §7, our configurable reading). No
    art. 57 §4 move, for the same reason as ``deemed_delivery_paper``. (Cases 1-2 of u.d.e. - opened
    by the addressee, arrival at a public body - take the proof's own time and need no calculation.)"""
    return _check_date(_raw_days(arrival, _EDELIVERY_DAYS) + _ONE_DAY)


# -- status ------------------------------------------------------------------------------------------


def status(deadline: date, today: date, due_soon_days: int = 3) -> DeadlineStatus:
    """Where a case stands: "overdue" after ``deadline`` (the deadline day itself is still in time), "due_soon" when at
    most ``due_soon_days`` calendar days remain (0 = due today), else "ok"."""
    _check_date(deadline)
    _check_date(today)
    _check_amount(due_soon_days)
    remaining = (deadline - today).days
    if remaining < 0:
        return "overdue"
    if remaining <= due_soon_days:
        return "due_soon"
    return "ok"


# -- checks ------------------------------------------------------------------------------------------


def _out_of_range() -> CalendarError:
    return CalendarError(
        _("The Polish calendar is known for the years %(min)d-%(max)d only.")
        % {"min": MIN_YEAR, "max": MAX_YEAR},
        code="calendar_range",
    )


def _bad_pause() -> CalendarError:
    return CalendarError(
        _("A paused period must be a pair of dates, the first not after the second."),
        code="calendar_pause",
    )


def _check_year(year: int) -> int:
    if isinstance(year, bool) or not isinstance(year, int):
        raise TypeError("year must be an int")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _out_of_range()
    return year


def _check_date(d: date) -> date:
    if isinstance(d, datetime.datetime) or not isinstance(d, datetime.date):
        # A datetime would be cut to its own (possibly UTC) day: convert to Europe/Warsaw first.
        raise TypeError("expected a datetime.date (not a datetime); convert to Europe/Warsaw first")
    _check_year(d.year)
    return d


def _check_amount(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("the amount must be an int")
    if n < 0:
        raise CalendarError(_("The length of a term cannot be negative."), code="calendar_amount")
    return n
