"""WFS 2.0 / 1.1: the assertions of OGC.md §3 (F1–F11), schema validity of capabilities and of GML
output against our DescribeFeatureType, axis order, paging, stored queries and hostile inputs."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from lxml import etree
from pyproj import Transformer

from layers.models import Building, Parcel

pytestmark = pytest.mark.django_db
WFS = "{http://www.opengis.net/wfs/2.0}"
WFS11 = "{http://www.opengis.net/wfs}"
OWS = "{http://www.opengis.net/ows/1.1}"
GML = "{http://www.opengis.net/gml/3.2}"
GP = "{https://gisportal.piaseczno.eu/schemas/gisportal/1.0}"
BY_ID = "urn:ogc:def:query:OGC-WFS::GetFeatureById"
INSPIRE = "http://inspire.ec.europa.eu/operation/download/GetSpatialDataSet"


def get(client, **params):
    return client.get("/ows?" + urlencode({"SERVICE": "WFS", **params}))


def gf(client, version="2.0.0", **params):
    return get(client, VERSION=version, REQUEST="GetFeature", **params)


def xml(resp):
    return etree.fromstring(resp.content)


def exc(resp) -> tuple[str, str | None]:
    root = xml(resp)
    el = next(root.iter("{*}Exception"))
    return el.get("exceptionCode"), el.get("locator")


@pytest.fixture(scope="module")
def parcel(demo_data, django_db_blocker):
    with django_db_blocker.unblock():
        p = Parcel.objects.filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[40]
        inner = p.geom.point_on_surface
        return {"pk": p.pk, "id": p.parcel_id, "x": inner.x, "y": inner.y, "extent": p.geom.extent}


# ------------------------------------------------------------------ F1 capabilities
def test_capabilities_need_service(client, demo_data):
    r = client.get("/ows?REQUEST=GetCapabilities")
    assert r.status_code == 400 and exc(r)[0] == "MissingParameterValue"


def test_caps_20_valid_and_complete(client, demo_data, ogc_schemas, settings):
    r = get(client, REQUEST="GetCapabilities")
    assert r.status_code == 200
    doc = xml(r)
    assert doc.get("version") == "2.0.0"
    schema = ogc_schemas("wfs/2.0/wfs.xsd")
    assert schema.validate(doc), schema.error_log
    names = [e.text for e in doc.iter(f"{WFS}Name")]
    # the INSPIRE harmonised types (cp:, ad:, bu-core2d:) are listed beside ours: tests/ogc/test_inspire_*.py
    assert {n for n in names if n.startswith("cp:")} == {
        "cp:CadastralParcel",
        "cp:CadastralZoning",
        "cp:CadastralBoundary",
    }
    names = [n for n in names if n.startswith("gisportal:")]
    assert set(names) == {
        "gisportal:dzialki",
        "gisportal:budynki",
        "gisportal:obreby",
        "gisportal:jednostki_ewidencyjne",
        "gisportal:uzytki",
        "gisportal:kontury_klasyfikacyjne",
        "gisportal:adresy",
        "gisportal:mpzp",
        "gisportal:granice",
    }
    constraints = {c.get("name"): c.findtext(f"{OWS}DefaultValue") for c in doc.iter(f"{OWS}Constraint")}
    for name in ("ImplementsBasicWFS", "ImplementsResultPaging", "KVPEncoding", "XMLEncoding"):
        assert constraints[name] == "TRUE"
    assert constraints["CountDefault"] == "1000"
    hrefs = [e.get("{http://www.w3.org/1999/xlink}href") for e in doc.iter(f"{OWS}Get")]
    assert hrefs and all(h.startswith(settings.GISPORTAL_PUBLIC_URL) for h in hrefs)
    dz = next(e for e in doc.iter(f"{WFS}FeatureType") if e.findtext(f"{WFS}Name") == "gisportal:dzialki")
    assert dz.findtext(f"{WFS}DefaultCRS") == "urn:ogc:def:crs:EPSG::2180"
    lower = [float(v) for v in dz.findtext(f"{OWS}WGS84BoundingBox/{OWS}LowerCorner").split()]
    assert 20 < lower[0] < 22 and 51 < lower[1] < 53  # lon lat
    codes = [e.text for e in doc.iter("{http://inspire.ec.europa.eu/schemas/common/1.0}Code")]
    assert "dzialki" in codes


def test_caps_11_valid(client, demo_data, ogc_schemas):
    r = get(client, REQUEST="GetCapabilities", ACCEPTVERSIONS="1.1.0")
    doc = xml(r)
    assert doc.get("version") == "1.1.0"
    schema = _wfs11_schema()
    assert schema.validate(doc), schema.error_log


def _wfs11_schema(entry=None):
    """The WFS 1.1.0 schema from ../shared (or a wrapper schema `entry` importing it). Its
    filter/1.1.0/filter.xsd and filterAll.xsd include each other, which libxml2 reads as duplicate
    declarations: filterAll.xsd is served empty here."""
    from ..conftest import SHARED_DATA

    root = SHARED_DATA / "ogc-schemas"
    empty = '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.opengis.net/ogc"/>'

    class Resolver(etree.Resolver):
        def resolve(self, url, pubid, context):
            if url.endswith("filter/1.1.0/filterAll.xsd"):
                return self.resolve_string(empty, context)
            for prefix in ("http://schemas.opengis.net/", "https://schemas.opengis.net/"):
                if url.startswith(prefix):
                    return self.resolve_filename(str((root / url[len(prefix) :]).resolve()), context)
            if url.endswith("xlink.xsd") or url.endswith("xlinks.xsd"):
                return self.resolve_filename(str(root / "w3c" / "xlink.xsd"), context)
            if url.endswith("/xml.xsd"):
                return self.resolve_filename(str(root / "w3c" / "xml.xsd"), context)
            return None

    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(Resolver())
    return etree.XMLSchema(etree.parse(str(entry or root / "wfs/1.1.0/wfs.xsd"), parser))


def test_accept_versions_and_language(client, demo_data):
    assert xml(get(client, REQUEST="GetCapabilities", ACCEPTVERSIONS="3.0.0,1.1.0")).get("version") == "1.1.0"
    r = get(client, REQUEST="GetCapabilities", ACCEPTVERSIONS="9.9.9")
    assert r.status_code == 400 and exc(r)[0] == "VersionNegotiationFailed"
    pol = xml(get(client, REQUEST="GetCapabilities")).findtext(f"{OWS}ServiceIdentification/{OWS}Title")
    eng = xml(get(client, REQUEST="GetCapabilities", LANGUAGE="eng")).findtext(
        f"{OWS}ServiceIdentification/{OWS}Title"
    )
    assert "Usługa pobierania" in pol and "Download service" in eng


# ------------------------------------------------------------------ F2 DescribeFeatureType / unknown types
def test_describe_feature_type_public_attributes_only(client, demo_data):
    r = get(client, VERSION="2.0.0", REQUEST="DescribeFeatureType", TYPENAMES="gisportal:dzialki")
    assert r.status_code == 200
    doc = xml(r)
    names = [
        e.get("name")
        for e in doc.iter("{http://www.w3.org/2001/XMLSchema}element")
        if e.get("type", "").startswith(("xs:", "gml:"))
    ]
    assert "ID_DZIALKI" in names and "geometry" in names
    assert not any("kw" in n.lower() or "owner" in n.lower() or "wlasc" in n.lower() for n in names)


@pytest.mark.parametrize(
    "name", ["other:dzialki", "DZIALKI", "gisportal:nope", "{urn:x}dzialki", "gisportal:dzialki'--"]
)
def test_unknown_type_names(client, demo_data, name):
    r = get(client, VERSION="2.0.0", REQUEST="DescribeFeatureType", TYPENAMES=name)
    assert r.status_code == 400 and exc(r)[0] == "InvalidParameterValue"
    r = gf(client, TYPENAMES=name)
    assert r.status_code == 400 and exc(r) == ("InvalidParameterValue", "typeNames")
    assert b"dzialki," not in r.content  # no enumeration of our schema


def _validating_schema(client, ogc_schemas, tmp_path, typenames: str):
    xsd = get(client, VERSION="2.0.0", REQUEST="DescribeFeatureType", TYPENAMES=typenames).content
    (tmp_path / "app.xsd").write_bytes(xsd)
    wrapper = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:wrapper">
      <xs:import namespace="http://www.opengis.net/wfs/2.0" schemaLocation="http://schemas.opengis.net/wfs/2.0/wfs.xsd"/>
      <xs:import namespace="https://gisportal.piaseczno.eu/schemas/gisportal/1.0" schemaLocation="{(tmp_path / "app.xsd").as_uri()}"/>
    </xs:schema>"""
    (tmp_path / "wrapper.xsd").write_text(wrapper)
    return ogc_schemas(str(tmp_path / "wrapper.xsd"))


@pytest.mark.parametrize("typename", ["gisportal:dzialki", "gisportal:adresy", "gisportal:budynki"])
def test_gml_output_validates(client, demo_data, ogc_schemas, tmp_path, typename):
    schema = _validating_schema(client, ogc_schemas, tmp_path, typename)
    r = gf(client, TYPENAMES=typename, COUNT="25")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/gml+xml")
    doc = xml(r)
    assert doc.get("numberReturned") == "25"
    assert schema.validate(doc), schema.error_log


# ------------------------------------------------------------------ F3 stored queries
def test_stored_queries_listed_and_described(client, demo_data, ogc_schemas):
    r = get(client, VERSION="2.0.0", REQUEST="ListStoredQueries")
    doc = xml(r)
    ids = {e.get("id") for e in doc.iter(f"{WFS}StoredQuery")}
    assert {BY_ID, INSPIRE, "urn:gisportal:query:GetParcelById"} <= ids
    assert ogc_schemas("wfs/2.0/wfs.xsd").validate(doc)
    d = xml(get(client, VERSION="2.0.0", REQUEST="DescribeStoredQueries", STOREDQUERY_ID=INSPIRE))
    params = [p.get("name") for p in d.iter(f"{WFS}Parameter")]
    assert params == ["CRS", "DataSetIdCode", "DataSetIdNamespace", "Language"]
    assert ogc_schemas("wfs/2.0/wfs.xsd").validate(d), ogc_schemas("wfs/2.0/wfs.xsd").error_log
    r = get(client, VERSION="2.0.0", REQUEST="DescribeStoredQueries", STOREDQUERY_ID="nope")
    assert r.status_code == 400


def test_get_feature_by_id(client, demo_data, parcel):
    r = gf(client, STOREDQUERY_ID=BY_ID, ID=f"dzialki.{parcel['pk']}")
    assert r.status_code == 200
    doc = xml(r)
    assert doc.tag == f"{GP}dzialki" and doc.findtext(f"{GP}ID_DZIALKI") == parcel["id"]
    assert gf(client, STOREDQUERY_ID=BY_ID, ID="dzialki.999999999").status_code == 404
    assert gf(client, STOREDQUERY_ID=BY_ID, ID="x'; SELECT 1--").status_code == 404
    r = gf(client, STOREDQUERY_ID="urn:nope")
    assert r.status_code == 400 and exc(r)[0] == "InvalidParameterValue"


def test_get_parcel_by_official_id(client, demo_data, parcel):
    r = gf(
        client,
        STOREDQUERY_ID="urn:gisportal:query:GetParcelById",
        ID=parcel["id"],
        OUTPUTFORMAT="application/json",
    )
    body = r.json()
    assert [f["properties"]["ID_DZIALKI"] for f in body["features"]] == [parcel["id"]]
    r = gf(client, STOREDQUERY_ID="urn:gisportal:query:GetParcelById", ID="1' OR '1'='1")
    assert r.status_code == 400


@pytest.mark.parametrize(
    "crs", ["urn:ogc:def:crs:EPSG::2180", "EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/2178"]
)
@pytest.mark.parametrize("lang", ["pol", "eng"])
@pytest.mark.parametrize("code", ["obreby", "jednostki_ewidencyjne"])
def test_inspire_dataset_query(client, demo_data, crs, lang, code):
    r = gf(
        client,
        STOREDQUERY_ID=INSPIRE,
        CRS=crs,
        DataSetIdCode=code,
        DataSetIdNamespace="https://gisportal.piaseczno.eu/zbiory",
        Language=lang,
    )
    assert r.status_code == 200, r.content[:300]
    doc = xml(r)
    assert int(doc.get("numberReturned")) > 0
    assert next(doc.iter(f"{GML}MultiSurface")).get("srsName") == crs


def test_inspire_dataset_query_bad_values(client, demo_data):
    base = {
        "STOREDQUERY_ID": INSPIRE,
        "CRS": "EPSG:2180",
        "DataSetIdCode": "obreby",
        "DataSetIdNamespace": "https://gisportal.piaseczno.eu/zbiory",
        "Language": "pol",
    }
    for key, bad in (
        ("CRS", "EPSG:9999"),
        ("DataSetIdCode", "x"),
        ("DataSetIdNamespace", "y"),
        ("Language", "deu"),
    ):
        r = gf(client, **{**base, key: bad})
        assert r.status_code == 400, key
    r = gf(client, **{k: v for k, v in base.items() if k != "Language"})
    assert r.status_code == 400 and exc(r)[0] == "MissingParameterValue"


# ------------------------------------------------------------------ F4 srsName and axis order
def _first_point(doc) -> tuple[float, float]:
    pos = next(doc.iter(f"{GML}pos"))
    a, b = pos.text.split()
    return float(a), float(b)


@pytest.mark.parametrize(
    "srs, epsg, authority",
    [
        ("urn:ogc:def:crs:EPSG::2180", 2180, True),
        ("EPSG:2180", 2180, False),
        ("http://www.opengis.net/def/crs/EPSG/0/2180", 2180, True),
        ("http://www.opengis.net/gml/srs/epsg.xml#2180", 2180, False),
        ("urn:ogc:def:crs:EPSG::4326", 4326, True),
        ("EPSG:4326", 4326, False),
        ("urn:ogc:def:crs:EPSG::3857", 3857, True),
        ("urn:ogc:def:crs:EPSG::2178", 2178, True),
    ],
)
def test_srsname_forms_axis_order(client, demo_data, srs, epsg, authority):
    from layers.models import AddressPoint

    ap = AddressPoint.objects.current().order_by("pk").first()
    r = gf(client, TYPENAMES="gisportal:adresy", RESOURCEID=f"adresy.{ap.pk}", SRSNAME=srs)
    assert r.status_code == 200
    doc = xml(r)
    point = next(doc.iter(f"{GML}Point"))
    assert point.get("srsName") == srs
    x, y = Transformer.from_crs(2180, epsg, always_xy=True).transform(ap.geom.x, ap.geom.y)
    first, second = _first_point(doc)
    north_first = epsg in (2180, 2178, 4326)
    expected = (y, x) if authority and north_first else (x, y)
    tol = 1e-6 if epsg == 4326 else 0.01
    assert first == pytest.approx(expected[0], abs=tol) and second == pytest.approx(expected[1], abs=tol)


@pytest.mark.parametrize("srs", ["EPSG:9999", "CRS:84", "urn:ogc:def:crs:EPSG::32633", "foo"])
def test_unsupported_srsname(client, demo_data, srs):
    r = gf(client, TYPENAMES="gisportal:obreby", SRSNAME=srs)
    assert r.status_code == 400 and exc(r) == ("InvalidParameterValue", "srsName")


# ------------------------------------------------------------------ F5 GetPropertyValue
def test_get_property_value(client, demo_data, ogc_schemas):
    r = get(
        client,
        VERSION="2.0.0",
        REQUEST="GetPropertyValue",
        TYPENAMES="gisportal:obreby",
        VALUEREFERENCE="@gml:id",
    )
    doc = xml(r)
    assert doc.tag == f"{WFS}ValueCollection"
    members = [m.text for m in doc.findall(f"{WFS}member")]
    assert members and all(m.startswith("obreby.") for m in members)
    r = get(
        client,
        VERSION="2.0.0",
        REQUEST="GetPropertyValue",
        TYPENAMES="gisportal:obreby",
        VALUEREFERENCE="NAZWA_OBREBU",
    )
    assert all(m.text for m in xml(r).findall(f"{WFS}member"))
    r = get(
        client, VERSION="2.0.0", REQUEST="GetPropertyValue", TYPENAMES="gisportal:obreby", VALUEREFERENCE=""
    )
    assert r.status_code == 400
    r = get(
        client, VERSION="2.0.0", REQUEST="GetPropertyValue", TYPENAMES="gisportal:obreby", VALUEREFERENCE="kw"
    )
    assert r.status_code == 400 and exc(r)[0] == "InvalidParameterValue"


# ------------------------------------------------------------------ F7 ResourceId, F8 BBOX
def test_resource_ids(client, demo_data):
    pks = list(Parcel.objects.current().order_by("pk").values_list("pk", flat=True)[:2])
    r = gf(client, TYPENAMES="gisportal:dzialki", RESOURCEID=",".join(f"dzialki.{p}" for p in pks))
    ids = [f.get(f"{GML}id") for f in xml(r).iter(f"{GP}dzialki")]
    assert ids == [f"dzialki.{p}" for p in pks]
    r = gf(client, TYPENAMES="gisportal:dzialki", RESOURCEID="dzialki.999999999")
    assert r.status_code == 200 and xml(r).get("numberReturned") == "0"
    b = Building.objects.current().first()
    r = gf(client, TYPENAMES="gisportal:dzialki", RESOURCEID=f"budynki.{b.pk}")
    assert r.status_code == 400 and exc(r) == ("InvalidParameterValue", "RESOURCEID")
    r = gf(client, RESOURCEID="x'; SELECT 1--")
    assert r.status_code == 400 and exc(r)[1] == "RESOURCEID"


def test_bbox_axis_order_by_suffix(client, demo_data, parcel):
    x, y = parcel["x"], parcel["y"]
    ne = f"{y - 1},{x - 1},{y + 1},{x + 1}"
    en = f"{x - 1},{y - 1},{x + 1},{y + 1}"
    for bbox in (ne, ne + ",urn:ogc:def:crs:EPSG::2180", en + ",EPSG:2180"):
        body = gf(client, TYPENAMES="gisportal:dzialki", BBOX=bbox, OUTPUTFORMAT="application/json").json()
        assert parcel["id"] in [f["properties"]["ID_DZIALKI"] for f in body["features"]], bbox
    lon, lat = Transformer.from_crs(2180, 4326, always_xy=True).transform(x, y)
    d = 0.00001
    body = gf(
        client,
        TYPENAMES="gisportal:dzialki",
        BBOX=f"{lat - d},{lon - d},{lat + d},{lon + d},urn:ogc:def:crs:EPSG::4326",
        OUTPUTFORMAT="application/json",
    ).json()
    assert parcel["id"] in [f["properties"]["ID_DZIALKI"] for f in body["features"]]
    body = gf(
        client,
        TYPENAMES="gisportal:dzialki",
        BBOX=f"{lon - d},{lat - d},{lon + d},{lat + d},EPSG:4326",
        OUTPUTFORMAT="application/json",
    ).json()
    assert parcel["id"] in [f["properties"]["ID_DZIALKI"] for f in body["features"]]


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "5,5,1,1", "nan,1,2,3", "1,2,3,4,EPSG:9999"])
def test_bad_bbox(client, demo_data, bbox):
    r = gf(client, TYPENAMES="gisportal:dzialki", BBOX=bbox)
    assert r.status_code == 400 and exc(r)[0] == "InvalidParameterValue"


# ------------------------------------------------------------------ F9 / F10 paging
def test_hits_with_count_one(client, demo_data):
    r = gf(client, TYPENAMES="gisportal:dzialki", COUNT="1", RESULTTYPE="hits")
    doc = xml(r)
    assert doc.get("numberReturned") == "0"
    assert int(doc.get("numberMatched")) == Parcel.objects.current().count()
    assert doc.get("next") is None and doc.get("previous") is None  # a hits answer has no page to follow
    assert not list(doc.iter(f"{WFS}member"))
    body = gf(
        client, TYPENAMES="gisportal:dzialki", COUNT="1", RESULTTYPE="hits", OUTPUTFORMAT="application/json"
    ).json()
    assert body["links"] == [] and body["numberMatched"] == Parcel.objects.current().count()


def test_paging_walk_next_and_back(client, demo_data):
    url = "/ows?" + urlencode(
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "TYPENAMES": "gisportal:obreby",
            "COUNT": "7",
            "SORTBY": "NAZWA_OBREBU DESC",
        }
    )
    seen, matched, pages = [], set(), []
    while url:
        doc = xml(client.get(url))
        matched.add(doc.get("numberMatched"))
        ids = [f.get(f"{GML}id") for f in doc.iter(f"{GP}obreby")]
        seen += ids
        pages.append(ids)
        nxt = doc.get("next")
        url = ("/ows?" + urlsplit(nxt).query) if nxt else None
    from layers.models import Precinct

    assert len(seen) == len(set(seen)) == Precinct.objects.current().count()
    assert len(matched) == 1
    back = "/ows?" + urlencode(
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "TYPENAMES": "gisportal:obreby",
            "COUNT": "7",
            "SORTBY": "NAZWA_OBREBU DESC",
            "STARTINDEX": str(7 * (len(pages) - 1)),
        }
    )
    got = []
    while back:
        doc = xml(client.get(back))
        got = [f.get(f"{GML}id") for f in doc.iter(f"{GP}obreby")] + got
        prev = doc.get("previous")
        back = ("/ows?" + urlsplit(prev).query) if prev else None
    assert got == seen


def test_start_index_without_sort_is_stable(client, demo_data):
    a = [
        f["id"]
        for f in gf(
            client, TYPENAMES="gisportal:dzialki", COUNT="50", OUTPUTFORMAT="application/json"
        ).json()["features"]
    ]
    b = [
        f["id"]
        for f in gf(
            client,
            TYPENAMES="gisportal:dzialki",
            COUNT="25",
            STARTINDEX="25",
            OUTPUTFORMAT="application/json",
        ).json()["features"]
    ]
    assert a[25:] == b


def test_big_page_streams(client, demo_data, monkeypatch):
    from ogc.features import query

    monkeypatch.setattr(query, "SMALL_PAGE", 500)  # answers of more features than this are streamed
    r = gf(client, TYPENAMES="gisportal:dzialki", COUNT="5000", OUTPUTFORMAT="application/json")
    assert r.streaming
    body = json.loads(b"".join(r.streaming_content))
    n = Parcel.objects.current().count()
    assert body["numberReturned"] == len(body["features"]) == min(n, 5000)
    assert len({f["id"] for f in body["features"]}) == len(body["features"])


@pytest.mark.parametrize(
    "params, code",
    [
        ({"COUNT": "-1"}, 400),
        ({"COUNT": "abc"}, 400),
        ({"STARTINDEX": str(10**12)}, 400),
        ({"COUNT": str(10**9)}, 200),
        ({"RESULTTYPE": "everything"}, 400),
        ({"OUTPUTFORMAT": "text/html"}, 400),
    ],
)
def test_paging_parameter_limits(client, demo_data, params, code):
    r = gf(client, TYPENAMES="gisportal:obreby", **params)
    assert r.status_code == code


# ------------------------------------------------------------------ F11 WFS 1.1
def test_wfs11_typename_and_maxfeatures(client, demo_data):
    r = gf(client, "1.1.0", TYPENAME="gisportal:dzialki", MAXFEATURES="3", COUNT="10")
    assert r.status_code == 200 and "gml/3.1.1" in r["Content-Type"]
    doc = xml(r)
    assert doc.tag == f"{WFS11}FeatureCollection" and doc.get("numberOfFeatures") == "3"
    assert len(doc.findall("{http://www.opengis.net/gml}featureMember")) == 3
    r = gf(client, "1.1.0", TYPENAME="gisportal:dzialki", RESULTTYPE="hits")
    assert int(xml(r).get("numberOfFeatures")) == Parcel.objects.current().count()


def test_wfs11_srsname_forms(client, demo_data):
    from layers.models import AddressPoint

    ap = AddressPoint.objects.current().order_by("pk").first()
    doc = xml(
        gf(client, "1.1.0", TYPENAME="gisportal:adresy", FEATUREID=f"adresy.{ap.pk}", SRSNAME="EPSG:2180")
    )
    pos = next(doc.iter("{http://www.opengis.net/gml}pos")).text.split()
    assert float(pos[0]) == pytest.approx(ap.geom.x, abs=0.01)
    doc = xml(
        gf(
            client,
            "1.1.0",
            TYPENAME="gisportal:adresy",
            FEATUREID=f"adresy.{ap.pk}",
            SRSNAME="urn:ogc:def:crs:EPSG::2180",
        )
    )
    pos = next(doc.iter("{http://www.opengis.net/gml}pos")).text.split()
    assert float(pos[0]) == pytest.approx(ap.geom.y, abs=0.01)


# ------------------------------------------------------------------ formats, properties, sorting
def test_geojson_output(client, demo_data, parcel):
    body = gf(
        client,
        TYPENAMES="gisportal:dzialki",
        RESOURCEID=f"dzialki.{parcel['pk']}",
        OUTPUTFORMAT="application/json",
        SRSNAME="EPSG:2180",
    ).json()
    f = body["features"][0]
    assert f["id"] == f"dzialki.{parcel['pk']}" and f["properties"]["ID_DZIALKI"] == parcel["id"]
    assert body["crs"]["properties"]["name"] == "EPSG:2180"
    x0, y0 = f["geometry"]["coordinates"][0][0][0]
    assert parcel["extent"][0] - 0.01 <= x0 <= parcel["extent"][2] + 0.01


def test_property_names_and_sorting(client, demo_data):
    body = gf(
        client,
        TYPENAMES="gisportal:obreby",
        PROPERTYNAME="NAZWA_OBREBU",
        SORTBY="NAZWA_OBREBU DESC",
        OUTPUTFORMAT="application/json",
    ).json()
    names = [f["properties"]["NAZWA_OBREBU"] for f in body["features"]]
    assert names == sorted(names, reverse=True)
    assert all(set(f["properties"]) == {"NAZWA_OBREBU"} and f["geometry"] is None for f in body["features"])


@pytest.mark.parametrize(
    "param, value",
    [
        ("PROPERTYNAME", ".."),
        ("PROPERTYNAME", "//*"),
        ("PROPERTYNAME", "@*"),
        ("PROPERTYNAME", "exec(java.lang.Runtime)"),
        ("PROPERTYNAME", "kw"),
        ("SORTBY", "NAZWA_OBREBU; DROP TABLE x"),
        ("SORTBY", "id"),
        ("SORTBY", "1"),
        ("SORTBY", "NAZWA_OBREBU SIDEWAYS"),
    ],
)
def test_hostile_property_names(client, demo_data, param, value):
    r = gf(client, TYPENAMES="gisportal:obreby", **{param: value})
    assert r.status_code == 400 and exc(r)[0] == "InvalidParameterValue"


# ------------------------------------------------------------------ XML POST and hostile documents
POST = """<wfs:GetFeature service="WFS" version="2.0.0" count="5" xmlns:wfs="http://www.opengis.net/wfs/2.0"
  xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gisportal="https://gisportal.piaseczno.eu/schemas/gisportal/1.0">
  <wfs:Query typeNames="gisportal:obreby"><fes:SortBy><fes:SortProperty><fes:ValueReference>NAZWA_OBREBU</fes:ValueReference>
  <fes:SortOrder>ASC</fes:SortOrder></fes:SortProperty></fes:SortBy></wfs:Query></wfs:GetFeature>"""


def test_xml_post_getfeature(client, demo_data):
    r = client.post("/ows", POST, content_type="text/xml")
    assert r.status_code == 200, r.content[:300]
    doc = xml(r)
    names = [f.findtext(f"{GP}NAZWA_OBREBU") for f in doc.iter(f"{GP}obreby")]
    assert len(names) == 5 and names == sorted(names)


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS" version="2.0.0"><wfs:Query typeNames="&e;"/></wfs:GetFeature>',
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>',
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body/></soap:Envelope>',
        "<wfs:GetFeature",
        '<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS" version="2.0.0"/>',
    ],
)
def test_hostile_xml_posts(client, demo_data, body):
    r = client.post("/ows", body, content_type="text/xml")
    assert 400 <= r.status_code < 500
    assert b"root:" not in r.content and b"Traceback" not in r.content


def test_wfs_alias_and_gzip(client, demo_data):
    r = client.get(
        "/wfs?" + urlencode({"VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "gisportal:obreby"}),
        HTTP_ACCEPT_ENCODING="gzip",
    )
    assert r.status_code == 200 and r["Content-Encoding"] == "gzip"


def test_next_link_keeps_the_request(client, demo_data):
    doc = xml(gf(client, TYPENAMES="gisportal:dzialki", COUNT="10", SRSNAME="EPSG:2180"))
    q = dict(parse_qsl(urlsplit(doc.get("next")).query))
    assert q["STARTINDEX"] == "10" and q["SRSNAME"] == "EPSG:2180" and q["COUNT"] == "10"
