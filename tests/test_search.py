"""Forgiving search (issue 23): what people really type finds the parcel, address or precinct they mean,
with or without Polish letters, in any case, with a typo; `/api/search` adds `parcel_id` and links every
hit; `/szukaj/` links every result, names its kind, counts and, when nothing is found, suggests spellings
that do find something. Hostile input is a 4xx or an empty answer, never a 500, and changes nothing.

Against the synthetic Piaseczno data of the test session (tests/conftest.py: 2000 parcels, seed 7).
Precinct ids are fixed by the generator: 141804_4.00NN are the town's "Piaseczno NN", 141804_5.0001
"Józefosław I", 0002 "Józefosław II", 0006 "Józefosław III", 0011 "Zawady" (numbered per map sheet),
0014 "Łbiska", 0024 "Głosków", 0025 "Głosków-Letnisko", 0031 "Zalesie Górne"."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from layers.models import AddressPoint, Parcel, Precinct
from layers.search import parse
from layers.selectors import SEARCH_LIMIT, search_registry

pytestmark = pytest.mark.django_db

# the objects the table below expects; test_the_expected_objects_exist checks they are in the data
PARCELS = {
    "141804_4.0001.12",
    "141804_5.0001.12",
    "141804_5.0006.12",
    "141804_4.0004.12/1",
    "141804_4.0009.12/1",
    "141804_5.0011.AR_1.12",
    "141804_5.0014.3",
}
ADDRESSES = {  # (street, number) in Piaseczno
    ("Kościuszki", "5"),
    ("Armii Krajowej", "3"),
    ("Żeromskiego", "2"),
    ("Słoneczna", "4"),
    ("Kościuszki", "1"),
}

# (what is typed, kind of the first hit, its id: a parcel or precinct id, or (street, number) of an address)
SPELLINGS = [
    # parcel identifiers in any common spelling
    ("141804_5.0001.12", "parcel", "141804_5.0001.12"),
    ("141804_5 0001 12", "parcel", "141804_5.0001.12"),
    ("141804_5.0001 12", "parcel", "141804_5.0001.12"),
    ("  141804_5 . 0001 . 12 ", "parcel", "141804_5.0001.12"),
    ("141804_4.0004.12/1", "parcel", "141804_4.0004.12/1"),
    ("141804_4.0004.12 / 1", "parcel", "141804_4.0004.12/1"),
    ("141804_5.0011.AR_1.12", "parcel", "141804_5.0011.AR_1.12"),
    ("141804_5.0011 AR 1 12", "parcel", "141804_5.0011.AR_1.12"),
    ("141804_5.0011.ar_1.12", "parcel", "141804_5.0011.AR_1.12"),
    ("141804_4.0001.1", "parcel", "141804_4.0001.1"),  # a prefix: the id itself first
    # precinct number and parcel number (both precincts 0001, the town's first)
    ("0001 12", "parcel", "141804_4.0001.12"),
    ("obręb 0001 dz. 12", "parcel", "141804_4.0001.12"),
    ("obreb 0001 dzialka 12", "parcel", "141804_4.0001.12"),
    ("obr. 1 dz. 12", "parcel", "141804_4.0001.12"),
    # a parcel number alone: across precincts, in identifier order
    ("12/1", "parcel", "141804_4.0004.12/1"),
    ("dz. 12/1", "parcel", "141804_4.0004.12/1"),
    ("działka nr 12/1", "parcel", "141804_4.0004.12/1"),
    # a place and a parcel number
    ("Piaseczno 12/1", "parcel", "141804_4.0004.12/1"),
    ("piaseczno 12/1", "parcel", "141804_4.0004.12/1"),
    ("PIASECZNO 12/1", "parcel", "141804_4.0004.12/1"),
    ("Piaseczno 04 12/1", "parcel", "141804_4.0004.12/1"),
    ("Piaseczno 09 12/1", "parcel", "141804_4.0009.12/1"),  # the exact precinct beats the id order
    ("Piaseczno 01 12", "parcel", "141804_4.0001.12"),
    ("Józefosław I 12", "parcel", "141804_5.0001.12"),
    ("Jozefoslaw I 12", "parcel", "141804_5.0001.12"),
    ("józefosław i dz. 12", "parcel", "141804_5.0001.12"),
    ("Jozefoslw I 12", "parcel", "141804_5.0001.12"),  # a letter missing
    ("Józefosław III 12", "parcel", "141804_5.0006.12"),
    ("Józefosław 12", "parcel", "141804_5.0001.12"),  # the locality's precincts; the address comes after
    ("Zawady ark. 1 dz. 12", "parcel", "141804_5.0011.AR_1.12"),
    ("Zawady AR_1 12", "parcel", "141804_5.0011.AR_1.12"),
    ("Łbiska 3", "parcel", "141804_5.0014.3"),
    ("Lbiska 3", "parcel", "141804_5.0014.3"),
    # a street and a house number, with or without "ul."/"al.", the locality before or after
    ("Kościuszki 5", "address", ("Kościuszki", "5")),
    ("ul. Kościuszki 5", "address", ("Kościuszki", "5")),
    ("ulica Kościuszki 5", "address", ("Kościuszki", "5")),
    ("UL. KOŚCIUSZKI 5", "address", ("Kościuszki", "5")),
    ("Kosciuszki 5", "address", ("Kościuszki", "5")),
    ("Kościuszki 5 Piaseczno", "address", ("Kościuszki", "5")),
    ("ul. Kościuszki 5, Piaseczno", "address", ("Kościuszki", "5")),
    ("Piaseczno, Kościuszki 5", "address", ("Kościuszki", "5")),
    ("Piaseczno ul. Kościuszki 5", "address", ("Kościuszki", "5")),
    ("Kościuszki 5, 05-500 Piaseczno", "address", ("Kościuszki", "5")),
    ("Kosciuzki 5", "address", ("Kościuszki", "5")),  # a letter missing
    ("Kościuszko 5", "address", ("Kościuszki", "5")),  # a letter wrong
    ("Kościuszki 5/3", "address", ("Kościuszki", "5")),  # with a flat number
    ("Kościuszki 5a", "address", ("Kościuszki", "5")),  # a letter the register does not have
    ("al. Armii Krajowej 3", "address", ("Armii Krajowej", "3")),
    ("Armii Krajowej 3", "address", ("Armii Krajowej", "3")),
    ("Krajowej 3", "address", ("Armii Krajowej", "3")),
    ("Zeromskiego 2", "address", ("Żeromskiego", "2")),
    ("Żeromskiego 2", "address", ("Żeromskiego", "2")),
    ("Sloneczna 4", "address", ("Słoneczna", "4")),
    # a street alone, or its start as one types it: its addresses in order of number
    ("Kościuszki", "address", ("Kościuszki", "1")),
    ("ul. Kosciuszki", "address", ("Kościuszki", "1")),
    ("Kośc", "address", ("Kościuszki", "1")),
    # precincts and localities by name
    ("Jozefoslaw", "precinct", "141804_5.0001"),
    ("Józefosław", "precinct", "141804_5.0001"),
    ("JÓZEFOSŁAW", "precinct", "141804_5.0001"),
    ("Jo\u0301zefosław", "precinct", "141804_5.0001"),  # decomposed: o + combining acute
    ("józefosław ii", "precinct", "141804_5.0002"),
    ("Zalesie Górne", "precinct", "141804_5.0031"),
    ("zalesie gorne", "precinct", "141804_5.0031"),
    ("Zalesie Grne", "precinct", "141804_5.0031"),  # a letter missing
    ("Gloskow", "precinct", "141804_5.0024"),  # the exact name before Głosków-Letnisko
    ("Głosków-Letnisko", "precinct", "141804_5.0025"),
    ("Piaseczno 01", "precinct", "141804_4.0001"),
    ("Piase", "precinct", "141804_4.0001"),  # typing
    ("141804_5.0001", "precinct", "141804_5.0001"),
    ("obręb 0001", "precinct", "141804_4.0001"),
]


def _address(street: str, number: str) -> AddressPoint:
    return AddressPoint.objects.current().get(locality="Piaseczno", street=street, number=number)


def _expected_id(kind: str, ident) -> str:
    return _address(*ident).local_id if kind == "address" else ident


def test_the_expected_objects_exist(demo_data):
    """The table's expectations are real objects of the data (so a failure below is the search's)."""
    assert (
        set(Parcel.objects.current().filter(parcel_id__in=PARCELS).values_list("parcel_id", flat=True))
        == PARCELS
    )
    for street, number in ADDRESSES:
        assert _address(street, number)
    # "12/1" lists parcels in id order: 141804_4.0004.12/1 is the first parcel numbered 12/1
    assert Parcel.objects.current().filter(number="12/1").order_by("parcel_id").first().parcel_id == (
        "141804_4.0004.12/1"
    )
    assert not Parcel.objects.current().filter(precinct__precinct_id="141804_4.0001", number="12/1").exists()


@pytest.mark.parametrize(("text", "kind", "ident"), SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_a_real_world_spelling_finds_it_first(client, demo_data, text, kind, ident):
    body = client.get("/api/search", {"q": text}).json()
    assert body["results"], f"nothing found for {text!r}"
    first = body["results"][0]
    assert (first["kind"], first["id"]) == (kind, _expected_id(kind, ident)), [
        (h["kind"], h["label"]) for h in body["results"][:4]
    ]
    assert len(body["results"]) <= SEARCH_LIMIT


def test_both_readings_of_a_place_and_number_are_offered(demo_data):
    """ "Józefosław 12": the parcels numbered 12 in the Józefosław precincts, and the house Józefosław 12."""
    hits = search_registry("Józefosław 12")
    house = AddressPoint.objects.current().get(locality="Józefosław", street="", number="12")
    assert [h["id"] for h in hits[:2]] == ["141804_5.0001.12", "141804_5.0006.12"]
    assert house.local_id in [h["id"] for h in hits if h["kind"] == "address"]
    zero_two = [h for h in hits if h["id"].startswith("141804_5.0002.")]
    assert zero_two == []  # Józefosław II has no parcel 12: nothing made up


def test_a_number_alone_lists_that_number_across_precincts(demo_data):
    hits = search_registry("12/1")
    expected = list(
        Parcel.objects.current()
        .filter(number="12/1")
        .order_by("parcel_id")
        .values_list("parcel_id", flat=True)
    )[:SEARCH_LIMIT]
    assert [h["id"] for h in hits] == expected and len(expected) > 3
    assert all(h["kind"] == "parcel" for h in hits)


def test_an_id_prefix_lists_only_parcels_starting_so(demo_data):
    hits = search_registry("141804_4.0001.")
    assert len(hits) == SEARCH_LIMIT and all(h["id"].startswith("141804_4.0001.") for h in hits)
    # `_` and `%` in what is typed are no wildcards
    assert search_registry("141804_4.0001._") == [] and search_registry("141804_4.0001.%") == []
    assert search_registry("141804_4_0001") == []


def test_typing_a_street_lists_its_houses_in_number_order(demo_data):
    hits = search_registry("Kośc")
    numbers = [int(h["label"].split(",")[0].rsplit(" ", 1)[1]) for h in hits]
    assert numbers == sorted(numbers) and numbers[0] == 1 and all("Kościuszki" in h["label"] for h in hits)


def test_a_wrong_house_number_still_shows_the_street(demo_data):
    hits = search_registry("Kościuszki 999")
    assert hits and all(h["kind"] == "address" and h["label"].startswith("Kościuszki ") for h in hits)


# ------------------------------------------------------------------ the hits' links and parcel_id
def test_an_address_hit_links_the_parcel_it_stands_on(client, demo_data):
    a = _address("Kościuszki", "5")
    hit = client.get("/api/search", {"q": "ul. Kościuszki 5"}).json()["results"][0]
    under = Parcel.objects.current().filter(geom__intersects=a.geom).order_by("parcel_id").first()
    assert hit["id"] == a.local_id and hit["parcel_id"] == under.parcel_id
    assert hit["url"] == f"/dzialka/{under.parcel_id}" and hit["geometry"]["type"] == "Point"
    assert hit["label"] == "Kościuszki 5, 05-500 Piaseczno"
    assert client.get(hit["url"]).status_code == 200  # the link leads to the parcel's page


def test_every_address_hit_has_its_own_parcel(demo_data):
    for hit in search_registry("Okulickiego"):
        point = AddressPoint.objects.get(local_id=hit["id"]).geom
        assert Parcel.objects.current().get(parcel_id=hit["parcel_id"]).geom.intersects(point)


def test_a_parcel_hit_is_its_own_parcel(client, demo_data):
    hit = client.get("/api/search", {"q": "141804_5.0001.12"}).json()["results"][0]
    assert hit["parcel_id"] == hit["id"] == "141804_5.0001.12" and hit["url"] == "/dzialka/141804_5.0001.12"
    assert hit["label"] == "Józefosław I 12 (141804_5.0001.12)" and hit["geometry"]["type"] == "MultiPolygon"
    x0, y0, x1, y1 = hit["bbox"]
    assert 600_000 < x0 < x1 < 700_000 and 400_000 < y0 < y1 < 520_000  # EPSG:2180, x = easting


def test_a_precinct_hit_opens_the_map_at_its_box(client, demo_data):
    hit = client.get("/api/search", {"q": "Zalesie Górne"}).json()["results"][0]
    assert hit["kind"] == "precinct" and hit["parcel_id"] is None
    url = urlsplit(hit["url"])
    assert url.path == "/" and set(parse_qs(url.query)) == {"bbox"}
    x0, y0, x1, y1 = (int(v) for v in parse_qs(url.query)["bbox"][0].split(","))
    bx0, by0, bx1, by1 = hit["bbox"]
    assert x0 <= bx0 < bx1 <= x1 and y0 <= by0 < by1 <= y1 and x1 - bx1 < 1 and bx0 - x0 < 1
    extent = Precinct.objects.current().get(precinct_id="141804_5.0031").geom.extent
    assert [round(v, 1) for v in hit["bbox"]] == [round(v, 1) for v in extent]
    assert 600_000 < x0 < 700_000 and 400_000 < y0 < 520_000  # x = easting


def test_the_api_documents_parcel_id(client, demo_data):
    doc = client.get("/api/schema/").json()
    hit = doc["components"]["schemas"]["SearchHit"]
    assert set(hit["properties"]) == {"kind", "label", "id", "bbox", "geometry", "url", "parcel_id"}
    assert "parcel_id" not in hit.get("required", [])  # additive: old clients keep working
    assert set(hit["required"]) >= {"kind", "label", "id", "bbox", "geometry", "url"}
    for h in client.get("/api/search", {"q": "Józefosław 12"}).json()["results"]:
        assert set(h) == set(hit["properties"])


# ------------------------------------------------------------------ hostile and odd input
NOTHING = [
    "",
    "   ",
    "x",
    "ą",
    "qwertyuiop zxcvbnm",
    "%",
    "%%",
    "_",
    "__",
    "%_%",
    "\\",
    "'; DROP TABLE layers_parcel; --",
    "' OR 1=1 --",
    "ul.",
    "北京市",
    "\u0301\u0301",  # combining accents alone: nothing once folded
    "-- ..",
    "🏠🏠",
    "a" * 150,
]


@pytest.mark.parametrize("text", NOTHING, ids=[repr(t[:20]) for t in NOTHING])
def test_nonsense_finds_nothing_and_breaks_nothing(client, demo_data, text):
    count = Parcel.objects.count()
    r = client.get("/api/search", {"q": text})
    assert r.status_code == 200 and r.json()["results"] == [] and r.json()["query"] == text[:100]
    assert client.get("/szukaj/", {"q": text}).status_code == 200
    assert Parcel.objects.count() == count


@pytest.mark.parametrize(
    "text",
    [
        "Kościuszki 5" + " x" * 80,
        "9" * 200,
        "1" * 7 + "/" + "2" * 7,
        "Kościuszki 5\t\u200b\u00a0",
        "１２/１",
        "5 " * 60,
    ],
    ids=["long", "digits", "long-number", "odd-spaces", "fullwidth", "many-numbers"],
)
def test_long_or_odd_input_is_answered(client, demo_data, text):
    r = client.get("/api/search", {"q": text})
    assert r.status_code == 200 and isinstance(r.json()["results"], list)


def test_fullwidth_digits_are_digits(demo_data):
    assert search_registry("１２/１")[0]["id"] == "141804_4.0004.12/1"


@pytest.mark.parametrize("path", ["/api/search", "/szukaj/"])
def test_nul_is_a_4xx(client, demo_data, path):
    r = client.get(path, {"q": "Kościuszki\x005"})
    assert 400 <= r.status_code < 500


def test_the_parser_keeps_to_its_readings():
    q = parse("ul. Kościuszki 5 Piaseczno")
    assert (q.words, q.house_numbers, q.number, q.place) == (
        "Kościuszki Piaseczno",
        ("5",),
        "5",
        "Kościuszki",
    )
    q = parse("141804_5 0001 AR 2 12/3")
    assert q.parcel_id == "141804_5.0001.AR_2.12/3" and not q.name
    assert parse("obręb 12 dz. 7/1").precinct_no == "0012" and parse("obręb 12 dz. 7/1").number == "7/1"
    assert parse("x").empty and parse("ul. nr").empty and parse("%").empty
    assert parse("a" * 500).text == "a" * 100


# ------------------------------------------------------------------ the text path: /szukaj/
def _results(html: str) -> list[str]:
    body = html.split('id="results-heading"')[1]
    return re.findall(r"<li>(.*?)</li>", body.split("</ol>")[0], re.S)


def test_the_page_links_every_result_and_names_its_kind(client, demo_data):
    html = client.get("/szukaj/", {"q": "Józefosław 12"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    items = _results(html)
    hits = search_registry("Józefosław 12")
    assert len(items) == len(hits) > 3
    for item, hit in zip(items, hits, strict=True):
        assert f'href="{hit["url"]}"' in item.replace("&amp;", "&")
        word = {"parcel": "Parcel:", "address": "Address:", "precinct": "Precinct:"}[hit["kind"]]
        assert word in item
    address = next(i for i, h in zip(items, hits, strict=True) if h["kind"] == "address")
    assert "on parcel 141804_5." in address
    assert f"{len(hits)} results for “Józefosław 12”." in html
    assert (
        '<label for="id_q">' in html
        and 'role="search"' in html
        and "<h1>" in html
        and '<ol class="hits">' in html
    )


def test_the_page_says_one_result(client, demo_data):
    html = client.get("/szukaj/", {"q": "141804_5.0001.12"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 result for “141804_5.0001.12”." in html and 'href="/dzialka/141804_5.0001.12"' in html


def test_the_page_links_a_precinct_to_the_map(client, demo_data):
    html = client.get("/szukaj/", {"q": "Zalesie Górne"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    first = _results(html)[0]
    assert re.search(r'href="/\?bbox=\d+,\d+,\d+,\d+"', first) and "Precinct:" in first


def test_nothing_found_suggests_spellings_that_find_something(client, demo_data):
    html = client.get("/szukaj/", {"q": "qwertyuiop"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "0 results for “qwertyuiop”." in html and "Nothing found." in html
    suggestions = re.findall(
        r'<a href="\?q=([^"]+)">', html.split('class="suggestions"')[1].split("</ul>")[0]
    )
    assert len(suggestions) >= 4
    for s in suggestions:
        page = client.get("/szukaj/?q=" + s, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert _results(page), f"the suggestion {s} finds nothing"


def test_the_page_escapes_what_was_typed(client, demo_data):
    html = client.get("/szukaj/", {"q": "<script>alert(1)</script> 5"}).content.decode()
    main = html.split("<main")[1]
    assert "<script>alert" not in main and "&lt;script&gt;" in main


def test_no_results_section_before_asking(client, demo_data):
    html = client.get("/szukaj/").content.decode()
    assert 'id="results-heading"' not in html and '<label for="id_q">' in html
