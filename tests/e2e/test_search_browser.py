"""The search page (/szukaj/, the text path of the map's search) in a real browser: typed into and sent
with the keyboard, every result a link that leads somewhere, nothing found answered with suggestions;
no sideways scrolling on a desktop, a phone and a 360 px screen, and no axe-core WCAG 2.1 A/AA violation."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import ARTIFACTS, CHROMIUM

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENS = {"desktop": (1366, 900), "phone": (390, 844), "narrow": (360, 740)}
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


def _checked(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        f"{name} scrolls sideways"
    )
    page.evaluate(AXE.read_text())  # not an inline <script>: the page's CSP refuses those
    violations = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target).slice(0, 3).join(' '))",
        WCAG,
    )
    assert violations == [], f"{name}: {violations}"


@pytest.mark.parametrize("screen", list(SCREENS))
def test_search_page_by_keyboard_links_and_suggestions(browser, live_url, screen):
    width, height = SCREENS[screen]
    page = browser.new_page(viewport={"width": width, "height": height}, locale="pl-PL")
    page.goto(f"{live_url}/szukaj/")
    _checked(page, f"search-empty-{screen}")
    page.focus("#id_q")
    page.keyboard.type("Jozefoslaw 12")
    page.keyboard.press("Enter")
    page.wait_for_selector("ol.hits li a")
    assert "Jozefoslaw 12" in page.title()
    links = page.locator("ol.hits li a")
    assert links.count() >= 4
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs[0] == "/dzialka/141804_5.0001.12" and any(h.startswith("/?bbox=") for h in hrefs)
    _checked(page, f"search-results-{screen}")
    links.first.focus()
    page.keyboard.press("Enter")  # the first result, by keyboard
    page.wait_for_url("**/dzialka/141804_5.0001.12")
    assert "141804_5.0001.12" in page.inner_text("main")
    page.goto(f"{live_url}/szukaj/?q=qwertyuiop")
    assert page.locator("ol.hits").count() == 0 and page.locator("ul.suggestions a").count() >= 4
    _checked(page, f"search-nothing-{screen}")
    page.locator("ul.suggestions a").first.click()
    page.wait_for_selector("ol.hits li a")
    page.close()
