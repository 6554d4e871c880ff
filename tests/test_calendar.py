"""The Polish statutory calendar and KPA deadlines (gisportal/core/calendar.py; DOMAIN.md §7).

Pure functions: no database. The worked examples of DOMAIN.md §7 come first, then the edges (month
ends, the Saturday rule of 1 June 2017, holiday chains, paused periods), then property tests that
compare against small reference implementations written here in a different style (walking the
calendar day by day, ``calendar.monthrange``, ``dateutil.easter``).
"""

from __future__ import annotations

import calendar as stdlib_calendar
from datetime import date, datetime, timedelta

import pytest
from dateutil.easter import EASTER_WESTERN
from dateutil.easter import easter as dateutil_easter
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from gisportal.core import calendar as cal
from gisportal.core.calendar import (
    SATURDAY_RULE_FROM,
    CalendarError,
    Explained,
    add_days,
    add_months,
    add_weeks,
    add_years,
    deemed_delivery_edelivery,
    deemed_delivery_paper,
    easter_sunday,
    explain,
    holidays,
    is_holiday,
    is_non_working,
    moves_end,
    settlement_deadline,
    status,
    term_end,
)
from gisportal.core.errors import InvalidInput


@pytest.fixture(scope="session", autouse=True)
def _close_foreign_connections():
    """Overrides the conftest fixture of this name (which needs the test database): nothing here
    touches a database, so none is created for this module."""
    yield


PROPERTY = settings(database=None, deadline=None, max_examples=200)
ONE = timedelta(days=1)
# The longest run of days off after 2025: Wed 24 Dec .. Sun 28 Dec.
MAX_MOVE = 5

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2190, 12, 31))
dates_after_rule = st.dates(min_value=SATURDAY_RULE_FROM, max_value=date(2190, 12, 31))
terms = st.one_of(
    st.tuples(st.integers(0, 400), st.just("days")),
    st.tuples(st.integers(0, 60), st.just("weeks")),
    st.tuples(st.integers(0, 36), st.just("months")),
    st.tuples(st.integers(0, 5), st.just("years")),
)


# -- DOMAIN.md §7, the table -------------------------------------------------------------------------


def test_domain_days_and_weeks():
    start = date(2021, 11, 3)
    assert start.strftime("%a") == "Wed"
    assert add_days(start, 14) == date(2021, 11, 17)
    assert add_weeks(start, 2) == date(2021, 11, 17)
    assert term_end(start, 14, "days") == term_end(start, 2, "weeks") == date(2021, 11, 17)
    assert explain(start, 14, "days") == Explained(date(2021, 11, 17), date(2021, 11, 17), [])


def test_domain_three_months():
    assert add_months(date(2021, 6, 30), 3) == date(2021, 9, 30)


def test_domain_christmas_2026():
    start = date(2026, 12, 10)
    assert start.strftime("%a") == "Thu"
    result = explain(start, 14, "days")
    assert result.raw_end == date(2026, 12, 24)
    assert result.end == date(2026, 12, 28)
    assert result.end.strftime("%a") == "Mon"
    assert result.moved_over == [
        (date(2026, 12, 24), "Wigilia Bożego Narodzenia"),
        (date(2026, 12, 25), "Boże Narodzenie (pierwszy dzień)"),
        (date(2026, 12, 26), "Boże Narodzenie (drugi dzień)"),
        (date(2026, 12, 27), "niedziela"),
    ]
    assert add_days(start, 14) == date(2026, 12, 28)


def test_domain_end_of_january_2027():
    start = date(2027, 1, 31)
    assert start.strftime("%a") == "Sun"
    result = explain(start, 1, "months")
    assert result.raw_end == date(2027, 2, 28)
    assert result.moved_over == [(date(2027, 2, 28), "niedziela")]
    assert result.end == add_months(start, 1) == date(2027, 3, 1)


# -- holidays ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "easter", "easter_monday", "pentecost", "corpus_christi"),
    [
        (2025, date(2025, 4, 20), date(2025, 4, 21), date(2025, 6, 8), date(2025, 6, 19)),
        (2026, date(2026, 4, 5), date(2026, 4, 6), date(2026, 5, 24), date(2026, 6, 4)),
        (2027, date(2027, 3, 28), date(2027, 3, 29), date(2027, 5, 16), date(2027, 5, 27)),
    ],
)
def test_domain_easter_table(year, easter, easter_monday, pentecost, corpus_christi):
    assert easter_sunday(year) == easter
    days = holidays(year)
    assert days[easter] == "Wielkanoc"
    assert days[easter_monday] == "Poniedziałek Wielkanocny"
    assert days[pentecost] == "Zielone Świątki"
    assert days[corpus_christi] == "Boże Ciało"


@pytest.mark.parametrize(
    "easter",
    [date(1990, 4, 15), date(2000, 4, 23), date(2008, 3, 23), date(2011, 4, 24), date(2019, 4, 21),
     date(2024, 3, 31), date(2038, 4, 25), date(2160, 3, 23)],
)  # fmt: skip
def test_known_easter_dates(easter):
    assert easter_sunday(easter.year) == easter


def test_easter_matches_dateutil_over_the_whole_range():
    for year in range(cal.MIN_YEAR, cal.MAX_YEAR + 1):
        assert easter_sunday(year) == dateutil_easter(year, EASTER_WESTERN), year


def test_holidays_2026_complete():
    assert holidays(2026) == {
        date(2026, 1, 1): "Nowy Rok",
        date(2026, 1, 6): "Święto Trzech Króli",
        date(2026, 4, 5): "Wielkanoc",
        date(2026, 4, 6): "Poniedziałek Wielkanocny",
        date(2026, 5, 1): "Święto Pracy",
        date(2026, 5, 3): "Święto Narodowe Trzeciego Maja",
        date(2026, 5, 24): "Zielone Świątki",
        date(2026, 6, 4): "Boże Ciało",
        date(2026, 8, 15): "Wniebowzięcie Najświętszej Maryi Panny",
        date(2026, 11, 1): "Wszystkich Świętych",
        date(2026, 11, 11): "Narodowe Święto Niepodległości",
        date(2026, 12, 24): "Wigilia Bożego Narodzenia",
        date(2026, 12, 25): "Boże Narodzenie (pierwszy dzień)",
        date(2026, 12, 26): "Boże Narodzenie (drugi dzień)",
    }
    assert list(holidays(2026)) == sorted(holidays(2026))


def test_christmas_eve_from_2025_only():
    assert not is_holiday(date(2024, 12, 24))
    assert date(2024, 12, 24) not in holidays(2024)
    assert is_holiday(date(2025, 12, 24))
    assert holidays(2025)[date(2025, 12, 24)] == "Wigilia Bożego Narodzenia"
    assert len(holidays(2024)) == 13
    assert len(holidays(2025)) == 14  # DOMAIN.md §7: 14 holidays


def test_epiphany_from_2011_only():
    assert not is_holiday(date(2010, 1, 6))
    assert is_holiday(date(2011, 1, 6))
    assert len(holidays(2010)) == 12


def test_holidays_returns_a_fresh_dict():
    days = holidays(2026)
    days.clear()
    assert len(holidays(2026)) == 14


@pytest.mark.parametrize("year", [1989, 2201, -5, 0])
def test_holidays_outside_the_range(year):
    with pytest.raises(CalendarError) as info:
        holidays(year)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, InvalidInput)
    assert info.value.code == "calendar_range"
    with translation.override("en"):
        with pytest.raises(ValueError, match="1990-2200"):
            holidays(year)


def test_range_limits_are_inclusive():
    assert holidays(1990)
    assert holidays(2200)
    with pytest.raises(CalendarError):
        is_non_working(date(1989, 12, 31))
    with pytest.raises(CalendarError):
        add_days(date(2200, 12, 20), 14)
    with pytest.raises(CalendarError):
        add_months(date(2200, 6, 1), 12)


def test_is_non_working_and_moves_end():
    assert is_non_working(date(2026, 3, 7))  # Saturday
    assert is_non_working(date(2026, 3, 8))  # Sunday
    assert is_non_working(date(2026, 11, 11))  # Wednesday, holiday
    assert not is_non_working(date(2026, 3, 9))
    # Saturdays: always off in the calendar sense, but a KPA end moves off one only from 1 VI 2017
    assert is_non_working(date(2017, 5, 27)) and not moves_end(date(2017, 5, 27))
    assert is_non_working(date(2017, 6, 3)) and moves_end(date(2017, 6, 3))
    assert moves_end(date(2017, 5, 28))  # Sunday
    assert moves_end(date(2015, 5, 1))  # Friday holiday
    assert not moves_end(date(2017, 5, 31))


# -- art. 57: month ends -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "raw_end", "end"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29), date(2024, 2, 29)),  # leap year, Thursday
        (date(2028, 1, 31), 1, date(2028, 2, 29), date(2028, 2, 29)),  # leap year, Tuesday
        (date(2026, 1, 31), 1, date(2026, 2, 28), date(2026, 3, 2)),  # 28 II 2026 is a Saturday
        (date(2025, 1, 31), 1, date(2025, 2, 28), date(2025, 2, 28)),  # Friday
        (date(2026, 3, 31), 1, date(2026, 4, 30), date(2026, 4, 30)),
        (date(2026, 8, 31), 1, date(2026, 9, 30), date(2026, 9, 30)),
        (date(2025, 12, 31), 2, date(2026, 2, 28), date(2026, 3, 2)),  # across the year end
        (date(2026, 2, 28), 1, date(2026, 3, 28), date(2026, 3, 30)),  # not "the month's last day"
        (date(2026, 5, 15), 12, date(2027, 5, 15), date(2027, 5, 17)),  # Saturday 15 V 2027
    ],
)
def test_month_ends(start, months, raw_end, end):
    result = explain(start, months, "months")
    assert (result.raw_end, result.end) == (raw_end, end)
    assert add_months(start, months) == end


@pytest.mark.parametrize(
    ("start", "years", "end"),
    [
        (date(2024, 2, 29), 1, date(2025, 2, 28)),  # Friday
        (date(2024, 2, 29), 4, date(2028, 2, 29)),  # Tuesday
        (date(2020, 2, 29), 1, date(2021, 3, 1)),  # 28 II 2021 is a Sunday
        (date(2025, 11, 11), 1, date(2026, 11, 12)),  # 11 XI 2026 is a holiday
    ],
)
def test_years(start, years, end):
    assert add_years(start, years) == end
    assert term_end(start, years, "years") == end


# -- art. 57 §4: days off ------------------------------------------------------------------------------


def test_saturday_end_before_1_june_2017_is_kept():
    start = date(2017, 5, 13)
    assert explain(start, 14, "days") == Explained(date(2017, 5, 27), date(2017, 5, 27), [])


def test_saturday_end_from_1_june_2017_moves():
    result = explain(date(2017, 5, 20), 14, "days")
    assert result.raw_end == date(2017, 6, 3)
    assert result.moved_over == [(date(2017, 6, 3), "sobota"), (date(2017, 6, 4), "Zielone Świątki")]
    assert result.end == date(2017, 6, 5)


def test_before_2017_a_holiday_moves_onto_saturday():
    # Fri 1 V 2015 is a holiday; the next day, Saturday 2 V 2015, was a working day for art. 57 §4.
    result = explain(date(2015, 4, 17), 14, "days")
    assert result.moved_over == [(date(2015, 5, 1), "Święto Pracy")]
    assert result.end == date(2015, 5, 2)


def test_sunday_end_moved_also_before_2017():
    assert add_days(date(2017, 5, 14), 14) == date(2017, 5, 29)


def test_end_on_easter_monday():
    result = explain(date(2026, 3, 23), 14, "days")
    assert result.raw_end == date(2026, 4, 6)
    assert result.moved_over == [(date(2026, 4, 6), "Poniedziałek Wielkanocny")]
    assert result.end == date(2026, 4, 7)


def test_end_on_easter_saturday():
    result = explain(date(2026, 3, 21), 2, "weeks")
    assert [reason for _, reason in result.moved_over] == ["sobota", "Wielkanoc", "Poniedziałek Wielkanocny"]
    assert result.end == date(2026, 4, 7)


def test_end_on_all_saints_saturday():
    assert date(2025, 11, 1).strftime("%a") == "Sat"
    result = explain(date(2025, 10, 18), 14, "days")
    assert result.moved_over == [(date(2025, 11, 1), "Wszystkich Świętych"), (date(2025, 11, 2), "niedziela")]
    assert result.end == date(2025, 11, 3)


def test_end_on_1_may_then_3_may_sunday():
    # Fri 1 V 2026, Sat 2 V, Sun 3 V (a holiday too) -> Mon 4 V 2026
    result = explain(date(2026, 4, 17), 14, "days")
    assert result.moved_over == [
        (date(2026, 5, 1), "Święto Pracy"),
        (date(2026, 5, 2), "sobota"),
        (date(2026, 5, 3), "Święto Narodowe Trzeciego Maja"),
    ]
    assert result.end == date(2026, 5, 4)


def test_end_on_3_may_weekday():
    assert add_days(date(2027, 4, 19), 14) == date(2027, 5, 4)  # Mon 3 V 2027 -> Tue


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        (date(2025, 12, 20), 14, date(2026, 1, 5)),  # Sat 3 I, Sun 4 I
        (date(2026, 12, 18), 14, date(2027, 1, 4)),  # Fri 1 I 2027, Sat, Sun
        (date(2026, 12, 23), 14, date(2027, 1, 7)),  # Wed 6 I 2027
        (date(2025, 12, 19), 14, date(2026, 1, 2)),  # Fri 2 I 2026, a working day
        (date(2025, 12, 10), 14, date(2025, 12, 29)),  # Wed 24 .. Sun 28 XII 2025: the longest run
        (date(2024, 12, 10), 14, date(2024, 12, 24)),  # 24 XII 2024 was a working Tuesday
    ],
)
def test_across_the_year_end(start, days, end):
    assert add_days(start, days) == end


def test_zero_days():
    assert add_days(date(2026, 3, 9), 0) == date(2026, 3, 9)
    assert add_days(date(2026, 3, 7), 0) == date(2026, 3, 9)


def test_bad_arguments():
    with pytest.raises(CalendarError) as info:
        add_days(date(2026, 1, 1), -1)
    assert info.value.code == "calendar_amount"
    with pytest.raises(CalendarError) as info:
        term_end(date(2026, 1, 1), 1, "fortnights")
    assert info.value.code == "calendar_unit"
    with pytest.raises(CalendarError):
        add_days(date(2026, 1, 1), 10**9)  # timedelta overflow becomes our error
    with pytest.raises(CalendarError):
        add_months(date(2026, 1, 1), 10**9)
    with pytest.raises(TypeError):
        add_days(datetime(2026, 1, 1, 23, 30), 1)  # a datetime must be made a Warsaw date first
    with pytest.raises(TypeError):
        add_days("2026-01-01", 1)
    with pytest.raises(TypeError):
        add_days(date(2026, 1, 1), 1.5)
    with pytest.raises(TypeError):
        add_days(date(2026, 1, 1), True)


# -- art. 35 / 217: settlement deadlines ------------------------------------------------------------

START = date(2026, 3, 2)  # Monday; + 1 month = Thu 2 IV 2026; Easter 5-6 IV 2026


def _one_month(*paused: tuple[date, date]) -> date:
    return settlement_deadline(START, "one_month", list(paused))


@pytest.mark.parametrize(
    ("start", "kind", "end"),
    [
        (START, "immediate", START),
        (date(2026, 3, 7), "immediate", date(2026, 3, 9)),  # filed on a Saturday (art. 61 §3a)
        (START, "one_month", date(2026, 4, 2)),
        (START, "two_months", date(2026, 5, 4)),  # Sat 2 V, Sun 3 V
        (date(2025, 12, 31), "two_months", date(2026, 3, 2)),  # 28 II 2026 is a Saturday
        (START, "certificate_7_days", date(2026, 3, 9)),
        (date(2026, 12, 17), "certificate_7_days", date(2026, 12, 28)),
    ],
)
def test_settlement_without_pauses(start, kind, end):
    assert settlement_deadline(start, kind) == end


def test_pause_extends_by_its_days():
    assert _one_month((date(2026, 3, 10), date(2026, 3, 14))) == date(2026, 4, 7)


def test_overlapping_pauses_count_once():
    pauses = [(date(2026, 3, 10), date(2026, 3, 14)), (date(2026, 3, 12), date(2026, 3, 16))]
    assert settlement_deadline(START, "one_month", pauses) == date(2026, 4, 9)  # 7 days
    nested = [(date(2026, 3, 10), date(2026, 3, 16)), (date(2026, 3, 11), date(2026, 3, 12))]
    assert settlement_deadline(START, "one_month", nested) == date(2026, 4, 9)


def test_unsorted_pauses():
    pauses = [(date(2026, 3, 20), date(2026, 3, 21)), (date(2026, 3, 10), date(2026, 3, 11))]
    # 2 IV + 4 days = Mon 6 IV, Easter Monday -> Tue 7 IV
    assert settlement_deadline(START, "one_month", pauses) == date(2026, 4, 7)
    assert settlement_deadline(START, "one_month", list(reversed(pauses))) == date(2026, 4, 7)


def test_adjacent_pauses():
    pauses = [(date(2026, 6, 3), date(2026, 6, 4)), (date(2026, 6, 5), date(2026, 6, 6))]
    # Mon 1 VI 2026 + 1 month = Wed 1 VII; + 4 paused days = Sun 5 VII -> Mon 6 VII
    assert settlement_deadline(date(2026, 6, 1), "one_month", pauses) == date(2026, 7, 6)


def test_pause_touching_the_start():
    # only the days after the start count: 3-4 III -> 4 IV (Sat), 5-6 IV Easter -> Tue 7 IV
    assert _one_month((date(2026, 2, 25), date(2026, 3, 4))) == date(2026, 4, 7)
    # a pause that ends on the start day (or before it) changes nothing
    assert _one_month((date(2026, 2, 25), START)) == date(2026, 4, 2)
    assert settlement_deadline(START, "one_month", [(START, START)]) == date(2026, 4, 2)
    assert _one_month((date(2026, 1, 1), date(2026, 1, 31))) == date(2026, 4, 2)


def test_pause_after_the_end_changes_nothing():
    assert _one_month((date(2026, 4, 10), date(2026, 4, 20))) == date(2026, 4, 2)


def test_pause_across_the_growing_end():
    # Mon 1 VI 2026 + 1 month = Wed 1 VII. Paused Tue 30 VI and Thu 2 VII: 1 VII + 1 = 2 VII, paused
    # too, so + 2 = Fri 3 VII, which is not paused.
    pauses = [(date(2026, 6, 30), date(2026, 6, 30)), (date(2026, 7, 2), date(2026, 7, 2))]
    assert settlement_deadline(date(2026, 6, 1), "one_month", pauses) == date(2026, 7, 3)
    # a pause covering the raw end: 1-3 VII -> 4 VII (Sat) -> Mon 6 VII
    covering = [(date(2026, 7, 1), date(2026, 7, 3))]
    assert settlement_deadline(date(2026, 6, 1), "one_month", covering) == date(2026, 7, 6)


def test_pause_and_certificate():
    # Mon 2 III + 7 days = Mon 9 III; paused 4-5 III -> Wed 11 III
    pauses = [(date(2026, 3, 4), date(2026, 3, 5))]
    assert settlement_deadline(START, "certificate_7_days", pauses) == date(2026, 3, 11)


def test_immediate_ignores_pauses():
    assert settlement_deadline(START, "immediate", [(date(2026, 3, 3), date(2026, 3, 20))]) == START


def test_pauses_accept_any_iterable():
    pauses = (
        (date(2026, 3, 10) + timedelta(days=k), date(2026, 3, 10) + timedelta(days=k)) for k in range(5)
    )
    assert settlement_deadline(START, "one_month", pauses) == date(2026, 4, 7)


def test_bad_pauses_and_kinds():
    with pytest.raises(CalendarError) as info:
        _one_month((date(2026, 3, 14), date(2026, 3, 10)))
    assert info.value.code == "calendar_pause"
    with pytest.raises(CalendarError):
        _one_month((date(2026, 3, 14),))
    with pytest.raises(CalendarError):
        settlement_deadline(START, "one_month", [date(2026, 3, 14)])
    with pytest.raises(CalendarError) as info:
        settlement_deadline(START, "three_weeks")
    assert info.value.code == "calendar_kind"


# -- deemed delivery ---------------------------------------------------------------------------------


def test_deemed_delivery_domain_examples():
    assert date(2026, 3, 2).strftime("%a") == "Mon"
    assert deemed_delivery_paper(date(2026, 3, 2)) == date(2026, 3, 16)
    assert deemed_delivery_paper(date(2026, 3, 2)).strftime("%a") == "Mon"
    assert deemed_delivery_edelivery(date(2026, 3, 2)) == date(2026, 3, 17)
    assert deemed_delivery_edelivery(date(2026, 3, 2)).strftime("%a") == "Tue"


def test_deemed_delivery_is_not_moved_off_days_off():
    assert deemed_delivery_paper(date(2026, 12, 10)) == date(2026, 12, 24)
    assert deemed_delivery_edelivery(date(2026, 12, 9)) == date(2026, 12, 24)
    assert deemed_delivery_paper(date(2026, 2, 28)) == date(2026, 3, 14)  # a Saturday
    # the appeal term it starts does move: 14 days from Thu 24 XII 2026 -> Thu 7 I 2027
    assert add_days(deemed_delivery_paper(date(2026, 12, 10)), 14) == date(2027, 1, 7)


# -- status ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "due_soon_days", "expected"),
    [
        (date(2026, 3, 11), 3, "overdue"),
        (date(2027, 1, 1), 3, "overdue"),
        (date(2026, 3, 10), 3, "due_soon"),
        (date(2026, 3, 7), 3, "due_soon"),
        (date(2026, 3, 6), 3, "ok"),
        (date(2026, 3, 9), 0, "ok"),
        (date(2026, 3, 10), 0, "due_soon"),
        (date(2026, 3, 1), 10, "due_soon"),
    ],
)
def test_status(today, due_soon_days, expected):
    assert status(date(2026, 3, 10), today, due_soon_days) == expected


def test_status_default_and_bad_window():
    assert status(date(2026, 3, 10), date(2026, 3, 7)) == "due_soon"
    with pytest.raises(CalendarError):
        status(date(2026, 3, 10), date(2026, 3, 7), -1)


# -- properties --------------------------------------------------------------------------------------


def _reference_raw_end(start: date, amount: int, unit: str) -> date:
    """Art. 57 §1-§3 in another style: timedelta for days and weeks, monthrange for months."""
    if unit in ("days", "weeks"):
        return start + timedelta(days=amount * (7 if unit == "weeks" else 1))
    months = amount * (12 if unit == "years" else 1)
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    month += 1
    return date(year, month, min(start.day, stdlib_calendar.monthrange(year, month)[1]))


def _reference_move(day: date) -> date:
    """Art. 57 §4 from the holiday table alone."""
    while True:
        off = (
            day.weekday() == 6
            or day in holidays(day.year)
            or (day.weekday() == 5 and day >= SATURDAY_RULE_FROM)
        )
        if not off:
            return day
        day += ONE


@PROPERTY
@given(start=dates, term=terms)
def test_end_is_the_reference_end(start, term):
    amount, unit = term
    result = explain(start, amount, unit)
    assert result.raw_end == _reference_raw_end(start, amount, unit)
    assert result.end == _reference_move(result.raw_end) == term_end(start, amount, unit)
    assert [day for day, _ in result.moved_over] == [
        result.raw_end + k * ONE for k in range((result.end - result.raw_end).days)
    ]
    assert all(reason for _, reason in result.moved_over)


@PROPERTY
@given(start=dates, term=terms)
def test_end_is_never_a_day_off_and_close_to_the_raw_end(start, term):
    result = explain(start, *term)
    assert not moves_end(result.end)
    assert result.end.weekday() != 6
    assert not is_holiday(result.end)
    assert result.raw_end <= result.end <= result.raw_end + MAX_MOVE * ONE


@PROPERTY
@given(start=dates_after_rule, term=terms)
def test_end_after_the_saturday_rule_is_a_working_day(start, term):
    end = term_end(start, *term)
    assert not is_non_working(end)
    assert end.weekday() < 5


@PROPERTY
@given(a=dates, b=dates)
def test_add_months_is_monotonic(a, b):
    a, b = min(a, b), max(a, b)
    assert add_months(a, 1) <= add_months(b, 1)


@PROPERTY
@given(start=dates, n=st.integers(0, 2000))
def test_add_days_is_at_least_n_days(start, n):
    assert (add_days(start, n) - start).days >= n
    assert add_weeks(start, n % 300) == add_days(start, 7 * (n % 300))


@PROPERTY
@given(start=dates, n=st.integers(0, 10))
def test_years_are_twelve_months(start, n):
    assert add_years(start, n) == add_months(start, 12 * n)


@PROPERTY
@given(year=st.integers(1990, 2200))
def test_holiday_shape(year):
    easter = easter_sunday(year)
    assert easter.weekday() == 6
    assert date(year, 3, 22) <= easter <= date(year, 4, 25)
    days = holidays(year)
    assert len(days) == 12 + (year >= 2011) + (year >= 2025)
    assert all(day.year == year and name for day, name in days.items())
    assert days[easter + 49 * ONE] == "Zielone Świątki" and (easter + 49 * ONE).weekday() == 6
    assert days[easter + 60 * ONE] == "Boże Ciało" and (easter + 60 * ONE).weekday() == 3


def _reference_settlement(start: date, kind: str, paused: list[tuple[date, date]]) -> date:
    """Walk the calendar: count the days after the start that are not paused until the term's
    length (in calendar days, as the raw end gives it) is reached, then move off days off."""
    raw = {
        "immediate": start,
        "one_month": _reference_raw_end(start, 1, "months"),
        "two_months": _reference_raw_end(start, 2, "months"),
        "certificate_7_days": start + 7 * ONE,
    }[kind]
    needed = (raw - start).days
    day, counted = start, 0
    while counted < needed:
        day += ONE
        if not any(first <= day <= last for first, last in paused):
            counted += 1
    return _reference_move(day)


pauses = st.lists(
    st.tuples(st.integers(-20, 80), st.integers(0, 15)).map(
        lambda t: (date(2026, 3, 2) + t[0] * ONE, date(2026, 3, 2) + (t[0] + t[1]) * ONE)
    ),
    max_size=6,
)


@PROPERTY
@given(
    offset=st.integers(-40, 40),
    kind=st.sampled_from(["immediate", "one_month", "two_months", "certificate_7_days"]),
    paused=pauses,
)
def test_settlement_is_the_day_by_day_reference(offset, kind, paused):
    start = date(2026, 3, 2) + offset * ONE
    expected = _reference_settlement(start, kind, paused)
    assert settlement_deadline(start, kind, paused) == expected
    assert settlement_deadline(start, kind, list(reversed(paused))) == expected
    assert settlement_deadline(start, kind, paused + paused) == expected
    assert settlement_deadline(start, kind, paused) >= settlement_deadline(start, kind)


@PROPERTY
@given(day=dates)
def test_edelivery_is_one_day_after_paper(day):
    assert deemed_delivery_paper(day) == day + 14 * ONE
    assert deemed_delivery_edelivery(day) == deemed_delivery_paper(day) + ONE


@PROPERTY
@given(deadline=dates, today=dates, window=st.integers(0, 30))
def test_status_partitions_time(deadline, today, window):
    result = status(deadline, today, window)
    if today > deadline:
        assert result == "overdue"
    elif deadline - today <= window * ONE:
        assert result == "due_soon"
    else:
        assert result == "ok"
