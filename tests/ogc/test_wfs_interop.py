"""WFS details that real clients depend on (issue 19): WFS 1.1.0 returns every match up to the
advertised DefaultMaxFeatures, hits answers carry no `next`, the exact-multiple page has no `next`,
DescribeFeatureType answers every advertised format, every FeatureType has a MetadataURL whose
ISO 19139 record validates, the pre-defined data set is complete, and polygon coordinates follow
the axis order the srsName form implies in GML 3.2 and GML 3.1.1."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from lxml import etree
from pyproj import Transformer

from layers.models import Parcel, Precinct

pytestmark = pytest.mark.django_db
WFS20 = "{http://www.opengis.net/wfs/2.0}"
WFS11 = "{http://www.opengis.net/wfs}"
OWS11 = "{http://www.opengis.net/ows/1.1}"
OWS10 = "{http://www.opengis.net/ows}"
XLINK = "{http://www.w3.org/1999/xlink}"
GML32 = "{http://www.opengis.net/gml/3.2}"
GML311 = "{http://www.opengis.net/gml}"
GMD = "{http://www.isotc211.org/2005/gmd}"
GCO = "{http://www.isotc211.org/2005/gco}"
GP = "{https://gisportal.piaseczno.eu/schemas/gisportal/1.0}"
INSPIRE_COMMON = "{http://inspire.ec.europa.eu/schemas/common/1.0}"
INSPIRE_DLS = "{http://inspire.ec.europa.eu/schemas/inspire_dls/1.0}"
INSPIRE = "http://inspire.ec.europa.eu/operation/download/GetSpatialDataSet"


def get(client, **params):
    return client.get("/ows?" + urlencode({"SERVICE": "WFS", **params}))


def gf(client, version="2.0.0", **params):
    return get(client, VERSION=version, REQUEST="GetFeature", **params)


def xml(resp):
    body = b"".join(resp.streaming_content) if resp.streaming else resp.content
    return etree.fromstring(body)


def body_json(resp):
    return json.loads(b"".join(resp.streaming_content) if resp.streaming else resp.content)


# ------------------------------------------------------------------ WFS 1.1.0: no silent first page
def test_wfs11_returns_every_feature_not_the_first_thousand(client, demo_data):
    n = Parcel.objects.current().count()
    assert n > 1000  # the old silent limit must be exceeded by the test data
    doc = xml(gf(client, "1.1.0", TYPENAME="gisportal:dzialki"))
    assert int(doc.get("numberOfFeatures")) == n
    assert len(doc.findall(f"{GML311}featureMember")) == n
    hits = xml(gf(client, "1.1.0", TYPENAME="gisportal:dzialki", RESULTTYPE="hits"))
    assert int(hits.get("numberOfFeatures")) == n
    body = body_json(gf(client, "1.1.0", TYPENAME="gisportal:dzialki", OUTPUTFORMAT="application/json"))
    assert len(body["features"]) == n
    # a client's own MAXFEATURES is still honoured
    assert (
        xml(gf(client, "1.1.0", TYPENAME="gisportal:dzialki", MAXFEATURES="7")).get("numberOfFeatures") == "7"
    )


def test_wfs11_caps_advertise_default_max_features(client, demo_data):
    from ogc.wfs.requests import MAX_COUNT

    doc = xml(get(client, REQUEST="GetCapabilities", ACCEPTVERSIONS="1.1.0"))
    values = [
        c.findtext(f"{OWS10}Value")
        for c in doc.iter(f"{OWS10}Constraint")
        if c.get("name") == "DefaultMaxFeatures"
    ]
    assert values == [str(MAX_COUNT)]


def test_wfs11_beyond_the_maximum_is_capped_at_the_advertised_value(client, demo_data, monkeypatch):
    from ogc.wfs import requests as wr

    monkeypatch.setattr(wr, "MAX_COUNT", 1500)
    doc = xml(gf(client, "1.1.0", TYPENAME="gisportal:dzialki"))
    assert doc.get("numberOfFeatures") == "1500"


def test_wfs20_default_page_unchanged(client, demo_data):
    doc = xml(gf(client, TYPENAMES="gisportal:dzialki"))
    assert doc.get("numberReturned") == "1000" and doc.get("next")


# ------------------------------------------------------------------ next links
def test_no_next_link_on_the_exact_multiple_page(client, demo_data):
    n = Precinct.objects.current().count()
    assert n >= 4
    for count, start in ((n, 0), (n // 2, n - n // 2), (1, n - 1)):
        doc = xml(gf(client, TYPENAMES="gisportal:obreby", COUNT=str(count), STARTINDEX=str(start)))
        assert doc.get("numberReturned") == str(count)
        assert doc.get("next") is None, (count, start)
        body = body_json(
            gf(
                client,
                TYPENAMES="gisportal:obreby",
                COUNT=str(count),
                STARTINDEX=str(start),
                OUTPUTFORMAT="application/json",
            )
        )
        assert [link for link in body["links"] if link["rel"] == "next"] == []
    doc = xml(gf(client, TYPENAMES="gisportal:obreby", COUNT=str(n - 1)))
    assert doc.get("next")  # one short of the end: there is a next page


def test_no_next_link_on_the_exact_multiple_of_two_types(client, demo_data):
    from layers.models import CadastralUnit

    total = Precinct.objects.current().count() + CadastralUnit.objects.current().count()
    doc = xml(gf(client, TYPENAMES="gisportal:obreby,gisportal:jednostki_ewidencyjne", COUNT=str(total)))
    assert doc.get("numberReturned") == str(total) and doc.get("next") is None
    doc = xml(gf(client, TYPENAMES="gisportal:obreby,gisportal:jednostki_ewidencyjne", COUNT=str(total - 1)))
    assert doc.get("next")


# ------------------------------------------------------------------ DescribeFeatureType in every advertised format
@pytest.mark.parametrize("version", ["2.0.0", "1.1.0"])
def test_describe_feature_type_in_every_advertised_format(client, demo_data, version):
    ows = OWS11 if version == "2.0.0" else OWS10
    caps = xml(get(client, REQUEST="GetCapabilities", ACCEPTVERSIONS=version))
    formats = {
        v.text
        for op in caps.iter(f"{ows}Operation")
        if op.get("name") == "DescribeFeatureType"
        for p in op.iter(f"{ows}Parameter")
        if p.get("name") == "outputFormat"
        for v in p.iter(f"{ows}Value")
    }
    wfs = WFS20 if version == "2.0.0" else WFS11
    formats |= {f.text for f in caps.iter(f"{wfs}Format")}  # what each FeatureType lists
    assert "application/json" in formats
    for fmt in formats:
        r = get(
            client,
            VERSION=version,
            REQUEST="DescribeFeatureType",
            TYPENAMES="gisportal:dzialki",
            OUTPUTFORMAT=fmt,
        )
        assert r.status_code == 200, (fmt, r.content[:200])
        if "json" in fmt:
            doc = r.json()
            props = {p["name"]: p for p in doc["featureTypes"][0]["properties"]}
            assert doc["featureTypes"][0]["typeName"] == "dzialki"
            assert (
                props["ID_DZIALKI"]["localType"] == "string"
                and props["geometry"]["localType"] == "MultiSurface"
            )
        else:
            assert etree.fromstring(r.content).tag == "{http://www.w3.org/2001/XMLSchema}schema"


def test_describe_json_types_agree_with_the_xml_schema(client, demo_data):
    xsd = etree.fromstring(get(client, VERSION="2.0.0", REQUEST="DescribeFeatureType").content)
    xml_types = {
        (ct.get("name")[:-4], el.get("name")): el.get("type").split(":")[1]
        for ct in xsd.iter("{http://www.w3.org/2001/XMLSchema}complexType")
        for el in ct.iter("{http://www.w3.org/2001/XMLSchema}element")
    }
    doc = get(client, VERSION="2.0.0", REQUEST="DescribeFeatureType", OUTPUTFORMAT="application/json").json()
    json_types = {
        (ft["typeName"], p["name"]): p["type"].split(":")[1]
        for ft in doc["featureTypes"]
        for p in ft["properties"]
        if p["name"] != "geometry"
    }
    assert json_types and all(xml_types[k] == v for k, v in json_types.items())


# ------------------------------------------------------------------ INSPIRE: schema location, MetadataURL records
def _inspire_caps_schema(ogc_schemas, tmp_path: Path):
    from ..conftest import SHARED_DATA

    dls = SHARED_DATA / "ogc-schemas" / "inspire" / "inspire_dls" / "1.0" / "inspire_dls.xsd"
    wrapper = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:wrapper">
      <xs:import namespace="http://www.opengis.net/wfs/2.0" schemaLocation="http://schemas.opengis.net/wfs/2.0/wfs.xsd"/>
      <xs:import namespace="http://inspire.ec.europa.eu/schemas/inspire_dls/1.0" schemaLocation="{dls.as_uri()}"/>
    </xs:schema>"""
    (tmp_path / "wrapper.xsd").write_text(wrapper)
    return ogc_schemas(str(tmp_path / "wrapper.xsd"))


def test_caps_20_name_inspire_dls_and_validate_with_it(client, demo_data, ogc_schemas, tmp_path):
    doc = xml(get(client, REQUEST="GetCapabilities"))
    location = doc.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation").split()
    pairs = dict(zip(location[::2], location[1::2], strict=True))
    assert pairs["http://inspire.ec.europa.eu/schemas/inspire_dls/1.0"].endswith("/inspire_dls.xsd")
    schema = _inspire_caps_schema(ogc_schemas, tmp_path)
    assert schema.validate(doc), schema.error_log
    assert (
        doc.find(f"{OWS11}OperationsMetadata/{OWS11}ExtendedCapabilities/{INSPIRE_DLS}ExtendedCapabilities")
        is not None
    )
    contact = doc.find(f"{OWS11}ServiceProvider/{OWS11}ServiceContact")
    assert contact.findtext(f"{OWS11}PositionName")


def _metadata_urls(client, version: str) -> dict[str, str]:
    doc = xml(get(client, REQUEST="GetCapabilities", ACCEPTVERSIONS=version))
    wfs = WFS20 if version == "2.0.0" else WFS11
    urls = {}
    for ft in doc.iter(f"{wfs}FeatureType"):
        if not (ft.findtext(f"{wfs}Name") or "").startswith("gisportal:"):
            continue  # INSPIRE harmonised types point at the record of the data set they come from
        el = ft.find(f"{wfs}MetadataURL")
        assert el is not None, ft.findtext(f"{wfs}Name")
        urls[ft.findtext(f"{wfs}Name")] = el.get(f"{XLINK}href") if version == "2.0.0" else el.text
    return urls


def test_every_feature_type_has_a_valid_iso_19139_record(client, demo_data, ogc_schemas, settings):
    urls = _metadata_urls(client, "2.0.0")
    assert urls.keys() == _metadata_urls(client, "1.1.0").keys()
    caps = xml(get(client, REQUEST="GetCapabilities"))
    dataset_ids = {
        (i.findtext(f"{INSPIRE_COMMON}Code"), i.findtext(f"{INSPIRE_COMMON}Namespace"))
        for i in caps.iter(f"{INSPIRE_DLS}SpatialDataSetIdentifier")
    }
    schema = ogc_schemas("iso/19139/20070417/gmd/gmd.xsd")
    identifiers = set()
    for name, url in urls.items():
        assert url.startswith(settings.GISPORTAL_PUBLIC_URL + "/metadane/"), url
        r = client.get(urlsplit(url).path)
        assert r.status_code == 200 and r["Content-Type"].startswith("application/xml")
        doc = etree.fromstring(r.content)
        assert doc.tag == f"{GMD}MD_Metadata"
        assert schema.validate(doc), (name, schema.error_log)
        assert doc.findtext(f"{GMD}fileIdentifier/{GCO}CharacterString")
        rid = doc.find(
            f".//{GMD}MD_DataIdentification/{GMD}citation/{GMD}CI_Citation/{GMD}identifier/{GMD}RS_Identifier"
        )
        ident = (
            rid.findtext(f"{GMD}code/{GCO}CharacterString"),
            rid.findtext(f"{GMD}codeSpace/{GCO}CharacterString"),
        )
        assert ident in dataset_ids and f"gisportal:{ident[0]}" == name
        west = float(doc.findtext(f".//{GMD}westBoundLongitude/{GCO}Decimal"))
        assert 20 < west < 22
        identifiers.add(doc.findtext(f"{GMD}fileIdentifier/{GCO}CharacterString"))
    assert len(identifiers) == len(urls)  # one record per data set


def test_metadata_record_of_unknown_or_label_layer_is_404(client, demo_data):
    for name in ("nope", "numery_dzialek", "..%2fsettings"):
        assert client.get(f"/metadane/{name}.xml").status_code == 404
    assert client.get("/metadane/dzialki%00.xml").status_code == 400  # NUL: refused before routing
    assert client.post("/metadane/dzialki.xml").status_code == 405


# ------------------------------------------------------------------ the pre-defined data set is complete
def test_get_spatial_data_set_returns_the_whole_data_set(client, demo_data):
    n = Parcel.objects.current().count()
    r = gf(
        client,
        STOREDQUERY_ID=INSPIRE,
        CRS="urn:ogc:def:crs:EPSG::2180",
        DataSetIdCode="dzialki",
        DataSetIdNamespace="https://gisportal.piaseczno.eu/zbiory",
        Language="pol",
    )
    doc = xml(r)
    assert doc.get("numberMatched") == doc.get("numberReturned") == str(n)
    assert doc.get("next") is None
    # an explicit COUNT still pages
    doc = xml(
        gf(
            client,
            STOREDQUERY_ID=INSPIRE,
            CRS="urn:ogc:def:crs:EPSG::2180",
            DataSetIdCode="dzialki",
            DataSetIdNamespace="https://gisportal.piaseczno.eu/zbiory",
            Language="pol",
            COUNT="10",
        )
    )
    assert doc.get("numberReturned") == "10" and doc.get("next")


# ------------------------------------------------------------------ polygon axis order in GML 3.2 and 3.1.1
SRS_FORMS = [
    ("urn:ogc:def:crs:EPSG::2180", 2180, True),
    ("EPSG:2180", 2180, False),
    ("http://www.opengis.net/def/crs/EPSG/0/2180", 2180, True),
    ("urn:ogc:def:crs:EPSG::4326", 4326, True),
    ("EPSG:4326", 4326, False),
    ("urn:ogc:def:crs:EPSG::2178", 2178, True),
    ("EPSG:2178", 2178, False),
]


def _first_vertex(doc, gml: str) -> tuple[float, float]:
    pos = next(doc.iter(f"{gml}posList")).text.split()
    return float(pos[0]), float(pos[1])


@pytest.mark.parametrize("version", ["2.0.0", "1.1.0"])
@pytest.mark.parametrize("srs, epsg, authority", SRS_FORMS)
@pytest.mark.parametrize("layer", ["dzialki", "obreby"])
def test_polygon_coordinates_follow_the_srsname_form(client, demo_data, version, srs, epsg, authority, layer):
    model = Parcel if layer == "dzialki" else Precinct
    obj = model.objects.current().order_by("pk").first()
    assert obj.geom.num_geom == 1  # a single-part multi-surface: the path that once lost its swap
    x, y = Transformer.from_crs(2180, epsg, always_xy=True).transform(*obj.geom[0][0][0])
    ids = {"RESOURCEID" if version == "2.0.0" else "FEATUREID": f"{layer}.{obj.pk}"}
    r = gf(
        client,
        version,
        **{"TYPENAMES" if version == "2.0.0" else "TYPENAME": f"gisportal:{layer}"},
        SRSNAME=srs,
        **ids,
    )
    assert r.status_code == 200
    doc = xml(r)
    gml = GML32 if version == "2.0.0" else GML311
    surface = next(doc.iter(f"{gml}MultiSurface"))
    assert surface.get("srsName") == srs
    north_first = epsg in (2180, 2178, 4326)
    expected = (y, x) if authority and north_first else (x, y)
    tol = 1e-6 if epsg == 4326 else 0.01
    first, second = _first_vertex(doc, gml)
    assert first == pytest.approx(expected[0], abs=tol) and second == pytest.approx(expected[1], abs=tol)


def test_gml_311_output_validates_against_the_11_schema(client, demo_data):
    """WFS 1.1.0 GetFeature (GML 3.1.1) against wfs/1.1.0 + our DescribeFeatureType for 1.1."""
    from .test_wfs import _wfs11_schema  # the 1.1 schema set with its filterAll quirk handled

    xsd = get(client, VERSION="1.1.0", REQUEST="DescribeFeatureType", TYPENAME="gisportal:dzialki").content
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "app.xsd"
        app.write_bytes(xsd)
        wrapper = Path(tmp) / "wrapper.xsd"
        wrapper.write_text(f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:wrapper">
          <xs:import namespace="http://www.opengis.net/wfs" schemaLocation="http://schemas.opengis.net/wfs/1.1.0/wfs.xsd"/>
          <xs:import namespace="https://gisportal.piaseczno.eu/schemas/gisportal/1.0" schemaLocation="{app.as_uri()}"/>
        </xs:schema>""")
        schema = _wfs11_schema(wrapper)
        doc = xml(gf(client, "1.1.0", TYPENAME="gisportal:dzialki", MAXFEATURES="20"))
        assert schema.validate(doc), schema.error_log


@pytest.mark.parametrize("version", ["1.3.0", "1.1.1"])
def test_every_wms_data_layer_has_the_same_metadata_url(client, demo_data, version):
    r = client.get("/ows?" + urlencode({"SERVICE": "WMS", "VERSION": version, "REQUEST": "GetCapabilities"}))
    doc = etree.fromstring(r.content)
    ns = "{http://www.opengis.net/wms}" if version == "1.3.0" else ""
    urls = {}
    for layer in doc.iter(f"{ns}Layer"):
        name = layer.findtext(f"{ns}Name")
        if name in (None, "numery_dzialek") or layer.find(f"{ns}Layer") is not None:
            continue
        if (
            name and "." in name
        ):  # an INSPIRE view layer: the record of the layer it portrays (test_inspire_view_layers)
            continue
        online = layer.find(f"{ns}MetadataURL/{ns}OnlineResource")
        assert online is not None, name
        urls[f"gisportal:{name}"] = online.get(f"{XLINK}href")
    assert urls == _metadata_urls(client, "2.0.0")  # WMS and WFS point at the same record of each data set
