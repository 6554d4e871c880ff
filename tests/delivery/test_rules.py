"""The delivery rules of DOMAIN.md §7 with the clock in the test's hands: opened on day 3, never opened (the
portal and e-Doręczenia: the day after 14 days from arrival), paper with a second notice (the last of 14
days from the first notice), a period ending on a holiday, and the daily job run twice or days late."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.core import mail
from django.utils import timezone

from gisportal.core import calendar
from services.delivery import rules
from services.delivery.actions import (
    deliveries_settle,
    delivery_acknowledge,
    delivery_create,
    delivery_paper_event,
    delivery_send,
)
from services.delivery.models import Channel, Delivery, How, Kind, Status
from services.offices.models import Office

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n% decyzja\n"


def at(day: str, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(date.fromisoformat(day), time(hour)))


@pytest.fixture
def office():
    return Office.objects.get(code="um-piaseczno")


@pytest.fixture
def citizen(make_user):
    return make_user("jan.k", "citizen", first_name="Jan", last_name="Kowalski")


def portal(office, user, *, kind=Kind.DECISION, arrived="2026-03-02", source="case:1") -> Delivery:
    d = delivery_create(
        office=office,
        source=source,
        kind=kind,
        title="Decyzja nr 1/2026",
        content=PDF,
        file_name="decyzja.pdf",
        channel=Channel.PORTAL,
        addressee_user=user,
        addressee_name="Jan Kowalski",
        send=False,
    )
    return delivery_send(d.pk, now=at(arrived))


def paper(office, *, source="case:2") -> Delivery:
    return delivery_create(
        office=office,
        source=source,
        kind=Kind.DECISION,
        title="Decyzja nr 2/2026",
        content=PDF,
        file_name="decyzja.pdf",
        channel=Channel.PAPER,
        addressee_name="Jan Kowalski",
        postal_address="ul. Kościuszki 5, 05-500 Piaseczno",
    )


# ------------------------------------------------------------------ pure rules
def test_the_examples_of_domain_md():
    assert rules.deemed_on(Channel.EDORECZENIA, arrived_on=date(2026, 3, 2), first_notice_on=None) == date(
        2026, 3, 17
    )
    assert rules.deemed_on(Channel.PORTAL, arrived_on=date(2026, 3, 2), first_notice_on=None) == date(
        2026, 3, 17
    )
    assert rules.deemed_on(Channel.PAPER, arrived_on=None, first_notice_on=date(2026, 3, 2)) == date(
        2026, 3, 16
    )
    assert rules.deemed_on(Channel.PAPER, arrived_on=date(2026, 3, 2), first_notice_on=None) is None
    # a decision delivered on Thu 10 Dec 2026: 14 days end on 24 Dec (a holiday from 2025), 25-26 holidays,
    # 27 a Sunday: the appeal may be filed until Mon 28 Dec 2026
    assert rules.period_end(Kind.DECISION, date(2026, 12, 10)) == date(2026, 12, 28)
    assert rules.period_end(Kind.ORDER, date(2026, 12, 10)) == calendar.add_days(date(2026, 12, 10), 7)
    assert rules.period_end(Kind.CERTIFICATE, date(2026, 12, 10)) is None
    assert rules.reminders_due(date(2026, 3, 2), date(2026, 3, 9), (3, 7, 13), [3]) == [7]


# ------------------------------------------------------------------ the portal inbox
def test_opened_on_day_three_is_delivered_then(office, citizen):
    d = portal(office, citizen)
    assert d.status == Status.AWAITING and timezone.localdate(d.arrived_at) == date(2026, 3, 2)
    d = delivery_acknowledge(d.pk, citizen, now=at("2026-03-05", 9))
    assert (d.status, d.delivered_how) == (Status.DELIVERED, How.OPENED)
    assert d.delivered_at == at("2026-03-05", 9)
    assert d.period_ends == date(2026, 3, 19)  # 5 March + 14 days, a Thursday
    assert d.proof_xml and d.proof_code
    # the job on the 17th finds nothing to deem: it was opened
    assert deliveries_settle(now=at("2026-03-20"))["deemed"] == 0
    assert Delivery.objects.get(pk=d.pk).delivered_at == at("2026-03-05", 9)


def test_never_opened_is_deemed_delivered_the_day_after_fourteen_days(office, citizen):
    d = portal(office, citizen)
    assert deliveries_settle(now=at("2026-03-16", 23))["deemed"] == 0  # still within the 14 days
    assert Delivery.objects.get(pk=d.pk).status == Status.AWAITING
    assert deliveries_settle(now=at("2026-03-17", 0))["deemed"] == 1
    d = Delivery.objects.get(pk=d.pk)
    assert (d.status, d.delivered_how) == (Status.DELIVERED, How.DEEMED)
    assert timezone.localdate(d.delivered_at) == date(2026, 3, 17)
    assert d.period_ends == date(2026, 3, 31)
    # acknowledging afterwards changes nothing: the law decided the day
    assert delivery_acknowledge(d.pk, citizen, now=at("2026-03-20")).delivered_at == d.delivered_at


def test_the_job_run_twice_or_three_days_late_deems_once_and_on_the_legal_day(office, citizen):
    d = portal(office, citizen)
    first = deliveries_settle(now=at("2026-03-20"))  # three days late
    second = deliveries_settle(now=at("2026-03-20", 11))
    assert first["deemed"] == 1 and second["deemed"] == 0
    d = Delivery.objects.get(pk=d.pk)
    assert timezone.localdate(d.delivered_at) == date(2026, 3, 17)  # not the day the job ran
    assert d.events.filter(kind="delivered").count() == 1


def test_reminders_go_out_on_their_days_once(office, citizen, settings):
    settings.GISPORTAL_DELIVERY_REMINDER_DAYS = [3, 7]
    portal(office, citizen)
    mail.outbox.clear()
    assert deliveries_settle(now=at("2026-03-04"))["reminders"] == 0  # day 2
    assert deliveries_settle(now=at("2026-03-05"))["reminders"] == 1  # day 3
    assert deliveries_settle(now=at("2026-03-05", 12))["reminders"] == 0
    assert deliveries_settle(now=at("2026-03-12"))["reminders"] == 1  # day 10: day 7's, once
    assert deliveries_settle(now=at("2026-03-13"))["reminders"] == 0


def test_only_the_addressee_acknowledges_and_the_attempt_is_logged(office, citizen, make_user):
    from gisportal.core.errors import NotFound

    d = portal(office, citizen)
    other = make_user("anna.n", "citizen")
    with pytest.raises(NotFound):
        delivery_acknowledge(d.pk, other, now=at("2026-03-03"))
    d = Delivery.objects.get(pk=d.pk)
    assert d.status == Status.AWAITING
    assert d.events.filter(kind="access_refused", actor=other).count() == 1


# ------------------------------------------------------------------ paper
def test_paper_with_a_second_notice_is_deemed_on_the_last_of_fourteen_days(office, make_user):
    clerk = make_user("urz", "clerk")
    d = paper(office)
    assert d.status == Status.PREPARED
    delivery_paper_event(
        d.pk, "posted", on=date(2026, 2, 27), tracking_no="RR123456789PL", actor=clerk, now=at("2026-02-27")
    )
    delivery_paper_event(d.pk, "first_notice", on=date(2026, 3, 2), actor=clerk, now=at("2026-03-03"))
    delivery_paper_event(d.pk, "second_notice", on=date(2026, 3, 9), actor=clerk, now=at("2026-03-10"))
    assert deliveries_settle(now=at("2026-03-15"))["deemed"] == 0
    assert deliveries_settle(now=at("2026-03-16", 1))["deemed"] == 1
    d = Delivery.objects.get(pk=d.pk)
    assert timezone.localdate(d.delivered_at) == date(2026, 3, 16)  # never 21 days, whatever the 2nd notice
    assert d.delivered_how == How.DEEMED and d.period_ends == date(2026, 3, 30)
    # the letter comes back uncollected afterwards: the deemed delivery stands
    delivery_paper_event(d.pk, "returned", on=date(2026, 3, 18), actor=clerk, now=at("2026-03-18"))
    assert Delivery.objects.get(pk=d.pk).status == Status.DELIVERED


def test_paper_signed_for_is_delivered_on_that_day(office, make_user):
    clerk = make_user("urz", "clerk")
    d = paper(office)
    delivery_paper_event(
        d.pk, "posted", on=date(2026, 3, 2), tracking_no="RR1", actor=clerk, now=at("2026-03-02")
    )
    d = delivery_paper_event(d.pk, "signed", on=date(2026, 3, 4), actor=clerk, now=at("2026-03-06"))
    assert (d.status, d.delivered_how) == (Status.DELIVERED, How.SIGNED)
    assert timezone.localdate(d.delivered_at) == date(2026, 3, 4) and d.period_ends == date(2026, 3, 18)


def test_a_paper_event_in_the_future_or_before_posting_changes_nothing(office, make_user):
    from gisportal.core.errors import InvalidInput

    clerk = make_user("urz", "clerk")
    d = paper(office)
    with pytest.raises(InvalidInput):
        delivery_paper_event(d.pk, "first_notice", on=date(2026, 3, 2), actor=clerk, now=at("2026-03-03"))
    delivery_paper_event(
        d.pk, "posted", on=date(2026, 3, 2), tracking_no="RR1", actor=clerk, now=at("2026-03-02")
    )
    with pytest.raises(InvalidInput):
        delivery_paper_event(d.pk, "signed", on=date(2026, 3, 9), actor=clerk, now=at("2026-03-05"))
    with pytest.raises(InvalidInput):
        delivery_paper_event(d.pk, "signed", on=date(2026, 3, 1), actor=clerk, now=at("2026-03-05"))
    assert Delivery.objects.get(pk=d.pk).status == Status.AWAITING


def test_the_same_document_and_channel_is_delivered_once(office, citizen):
    first = portal(office, citizen, source="issued:x")
    again = delivery_create(
        office=office,
        source="issued:x",
        kind=Kind.DECISION,
        title="x",
        content=b"other",
        file_name="x.pdf",
        channel=Channel.PORTAL,
        addressee_user=citizen,
        addressee_name="Jan",
    )
    assert again.pk == first.pk and Delivery.objects.filter(source="issued:x").count() == 1


def test_the_command_runs_the_job_as_of_a_day(office, citizen, capsys):
    from django.core.management import call_command

    d = portal(office, citizen)
    call_command("deliveries_settle", "--at", "2026-03-18")
    assert "deemed delivered: 1" in capsys.readouterr().out
    assert Delivery.objects.get(pk=d.pk).status == Status.DELIVERED
