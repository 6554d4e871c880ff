"""The Content-Security-Policy in a real browser (Debian's Chromium via Playwright): the map, the form
with its map picker, the login page, the admin and the OGC API HTML pages (items with their Leaflet
map, an item, the Swagger UI) work under the strict policy, and Chromium reports no CSP violation on
any of them. A zoning plan whose name holds a script runs nothing on the items page."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from .helpers import ARTIFACTS, CHROMIUM, committed

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]

PASSWORD = "x-Browser-2026!"
PAYLOAD = 'Plan </script><script>alert(1)</script> "><img src=x onerror=alert(1)>'
# every violation, also those the console does not show (report-only, or blocked before any message)
LISTEN = """document.addEventListener('securitypolicyviolation', (e) => {
  (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI);
});"""


class Watch:
    """Console messages about the Content Security Policy, violation events, alerts and page errors."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.add_init_script(LISTEN)
        page.on(
            "console", lambda m: self.console.append(m.text) if "Content Security Policy" in m.text else None
        )
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def violations(self) -> list[str]:
        return self.console + (self.page.evaluate("window.__csp || []") or [])


@pytest.fixture
def evil_zone(live_url):
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from layers.models import ZoningArea, ZoningPlan

    def make():
        square = MultiPolygon(Polygon.from_bbox((638300, 470100, 638400, 470200)), srid=2180)
        plan = ZoningPlan.objects.create(
            plan_id="E2E-XSS/1",
            name=PAYLOAD,
            teryt_gmina="1418043",
            resolution_no="XSS",
            resolution_date=date(2024, 5, 1),
            geom=square,
        )
        return ZoningArea.objects.create(
            plan=plan, label="1MN", symbol="MN", description=PAYLOAD, geom=square
        )

    from layers.selectors import data_version_bump

    # registry content changes, so caches keyed on the data version (feature counts, extents) must not outlive them
    zone = committed(make)
    data_version_bump()
    yield zone
    committed(lambda: ZoningPlan.objects.filter(plan_id="E2E-XSS/1").delete())
    data_version_bump()


@pytest.fixture
def admin_user(live_url):
    from gisportal.core.models import User

    user = committed(
        lambda: User.objects.create_superuser(
            username="e2e.admin", email="admin@example.pl", password=PASSWORD
        )
    )
    yield user
    committed(lambda: User.objects.filter(pk=user.pk).delete())


def _open(browser, url: str, **context):
    page = browser.new_context(locale="pl-PL", viewport={"width": 1280, "height": 900}, **context).new_page()
    watch = Watch(page)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page, watch


def test_the_collector_sees_a_violation(browser, live_url):
    """The check below is not vacuous: an inline script added to a page is refused and reported."""
    page, watch = _open(browser, f"{live_url}/konto/logowanie/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1'; document.body.append(s); }"
    )
    page.wait_for_function("() => (window.__csp || []).length > 0")
    assert page.evaluate("window.ran") is None
    assert any("script-src" in v for v in watch.violations())


def test_map_page_has_no_csp_violations(browser, live_url, demo_data):
    page, watch = _open(browser, f"{live_url}/")
    page.wait_for_function(
        "() => window.gisportalMap && document.querySelectorAll('#map canvas').length > 0", timeout=30000
    )
    page.wait_for_timeout(500)
    assert watch.violations() == [] and watch.errors == []


def test_form_page_with_map_picker_has_no_csp_violations(browser, live_url, demo_data):
    page, watch = _open(browser, f"{live_url}/uslugi/wypis-wyrys-mpzp/")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=parcel-map]') && "
        "document.querySelector('[data-testid=parcel-map]').naturalWidth > 0",
        timeout=30000,
    )
    assert watch.violations() == [] and watch.errors == []


def test_login_and_admin_have_no_csp_violations(browser, live_url, admin_user):
    page, watch = _open(browser, f"{live_url}/konto/logowanie/")
    assert watch.violations() == []
    page.goto(f"{live_url}/admin/login/")
    page.fill("input[name=username]", "e2e.admin")
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_url("**/admin/")
    from services.offices.models import Office

    office = committed(lambda: Office.objects.order_by("pk").first())
    for path in (
        "/admin/",
        "/admin/core/user/",
        f"/admin/core/user/{admin_user.pk}/change/",
        "/admin/offices/office/",
        f"/admin/offices/office/{office.pk}/change/",
        "/admin/core/user/add/",
    ):
        page.goto(live_url + path)
        page.wait_for_load_state("networkidle")
    assert watch.violations() == [] and watch.errors == []


def test_ogcapi_items_page_map_and_no_script_from_data(browser, live_url, evil_zone):
    page, watch = _open(browser, f"{live_url}/ogcapi/collections/mpzp/items?f=html&limit=50")
    page.wait_for_selector("#ogcapi-map path.leaflet-interactive", timeout=30000)
    page.wait_for_function(
        "() => document.querySelectorAll('#ogcapi-map img.leaflet-tile-loaded').length > 0", timeout=30000
    )
    page.screenshot(path=str(ARTIFACTS / "ogcapi-items.png"), full_page=True)
    assert watch.violations() == [] and watch.errors == []
    page.goto(f"{live_url}/ogcapi/collections/mpzp/items/{evil_zone.pk}?f=html")
    page.wait_for_selector("#ogcapi-map path.leaflet-interactive", timeout=30000)
    assert PAYLOAD in page.inner_text("main")  # shown as text
    assert page.locator("main img[src=x]").count() == 0 and watch.dialogs == []
    assert watch.violations() == [] and watch.errors == []


def test_ogcapi_other_pages_have_no_csp_violations(browser, live_url, demo_data):
    page, watch = _open(browser, f"{live_url}/ogcapi?f=html")
    for path in (
        "/ogcapi/collections?f=html",
        "/ogcapi/collections/dzialki?f=html",
        "/ogcapi/collections/dzialki/queryables?f=html",
        "/ogcapi/conformance?f=html",
    ):
        page.goto(live_url + path)
        page.wait_for_load_state("networkidle")
    page.goto(
        f"{live_url}/ogcapi/collections/adresy/items?f=html&limit=20"
    )  # points: Leaflet's marker images
    page.wait_for_function(
        "() => [...document.querySelectorAll('#ogcapi-map img.leaflet-marker-icon')].some(i => i.naturalWidth > 0)",
        timeout=30000,
    )
    page.goto(f"{live_url}/ogcapi/openapi?f=html")
    page.wait_for_selector("#swagger-ui .opblock", timeout=30000)  # Swagger UI from our static files, running
    page.screenshot(path=str(ARTIFACTS / "ogcapi-openapi.png"))
    assert watch.violations() == [] and watch.errors == []
