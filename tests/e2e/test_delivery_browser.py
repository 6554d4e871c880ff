"""A citizen receives a decision in the portal inbox, in a real browser (Debian's Chromium via Playwright), on
a desktop (1366×900) and a phone (390×844): the menu's "Inbox" with the number unopened → the inbox → the
delivery with its legal note → receipt confirmed with the keyboard alone → the appeal period, the document
downloaded, the proof of delivery. Each page: no sideways scrolling, axe-core (WCAG 2.1 A/AA) clean; the
screenshots go to tests/artifacts/."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from .helpers import CHROMIUM, DESKTOP, PHONE, committed, login, page_ok, remove_user_and_filings

PASSWORD = "x-Inbox-2026!"
CONTENT = b"%PDF-1.4\n% decyzja e2e\n"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


@pytest.fixture
def delivered_to_citizen(live_url):
    """A citizen with a decision waiting in the inbox (all committed)."""
    from gisportal.core.models import User
    from services.delivery.actions import delivery_create, delivery_send
    from services.delivery.models import Channel, Kind
    from services.offices.models import Office

    def make():
        citizen = User.objects.create_user(
            username="e2e.adresat",
            email="adresat@example.pl",
            password=PASSWORD,
            role="citizen",
            first_name="Adam",
            last_name="Adresat",
        )
        d = delivery_create(
            office=Office.objects.get(code="um-piaseczno"),
            source=f"e2e:{uuid.uuid4()}",
            kind=Kind.DECISION,
            title="Decyzja o warunkach zabudowy dla działki 141804_4.0001.123",
            content=CONTENT,
            file_name="decyzja-GN.6730.7.2026.pdf",
            channel=Channel.PORTAL,
            addressee_name="Adam Adresat",
            addressee_user=citizen,
            case_sign="GN.6730.7.2026",
            send=False,
        )
        return citizen, delivery_send(d.pk)

    citizen, d = committed(make)
    yield d

    def remove():
        from services.delivery.models import Delivery, DeliveryEvent

        DeliveryEvent.objects.filter(delivery__addressee_user=citizen).delete()
        Delivery.objects.filter(addressee_user=citizen).delete()
        remove_user_and_filings(citizen)

    committed(remove)


def _open_menu(page) -> None:
    toggle = page.locator("#nav-toggle")
    if toggle.is_visible():  # a phone: the menu folds behind its button
        toggle.click()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_citizen_confirms_receipt_and_downloads_the_document(
    browser, live_url, delivered_to_citizen, viewport
):
    from services.delivery.models import Delivery, Status

    d = delivered_to_citizen
    size = "desktop" if viewport == DESKTOP else "phone"
    context = browser.new_context(locale="pl-PL", viewport=viewport, accept_downloads=True)
    page = context.new_page()
    login(page, live_url, "e2e.adresat", PASSWORD, "/moje-sprawy/")

    _open_menu(page)
    menu = page.get_by_test_id("menu-inbox")
    assert "1" in menu.inner_text()  # one unopened
    menu.click()
    page.wait_for_url("**/skrzynka/")
    assert d.title in page.get_by_test_id("inbox").inner_text()
    page_ok(page, f"delivery-inbox-{size}")

    page.get_by_test_id("inbox-link").first.click()
    page.wait_for_url(f"**/skrzynka/{d.pk}/")
    note = page.get_by_test_id("delivery-note").inner_text()
    assert "2026" in note  # the day it will be deemed delivered
    assert not page.get_by_test_id("delivery-download").count()  # closed until receipt is confirmed
    page_ok(page, f"delivery-awaiting-{size}")

    # the keyboard alone: Tab to the button, Enter
    button = page.get_by_test_id("acknowledge")
    for _ in range(60):
        page.keyboard.press("Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    else:
        pytest.fail("the confirmation button is not reachable with Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.url.endswith(f"/skrzynka/{d.pk}/")
    got = committed(lambda: Delivery.objects.get(pk=d.pk))
    assert got.status == Status.DELIVERED and got.delivered_how == "opened" and got.period_ends
    assert page.get_by_test_id("delivery-period").is_visible()
    assert str(got.period_ends.year) in page.get_by_test_id("delivery-period").inner_text()
    page_ok(page, f"delivery-delivered-{size}")

    with page.expect_download() as info:
        page.get_by_test_id("delivery-download").click()
    download = info.value
    assert download.suggested_filename == "decyzja-GN.6730.7.2026.pdf"
    assert Path(download.path()).read_bytes() == CONTENT

    for testid, media in (
        ("delivery-proof-xml", "application/xml"),
        ("delivery-proof-pdf", "application/pdf"),
    ):
        href = page.get_by_test_id(testid).get_attribute("href")
        r = context.request.get(live_url + href)
        assert r.status == 200 and r.headers["content-type"] == media, testid

    _open_menu(page)
    assert page.get_by_test_id("menu-inbox").inner_text().strip() in ("Inbox", "Skrzynka")  # none unopened
    page.goto(f"{live_url}/skrzynka/")
    page_ok(page, f"delivery-inbox-after-{size}")
    context.close()
