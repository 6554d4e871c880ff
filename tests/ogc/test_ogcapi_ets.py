"""The assertions of the OGC test suite ets-ogcapi-features10 (Core and Part 2 CRS; its Java under
src/main/java/org/opengis/cite/ogcapifeatures10/conformance), ported to run on the app through
Django's test client. Each test names the ETS class it follows. Where the ETS only makes a request
and never looks at the answer (the CRS transform checks call equalsExact without asserting), the
check is made here; where it passes without looking (empty answers skipped), the port notes it."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
import shapely
from django.conf import settings
from django.test import Client
from pyproj import Transformer

pytestmark = pytest.mark.django_db
ROOT = "/ogcapi"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84H = "http://www.opengis.net/def/crs/OGC/0/CRS84h"
UNSUPPORTED_CRS = "http://www.opengis.net/def/crs/0/unsupported"
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
# media types the conformance classes bring (RequirementClass.java): for features and collections,
# and for the other resources
FEATURE_MEDIA = {
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html": "text/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson": GEOJSON,
}
OTHER_MEDIA = {
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html": "text/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson": "application/json",
}
NUMBERMATCHED_LIMIT = 10_000  # OgcApiFeatures10.java


@pytest.fixture(scope="module")
def api(demo_data, django_db_blocker):
    """GET helper on a client of its own (module scope), returning the response."""
    client = Client()

    def get(path: str, params: dict | None = None, accept: str = "application/json"):
        with django_db_blocker.unblock():
            return client.get(path, params or {}, HTTP_ACCEPT=accept)

    return get


def local(url: str) -> tuple[str, dict]:
    """A link of the public URL as a path and query parameters for the test client."""
    parts = urlsplit(url)
    assert url.startswith(settings.GISPORTAL_PUBLIC_URL), url
    return parts.path, dict(parse_qsl(parts.query))


def link(links: list[dict], rel: str, media: str | None = None) -> dict | None:
    return next(
        (x for x in links if x.get("rel") == rel and (media is None or same_media(x.get("type", ""), media))),
        None,
    )


def same_media(a: str, b: str) -> bool:
    """JsonUtils.isSameMediaType: type/subtype and the set of parameters, case-insensitive."""
    pa = [p.strip().replace('"', "") for p in a.lower().split(";") if p.strip()]
    pb = [p.strip().replace('"', "") for p in b.lower().split(";") if p.strip()]
    return bool(pa and pb) and pa[0] == pb[0] and set(pa[1:]) == set(pb[1:])


def ets_number(v: float) -> str:
    """BBox.asQueryParameter: Java's DecimalFormat "###.0000000" (no leading zero: 0.5 → .5000000)."""
    text = f"{v:.7f}"
    return text.replace("0.", ".", 1) if text.lstrip("-").startswith("0.") else text


def ets_bbox(box: tuple[float, float, float, float]) -> str:
    return ",".join(ets_number(v) for v in box)


@pytest.fixture(scope="module")
def landing(api):
    return api(f"{ROOT}/")


@pytest.fixture(scope="module")
def oas(api, landing):
    desc = next(
        x
        for x in landing.json()["links"]
        if x["rel"] == "service-desc" and x.get("type", "").replace(" ", "") == OPENAPI
    )
    path, params = local(desc["href"])
    r = api(path, params, accept=OPENAPI)
    assert r.status_code == 200
    return r.json()


@pytest.fixture(scope="module")
def conformance(api):
    return api(f"{ROOT}/conformance").json()["conformsTo"]


@pytest.fixture(scope="module")
def collections(api):
    return api(f"{ROOT}/collections").json()["collections"]


def collection_ids() -> list[str]:
    """The declared feature collections an anonymous user reads, and the INSPIRE collections of the types
    of those layers (ogc/ogcapi/inspire.py). Called while tests are collected, before the test database
    exists: the declared catalogue only (harvested layers are read from the database, and a connection
    opened now would stay on the development database for the whole run)."""
    from layers.catalogue import LAYERS, user_can_read
    from ogc.ogcapi import inspire
    from ogc.ogcapi.config import _Anonymous

    anonymous = _Anonymous()
    names = [la.name for la in LAYERS if la.is_dataset and user_can_read(anonymous, la)]
    return [*names, *(cid for cid, _t in inspire.collections(set(names)))]


def by_id(collections: list[dict], cid: str) -> dict:
    return next(c for c in collections if c["id"] == cid)


def items_url(collection: dict) -> tuple[str, dict]:
    """JsonUtils.findFeaturesUrlForGeoJson: the items link typed application/geo+json."""
    found = link(collection["links"], "items", GEOJSON)
    assert found is not None, f"{collection['id']}: no items link of type {GEOJSON}"
    return local(found["href"])


def resolve(doc: dict, node: dict) -> dict:
    """A local $ref of the OpenAPI document (the remote ones are the OGC schemas' own)."""
    ref = node.get("$ref")
    if not ref:
        return node
    assert ref.startswith("#/"), f"{ref}: items parameters must be declared in the document"
    node = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def parameter(doc: dict, path: str, name: str) -> dict | None:
    """OpenApiUtils.retrieveParameterByName: the path's parameters, then its GET's."""
    item = doc["paths"].get(path)
    if item is None:
        return None
    for p in (*item.get("parameters", []), *item["get"].get("parameters", [])):
        if not str(p.get("$ref", "")).startswith("#/") and "$ref" in p:
            continue  # a remote parameter is not ours to name here
        p = resolve(doc, p)
        if p.get("name") == name:
            return p
    return None


def fetch_all(api, first: dict, maximum: int) -> int:
    """JsonUtils.collectNumberOfAllReturnedFeatures: the features of a response and of every page its
    `next` links lead to, each asked with limit = the OpenAPI maximum (the ETS stops after 4 pages; we
    walk to the end)."""
    total, body = len(first["features"]), first
    for _ in range(1000):
        nxt = link(body["links"], "next")
        if nxt is None:
            return total
        path, params = local(nxt["href"])
        params["limit"] = str(maximum)
        r = api(path, params, accept=GEOJSON)
        assert r.status_code == 200
        body = r.json()
        if not body["features"]:
            return total
        total += len(body["features"])
    raise AssertionError("next links do not end")


def check_feature_collection(api, oas, conformance, cid: str, r, *, bbox=None) -> dict:
    """AbstractFeatures: Abstract Tests 2, 22–26 on one items response."""
    assert r.status_code == 200, r.content[:300]
    body = r.json()
    assert body.get("type") == "FeatureCollection" and isinstance(body.get("features"), list)  # AT 22.1, 22.2
    links = body["links"]  # AT 23: self, an alternate per other media type, rel and type on each
    self_link = link(links, "self")
    assert self_link is not None and self_link.get("type")
    wanted = [m for c, m in FEATURE_MEDIA.items() if c in conformance and m != self_link["type"]]
    assert all(link(links, "alternate", m) for m in wanted), wanted
    assert all(x.get("type") for x in links if x["rel"] in ("self", "alternate"))
    assert datetime.fromisoformat(body["timeStamp"].replace("Z", "+00:00")).tzinfo is not None  # AT 24
    assert body["numberReturned"] == len(body["features"])  # AT 26
    if "numberMatched" in body and body["numberMatched"] <= NUMBERMATCHED_LIMIT:  # AT 25
        maximum = parameter(oas, f"/collections/{cid}/items", "limit")["schema"]["maximum"]
        assert body["numberMatched"] == fetch_all(api, body, maximum)
    shape = None
    if bbox is not None:  # AT 15 (FeaturesBBox.validateGeometriesInBBox): each geometry meets the box
        x0, y0, x1, y1 = bbox
        boxes = (
            [shapely.box(x0, y0, x1, y1)]
            if x0 <= x1
            else [shapely.box(x0, y0, 180, y1), shapely.box(-180, y0, x1, y1)]
        )
        shape = shapely.union_all(boxes)
    for f in body["features"][:100]:  # AT 2: CRS84 without a crs parameter
        if f.get("geometry") is None:
            continue
        g = shapely.geometry.shape(f["geometry"])
        lon0, lat0, lon1, lat1 = g.bounds
        assert -180 <= lon0 <= lon1 <= 180 and -90 <= lat0 <= lat1 <= 90, (cid, f["id"])
        assert shape is None or g.intersects(shape), (cid, f["id"], bbox)
    return body


# ---------------------------------------------------------------- core: landing page, API, conformance
def test_landing_page(landing):
    """LandingPage: Abstract Tests 3 and 4."""
    assert landing.status_code == 200
    rels = {x["rel"] for x in landing.json()["links"]}
    assert ({"service-desc", "service-doc"} & rels) and {"conformance", "data"} <= rels


def test_api_definition(oas, api):
    """ApiDefinition: Abstract Tests 5 and 6 (the ETS validates with KaiZen; here: version, local
    references resolve, each operation answers 200 or default)."""
    assert oas["openapi"].startswith("3.0.")
    text = json.dumps(oas)
    for ref in {r for r in text.split('"$ref": "')[1:]}:
        ref = ref.split('"', 1)[0]
        if ref.startswith("#/"):
            resolve(oas, {"$ref": ref})
    for path, item in oas["paths"].items():
        for method, op in item.items():
            if method in ("get", "post"):
                assert {"200", "default"} & set(op["responses"]) or method == "post", (path, method)


def test_conformance(api, oas, conformance):
    """Conformance: Abstract Tests 7 and 8, at the path the API definition names."""
    assert "/conformance" in oas["paths"]
    assert all(isinstance(c, str) for c in conformance) and CORE in conformance


# ---------------------------------------------------------------- core: collections
def test_collections(api, conformance, collections):
    """FeatureCollections: Abstract Tests 9 and 10."""
    r = api(f"{ROOT}/collections")
    assert r.status_code == 200
    body = r.json()
    self_link = link(body["links"], "self")
    assert self_link is not None and self_link.get("type")
    wanted = [m for c, m in OTHER_MEDIA.items() if c in conformance and m != self_link["type"]]
    assert all(link(body["links"], "alternate", m) for m in wanted), wanted
    if body.get("crs"):
        assert body["crs"][0] in (CRS84, CRS84H)
    assert body["links"] and collections
    # the feature collections, and OGC API – Records' `metadane` (tests/test_metadata_csw.py)
    assert sorted(c["id"] for c in collections) == sorted([*collection_ids(), "metadane"])
    for c in collections:
        items_url(c)


@pytest.mark.parametrize("cid", collection_ids())
def test_collection(api, collections, cid):
    """FeatureCollection: Abstract Tests 11 and 12: the same id, title, description and extent."""
    r = api(f"{ROOT}/collections/{cid}")
    assert r.status_code == 200
    one, listed = r.json(), by_id(collections, cid)
    for key in ("id", "title", "description", "extent"):
        assert one.get(key) == listed.get(key), key


# ---------------------------------------------------------------- core: items and their parameters
@pytest.mark.parametrize("cid", collection_ids())
def test_items_parameter_definitions(oas, cid):
    """FeaturesBBox (AT 14), FeaturesLimit and FeaturesTime: bbox, limit and datetime are declared for
    every items operation, as the standard's OpenAPI fragments say."""
    path = f"/collections/{cid}/items"
    bbox = parameter(oas, path, "bbox")
    assert bbox is not None, f"{path}: no bbox"
    assert (bbox["in"], bbox.get("required", False), bbox.get("style"), bbox.get("explode", False)) == (
        "query",
        False,
        "form",
        False,
    )
    s = bbox["schema"]
    assert (s["type"], s["minItems"], s["maxItems"], s["items"]["type"]) == ("array", 4, 6, "number")
    limit = parameter(oas, path, "limit")
    assert limit is not None, f"{path}: no limit"
    assert (limit["in"], limit.get("required", False), limit.get("style"), limit.get("explode", False)) == (
        "query",
        False,
        "form",
        False,
    )
    assert (
        limit["schema"]["type"] == "integer"
        and limit["schema"]["minimum"] >= 0
        and limit["schema"]["default"] >= 0
    )
    time = parameter(oas, path, "datetime")
    assert time is not None, f"{path}: no datetime"
    assert (time["in"], time.get("required", False), time.get("style"), time.get("explode", False)) == (
        "query",
        False,
        "form",
        False,
    )
    assert time["schema"]["type"] == "string"


@pytest.mark.parametrize("cid", collection_ids())
def test_items(api, oas, conformance, collections, cid):
    """Features: Abstract Tests 13, 2 and 22–26 without parameters."""
    path, params = items_url(by_id(collections, cid))
    body = check_feature_collection(api, oas, conformance, cid, api(path, params, accept=GEOJSON))
    assert body["features"], f"{cid}: no features to test with"


@pytest.mark.parametrize("cid", collection_ids())
def test_items_limit(api, oas, conformance, collections, cid):
    """FeaturesLimit: the limit's minimum and min((min+max)/2, 100) give at most that many features."""
    schema = parameter(oas, f"/collections/{cid}/items", "limit")["schema"]
    low, high = schema["minimum"], schema.get("maximum", -1)
    path, params = items_url(by_id(collections, cid))
    for limit in (low, min(low + (high - low) // 2, 100)):
        body = check_feature_collection(
            api, oas, conformance, cid, api(path, {**params, "limit": limit}, accept=GEOJSON)
        )
        assert len(body["features"]) <= min(limit, high if high > 0 else limit)


# FeaturesBBox.collectionItemUrisWithBboxes: the collection's extent, then boxes that cross the prime
# meridian, the equator, the antimeridian (west edge east of the east edge) and the polar regions
ETS_BOXES = [
    (-1.5, 50.0, 1.5, 53.0),
    (-80.0, -5.0, -70.0, 5.0),
    (177.0, 65.0, -177.0, 70.0),
    (-180.0, 85.0, 180.0, 90.0),
    (-180.0, -90.0, 180.0, -85.0),
]


@pytest.mark.parametrize("cid", collection_ids())
def test_items_bbox(api, oas, conformance, collections, cid):
    """FeaturesBBox: Abstract Tests 13 and 15 with the ETS's boxes; each answers 200 (the equator box
    was a 400, 'not a number'), far boxes select nothing, the extent selects features."""
    collection = by_id(collections, cid)
    path, params = items_url(collection)
    extent = tuple(collection["extent"]["spatial"]["bbox"][0])
    for box in [extent, *ETS_BOXES]:
        r = api(path, {**params, "bbox": ets_bbox(box)}, accept=GEOJSON)
        body = check_feature_collection(api, oas, conformance, cid, r, bbox=box)
        if box == extent:
            assert body["features"], cid
        else:
            assert body["numberReturned"] == 0 and body.get("numberMatched", 0) == 0, (cid, box)


@pytest.mark.parametrize("cid", collection_ids())
def test_items_error_conditions(api, oas, collections, cid):
    """FeaturesErrorConditions: limit=unlimited and an unknown parameter are 400. The ETS skips the
    second when the API declares free-form parameters (schema additionalProperties), so we do not."""
    path, params = items_url(by_id(collections, cid))
    assert api(path, {**params, "limit": "unlimited"}, accept=GEOJSON).status_code == 400
    declared = oas["paths"][f"/collections/{cid}/items"]["get"]["parameters"]
    mine = [resolve(oas, p) for p in declared if str(p.get("$ref", "#/")).startswith("#/")]
    free_form = [p["name"] for p in mine if p.get("schema", {}).get("additionalProperties")]
    assert not free_form, f"{cid}: free-form parameters declared, but unknown parameters are refused"
    assert api(path, {**params, "unknownQueryParameter12345": "1"}, accept=GEOJSON).status_code == 400


@pytest.mark.parametrize("cid", collection_ids())
def test_feature(api, conformance, collections, cid):
    """Feature: the first feature of the items answers at items/{id} with self, alternate and
    collection links, each with rel and type."""
    path, params = items_url(by_id(collections, cid))
    fid = api(path, {**params, "limit": 1}, accept=GEOJSON).json()["features"][0]["id"]
    r = api(f"{path}/{fid}", {}, accept=GEOJSON)
    assert r.status_code == 200
    links = r.json()["links"]
    self_link = link(links, "self")
    assert self_link is not None and self_link.get("type")
    wanted = [m for c, m in FEATURE_MEDIA.items() if c in conformance and m != self_link["type"]]
    assert all(link(links, "alternate", m) for m in wanted), wanted
    assert (link(links, "collection") or {}).get("type")
    assert all(x.get("type") for x in links if x["rel"] in ("self", "alternate", "collection"))


# ---------------------------------------------------------------- Part 2: CRS
@pytest.mark.parametrize("cid", collection_ids())
def test_crs_discovery(api, conformance, collections, cid):
    """DiscoveryCollection(s)CrsUri, …DefaultCrs and …StorageCrs: valid CRS URIs, CRS84 among them,
    storageCrs one of them, in /collections and /collections/{id} alike."""
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conformance
    for c in (api(f"{ROOT}/collections/{cid}").json(), by_id(collections, cid)):
        crs = c["crs"]
        assert crs and all(x.startswith("http://www.opengis.net/def/crs/") for x in crs)
        assert CRS84 in crs or CRS84H in crs
        assert c["storageCrs"].startswith("http://www.opengis.net/def/crs/") and c["storageCrs"] in crs


def _swap(geom):
    return shapely.transform(geom, lambda xy: xy[:, ::-1])


def _to_crs84(geom, uri: str):
    """GeometryTransformer, with the axis order of the URI: EPSG URIs of north-first CRSs are N,E."""
    if uri in (CRS84, CRS84H):
        return geom
    from gisportal.core.crs import north_first

    epsg = int(uri.rsplit("/", 1)[1])
    if north_first(epsg):
        geom = _swap(geom)
    t = Transformer.from_crs(epsg, "OGC:CRS84", always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


@pytest.mark.parametrize("cid", collection_ids())
def test_crs_parameter(api, collections, cid):
    """FeaturesCrsParameter(Default, Invalid, Transform) and FeatureCrsParameter(…): Content-Crs is the
    asked CRS (CRS84 without one), an unsupported CRS is a 400, and the geometries in each CRS are the
    CRS84 ones transformed (the ETS leaves this last comparison unasserted)."""
    collection = by_id(collections, cid)
    path, params = items_url(collection)
    plain = api(path, {**params, "limit": 5}, accept=GEOJSON)
    assert plain.status_code == 200 and plain["Content-Crs"] in (f"<{CRS84}>", f"<{CRS84H}>")
    base = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in plain.json()["features"]}
    fid = next(iter(base))
    one = api(f"{path}/{fid}", {}, accept=GEOJSON)
    assert one.status_code == 200 and one["Content-Crs"] in (f"<{CRS84}>", f"<{CRS84H}>")
    for uri in collection["crs"]:
        r = api(path, {**params, "limit": 5, "crs": uri}, accept=GEOJSON)
        assert r.status_code == 200 and r["Content-Crs"] == f"<{uri}>", uri
        for f in r.json()["features"]:
            back = _to_crs84(shapely.geometry.shape(f["geometry"]), uri)
            assert shapely.hausdorff_distance(back, base[f["id"]]) < 1e-5, (cid, uri, f["id"])
        r = api(f"{path}/{fid}", {"crs": uri}, accept=GEOJSON)
        assert r.status_code == 200 and r["Content-Crs"] == f"<{uri}>", uri
    assert api(path, {**params, "crs": UNSUPPORTED_CRS}, accept=GEOJSON).status_code == 400
    assert api(f"{path}/{fid}", {"crs": UNSUPPORTED_CRS}, accept=GEOJSON).status_code == 400


@pytest.mark.parametrize("cid", collection_ids())
def test_bbox_crs_parameter(api, collections, cid):
    """BBoxCrsParameterDefault, BBoxCrsParameter and BBoxCrsParameterInvalid. The ETS transforms the
    extent's corners with proj4j, easting first, and only checks that the ids are among those of the
    CRS84 box: for EPSG:2180 and 2178 (northing first by EPSG) the box lands elsewhere and the check
    passes on an empty answer. test_ogcapi.py::test_bbox_crs_north_first checks those for real."""
    collection = by_id(collections, cid)
    path, params = items_url(collection)
    extent = tuple(collection["extent"]["spatial"]["bbox"][0])
    default = api(path, {**params, "bbox": ets_bbox(extent)}, accept=GEOJSON)
    assert default.status_code == 200
    ids = {f["id"] for f in default.json()["features"]}
    assert ids
    same = api(path, {**params, "bbox": ets_bbox(extent), "bbox-crs": CRS84}, accept=GEOJSON)
    assert same.status_code == 200 and {f["id"] for f in same.json()["features"]} == ids
    for uri in collection["crs"]:
        if uri in (CRS84, CRS84H):
            continue
        epsg = int(uri.rsplit("/", 1)[1])
        t = Transformer.from_crs("OGC:CRS84", epsg, always_xy=True)  # proj4j: easting/longitude first
        x0, y0 = t.transform(extent[0], extent[1])
        x1, y1 = t.transform(extent[2], extent[3])
        r = api(path, {**params, "bbox": ets_bbox((x0, y0, x1, y1)), "bbox-crs": uri}, accept=GEOJSON)
        assert r.status_code == 200, (uri, r.content[:200])
        assert {f["id"] for f in r.json()["features"]} <= ids, uri
    bad = api(path, {**params, "bbox": ets_bbox((5, 49, 6, 50)), "bbox-crs": UNSUPPORTED_CRS}, accept=GEOJSON)
    assert bad.status_code == 400
