"""The harmonised INSPIRE types through OGC API – Features (issue 28, ogc/ogcapi/inspire.py): the collections
cp.cadastralparcel, cp.cadastralzoning, ad.address and bu-core2d.building, their GeoJSON properties in the
INSPIRE alternative encoding checked against the registry (as the WFS tests check the GML), paging over the
two sources of the zonings, bbox and crs with their axis order, the item by id, the HTML pages, the links to
the GML and the metadata, and no personal data. The OGC API ETS port (test_ogcapi_ets.py) runs over these
collections too."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from lxml import etree
from pyproj import Transformer

from layers.models import AddressPoint, AdministrativeUnit, Building, CadastralUnit, Parcel, Precinct

pytestmark = pytest.mark.django_db
ROOT = "/ogcapi/collections"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
U = "http://www.opengis.net/def/crs/EPSG/0/"
GML32 = "application/gml+xml; version=3.2"
IDS = ("cp.cadastralparcel", "cp.cadastralzoning", "ad.address", "bu-core2d.building")
CODELIST = "http://inspire.ec.europa.eu/codelist/"


def counts() -> dict[str, int]:
    return {
        "cp.cadastralparcel": Parcel.objects.current().count(),
        "cp.cadastralzoning": CadastralUnit.objects.current().count() + Precinct.objects.current().count(),
        "ad.address": AddressPoint.objects.current().count(),
        "bu-core2d.building": Building.objects.current().filter(geom__isnull=False).count(),
    }


def local(url: str) -> tuple[str, dict]:
    assert url.startswith(settings.GISPORTAL_PUBLIC_URL), url
    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query))


def follow(client, url: str, **extra):
    path, params = local(url)
    return client.get(path, {**params, **extra})


def items(client, cid: str, **params):
    r = client.get(f"{ROOT}/{cid}/items", params)
    assert r.status_code == 200, r.content[:300]
    return r


def one(client, cid: str, fid: str, **params) -> dict:
    r = client.get(f"{ROOT}/{cid}/items/{fid}", params)
    assert r.status_code == 200, r.content[:300]
    return r.json()


def rel(links: list[dict], name: str, media: str | None = None) -> dict | None:
    return next((x for x in links if x["rel"] == name and (media is None or x.get("type") == media)), None)


def iso(value) -> str | None:
    from ogc.inspire.base import iso_datetime

    return iso_datetime(value) if value is not None else None


def version_id(row) -> str:
    return row.version_id or row.start_version.strftime("%Y%m%dT%H%M%S")


# ---- collections ----------------------------------------------------------------------------------
def test_collections_and_their_links(client, demo_data):
    listed = {c["id"]: c for c in client.get(ROOT).json()["collections"]}
    assert set(IDS) <= set(listed)
    for cid in IDS:
        c = client.get(f"{ROOT}/{cid}").json()
        assert c["id"] == cid and "INSPIRE" in c["title"]
        assert c["crs"] == [CRS84, f"{U}4258", f"{U}2180"] and c["storageCrs"] == f"{U}2180"
        assert all(c[k] == listed[cid][k] for k in ("title", "description", "extent", "crs"))
        # the GML of the WFS: the same type, schema-qualified
        gml = rel(c["links"], "alternate", GML32)
        assert gml is not None
        r = follow(client, gml["href"])
        body = b"".join(r.streaming_content) if r.streaming else r.content
        assert r.status_code == 200, body[:300]
        doc = etree.fromstring(body)
        typename = local(gml["href"])[1]["TYPENAMES"]
        member = doc.find("{http://www.opengis.net/wfs/2.0}member")
        assert member is not None and etree.QName(member[0]).localname == typename.split(":")[1]
        # the data set's ISO 19139 record
        record = rel(c["links"], "describedby", "application/xml")
        assert record is not None
        r = follow(client, record["href"])
        assert r.status_code == 200 and b"MD_Metadata" in r.content
        # the JSON Schema of a feature (GDAL types the fields from it)
        schema = rel(c["links"], "describedBy", "application/schema+json")
        r = follow(client, schema["href"])
        assert r.status_code == 200 and r["Content-Type"].startswith("application/schema+json")
        fields = r.json()["properties"]["properties"]["properties"]
        assert "inspireId.localId" in fields
        queryables = client.get(f"{ROOT}/{cid}/queryables", {"f": "json"}).json()["properties"]
        assert set(fields) <= set(queryables)


def test_not_in_the_map_portal(client, demo_data):
    page = client.get("/").content.decode()
    assert not any(cid in page for cid in IDS)
    assert "CadastralParcel" not in page


@pytest.mark.parametrize("cid", IDS)
def test_items_of_each_collection(client, demo_data, cid):
    body = items(client, cid, limit=50).json()
    assert body["numberMatched"] == counts()[cid] > 0
    assert body["numberReturned"] == len(body["features"]) == min(50, counts()[cid])
    fields = client.get(f"{ROOT}/{cid}/schema", {"profile": "geojson-feature"}).json()
    declared = set(fields["properties"]["properties"]["properties"])
    for f in body["features"]:
        assert f["geometry"] is not None
        assert set(f["properties"]) <= declared, set(f["properties"]) - declared
        assert f["properties"]["inspireId.namespace"] == settings.GISPORTAL_INSPIRE_NAMESPACE
        assert None not in f["properties"].values()  # void properties are left out (the encoding rule)
    hits = items(client, cid, resulttype="hits").json()
    assert hits["numberMatched"] == counts()[cid] and hits["features"] == []


# ---- the properties against the registry ----------------------------------------------------------
def test_parcels_match_the_registry(client, demo_data):
    for p in Parcel.objects.current().select_related("precinct__unit").order_by("pk")[5:8]:
        f = one(client, "cp.cadastralparcel", f"CadastralParcel.{p.pk}")
        props = f["properties"]
        assert f["id"] == f"CadastralParcel.{p.pk}"
        assert props["inspireId.localId"] == p.local_id
        assert props["inspireId.versionId"] == version_id(p)
        assert props["nationalCadastralReference"] == p.parcel_id and props["label"] == p.number
        assert Decimal(str(props["areaValue"])) == p.area_ha * 10_000 and props["areaValue.uom"] == "m2"
        assert props.get("beginLifespanVersion") == iso(p.start_version)
        assert props.get("validFrom") == iso(p.start_object) and "validTo" not in props
        # zoning: the precinct's item, and its upper level unit's
        zone = follow(client, props["zoning"]).json()
        assert zone["id"] == f"CadastralZoning.precinct.{p.precinct.pk}"
        z = zone["properties"]
        assert z["nationalCadastalZoningReference"] == p.precinct.precinct_id
        assert z["label"] == p.precinct.number and z["name.pol"] == p.precinct.name
        assert (z["level"], z["level.href"]) == ("2ndOrder", CODELIST + "CadastralZoningLevelValue/2ndOrder")
        assert z["levelName.pol"] == "obręb ewidencyjny" and z["levelName.eng"] == "cadastral precinct"
        u = follow(client, z["upperLevelUnit"]).json()["properties"]
        assert u["nationalCadastalZoningReference"] == p.precinct.unit.unit_id and u["level"] == "1stOrder"
        assert "upperLevelUnit" not in u


def test_addresses_match_the_registry(client, demo_data):
    for a in AddressPoint.objects.current().exclude(street="").order_by("pk")[:3]:
        props = one(client, "ad.address", f"Address.{a.pk}")["properties"]
        assert props["inspireId.localId"] == a.local_id and props["inspireId.versionId"] == version_id(a)
        assert props["component.ThoroughfareName"] == a.street
        assert props["component.AddressAreaName"] == a.locality
        assert props.get("component.PostalDescriptor") == (a.postcode or None)
        assert props["component.AdminUnitName_1"] == "Polska"
        gmina = AdministrativeUnit.objects.filter(teryt=a.teryt_gmina).first()
        if gmina is not None:
            assert props["component.AdminUnitName_4"] == gmina.name
        number = "".join(
            v for k, v in props.items() if k.startswith("locator.designator.") and not k.endswith("General")
        ) or props.get("locator.designator.addressIdentifierGeneral")
        assert number.replace(" ", "") == a.number.replace(" ", "")
        assert props["locator.level"] == "siteLevel" and props["position.default"] is True
        assert props["position.specification.href"] == CODELIST + "GeometrySpecificationValue/building"
        if a.status == "istniejacy":
            assert (props["status"], props["status.href"]) == ("current", CODELIST + "StatusValue/current")
        assert props.get("validFrom") == iso(a.start_object)


def test_buildings_match_the_registry(client, demo_data):
    from ogc.inspire.bu import CURRENT_USE

    for b in Building.objects.current().filter(geom__isnull=False).order_by("pk")[:5]:
        props = one(client, "bu-core2d.building", f"Building.{b.pk}")["properties"]
        assert props["inspireId.localId"] == b.local_id
        assert props["externalReference.reference"] == b.building_id
        assert props["numberOfFloorsAboveGround"] == b.storeys_above
        assert props.get("currentUse") == CURRENT_USE.get(b.kst_type)
        assert props["conditionOfConstruction"] == "functional"
        assert props["geometry2D.horizontalGeometryReference"] == "footPrint"


# ---- paging ---------------------------------------------------------------------------------------
def _walk(client, cid: str, limit: int) -> list[str]:
    ids, r = [], items(client, cid, limit=limit)
    for _ in range(10_000):
        body = r.json()
        ids += [f["id"] for f in body["features"]]
        nxt = rel(body["links"], "next")
        if nxt is None:
            return ids
        assert body["features"], "a next link after an empty page"
        r = follow(client, nxt["href"])
    raise AssertionError("next links do not end")


def test_paging_an_exact_multiple(client, demo_data):
    """The last page of a collection that ends exactly on a page boundary has no `next` link; the walk over
    all pages gives every feature once, over the two sources of the zonings too."""
    n_units = CadastralUnit.objects.current().count()
    total = counts()["cp.cadastralzoning"]
    for cid in ("cp.cadastralzoning", "cp.cadastralparcel"):
        n = counts()[cid]
        limit = next(k for k in range(7, n + 1) if n % k == 0)  # the smallest divisor of n from 7 on
        ids = _walk(client, cid, limit)
        assert len(ids) == len(set(ids)) == n, (cid, limit)
        last = items(client, cid, limit=limit, offset=n - limit).json()
        assert last["numberReturned"] == limit and last["numberMatched"] == n
        assert rel(last["links"], "next") is None and rel(last["links"], "prev") is not None
        # a full page that is not the last one keeps its next link
        if n > limit:
            assert rel(items(client, cid, limit=limit, offset=0).json()["links"], "next") is not None
    # a page across the sources: the last units, then the first precincts
    page = items(client, "cp.cadastralzoning", offset=n_units - 2, limit=5).json()
    kinds = [f["id"].rsplit(".", 1)[0] for f in page["features"]]
    assert kinds == ["CadastralZoning.unit"] * 2 + ["CadastralZoning.precinct"] * 3
    assert page["numberMatched"] == total
    beyond = items(client, "cp.cadastralzoning", offset=total + 5, limit=5).json()
    assert beyond["features"] == [] and beyond["numberMatched"] == total


# ---- bbox and crs ---------------------------------------------------------------------------------
@pytest.fixture
def parcel(demo_data):
    p = Parcel.objects.current().order_by("pk")[10]
    inner = p.geom.point_on_surface
    lon, lat = Transformer.from_crs(2180, 4258, always_xy=True).transform(inner.x, inner.y)
    return {"fid": f"CadastralParcel.{p.pk}", "lon": lon, "lat": lat, "first": p.geom[0][0][0]}


def test_bbox_in_crs84_and_etrs89(client, parcel):
    d = 0.0001
    lon, lat = parcel["lon"], parcel["lat"]
    cid = "cp.cadastralparcel"

    def ids(**params) -> set[str]:
        return {f["id"] for f in items(client, cid, limit=1000, **params).json()["features"]}

    crs84 = ids(bbox=f"{lon - d},{lat - d},{lon + d},{lat + d}")
    assert parcel["fid"] in crs84 and len(crs84) < 10
    assert ids(bbox=f"{lon - d},{lat - d},{lon + d},{lat + d}", **{"bbox-crs": CRS84}) == crs84
    # EPSG:4258 as a URI: latitude first (OGC.md §2)
    etrs = ids(bbox=f"{lat - d},{lon - d},{lat + d},{lon + d}", **{"bbox-crs": f"{U}4258"})
    assert etrs == crs84
    wrong = ids(bbox=f"{lon - d},{lat - d},{lon + d},{lat + d}", **{"bbox-crs": f"{U}4258"})
    assert parcel["fid"] not in wrong
    # the zonings and the addresses take a bbox too
    zonings = {
        f["id"]
        for f in items(client, "cp.cadastralzoning", bbox=f"{lon},{lat},{lon},{lat}").json()["features"]
    }
    assert {z.rsplit(".", 1)[0] for z in zonings} == {"CadastralZoning.unit", "CadastralZoning.precinct"}
    far = items(client, cid, bbox="-80,-5,-70,5").json()
    assert far["numberMatched"] == 0 and far["features"] == []


@pytest.mark.parametrize(
    ("crs", "epsg", "swap"),
    [(None, None, False), (CRS84, None, False), (f"{U}4258", 4258, True), (f"{U}2180", 2180, True)],
)
def test_crs_and_axis_order(client, parcel, crs, epsg, swap):
    params = {"crs": crs} if crs else {}
    r = client.get(f"{ROOT}/cp.cadastralparcel/items/{parcel['fid']}", params)
    assert r.status_code == 200 and r["Content-Crs"] == f"<{crs or CRS84}>"
    x, y = parcel["first"]
    if epsg != 2180:
        x, y = Transformer.from_crs(2180, epsg or "OGC:CRS84", always_xy=True).transform(x, y)
    got = r.json()["geometry"]["coordinates"][0][0][0]
    want = [y, x] if swap else [x, y]
    assert got == pytest.approx(want, abs=0.01 if epsg == 2180 else 1e-6)
    # the same on the items page
    page = items(client, "cp.cadastralparcel", limit=3, **params)
    assert page["Content-Crs"] == f"<{crs or CRS84}>"


def test_crs_2180_northing_first(client, parcel):
    r = items(client, "cp.cadastralparcel", limit=20, crs=f"{U}2180")
    assert r["Content-Crs"] == f"<{U}2180>"
    for f in r.json()["features"]:
        n, e = f["geometry"]["coordinates"][0][0][0]
        assert 100_000 < e < 900_000 and 100_000 < n < 800_000 and n < e  # Piaseczno: N ~470 000, E ~638 000
    assert client.get(f"{ROOT}/cp.cadastralparcel/items", {"crs": f"{U}3857"}).status_code == 400


# ---- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cid", "fid"),
    [
        ("cp.cadastralparcel", "CadastralParcel.999999999"),
        ("cp.cadastralparcel", "CadastralParcel.x"),
        ("cp.cadastralparcel", "Building.1"),
        ("cp.cadastralzoning", "CadastralZoning.1"),
        ("cp.cadastralzoning", "CadastralZoning.precinct.99999999999999999999"),
        ("ad.address", "nothing"),
        ("bu-core2d.building", "Building."),
    ],
)
def test_unknown_item_is_404(client, demo_data, cid, fid):
    assert client.get(f"{ROOT}/{cid}/items/{fid}").status_code == 404


def test_unknown_collection_and_refusals(client, demo_data):
    assert client.get(f"{ROOT}/cp.cadastralboundary/items").status_code == 404
    assert client.get(f"{ROOT}/cp:CadastralParcel").status_code == 404
    for params in (
        {"filter": "label = '1'"},
        {"sortby": "label"},
        {"label": "1"},
        {"limit": "unlimited"},
    ):
        assert client.get(f"{ROOT}/cp.cadastralparcel/items", params).status_code == 400, params


def test_properties_and_skip_geometry(client, demo_data):
    body = items(
        client,
        "cp.cadastralparcel",
        limit=5,
        properties="label,nationalCadastralReference",
        skipGeometry="true",
    ).json()
    for f in body["features"]:
        assert set(f["properties"]) == {"label", "nationalCadastralReference"} and f["geometry"] is None


# ---- HTML -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("cid", IDS)
def test_html_pages(client, demo_data, cid):
    page = client.get(f"{ROOT}/{cid}", {"f": "html"})
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "GML 3.2" in html and "request=getfeature" in html.lower()
    listing = client.get(f"{ROOT}/{cid}/items", {"f": "html", "limit": 5})
    assert listing.status_code == 200 and b"inspireId.localId" in listing.content
    fid = items(client, cid, limit=1).json()["features"][0]["id"]
    item = client.get(f"{ROOT}/{cid}/items/{fid}", {"f": "html"})
    assert item.status_code == 200 and fid.encode() in item.content


# ---- personal data never --------------------------------------------------------------------------
@pytest.mark.parametrize("cid", IDS)
def test_no_personal_data(client, demo_data, cid):
    r = items(client, cid, limit=300)
    text = r.content.decode().lower()
    for word in (
        "pesel",
        "regon",
        "surname",
        "first_name",
        "owner",
        "kw_number",
        "share",
        "restricted",
        "subject",
    ):
        assert word not in text, (cid, word)
    if cid == "cp.cadastralparcel":
        units = {p.registration_unit.lower() for p in Parcel.objects.current()[:300] if p.registration_unit}
        assert not any(f'"{ru}"' in text for ru in units)
