"""The map-first portal in a real browser (Debian's Chromium via Playwright), on a desktop (1366x900) and
a phone (390x844): the map fills the window under the header; the search is a WAI-ARIA 1.2 combobox
(nothing highlighted until ArrowDown, ArrowDown+Enter takes the FIRST suggestion, aria-activedescendant
never names a missing option); feature info opens in a panel in view, focused, in people's words (titles,
units, local dates, translated values); /?bbox= and /?dzialka= work and bad values are ignored; no page
scrolls sideways at 360/390/414 px; after login one lands on one's own work. axe-core finds nothing."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from .helpers import ARTIFACTS, CHROMIUM, committed, remove_cases

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "x-Mapa-2026!"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]
VIEWPORTS = {"desktop": (1366, 900), "phone": (390, 844)}
DEFAULT_RESOLUTION = 4
# every change of the search box or the page: aria-activedescendant must name an element that exists
WATCH_ACTIVEDESCENDANT = """
window.__adMissing = [];
document.addEventListener('DOMContentLoaded', () => {
  const input = document.getElementById('search-q');
  if (!input) return;
  const check = () => {
    const id = input.getAttribute('aria-activedescendant');
    if (id && !document.getElementById(id)) window.__adMissing.push(id);
  };
  new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true });
});
"""
NON_WHITE = """() => {
  let n = 0;
  for (const c of document.querySelectorAll('#map canvas')) {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 16) if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++;
  }
  return n;
}"""
LAYER = "name => window.gisportalMap.getLayers().getArray().find(l => l.get('name') === name)"


@pytest.fixture(scope="module")
def parcel(demo_data, django_db_blocker):
    from layers.models import Parcel

    with django_db_blocker.unblock():
        p = (
            Parcel.objects.current()
            .filter(precinct__unit__unit_id="141804_4")
            .select_related("precinct")
            .order_by("parcel_id")[12]
        )
        x0, y0, x1, y1 = p.geom.extent
        inside = p.geom.point_on_surface
        return {
            "id": p.parcel_id,
            "query": f"{p.precinct.name} {p.number}",
            "extent": [x0, y0, x1, y1],
            "inside": [inside.x, inside.y],
        }


@pytest.fixture
def citizen(live_url):
    """A citizen with a case whose subject is long, to see /moje-sprawy/ on a phone."""
    from gisportal.core.models import User
    from services.cases.actions import case_register
    from services.offices.models import Office, OfficeUnit

    def make():
        user = User.objects.create_user(
            username="e2e.mapa", email="e2e.mapa@example.pl", password=PASSWORD, role="citizen"
        )
        office = Office.objects.get(code="um-piaseczno")
        case_register(
            office=office,
            unit=OfficeUnit.objects.get(office=office, code="UiA"),
            jrwa="6727",
            subject="Wypis i wyrys z miejscowego planu zagospodarowania przestrzennego dla działki "
            "141804_4.0001.123/4 oraz sąsiednich działek w obrębie Piaseczno",
            channel="paper",
            applicant_name="Maria Mapowa",
            applicant_user=user,
            received_on=date(2026, 3, 2),
            deadline_kind="one_month",
        )
        return user

    user = committed(make)
    yield user

    def remove():
        from services.cases.models import Case

        remove_cases(Case.objects.filter(applicant_user=user))
        user.delete()

    committed(remove)


def _page(browser, viewport, **context):
    width, height = viewport
    page = browser.new_context(
        viewport={"width": width, "height": height}, locale="pl-PL", **context
    ).new_page()
    page.add_init_script(WATCH_ACTIVEDESCENDANT)
    page.errors = []
    page.dialogs = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    return page


def _axe(page) -> list:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # not add_script_tag: an inline <script> the page's CSP refuses
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def _no_sideways_scroll(page) -> tuple[int, int]:
    return tuple(page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]"))


def _in_viewport(page, selector) -> bool:
    box = page.locator(selector).bounding_box()
    width, height = page.evaluate("[window.innerWidth, window.innerHeight]")
    return (
        bool(box)
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= width + 0.5
        and (box["y"] + box["height"] <= height + 0.5)
    )


def _wait_for_map(page):
    page.wait_for_function(f"() => ({NON_WHITE})() > 200", timeout=30000)


@pytest.mark.parametrize("device", VIEWPORTS)
def test_map_fills_the_window_and_the_search_is_a_combobox(browser, live_url, parcel, device):
    page = _page(browser, VIEWPORTS[device])
    page.goto(f"{live_url}/")
    _wait_for_map(page)
    width, height = page.evaluate("[window.innerWidth, window.innerHeight]")
    header = page.locator(".site-header").bounding_box()
    box = page.locator("#map").bounding_box()
    assert box["width"] >= 0.9 * width
    assert abs(box["y"] - (header["y"] + header["height"])) <= 2  # right under the header
    assert box["y"] + box["height"] <= height + 0.5 and box["height"] >= 0.7 * (height - box["y"])
    assert page.evaluate("document.documentElement.scrollHeight") <= height  # nothing below: no page scroll
    assert _no_sideways_scroll(page)[0] <= width
    base = page.evaluate(f"({LAYER})('base').getSource().getParams().LAYERS")
    assert base and page.evaluate(f"({LAYER})('base').getOpacity()") < 1
    page.screenshot(path=str(ARTIFACTS / f"map-first-{device}.png"))

    combo = page.locator("#search-q")
    assert combo.get_attribute("role") == "combobox" and combo.get_attribute("aria-expanded") == "false"
    assert (
        combo.get_attribute("aria-autocomplete") == "list"
        and combo.get_attribute("aria-controls") == "search-results"
    )
    combo.focus()
    page.keyboard.type(parcel["query"])
    page.wait_for_selector("#search-results li[role=option]")
    assert combo.get_attribute("aria-expanded") == "true"
    assert page.locator("#search-results [aria-selected=true]").count() == 0  # nothing pre-selected
    assert combo.get_attribute("aria-activedescendant") is None
    assert _axe(page) == []
    page.screenshot(path=str(ARTIFACTS / f"map-suggestions-{device}.png"))

    # what the first suggestion is: the same query to the same API
    first = page.evaluate(
        "q => fetch('/api/search?q=' + encodeURIComponent(q)).then(r => r.json()).then(b => b.results[0])",
        parcel["query"],
    )
    assert page.locator("#search-results li[role=option]").first.inner_text().startswith(first["label"])
    page.keyboard.press("ArrowDown")
    assert combo.get_attribute("aria-activedescendant") == "sr-0"
    assert page.get_attribute("#sr-0", "aria-selected") == "true"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert combo.get_attribute("aria-activedescendant") == "sr-0"
    assert _axe(page) == []
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.getElementById('info').hidden")
    page.wait_for_function(
        "id => document.getElementById('info-body').innerText.includes(id)", arg=first["id"], timeout=15000
    )
    assert (
        combo.get_attribute("aria-expanded") == "false"
        and combo.get_attribute("aria-activedescendant") is None
    )
    assert page.evaluate("document.activeElement.id") == "info-h"
    assert _in_viewport(page, "#info-h") and _in_viewport(page, ".panel-head")
    if device == "desktop":
        assert _in_viewport(page, "#info")
    else:  # a bottom sheet, the map above it still seen
        info = page.locator("#info").bounding_box()
        assert info["y"] > box["y"] + 100 and _in_viewport(page, "#info")
    text = page.inner_text("#info-body")
    assert "ID_DZIALKI" not in text and "POLE_EWIDENCYJNE" not in text
    assert "Pole ewidencyjne" in text and re.search(r"\d,\d{4} ha \([\d\s\u00a0]+ m²\)", text), text
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", text)  # a local date, not ISO UTC
    assert page.evaluate(f"({LAYER})('highlight').getSource().getFeatures().length") == 1
    vx0, vy0, vx1, vy1 = page.evaluate("window.gisportalMap.getView().calculateExtent()")
    px0, py0, px1, py1 = page.evaluate(f"({LAYER})('highlight').getSource().getExtent()")
    assert vx0 <= px0 and vy0 <= py0 and vx1 >= px1 and vy1 >= py1  # the parcel is in view, zoomed in
    assert page.evaluate("window.gisportalMap.getView().getResolution()") < DEFAULT_RESOLUTION / 2
    assert _axe(page) == []
    _wait_for_map(page)
    page.screenshot(path=str(ARTIFACTS / f"map-parcel-info-{device}.png"))

    page.keyboard.press("Escape")  # closes the info and gives the focus back to the map
    assert page.locator("#info").is_hidden() and page.evaluate("document.activeElement.id") == "map"
    # Escape closes the list and keeps the text
    combo.focus()
    page.keyboard.press("End")
    page.keyboard.type(" ")
    page.wait_for_selector("#search-results li[role=option]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    assert (
        combo.get_attribute("aria-expanded") == "false"
        and combo.get_attribute("aria-activedescendant") is None
    )
    assert combo.input_value().strip() == parcel["query"]
    assert page.evaluate("window.__adMissing") == []
    assert page.errors == [] and page.dialogs == []


@pytest.mark.parametrize("device", VIEWPORTS)
def test_click_on_the_map_shows_info_in_peoples_words(browser, live_url, parcel, device):
    page = _page(browser, VIEWPORTS[device])
    page.goto(f"{live_url}/?dzialka={parcel['id']}")
    page.wait_for_function(
        "id => document.getElementById('info-body').innerText.includes(id)", arg=parcel["id"]
    )
    page.click("#info-close")
    assert page.locator("#info").is_hidden() and page.evaluate("document.activeElement.id") == "map"
    pixel = page.evaluate("c => window.gisportalMap.getPixelFromCoordinate(c)", parcel["inside"])
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + pixel[0], box["y"] + pixel[1])
    page.wait_for_function(
        "() => document.getElementById('info-body').innerText.includes('Pole ewidencyjne')", timeout=45000
    )
    text = page.inner_text("#info-body")
    assert parcel["id"] in text and "Identyfikator działki" in text
    assert not re.search(r"\b[A-Z]{2,}_[A-Z_]+\b", text.replace(parcel["id"], ""))  # no raw column names
    assert "województwo" in text and "voivodeship" not in text  # the boundary level in Polish
    assert page.evaluate("document.activeElement.id") == "info-h" and _in_viewport(page, ".panel-head")
    assert page.locator("#info-body a[href^='/uslugi/wypis-wyrys-mpzp/?parcels=']").count() == 1
    assert _axe(page) == []
    page.screenshot(path=str(ARTIFACTS / f"map-click-info-{device}.png"))
    # a double click zooms in and asks for nothing
    page.keyboard.press("Escape")
    before = page.evaluate("window.gisportalMap.getView().getResolution()")
    page.mouse.dblclick(box["x"] + pixel[0], box["y"] + pixel[1])
    page.wait_for_function(f"() => window.gisportalMap.getView().getResolution() < {before}")
    page.wait_for_timeout(600)
    assert page.locator("#info").is_hidden()
    assert page.errors == []


def test_info_in_english(browser, live_url, parcel):
    page = _page(browser, VIEWPORTS["desktop"])
    page.goto(f"{live_url}/")
    page.locator("form.lang button").click()  # the language switch (the session keeps it)
    page.wait_for_load_state()
    page.goto(f"{live_url}/?dzialka={parcel['id']}")
    page.wait_for_function("() => document.getElementById('info-body').innerText.includes('Registered area')")
    text = page.inner_text("#info-body")
    assert re.search(r"\d\.\d{4} ha \([\d,]+ m²\)", text) and "Pole ewidencyjne" not in text


def test_bbox_and_parcel_addresses(browser, live_url, parcel):
    page = _page(browser, VIEWPORTS["desktop"])
    bbox = [636500, 469765, 637542, 470982]
    page.goto(f"{live_url}/?bbox={','.join(map(str, bbox))}")
    page.wait_for_function("() => window.gisportalMap && window.gisportalMap.getView().getResolution() < 4")
    x0, y0, x1, y1 = page.evaluate("window.gisportalMap.getView().calculateExtent()")
    assert x0 <= bbox[0] and y0 <= bbox[1] and x1 >= bbox[2] and y1 >= bbox[3]
    assert (x1 - x0) < 4 * (bbox[2] - bbox[0])  # zoomed there, not somewhere around
    assert page.locator("#info").is_hidden()

    page.goto(f"{live_url}/?dzialka={parcel['id']}")
    page.wait_for_function(
        "id => document.getElementById('info-body').innerText.includes(id)", arg=parcel["id"]
    )
    assert page.evaluate(f"({LAYER})('highlight').getSource().getFeatures().length") == 1
    vx0, vy0, vx1, vy1 = page.evaluate("window.gisportalMap.getView().calculateExtent()")
    px0, py0, px1, py1 = parcel["extent"]
    assert vx0 <= px0 and vy0 <= py0 and vx1 >= px1 and vy1 >= py1
    assert _in_viewport(page, "#info")
    # the parcel page's "Show on the map" leads here
    page.goto(f"{live_url}/dzialka/{parcel['id']}")
    page.locator("main a", has_text="Pokaż na mapie").click()
    page.wait_for_function(
        "id => document.getElementById('info-body').innerText.includes(id)", arg=parcel["id"]
    )
    assert page.errors == []


@pytest.mark.parametrize(
    "query",
    [
        "bbox=1,2,3",
        "bbox=abc,def,ghi,jkl",
        "bbox=9e99,0,1,1",
        "bbox=640000,470000,630000,480000",
        "bbox=-1,-1,-1,-1",
        "bbox=" + ",".join(["1" * 300] * 4),
        "dzialka=%3Cscript%3Ealert(1)%3C/script%3E",
        "dzialka=..%2F..%2Fapi%2Fsearch",
        "dzialka=141804_4.0001.1%2F..%2F..%2F..%2Fsearch",
        "dzialka=",
    ],
)
def test_bad_map_addresses_are_ignored(browser, live_url, query):
    page = _page(browser, VIEWPORTS["desktop"])
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/api/" in r.url else None)
    page.goto(f"{live_url}/?{query}#%E0%A4%A")  # a malformed hash too
    page.wait_for_function("() => window.gisportalMap !== undefined")
    _wait_for_map(page)
    assert asked == []  # not even asked for
    assert page.evaluate("window.gisportalMap.getView().getResolution()") == DEFAULT_RESOLUTION
    assert page.locator("#info").is_hidden()
    assert page.errors == [] and page.dialogs == []


def test_unknown_parcel_in_the_address_is_ignored(browser, live_url):
    page = _page(browser, VIEWPORTS["desktop"])
    with page.expect_response(lambda r: "/api/parcels/" in r.url) as answer:
        page.goto(f"{live_url}/?dzialka=141804_4.0001.999999")
    assert answer.value.status == 404
    page.wait_for_function("() => window.gisportalMap !== undefined")
    page.wait_for_timeout(300)  # the answer handled
    assert page.locator("#info").is_hidden()
    assert page.evaluate("window.gisportalMap.getView().getResolution()") == DEFAULT_RESOLUTION
    assert page.errors == []


NARROW = (360, 390, 414)
PAGES = [
    "/",
    "/szukaj/?q={id}",
    "/dzialka/{id}",
    "/uslugi/",
    "/status/",
    "/o-portalu/",
    "/moje-sprawy/",
    "/konto/",
]


@pytest.mark.parametrize("width", NARROW)
def test_no_page_scrolls_sideways_on_phones(browser, live_url, parcel, citizen, width):
    page = _page(browser, (width, 800))
    page.goto(f"{live_url}/konto/logowanie/")
    page.fill("input[name=username]", "e2e.mapa")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/moje-sprawy/")  # a citizen lands on their cases
    wide = {}
    for path in PAGES:
        page.goto(live_url + path.format(id=parcel["id"]))
        page.wait_for_load_state()
        scroll, inner = _no_sideways_scroll(page)
        if scroll > inner:
            wide[path] = scroll
        header = page.locator(".site-header").bounding_box()
        assert header["width"] <= inner
        if path in ("/moje-sprawy/", "/dzialka/{id}"):
            page.screenshot(path=str(ARTIFACTS / f"narrow-{width}{path.split('/')[1]}.png"), full_page=True)
    assert wide == {}, wide
    page.goto(f"{live_url}/moje-sprawy/")
    assert "Wypis i wyrys" in page.inner_text("main")
    # the menu folds behind a real button and opens with it
    page.goto(f"{live_url}/dzialka/{parcel['id']}")
    toggle = page.locator("#nav-toggle")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert page.locator("#site-nav").is_hidden()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and page.locator("#site-nav").is_visible()
    assert page.locator("#site-nav button", has_text="Wyloguj się").is_visible()
    assert _no_sideways_scroll(page)[0] <= width
    assert _axe(page) == []
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.errors == []


def test_menu_is_a_plain_list_on_desktop(browser, live_url):
    page = _page(browser, VIEWPORTS["desktop"])
    page.goto(f"{live_url}/uslugi/")
    assert page.locator("#nav-toggle").is_hidden() and page.locator("#site-nav").is_visible()


def test_login_returns_to_the_page_one_came_from(browser, live_url, citizen):
    page = _page(browser, VIEWPORTS["phone"])
    page.goto(f"{live_url}/uslugi/")
    page.click("#nav-toggle")
    page.locator("#site-nav a", has_text="Zaloguj się").click()
    page.fill("input[name=username]", "e2e.mapa")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_url}/uslugi/")
    assert "/o-portalu/" not in page.url


def test_layers_panel_collapses_with_its_button(browser, live_url):
    for device, (width, height) in VIEWPORTS.items():
        page = _page(browser, (width, height))
        page.goto(f"{live_url}/")
        toggle = page.locator("#layers-toggle")
        expanded = device == "desktop"  # a phone starts with the map, the layers folded
        assert toggle.get_attribute("aria-expanded") == json.dumps(expanded)
        assert page.locator("#layers-body").is_visible() is expanded
        toggle.focus()
        page.keyboard.press("Enter")
        assert toggle.get_attribute("aria-expanded") == json.dumps(not expanded)
        assert page.locator("#layers-body").is_visible() is (not expanded)
        if device == "phone":
            assert _in_viewport(page, "#layers-body")
            assert page.locator("#layers-body input[value=dzialki]").is_visible()
            assert _axe(page) == []
            page.screenshot(path=str(ARTIFACTS / "map-layers-phone.png"))
