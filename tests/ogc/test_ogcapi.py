"""OGC API – Features through pygeoapi on our provider: the ets-ogcapi-features10 assertions of
OGC.md §3 (O1–O4), axis order and CRS, CQL filters, hostile inputs, OWSLib and GDAL's OAPIF driver."""

from __future__ import annotations

import json
import subprocess

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
    params = [p.get("$ref", p.get("name", "")).rsplit("/", 1)[-1] for p in doc["paths"]["/collections/dzialki/items"]["get"]["parameters"]]
    assert doc["openapi"].startswith("3.0") and {"bbox", "limit", "datetime"} <= set(params) and "openapi" in text
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
    assert {"dzialki", "budynki", "adresy", "obreby", "mpzp", "granice"} <= ids and "numery_dzialek" not in ids
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


@pytest.mark.parametrize("crs, epsg, north_first", [(f"{U}2180", 2180, True), (f"{U}4326", 4326, True),
                                                    (f"{U}3857", 3857, False), (f"{U}2178", 2178, True)])
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
    ids = [f["id"] for f in items(client, bbox=f"{y - 1},{x - 1},{y + 1},{x + 1}", **{"bbox-crs": f"{U}2180"}).json()["features"]]
    assert parcel["id"] in ids


def test_cql_filters(client, parcel):
    body = items(client, filter=f"ID_DZIALKI = '{parcel['id']}'").json()
    assert [f["id"] for f in body["features"]] == [parcel["id"]]
    lon, lat = Transformer.from_crs(2180, 4326, always_xy=True).transform(parcel["x"], parcel["y"])
    body = items(client, filter=f"INTERSECTS(geometry, POINT({lon} {lat}))").json()
    assert parcel["id"] in [f["id"] for f in body["features"]]
    cql = {"op": "=", "args": [{"property": "ID_DZIALKI"}, parcel["id"]]}
    r = client.post("/ogcapi/collections/dzialki/items", json.dumps(cql), content_type="application/query-cql-json")
    assert [f["id"] for f in r.json()["features"]] == [parcel["id"]]


def test_properties_sortby_skip_geometry(client, demo_data):
    body = items(client, limit=5, sortby="-ID_DZIALKI", properties="ID_DZIALKI", skipGeometry="true").json()
    ids = [f["properties"]["ID_DZIALKI"] for f in body["features"]]
    assert ids == sorted(ids, reverse=True) and all(f["geometry"] is None for f in body["features"])
    assert all(set(f["properties"]) == {"ID_DZIALKI"} for f in body["features"])


# ------------------------------------------------------------------ O4 and hostile inputs
@pytest.mark.parametrize("params", [{"limit": "unlimited"}, {"foo": "bar"}, {"bbox-crs": "EPSG:2180", "bbox": "1,2,3,4"},
                                    {"crs": "EPSG:4326"}, {"crs": f"{U}9999"}, {"bbox": "1,2,3"}, {"bbox": "1,2,nan,4"},
                                    {"datetime": "2020-13-45"}, {"filter-lang": "sql"}, {"sortby": "password"},
                                    {"properties": "KW"}, {"filter": "ID_DZIALKI = '1' OR '1'='1"},
                                    {"filter": "exec(x)"}, {"offset": "-1"}, {"sortby": ","}, {"sortby": ""},
                                    {"offset": "99999999999"},
                                    {"datetime": "2020-01-01T00:00:00Z/2019-01-01T00:00:00Z"}])
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
    wide = {"op": "or", "args": [{"op": "=", "args": [{"property": "NUMER_DZIALKI"}, str(i)]} for i in range(100_000)]}
    r = client.post("/ogcapi/collections/dzialki/items", json.dumps(wide), content_type="application/query-cql-json")
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
    r = subprocess.run(["ogrinfo", "-ro", "-so", f"OAPIF:{live_url}/ogcapi", "dzialki"], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    count = int(next(line for line in r.stdout.splitlines() if line.startswith("Feature Count:")).split(":")[1])
    assert count == Parcel.objects.current().count()
    r = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{live_url}/ogcapi", "dzialki", "-where", f"ID_DZIALKI = '{parcel['id']}'"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0 and parcel["id"] in r.stdout


def test_datetime_filters_version_dates(client, demo_data):
    everything = items(client, limit=1, resulttype="hits").json()["numberMatched"]
    assert items(client, limit=1, datetime="1900-01-01T00:00:00Z/..", resulttype="hits").json()["numberMatched"] == everything
    assert items(client, limit=1, datetime="../1900-01-01T00:00:00Z", resulttype="hits").json()["numberMatched"] == 0


@pytest.mark.parametrize("params", [{"POLE_EWIDENCYJNE": "abc"}, {"GRUPA_REJESTROWA": "1.5"}, {"DATA": "yesterday"}])
def test_property_filters_with_values_of_the_wrong_type(client, demo_data, params):
    assert items(client, **params).status_code == 400
