"""The INSPIRE validator's pre-defined WFS download service suite, ported.

Source: inspire-eu-validation/ets-repository, service/ds-wfs-pre-defined-soapui-project.xml (SoapUI
project; its test suites "Initialization and basic checks", "Capabilities", "Stored Query"). Each
test below names the ETS test case it ports and asserts what that case's assertions assert
(status codes, root elements, XPaths, schema validity through xsi:schemaLocation). Steps that test
an external service metadata record are not applicable: our service metadata is in the capabilities.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from lxml import etree

pytestmark = pytest.mark.django_db
NS = {
    "wfs": "http://www.opengis.net/wfs/2.0",
    "ows": "http://www.opengis.net/ows/1.1",
    "xlink": "http://www.w3.org/1999/xlink",
    "inspire_dls": "http://inspire.ec.europa.eu/schemas/inspire_dls/1.0",
    "inspire_common": "http://inspire.ec.europa.eu/schemas/common/1.0",
    "gml": "http://www.opengis.net/gml/3.2",
    "gmd": "http://www.isotc211.org/2005/gmd",
    "xs": "http://www.w3.org/2001/XMLSchema",
}
EXT = "/wfs:WFS_Capabilities/ows:OperationsMetadata/ows:ExtendedCapabilities/inspire_dls:ExtendedCapabilities[1]"
STORED_QUERY = "http://inspire.ec.europa.eu/operation/download/GetSpatialDataSet"


def get(client, **params):
    r = client.get("/ows?" + urlencode(params))
    body = b"".join(r.streaming_content) if r.streaming else r.content
    return r, body


def caps(client, **extra):
    r, body = get(client, SERVICE="WFS", REQUEST="GetCapabilities", ACCEPTVERSIONS="2.0.0", **extra)
    assert r.status_code == 200
    return etree.fromstring(body)


def no_exception(body: bytes) -> None:
    if body[:1] == b"<":
        root = etree.fromstring(body)
        assert etree.QName(root).localname not in ("ExceptionReport", "ServiceExceptionReport"), body[:300]


def one(doc, path: str):
    found = doc.xpath(path, namespaces=NS)
    assert found, path
    return found[0]


@pytest.fixture
def validating(ogc_schemas, tmp_path, client):
    """Validate a response by its own xsi:schemaLocation, as the ETS's "Simple Schema Validator"
    does: OGC and INSPIRE schemas from ../shared, our application schema from our own
    DescribeFeatureType."""
    from ..conftest import SHARED_DATA

    inspire = SHARED_DATA / "ogc-schemas" / "inspire"

    def validate(doc) -> None:
        location = doc.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation").split()
        imports = []
        for i, (ns, url) in enumerate(zip(location[::2], location[1::2], strict=True)):
            if url.startswith("http://inspire.ec.europa.eu/schemas/"):
                url = (inspire / url[len("http://inspire.ec.europa.eu/schemas/") :]).as_uri()
            elif "REQUEST=DescribeFeatureType" in url:  # ours: fetched from the app, not the network
                path = tmp_path / f"app{i}.xsd"
                path.write_bytes(client.get("/ows?" + urlsplit(url).query).content)
                url = path.as_uri()
            imports.append(f'<xs:import namespace="{ns}" schemaLocation="{url}"/>')
        wrapper = tmp_path / "wrapper.xsd"
        wrapper.write_text(
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:wrapper">'
            + "".join(imports)
            + "</xs:schema>"
        )
        schema = ogc_schemas(str(wrapper))
        assert schema.validate(doc), schema.error_log

    return validate


# ---- suite "Initialization and basic checks"
def test_service_is_available(client, demo_data):
    """TC "Service is available": 200, no exception, nothing before the XML prolog, WFS_Capabilities 2.0.0."""
    r, body = get(client, REQUEST="GetCapabilities", SERVICE="WFS", ACCEPTVERSIONS="2.0.0", VERSION="2.0.0")
    assert r.status_code == 200
    assert body[:7].strip().startswith(b"<")
    no_exception(body)
    doc = etree.fromstring(body)
    assert one(doc, "/wfs:WFS_Capabilities/@version") == "2.0.0"


def test_get_capabilities_is_schema_valid(client, demo_data, validating):
    """TC "GetCapabilities is schema valid": xsi:schemaLocation exists and the document validates against it."""
    doc = caps(client, VERSION="2.0.0")
    assert doc.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation")
    validating(doc)


def test_operation_endpoints_are_available(client, demo_data):
    """TC "Operation endpoints are available": a FeatureType whose prefix resolves, output formats listed,
    GetFeature hits (with NAMESPACES) and DescribeFeatureType at the advertised GET endpoints."""
    doc = caps(client, VERSION="2.0.0")
    name = one(doc, "//wfs:FeatureType[1]/wfs:Name").text
    prefix = name.split(":")[0]
    assert not doc.xpath(
        f"//wfs:FeatureType[1]/wfs:Name[not(namespace::*[name()='{prefix}'])]", namespaces=NS
    )
    namespace = one(doc, f"//wfs:FeatureType[1]/wfs:Name/namespace::*[name()='{prefix}']")[1]
    formats = doc.xpath(
        "//wfs:FeatureType[1]/wfs:OutputFormats/wfs:Format/text() | /wfs:WFS_Capabilities/ows:OperationsMetadata"
        "/ows:Operation[@name='GetFeature']/ows:Parameter[@name='outputFormat']/ows:AllowedValues/ows:Value/text()",
        namespaces=NS,
    )
    assert formats
    for op in ("GetFeature", "DescribeFeatureType"):
        href = one(doc, f"//ows:Operation[@name='{op}']/ows:DCP/ows:HTTP/ows:Get/@xlink:href")
        assert urlsplit(href).path == "/ows"
    xml_format = sorted(f for f in formats if "xml" in f or "gml" in f)[0]
    r, body = get(
        client,
        SERVICE="WFS",
        VERSION="2.0.0",
        REQUEST="GetFeature",
        RESULTTYPE="hits",
        TYPENAMES=name,
        OUTPUTFORMAT=xml_format,
        NAMESPACES=f"xmlns({prefix},{namespace})",
    )
    assert r.status_code == 200
    no_exception(body)
    assert etree.QName(etree.fromstring(body)).localname == "FeatureCollection"
    r, body = get(
        client,
        SERVICE="WFS",
        VERSION="2.0.0",
        REQUEST="DescribeFeatureType",
        OUTPUTFORMAT="application/gml+xml; version=3.2",
    )
    assert r.status_code == 200 and etree.QName(etree.fromstring(body)).localname == "schema"


def test_autoconfigure_schema_definition(client, demo_data):
    """TC "AutoConfigure WFS": DescribeFeatureType in each DescribeFeatureType output format (the XML ones
    have a schema root whose schemaLocations are public OGC addresses) and hits for each type."""
    doc = caps(client, VERSION="2.0.0")
    formats = doc.xpath(
        "//ows:Operation[@name='DescribeFeatureType']/ows:Parameter[@name='outputFormat']"
        "/ows:AllowedValues/ows:Value/text()",
        namespaces=NS,
    )
    assert formats
    for fmt in formats:
        r, body = get(client, service="WFS", version="2.0.0", request="DescribeFeatureType", OUTPUTFORMAT=fmt)
        assert r.status_code == 200, fmt
        no_exception(body)
        if "xml" in fmt:
            schema = etree.fromstring(body)
            assert etree.QName(schema).localname == "schema"
            for loc in schema.xpath("//@schemaLocation"):
                assert loc.startswith("http://schemas.opengis.net/"), loc
    for name in doc.xpath("//wfs:FeatureType/wfs:Name/text()", namespaces=NS):
        r, body = get(
            client, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", RESULTTYPE="hits", TYPENAMES=name
        )
        assert r.status_code == 200
        assert etree.QName(etree.fromstring(body)).localname == "FeatureCollection"


# ---- suite "Capabilities"
def test_extended_capabilities(client, demo_data):
    """TC "Extended Capabilities": inspire_dls.xsd in a schemaLocation; the ExtendedCapabilities element."""
    doc = caps(client)
    assert doc.xpath("//*[contains(@*[local-name()='schemaLocation'], 'inspire_dls.xsd')]")
    one(doc, EXT)


def test_languages(client, demo_data):
    """TCs "Provide Response/Supported/Default Language" and "Language affects Capabilities"."""
    doc = caps(client)
    default = one(
        doc, f"{EXT}/inspire_common:SupportedLanguages/inspire_common:DefaultLanguage/inspire_common:Language"
    ).text
    assert one(doc, f"{EXT}/inspire_common:ResponseLanguage/inspire_common:Language").text == default
    odd = caps(client, LANGUAGE="chi")  # an unsupported language: the default, same title and abstract
    assert one(odd, f"{EXT}/inspire_common:ResponseLanguage/inspire_common:Language").text == default
    for path in (
        "/wfs:WFS_Capabilities/ows:ServiceIdentification/ows:Title",
        "/wfs:WFS_Capabilities/ows:ServiceIdentification/ows:Abstract",
    ):
        assert one(odd, path).text == one(doc, path).text
    supported = [default] + doc.xpath(
        f"{EXT}/inspire_common:SupportedLanguages/inspire_common:SupportedLanguage"
        "/inspire_common:Language/text()",
        namespaces=NS,
    )
    assert len(supported) > 1
    href = one(
        doc,
        "/wfs:WFS_Capabilities/ows:OperationsMetadata/ows:Operation[@name='GetCapabilities']/ows:DCP/ows:HTTP/ows:Get[1]/@xlink:href",
    )
    assert href
    titles = set()
    for code in supported:
        r, body = get(client, SERVICE="WFS", REQUEST="GetCapabilities", version="2.0.0", LANGUAGE=code)
        assert r.status_code == 200
        answer = etree.fromstring(body)
        assert one(answer, f"{EXT}/inspire_common:ResponseLanguage/inspire_common:Language").text == code
        listed = set(
            answer.xpath(
                f"{EXT}/inspire_common:SupportedLanguages//inspire_common:Language/text()", namespaces=NS
            )
        )
        assert set(supported) <= listed
        titles.add(one(answer, "/wfs:WFS_Capabilities/ows:ServiceIdentification/ows:Title").text)
    assert len(titles) == len(supported)  # the language changes the capabilities


def test_service_metadata_in_capabilities(client, demo_data, ogc_schemas, tmp_path):
    """TC "Service Metadata" (the internal path): the INSPIRE elements, each FeatureType's WGS84BoundingBox
    and MetadataURL, and every MetadataURL an ISO 19139 record that validates and has a fileIdentifier."""
    doc = caps(client, VERSION="2.0.0")
    for path in (
        "//inspire_dls:ExtendedCapabilities/inspire_common:MetadataDate",
        "//inspire_dls:ExtendedCapabilities/inspire_dls:SpatialDataSetIdentifier/inspire_common:Namespace",
        "//inspire_dls:ExtendedCapabilities/inspire_dls:SpatialDataSetIdentifier/inspire_common:Code",
        "//inspire_dls:ExtendedCapabilities/inspire_common:MetadataPointOfContact",
        "/wfs:WFS_Capabilities/ows:ServiceIdentification/ows:Keywords[ows:Keyword='infoFeatureAccessService']",
        "/wfs:WFS_Capabilities/ows:ServiceIdentification/ows:Abstract",
        "/wfs:WFS_Capabilities/ows:ServiceIdentification/ows:Title",
        "//inspire_dls:ExtendedCapabilities/inspire_common:ResourceType",
        "//inspire_dls:ExtendedCapabilities/inspire_common:ResourceLocator",
        "//inspire_dls:ExtendedCapabilities/inspire_common:TemporalReference",
        "//inspire_dls:ExtendedCapabilities/inspire_common:Conformity",
        "//ows:ServiceIdentification/ows:Fees",
        "//ows:ServiceIdentification/ows:AccessConstraints",
        "//ows:ServiceProvider/ows:ServiceContact/ows:ContactInfo",
        "//ows:ServiceProvider/ows:ProviderName",
    ):
        one(doc, path)
    assert one(doc, "//inspire_dls:ExtendedCapabilities/inspire_common:MetadataDate").text.strip()
    assert (
        one(doc, "//inspire_dls:ExtendedCapabilities/inspire_common:SpatialDataServiceType").text
        == "download"
    )
    assert not doc.xpath(
        "//wfs:FeatureType[string-length(ows:WGS84BoundingBox/ows:LowerCorner)=0]", namespaces=NS
    )
    assert not doc.xpath("//wfs:FeatureType[string-length(wfs:MetadataURL/@xlink:href)=0]", namespaces=NS)
    # ISO 19139 with gmx: the INSPIRE records give registry values as gmx:Anchor (metadata TG 2.0)
    base = "http://schemas.opengis.net/iso/19139/20070417"
    wrapper = tmp_path / "iso19139.xsd"
    wrapper.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:wrapper">'
        f'<xs:import namespace="http://www.isotc211.org/2005/gmd" schemaLocation="{base}/gmd/gmd.xsd"/>'
        f'<xs:import namespace="http://www.isotc211.org/2005/gmx" schemaLocation="{base}/gmx/gmx.xsd"/>'
        "</xs:schema>"
    )
    schema = ogc_schemas(str(wrapper))
    urls = doc.xpath("//wfs:MetadataURL/@xlink:href", namespaces=NS)
    assert urls
    for url in urls:
        r = client.get(urlsplit(url).path)
        assert r.status_code == 200
        record = etree.fromstring(r.content)
        assert record.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation")
        assert schema.validate(record), schema.error_log
        one(record, "//gmd:MD_Metadata/gmd:fileIdentifier")


# ---- suite "Stored Query"
def test_predefined_stored_query_described(client, demo_data, validating):
    """TC "Predefined Stored Query", first step: DescribeStoredQueries, valid, with GetSpatialDataSet and its parameters."""
    r, body = get(client, REQUEST="DescribeStoredQueries", VERSION="2.0.0", SERVICE="WFS")
    assert r.status_code == 200
    no_exception(body)
    doc = etree.fromstring(body)
    validating(doc)
    one(
        doc,
        "/wfs:DescribeStoredQueriesResponse/wfs:StoredQueryDescription[./wfs:Parameter/@name='CRS' and "
        "./wfs:Parameter/@name='DataSetIdCode' and ./wfs:Parameter/@name='DataSetIdNamespace' and ./wfs:Parameter/@name='Language']",
    )
    one(doc, f"/wfs:DescribeStoredQueriesResponse/wfs:StoredQueryDescription[@id='{STORED_QUERY}']")


def _invoke(client, crs: str, language: str, code: str, namespace: str):
    r, body = get(
        client,
        REQUEST="GetFeature",
        VERSION="2.0.0",
        SERVICE="WFS",
        STOREDQUERY_ID=STORED_QUERY,
        CRS=crs,
        DataSetIdCode=code,
        DataSetIdNamespace=namespace,
        Language=language,
    )
    assert r.status_code == 200, (crs, language, code, body[:300])
    no_exception(body)
    doc = etree.fromstring(body)
    assert etree.QName(doc).localname == "FeatureCollection"
    bounded = doc.xpath("/wfs:FeatureCollection/wfs:boundedBy/gml:Envelope/@srsName", namespaces=NS)
    assert bounded in ([], [crs])
    return doc


def _invocations(client):
    doc = caps(client)
    crss = list(
        dict.fromkeys(
            doc.xpath(
                "//wfs:FeatureType/wfs:DefaultCRS/text() | //wfs:FeatureType/wfs:OtherCRS/text()",
                namespaces=NS,
            )
        )
    )
    languages = doc.xpath(
        f"{EXT}/inspire_common:SupportedLanguages//inspire_common:Language/text()", namespaces=NS
    )
    datasets = [
        (i.findtext(f"{{{NS['inspire_common']}}}Code"), i.findtext(f"{{{NS['inspire_common']}}}Namespace"))
        for i in doc.xpath("//inspire_dls:SpatialDataSetIdentifier", namespaces=NS)
    ]
    return crss, languages, datasets


def test_predefined_stored_query_every_data_set(client, demo_data, validating):
    """TC "Predefined Stored Query", the loop: every data set answers 200 with a schema-valid FeatureCollection
    (here in the default CRS and language; the next test runs every CRS and language on one data set)."""
    crss, languages, datasets = _invocations(client)
    assert len(datasets) >= 9
    for code, namespace in datasets:
        doc = _invoke(client, crss[0], languages[0], code, namespace)
        assert doc.get("next") is None  # the whole data set, not a first page
        validating(doc)


@pytest.mark.parametrize("code", ["obreby", "adresy"])
def test_predefined_stored_query_every_crs_and_language(client, demo_data, code):
    crss, languages, datasets = _invocations(client)
    namespace = dict(datasets)[code]
    assert len(crss) >= 5 and set(languages) == {"pol", "eng"}
    for crs in crss:
        for language in languages:
            doc = _invoke(client, crs, language, code, namespace)
            geometries = doc.xpath("//gml:Point | //gml:MultiSurface", namespaces=NS)
            assert geometries and all(g.get("srsName") == crs for g in geometries)
