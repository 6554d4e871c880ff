"""The portal inbox (/skrzynka/): only the addressee sees a delivery (anyone else 404, and the attempt is
logged); the document and the proof open with delivery (confirmed receipt, or deemed delivered after 14
days); confirming twice changes nothing; the period an appeal has runs from delivery by art. 57; the proof
of delivery is XML sealed by the office (it verifies as the office's) and a PDF in words."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pdfplumber
import pytest
from django.urls import reverse

from services.delivery.actions import deliveries_settle, delivery_acknowledge, delivery_create, delivery_send
from services.delivery.models import Channel, Delivery, DeliveryEvent, How, Kind, Status
from services.offices.models import Office

pytestmark = pytest.mark.django_db
WARSAW = ZoneInfo("Europe/Warsaw")
PDF = b"%PDF-1.4\n% decyzja testowa\n"


def at(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=WARSAW)


def make_delivery(
    user, *, kind=Kind.DECISION, sent=None, title="Decyzja o warunkach zabudowy", name="Jan Nowak"
):
    office = Office.objects.get(code="um-piaseczno")
    d = delivery_create(
        office=office,
        source=f"test:{uuid.uuid4()}",
        kind=kind,
        title=title,
        content=PDF + title.encode(),
        file_name="decyzja.pdf",
        channel=Channel.PORTAL,
        addressee_name=name,
        addressee_user=user,
        case_sign="GN.6730.12.2026",
        send=False,
    )
    return delivery_send(d.pk, now=sent or at(2026, 12, 7))


@pytest.fixture
def jan(make_user):
    return make_user("jan.nowak")


@pytest.fixture
def ewa(make_user):
    return make_user("ewa.obca")


def _login(client, user):
    client.force_login(user)
    return client


def refused(d) -> int:
    return DeliveryEvent.objects.filter(delivery=d, kind="access_refused").count()


# ---------------------------------------------------------------- the inbox
def test_the_inbox_lists_only_my_deliveries_unopened_first(client, jan, ewa):
    older = make_delivery(jan, title="Postanowienie o podjęciu", kind=Kind.ORDER, sent=at(2026, 12, 1))
    newer = make_delivery(
        jan, title="Zaświadczenie o przeznaczeniu", kind=Kind.CERTIFICATE, sent=at(2026, 12, 3)
    )
    delivery_acknowledge(newer.pk, jan, now=at(2026, 12, 4))
    make_delivery(ewa, title="Cudza decyzja")
    page = _login(client, jan).get(reverse("delivery_inbox"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Postanowienie o podjęciu" in html and "Zaświadczenie o przeznaczeniu" in html
    assert "Cudza decyzja" not in html
    assert html.index("Postanowienie o podjęciu") < html.index(
        "Zaświadczenie o przeznaczeniu"
    )  # unopened first
    assert 'data-testid="inbox-unread"' in html and "GN.6730.12.2026" in html and older.office.name in html
    # arrived Tue 1 Dec 2026: deemed delivered on the day after the 14 days, Wed 16 Dec 2026
    assert "16 grudnia 2026" in html
    assert 'class="stack"' in html  # the table stacks on phones


def test_the_menu_shows_the_inbox_with_the_number_unopened(client, jan, ewa):
    make_delivery(jan)
    make_delivery(jan, title="Druga decyzja")
    make_delivery(ewa)
    html = _login(client, jan).get(reverse("my_cases")).content.decode()
    assert 'data-testid="menu-inbox"' in html and f'href="{reverse("delivery_inbox")}"' in html
    assert "(2<span" in html
    client.logout()
    assert 'data-testid="menu-inbox"' not in client.get(reverse("home")).content.decode()


def test_the_inbox_needs_logging_in(client, jan):
    d = make_delivery(jan)
    for url in (reverse("delivery_inbox"), reverse("delivery_detail", args=[d.pk])):
        r = client.get(url)
        assert r.status_code == 302 and reverse("login") in r["Location"]
    assert refused(d) == 0


def test_an_empty_inbox_says_so(client, jan):
    assert 'data-testid="inbox-empty"' in _login(client, jan).get(reverse("delivery_inbox")).content.decode()


# ---------------------------------------------------------------- only the addressee
def test_anyone_else_gets_404_and_the_attempt_is_logged(client, jan, ewa):
    d = make_delivery(jan)
    delivery_acknowledge(d.pk, jan, now=at(2026, 12, 8))
    _login(client, ewa)
    urls = [
        reverse("delivery_detail", args=[d.pk]),
        reverse("delivery_document", args=[d.pk]),
        reverse("delivery_proof", args=[d.pk, "xml"]),
        reverse("delivery_proof", args=[d.pk, "pdf"]),
    ]
    for n, url in enumerate(urls, 1):
        assert client.get(url).status_code == 404, url
        assert refused(d) == n
    assert client.post(urls[0]).status_code == 404
    assert refused(d) == len(urls) + 1
    event = DeliveryEvent.objects.filter(delivery=d, kind="access_refused").first()
    assert event.actor == ewa
    # the same answer as a delivery that does not exist
    assert client.get(reverse("delivery_detail", args=[uuid.uuid4()])).status_code == 404


def test_the_action_logs_a_refused_acknowledgment_too(jan, ewa):
    from gisportal.core.errors import NotFound

    d = make_delivery(jan)
    with pytest.raises(NotFound):
        delivery_acknowledge(d.pk, ewa)
    assert refused(d) == 1  # kept, though the acknowledgment failed
    assert Delivery.objects.get(pk=d.pk).status == Status.AWAITING


# ---------------------------------------------------------------- before and after confirmation
def test_document_and_proof_stay_closed_before_the_confirmation(client, jan):
    d = make_delivery(jan)
    _login(client, jan)
    page = client.get(reverse("delivery_detail", args=[d.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="acknowledge"' in html
    assert 'data-testid="delivery-download"' not in html and "upd.xml" not in html
    assert "22 grudnia 2026" in html  # arrived Mon 7 Dec 2026: deemed delivered Tue 22 Dec 2026
    for url in (
        reverse("delivery_document", args=[d.pk]),
        reverse("delivery_proof", args=[d.pk, "xml"]),
        reverse("delivery_proof", args=[d.pk, "pdf"]),
    ):
        assert client.get(url).status_code == 404, url
    assert refused(d) == 0  # the addressee asking early is no refused attempt


def test_confirming_receipt_opens_the_document(client, jan):
    from django.utils import timezone

    from services.delivery import rules

    d = make_delivery(jan, sent=timezone.now() - timedelta(hours=2))
    _login(client, jan)
    url = reverse("delivery_detail", args=[d.pk])
    r = client.post(url)
    assert r.status_code == 302 and r["Location"] == url
    d.refresh_from_db()
    assert d.status == Status.DELIVERED and d.delivered_how == How.OPENED
    assert d.period_ends == rules.period_end(Kind.DECISION, timezone.localdate(d.delivered_at))
    html = client.get(url).content.decode()
    assert 'data-testid="acknowledge"' not in html and 'data-testid="delivery-period"' in html
    assert 'data-testid="delivery-download"' in html and "upd.xml" in html and "upd.pdf" in html

    doc = client.get(reverse("delivery_document", args=[d.pk]))
    assert doc.status_code == 200
    assert doc["Content-Disposition"].startswith("attachment") and "decyzja.pdf" in doc["Content-Disposition"]
    assert doc["X-Content-Type-Options"] == "nosniff" and doc["Content-Security-Policy"] == "sandbox"
    assert b"".join(doc.streaming_content) == PDF + d.title.encode()

    before = (d.delivered_at, bytes(d.proof_xml), DeliveryEvent.objects.filter(delivery=d).count())
    assert client.post(url).status_code == 302  # twice: nothing changes
    d.refresh_from_db()
    assert (d.delivered_at, bytes(d.proof_xml), DeliveryEvent.objects.filter(delivery=d).count()) == before


def test_the_appeal_period_runs_from_delivery_by_article_57(client, jan):
    d = make_delivery(jan, sent=at(2026, 12, 7))
    delivery_acknowledge(d.pk, jan, now=at(2026, 12, 10, 9, 30))  # Thu 10 Dec 2026
    d.refresh_from_db()
    # 14 days end Thu 24 Dec (a holiday), 25-26 Dec holidays, 27 Sunday → Mon 28 Dec 2026
    assert d.period_ends == date(2026, 12, 28) and d.period_days == 14
    html = _login(client, jan).get(reverse("delivery_detail", args=[d.pk])).content.decode()
    assert "28 grudnia 2026" in html and "10 grudnia 2026" in html


def test_an_order_gets_a_complaint_period_and_a_letter_none(client, jan):
    order = make_delivery(jan, kind=Kind.ORDER, title="Postanowienie")
    letter = make_delivery(jan, kind=Kind.LETTER, title="Pismo")
    delivery_acknowledge(order.pk, jan, now=at(2026, 12, 10))
    delivery_acknowledge(letter.pk, jan, now=at(2026, 12, 10))
    order.refresh_from_db()
    letter.refresh_from_db()
    assert order.period_ends == date(2026, 12, 17) and letter.period_ends is None
    _login(client, jan)
    assert "17 grudnia 2026" in client.get(reverse("delivery_detail", args=[order.pk])).content.decode()
    html = client.get(reverse("delivery_detail", args=[letter.pk])).content.decode()
    assert 'data-testid="delivery-period"' not in html and 'data-testid="delivery-download"' in html


def test_a_deemed_delivery_shows_the_document(client, jan):
    d = make_delivery(jan, sent=at(2026, 3, 2))  # Mon 2 Mar 2026
    assert deliveries_settle(now=at(2026, 3, 2) + timedelta(days=15))["deemed"] >= 1
    d.refresh_from_db()
    assert d.status == Status.DELIVERED and d.delivered_how == How.DEEMED
    assert d.delivered_at.astimezone(WARSAW).date() == date(2026, 3, 17)  # the day after the 14 days
    _login(client, jan)
    html = client.get(reverse("delivery_detail", args=[d.pk])).content.decode()
    assert 'data-testid="delivery-download"' in html and "17 marca 2026" in html
    assert client.get(reverse("delivery_document", args=[d.pk])).status_code == 200
    assert client.get(reverse("delivery_proof", args=[d.pk, "xml"])).status_code == 200
    inbox = client.get(reverse("delivery_inbox")).content.decode()
    assert 'data-testid="inbox-unread"' not in inbox and "17 marca 2026" in inbox


# ---------------------------------------------------------------- the proof
def test_the_proof_xml_verifies_as_the_office_seal(client, jan):
    from services.signatures import trust
    from services.signatures.verify import verify_file

    d = make_delivery(jan)
    delivery_acknowledge(d.pk, jan, now=at(2026, 12, 10))
    r = _login(client, jan).get(reverse("delivery_proof", args=[d.pk, "xml"]))
    assert r.status_code == 200 and r["Content-Type"] == "application/xml"
    assert r["Content-Disposition"].startswith("attachment") and r["X-Content-Type-Options"] == "nosniff"
    trust.forget()
    try:
        report = verify_file(r.content, "upd.xml").as_dict()
    finally:
        trust.forget()
    assert report["indication"] == "TOTAL_PASSED", report
    sig = report["signatures"][0]
    assert sig["trust_anchor"] == f"office:{d.office.code}"
    assert sig["signer"]["organisation"] == d.office.name[:64]
    assert d.sha256.encode() in r.content


def test_the_proof_pdf_says_it_in_words(client, jan):
    d = make_delivery(jan, sent=at(2026, 12, 7))
    delivery_acknowledge(d.pk, jan, now=at(2026, 12, 10))
    d.refresh_from_db()
    _login(client, jan)
    r = client.get(reverse("delivery_proof", args=[d.pk, "pdf"]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert r["X-Content-Type-Options"] == "nosniff"
    with pdfplumber.open(BytesIO(r.content)) as pdf:
        assert len(pdf.pages) == 1
        assert abs(pdf.pages[0].width - 595.3) < 1 and abs(pdf.pages[0].height - 841.9) < 1  # A4
        text = "\n".join(p.extract_text() or "" for p in pdf.pages).replace("\n", " ")
    for expected in (
        d.office.name,
        "Jan Nowak",
        d.title,
        "GN.6730.12.2026",
        "7 grudnia 2026",
        "10 grudnia 2026",
        "28 grudnia 2026",
        "/podpis/",
    ):
        assert expected in text, expected
    assert d.sha256[:32] in text.replace(" ", "")
    assert client.get(reverse("delivery_proof", args=[d.pk, "doc"])).status_code == 404
