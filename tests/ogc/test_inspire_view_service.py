"""The INSPIRE validator's view service suite for WMS 1.3.0, ported: inspire-eu-validation/ets-repository,
service/vs-wms-soapui-project.xml (ETS 1.0.11, Technical Guidance for View Services 3.11). Each SoapUI test
case is one test named after it; it sends the case's requests with the same parameters and checks what the
case's assertions (status codes, XmlSlurper paths, content types) check, read through local names as
XmlSlurper's GPath does.

The validator is given our WMS-only endpoint /wms (project properties: serviceEndpoint, service=WMS,
version=1.3.0): /ows also speaks WFS, whose ETS wants a 400 where this one sends requests without SERVICE.
The ETS takes the GetMap URL, the first named layer, its first style and first BoundingBox from the
capabilities, as "set-getmap-operation-properties" does. Exceptions must come with HTTP 200 (our default,
GISPORTAL_WMS_EXCEPTION_STATUS). Our capabilities follow "scenario 2" (metadata embedded in the extended
capabilities, no MetadataUrl), which the ETS derives the same way and under which most checks run.

Not ported: the "Response SLA" assertions (30 s; tests assert no timings, ARCHITECTURE §8) and the steps
named manual-check (at09, at13, at19, at40, at43, at44, at47, at63, at64, at65, at67), which only ask a person
to look; at40's (an ETRS89 CRS offered) is checked here anyway.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from lxml import etree

from ..conftest import SHARED_DATA
from .test_wms import schema_from

pytestmark = pytest.mark.django_db
ENDPOINT = "/wms"
SERVICE, VERSION = "WMS", "1.3.0"
WRONG = "zzzz"  # the ETS's wrongValue
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
ISO_639_2B = {"pol", "eng"}  # the ones we use, out of the ETS's list of ISO 639-2/B codes
CI_ROLE_CODES = {
    "resourceProvider",
    "custodian",
    "owner",
    "user",
    "distributor",
    "originator",
    "pointOfContact",
    "principalInvestigator",
    "processor",
    "publisher",
    "author",
}
CLASSIFICATION_OF_SPATIAL_DATA_SERVICES = {  # at16's list (ISO 19119 / INSPIRE service classification)
    "humanInteractionService",
    "humanCatalogueViewer",
    "humanGeographicViewer",
    "humanGeographicSpreadsheetViewer",
    "humanServiceEditor",
    "humanChainDefinitionEditor",
    "humanWorkflowEnactmentManager",
    "humanGeographicFeatureEditor",
    "humanGeographicSymbolEditor",
    "humanFeatureGeneralizationEditor",
    "humanGeographicDataStructureViewer",
    "infoManagementService",
    "infoFeatureAccessService",
    "infoMapAccessService",
    "infoCoverageAccessService",
    "infoSensorDescriptionService",
    "infoProductAccessService",
    "infoFeatureTypeService",
    "infoCatalogueService",
    "infoRegistryService",
    "infoGazetteerService",
    "infoOrderHandlingService",
    "infoStandingOrderService",
    "taskManagementService",
    "chainDefinitionService",
    "workflowEnactmentService",
    "subscriptionService",
    "spatialProcessingService",
    "spatialCoordinateConversionService",
    "spatialCoordinateTransformationService",
    "spatialCoverageVectorConversionService",
    "spatialImageCoordinateConversionService",
    "spatialRectificationService",
    "spatialOrthorectificationService",
    "spatialSensorGeometryModelAdjustmentService",
    "spatialImageGeometryModelConversionService",
    "spatialSubsettingService",
    "spatialSamplingService",
    "spatialTilingChangeService",
    "spatialDimensionMeasurementService",
    "spatialFeatureManipulationService",
    "spatialFeatureMatchingService",
    "spatialFeatureGeneralizationService",
    "spatialRouteDeterminationService",
    "spatialPositioningService",
    "spatialProximityAnalysisService",
    "thematicProcessingService",
    "thematicGoparameterCalculationService",
    "thematicClassificationService",
    "thematicFeatureGeneralizationService",
    "thematicSubsettingService",
    "thematicSpatialCountingService",
    "thematicChangeDetectionService",
    "thematicGeographicInformationExtractionService",
    "thematicImageProcessingService",
    "thematicReducedResolutionGenerationService",
    "thematicImageManipulationService",
    "thematicImageUnderstandingService",
    "thematicImageSynthesisService",
    "thematicMultibandImageManipulationService",
    "thematicObjectDetectionService",
    "thematicGeoparsingService",
    "thematicGeocodingService",
    "temporalProcessingService",
    "temporalReferenceSystemTransformationService",
    "temporalSubsettingService",
    "temporalSamplingService",
    "temporalProximityAnalysisService",
    "metadataProcessingService",
    "metadataStatisticalCalculationService",
    "metadataGeographicAnnotationService",
    "comService",
    "comEncodingService",
    "comTransferService",
    "comGeographicCompressionService",
    "comGeographicFormatConversionService",
    "comMessagingService",
    "comRemoteFileAndExecutableManagement",
}


# ---------------------------------------------------------------------------------------------- helpers
def local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def path(nodes, spec: str) -> list:
    """XmlSlurper's `a.B.C`: the children named B of every node, then their children named C (local names)."""
    nodes = nodes if isinstance(nodes, list) else [nodes]
    for name in spec.split("."):
        nodes = [c for n in nodes for c in n if local(c) == name]
    return nodes


def text(nodes) -> str:
    """XmlSlurper's toString() of a node list: all the text inside, concatenated."""
    return "".join("".join(n.itertext()) for n in (nodes if isinstance(nodes, list) else [nodes]))


def layers(doc, named: bool = False) -> list:
    """capabilities.Capability.depthFirst().findAll{it.name()=='Layer' [&& it.Name.size() > 0]}"""
    return [
        el
        for el in path(doc, "Capability")[0].iter()
        if local(el) == "Layer" and (not named or path(el, "Name"))
    ]


def ancestors(layer) -> list:
    """The enclosing Layer elements, nearest first (the ETS's layerParent loop)."""
    out, parent = [], layer.getparent()
    while parent is not None and local(parent) == "Layer":
        out.append(parent)
        parent = parent.getparent()
    return out


def send(client, url: str, params: dict[str, str | None]):
    """A GET as SoapUI sends it: the endpoint plus the step's parameters (None: the parameter is left out)."""
    parts = urlsplit(url)
    query = "&".join(
        q for q in (parts.query, urlencode({k: v for k, v in params.items() if v is not None})) if q
    )
    return client.get(f"{parts.path}?{query}")


def is_exception_report(r) -> bool:
    """The ETS's OwsExceptionReportAssertion: the body is an OGC/OWS exception report."""
    try:
        return local(etree.fromstring(r.content)) in ("ServiceExceptionReport", "ExceptionReport")
    except etree.XMLSyntaxError:
        return False


def assert_ok(r) -> None:
    """ "Valid HTTP Status Codes: 200" + "Fail if service returns OWS Exception Report"."""
    assert r.status_code == 200, r.status_code
    assert not is_exception_report(r), r.content[:300]


def assert_exception(r) -> None:
    """ "Valid HTTP Status Codes: 200" + "Fail if service does not return OWS Exception Report": an XML body whose
    root has exactly one ServiceException (or Exception) child."""
    assert r.status_code == 200, (r.status_code, r.content[:300])
    assert "xml" in r["Content-Type"], r["Content-Type"]
    root = etree.fromstring(r.content)
    assert len(path(root, "ServiceException")) == 1 or len(path(root, "Exception")) == 1, r.content[:300]


def capabilities(client, **params):
    r = send(
        client, ENDPOINT, {"request": "GetCapabilities", "service": SERVICE, "version": VERSION, **params}
    )
    assert_ok(r)
    return etree.fromstring(r.content)


@pytest.fixture
def caps(client, demo_data):
    """initial-testcase: http-request (GetCapabilities, 200, not an exception report)."""
    return capabilities(client)


@pytest.fixture
def scenario(caps) -> str:
    """initial-testcase: set-extended-capabilities-scenario."""
    return "1" if path(caps, "Capability.ExtendedCapabilities.MetadataUrl") else "2"


@pytest.fixture
def getmap(caps) -> tuple[str, dict[str, str]]:
    """initial-testcase: set-getmap-operation-properties (the GetMap endpoint and the default parameters)."""
    layer = layers(caps, named=True)[0]
    href = path(caps, "Capability.Request.GetMap.DCPType.HTTP.Get.OnlineResource")[0].get(XLINK_HREF)
    boxes = path(layer, "BoundingBox") or next(
        path(p, "BoundingBox") for p in ancestors(layer) if path(p, "BoundingBox")
    )
    box = boxes[0]
    formats = [text(f) for f in path(caps, "Capability.Request.GetMap.Format")]
    params = {
        "REQUEST": "GetMap",
        "SERVICE": SERVICE,
        "VERSION": VERSION,
        "LAYERS": text(path(layer, "Name")),
        "STYLES": text(path(path(layer, "Style")[0], "Name")),
        "CRS": box.get("CRS"),
        "BBOX": ",".join(box.get(k) for k in ("minx", "miny", "maxx", "maxy")),
        "WIDTH": "500",
        "HEIGHT": "500",
        "FORMAT": "image/png" if "image/png" in formats else "image/gif" if "image/gif" in formats else "",
    }
    assert href.startswith(settings.GISPORTAL_PUBLIC_URL)
    return href, params


# ---------------------------------------------------------------------------------------------- GetCapabilities_Operation
def test_at04_getcapabilities_xml_schema_validation(client, caps):
    """Simple Schema Validator against http://inspire.ec.europa.eu/schemas/inspire_vs/1.0/inspire_vs.xsd."""
    xsd = SHARED_DATA / "ogc-schemas" / "inspire" / "inspire_vs" / "1.0" / "inspire_vs.xsd"
    schema = schema_from(xsd.read_bytes(), base_url=str(xsd.resolve()))
    for language in ("pol", "eng"):
        doc = capabilities(client, language=language)
        assert schema.validate(doc), schema.error_log


def test_at05_getcapabilities_get_capabilities_request_parameter(client, demo_data):
    assert_ok(send(client, ENDPOINT, {"request": "GetCapabilities", "service": SERVICE}))  # no version
    assert_exception(send(client, ENDPOINT, {"service": SERVICE}))  # no request
    assert_exception(send(client, ENDPOINT, {"request": WRONG, "service": SERVICE}))
    assert_exception(send(client, ENDPOINT, {"request": "GetCapabilities"}))  # no service
    assert_exception(send(client, ENDPOINT, {"request": "GetCapabilities", "service": WRONG}))


def test_at08_getcapabilities_language_section_in_extended_capabilities(caps):
    ext = path(caps, "Capability.ExtendedCapabilities")
    assert len(path(ext, "SupportedLanguages")) == 1 and text(path(ext, "SupportedLanguages"))
    assert len(path(ext, "ResponseLanguage")) == 1 and text(path(ext, "ResponseLanguage"))


def test_at09_getcapabilities_view_service_metadata_in_discovery_service(caps, scenario):
    url = path(caps, "Capability.ExtendedCapabilities.MetadataUrl.URL")
    if scenario == "1":
        assert len(url) == 1 and text(url)
    # a MetadataUrl/URL, if any, is fetched and must answer 200 without an exception report: none in scenario 2


def test_at10_getcapabilities_title_and_abstract(caps, scenario):
    if scenario == "2":
        for name in ("Title", "Abstract"):
            assert len(path(caps, f"Service.{name}")) == 1 and text(path(caps, f"Service.{name}"))
        assert path(caps, "Service.AccessConstraints") and text(path(caps, "Service.AccessConstraints"))


def test_at11_getcapabilities_resource_type_is_service(caps, scenario):
    if scenario == "2":
        resource_type = path(caps, "Capability.ExtendedCapabilities.ResourceType")
        assert len(resource_type) == 1 and text(resource_type) == "service"


def test_at12_getcapabilities_resource_locator(caps, scenario):
    if scenario == "2":
        locator = path(caps, "Capability.ExtendedCapabilities.ResourceLocator")
        assert locator and text(locator)


def test_at14_getcapabilities_map_coupled_resource_metadata_url(caps, scenario):
    if scenario == "2":
        for layer in layers(caps):
            if path(layer, "MetadataURL"):
                resources = path(layer, "MetadataURL.OnlineResource")
                assert resources and all(r.get(XLINK_HREF) for r in resources)


def test_at15_getcapabilities_map_sds_type_with_extendedcapabilities(caps, scenario):
    if scenario == "2":
        sds_type = path(caps, "Capability.ExtendedCapabilities.SpatialDataServiceType")
        assert len(sds_type) == 1 and text(sds_type) == "view"


def test_at16_getcapabilities_keyword_node(caps, scenario):
    """At least one Service keyword from the classification of spatial data services."""
    if scenario == "2":
        keywords = {text(k) for k in path(caps, "Service")[0].iter() if local(k) == "Keyword"}
        assert keywords & CLASSIFICATION_OF_SPATIAL_DATA_SERVICES


def test_at17_getcapabilities_keyword_list(caps, scenario):
    if scenario == "2":
        keywords = [k for k in path(caps, "Service")[0].iter() if local(k) == "Keyword"]
        if len(keywords) > 1:
            assert len(path(caps, "Service.KeywordList")) == 1
            assert len(keywords) == len(
                [k for k in path(caps, "Service.KeywordList")[0].iter() if local(k) == "Keyword"]
            )


def test_at18_getcapabilities_keyword_in_extendedcapabilities(caps, scenario):
    if scenario == "2":
        mandatory = path(caps, "Capability.ExtendedCapabilities.MandatoryKeyword")
        assert mandatory and text(mandatory)


def test_at19_getcapabilities_geographic_boundingbox(caps, scenario):
    if scenario == "2":
        for layer in layers(caps):
            inherited = [p for p in ancestors(layer) if path(p, "EX_GeographicBoundingBox")]
            assert all(len(path(p, "EX_GeographicBoundingBox")) == 1 for p in ancestors(layer))
            assert len(path(layer, "EX_GeographicBoundingBox")) == 1 or inherited


def test_at20_getcapabilities_date_type(caps, scenario):
    if scenario == "2":
        references = path(caps, "Capability.ExtendedCapabilities.TemporalReference")
        assert references
        for ref in references:
            dates = [
                d
                for kind in ("DateOfPublication", "DateOfLastRevision", "DateOfCreation")
                for d in path(ref, kind)
            ]
            assert dates and any(text(d) for d in dates)
            for d in dates:
                assert (
                    len(text(d)) == 10
                    and text(d)[4] == text(d)[7] == "-"
                    and text(d).replace("-", "").isdigit()
                )


def test_at21_getcapabilities_temporal_reference(caps, scenario):
    if scenario == "2":
        references = path(caps, "Capability.ExtendedCapabilities.TemporalReference")
        assert references and text(references)


def test_at22_getcapabilities_degree_of_conformity(caps, scenario):
    if scenario == "2":
        for conformity in path(caps, "Capability.ExtendedCapabilities.Conformity"):
            degree = path(conformity, "Degree")
            assert len(degree) == 1 and text(degree) in ("notEvaluated", "conformant", "notConformant")


def test_at23_getcapabilities_conformity(caps, scenario):
    if scenario == "2":
        conformity = path(caps, "Capability.ExtendedCapabilities.Conformity")
        assert conformity and text(conformity)


def test_at24_getcapabilities_fees_node(caps, scenario):
    if scenario == "2":
        assert path(caps, "Service.Fees") and text(path(caps, "Service.Fees"))


def test_at25_getcapabilities_contact_organization(caps, scenario):
    if scenario == "2":
        assert len(path(caps, "Service.ContactInformation")) == 1
        organisation = path(caps, "Service.ContactInformation.ContactPersonPrimary.ContactOrganization")
        assert organisation and text(organisation)


def test_at26_getcapabilities_contact_position(client, caps, scenario):
    """The responsible party role as ContactPosition, a CI_RoleCode value (in every language)."""
    if scenario == "2":
        for doc in (caps, capabilities(client, language="eng")):
            positions = path(doc, "Service.ContactInformation.ContactPosition")
            assert positions and all(text(p) in CI_ROLE_CODES for p in positions)


def test_at27_getcapabilities_point_of_contact(caps, scenario):
    if scenario == "2":
        for poc in path(caps, "Capability.ExtendedCapabilities.MetadataPointOfContact"):
            for name in ("OrganisationName", "EmailAddress"):
                assert path(poc, name) and text(path(poc, name))


def test_at28_getcapabilities_point_of_contact_in_extendedcapabilities(caps, scenario):
    if scenario == "2":
        assert path(caps, "Capability.ExtendedCapabilities.MetadataPointOfContact")


def test_at29_getcapabilities_metadata_date(caps, scenario):
    if scenario == "2":
        date = path(caps, "Capability.ExtendedCapabilities.MetadataDate")
        assert len(date) == 1
        value = text(date)
        assert len(value) == 10 and value[4] == value[7] == "-" and value.replace("-", "").isdigit()


def test_at30_getcapabilities_getcapabilities_operation_metadata(caps):
    assert len(path(caps, "Capability.Request.GetCapabilities")) == 1


def test_at31_getcapabilities_get_map_operation_metadata(caps):
    assert len(path(caps, "Capability.Request.GetMap")) == 1
    assert {text(f) for f in path(caps, "Capability.Request.GetMap.Format")} & {"image/png", "image/gif"}


def test_at33_getcapabilities_layer_title(caps):
    for layer in layers(caps):
        assert len(path(layer, "Title")) == 1 and text(path(layer, "Title"))


def test_at34_getcapabilities_layer_abstract(caps):
    for layer in layers(caps):
        assert len(path(layer, "Abstract")) <= 1
        assert not path(layer, "Abstract") or text(path(layer, "Abstract"))


def test_at35_getcapabilities_layer_keyword(caps):
    for layer in layers(caps):
        assert len(path(layer, "KeywordList")) <= 1
        assert all(text(k) for k in path(layer, "KeywordList.Keyword"))


def test_at36_getcapabilities_layer_bounding_box(caps):
    for layer in layers(caps):
        crs = [b.get("CRS") for b in path(layer, "BoundingBox")]
        assert len(crs) == len(set(crs)), "TR.duplicatedBoundingBox"
    for layer in layers(caps, named=True):
        inherited_crs = {text(c) for p in ancestors(layer) for c in path(p, "CRS")}
        inherited_boxes = [b for p in ancestors(layer) for b in path(p, "BoundingBox")]
        assert path(layer, "BoundingBox") or inherited_boxes
        own_crs = {text(c) for c in path(layer, "CRS")}
        for box in path(layer, "BoundingBox"):
            assert box.get("CRS") in own_crs | inherited_crs, box.get("CRS")


def test_at38_getcapabilities_layer_authority_url(caps):
    """AuthorityURL needs a name and an OnlineResource; an Identifier's authority must be declared above it
    (we publish neither: the check is kept for when we do)."""
    for authority in (a for a in path(caps, "Capability")[0].iter() if local(a) == "AuthorityURL"):
        assert authority.get("name") and all(r.get(XLINK_HREF) for r in path(authority, "OnlineResource"))
    for layer in layers(caps):
        declared = {a.get("name") for p in [layer, *ancestors(layer)] for a in path(p, "AuthorityURL")}
        assert all(i.get("authority") in declared for i in path(layer, "Identifier"))


# the harmonised layer names of the themes we publish, from the INSPIRE layer register the ETS reads
# (http://inspire.ec.europa.eu/layer/layer.en.xml, `layerName`; no network in tests): Annex II of Regulation
# 1089/2010 and its amendment 1253/2013
LAYER_REGISTER = {
    "CP.CadastralParcel",
    "CP.CadastralZoning",
    "CP.CadastralBoundary",
    "AD.Address",
    "BU.Building",
    "BU.BuildingPart",
    "AU.AdministrativeUnit",
    "AU.AdministrativeBoundary",
    "LU.SpatialPlan",
    "LU.ZoningElement",
    "LU.SupplementaryRegulation",
}
# check-layer-name's excludedLayers: names of these themes are not looked up in the register
ETS_EXCLUDED_PREFIXES = ("ACMF", "AM", "AU", "GE", "PF", "SD", "SO", "US")


def test_at39_getcapabilities_layer_name(caps):
    """Every named layer has one non-empty Name, names are unique; the harmonised view layers (the INSPIRE group:
    CP.CadastralParcel, CP.CadastralZoning, CP.CadastralBoundary, AD.Address, BU.Building) carry names of the
    INSPIRE layer register, as check-layer-name wants of every layer.

    Partly applicable: the same WMS also publishes the national EGiB data under the names the national KIEG
    integration expects (dzialki, budynki, ..., ARCHITECTURE §6), which are not in the register; the ETS's check
    holds for the harmonised layers, not for the service as a whole while the national names are listed beside
    them."""
    names = [path(layer, "Name") for layer in layers(caps, named=True)]
    assert all(len(n) == 1 and text(n) for n in names)
    assert len({text(n) for n in names}) == len(names), "TR.notUniqueLayerName"
    harmonised = [text(n) for n in names if "." in text(n)]
    assert set(harmonised) >= {
        "CP.CadastralParcel",
        "CP.CadastralZoning",
        "CP.CadastralBoundary",
        "AD.Address",
        "BU.Building",
    }
    invalid = [n for n in harmonised if not n.startswith(ETS_EXCLUDED_PREFIXES) and n not in LAYER_REGISTER]
    assert not invalid, f"TR.notHarmonisedValue: {invalid}"


def test_at40_getcapabilities_layer_crs(caps):
    """Every named layer has a CRS, its own or inherited; the manual check (an ETRS89-based CRS for data in
    continental Europe) made automatic: EPSG:4258 (ETRS89) and EPSG:2180 (ETRS89 / Poland CS92)."""
    for layer in layers(caps, named=True):
        crs = {text(c) for p in [layer, *ancestors(layer)] for c in path(p, "CRS")}
        assert crs and {"EPSG:4258", "EPSG:2180"} <= crs


INSPIRE_DEFAULT_STYLES = {  # the part of the ETS's table for the themes we have data for
    "AD.Address": "AD.Address.Default",
    "AU.AdministrativeUnit": "AU.AdministrativeUnit.Default",
    "AU.AdministrativeBoundary": "AU.AdministrativeBoundary.Default",
    "CP.CadastralParcel": "CP.CadastralParcel.Default",
    "CP.CadastralZoning": "CP.CadastralZoning.Default",
    "CP.CadastralBoundary": "CP.CadastralBoundary.Default",
    "BU.Building": "BU.Building.Default",
    "LU.SpatialPlan": "LU.SpatialPlan.Default",
    "LU.ZoningElement": "LU.ZoningElement.Default",
    "LU.SupplementaryRegulation": "LU.SupplementaryRegulation.Default",
}


def test_at42_getcapabilities_layer_default_style(caps):
    """A harmonised layer offers its theme's default style (own or inherited): the view layers CP.*, AD.Address
    and BU.Building; our national layers are not in the ETS's table (see at39)."""
    checked = []
    for layer in layers(caps, named=True):
        name = text(path(layer, "Name"))
        if name in INSPIRE_DEFAULT_STYLES:
            styles = {text(path(s, "Name")) for p in [layer, *ancestors(layer)] for s in path(p, "Style")}
            assert INSPIRE_DEFAULT_STYLES[name] in styles, "TR.missingDefaultStyle"
            checked.append(name)
    assert set(checked) >= {
        "CP.CadastralParcel",
        "CP.CadastralZoning",
        "CP.CadastralBoundary",
        "AD.Address",
        "BU.Building",
    }


def test_at46_getcapabilities_layer_style_title_and_name(caps):
    for layer in layers(caps):
        names = []
        for style in path(layer, "Style"):
            assert len(path(style, "Title")) == 1 and text(path(style, "Title"))
            assert len(path(style, "Name")) == 1 and text(path(style, "Name"))
            names.append(text(path(style, "Name")))
        assert len(names) == len(set(names)), "TR.notUniqueLayerStyleName"


def test_at47_getcapabilities_layer_style_legend_url(client, caps):
    """For each supported language: the capabilities in that language, and every LegendURL answers 200 with
    exactly the advertised Format as its Content-Type."""
    languages = [
        text(path(caps, "Capability.ExtendedCapabilities.SupportedLanguages.DefaultLanguage.Language"))
    ]
    languages += [
        text(path(s, "Language"))
        for s in path(caps, "Capability.ExtendedCapabilities.SupportedLanguages.SupportedLanguage")
    ]
    assert languages == ["pol", "eng"]
    for language in languages:
        doc = capabilities(client, language=language)
        legends = [
            (style, path(style, "LegendURL")) for layer in layers(doc) for style in path(layer, "Style")
        ]
        assert legends
        for _style, legend in legends:
            assert len(legend) <= 1
            if legend:
                resources = path(legend, "OnlineResource")
                assert len(resources) == 1 and resources[0].get(XLINK_HREF)
                r = send(client, resources[0].get(XLINK_HREF), {})
                assert r.status_code == 200 and r["Content-Type"] == text(path(legend, "Format")), r[
                    "Content-Type"
                ]


def test_at48_getcapabilities_layer_dimension_pairs(caps):
    for layer in layers(caps):
        for dimension in path(layer, "Dimension"):
            assert dimension.get("name") and dimension.get("units")


# ---------------------------------------------------------------------------------------------- GetMap_Operation
def test_getmap_default_parameters(client, getmap):
    url, params = getmap
    assert params["LAYERS"] == "dzialki" and params["CRS"] == "EPSG:2180" and params["FORMAT"] == "image/png"
    r = send(client, url, params)
    assert_ok(r)
    assert params["FORMAT"] in r["Content-Type"]


GETMAP_ERRORS = [  # (test case, step, what the step changes in the default parameters; None: left out)
    ("at50-getmap-version-parameter", "http-request-getmap-no-version", {"VERSION": None}),
    ("at50-getmap-version-parameter", "http-request-getmap-wrong-version", {"VERSION": WRONG}),
    ("at51-getmap-request-parameter", "http-request-no-request", {"REQUEST": None}),
    ("at51-getmap-request-parameter", "http-request-wrong-request", {"REQUEST": WRONG}),
    ("at52-getmap-layers-parameter", "http-request-no-layers", {"LAYERS": None}),
    ("at52-getmap-layers-parameter", "http-request-wrong-layers", {"LAYERS": WRONG}),
    ("at53-getmap-styles-parameter", "http-request-no-style", {"STYLES": None}),
    ("at53-getmap-styles-parameter", "http-request-wrong-style", {"STYLES": WRONG}),
    ("at54-getmap-crs-parameter", "http-request-getmap-no-crs", {"CRS": None}),
    ("at54-getmap-crs-parameter", "http-request-getmap-wrong-crs", {"CRS": WRONG}),
    ("at55-getmap-bbox-parameter", "http-request-getmap-no-bbox", {"BBOX": None}),
    ("at55-getmap-bbox-parameter", "http-request-getmap-wrong-bbox", {"BBOX": WRONG}),
    (
        "at56-getmap-width-height-parameter",
        "http-request-getmap-no-width-height",
        {"WIDTH": None, "HEIGHT": None},
    ),
    (
        "at56-getmap-width-height-parameter",
        "http-request-getmap-wrong-width-height",
        {"WIDTH": WRONG, "HEIGHT": WRONG},
    ),
    ("at57-getmap-format-parameter", "http-request-getmap-no-format", {"FORMAT": None}),
    ("at57-getmap-format-parameter", "http-request-getmap-wrong-format", {"FORMAT": WRONG}),
    ("at58-getmap-transparent-parameter", "http-request-getmap-wrong-transparent", {"TRANSPARENT": WRONG}),
]


@pytest.mark.parametrize(
    "case, step, change", GETMAP_ERRORS, ids=[f"{c[:4]}-{s}" for c, s, _ in GETMAP_ERRORS]
)
def test_at50_to_at58_getmap_mandatory_and_wrong_parameters(client, getmap, case, step, change):
    """A mandatory parameter left out or a wrong value: an exception report with HTTP 200 (an XML body; an
    image or another content type fails the step)."""
    url, params = getmap
    assert_exception(send(client, url, {**params, **change}))


def test_at53_getmap_styles_parameter_empty_means_default(client, getmap):
    """at53's http-request-null-style (disabled in the ETS): `STYLES=` is the default style, an image."""
    url, params = getmap
    r = send(client, url, {**params, "STYLES": ""})
    assert r.status_code == 200 and "image" in r["Content-Type"]


def test_at58_getmap_transparent_parameter(client, getmap):
    url, params = getmap
    for value in ("TRUE", "FALSE"):
        r = send(client, url, {**params, "TRANSPARENT": value})
        assert_ok(r)
        assert params["FORMAT"] in r["Content-Type"]
    assert_exception(send(client, url, {**params, "TRANSPARENT": WRONG}))


@pytest.mark.parametrize("exceptions", [None, "XML"])
def test_at59_getmap_exceptions(client, getmap, exceptions):
    """Every value wrong, EXCEPTIONS absent or XML: HTTP 200 with an XML content type."""
    url, params = getmap
    wrong = {k: WRONG for k in ("LAYERS", "STYLES", "CRS", "BBOX", "WIDTH", "HEIGHT", "FORMAT")}
    r = send(client, url, {**params, **wrong, "EXCEPTIONS": exceptions})
    assert r.status_code == 200 and "xml" in r["Content-Type"]


# ---------------------------------------------------------------------------------------------- LinkViewService_Operation
def test_at61_at62_linkviewservice_cascaded_layers(caps):
    """Cascaded layers (cascaded > 0) point at their metadata; we cascade none, so none may claim to."""
    cascaded = [layer for layer in layers(caps) if int(layer.get("cascaded") or 0) > 0]
    for layer in cascaded:
        assert all(r.get(XLINK_HREF) for r in path(layer, "MetadataURL.OnlineResource")) and path(
            layer, "MetadataURL"
        )
    assert cascaded == []


# ---------------------------------------------------------------------------------------------- Language_Requirements
def test_at68_language_parameter(client, caps):
    """LANGUAGE=<the default language> gives the default Title and Abstract, as XML."""
    default = text(path(caps, "Capability.ExtendedCapabilities.SupportedLanguages.DefaultLanguage.Language"))
    assert default in ISO_639_2B
    r = send(
        client,
        ENDPOINT,
        {"request": "GetCapabilities", "service": SERVICE, "version": VERSION, "language": default},
    )
    assert r.status_code == 200 and "xml" in r["Content-Type"]
    doc = etree.fromstring(r.content)
    for name in ("Service.Title", "Service.Abstract"):
        assert text(path(doc, name)) == text(path(caps, name))


def test_at69_language_default(client, caps):
    """An unsupported LANGUAGE: the default Title and Abstract, not an exception."""
    doc = capabilities(client, language=WRONG)
    for name in ("Service.Title", "Service.Abstract"):
        assert text(path(doc, name)) == text(path(caps, name))


def test_at70_language_response(client, caps):
    ext = "Capability.ExtendedCapabilities"
    default = text(path(caps, f"{ext}.SupportedLanguages.DefaultLanguage.Language"))
    supported = [default] + [
        text(path(s, "Language")) for s in path(caps, f"{ext}.SupportedLanguages.SupportedLanguage")
    ]
    assert set(supported) <= ISO_639_2B
    for asked, expected in (("", default), (WRONG, default), *((x, x) for x in supported)):
        assert (
            text(path(capabilities(client, language=asked), f"{ext}.ResponseLanguage.Language")) == expected
        )


def test_at71_language_supported(caps):
    languages = path(caps, "Capability.ExtendedCapabilities.SupportedLanguages")
    assert len(languages) == 1 and len(path(languages, "DefaultLanguage")) == 1
    assert text(path(languages, "DefaultLanguage.Language"))
    assert all(text(path(s, "Language")) for s in path(languages, "SupportedLanguage"))
    response = path(caps, "Capability.ExtendedCapabilities.ResponseLanguage")
    assert len(response) == 1 and text(path(response, "Language"))
