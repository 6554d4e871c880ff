"""Paper delivery (issue 25, KPA art. 44): the envelope and return receipt as PDF, what the post did
recorded in order (out of order refused, nothing changed), deemed delivery on the last of the 14 days from
the first notice (a second notice does not move it, a return after it keeps it), and a signed return
receipt delivering at its date. Time-controlled: `now=` everywhere, real PostGIS."""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, time

import pdfplumber
import pytest
from django.utils import timezone, translation

from gisportal.core.errors import InvalidInput
from services.delivery.actions import deliveries_settle, delivery_create, delivery_paper_event, delivery_send
from services.delivery.models import Delivery, How, Status
from services.delivery.paper import address_lines, envelope_pdf, short_id
from services.offices.models import Office

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ADDRESS = "ul. Kwiatowa 12 m. 3, 05-500 Piaseczno"
SIGN = "UiA.6730.12.2026"


def at(iso: str, hour: int = 10, minute: int = 0) -> datetime:
    """A moment on a Warsaw day."""
    return timezone.make_aware(
        datetime.combine(date.fromisoformat(iso), time(hour, minute)), timezone.get_default_timezone()
    )


def _pl(msgid: str) -> str:
    with translation.override("pl"):
        return translation.gettext(msgid)


@pytest.fixture
def gmina():
    return Office.objects.get(code="um-piaseczno")


@pytest.fixture
def clerk(make_user, gmina):
    from services.offices.actions import staff_add
    from services.offices.models import OfficeUnit

    user = make_user("anna.nowak", "clerk", first_name="Anna", last_name="Nowak")
    staff_add(user, gmina, OfficeUnit.objects.get(office=gmina, code="UiA"))
    return user


def paper(office, *, kind="decision", now=None) -> Delivery:
    d = delivery_create(
        office=office,
        source=f"test:{uuid.uuid4()}",
        kind=kind,
        title="Decyzja o warunkach zabudowy",
        content=PDF,
        file_name="decyzja.pdf",
        channel="paper",
        addressee_name="Jan Papierowy",
        postal_address=ADDRESS,
        case_id=4242,
        case_sign=SIGN,
        send=False,
    )
    return delivery_send(d.pk, now=now or at("2026-02-27"))  # paper: waits for the clerk to post it


def snapshot(d: Delivery):
    return (Delivery.objects.filter(pk=d.pk).values().get(), d.events.count())


def record(d, event, day, actor, *, now=None, tracking_no=""):
    return delivery_paper_event(
        d.pk, event, on=date.fromisoformat(day), actor=actor, tracking_no=tracking_no, now=now or at(day, 15)
    )


# ------------------------------------------------------------------ the PDF
def test_envelope_and_return_receipt_pdf(gmina):
    d = paper(gmina)
    data = envelope_pdf(d)
    assert data.startswith(b"%PDF")
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == 2
        envelope, receipt = (p.extract_text() or "" for p in pdf.pages)
    for text in (envelope, receipt):
        assert "Jan Papierowy" in text and SIGN in text and short_id(d) in text
        assert gmina.name in text
    assert "ul. Kwiatowa 12 m. 3" in envelope and "05-500 Piaseczno" in envelope  # the address in lines
    assert ADDRESS in receipt
    assert "POLECONY ZPO" in envelope and gmina.street in envelope
    assert _pl("Return receipt").upper() in receipt.upper()
    assert "Decyzja o warunkach zabudowy" in receipt


def test_address_lines_and_short_id(gmina):
    assert address_lines(ADDRESS) == ["ul. Kwiatowa 12 m. 3", "05-500 Piaseczno"]
    assert address_lines("ul. Długa 1\n05-500 Piaseczno") == ["ul. Długa 1", "05-500 Piaseczno"]
    d = paper(gmina)
    assert short_id(d) == f"{d.pk.hex[:4]}-{d.pk.hex[4:8]}".upper()


# ------------------------------------------------------------------ events in order and out of order
def test_events_in_order(gmina, clerk):
    d = paper(gmina)
    assert d.status == Status.PREPARED and d.sent_at is None
    d = record(d, "posted", "2026-02-27", clerk, tracking_no=" 00659007734000123456 ")
    assert d.status == Status.AWAITING and d.tracking_no == "00659007734000123456"
    assert timezone.localdate(d.sent_at) == date(2026, 2, 27)
    d = record(d, "first_notice", "2026-03-02", clerk)
    d = record(d, "second_notice", "2026-03-09", clerk)
    d.refresh_from_db()
    assert (d.first_notice_on, d.second_notice_on) == (date(2026, 3, 2), date(2026, 3, 9))
    assert d.status == Status.AWAITING
    kinds = list(d.events.exclude(kind="created").values_list("kind", flat=True))  # "created" is real time
    assert kinds == ["posted", "first_notice", "second_notice"]
    posted = d.events.get(kind="posted")
    assert posted.actor == clerk and posted.data == {"on": "2026-02-27", "tracking_no": d.tracking_no}
    before = snapshot(d)  # the same event twice changes nothing
    record(d, "posted", "2026-02-28", clerk, tracking_no="RR123456789PL")
    record(d, "first_notice", "2026-03-03", clerk)
    record(d, "second_notice", "2026-03-10", clerk)
    assert snapshot(d) == before


@pytest.mark.parametrize(
    "steps, event, day, tracking, message",
    [
        ([], "first_notice", "2026-03-02", "", "Record the posting (with its tracking number) first."),
        ([], "second_notice", "2026-03-02", "", "Record the posting (with its tracking number) first."),
        ([], "signed", "2026-03-02", "", "Record the posting (with its tracking number) first."),
        ([], "returned", "2026-03-02", "", "Record the posting (with its tracking number) first."),
        ([], "posted", "2026-03-02", "  ", "Give the postal tracking number."),
        (["posted"], "second_notice", "2026-03-09", "", "Record the first notice first."),
        (["posted"], "first_notice", "2026-02-26", "", "The date cannot be earlier than the posting."),
        (["posted"], "signed", "2026-02-20", "", "The date cannot be earlier than the posting."),
        (["posted"], "bogus", "2026-03-02", "", "Unknown event."),
    ],
)
def test_events_out_of_order_are_refused_and_change_nothing(
    gmina, clerk, steps, event, day, tracking, message
):
    d = paper(gmina)
    if "posted" in steps:
        d = record(d, "posted", "2026-02-27", clerk, tracking_no="RR123456789PL")
    before = snapshot(d)
    with pytest.raises(InvalidInput) as e:
        record(d, event, day, clerk, tracking_no=tracking, now=at("2026-03-20"))
    assert str(e.value.message) == translation.gettext(message)
    assert snapshot(d) == before


def test_a_date_in_the_future_is_refused(gmina, clerk):
    d = record(paper(gmina), "posted", "2026-02-27", clerk, tracking_no="RR123456789PL")
    before = snapshot(d)
    with pytest.raises(InvalidInput):
        record(d, "first_notice", "2026-03-03", clerk, now=at("2026-03-02", 23, 30))
    assert snapshot(d) == before


def test_a_letter_returned_without_a_notice_is_returned(gmina, clerk):
    d = record(paper(gmina), "posted", "2026-02-27", clerk, tracking_no="RR123456789PL")
    d = record(d, "returned", "2026-03-04", clerk)
    d.refresh_from_db()
    assert d.status == Status.RETURNED and d.returned_on == date(2026, 3, 4) and d.delivered_at is None
    assert not d.proof_xml
    before = snapshot(d)
    record(d, "signed", "2026-03-05", clerk)  # nothing after the return
    assert snapshot(d) == before


# ------------------------------------------------------------------ the deemed rule (art. 44 § 4)
def test_deemed_on_the_last_of_14_days_from_the_first_notice(gmina, clerk):
    d = record(paper(gmina), "posted", "2026-02-27", clerk, tracking_no="RR123456789PL")  # Fri
    record(d, "first_notice", "2026-03-02", clerk)  # Mon
    deliveries_settle(now=at("2026-03-09", 8))
    record(d, "second_notice", "2026-03-09", clerk)  # does not move the day
    for moment in (at("2026-03-10"), at("2026-03-15", 23, 59)):
        deliveries_settle(now=moment)
        assert Delivery.objects.get(pk=d.pk).status == Status.AWAITING
    counts = deliveries_settle(now=at("2026-03-16", 0, 5))
    assert counts["deemed"] == 1
    d.refresh_from_db()
    assert d.status == Status.DELIVERED and d.delivered_how == How.DEEMED
    assert timezone.localdate(d.delivered_at) == date(2026, 3, 16)  # Mon 16 Mar 2026 (DOMAIN.md §7)
    assert d.period_ends == date(2026, 3, 30)  # an appeal: 14 days from delivery
    assert d.proof_xml and d.proof_code
    assert b"DataPierwszegoAwiza>2026-03-02<" in bytes(d.proof_xml)
    before = snapshot(d)
    assert deliveries_settle(now=at("2026-03-19"))["deemed"] == 0  # run again, late: nothing more
    assert snapshot(d) == before
    # the uncollected letter comes back after that: still delivered on 16 March
    record(d, "returned", "2026-03-20", clerk)
    d.refresh_from_db()
    assert d.status == Status.DELIVERED and d.returned_on == date(2026, 3, 20)
    assert timezone.localdate(d.delivered_at) == date(2026, 3, 16) and d.delivered_how == How.DEEMED
    assert d.events.filter(kind="returned", data__after_delivery=True).count() == 1


def test_settled_late_it_is_still_delivered_on_its_day(gmina, clerk):
    d = record(paper(gmina, kind="order"), "posted", "2026-02-27", clerk, tracking_no="RR123456789PL")
    record(d, "first_notice", "2026-03-02", clerk)
    record(d, "returned", "2026-03-17", clerk, now=at("2026-03-17"))  # back before the job ran
    d.refresh_from_db()
    assert d.status == Status.AWAITING and d.returned_on == date(2026, 3, 17)
    deliveries_settle(now=at("2026-03-19"))  # three days late
    d.refresh_from_db()
    assert d.status == Status.DELIVERED and timezone.localdate(d.delivered_at) == date(2026, 3, 16)
    assert d.period_ends == date(2026, 3, 23)  # a complaint: 7 days


# ------------------------------------------------------------------ signed for
def test_signed_for_is_delivered_at_that_date(gmina, clerk):
    d = record(paper(gmina), "posted", "2026-03-02", clerk, tracking_no="RR123456789PL")
    record(d, "first_notice", "2026-03-03", clerk)
    d = record(d, "signed", "2026-03-05", clerk, now=at("2026-03-11"))  # the receipt came back later
    d.refresh_from_db()
    assert d.status == Status.DELIVERED and d.delivered_how == How.SIGNED
    assert timezone.localdate(d.delivered_at) == date(2026, 3, 5)
    assert d.period_ends == date(2026, 3, 19)
    assert d.events.filter(kind="delivered", data__how="signed").count() == 1
    assert b"pokwitowano" in bytes(d.proof_xml)
    before = snapshot(d)
    record(d, "second_notice", "2026-03-10", clerk, now=at("2026-03-11"))  # after delivery: nothing
    assert deliveries_settle(now=at("2026-03-20"))["deemed"] == 0
    assert snapshot(d) == before
