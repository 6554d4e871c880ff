"""The case register's public JSON API (django-ninja router, mounted at /api/ by gisportal/api.py): the
status of a case by its sign or tracking code and access code, and the KPA deadline calculator."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.throttling import BaseThrottle

from gisportal.core import calendar
from gisportal.core.errors import GisportalError, InvalidInput
from gisportal.core.problems import Problem

from . import selectors

router = Router(tags=["cases"])
_PERIOD = re.compile(r"^P(?:(\d{1,4})Y)?(?:(\d{1,4})M)?(?:(\d{1,4})W)?(?:(\d{1,5})D)?$")


class StatusThrottle(BaseThrottle):
    """Status lookups per client address (selectors.throttled counts every attempt, well-formed or not)."""

    def allow_request(self, request) -> bool:
        return not selectors.throttled(request.META.get("REMOTE_ADDR", "?"))

    def wait(self) -> None:
        return None


class StatusQuery(Schema):
    reference: str = Field("", max_length=200, description="the case's sign or its tracking code")
    access_code: str = Field("", max_length=200, description="the access code given with the receipt")


class TimelineEntry(Schema):
    at: str
    note: str


class PublicPayment(Schema):
    status: str = Field(description="due, pending, paid, failed, refunded or cancelled")
    status_label: str
    amount: str
    currency: str
    number: str = Field(description="the fee document's number (quote it in a transfer's title)")
    account: str
    title: str
    due_date: str


class PublicStatus(Schema):
    sign: str
    subject: str
    office: str
    state: str
    state_label: str
    received_on: str
    deadline: str | None
    supplement_due: str | None
    timeline: list[TimelineEntry]
    payment: PublicPayment | None = None


class MovedOver(Schema):
    date: str
    reason: str


class Deadline(Schema):
    start: str
    period: str
    end: str
    raw_end: str
    moved_over: list[MovedOver]


@router.post(
    "/cases/status",
    response=PublicStatus,
    auth=None,
    throttle=StatusThrottle(),
    url_name="api_case_status",
    summary="The public status of a case",
    description="Attempts are limited per client address (429 when used up).",
    openapi_extra={
        "responses": {404: {"description": "no case matches"}, 429: {"description": "too many attempts"}}
    },
)
def case_status(request, body: StatusQuery):
    case = selectors.status_lookup(body.reference, body.access_code)
    if case is None:
        raise Problem(404, _("No case matches this sign or tracking code and access code."), code="not_found")
    return selectors.public_status(case).__dict__


def parse_deadline_query(params: Mapping[str, str]) -> tuple[date, int, str]:
    """(start, amount, unit) of `start` (YYYY-MM-DD) and one ISO 8601 `period` (P14D, P2W, P1M, P1Y)."""
    try:
        start = date.fromisoformat((params.get("start") or "").strip())
    except ValueError:
        raise InvalidInput(_("Give the start date as YYYY-MM-DD.")) from None
    m = _PERIOD.match((params.get("period") or "").strip().upper())
    if not m or sum(1 for g in m.groups() if g) != 1:
        raise InvalidInput(_("Give one period as P14D, P2W, P1M or P1Y."))
    years, months, weeks, days = (int(g) if g else None for g in m.groups())
    unit, amount = next(
        (u, a)
        for u, a in (("years", years), ("months", months), ("weeks", weeks), ("days", days))
        if a is not None
    )
    return start, amount, unit


@router.get(
    "/calendar/deadline",
    response=Deadline,
    auth=None,
    url_name="api_deadline",
    summary="The end of a term under KPA art. 57 on the Polish calendar",
    description="Days off (Sundays, public holidays, Saturdays) at the end move it to the next working day.",
)
def deadline(
    request,
    start: Annotated[
        str, Query(max_length=40, description="the day of the event, YYYY-MM-DD (e.g. 2026-12-10)")
    ],
    period: Annotated[
        str, Query(max_length=40, description="one ISO 8601 period: P14D, P7D, P2W, P1M, P2M or P1Y")
    ],
):
    try:
        first, amount, unit = parse_deadline_query({"start": start, "period": period})
        ex = calendar.explain(first, amount, unit)
    except GisportalError as e:
        raise Problem(400, str(e.message), code="bad_request") from None
    return {
        "start": first.isoformat(),
        "period": period.upper(),
        "end": ex.end.isoformat(),
        "raw_end": ex.raw_end.isoformat(),
        "moved_over": [{"date": d.isoformat(), "reason": r} for d, r in ex.moved_over],
    }
