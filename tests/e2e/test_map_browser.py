"""The public map portal in a real browser (Debian's Chromium via Playwright): the map shows parcels,
search zooms to a parcel and highlights it, a click opens the info panel, the language switch works,
the text path works without JavaScript, and axe-core finds no serious or critical violations."""

from __future__ import annotations

import json
from pathlib import Path

import mapbox_vector_tile
import pytest

from .helpers import ARTIFACTS, CHROMIUM

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]

NON_WHITE = """() => {
  const canvases = Array.from(document.querySelectorAll('#map canvas'));
  let n = 0;
  for (const c of canvases) {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 16) if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++;
  }
  return n;
}"""


@pytest.fixture(scope="module")
def parcel(demo_data, django_db_blocker):
    from layers.models import Parcel

    with django_db_blocker.unblock():
        p = Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[30]
        return {"id": p.parcel_id}


LAYER = "name => window.gisportalMap.getLayers().getArray().find(l => l.get('name') === name)"


def _wait_for_map(page):
    page.wait_for_function(f"() => ({NON_WHITE})() > 200", timeout=30000)


def test_map_shows_parcels_search_and_info(browser, live_url, parcel):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="pl-PL")
    page.goto(f"{live_url}/")
    _wait_for_map(page)
    page.screenshot(path=str(ARTIFACTS / "map-first-load.png"))
    page.fill("#search-q", parcel["id"])
    page.wait_for_selector("#search-results li[data-i='0']")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.gisportalMap.getView().getResolution() < 1")
    n = page.evaluate(f"({LAYER})('highlight').getSource().getFeatures().length")
    assert n == 1  # highlighted
    assert parcel["id"] in page.inner_text("#info-body")
    _wait_for_map(page)
    page.screenshot(path=str(ARTIFACTS / "map-search-highlight.png"))
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "() => document.getElementById('info-body').innerText.includes('Identyfikator działki')"
    )
    assert parcel["id"] in page.inner_text("#info-body")
    assert page.locator("#info-body a[href^='/uslugi/wypis-wyrys-mpzp/?parcels=']").count() == 1
    page.screenshot(path=str(ARTIFACTS / "map-feature-info.png"))


def test_language_switch(browser, live_url):
    page = browser.new_context(locale="pl-PL").new_page()
    page.goto(f"{live_url}/")
    assert page.get_attribute("html", "lang") == "pl"
    page.locator("form.lang button").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    assert "Search" in page.inner_text("main")


def test_text_path_without_javascript(browser, live_url, parcel):
    context = browser.new_context(java_script_enabled=False, locale="pl-PL")
    page = context.new_page()
    page.goto(f"{live_url}/szukaj/")
    page.fill("#id_q", parcel["id"])
    page.locator("main form button[type=submit]").click()
    page.locator(f"main a[href='/dzialka/{parcel['id']}']").click()
    page.wait_for_url(f"**/dzialka/{parcel['id']}")
    assert parcel["id"] in page.inner_text("h1")
    page.screenshot(path=str(ARTIFACTS / "parcel-page-no-js.png"), full_page=True)
    context.close()


@pytest.mark.parametrize(
    "path", ["/", "/dzialka/{id}", "/szukaj/?q={id}", "/deklaracja-dostepnosci/", "/uslugi/", "/status/"]
)
def test_axe_no_serious_violations(browser, live_url, parcel, path):
    page = browser.new_page(locale="pl-PL")
    page.goto(live_url + path.format(id=parcel["id"]))
    if path == "/":
        _wait_for_map(page)
    page.evaluate(AXE.read_text())  # not add_script_tag: an inline <script> the page's CSP refuses
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], json.dumps(bad, ensure_ascii=False, indent=1)


def test_map_keyboard_and_outside_wms(browser, live_url, settings):
    """Arrow keys pan the focused map; an outside WMS (here our own service standing in) can be switched on."""
    settings.GISPORTAL_ORTHOPHOTO_WMS = f"{live_url}/ows"
    settings.GISPORTAL_ORTHOPHOTO_LAYER = "uzytki"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_url}/")
    _wait_for_map(page)
    before = page.evaluate("window.gisportalMap.getView().getCenter()")
    page.focus("#map")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => window.gisportalMap.getView().getCenter()[0] > {before[0]}")
    page.check("#ortho-toggle")
    assert page.evaluate(f"({LAYER})('ortho').getVisible()") is True


def test_map_on_vector_tiles(browser, live_url, settings):
    """With GISPORTAL_MAP_VECTOR_TILES the parcels and buildings come from our PUWG-1992 vector tiles."""
    settings.GISPORTAL_MAP_VECTOR_TILES = True
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    tiles = []
    page.on("response", lambda r: tiles.append(r) if "/tiles/PUWG1992/" in r.url else None)
    # The WMS image may be drawn before the first tile answers: wait for a tile response itself.
    with page.expect_response(lambda r: "/tiles/PUWG1992/" in r.url, timeout=30000) as first:
        page.goto(f"{live_url}/")
    assert first.value.status in (200, 204)
    _wait_for_map(page)
    page.wait_for_load_state("networkidle")
    assert tiles and all(r.status in (200, 204) for r in tiles)
    # the first view lies over the town: parcel tiles with parcels in them came, not only empty (204) ones
    full = [r for r in tiles if "/collections/dzialki/" in r.url and r.status == 200]
    assert full, [(r.url, r.status) for r in tiles]
    assert mapbox_vector_tile.decode(full[0].body())["dzialki"]["features"]
    assert "dzialki" not in page.evaluate(f"({LAYER})('wms').getSource().getParams().LAYERS")
