"""CQL2 text (OGC API – Features Part 3): our parser (ogc/filters/cql2.py) and the `filter` /
`filter-lang` parameters of /ogcapi/.../items, compared with what the database says."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from pygeofilter import ast, values
from pyproj import Transformer

from layers.models import Parcel
from ogc.filters.cql2 import MAX_DEPTH, CQL2Error, parse_cql2_text

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ the parser alone
def test_comparisons_logic_and_precedence():
    node = parse_cql2_text(
        "NUMER_DZIALKI = '1' OR NOT (NUMER_ARKUSZA >= 2 AND \"NAZWA_OBREBU\" <> 'O''Hara')"
    )
    assert isinstance(node, ast.Or)
    assert node.lhs == ast.Equal(ast.Attribute("NUMER_DZIALKI"), "1")
    inner = node.rhs.sub_node
    assert isinstance(inner, ast.And)
    assert inner.lhs == ast.GreaterEqual(ast.Attribute("NUMER_ARKUSZA"), 2)
    assert inner.rhs == ast.NotEqual(ast.Attribute("NAZWA_OBREBU"), "O'Hara")
    assert isinstance(parse_cql2_text("a = 1 OR b = 2 AND c = 3").rhs, ast.And)  # AND binds tighter


def test_like_between_in_null_casei():
    like = parse_cql2_text("NUMER_DZIALKI NOT LIKE '1_/%'")
    assert (like.pattern, like.wildcard, like.singlechar, like.escapechar, like.not_, like.nocase) == (
        "1_/%",
        "%",
        "_",
        "\\",
        True,
        False,
    )
    assert parse_cql2_text("CASEI(NAZWA_OBREBU) LIKE casei('ob%')").nocase is True
    between = parse_cql2_text("POLE_EWIDENCYJNE BETWEEN 0.1 AND 2")
    assert (between.low, between.high, between.not_) == (0.1, 2, False)
    in_ = parse_cql2_text("NUMER_DZIALKI NOT IN ('1', '2/3')")
    assert in_.sub_nodes == ["1", "2/3"] and in_.not_
    assert parse_cql2_text("GRUPA_REJESTROWA IS NOT NULL") == ast.IsNull(
        ast.Attribute("GRUPA_REJESTROWA"), True
    )
    casei = parse_cql2_text("CASEI(NAZWA_OBREBU) = CASEI('OBRĘB')")
    assert casei.lhs == ast.Function("lower", [ast.Attribute("NAZWA_OBREBU")]) and casei.rhs == "obręb"
    assert parse_cql2_text("TRUE") == ast.Include(False) and parse_cql2_text(
        "FALSE AND TRUE"
    ).lhs == ast.Include(True)


def test_spatial_and_temporal_literals():
    s = parse_cql2_text("S_INTERSECTS(geometry, POLYGON((21 52, 21.1 52, 21.1 52.1, 21 52)))")
    assert isinstance(s, ast.GeometryIntersects) and s.rhs.geometry["type"] == "Polygon"
    b = parse_cql2_text("S_WITHIN(geometry, BBOX(20.9, 51.9, 21.2, 52.2))")
    assert isinstance(b, ast.GeometryWithin) and b.rhs.geometry["coordinates"][0][0] == (20.9, 51.9)
    t = parse_cql2_text("T_INTERSECTS(DATA, INTERVAL('2020-01-01', '..'))")
    assert isinstance(t, ast.Not) and isinstance(t.sub_node, ast.TimeDisjoint)
    assert t.sub_node.rhs == values.Interval(date(2020, 1, 1), None)
    after = parse_cql2_text("T_AFTER(DATA, TIMESTAMP('2020-05-01T10:00:00Z'))")
    assert isinstance(after, ast.TimeAfter) and after.rhs == datetime.fromisoformat(
        "2020-05-01T10:00:00+00:00"
    )
    flipped = parse_cql2_text("T_BEFORE(DATE('2020-01-01'), DATA)")  # the instant first: DATA after it
    assert isinstance(flipped, ast.TimeAfter) and flipped.lhs == ast.Attribute("DATA")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "NUMER_DZIALKI =",
        "NUMER_DZIALKI = '1",
        "(NUMER_DZIALKI = '1'",
        "NUMER_DZIALKI = '1')",
        "NUMER_DZIALKI == 1",
        "NUMER_DZIALKI ; DROP TABLE x",
        "exec(x)",
        "ACCENTI(NAZWA_OBREBU) = 'a'",
        "A_CONTAINS(x, ('a'))",
        "S_INTERSECTS(geometry, POINT(21))",
        "S_INTERSECTS(geometry, BBOX(1, 2, 3))",
        "T_AFTER(DATA, DATE('2020-13-45'))",
        "NUMER_DZIALKI NOT = '1'",
        "S_INTERSECTS(geometry, POINT(21 52); DELETE)",
    ],
)
def test_malformed_text_is_a_clear_error(text):
    with pytest.raises(CQL2Error) as e:
        parse_cql2_text(text)
    assert str(e.value) and "Traceback" not in str(e.value)


def test_nesting_and_size_are_capped_while_parsing():
    parse_cql2_text("(" * MAX_DEPTH + "a = 1" + ")" * MAX_DEPTH)
    with pytest.raises(CQL2Error):
        parse_cql2_text("(" * 1600 + "a = 1" + ")" * 1600)
    with pytest.raises(CQL2Error):
        parse_cql2_text("NOT " * 1600 + "a = 1")
    with pytest.raises(CQL2Error):
        parse_cql2_text(" OR ".join(f"a = {i}" for i in range(10_000)))


# ------------------------------------------------------------------ through /ogcapi
@pytest.fixture(scope="module")
def parcel(demo_data, django_db_blocker):
    with django_db_blocker.unblock():
        p = Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[25]
        inner = p.geom.point_on_surface
        return {
            "id": p.parcel_id,
            "number": p.number,
            "x": inner.x,
            "y": inner.y,
            "precinct": p.precinct.name,
            "area": p.area_ha,
            "start": p.start_version,
            "pk": p.pk,
        }


def ids(client, filter_, lang=None, limit=1000, **more):
    params = {"filter": filter_, "limit": limit, **more}
    if lang:
        params["filter-lang"] = lang
    r = client.get("/ogcapi/collections/dzialki/items", params)
    assert r.status_code == 200, r.content[:300]
    return [f["id"] for f in r.json()["features"]]


def test_cql2_text_finds_what_the_database_finds(client, parcel):
    assert ids(client, f"ID_DZIALKI = '{parcel['id']}'", "cql2-text") == [parcel["id"]]
    lon, lat = Transformer.from_crs(2180, 4326, always_xy=True).transform(parcel["x"], parcel["y"])
    assert parcel["id"] in ids(client, f"S_INTERSECTS(geometry, POINT({lon} {lat}))")
    assert parcel["id"] in ids(
        client, f"S_INTERSECTS(geometry, BBOX({lon - 1e-5}, {lat - 1e-5}, {lon + 1e-5}, {lat + 1e-5}))"
    )
    current = Parcel.objects.current()
    expected = set(
        current.filter(precinct__name__iexact=parcel["precinct"], number__regex=r"^1.$").values_list(
            "parcel_id", flat=True
        )
    )
    got = ids(
        client, f"CASEI(NAZWA_OBREBU) = CASEI('{parcel['precinct'].upper()}') AND NUMER_DZIALKI LIKE '1_'"
    )
    assert set(got) == expected and expected
    got = ids(
        client,
        f"ID_DZIALKI IN ('{parcel['id']}', 'nie-ma') AND POLE_EWIDENCYJNE BETWEEN {parcel['area']} AND {parcel['area']}",
    )
    assert got == [parcel["id"]]


def test_temporal_operators_on_the_version_date(client, parcel):
    day = parcel["start"].date().isoformat()
    precinct = f"NAZWA_OBREBU = '{parcel['precinct']}'"
    everyone = set(ids(client, precinct))
    on_or_after = set(ids(client, f"{precinct} AND T_INTERSECTS(DATA, INTERVAL('{day}', '..'))"))
    before = set(ids(client, f"{precinct} AND T_BEFORE(DATA, DATE('{day}'))"))
    qs = Parcel.objects.current().filter(precinct__name=parcel["precinct"])
    assert on_or_after == set(qs.filter(start_version__date__gte=day).values_list("parcel_id", flat=True))
    assert before == set(qs.filter(start_version__date__lt=day).values_list("parcel_id", flat=True))
    assert on_or_after | before == everyone and parcel["id"] in on_or_after


def test_cql2_json_in_the_query_and_ecql_still_read(client, parcel):
    cql = json.dumps({"op": "=", "args": [{"property": "ID_DZIALKI"}, parcel["id"]]})
    assert ids(client, cql, "cql2-json") == [parcel["id"]]
    lon, lat = Transformer.from_crs(2180, 4326, always_xy=True).transform(parcel["x"], parcel["y"])
    assert parcel["id"] in ids(
        client, f"INTERSECTS(geometry, POINT({lon} {lat}))"
    )  # ECQL without filter-lang
    assert parcel["id"] in ids(client, f"INTERSECTS(geometry, POINT({lon} {lat}))", "cql-text")
    # filter-crs: the literal in EPSG:2180, authority order (northing, easting)
    assert parcel["id"] in ids(
        client,
        f"S_INTERSECTS(geometry, POINT({parcel['y']} {parcel['x']}))",
        "cql2-text",
        **{"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/2180"},
    )


@pytest.mark.parametrize(
    "params",
    [
        {"filter": "NUMER_DZIALKI = '1'", "filter-lang": "sql"},
        {"filter-lang": "cql3-text"},
        {"filter": "S_INTERSECTS(geometry, POINT(21 52)", "filter-lang": "cql2-text"},
        {"filter": "NUMER_DZIALKI = '1' OR '1'='1'", "filter-lang": "cql2-text"},
        {"filter": "KW = 'WA1P/00000001/1'", "filter-lang": "cql2-text"},
        {"filter": "NUMER_ARKUSZA = 'abc'", "filter-lang": "cql2-text"},
        {"filter": "T_AFTER(NUMER_DZIALKI, DATE('2020-01-01'))", "filter-lang": "cql2-text"},
        {"filter": "ACCENTI(NAZWA_OBREBU) = 'a'"},
        {"filter": "(" * 1600 + "NUMER_DZIALKI = '1'" + ")" * 1600},
        {"filter": '{"op": "="', "filter-lang": "cql2-json"},
        {"filter": "NUMER_DZIALKI = '1'; DROP TABLE layers_parcel", "filter-lang": "cql2-text"},
    ],
)
def test_bad_filters_are_400_with_a_problem(client, demo_data, params):
    r = client.get("/ogcapi/collections/dzialki/items", params)
    assert r.status_code == 400, (params, r.content[:200])
    body = r.json()
    assert body["code"] in ("InvalidParameterValue", "InvalidQuery") and body["description"]
    assert "Traceback" not in r.content.decode() and "SELECT" not in r.content.decode()
    assert Parcel.objects.exists()
