"""The clerk's side of deliveries: the block on the case page (`_case_deliveries.html`, its facts from
`delivery_facts`), the envelope and return receipt of a paper delivery, what the post did (recorded from
the block's forms, no JavaScript needed), the proof of delivery as XML and PDF.

Only the staff of the delivery's office see or touch a delivery; anyone else gets 404, as if it did not
exist. Anonymous visitors are sent to the login page first."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from gisportal.core.downloads import harden
from gisportal.core.errors import GisportalError, InvalidInput
from services.offices.selectors import office_of

from . import selectors
from .actions import delivery_paper_event
from .models import Channel, Delivery, How, Kind, Status
from .paper import envelope_pdf, short_id

# ---------------------------------------------------------------- the facts the block shows
EVENT_FORMS = {  # what the post did: the legend of its form and the label of its date
    "posted": (gettext_lazy("Record the posting"), gettext_lazy("Posted on")),
    "first_notice": (gettext_lazy("Record the first notice"), gettext_lazy("First notice left on")),
    "second_notice": (gettext_lazy("Record the second notice"), gettext_lazy("Second notice left on")),
    "signed": (gettext_lazy("Record the signed return receipt"), gettext_lazy("Signed for on")),
    "returned": (gettext_lazy("Record the letter's return"), gettext_lazy("Returned to the office on")),
}


@dataclass(frozen=True)
class EventForm:
    event: str
    legend: str
    date_label: str
    tracking: bool = False  # the posting asks for the tracking number too


@dataclass(frozen=True)
class EventLine:
    at: object
    text: str
    by: str = ""


@dataclass(frozen=True)
class Facts:
    ref: str
    deemed_on: date | None
    deemed_note: str
    period_note: str
    forms: list[EventForm] = field(default_factory=list)
    events: list[EventLine] = field(default_factory=list)
    today: date | None = None


def _day(value) -> str:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return date_format(value, "j E Y") if value else ""


def paper_next_events(d: Delivery) -> list[str]:
    """What the clerk may record next for a paper delivery (the action checks it again)."""
    if d.channel != Channel.PAPER:
        return []
    if d.status == Status.PREPARED:
        return ["posted"]
    if d.status == Status.AWAITING:
        if d.returned_on:  # came back uncollected after a notice: deemed delivered on its day
            return []
        notice = (
            ["first_notice"]
            if d.first_notice_on is None
            else ["second_notice"]
            if d.second_notice_on is None
            else []
        )
        return [*notice, "signed", "returned"]
    if d.status == Status.DELIVERED and d.delivered_how == How.DEEMED and d.returned_on is None:
        return ["returned"]  # the uncollected letter comes back after the day it was deemed delivered
    return []


def event_text(kind: str, data: dict) -> str:
    """One step of a delivery in words, for the clerk."""
    on = _day(data.get("on", ""))
    if kind == "created":
        return _("Prepared for delivery.")
    if kind == "arrived":
        return _("Arrived in the addressee's inbox on the portal.")
    if kind == "sent":
        return _("Sent to the e-Doręczenia provider (message %(id)s).") % {"id": data.get("provider_id", "")}
    if kind == "send_failed":
        return _("Sending failed: %(error)s") % {"error": data.get("error", "")}
    if kind == "evidence_submission":
        return _("Proof of sending received from e-Doręczenia.")
    if kind == "evidence_acceptance":
        return _("Proof of acceptance received: the message is in the addressee's e-delivery box.")
    if kind == "evidence_receipt":
        if data.get("deemed"):
            return _("Proof of receipt received from e-Doręczenia (left unopened: deemed delivered).")
        return _("Proof of receipt received from e-Doręczenia (opened by the addressee).")
    if kind == "reminded":
        return _("Reminder e-mailed to the addressee.")
    if kind == "acknowledged":
        return _("The addressee confirmed receipt.")
    if kind == "access_refused":
        return _("Somebody other than the addressee asked for it; refused.")
    if kind == "posted":
        return _("Posted on %(day)s, tracking number %(tracking)s.") % {
            "day": on,
            "tracking": data.get("tracking_no", ""),
        }
    if kind == "first_notice":
        return _("First notice left on %(day)s.") % {"day": on}
    if kind == "second_notice":
        return _("Second notice left on %(day)s.") % {"day": on}
    if kind == "signed":
        return _("Return receipt signed on %(day)s.") % {"day": on}
    if kind == "returned":
        if data.get("after_delivery"):
            return _("The uncollected letter came back on %(day)s; it was deemed delivered before.") % {
                "day": on
            }
        return _("The letter came back to the office on %(day)s.") % {"day": on}
    if kind == "delivered":
        how = How(data["how"]).label if data.get("how") in How.values else data.get("how", "")
        return _("Delivered: %(how)s.") % {"how": how}
    return kind


def period_note(d: Delivery) -> str:
    if not d.period_ends:
        return ""
    day = _day(d.period_ends)
    if d.kind == Kind.DECISION:
        return _("The time limit for an appeal ends on %(day)s.") % {"day": day}
    if d.kind == Kind.ORDER:
        return _("The time limit for a complaint ends on %(day)s.") % {"day": day}
    return _("The period that delivery started ends on %(day)s.") % {"day": day}


def deemed_note(d: Delivery, deemed: date | None) -> str:
    if d.status != Status.AWAITING:
        return ""
    if d.channel == Channel.PAPER:
        if d.returned_on and deemed:
            return _("The letter came back uncollected: deemed delivered on %(day)s.") % {"day": _day(deemed)}
        if deemed:
            return _("Deemed delivered on %(day)s if not collected.") % {"day": _day(deemed)}
        return _("If not collected, deemed delivered on the last of 14 days from the first notice.")
    if deemed:
        return _("Deemed delivered on %(day)s if not opened.") % {"day": _day(deemed)}
    return ""


def delivery_facts(d: Delivery) -> Facts:
    """What the clerk's block shows of one delivery beyond its fields."""
    deemed = selectors.deemed_on(d) if d.status == Status.AWAITING else None
    forms = [
        EventForm(e, str(EVENT_FORMS[e][0]), str(EVENT_FORMS[e][1]), tracking=e == "posted")
        for e in paper_next_events(d)
    ]
    events = [
        EventLine(
            e.at,
            event_text(e.kind, e.data or {}),
            (e.actor.get_full_name() or e.actor.get_username()) if e.actor_id and e.actor else "",
        )
        for e in d.events.all()
    ]
    return Facts(
        ref=short_id(d),
        deemed_on=deemed,
        deemed_note=deemed_note(d, deemed),
        period_note=period_note(d),
        forms=forms,
        events=events,
        today=timezone.localdate(),
    )


# ---------------------------------------------------------------- the views
def _clerk_delivery(request, delivery_id) -> Delivery:
    """The delivery when the user works on cases in its office; 404 for anyone else."""
    office = office_of(request.user)
    if office is None or not request.user.has_perm("gisportal.work_cases"):
        raise Http404(_("There is no such delivery."))
    d = Delivery.objects.select_related("office").filter(pk=delivery_id, office=office).first()
    if d is None:
        raise Http404(_("There is no such delivery."))
    return d


def _back(d: Delivery) -> str:
    if d.case_id is None:
        return reverse("case_inbox")
    return reverse("case_page", args=[d.case_id]) + "#doreczenia"


TRACKING = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 /-]{0,39}$")


def _on_day(value: str | None) -> date:
    value = (value or "").strip()
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("Give the date as day, month and year.")) from None


@login_required
@require_GET
def envelope(request, delivery_id):
    """The envelope and return receipt of a paper delivery, as PDF to print."""
    d = _clerk_delivery(request, delivery_id)
    if d.channel != Channel.PAPER:
        raise Http404(_("There is no such delivery."))
    resp = HttpResponse(envelope_pdf(d), content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="koperta-{short_id(d)}.pdf"'
    return harden(resp)


@login_required
@require_POST
def paper_event(request, delivery_id):
    """Record what the post did with a paper delivery; back to the case page, the outcome in a message."""
    d = _clerk_delivery(request, delivery_id)
    p = request.POST
    event = p.get("event", "")
    try:
        if event not in EVENT_FORMS:
            raise InvalidInput(_("Unknown event."))
        on = _on_day(p.get("on"))
        tracking = p.get("tracking_no", "").strip()
        if event == "posted" and tracking and not TRACKING.match(tracking):
            raise InvalidInput(
                _(
                    "Give the tracking number as printed on the posting receipt (letters and digits, up to 40)."
                )
            )
        delivery_paper_event(d.pk, event, on=on, actor=request.user, tracking_no=tracking)
    except GisportalError as e:
        messages.error(
            request,
            _("Delivery to %(addressee)s (%(ref)s): %(error)s")
            % {"addressee": d.addressee_name, "ref": short_id(d), "error": e.message},
        )
    else:
        messages.success(
            request,
            _("Delivery to %(addressee)s (%(ref)s): recorded.")
            % {"addressee": d.addressee_name, "ref": short_id(d)},
        )
    return redirect(_back(d))


def _delivered(request, delivery_id) -> Delivery:
    d = _clerk_delivery(request, delivery_id)
    if d.status != Status.DELIVERED or not d.proof_xml:
        raise Http404(_("There is no proof of delivery yet."))
    return d


@login_required
@require_GET
def proof_xml(request, delivery_id):
    """The sealed proof of delivery (UPD, XAdES)."""
    d = _delivered(request, delivery_id)
    resp = HttpResponse(bytes(d.proof_xml), content_type="application/xml")
    resp["Content-Disposition"] = f'attachment; filename="UPD-{short_id(d)}.xml"'
    return harden(resp)


@login_required
@require_GET
def proof_pdf(request, delivery_id):
    """The proof of delivery in words, as PDF (the sealed XML is the original)."""
    from .proofpdf import proof_pdf as render

    d = _delivered(request, delivery_id)
    resp = HttpResponse(render(d), content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="UPD-{short_id(d)}.pdf"'
    return harden(resp)
