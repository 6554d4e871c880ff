"""OGC API – Features through pygeoapi on our provider: the ets-ogcapi-features10 assertions of
OGC.md §3 (O1–O4), axis order and CRS, CQL filters, hostile inputs, OWSLib and GDAL's OAPIF driver."""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from pyproj import Transformer

from layers.models import Parcel

from .helpers import gdal_client_env

pytestmark = pytest.mark.django_db
U = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@pytest.fixture(scope="module")
def parcel(demo_data, django_db_blocker):
    with django_db_blocker.unblock():
        p = Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[40]
        inner = p.geom.point_on_surface
        first = p.geom[0].exterior_ring.coords[0]
        return {"id": p.parcel_id, "x": inner.x, "y": inner.y, "first": first}


def items(client, collection="dzialki", **params):
    return client.get(f"/ogcapi/collections/{collection}/items", params)


# ------------------------------------------------------------------ O1 landing, conformance, OpenAPI
def test_landing_page_links(client, demo_data):
    r = client.get("/ogcapi")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    links = {link["rel"]: link for link in r.json()["links"]}
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert "conformance" in links and "data" in links
    assert client.get("/ogcapi/").status_code == 200


def test_openapi_and_conformance(client, demo_data):
    doc = client.get("/ogcapi/openapi", {"f": "json"}).json()
    text = json.dumps(doc)
    params = [
        p.get("$ref", p.get("name", "")).rsplit("/", 1)[-1]
        for p in doc["paths"]["/collections/dzialki/items"]["get"]["parameters"]
    ]
    assert (
        doc["openapi"].startswith("3.0")
        and {"bbox", "limit", "datetime"} <= set(params)
        and "openapi" in text
    )
    assert {"filter", "filter-lang", "filter-crs"} <= set(params)
    classes = client.get("/ogcapi/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in classes  # filter (Part 3) with CQL2
    assert not any("features-4" in c for c in classes)  # no editing through OGC API
    again = client.get("/ogcapi/conformance").json()["conformsTo"]
    assert again == classes and len(classes) == len(set(classes))


# ------------------------------------------------------------------ O2 collections
def test_collections_crs(client, demo_data):
    body = client.get("/ogcapi/collections").json()
    ids = {c["id"] for c in body["collections"]}
    assert {
        "dzialki",
        "budynki",
        "adresy",
        "obreby",
        "mpzp",
        "granice",
    } <= ids and "numery_dzialek" not in ids
    dz = client.get("/ogcapi/collections/dzialki").json()
    assert CRS84 in dz["crs"] and dz["storageCrs"] == f"{U}2180" and dz["storageCrs"] in dz["crs"]
    assert any(link["rel"] == "items" for link in dz["links"])
    lon0, lat0, lon1, lat1 = dz["extent"]["spatial"]["bbox"][0]
    assert 20 < lon0 < lon1 < 22 and 51 < lat0 < lat1 < 53


# ------------------------------------------------------------------ O3 items
def test_items_crs84_lon_lat(client, parcel):
    r = client.get(f"/ogcapi/collections/dzialki/items/{parcel['id']}")
    f = r.json()
    assert r.status_code == 200 and f["id"] == parcel["id"] and r["Content-Crs"] == f"<{CRS84}>"
    lon, lat = Transformer.from_crs(2180, 4326, always_xy=True).transform(*parcel["first"])
    assert f["geometry"]["coordinates"][0][0][0] == pytest.approx([lon, lat], abs=1e-6)
    assert "KW" not in f["properties"] and set(f["properties"]) <= {a for a in f["properties"] if a.isupper()}


def test_items_page_links_and_counts(client, demo_data):
    body = items(client, limit=10).json()
    assert body["type"] == "FeatureCollection" and body["numberReturned"] == len(body["features"]) == 10
    assert body["numberMatched"] >= 10
    rels = {link["rel"] for link in body["links"]}
    assert {"self", "alternate", "next"} <= rels


@pytest.mark.parametrize(
    "crs, epsg, north_first",
    [(f"{U}2180", 2180, True), (f"{U}4326", 4326, True), (f"{U}3857", 3857, False), (f"{U}2178", 2178, True)],
)
def test_items_in_other_crs(client, parcel, crs, epsg, north_first):
    r = client.get(f"/ogcapi/collections/dzialki/items/{parcel['id']}", {"crs": crs})
    assert r.status_code == 200 and r["Content-Crs"] == f"<{crs}>"
    x, y = Transformer.from_crs(2180, epsg, always_xy=True).transform(*parcel["first"])
    expected = [y, x] if north_first else [x, y]
    tol = 1e-6 if epsg == 4326 else 0.02
    assert r.json()["geometry"]["coordinates"][0][0][0] == pytest.approx(expected, abs=tol)


def test_bbox_in_crs84_and_2180(client, parcel):
    lon, lat = Transformer.from_crs(2180, 4326, always_xy=True).transform(parcel["x"], parcel["y"])
    d = 0.00001
    ids = [f["id"] for f in items(client, bbox=f"{lon - d},{lat - d},{lon + d},{lat + d}").json()["features"]]
    assert parcel["id"] in ids
    x, y = parcel["x"], parcel["y"]
    ids = [
        f["id"]
        for f in items(client, bbox=f"{y - 1},{x - 1},{y + 1},{x + 1}", **{"bbox-crs": f"{U}2180"}).json()[
            "features"
        ]
    ]
    assert parcel["id"] in ids


def test_cql_filters(client, parcel):
    body = items(client, filter=f"ID_DZIALKI = '{parcel['id']}'").json()
    assert [f["id"] for f in body["features"]] == [parcel["id"]]
    lon, lat = Transformer.from_crs(2180, 4326, always_xy=True).transform(parcel["x"], parcel["y"])
    body = items(client, filter=f"INTERSECTS(geometry, POINT({lon} {lat}))").json()
    assert parcel["id"] in [f["id"] for f in body["features"]]
    cql = {"op": "=", "args": [{"property": "ID_DZIALKI"}, parcel["id"]]}
    r = client.post(
        "/ogcapi/collections/dzialki/items", json.dumps(cql), content_type="application/query-cql-json"
    )
    assert [f["id"] for f in r.json()["features"]] == [parcel["id"]]


def test_properties_sortby_skip_geometry(client, demo_data):
    body = items(client, limit=5, sortby="-ID_DZIALKI", properties="ID_DZIALKI", skipGeometry="true").json()
    ids = [f["properties"]["ID_DZIALKI"] for f in body["features"]]
    assert ids == sorted(ids, reverse=True) and all(f["geometry"] is None for f in body["features"])
    assert all(set(f["properties"]) == {"ID_DZIALKI"} for f in body["features"])


# ------------------------------------------------------------------ O4 and hostile inputs
@pytest.mark.parametrize(
    "params",
    [
        {"limit": "unlimited"},
        {"foo": "bar"},
        {"bbox-crs": "EPSG:2180", "bbox": "1,2,3,4"},
        {"crs": "EPSG:4326"},
        {"crs": f"{U}9999"},
        {"bbox": "1,2,3"},
        {"bbox": "1,2,nan,4"},
        {"datetime": "2020-13-45"},
        {"filter-lang": "sql"},
        {"sortby": "password"},
        {"properties": "KW"},
        {"filter": "ID_DZIALKI = '1' OR '1'='1"},
        {"filter": "exec(x)"},
        {"offset": "-1"},
        {"sortby": ","},
        {"sortby": ""},
        {"offset": "99999999999"},
        {"datetime": "2020-01-01T00:00:00Z/2019-01-01T00:00:00Z"},
    ],
)
def test_bad_parameters_are_400(client, demo_data, params):
    r = items(client, **params)
    assert r.status_code == 400, (params, r.content[:200])


def test_unknown_item_and_collection(client, demo_data):
    assert client.get("/ogcapi/collections/dzialki/items/nope").status_code == 404
    assert client.get("/ogcapi/collections/dzialki/items/..%2F..%2Fetc").status_code == 404
    assert client.get("/ogcapi/collections/nope/items").status_code == 404
    assert client.get("/ogcapi/collections").status_code == 200  # no trailing-slash redirect


def test_deep_and_wide_cql_json_refused(client, demo_data):
    inner = json.dumps({"op": "=", "args": [{"property": "ID_DZIALKI"}, "x"]})
    deep = '{"op": "not", "args": [' * 1600 + inner + "]}" * 1600  # ~43 KB, as in MapServer #7542
    r = client.post("/ogcapi/collections/dzialki/items", deep, content_type="application/query-cql-json")
    assert r.status_code == 400
    wide = {
        "op": "or",
        "args": [{"op": "=", "args": [{"property": "NUMER_DZIALKI"}, str(i)]} for i in range(100_000)],
    }
    r = client.post(
        "/ogcapi/collections/dzialki/items", json.dumps(wide), content_type="application/query-cql-json"
    )
    assert r.status_code == 400


# ------------------------------------------------------------------ real clients
def test_owslib_features(live_url, parcel):
    from owslib.ogcapi.features import Features

    api = Features(f"{live_url}/ogcapi", timeout=60)
    assert "dzialki" in {c["id"] for c in api.collections()["collections"]}
    page = api.collection_items("dzialki", limit=5)
    assert len(page["features"]) == 5
    one = api.collection_item("dzialki", parcel["id"])
    assert one["id"] == parcel["id"]


def test_gdal_oapif_count_and_place(live_url, parcel):
    env = gdal_client_env(GDAL_HTTP_TIMEOUT="60")
    r = subprocess.run(
        ["ogrinfo", "-ro", "-so", f"OAPIF:{live_url}/ogcapi", "dzialki"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    count = int(
        next(line for line in r.stdout.splitlines() if line.startswith("Feature Count:")).split(":")[1]
    )
    assert count == Parcel.objects.current().count()
    r = subprocess.run(
        [
            "ogrinfo",
            "-ro",
            "-q",
            f"OAPIF:{live_url}/ogcapi",
            "dzialki",
            "-where",
            f"ID_DZIALKI = '{parcel['id']}'",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0 and parcel["id"] in r.stdout


def test_datetime_filters_version_dates(client, demo_data):
    everything = items(client, limit=1, resulttype="hits").json()["numberMatched"]
    assert (
        items(client, limit=1, datetime="1900-01-01T00:00:00Z/..", resulttype="hits").json()["numberMatched"]
        == everything
    )
    assert (
        items(client, limit=1, datetime="../1900-01-01T00:00:00Z", resulttype="hits").json()["numberMatched"]
        == 0
    )


@pytest.mark.parametrize(
    "params", [{"POLE_EWIDENCYJNE": "abc"}, {"GRUPA_REJESTROWA": "1.5"}, {"DATA": "yesterday"}]
)
def test_property_filters_with_values_of_the_wrong_type(client, demo_data, params):
    assert items(client, **params).status_code == 400


# ------------------------------------------------------------------ issue 19: far boxes, datetime, types, N-first boxes
@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "-80,-5,-70,5"},
        {"bbox": "177,65,-177,70"},
        {"bbox": "-180,85,180,90"},
        {"bbox": "-180,-90,180,-85"},
        {"bbox": "-1.5,50,1.5,53"},
        {"bbox": "-80,-5,0,-70,5,100"},
        {"bbox": "-5,-80,5,-70", "bbox-crs": f"{U}4326"},
        {"bbox": "0,0,10,10", "bbox-crs": f"{U}2178"},
        {"bbox": "-9e6,-9e6,-8e6,-8e6", "bbox-crs": f"{U}2180"},
        {"bbox": "-8000000,-500000,-7000000,500000", "bbox-crs": f"{U}3857"},
    ],
)
def test_far_boxes_select_nothing(client, demo_data, params):
    """The ETS's equator box was a 400 ("not a number": 2180 has no coordinates there)."""
    r = items(client, **params)
    assert r.status_code == 200, r.content[:200]
    assert r.json()["numberReturned"] == 0 and r.json()["numberMatched"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "-180,-90,180,90"},
        {"bbox": "20.8,51.9,21.3,52.2"},
        {"bbox": "20.8,51.9,-1000,21.3,52.2,1000"},
        {"bbox": "-90,-180,90,180", "bbox-crs": f"{U}4326"},
        {"bbox": "-1e7,-1e7,1e7,1e7", "bbox-crs": f"{U}2180"},
        {"bbox": "-20037508,-20037508,20037508,20037508", "bbox-crs": f"{U}3857"},
    ],
)
def test_boxes_over_the_whole_data(client, demo_data, params):
    everything = Parcel.objects.current().count()
    r = items(client, limit=1, **params)
    assert r.status_code == 200 and r.json()["numberMatched"] == everything, r.content[:200]


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "20,91,21,92"},
        {"bbox": "20,52,21,51"},
        {"bbox": "190,52,200,53"},
        {"bbox": "10,10,5,20", "bbox-crs": f"{U}2180"},
        {"bbox": "1,2,3,4,5"},
        {"bbox": "20,52,10,21,53,0"},
        {"bbox": "20,52,inf,53"},
    ],
)
def test_bad_boxes(client, demo_data, params):
    r = items(client, **params)
    assert r.status_code == 400 and r.json()["description"], (params, r.content[:200])


def test_bbox_crs_north_first(client, parcel):
    """A box in EPSG:2180 and 2178 is northing first (EPSG order): it matches the features of the
    CRS84 box of the same place; the same numbers easting first (as the ETS sends them) lie elsewhere."""
    e, n = parcel["first"]  # a corner of the parcel, shared with its neighbours
    d = 3.0
    corners = [(e - d, n - d), (e + d, n - d), (e + d, n + d), (e - d, n + d)]
    lonlat = [Transformer.from_crs(2180, 4326, always_xy=True).transform(*c) for c in corners]
    lons, lats = [c[0] for c in lonlat], [c[1] for c in lonlat]

    def ids(**params):
        r = items(client, limit=100, **params)
        assert r.status_code == 200, r.content[:200]
        return sorted(f["id"] for f in r.json()["features"])

    crs84 = ids(bbox=f"{min(lons)},{min(lats)},{max(lons)},{max(lats)}")
    assert parcel["id"] in crs84
    assert ids(bbox=f"{n - d},{e - d},{n + d},{e + d}", **{"bbox-crs": f"{U}2180"}) == crs84
    e7, n7 = Transformer.from_crs(2180, 2178, always_xy=True).transform(e, n)
    assert ids(bbox=f"{n7 - d},{e7 - d},{n7 + d},{e7 + d}", **{"bbox-crs": f"{U}2178"}) == crs84
    assert ids(bbox=f"{e - d},{n - d},{e + d},{n + d}", **{"bbox-crs": f"{U}2180"}) == []


def test_datetime_on_a_collection_without_time(client, demo_data):
    """Every items operation takes datetime (Part 1 /req/core/fc-time-definition); buildings have no
    temporal property, so a valid value selects all of them and a bad one is still a 400."""
    everything = items(client, "budynki", limit=1).json()["numberMatched"]
    for value in ("2020-01-01T00:00:00Z", "2020-01-01", "../2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z/.."):
        r = items(client, "budynki", limit=1, datetime=value)
        assert r.status_code == 200 and r.json()["numberMatched"] == everything, (value, r.content[:200])
    for value in ("2020-13-45", "2020-01-01T00:00:00Z/2019-01-01T00:00:00Z", "../..", "yesterday"):
        assert items(client, "budynki", datetime=value).status_code == 400, value
    doc = client.get("/ogcapi/openapi", {"f": "json"}).json()
    param = next(
        p
        for p in doc["paths"]["/collections/budynki/items"]["get"]["parameters"]
        if p.get("name") == "datetime"
    )
    assert "no temporal property" in param["description"]


@pytest.mark.parametrize(
    "cql, status, matched",
    [
        ("S_INTERSECTS(geometry, POLYGON((-80 -5, -70 -5, -70 5, -80 5, -80 -5)))", 200, 0),
        ("S_INTERSECTS(geometry, BBOX(177, 65, -177, 70))", 200, 0),
        ("S_DISJOINT(geometry, POINT(-75 0))", 200, None),
        ("S_WITHIN(geometry, POLYGON((-170 -80, 170 -80, 170 80, -170 80, -170 -80)))", 200, None),
        ("S_CONTAINS(geometry, POINT(-75 0))", 400, 0),
    ],
)
def test_filter_geometries_far_away(client, demo_data, cql, status, matched):
    """Filter literals where EPSG:2180 has no coordinates: a 500 from PostGIS before (infinite values)."""
    r = items(client, limit=1, filter=cql)
    assert r.status_code == status, r.content[:300]
    if status == 200:
        assert r.json()["numberMatched"] == (Parcel.objects.current().count() if matched is None else matched)


def _json_type(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


XSD_JSON = {
    "xs:string": ("string", None),
    "xs:integer": ("integer", None),
    "xs:decimal": ("number", None),
    "xs:date": ("string", "date"),
    "xs:dateTime": ("string", "date-time"),
}


def test_attribute_types_agree(client, demo_data):
    """For every attribute of every collection: the queryables, the collection schema, the GeoJSON
    feature schema GDAL reads (`describedby`), the JSON values of the items and WFS DescribeFeatureType
    give one type (GDAL guessed NUMER_ARKUSZA as a string from a first page of nulls)."""
    from lxml import etree

    from ogc.features.featuretypes import feature_types
    from ogc.ogcapi.config import _Anonymous

    for ft in feature_types(_Anonymous()):
        name = ft.name
        queryables = client.get(f"/ogcapi/collections/{name}/queryables", {"f": "json"}).json()["properties"]
        schema = client.get(f"/ogcapi/collections/{name}/schema", {"f": "json"}).json()["properties"]
        described = next(
            x
            for x in client.get(f"/ogcapi/collections/{name}").json()["links"]
            if x["rel"].lower() == "describedby" and x["type"] == "application/schema+json"
        )
        href = urlsplit(described["href"])
        r = client.get(href.path, dict(parse_qsl(href.query)))
        assert r.status_code == 200 and r["Content-Type"].startswith("application/schema+json")
        feature_props = r.json()["properties"]["properties"]["properties"]
        xsd = etree.fromstring(
            client.get(
                "/ows",
                {
                    "SERVICE": "WFS",
                    "VERSION": "2.0.0",
                    "REQUEST": "DescribeFeatureType",
                    "TYPENAMES": f"gisportal:{name}",
                },
            ).content
        )
        xsd_types = {
            e.get("name"): XSD_JSON[e.get("type")]
            for e in xsd.iter("{http://www.w3.org/2001/XMLSchema}element")
            if e.get("type", "").startswith("xs:")
        }
        features = items(client, name, limit=2000, skipGeometry="true").json()["features"]
        for attr in ft.attributes:
            want = (queryables[attr.name]["type"], queryables[attr.name].get("format"))
            assert (schema[attr.name]["type"], schema[attr.name].get("format")) == want, (name, attr.name)
            assert (feature_props[attr.name]["type"], feature_props[attr.name].get("format")) == want, (
                name,
                attr.name,
            )
            assert xsd_types[attr.name] == want, (name, attr.name)
            seen = {_json_type(f["properties"][attr.name]) for f in features} - {None}
            assert seen, (name, attr.name, "no values to compare")
            assert seen <= ({"integer", "number"} if want[0] == "number" else {want[0]}), (
                name,
                attr.name,
                seen,
            )
            for f in features:
                value = f["properties"][attr.name]
                if value is not None and want[1] == "date":
                    date.fromisoformat(value)
                elif value is not None and want[1] == "date-time":
                    assert datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def test_gdal_oapif_types_from_the_schema(live_url, demo_data):
    env = gdal_client_env(GDAL_HTTP_TIMEOUT="60")
    r = subprocess.run(
        ["ogrinfo", "-ro", "-so", f"OAPIF:{live_url}/ogcapi", "dzialki"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    fields = dict(
        line.split(": ", 1)
        for line in r.stdout.splitlines()
        if line.split(":")[0]
        in ("NUMER_ARKUSZA", "GRUPA_REJESTROWA", "POLE_EWIDENCYJNE", "DATA", "ID_DZIALKI")
    )
    assert {k: v.split(" ")[0] for k, v in fields.items()} == {
        "NUMER_ARKUSZA": "Integer",
        "GRUPA_REJESTROWA": "Integer",
        "POLE_EWIDENCYJNE": "Real",
        "DATA": "DateTime",
        "ID_DZIALKI": "String",
    }


def test_the_exact_multiple_last_page_has_no_next(client, demo_data):
    """A page that ends the collection exactly (offset + returned = numberMatched) links no next page; the one
    before it does, and a page past the end is empty."""
    from layers.models import Parcel

    n = Parcel.objects.current().count()
    limit = next(k for k in (500, 400, 250, 200, 100, 50, 40, 25, 20, 10) if n % k == 0)
    last = client.get(
        "/ogcapi/collections/dzialki/items", {"f": "json", "limit": limit, "offset": n - limit}
    ).json()
    assert last["numberReturned"] == limit and last["numberMatched"] == n
    assert "next" not in {x["rel"] for x in last["links"]} and "prev" in {x["rel"] for x in last["links"]}
    before = client.get(
        "/ogcapi/collections/dzialki/items", {"f": "json", "limit": limit, "offset": n - 2 * limit}
    ).json()
    assert "next" in {x["rel"] for x in before["links"]}
