"""INSPIRE metadata (issue 28): the ISO 19139 records of the INSPIRE data sets (Cadastral Parcels, Addresses,
Buildings) and of the view (WMS) and download (WFS) services, at /metadane/<name>.xml (ogc/metadata.py),
valid against the local ISO 19139 schemas (gmd, and srv for the services), with the INSPIRE theme keyword,
the conformity to Regulation 1089/2010 and the resource identifier the WFS's extended capabilities and
pre-defined stored query use; the capabilities link them (MetadataUrl, SpatialDataSetIdentifier/@metadataURL,
MetadataURL of the harmonised feature types and view layers) and the CSW finds them by type."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from lxml import etree

from layers import metadata as edits
from ogc import metadata

pytestmark = pytest.mark.django_db

GMD = "http://www.isotc211.org/2005/gmd"
GCO = "http://www.isotc211.org/2005/gco"
SRV = "http://www.isotc211.org/2005/srv"
GMX = "http://www.isotc211.org/2005/gmx"
XLINK = "http://www.w3.org/1999/xlink"
NS = {
    "gmd": GMD,
    "gco": GCO,
    "srv": SRV,
    "gmx": GMX,
    "xlink": XLINK,
    "wfs": "http://www.opengis.net/wfs/2.0",
    "wms": "http://www.opengis.net/wms",
    "ows": "http://www.opengis.net/ows/1.1",
    "inspire_common": "http://inspire.ec.europa.eu/schemas/common/1.0",
    "inspire_dls": "http://inspire.ec.europa.eu/schemas/inspire_dls/1.0",
    "inspire_vs": "http://inspire.ec.europa.eu/schemas/inspire_vs/1.0",
}
DATASETS = {  # record name → (code, theme, topic category, feature types, view layers)
    "inspire-cp": (
        "CP",
        "cp",
        "planningCadastre",
        {"cp:CadastralParcel", "cp:CadastralZoning", "cp:CadastralBoundary"},
        {"CP.CadastralParcel", "CP.CadastralZoning", "CP.CadastralBoundary"},
    ),
    "inspire-ad": (
        "AD",
        "ad",
        "location",
        {
            "ad:Address",
            "ad:AdminUnitName",
            "ad:AddressAreaName",
            "ad:ThoroughfareName",
            "ad:PostalDescriptor",
        },
        {"AD.Address"},
    ),
    "inspire-bu": ("BU", "bu", "structure", {"bu-core2d:Building"}, {"BU.Building"}),
}
SERVICES = {
    "usluga-wms": ("view", "infoMapAccessService"),
    "usluga-wfs": ("download", "infoFeatureAccessService"),
}


def one(doc, xpath: str):
    found = doc.xpath(xpath, namespaces=NS)
    assert found, xpath
    return found[0]


def texts(doc, xpath: str) -> list[str]:
    return [str(v).strip() for v in doc.xpath(xpath, namespaces=NS)]


def fetch(client, url: str, **params):
    r = client.get(urlsplit(url).path, params)
    assert r.status_code == 200, (url, r.status_code)
    assert r["Content-Type"].startswith("application/xml")
    return etree.fromstring(r.content)


def url_of(name: str) -> str:
    return metadata.inspire_record_url(name)


def _iso_19139(ogc_schemas, tmp_path_factory, *parts: tuple[str, str]):
    """ISO 19139 with gmx (the records give registry values as gmx:Anchor, INSPIRE metadata TG 2.0)."""
    base = "http://schemas.opengis.net/iso/19139/20070417"
    wrapper = tmp_path_factory.mktemp("iso19139") / "wrapper.xsd"
    wrapper.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:wrapper">'
        + "".join(f'<xs:import namespace="{ns}" schemaLocation="{base}/{path}"/>' for ns, path in parts)
        + "</xs:schema>"
    )
    return ogc_schemas(str(wrapper))


@pytest.fixture(scope="module")
def gmd_schema(ogc_schemas, tmp_path_factory):
    return _iso_19139(ogc_schemas, tmp_path_factory, (GMD, "gmd/gmd.xsd"), (GMX, "gmx/gmx.xsd"))


@pytest.fixture(scope="module")
def srv_schema(ogc_schemas, tmp_path_factory):
    return _iso_19139(
        ogc_schemas, tmp_path_factory, (GMD, "gmd/gmd.xsd"), (GMX, "gmx/gmx.xsd"), (SRV, "srv/1.0/srv.xsd")
    )


@pytest.fixture
def wfs_caps(client, demo_data):
    r = client.get("/ows?" + urlencode({"SERVICE": "WFS", "REQUEST": "GetCapabilities", "VERSION": "2.0.0"}))
    assert r.status_code == 200
    return etree.fromstring(r.content)


@pytest.fixture
def wms_caps(client, demo_data):
    r = client.get("/ows?" + urlencode({"SERVICE": "WMS", "REQUEST": "GetCapabilities", "VERSION": "1.3.0"}))
    assert r.status_code == 200
    return etree.fromstring(r.content)


def _dataset_ids(caps) -> dict[str, tuple[str, str]]:
    """code → (namespace, metadataURL) of the WFS's SpatialDataSetIdentifiers."""
    return {
        i.findtext(f"{{{NS['inspire_common']}}}Code"): (
            i.findtext(f"{{{NS['inspire_common']}}}Namespace"),
            i.get("metadataURL"),
        )
        for i in caps.xpath("//inspire_dls:SpatialDataSetIdentifier", namespaces=NS)
    }


# ---------------------------------------------------------------- the data set records
@pytest.mark.parametrize("name", list(DATASETS))
def test_dataset_record_is_inspire_iso_19139(client, demo_data, gmd_schema, wfs_caps, name):
    code, theme, topic, _types, _views = DATASETS[name]
    for language in ("pol", "eng"):
        doc = fetch(client, url_of(name), LANGUAGE=language)
        assert gmd_schema.validate(doc), (name, language, gmd_schema.error_log)
    doc = fetch(client, url_of(name))
    assert one(doc, "/gmd:MD_Metadata/gmd:fileIdentifier/gco:CharacterString/text()") == (
        metadata.inspire_file_identifier(name)
    )
    assert one(doc, "/gmd:MD_Metadata/gmd:hierarchyLevel/gmd:MD_ScopeCode/@codeListValue") == "dataset"
    ident = one(doc, "/gmd:MD_Metadata/gmd:identificationInfo/gmd:MD_DataIdentification")
    # the resource identifier: the SpatialDataSetIdentifier of the WFS and the stored query's DataSetIdCode
    rid = one(ident, "gmd:citation/gmd:CI_Citation/gmd:identifier/gmd:RS_Identifier")
    rid_code = one(rid, "gmd:code/gco:CharacterString/text()")
    rid_space = one(rid, "gmd:codeSpace/gco:CharacterString/text()")
    assert (rid_code, rid_space) == (code, metadata.DATASET_NAMESPACE)
    listed = _dataset_ids(wfs_caps)
    assert listed[code] == (rid_space, url_of(name))
    # the INSPIRE theme from the GEMET INSPIRE themes thesaurus, cited with its date; TG 2.0: both Anchors
    themed = one(
        ident,
        "gmd:descriptiveKeywords/gmd:MD_Keywords[gmd:thesaurusName/gmd:CI_Citation/gmd:title/gmx:Anchor"
        f"='{edits.GEMET_THESAURUS_TITLE}']",
    )
    assert texts(themed, "gmd:keyword/gmx:Anchor/text()") == [edits.THEMES_BY_CODE[theme].label_pl]
    assert texts(themed, "gmd:keyword/gmx:Anchor/@xlink:href") == [
        f"http://inspire.ec.europa.eu/theme/{theme}"
    ]
    assert one(themed, ".//gmd:CI_Date/gmd:date/gco:Date/text()") == edits.GEMET_THESAURUS_DATE
    assert one(themed, ".//gmd:CI_DateTypeCode/@codeListValue") == "publication"
    english = fetch(client, url_of(name), LANGUAGE="eng")
    assert edits.THEMES_BY_CODE[theme].label_en in texts(english, "//gmd:keyword/*/text()")
    assert one(ident, "gmd:topicCategory/gmd:MD_TopicCategoryCode/text()") == topic
    # extent: gmina Piaseczno
    west = float(one(ident, ".//gmd:westBoundLongitude/gco:Decimal/text()"))
    north = float(one(ident, ".//gmd:northBoundLatitude/gco:Decimal/text()"))
    assert 20 < west < 22 and 51 < north < 53
    # reference systems and encoding
    crs = texts(doc, "//gmd:referenceSystemInfo//gmd:code/gmx:Anchor/@xlink:href")
    assert {
        "http://www.opengis.net/def/crs/EPSG/0/2180",
        "http://www.opengis.net/def/crs/EPSG/0/4258",
    } <= set(crs)
    formats = doc.xpath("//gmd:distributionFormat/gmd:MD_Format", namespaces=NS)
    assert {one(f, "gmd:version/gco:CharacterString/text()") for f in formats} >= {"3.2.1", "4.0"}
    schemas = texts(doc, "//gmd:MD_Format/gmd:specification/gco:CharacterString/text()")
    assert any(s.startswith("https://inspire.ec.europa.eu/schemas/") and s.endswith(".xsd") for s in schemas)
    # the download link is the pre-defined stored query of this data set
    links = texts(doc, "//gmd:transferOptions//gmd:linkage/gmd:URL/text()")
    assert any(f"DataSetIdCode={code}" in link for link in links)
    # conformity to Regulation 1089/2010: true (CP, checked by the data-cp suites) or notEvaluated
    result = one(doc, "//gmd:DQ_DomainConsistency/gmd:result/gmd:DQ_ConformanceResult")
    assert "1089/2010" in one(result, "gmd:specification//gmd:title/gmx:Anchor/text()")
    assert one(result, "gmd:specification//gmd:date/gco:Date/text()") == "2010-12-08"
    passed = result.xpath("gmd:pass/gco:Boolean/text()", namespaces=NS)
    if code == "CP":
        assert passed == ["true"]
    else:
        assert not passed and one(result, "gmd:pass/@gco:nilReason") == "unknown"
    assert one(doc, "//gmd:LI_Lineage/gmd:statement/gco:CharacterString/text()").strip()
    assert (
        one(doc, "//gmd:dataQualityInfo//gmd:DQ_Scope/gmd:level/gmd:MD_ScopeCode/@codeListValue") == "dataset"
    )
    # two legal constraints: access (no limitations) and use (the licence)
    assert len(ident.xpath("gmd:resourceConstraints/gmd:MD_LegalConstraints", namespaces=NS)) == 2


def test_dataset_identifiers_download_through_the_stored_query(client, demo_data, wfs_caps):
    """Every INSPIRE data set's identifier, as the record gives it, downloads its features."""
    for name, (code, _theme, _topic, types, _views) in DATASETS.items():
        doc = fetch(client, url_of(name))
        rid = one(doc, "//gmd:MD_DataIdentification/gmd:citation//gmd:RS_Identifier")
        params = {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "STOREDQUERY_ID": "http://inspire.ec.europa.eu/operation/download/GetSpatialDataSet",
            "DataSetIdCode": one(rid, "gmd:code/gco:CharacterString/text()"),
            "DataSetIdNamespace": one(rid, "gmd:codeSpace/gco:CharacterString/text()"),
            "CRS": "urn:ogc:def:crs:EPSG::2180",
            "Language": "pol",
            "COUNT": "5",
        }
        r = client.get("/ows?" + urlencode(params))
        body = b"".join(r.streaming_content) if r.streaming else r.content
        assert r.status_code == 200, body[:300]
        collection = etree.fromstring(body)
        members = collection.xpath("/wfs:FeatureCollection/wfs:member/*", namespaces=NS)
        assert members, code
        found = {f"{el.prefix}:{etree.QName(el).localname}" for el in members}
        assert found <= types


# ---------------------------------------------------------------- the service records
@pytest.mark.parametrize("name", list(SERVICES))
def test_service_record_is_inspire_iso_19139(client, demo_data, srv_schema, gmd_schema, name):
    kind, category = SERVICES[name]
    for language in ("pol", "eng"):
        doc = fetch(client, url_of(name), LANGUAGE=language)
        assert srv_schema.validate(doc), (name, language, srv_schema.error_log)
    doc = fetch(client, url_of(name))
    assert one(doc, "/gmd:MD_Metadata/gmd:hierarchyLevel/gmd:MD_ScopeCode/@codeListValue") == "service"
    ident = one(doc, "/gmd:MD_Metadata/gmd:identificationInfo/srv:SV_ServiceIdentification")
    assert one(ident, "srv:serviceType/gco:LocalName/text()") == kind
    assert one(ident, "srv:couplingType/srv:SV_CouplingType/@codeListValue") == "tight"
    assert category in texts(ident, "gmd:descriptiveKeywords//gmd:keyword/gmx:Anchor/text()")
    west = float(one(ident, "srv:extent//gmd:westBoundLongitude/gco:Decimal/text()"))
    assert 20 < west < 22
    assert one(
        ident, "srv:containsOperations/srv:SV_OperationMetadata/srv:operationName/gco:CharacterString/text()"
    )
    # operatesOn: the three data sets' records, by URL and by fileIdentifier
    operates = ident.xpath("srv:operatesOn", namespaces=NS)
    assert {o.get(f"{{{XLINK}}}href") for o in operates} == {url_of(n) for n in DATASETS}
    for o in operates:
        record = fetch(client, o.get(f"{{{XLINK}}}href"))
        assert gmd_schema.validate(record)
        assert o.get("uuidref") == one(
            record, "/gmd:MD_Metadata/gmd:fileIdentifier/gco:CharacterString/text()"
        )
    # coupled resources name what the service serves of each data set
    coupled = set(texts(ident, "srv:coupledResource/srv:SV_CoupledResource/gco:ScopedName/text()"))
    expected = set().union(*(d[4] if kind == "view" else d[3] for d in DATASETS.values()))
    assert coupled == expected
    titles = texts(doc, "//gmd:DQ_ConformanceResult/gmd:specification//gmd:title/gmx:Anchor/text()")
    assert any("976/2009" in t for t in titles) and any("1089/2010" in t for t in titles)
    endpoint = one(doc, "//gmd:transferOptions//gmd:linkage/gmd:URL/text()")
    assert "REQUEST=GetCapabilities" in endpoint
    assert client.get(urlsplit(endpoint).path + "?" + urlsplit(endpoint).query).status_code == 200


def test_unknown_and_unpublished_records(client, demo_data):
    for name in ("inspire-xx", "usluga-csw", "inspire-CP", "inspire"):
        assert client.get(f"/metadane/{name}.xml").status_code == 404
    assert client.post("/metadane/inspire-cp.xml").status_code == 405


# ---------------------------------------------------------------- the capabilities link them
def test_wfs_capabilities_link_the_records(client, wfs_caps, gmd_schema, srv_schema):
    ext = one(wfs_caps, "//ows:ExtendedCapabilities/inspire_dls:ExtendedCapabilities")
    service_url = one(ext, "inspire_common:MetadataUrl/inspire_common:URL/text()")
    assert service_url == url_of("usluga-wfs")
    record = fetch(client, service_url)
    assert srv_schema.validate(record)
    assert one(record, "//srv:serviceType/gco:LocalName/text()") == "download"
    listed = _dataset_ids(wfs_caps)
    for name, (code, _theme, _topic, types, _views) in DATASETS.items():
        namespace, md_url = listed[code]
        assert namespace == metadata.DATASET_NAMESPACE and md_url == url_of(name)
        for typename in types:
            ft = one(wfs_caps, f"//wfs:FeatureType[wfs:Name='{typename}']")
            assert one(ft, "wfs:MetadataURL/@xlink:href") == url_of(name), typename
        record = fetch(client, md_url)
        assert gmd_schema.validate(record)
    # the national data sets are still listed beside the INSPIRE ones (the stored query serves them too)
    assert "dzialki" in listed and "adresy" in listed


def test_wfs_capabilities_still_validate(client, wfs_caps, ogc_schemas, tmp_path):
    from ..conftest import SHARED_DATA

    dls = SHARED_DATA / "ogc-schemas" / "inspire" / "inspire_dls" / "1.0" / "inspire_dls.xsd"
    wrapper = tmp_path / "wrapper.xsd"
    wrapper.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:wrapper">'
        '<xs:import namespace="http://www.opengis.net/wfs/2.0" schemaLocation="http://schemas.opengis.net/wfs/2.0/wfs.xsd"/>'
        f'<xs:import namespace="{NS["inspire_dls"]}" schemaLocation="{dls.as_uri()}"/>'
        "</xs:schema>"
    )
    schema = ogc_schemas(str(wrapper))
    assert schema.validate(wfs_caps), schema.error_log


def test_wms_capabilities_link_the_records(client, wms_caps, gmd_schema, srv_schema, ogc_schemas):
    from ..conftest import SHARED_DATA

    ext = one(wms_caps, "/wms:WMS_Capabilities/wms:Capability/inspire_vs:ExtendedCapabilities")
    service_url = one(ext, "inspire_common:MetadataUrl/inspire_common:URL/text()")
    assert service_url == url_of("usluga-wms")
    record = fetch(client, service_url)
    assert srv_schema.validate(record)
    assert one(record, "//srv:serviceType/gco:LocalName/text()") == "view"
    for name, (_code, _theme, _topic, _types, views) in DATASETS.items():
        for view in views:
            layer = one(wms_caps, f"//wms:Layer[wms:Name='{view}']")
            href = one(layer, "wms:MetadataURL/wms:OnlineResource/@xlink:href")
            assert href == url_of(name), view
            assert one(layer, "wms:MetadataURL/@type") == "ISO19115:2003"
    # the national layers keep their own data sets' records
    dz = one(wms_caps, "//wms:Layer[wms:Name='dzialki']/wms:MetadataURL/wms:OnlineResource/@xlink:href")
    assert urlsplit(dz).path == "/metadane/dzialki.xml"
    xsd = SHARED_DATA / "ogc-schemas" / "inspire" / "inspire_vs" / "1.0" / "inspire_vs.xsd"
    schema = ogc_schemas(str(xsd))
    assert schema.validate(wms_caps), schema.error_log


# ---------------------------------------------------------------- the CSW finds them
def test_csw_finds_the_inspire_records_by_type(live_url, srv_schema, gmd_schema):
    from owslib.csw import CatalogueServiceWeb
    from owslib.fes import PropertyIsEqualTo

    ids = {name: metadata.inspire_file_identifier(name) for name in (*DATASETS, *SERVICES)}
    csw = CatalogueServiceWeb(f"{live_url}/csw", timeout=60)

    csw.getrecords2(constraints=[PropertyIsEqualTo("dc:type", "service")], maxrecords=100, esn="full")
    assert set(csw.records) == {ids[n] for n in SERVICES}
    assert {r.type for r in csw.records.values()} == {"service"}

    csw.getrecords2(constraints=[PropertyIsEqualTo("dc:type", "dataset")], maxrecords=100, esn="brief")
    assert {ids[n] for n in DATASETS} <= set(csw.records)
    assert not {ids[n] for n in SERVICES} & set(csw.records)

    csw.getrecords2(constraints=[PropertyIsEqualTo("apiso:ServiceType", "download")], maxrecords=100)
    assert set(csw.records) == {ids["usluga-wfs"]}

    for name in (*DATASETS, *SERVICES):
        csw.getrecordbyid(id=[ids[name]], outputschema=GMD)
        iso = csw.records[ids[name]]
        doc = etree.fromstring(iso.xml)
        schema = srv_schema if name in SERVICES else gmd_schema
        assert schema.validate(doc), (name, schema.error_log)
        assert iso.identification[0].title
