"""The clerk's view of deliveries (issue 25): the block on the case page for every status and channel
(dates, how, the day it will be deemed delivered, the period's end, the provider's id and last error,
the events, the proof and envelope links, a form per next step of a paper letter); the envelope PDF; what
the post did recorded from the block (back to the case page, errors as messages, nothing changed); the
proof as XML and PDF; only the clerks of the delivery's office: anyone else 404 on every URL."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time

import pytest
from django.contrib.messages import constants, get_messages
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from services.delivery import adapters
from services.delivery.actions import (
    deliveries_settle,
    delivery_acknowledge,
    delivery_create,
    delivery_paper_event,
    delivery_send,
)
from services.delivery.clerk import delivery_facts, paper_next_events
from services.delivery.models import Delivery, Status
from services.delivery.paper import short_id
from services.delivery.selectors import deliveries_of_case
from services.offices.actions import staff_add
from services.offices.models import Office, OfficeUnit

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
CASE = 4242
SIGN = "UiA.6730.12.2026"


def at(iso: str, hour: int = 10, minute: int = 0) -> datetime:
    return timezone.make_aware(
        datetime.combine(date.fromisoformat(iso), time(hour, minute)), timezone.get_default_timezone()
    )


@pytest.fixture
def gmina():
    return Office.objects.get(code="um-piaseczno")


@pytest.fixture
def county():
    return Office.objects.get(code="sp-piaseczno")


@pytest.fixture
def clerk(make_user, gmina):
    user = make_user("anna.nowak", "clerk", first_name="Anna", last_name="Nowak")
    staff_add(user, gmina, OfficeUnit.objects.get(office=gmina, code="UiA"))
    return user


@pytest.fixture
def county_clerk(make_user, county):
    user = make_user("ewa.geodetka", "clerk", first_name="Ewa", last_name="Geodetka")
    staff_add(user, county, OfficeUnit.objects.get(office=county, code="GK"))
    return user


@pytest.fixture
def citizen(make_user):
    return make_user("jan.k", "citizen", first_name="Jan", last_name="Kowalski")


def logged(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def make(
    office, channel="paper", *, kind="decision", user=None, title="Decyzja o warunkach zabudowy", **extra
):
    d = delivery_create(
        office=office,
        source=f"test:{uuid.uuid4()}",
        kind=kind,
        title=title,
        content=PDF + title.encode(),
        file_name="decyzja.pdf",
        channel=channel,
        addressee_name="Jan Kowalski",
        addressee_user=user,
        postal_address="ul. Kwiatowa 12, 05-500 Piaseczno" if channel == "paper" else "",
        ade_address="AE:PL-12345-67890-ABCDE-12" if channel == "edoreczenia" else "",
        case_id=CASE,
        case_sign=SIGN,
        send=False,
        **extra,
    )
    return d


def paper(office, clerk, *steps: tuple[str, str]) -> Delivery:
    """A paper delivery with the post's steps recorded: ("posted", "2026-02-27"), ("first_notice", ...)."""
    d = delivery_send(make(office).pk, now=at("2026-02-27"))
    for event, day in steps:
        delivery_paper_event(
            d.pk, event, on=date.fromisoformat(day), actor=clerk, tracking_no="RR123456789PL", now=at(day, 15)
        )
    return Delivery.objects.get(pk=d.pk)


def urls(d) -> list[tuple[str, str]]:
    return [
        ("get", reverse("delivery_clerk_envelope", args=[d.pk])),
        ("post", reverse("delivery_clerk_event", args=[d.pk])),
        ("get", reverse("delivery_clerk_proof_xml", args=[d.pk])),
        ("get", reverse("delivery_clerk_proof_pdf", args=[d.pk])),
    ]


def snapshot(d):
    return (Delivery.objects.filter(pk=d.pk).values().get(), d.events.count())


def flashed(response) -> list[tuple[int, str]]:
    return [(m.level, str(m)) for m in get_messages(response.wsgi_request)]


class Provider:
    """A stand-in e-Doręczenia provider: fails, or accepts with a message id."""

    def __init__(self, fail: str = ""):
        self.fail = fail

    def send(self, message):
        if self.fail:
            raise adapters.ProviderError(self.fail)
        return adapters.SendResult(message_id="MSG-2026-000123")

    def evidences(self, message_id):
        return []


@pytest.fixture
def provider():
    def use(p):
        adapters.use(p)

    yield use
    adapters.use(None)


# ------------------------------------------------------------------ access
def test_only_the_clerks_of_its_office_reach_a_delivery(gmina, clerk, county_clerk, citizen):
    d = paper(gmina, clerk, ("posted", "2026-03-02"), ("signed", "2026-03-05"))
    before = snapshot(d)
    for user in (county_clerk, citizen):
        c = logged(user)
        for method, url in urls(d):
            data = {"event": "returned", "on": "2026-03-06"} if method == "post" else None
            r = getattr(c, method)(url, data)
            assert r.status_code == 404, (user, url)
    anonymous = Client()
    for method, url in urls(d):
        r = getattr(anonymous, method)(url)
        assert r.status_code == 302 and r["Location"].startswith(reverse("login"))
    assert snapshot(d) == before
    c = logged(clerk)
    r = c.get(urls(d)[0][1])
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert r["X-Content-Type-Options"] == "nosniff"
    r = c.get(urls(d)[2][1])
    assert r.status_code == 200 and r["Content-Type"] == "application/xml"
    assert (
        r.content == bytes(d.proof_xml)
        and b"<upd:UPD" in r.content
        and "attachment" in r["Content-Disposition"]
    )
    r = c.get(urls(d)[3][1])
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert c.get(reverse("delivery_clerk_event", args=[d.pk])).status_code == 405
    unknown = uuid.uuid4()
    assert c.get(reverse("delivery_clerk_envelope", args=[unknown])).status_code == 404


def test_no_proof_before_delivery_and_no_envelope_but_for_paper(gmina, clerk, citizen):
    d = paper(gmina, clerk, ("posted", "2026-03-02"))
    portal = delivery_send(make(gmina, "portal", user=citizen).pk, now=at("2026-03-02"))
    c = logged(clerk)
    assert c.get(reverse("delivery_clerk_proof_xml", args=[d.pk])).status_code == 404
    assert c.get(reverse("delivery_clerk_proof_pdf", args=[d.pk])).status_code == 404
    assert c.get(reverse("delivery_clerk_envelope", args=[portal.pk])).status_code == 404
    r = c.post(reverse("delivery_clerk_event", args=[portal.pk]), {"event": "posted", "on": "2026-03-02"})
    assert r.status_code == 302 and flashed(r)[0][0] == constants.ERROR


# ------------------------------------------------------------------ recording what the post did
def test_the_post_s_steps_recorded_from_the_case_page(gmina, clerk):
    d = delivery_send(make(gmina).pk, now=at("2026-02-27"))
    c = logged(clerk)
    url = reverse("delivery_clerk_event", args=[d.pk])
    back = reverse("case_page", args=[CASE]) + "#doreczenia"
    today = timezone.localdate()
    posted_on = today.replace(day=1)
    r = c.post(url, {"event": "posted", "on": posted_on.isoformat(), "tracking_no": "RR 123456789 PL"})
    assert r.status_code == 302 and r["Location"] == back
    assert [level for level, _ in flashed(r)] == [constants.SUCCESS]
    d.refresh_from_db()
    assert d.status == Status.AWAITING and d.tracking_no == "RR 123456789 PL"
    assert timezone.localdate(d.sent_at) == posted_on
    r = c.post(url, {"event": "first_notice", "on": posted_on.isoformat()})
    assert r["Location"] == back and flashed(r)[0][0] == constants.SUCCESS
    r = c.post(url, {"event": "signed", "on": today.isoformat()})
    d.refresh_from_db()
    assert d.status == Status.DELIVERED and d.delivered_how == "signed"
    assert timezone.localdate(d.delivered_at) == today
    assert d.events.get(kind="signed").actor == clerk


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"event": "first_notice", "on": "2026-03-02"},
            "Record the posting (with its tracking number) first.",
        ),
        ({"event": "posted", "on": "2026-03-02"}, "Give the postal tracking number."),
        ({"event": "posted", "on": "2026-03-02", "tracking_no": "<script>"}, None),
        ({"event": "posted", "on": "2 marca", "tracking_no": "RR123456789PL"}, None),
        ({"event": "posted", "on": "", "tracking_no": "RR123456789PL"}, None),
        ({"event": "posted", "on": "2999-01-01", "tracking_no": "RR123456789PL"}, None),
        ({"event": "delivered", "on": "2026-03-02"}, "Unknown event."),
        ({}, "Unknown event."),
    ],
)
def test_bad_steps_are_messages_on_the_case_page_and_change_nothing(gmina, clerk, data, message):
    d = delivery_send(make(gmina).pk, now=at("2026-02-27"))
    before = snapshot(d)
    r = logged(clerk).post(reverse("delivery_clerk_event", args=[d.pk]), data)
    assert r.status_code == 302 and r["Location"].endswith(f"/{CASE}/#doreczenia")
    [(level, text)] = flashed(r)
    assert level == constants.ERROR and "Jan Kowalski" in text and short_id(d) in text
    if message:
        with translation.override("pl"):
            assert translation.gettext(message) in text
    assert snapshot(d) == before


def test_the_second_notice_before_the_first_is_refused(gmina, clerk):
    d = paper(gmina, clerk, ("posted", "2026-02-27"))
    before = snapshot(d)
    r = logged(clerk).post(
        reverse("delivery_clerk_event", args=[d.pk]), {"event": "second_notice", "on": "2026-03-02"}
    )
    [(level, text)] = flashed(r)
    with translation.override("pl"):
        assert level == constants.ERROR and translation.gettext("Record the first notice first.") in text
    assert snapshot(d) == before


# ------------------------------------------------------------------ what the block offers next
def test_next_steps_of_a_paper_letter(gmina, clerk):
    assert paper_next_events(make(gmina)) == ["posted"]
    posted = paper(gmina, clerk, ("posted", "2026-02-27"))
    assert paper_next_events(posted) == ["first_notice", "signed", "returned"]
    noticed = paper(gmina, clerk, ("posted", "2026-02-27"), ("first_notice", "2026-03-02"))
    assert paper_next_events(noticed) == ["second_notice", "signed", "returned"]
    twice = paper(
        gmina,
        clerk,
        ("posted", "2026-02-27"),
        ("first_notice", "2026-03-02"),
        ("second_notice", "2026-03-09"),
    )
    assert paper_next_events(twice) == ["signed", "returned"]
    back = paper(
        gmina, clerk, ("posted", "2026-02-27"), ("first_notice", "2026-03-02"), ("returned", "2026-03-12")
    )
    assert back.status == Status.AWAITING and paper_next_events(back) == []
    deliveries_settle(now=at("2026-03-20"))
    twice.refresh_from_db()
    assert twice.status == Status.DELIVERED and paper_next_events(twice) == ["returned"]
    signed = paper(gmina, clerk, ("posted", "2026-02-27"), ("signed", "2026-03-03"))
    assert paper_next_events(signed) == []
    assert paper_next_events(paper(gmina, clerk, ("posted", "2026-02-27"), ("returned", "2026-03-03"))) == []


# ------------------------------------------------------------------ the block, for every status
def _articles(html: str) -> dict[str, str]:
    """The block's articles by the delivery's title."""
    found = {}
    for part in html.split('<article class="delivery"')[1:]:
        title = re.search(r"<h3[^>]*>([^<]+?) <span", part).group(1)
        found[title] = part.split("</article>")[0]
    return found


def test_the_block_renders_every_status(gmina, clerk, citizen, provider):
    make(gmina, title="Paper prepared")
    paper_awaiting = paper(gmina, clerk, ("posted", "2026-02-27"))
    Delivery.objects.filter(pk=paper_awaiting.pk).update(title="Paper posted")
    noticed = paper(gmina, clerk, ("posted", "2026-02-27"), ("first_notice", "2026-03-02"))
    Delivery.objects.filter(pk=noticed.pk).update(title="Paper noticed")
    signed = paper(gmina, clerk, ("posted", "2026-02-27"), ("signed", "2026-03-03"))
    Delivery.objects.filter(pk=signed.pk).update(title="Paper signed")
    returned = paper(gmina, clerk, ("posted", "2026-02-27"), ("returned", "2026-03-04"))
    Delivery.objects.filter(pk=returned.pk).update(title="Paper returned")
    portal = delivery_send(
        make(gmina, "portal", user=citizen, title="Portal awaiting").pk, now=at("2026-03-02")
    )
    opened = make(gmina, "portal", user=citizen, kind="order", title="Portal opened")
    delivery_send(opened.pk, now=at("2026-03-02"))
    delivery_acknowledge(opened.pk, citizen, now=at("2026-03-03", 9, 15))
    provider(Provider(fail="provider unreachable: timeout"))
    failing = delivery_send(make(gmina, "edoreczenia", title="e-Delivery failing").pk, now=at("2026-03-02"))
    provider(Provider())
    sent = delivery_send(make(gmina, "edoreczenia", title="e-Delivery sent").pk, now=at("2026-03-02"))
    assert (failing.status, sent.status, portal.status) == (Status.PREPARED, Status.SENT, Status.AWAITING)

    with translation.override("en"):
        html = render_to_string(
            "delivery/_case_deliveries.html", {"deliveries": deliveries_of_case(CASE), "case_id": CASE}
        )
    assert 'id="doreczenia"' in html
    a = _articles(html)
    assert len(a) == 9

    def forms(part):
        return re.findall(r'data-testid="delivery-event-form" data-event="(\w+)"', part)

    envelope = 'data-testid="delivery-envelope"'
    p = a["Paper prepared"]
    assert 'data-status="prepared"' in p and "prepared" in p and envelope in p and forms(p) == ["posted"]
    assert 'name="tracking_no"' in p and "ul. Kwiatowa 12, 05-500 Piaseczno" in p
    assert 'data-testid="delivery-proof-xml"' not in p
    p = a["Paper posted"]
    assert "awaiting receipt" in p and "RR123456789PL" in p and "2026-02-27" in p
    assert "last of 14 days from the first notice" in p and forms(p) == ["first_notice", "signed", "returned"]
    p = a["Paper noticed"]
    assert "Deemed delivered on 16 March 2026 if not collected." in p
    assert forms(p) == ["second_notice", "signed", "returned"] and "2026-03-02" in p
    p = a["Paper signed"]
    assert 'data-status="delivered"' in p and "signed for on the return receipt" in p
    assert "The time limit for an appeal ends on 17 March 2026." in p  # 3 Mar + 14 days
    assert (
        'data-testid="delivery-proof-xml"' in p and 'data-testid="delivery-proof-pdf"' in p and envelope in p
    )
    assert reverse("delivery_clerk_proof_xml", args=[signed.pk]) in p and forms(p) == []
    assert "Return receipt signed on 3 March 2026." in p and "(Anna Nowak)" in p and "<details" in p
    p = a["Paper returned"]
    assert "returned undelivered" in p and "2026-03-04" in p and forms(p) == []
    assert "The letter came back to the office on 4 March 2026." in p
    p = a["Portal awaiting"]
    assert "Deemed delivered on 17 March 2026 if not opened." in p and "2026-03-02 10:00" in p
    assert envelope not in p and forms(p) == [] and "jan.k@example.pl" in p
    p = a["Portal opened"]
    assert "received by the addressee" in p and "2026-03-03 09:15" in p
    assert "The time limit for a complaint ends on 10 March 2026." in p  # an order: 7 days
    assert "The addressee confirmed receipt." in p and 'data-testid="delivery-proof-xml"' in p
    p = a["e-Delivery failing"]
    assert "provider unreachable: timeout" in p and 'data-testid="delivery-error"' in p
    assert "AE:PL-12345-67890-ABCDE-12" in p and "Sending failed" in p
    p = a["e-Delivery sent"]
    assert "MSG-2026-000123" in p and 'data-status="sent"' in p and 'data-testid="delivery-error"' not in p


def test_the_block_with_no_deliveries_and_labelled_inputs(gmina, clerk):
    with translation.override("en"):
        empty = render_to_string("delivery/_case_deliveries.html", {"deliveries": [], "case_id": CASE})
    assert "Nothing has been sent to the applicant in this case yet." in empty
    d = make(gmina)
    html = render_to_string("delivery/_case_deliveries.html", {"deliveries": [d], "case_id": CASE})
    for input_id in re.findall(r'<input id="([^"]+)"', html):
        assert f'<label for="{input_id}">' in html  # every field labelled (WCAG 1.3.1)
    assert "<script" not in html and "style=" not in html  # CSP: nothing inline
    assert delivery_facts(d).ref == short_id(d)
