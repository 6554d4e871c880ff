"""Stored XSS through the OGC API HTML pages: an imported attribute (a zoning plan's name) holding
markup is shown escaped, and no script on the page carries data. Our templates (ogc/ogcapi/templates/
pygeoapi/) replace pygeoapi's, which put feature properties into an inline <script> with |safe."""

from __future__ import annotations

import json
from datetime import date
from html.parser import HTMLParser

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon

from layers.models import ZoningArea, ZoningPlan

pytestmark = pytest.mark.django_db

SCRIPT = "</script><script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD = f"Plan {SCRIPT} {IMG}"


class Page(HTMLParser):
    """Every element with its attributes, and the text of each <script>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self._script: dict | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag == "script":
            self._script, self._text = attrs, []

    def handle_data(self, data):
        if self._script is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._text)))
            self._script = None


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def assert_no_script_carries_data(html: str) -> Page:
    """Scripts are files of our own (src, empty body) or JSON data blocks that parse and hold no '<';
    no element has an on* handler or a style attribute (the CSP would block them anyway)."""
    page = parse(html)
    for attrs, body in page.scripts:
        if attrs.get("src"):
            assert attrs["src"].startswith("/static/") and not body.strip(), attrs
        else:
            assert attrs.get("type") == "application/json", f"inline script: {body[:200]}"
            assert "<" not in body and ">" not in body and "&" not in body, body[:200]
            json.loads(body)
    for tag, attrs in page.elements:
        handlers = [a for a in attrs if a.startswith("on")]
        assert not handlers and "style" not in attrs, (tag, attrs)
    return page


@pytest.fixture
def evil_zone(demo_data):
    """A zoning plan as an import could bring it, with markup in its name and in the zone's designation."""
    square = MultiPolygon(Polygon.from_bbox((638300, 470100, 638400, 470200)), srid=2180)
    plan = ZoningPlan.objects.create(
        plan_id="XSS/1",
        name=PAYLOAD,
        teryt_gmina="1418043",
        resolution_no=IMG,
        resolution_date=date(2024, 5, 1),
        geom=square,
    )
    return ZoningArea.objects.create(plan=plan, label="1MN", symbol="MN", description=SCRIPT, geom=square)


def assert_escaped(html: str) -> None:
    assert SCRIPT not in html and "<img src=x" not in html and "alert(1)</script>" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


def test_items_page_shows_the_payload_escaped(client, evil_zone):
    r = client.get("/ogcapi/collections/mpzp/items", {"f": "html", "ID_TERENU": evil_zone.pk})
    html = r.content.decode()
    assert r.status_code == 200 and r["Content-Type"].startswith("text/html")
    assert_escaped(html)
    page = assert_no_script_carries_data(html)
    blocks = [json.loads(body) for attrs, body in page.scripts if attrs.get("type") == "application/json"]
    assert len(blocks) == 1 and [f["id"] for f in blocks[0]["features"]] == [str(evil_zone.pk)]
    assert "PLAN" not in json.dumps(
        blocks[0]
    )  # the map gets geometries and ids; properties stay in the table


def test_item_page_shows_the_payload_escaped(client, evil_zone):
    r = client.get(f"/ogcapi/collections/mpzp/items/{evil_zone.pk}", {"f": "html"})
    html = r.content.decode()
    assert r.status_code == 200
    assert_escaped(html)
    assert_no_script_carries_data(html)


def test_items_page_in_english_is_escaped_too(client, evil_zone):
    r = client.get("/ogcapi/collections/mpzp/items", {"f": "html", "lang": "en", "ID_TERENU": evil_zone.pk})
    assert r.status_code == 200 and "Items in this collection" in r.content.decode()
    assert_escaped(r.content.decode())
    polish = client.get(
        "/ogcapi/collections/mpzp/items", {"f": "html", "ID_TERENU": evil_zone.pk}
    ).content.decode()
    assert "Obiekty w tej kolekcji" in polish  # our templates are translated from django.po


def _render(template: str, data: dict) -> str:
    from pygeoapi.util import render_j2_template

    from ogc.ogcapi.config import api

    a = api()
    return render_j2_template(a.tpl_config, a.config["server"]["templates"], template, data, "pl")


def test_json_block_is_escaped_for_its_script_context(demo_data):
    """Identifiers do reach the map's JSON block: one holding </script> or <!-- must not end it."""
    evil_id = f"{SCRIPT}<!--{IMG}&"
    feature = {
        "type": "Feature",
        "id": evil_id,
        "geometry": {"type": "Point", "coordinates": [21.0, 52.0]},
        "properties": {"ID_DZIALKI": evil_id, "NAZWA": PAYLOAD},
    }
    data = {
        "type": "FeatureCollection",
        "features": [feature],
        "numberMatched": 1,
        "links": [
            {
                "rel": "collection",
                "title": PAYLOAD,
                "href": "/ogcapi/collections/dzialki",
                "type": "application/json",
            }
        ],
        "items_path": "/ogcapi/collections/dzialki/items",
        "dataset_path": "/ogcapi/collections/dzialki",
        "collections_path": "/ogcapi/collections",
        "offset": 0,
        "id_field": "ID_DZIALKI",
    }
    html = _render("collections/items/index.html", data)
    assert SCRIPT not in html and "<img src=x" not in html and "<!--" not in html
    page = assert_no_script_carries_data(html)
    block = next(body for attrs, body in page.scripts if attrs.get("type") == "application/json")
    assert "\\u003c/script\\u003e" in block and json.loads(block)["features"][0]["id"] == evil_id
    item = _render(
        "collections/items/item.html",
        {
            **feature,
            "links": data["links"],
            "id_field": "ID_DZIALKI",
            "collections_path": "/ogcapi/collections",
        },
    )
    assert SCRIPT not in item and "<img src=x" not in item
    block = next(
        body
        for attrs, body in assert_no_script_carries_data(item).scripts
        if attrs.get("type") == "application/json"
    )
    assert json.loads(block)["features"][0]["id"] == evil_id


def test_urls_in_properties_are_links_never_scripts(demo_data):
    """The item page turns http(s) addresses into links (urlize); a javascript: one stays text."""
    feature = {
        "type": "Feature",
        "id": "1",
        "geometry": None,
        "links": [],
        "id_field": "ID",
        "collections_path": "/ogcapi/collections",
        "properties": {
            "ID": "1",
            "A": "javascript:alert(1)",
            "B": "https://example.pl/plan?a=1&b=<x>",
            "C": {"nested": SCRIPT},
            "D": [IMG],
        },
    }
    html = _render("collections/items/item.html", feature)
    page = assert_no_script_carries_data(html)
    hrefs = [attrs.get("href", "") for tag, attrs in page.elements if tag == "a"]
    assert not any(h.lower().startswith("javascript") for h in hrefs)
    assert SCRIPT not in html and "<img src=x" not in html
