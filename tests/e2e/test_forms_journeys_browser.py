"""The form journeys in a real browser (Debian's Chromium through Playwright), each at 1366x900 and
390x844, every page visited checked with axe-core (WCAG 2.1 A/AA, zero violations) and for sideways
scrolling: a form filled in before logging in is kept across the log-in and then filed; the EGiB
extract's fee quote follows the variant and the form; the owner needs no justification for personal
data, a legal interest does; a surveyor uploads a GeoJSON work area (after trying the drawing map) and
files; a citizen neither sees nor opens the surveyor's service. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import CHROMIUM, DESKTOP, PHONE, committed, page_ok, remove_user_and_filings

PASSWORD = "x-Browser-2026!"
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


def _user(username: str, role: str, **extra):
    from gisportal.core.models import User

    return committed(
        lambda: User.objects.create_user(
            username=username,
            email=f"{username}@example.pl",
            password=PASSWORD,
            role=role,
            first_name="Jan",
            last_name="Journey",
            **extra,
        )
    )


def _remove(user) -> None:
    """The user, what they filed, and their log-in records: nothing of the test is left behind."""
    remove_user_and_filings(user)


@pytest.fixture
def citizen(live_url):
    user = _user("e2e.journey.citizen", "citizen")
    yield user
    committed(lambda: _remove(user))


@pytest.fixture
def surveyor(live_url):
    user = _user("e2e.journey.surveyor", "surveyor", licence_no="54321")
    yield user
    committed(lambda: _remove(user))


@pytest.fixture(scope="module")
def place(demo_data, django_db_blocker):
    """A town parcel (one registration unit) well inside the county, and a work area around it."""
    from layers.models import AdministrativeUnit, Parcel

    with django_db_blocker.unblock():
        county = AdministrativeUnit.objects.get(teryt="1418").geom
        for p in (
            Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[40:400]
        ):
            box = p.geom.envelope.buffer(5).envelope
            box.srid = 2180
            if county.contains(box.buffer(200)) and p.geom.area > 300 and p.registration_unit:
                return {"parcel": p.parcel_id, "area": box}
    raise AssertionError("no parcel well inside the county")


def _context(browser, viewport: dict):
    return browser.new_context(viewport=viewport, locale="pl-PL")


def _log_in_here(page, username: str) -> None:
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    page.wait_for_load_state()


def _login(page, live_url: str, username: str) -> None:
    page.goto(f"{live_url}/konto/logowanie/")
    _log_in_here(page, username)
    assert "/konto/logowanie/" not in page.url


def _send(page) -> None:
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("size", VIEWPORTS)
def test_anonymous_draft_is_kept_across_the_login_and_then_filed(browser, live_url, citizen, place, size):
    from services.forms.models import Submission

    context = _context(browser, VIEWPORTS[size])
    page = context.new_page()
    page.goto(f"{live_url}/uslugi/zaswiadczenie-mpzp/")
    assert page.get_by_test_id("login-first").is_visible()
    page_ok(page, f"journey-anonymous-form-{size}")
    page.fill("#id_applicant_name", "Jan Journey")
    page.fill("#id_email", "e2e.journey@example.pl")
    page.fill("#id_parcels", place["parcel"])
    page.fill("#id_purpose", "Sprzedaż działki – wniosek sprzed logowania")
    _send(page)
    assert "/konto/logowanie/" in page.url and "next=" in page.url
    page_ok(page, f"journey-login-with-draft-{size}")
    assert committed(lambda: Submission.objects.filter(user=citizen).count()) == 0
    _log_in_here(page, citizen.username)
    assert page.url.endswith("/uslugi/zaswiadczenie-mpzp/")
    assert page.input_value("#id_purpose") == "Sprzedaż działki – wniosek sprzed logowania"
    assert place["parcel"] in page.input_value("#id_parcels")
    page_ok(page, f"journey-form-prefilled-{size}")
    assert committed(lambda: Submission.objects.filter(user=citizen).count()) == 0  # not filed by itself
    _send(page)
    assert "/wnioski/" in page.url
    page_ok(page, f"journey-draft-filed-{size}")
    sub = committed(lambda: Submission.objects.get(user=citizen))
    assert sub.data["purpose"] == "Sprzedaż działki – wniosek sprzed logowania" and sub.parcels == [
        place["parcel"]
    ]
    context.close()


@pytest.mark.parametrize("size", VIEWPORTS)
def test_egib_fee_quote_follows_the_variant(browser, live_url, citizen, place, size):
    context = _context(browser, VIEWPORTS[size])
    page = context.new_page()
    _login(page, live_url, citizen.username)
    page.goto(f"{live_url}/uslugi/wypis-wyrys-egib/?parcels={place['parcel']}")
    quote = page.get_by_test_id("fee-quote")
    assert quote.get_attribute("aria-live") == "polite"
    page.check("input[name=variant][value=wypis_uproszczony]")
    page.check("input[name=form][value=electronic]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=fee-quote]').textContent.includes('15,00 zł')"
    )
    simplified = quote.text_content()
    page.check("input[name=variant][value=wypis_wyrys]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=fee-quote]').textContent.includes('140,00 zł')"
    )
    assert quote.text_content() != simplified
    page.check("input[name=form][value=paper]")  # paper costs more, and is posted or collected
    page.wait_for_function(
        "() => document.querySelector('[data-testid=fee-quote]').textContent.includes('150,00 zł')"
    )
    assert page.is_checked("input[name=delivery][value=post]")
    page_ok(page, f"journey-egib-quote-{size}")
    context.close()


@pytest.mark.parametrize("size", VIEWPORTS)
def test_owner_needs_no_justification_legal_interest_does(browser, live_url, citizen, place, size):
    from services.forms.models import Submission

    context = _context(browser, VIEWPORTS[size])
    page = context.new_page()
    _login(page, live_url, citizen.username)
    page.goto(f"{live_url}/uslugi/wypis-wyrys-egib/?parcels={place['parcel']}")
    ground = page.locator("#id_legal_ground")
    assert not ground.is_visible()  # no personal data chosen yet: no ground asked for
    page.check("input[name=variant][value=wypis_z_danymi]")
    page.check("input[name=form][value=electronic]")
    assert ground.is_visible() and not page.locator("#id_legal_interest").is_visible()
    page.check("input[name=legal_ground][value=owner]")
    assert not page.locator("#id_legal_interest").is_visible()
    page_ok(page, f"journey-egib-owner-{size}")
    _send(page)
    assert "/wnioski/" in page.url, page.locator(".error-summary").all_text_contents()
    page_ok(page, f"journey-egib-owner-filed-{size}")
    assert committed(lambda: Submission.objects.get(user=citizen).data["legal_ground"]) == "owner"

    page.goto(f"{live_url}/uslugi/wypis-wyrys-egib/?parcels={place['parcel']}")
    page.check("input[name=variant][value=wypis_z_danymi]")
    page.check("input[name=form][value=electronic]")
    page.check("input[name=legal_ground][value=legal_interest]")
    assert page.locator("#id_legal_interest").is_visible()
    _send(page)
    assert "/uslugi/wypis-wyrys-egib/" in page.url and page.locator("#id_legal_interest_error").is_visible()
    page_ok(page, f"journey-egib-interest-missing-{size}")
    page.fill("#id_legal_interest", "Postępowanie o zasiedzenie, sygn. I Ns 123/26.")
    _send(page)
    assert "/wnioski/" in page.url
    assert committed(lambda: Submission.objects.filter(user=citizen).count()) == 2
    context.close()


@pytest.mark.parametrize("size", VIEWPORTS)
def test_surveyor_uploads_a_geojson_work_area_and_files(browser, live_url, surveyor, place, size, tmp_path):
    from pyproj import Transformer

    from services.cases.models import Case
    from services.forms.models import Submission

    to_wgs = Transformer.from_crs(2180, 4326, always_xy=True)
    ring = [list(to_wgs.transform(x, y)) for x, y in place["area"].exterior_ring.coords]
    path = tmp_path / "obszar.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    context = _context(browser, VIEWPORTS[size])
    page = context.new_page()
    _login(page, live_url, surveyor.username)
    page.goto(f"{live_url}/uslugi/")
    assert page.locator("a[href='/uslugi/zgloszenie-prac/']").count() == 1
    page.goto(f"{live_url}/uslugi/zgloszenie-prac/")
    assert (
        page.input_value("#id_licence_no") == "54321"
        and page.get_attribute("#id_licence_no", "readonly") is not None
    )
    # the drawing map writes a polygon into the field; the uploaded file is what is filed
    img = page.get_by_test_id("area-map")
    img.wait_for(state="visible")
    box = img.bounding_box()
    for fx, fy in ((0.3, 0.3), (0.7, 0.3), (0.5, 0.7)):
        img.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    assert page.input_value("#id_work_area").startswith("POLYGON((")
    page.select_option("#id_purpose", "podzial")
    page.fill("#id_end_date", "2027-06-30")
    page.set_input_files("#id_work_area_file", str(path))
    page_ok(page, f"journey-survey-form-{size}")
    _send(page)
    assert "/wnioski/" in page.url, page.locator(".error-summary").all_text_contents()
    assert page.get_by_test_id("work-area-map").is_visible()
    page_ok(page, f"journey-survey-filed-{size}")

    def check():
        from django.contrib.gis.geos import GEOSGeometry

        sub = Submission.objects.get(user=surveyor)
        stored = GEOSGeometry(sub.data["work_area"], srid=2180)
        case = Case.objects.get(submission=sub)
        return (
            sub.data["licence_no"],
            stored.sym_difference(place["area"]).area,
            case.location.equals(stored),
            case.deadline_kind,
        )

    licence, difference, located, deadline = committed(check)
    assert licence == "54321" and difference < 1.0 and located and deadline == "working_days_10"
    context.close()


@pytest.mark.parametrize("size", VIEWPORTS)
def test_citizen_does_not_see_nor_open_the_surveyors_service(browser, live_url, citizen, size):
    context = _context(browser, VIEWPORTS[size])
    page = context.new_page()
    _login(page, live_url, citizen.username)
    page.goto(f"{live_url}/uslugi/")
    assert page.locator("a[href='/uslugi/zgloszenie-prac/']").count() == 0
    assert page.locator("a[href='/uslugi/wypis-wyrys-egib/']").count() == 1
    page_ok(page, f"journey-citizen-services-{size}")
    response = page.goto(f"{live_url}/uslugi/zgloszenie-prac/")
    assert response.status == 403 and page.get_by_test_id("service-forbidden").is_visible()
    assert page.locator("form.eform").count() == 0
    page_ok(page, f"journey-citizen-forbidden-{size}")
    context.close()
