"""A citizen's whole journey in a real browser (Debian's Chromium via Playwright), on a desktop (1366×900)
and a phone (390×844): log in → the map → search "<precinct> <number>" → the parcel's information is
in view without scrolling → "order a land register extract" from it → the fee quote is shown while
filling in → filed → the receipt names the tracking and access codes → "follow the case" → the county's
clerk asks for a supplement → the citizen answers on the case page and the case is back with the clerk.
Every page: no sideways scrolling, axe-core clean; screenshots in tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import CHROMIUM, DESKTOP, PHONE, committed, login, page_ok, remove_user_and_filings

PASSWORD = "x-Journey-2026!"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


@pytest.fixture(scope="module")
def target(demo_data, django_db_blocker):
    """A rural parcel (the county issues its extract) and what a person types to find it."""
    from layers.models import Parcel

    with django_db_blocker.unblock():
        p = (
            Parcel.objects.current()
            .filter(precinct__unit__unit_id="141804_5")
            .exclude(registration_unit="")
            .select_related("precinct")
            .order_by("parcel_id")[5]
        )
        return {"parcel": p.parcel_id, "query": f"{p.precinct.name} {p.number}"}


@pytest.fixture
def people(live_url):
    from gisportal.core.models import User
    from services.offices.actions import staff_add
    from services.offices.models import Office, OfficeUnit

    def make():
        citizen = User.objects.create_user(
            username="e2e.podroz",
            email="podroz@example.pl",
            password=PASSWORD,
            role="citizen",
            first_name="Paula",
            last_name="Podróżna",
        )
        clerk = User.objects.create_user(
            username="e2e.podroz.geodeta",
            email="pg@example.pl",
            password=PASSWORD,
            role="clerk",
            first_name="Gustaw",
            last_name="Geodeta",
        )
        county = Office.objects.get(code="sp-piaseczno")
        staff_add(clerk, county, OfficeUnit.objects.get(office=county, code="GK"))
        return citizen, clerk

    citizen, clerk = committed(make)
    yield citizen, clerk

    def remove():
        clerk.membership.delete()
        clerk.delete()
        remove_user_and_filings(citizen)

    committed(remove)


def _in_view(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    width, height = page.evaluate("[window.innerWidth, window.innerHeight]")
    return bool(box) and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= height and box["x"] < width


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_search_file_follow_and_answer(browser, live_url, target, people, viewport):
    from services.cases.actions import case_transition
    from services.cases.models import Case, State

    citizen, clerk = people
    size = "desktop" if viewport == DESKTOP else "phone"
    context = browser.new_context(locale="pl-PL", viewport=viewport)
    page = context.new_page()
    login(page, live_url, citizen.username, PASSWORD)
    assert page.url.endswith("/moje-sprawy/")  # a citizen lands on their cases

    # the map: search, choose the first suggestion with the keyboard, the information is in view
    page.goto(f"{live_url}/")
    page.locator("#search-q").fill(target["query"])
    page.wait_for_selector("#search-results li[role=option]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "id => document.getElementById('info-body').innerText.includes(id)",
        arg=target["parcel"],
        timeout=15000,
    )
    assert _in_view(page, "#info-h"), "the information panel is out of view"
    page_ok(page, f"journey-citizen-info-{size}")

    # from the information panel to the e-form, prefilled with the parcel
    page.locator("#info-body a[href*='/uslugi/wypis-wyrys-egib/']").first.click()
    page.wait_for_url("**/uslugi/wypis-wyrys-egib/**")
    page.wait_for_function(
        f"() => document.getElementById('id_parcels').value.includes('{target['parcel']}')"
    )
    page.check("input[name=variant][value=wypis_uproszczony]")
    page.check("input[name=form][value=electronic]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=fee-quote]').textContent.includes('zł')"
    )
    for field, value in (("#id_postal_code", "05-500"), ("#id_locality", "Piaseczno")):
        if page.locator(field).is_visible():
            page.fill(field, value)
    page.keyboard.press("Escape")  # a suggestion list of the last field stays closed
    page_ok(page, f"journey-citizen-form-{size}")
    page.wait_for_load_state("networkidle")  # the quote refreshed after the last field: the button stays put
    with page.expect_navigation():
        page.locator("button[name=action][value=submit]").click()
    assert "/wnioski/" in page.url, page.locator(".error-summary, .error, [role=alert]").all_text_contents()
    tracking = page.get_by_test_id("tracking-code").inner_text().strip()
    assert len(tracking) == 10 and len(page.get_by_test_id("access-code").inner_text().strip()) == 10
    page_ok(page, f"journey-citizen-receipt-{size}")

    # follow the case
    page.get_by_test_id("go-my-case").click()
    page.wait_for_url("**/moje-sprawy/*/")
    case = committed(lambda: Case.objects.get(applicant_user=citizen))
    assert case.tracking_code == tracking and case.office.code == "sp-piaseczno"
    page_ok(page, f"journey-citizen-my-case-{size}")

    # the clerk asks for a supplement; the citizen answers on the case page
    def ask():
        case_transition(case.pk, "start", actor=clerk)
        case_transition(case.pk, "request_supplement", actor=clerk, due_days=7, note="Proszę podać cel.")

    committed(ask)
    page.reload()
    assert page.locator("#answer").is_visible()
    page.fill("#id_text", "Wypis jest potrzebny do sprzedaży działki.")
    page.get_by_test_id("answer-send").click()
    page.wait_for_load_state()
    assert committed(lambda: Case.objects.get(pk=case.pk).state) == State.IN_PROGRESS
    history = page.get_by_test_id("my-case-timeline").inner_text()
    assert "Proszę podać cel." in history
    page_ok(page, f"journey-citizen-answered-{size}")
    context.close()
