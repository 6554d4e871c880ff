"""The INSPIRE validator's metadata suites (TG Metadata 2.0) replayed on our INSPIRE records (issue 28).

inspire-eu-validation/ets-repository (v2021.3, commit 28b66265), metadata/2.0: the suites that apply to the
records of ogc/metadata.py (the CP, AD and BU data sets, /metadane/inspire-*.xml, and the view and download
network services, /metadane/usluga-wms.xml, usluga-wfs.xml):

- common (Conformance Class 1, md common req C.1–C.22), on every record;
- datasets-and-series (CC 2, 1.1–1.11) and isdss (CC 3, interoperability of data sets, 2.1–2.8), on the
  data set records;
- sds (CC 4, 3.1–3.8) and ns (CC 5, network services, 4.1), on the service records.

Each XQuery assertion (run by ETF on BaseX over the records, `$records`) is one function `md_…` here
returning the ETS's messages (its TR.* template ids; empty = PASSED), and one test per assertion runs it on
the records, in Polish and in English, as the server gives them at /metadane/<name>.xml. Negative tests run
the same functions on records broken the way TG 2.0 forbids, so that each port can fail.

What the ETS reads from the internet is replaced by a small local list kept here:
- 1.4 INSPIRE theme keyword: the titles of the theme register (http://inspire.ec.europa.eu/theme, in
  Polish and English) and its codes, for the themes of our data sets (THEME_TITLES);
- 1.10 Dataset conformity: the official titles of Regulation 1089/2010, read from the INSPIRE common enums
  (inspire/common/1.0/enums/enum_*.xsd in the shared schemas, what the ETS fetches);
- 3.4 Spatial data service category: the SpatialDataServiceCategory code list of the INSPIRE registry
  (Regulation 1205/2008 Part D.4), SERVICE_CATEGORIES;
- 3.6 Coupled resource: the operatesOn URLs are fetched from this server (the test client), not over HTTP;
- C.1 XML Schema: the local ISO 19139 schemas (gmd with gmx, srv) instead of schemas.opengis.net.

Not applicable, with why:
- sds 3.3 Spatial Resolution: a manual check in the ETS (it always reports TR.manualCheckSpatialResolution);
  our services have no restriction on the spatial resolution.
- the monitoring suite (CC for data sets of reporting obligations) and sdsinvocable, sdsinteroperable,
  sdsharmonised (CC 6–8: spatial data services other than network services): not our records' classes.
"""

from __future__ import annotations

import copy
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from lxml import etree

from ogc import metadata

from ..conftest import SHARED_DATA

pytestmark = pytest.mark.django_db

GMD = "http://www.isotc211.org/2005/gmd"
GCO = "http://www.isotc211.org/2005/gco"
GMX = "http://www.isotc211.org/2005/gmx"
SRV = "http://www.isotc211.org/2005/srv"
XLINK = "http://www.w3.org/1999/xlink"
NS = {
    "gmd": GMD,
    "gco": GCO,
    "gmx": GMX,
    "srv": SRV,
    "xlink": XLINK,
    "xs": "http://www.w3.org/2001/XMLSchema",
}
HREF = f"{{{XLINK}}}href"
DATASETS = ("inspire-cp", "inspire-ad", "inspire-bu")
SERVICES = ("usluga-wms", "usluga-wfs")
LANGUAGES = ("pol", "eng")

# ---- the local lists (what the ETS reads from the INSPIRE registry) ---------------------------------------
THEME_TITLES = {  # http://inspire.ec.europa.eu/theme/theme.{pl,en}.atom, the themes of our data sets
    "cp": ("Działki katastralne", "Cadastral parcels"),
    "ad": ("Adresy", "Addresses"),
    "bu": ("Budynki", "Buildings"),
}
THEMES_TITLE = "GEMET - INSPIRE themes, version 1.0"
SERVICE_CATEGORY = "http://inspire.ec.europa.eu/metadata-codelist/SpatialDataServiceCategory"
SERVICE_CATEGORIES = {
    f"{SERVICE_CATEGORY}/{c}"
    for c in (
        "chainDefinitionService comEncodingService comGeographicCompressionService "
        "comGeographicFormatConversionService comMessagingService comRemoteFileAndExecutableManagement "
        "comService comTransferService humanCatalogueViewer humanChainDefinitionEditor humanFeatureGeneralizationEditor "
        "humanGeographicDataStructureViewer humanGeographicSpreadsheetViewer humanGeographicSymbolEditor "
        "humanGeographicViewer humanInteractionService humanServiceEditor humanWorkflowEnactmentManager "
        "infoCatalogueService infoCoverageAccessService infoFeatureAccessService infoFeatureTypeService "
        "infoGazetteerService infoManagementService infoMapAccessService infoOrderHandlingService "
        "infoProductAccessService infoRegistryService infoSensorDescriptionService infoStandingOrderService "
        "spatialCoordinateConversionService spatialCoordinateTransformationService spatialCoverageVectorConversionService "
        "spatialFeatureGeneralizationService spatialFeatureManipulationService spatialFeatureMatchingService "
        "spatialGeographicInformationExtractionService spatialGeocodingService spatialImageCoordinateConversionService "
        "spatialImageGeometryModelConversionService spatialOrthorectificationService spatialPositioningService "
        "spatialProcessingService spatialProximityAnalysisService spatialReverseGeocodingService "
        "spatialRouteDeterminationService spatialSamplingService spatialSensorGeometryModelAdjustmentService "
        "spatialSubsettingService spatialTilingChangeService thematicChangeDetectionService "
        "thematicClassificationService thematicFeatureGeneralizationService thematicGeocodingService "
        "thematicGeographicInformationExtractionService thematicGeoparsingService thematicGriddingService "
        "thematicImageManipulationService thematicImageProcessingService thematicImageSynthesisService "
        "thematicImageUnderstandingService thematicMultibandImageManipulationService thematicObjectDetectionService "
        "thematicProcessingService thematicReducedResolutionGenerationService thematicSpatialCountingService "
        "thematicSubsettingService workflowEnactmentService"
    ).split()
}
LIMITATIONS = "http://inspire.ec.europa.eu/metadata-codelist/LimitationsOnPublicAccess"
LIMITATION_VALUES = {
    f"{LIMITATIONS}/{v}"
    for v in ("noLimitations", *(f"INSPIRE_Directive_Article13_1{c}" for c in "abcdefgh"))
}
CONDITIONS = "http://inspire.ec.europa.eu/metadata-codelist/ConditionsApplyingToAccessAndUse"
CONDITION_VALUES = {f"{CONDITIONS}/noConditionsApply", f"{CONDITIONS}/conditionsUnknown"}
ROLES = set(
    "resourceProvider custodian owner user distributor originator pointOfContact principalInvestigator "
    "processor publisher author".split()
)
EU_LANGUAGES = set(
    "bul hrv cze dan dut eng est fin fre ger gre hun gle ita lav lit mlt pol por rum slo slv spa swe".split()
)
ISO_639_2 = ("http://www.loc.gov/standards/iso639-2/", "http://www.loc.gov/standards/iso639-2")
ISO_639_2 = (*ISO_639_2, *(u.replace("http:", "https:") for u in ISO_639_2))
TOPICS = set(
    "biota boundaries climatologyMeteorologyAtmosphere economy elevation environment farming "
    "geoscientificInformation health imageryBaseMapsEarthCover inlandWaters intelligenceMilitary location "
    "oceans planningCadastre society structure transportation utilitiesCommunication".split()
)
# isdss 2.2: the CRSs of the INSPIRE Regulation (Annex II 1.3) by their http URIs
DEFAULT_EPSG = "4936 4937 4258 3035 3034 3038 3039 3040 3041 3042 3043 3044 3045 3046 3047 3048 3049 3050 3051 5730 5861 5715 7409".split()
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"
# the ETS's date patterns, abridged to what ISO 8601 calendar dates and date-times are
DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
DATETIME = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$"
)
URL = re.compile(r"(http://|https://|ftp://)([a-z0-9]{1})((\.[a-z0-9-])|([a-z0-9-]))*\.([a-z0-9-]{1,4})(/?)")


def x(node, path: str) -> list:
    return node.xpath(path, namespaces=NS)


def text_of(el) -> str:
    """A CharacterString or Anchor property's text (`string-length($p/gco:CharacterString) != 0 or
    string-length($p/gmx:Anchor) != 0`)."""
    return "".join(x(el, "gco:CharacterString/text() | gmx:Anchor/text()")).strip()


def level(record) -> str:
    return (x(record, "gmd:hierarchyLevel/gmd:MD_ScopeCode/@codeListValue") or [""])[0]


def ident(record):
    """The record's identification: SV_ServiceIdentification for a service, else MD_DataIdentification."""
    tag = "srv:SV_ServiceIdentification" if level(record) == "service" else "gmd:MD_DataIdentification"
    return x(record, f"gmd:identificationInfo/{tag}")


# ================================================================ common (Conformance Class 1)
def md_common_c1(record, schema) -> list[str]:
    """md common req C.1: XML Schema."""
    return [] if schema.validate(record) else ["TR.errorValidatingSchema"]


def md_common_c2(record) -> list[str]:
    """md common req C.2: Root Element."""
    return [] if etree.QName(record) == etree.QName(GMD, "MD_Metadata") else ["TR.invalidRootElement"]


def md_common_c5(record) -> list[str]:
    """md common req C.5: (Metadata) Language Code: one gmd:language, ISO 639-2/B, an official EU language."""
    codes = x(record, "gmd:language/gmd:LanguageCode")
    if not codes:
        return ["TR.noLanguageCode"]
    if len(codes) != 1:
        return ["TR.wrongLanguageCodeNumber"]
    if codes[0].get("codeList") not in ISO_639_2:
        return ["TR.wrongCodeList_Param"]
    if codes[0].get("codeListValue") not in EU_LANGUAGES:
        return ["TR.invalidLanguageCode"]
    return []


def _party_messages(parties, contact: bool) -> list[str]:
    out = []
    for poc in parties:
        emails = x(poc, "gmd:contactInfo/gmd:CI_Contact/gmd:address/gmd:CI_Address/gmd:electronicMailAddress")
        if not text_of(next(iter(x(poc, "gmd:organisationName")), poc)):
            out.append("TR.noMetadataContactOrganisationName")
        elif not emails or any(not text_of(e) for e in emails):
            out.append("TR.noMetadataContactEmailAddress")
        elif not x(poc, "gmd:role") or (
            not contact and not set(x(poc, "gmd:role/gmd:CI_RoleCode/@codeListValue")) & set(ROLES)
        ):
            out.append("TR.noMetadataContactRole" if contact else "TR.noPointOfContactRole")
    return out


def md_common_c6(record) -> list[str]:
    """md common req C.6: Metadata Point of Contact: role pointOfContact, organisation name, e-mail."""
    pocs = x(record, "gmd:contact/gmd:CI_ResponsibleParty")
    roles = x(record, "gmd:contact/gmd:CI_ResponsibleParty/gmd:role/gmd:CI_RoleCode/@codeListValue")
    if not pocs:
        return ["TR.noMetadataContact"]
    if "pointOfContact" not in roles:
        return ["TR.invalidMetadataContactRoleCodeListValue"]
    if any(r not in ROLES for r in roles):
        return ["TR.invalidMetadataContactRoleCodeListValue"]
    return _party_messages(pocs, contact=True)


def md_common_c7(record) -> list[str]:
    """md common req C.7: Metadata Date: exactly one gmd:dateStamp, a Date or DateTime."""
    stamps = x(record, "gmd:dateStamp")
    values = x(record, "gmd:dateStamp/gco:Date | gmd:dateStamp/gco:DateTime")
    if len(stamps) != 1 or len(values) != 1:
        return ["TR.oneDateStamp"]
    pattern = DATE if etree.QName(values[0]).localname == "Date" else DATETIME
    return [] if pattern.match(values[0].text or "") else ["TR.wrongDateFormat"]


def md_common_c8(record) -> list[str]:
    """md common req C.8: Resource Title: one, not empty."""
    titles = [t for i in ident(record) for t in x(i, "gmd:citation/gmd:CI_Citation/gmd:title")]
    if len(titles) != 1:
        return ["TR.noTitle"]
    return [] if text_of(titles[0]) else ["TR.emptyTitle"]


def md_common_c9(record) -> list[str]:
    """md common req C.9: Resource Abstract: one, not empty."""
    abstracts = [a for i in ident(record) for a in x(i, "gmd:abstract")]
    if len(abstracts) != 1:
        return ["TR.noAbstract"]
    return [] if text_of(abstracts[0]) else ["TR.emptyAbstract"]


def md_common_c10(record) -> list[str]:
    """md common req C.10: Responsible Organisation: a pointOfContact of the resource with name, e-mail
    and an ISO 19115 role."""
    pocs = [p for i in ident(record) for p in x(i, "gmd:pointOfContact/gmd:CI_ResponsibleParty")]
    if not pocs:
        return ["TR.missingResponsibleParty"]
    return _party_messages(pocs, contact=False)


def _citation_dates(record):
    return x(record, "gmd:identificationInfo[1]/*/gmd:citation/gmd:CI_Citation/gmd:date/gmd:CI_Date")


def md_common_c11(record) -> list[str]:
    """md common req C.11: Temporal Reference: a date of publication, revision or creation."""
    dates = _citation_dates(record)
    if not x(
        record, "gmd:identificationInfo[1]/*/gmd:citation/gmd:CI_Citation/gmd:date/gmd:CI_Date/gmd:date"
    ):
        return ["TR.noRelevantDate"]
    out = []
    for d in dates:
        date = x(d, "gmd:date/gco:Date/text()")
        stamp = x(d, "gmd:date/gco:DateTime/text()")
        kind = x(d, "gmd:dateType/gmd:CI_DateTypeCode/@codeListValue")
        if not date and not stamp:
            out.append("TR.noRelevantDate")
        elif date and not DATE.match(date[0]):
            out.append("TR.invalidDateFormat")
        elif stamp and not DATETIME.match(stamp[0]):
            out.append("TR.wrongDateFormat")
        elif not kind:
            out.append("TR.noDateType")
        elif kind[0] not in ("publication", "revision", "creation"):
            out.append("TR.noDateTypeForSpecification")
    return out


def _count_dates(record, kind: str) -> int:
    return sum(1 for d in _citation_dates(record) if x(d, f"gmd:dateType/*[@codeListValue='{kind}']"))


def md_common_c12(record) -> list[str]:
    """md common req C.12: Max One Date of Creation."""
    return [] if _count_dates(record, "creation") <= 1 else ["TR.moreThanOneCreationDate"]


def md_common_c13(record) -> list[str]:
    """md common req C.13: Not More than one Date of Last Revision."""
    return [] if _count_dates(record, "revision") <= 1 else ["TR.moreThanOneCreationDate"]


def md_common_c14(record) -> list[str]:
    """md common req C.14: Temporal Extent: each a TimeInstant or TimePeriod with valid positions."""
    out = []
    path = "gmd:identificationInfo[1]/*/*[local-name()='extent']/gmd:EX_Extent/gmd:temporalElement/gmd:EX_TemporalExtent/gmd:extent"
    for extent in x(record, path):
        positions = x(extent, "*[local-name()='TimeInstant']/*[local-name()='timePosition']") or x(
            extent,
            "*[local-name()='TimePeriod']/*[local-name()='beginPosition' or local-name()='endPosition']",
        )
        if not positions:
            out.append("TR.noTimePositionOrPeriod")
        for p in positions:
            if p.get("indeterminatePosition"):
                if p.get("indeterminatePosition") not in ("unknown", "now", "before", "after"):
                    out.append("TR.wrongIndeterminatePosition")
            elif not (DATE.match(p.text or "") or DATETIME.match(p.text or "")):
                out.append("TR.wrongDateFormat")
    return out


def md_common_c15(record) -> list[str]:
    """md common req C.15: Keyword Originating CV: a cited thesaurus has a title and a publication date."""
    out = []
    for i in ident(record):
        for thesaurus in x(i, "gmd:descriptiveKeywords/gmd:MD_Keywords/gmd:thesaurusName"):
            titles = x(thesaurus, "gmd:CI_Citation/gmd:title")
            if not titles:
                out.append("TR.noTitleForThesaurus")
            elif not text_of(titles[0]):
                out.append("TR.emptyTitleForThesaurus")
            elif not x(thesaurus, "gmd:CI_Citation/gmd:date/gmd:CI_Date/gmd:date") or x(
                thesaurus,
                "gmd:CI_Citation/gmd:date/gmd:CI_Date/gmd:dateType/gmd:CI_DateTypeCode/@codeListValue",
            ) != ["publication"]:
                out.append("TR.invalidDateForThesaurus2")
    return out


def md_common_c16(record) -> list[str]:
    """md common req C.16: Group Keywords by CV: one MD_Keywords per cited vocabulary."""
    titles = [
        text_of(t)
        for i in ident(record)
        for t in x(i, "gmd:descriptiveKeywords/gmd:MD_Keywords/gmd:thesaurusName/gmd:CI_Citation/gmd:title")
    ]
    return [] if len(titles) == len(set(titles)) else ["TR.keywordsNotGroupedByVocabulary"]


def _legal(record):
    return x(record, "gmd:identificationInfo/*/gmd:resourceConstraints/gmd:MD_LegalConstraints")


def _hrefs(block) -> list[str]:
    return x(block, "gmd:otherConstraints/gmx:Anchor/@xlink:href")


def _limitation_blocks(record, strict: bool):
    """The MD_LegalConstraints giving the limitations on public access: accessConstraints otherRestrictions
    (once) and an Anchor to a LimitationsOnPublicAccess value; `strict` (C.17) also refuses other values of
    that code list and the conditions' values in the same block."""
    found = []
    for block in _legal(record):
        if not x(block, "gmd:accessConstraints"):
            continue
        others = x(block, "gmd:accessConstraints/gmd:MD_RestrictionCode[@codeListValue='otherRestrictions']")
        hrefs = _hrefs(block)
        valid = [h for h in hrefs if h in LIMITATION_VALUES]
        invalid = [h for h in hrefs if h.startswith(LIMITATIONS) and h not in LIMITATION_VALUES]
        conditions = [h for h in hrefs if h in CONDITION_VALUES]
        if valid and len(others) == 1 and (not strict or not (invalid or conditions)):
            found.append(block)
    return found


def md_common_c17(record) -> list[str]:
    """md common req C.17: Limitations on Public Access: exactly one MD_LegalConstraints with
    accessConstraints otherRestrictions and otherConstraints/gmx:Anchor to
    http://inspire.ec.europa.eu/metadata-codelist/LimitationsOnPublicAccess/…"""
    if any(h.startswith(LIMITATIONS.replace("http:", "https:")) for b in _legal(record) for h in _hrefs(b)):
        return ["TR.invalidHttpsUri"]
    blocks = _limitation_blocks(record, strict=True)
    if not blocks:
        return ["TR.noResourceLimitations"]
    return [] if len(blocks) == 1 else ["TR.noValidResourceLimitations"]


def md_common_c18(record) -> list[str]:
    """md common req C.18: Conditions for Access and Use: an MD_LegalConstraints with useConstraints (or
    accessConstraints) otherRestrictions and otherConstraints: an Anchor to noConditionsApply /
    conditionsUnknown, or a text (a licence), not a limitation's value."""
    if any(h.startswith(CONDITIONS.replace("http:", "https:")) for b in _legal(record) for h in _hrefs(b)):
        return ["TR.invalidHttpsUri"]
    conditions = []
    for block in _legal(record):
        access = x(block, "gmd:accessConstraints/gmd:MD_RestrictionCode[@codeListValue='otherRestrictions']")
        use = x(block, "gmd:useConstraints/gmd:MD_RestrictionCode[@codeListValue='otherRestrictions']")
        hrefs = _hrefs(block)
        valid = [h for h in hrefs if h in CONDITION_VALUES]
        invalid = [h for h in hrefs if h.startswith(CONDITIONS) and h not in CONDITION_VALUES]
        limitation = [h for h in hrefs if h in LIMITATION_VALUES]
        strings = [s for s in x(block, "gmd:otherConstraints/gco:CharacterString/text()") if s.strip()]
        anchors = [s for s in x(block, "gmd:otherConstraints/gmx:Anchor/text()") if s.strip()]
        anchor_text = bool(anchors) and not invalid and not limitation
        if (len(access) == 1 and (strings or anchor_text)) or (
            len(use) == 1 and (len(valid) == 1 or strings or anchor_text)
        ):
            conditions.append(block)
    if not conditions:
        return ["TR.noResourceConditions"]
    limitations = _limitation_blocks(record, strict=False)
    if len(conditions) != 1 and len(limitations) > 1 and len(conditions) == 2:
        return ["TR.noValidResourceConditions"]
    return []


def md_common_c19(record) -> list[str]:
    """md common req C.19: Geographical Bounding Box: given for a data set; decimal degrees (two digits at
    least) within ±180/±90, south ≤ north."""
    boxes = [
        b
        for i in ident(record)
        for b in x(
            i, "*[local-name()='extent']/gmd:EX_Extent/gmd:geographicElement/gmd:EX_GeographicBoundingBox"
        )
    ]
    if level(record) in ("dataset", "series") and not boxes:
        return ["TR.noGeographicBoundingBox"]
    out = []
    for box in boxes:
        values = {}
        for side, limit in (("west", 180), ("east", 180), ("south", 90), ("north", 90)):
            tag = f"{side}Bound{'Longitude' if limit == 180 else 'Latitude'}"
            v = x(box, f"gmd:{tag}/gco:Decimal/text()")
            values[side] = float(v[0]) if v and re.match(r"^-?\d+\.\d{2,}", v[0]) else None
            if values[side] is None or abs(values[side]) > limit:
                values[side] = None
        if None in values.values() or values["south"] > values["north"]:
            out.append("TR.invalidGeographicBoundingBox")
    return out


def _results(record):
    return x(
        record,
        "gmd:dataQualityInfo/gmd:DQ_DataQuality/gmd:report/gmd:DQ_DomainConsistency/gmd:result/gmd:DQ_ConformanceResult",
    )


def _spec_title(result) -> str:
    return "".join(x(result, "gmd:specification/gmd:CI_Citation/gmd:title/*/text()"))


def _regulated(record, result) -> bool:
    """The ETS's choice of the conformity reports C.21 and C.22 look at: 1089/2010 of a data set (or of a
    service of type other), 976/2009 of a service."""
    title = _spec_title(result)
    kind = x(record, "gmd:identificationInfo/srv:SV_ServiceIdentification/srv:serviceType/*/text()")
    return (
        "1089/2010" in title
        and (level(record) == "dataset" or (level(record) == "service" and kind == ["other"]))
    ) or ("976/2009" in title and level(record) == "service")


def md_common_c20(record) -> list[str]:
    """md common req C.20: (Dataset) Conformity: a DQ_ConformanceResult is given."""
    return [] if _results(record) else ["TR.noConformityStatement"]


def md_common_c21(record) -> list[str]:
    """md common req C.21: Conformity Specifications: the regulation cited by its title and a date of
    publication, creation or revision."""
    results = _results(record)
    if not results:
        return ["TR.noConformityStatement"]
    if not x(
        record,
        "gmd:dataQualityInfo/gmd:DQ_DataQuality/gmd:report/gmd:DQ_DomainConsistency/gmd:result/gmd:DQ_ConformanceResult/gmd:specification/gmd:CI_Citation",
    ):
        return ["TR.missingCitationSection"]
    out = []
    for result in results:
        if not _regulated(record, result):
            continue
        citation = x(result, "gmd:specification/gmd:CI_Citation")[0]
        titles = x(citation, "gmd:title")
        kinds = x(citation, "gmd:date/gmd:CI_Date/gmd:dateType/gmd:CI_DateTypeCode/@codeListValue")
        if not titles or not text_of(titles[0]):
            out.append("TR.noTitleForSpecification")
        elif (
            not x(citation, "gmd:date")
            or not kinds
            or kinds[0] not in ("publication", "creation", "revision")
        ):
            out.append("TR.noDateTypeForSpecification")
        elif any(not DATE.match(d) for d in x(citation, "gmd:date/gmd:CI_Date/gmd:date/gco:Date/text()")):
            out.append("TR.invalidDateFormat")
    return out


def md_common_c22(record) -> list[str]:
    """md common req C.22: Conformity Degree: gmd:pass true or false, or nil with the reason unknown
    (not evaluated)."""
    results = _results(record)
    if not results:
        return ["TR.noConformityStatement"]
    out = []
    for result in results:
        if not _regulated(record, result):
            continue
        passes = x(result, "gmd:pass")
        if not passes:
            out.append("TR.declareNoConformityEvaluationAsUnknown")
        elif x(passes[0], "gco:Boolean"):
            if x(passes[0], "gco:Boolean/text()") not in (["true"], ["false"]):
                out.append("TR.declareNoConformityEvaluationAsUnknown")
        elif passes[0].get(f"{{{GCO}}}nilReason") != "unknown":
            out.append("TR.declareNoConformityEvaluationAsUnknown")
    return out


# ================================================================ data sets and series (Conformance Class 2)
def md_ds_1_1(record) -> list[str]:
    """md datasets-and-series 1.1: Resource Type: dataset or series."""
    return [] if level(record) in ("dataset", "series") else ["TR.hierarchyLevel"]


def md_ds_1_2(record) -> list[str]:
    """md datasets-and-series 1.2: Only One Data Identification."""
    return (
        []
        if len(x(record, "gmd:identificationInfo[1]/gmd:MD_DataIdentification")) == 1
        else ["TR.identificationInfo"]
    )


def _identifier_values(record) -> list[str]:
    values = []
    for code in x(
        record, "gmd:identificationInfo[1]/*/gmd:citation/gmd:CI_Citation/gmd:identifier/*/gmd:code/*"
    ):
        if etree.QName(code).localname == "Anchor":
            values.append(code.get(HREF, ""))
        else:
            values.append((code.text or "").strip())
    return values


def md_ds_1_3(record, all_records) -> list[str]:
    """md datasets-and-series 1.3: Dataset UID: an identifier, not empty, unique among the records."""
    values = _identifier_values(record)
    if not values:
        return ["TR.noIdentifier"]
    if not all(values):
        return ["TR.emptyIdentifier"]
    everyone = [v for r in all_records for v in _identifier_values(r)]
    return ["TR.duplicateIdentifier"] if any(everyone.count(v) > 1 for v in values) else []


def md_ds_1_4(record) -> list[str]:
    """md datasets-and-series 1.4: INSPIRE Theme Keyword: a block citing 'GEMET - INSPIRE themes, version
    1.0' whose keywords include a theme of the register (its title in an official language, or its code)."""
    codes = {t for titles in THEME_TITLES.values() for t in titles} | set(THEME_TITLES)
    blocks = [
        b
        for b in x(
            record,
            "gmd:identificationInfo[1]/gmd:MD_DataIdentification/gmd:descriptiveKeywords/gmd:MD_Keywords",
        )
        if THEMES_TITLE in x(b, "gmd:thesaurusName/gmd:CI_Citation/gmd:title/*/text()")
    ]
    if not blocks:
        return ["TR.wrongKeywordFromINSPIREThemesTitle"]
    if any(not set(x(b, "gmd:keyword/*/text()")) & codes for b in blocks):
        return ["TR.noKeywordFromINSPIREThemes"]
    return []


def md_ds_1_5(record) -> list[str]:
    """md datasets-and-series 1.5: Spatial Resolution: an equivalent scale (integer) or a distance, not both."""
    resolutions = x(record, "gmd:identificationInfo[1]/*/gmd:spatialResolution")
    scales = x(
        record, "gmd:identificationInfo[1]/*/gmd:spatialResolution/gmd:MD_Resolution/gmd:equivalentScale"
    )
    distances = x(record, "gmd:identificationInfo[1]/*/gmd:spatialResolution/gmd:MD_Resolution/gmd:distance")
    if resolutions and not scales and not distances:
        return ["TR.noResolutions"]
    for value in x(
        record, "gmd:identificationInfo[1]/*/gmd:spatialResolution//gmd:denominator/gco:Integer/text()"
    ):
        if not re.match(r"^\d{1,40}$", value):
            return ["TR.invalidScale"]
    for value in x(
        record, "gmd:identificationInfo[1]/*/gmd:spatialResolution//gmd:distance/gco:Distance/text()"
    ):
        try:
            if not float(value):
                return ["TR.invalidDistance"]
        except ValueError:
            return ["TR.invalidDistance"]
    for r in resolutions:
        if x(r, "gmd:MD_Resolution/gmd:equivalentScale") and x(r, "gmd:MD_Resolution/gmd:distance"):
            return ["TR.mixedResolutions"]
    return []


def md_ds_1_6(record) -> list[str]:
    """md datasets-and-series 1.6: Resource Language: ISO 639-2 codes of the ISO 639-2 code list URL."""
    codes = x(record, "gmd:identificationInfo[1]/*/gmd:language/gmd:LanguageCode")
    if not codes:
        return ["TR.noLanguageCode"]
    # the ETS's list is the whole of ISO 639-2/B; ours are official EU languages, a subset
    if any(c.get("codeListValue") not in EU_LANGUAGES for c in codes):
        return ["TR.invalidLanguageCode"]
    if any(c.get("codeList") not in ISO_639_2 for c in codes):
        return ["TR.wrongCodeList_Param"]
    return []


def md_ds_1_7(record) -> list[str]:
    """md datasets-and-series 1.7: Topic Category: at least one, from ISO 19115's MD_TopicCategoryCode."""
    topics = x(record, "gmd:identificationInfo[1]/gmd:MD_DataIdentification/gmd:topicCategory")
    if not topics:
        return ["TR.noTopicCategory"]
    out = []
    for t in topics:
        values = x(t, "gmd:MD_TopicCategoryCode/text()")
        if not values:
            out.append("TR.noTopicCategory")
        elif values[0] not in TOPICS:
            out.append("TR.invalidTopicCode")
    return out


def md_ds_1_8(record) -> list[str]:
    """md datasets-and-series 1.8: Resource Locator: every online resource has a URL."""
    out = []
    for online in x(
        record,
        "gmd:distributionInfo/gmd:MD_Distribution/gmd:transferOptions/gmd:MD_DigitalTransferOptions/gmd:onLine/gmd:CI_OnlineResource",
    ):
        url = "".join(x(online, "gmd:linkage/gmd:URL/text()"))
        if not url:
            out.append("TR.linkageWithoutURL")
        elif not URL.search(url):
            out.append("TR.invalidURL")
    return out


def md_ds_1_9(record) -> list[str]:
    """md datasets-and-series 1.9: Data Quality Info Section: one DQ_DataQuality, scope dataset or series."""
    if len(x(record, "gmd:dataQualityInfo/gmd:DQ_DataQuality")) != 1:
        return ["TR.wrongNumberOfDataQuality"]
    scope = x(
        record,
        "gmd:dataQualityInfo/gmd:DQ_DataQuality/gmd:scope/gmd:DQ_Scope/gmd:level/gmd:MD_ScopeCode/@codeListValue",
    )
    return [] if set(scope) & {"dataset", "series"} else ["TR.invalidCodeList"]


def regulation_titles() -> set[str]:
    """The official titles of Regulation 1089/2010 (citationInspireInteroperabilityRegulation in the
    INSPIRE common enums, each language), lower case, spaces normalised."""
    titles = set()
    for path in sorted(
        (SHARED_DATA / "ogc-schemas" / "inspire" / "common" / "1.0" / "enums").glob("enum_*.xsd")
    ):
        doc = etree.parse(str(path))
        for v in doc.xpath(
            "/xs:schema/xs:complexType[starts-with(@name, 'citationInspireInteroperabilityRegulation')]"
            "/xs:complexContent/xs:restriction[@base='citationConformity']/xs:sequence"
            "/xs:element[@name='Title']/xs:simpleType/xs:restriction/xs:enumeration/@value",
            namespaces=NS,
        ):
            titles.add(" ".join(v.lower().split()))
    return titles


def md_ds_1_10(record, titles: set[str]) -> list[str]:
    """md datasets-and-series 1.10: Dataset Conformity: a report cites Regulation 1089/2010 by its official
    title (in one of the languages), with a date type."""
    valid, bad_dates = [], []
    for result in _results(record):
        title = _spec_title(result)
        if "1089/2010" not in title:
            continue
        if " ".join(title.lower().split()) in titles:
            valid.append(result)
        kinds = x(
            result,
            "gmd:specification/gmd:CI_Citation/gmd:date/gmd:CI_Date/gmd:dateType/gmd:CI_DateTypeCode/@codeListValue",
        )
        if not set(kinds) & {"publication", "creation", "revision"}:
            bad_dates.append(result)
    if bad_dates:
        return ["TR.noDateTypeForSpecification"]
    return [] if valid else ["TR.wrongNumberOfSpecificationForPurpose"]


def md_ds_1_11(record) -> list[str]:
    """md datasets-and-series 1.11: Lineage: exactly one statement, not empty."""
    statements = x(record, "gmd:dataQualityInfo/gmd:DQ_DataQuality/gmd:lineage/gmd:LI_Lineage/gmd:statement")
    if len(statements) != 1:
        return ["TR.wrongNumberOfLineageStatements"]
    return [] if text_of(statements[0]) else ["TR.emptyLineageStatement"]


# ================================================================ interoperability of data sets (CC 3)
def _crs(record):
    return x(
        record,
        "gmd:referenceSystemInfo/gmd:MD_ReferenceSystem/gmd:referenceSystemIdentifier/gmd:RS_Identifier",
    )


def md_isdss_2_1(record) -> list[str]:
    """md isdss 2.1: Coordinate Reference System: identifiers given, a code (and a codeSpace, if any) not empty."""
    crss = _crs(record)
    if not crss:
        return ["TR.noCrsIdentifier"]
    out = []
    for crs in crss:
        code, space = x(crs, "gmd:code"), x(crs, "gmd:codeSpace")
        if not code or not text_of(code[0]):
            out.append("TR.noCrsCode")
        elif space and not text_of(space[0]):
            out.append("TR.noCrsCodeSpace")
    return out


def md_isdss_2_2(record) -> list[str]:
    """md isdss 2.2: Coordinate Reference System Identifiers: a CRS of the Regulation by its
    http://www.opengis.net/def/crs/EPSG/0/ URI (the CharacterString, or the Anchor's href), without a codeSpace."""
    uris = {EPSG_URI + c for c in DEFAULT_EPSG}
    out = []
    for crs in _crs(record):
        strings = x(crs, "gmd:code/gco:CharacterString/text()")
        anchors = x(crs, "gmd:code/gmx:Anchor/text()")
        if not any(c in s for c in DEFAULT_EPSG for s in strings + anchors):
            continue
        given = set(strings) | set(x(crs, "gmd:code/gmx:Anchor/@xlink:href"))
        if not given & uris or x(crs, "gmd:codeSpace"):
            out.append("TR.invalidCrsCode")
    return out


def md_isdss_2_3(record) -> list[str]:
    """md isdss 2.3: Temporal Reference Systems (the ETS checks the reference system identifiers again:
    present, code and codeSpace not empty)."""
    return md_isdss_2_1(record) if _crs(record) else ["TR.noCrsCode"]


def md_isdss_2_4(record) -> list[str]:
    """md isdss 2.4: Spatial Representation Type: vector, grid, tin or textTable."""
    codes = x(
        record,
        "gmd:identificationInfo[1]/gmd:MD_DataIdentification/gmd:spatialRepresentationType/gmd:MD_SpatialRepresentationTypeCode/@codeListValue",
    )
    if not codes:
        return ["TR.spatialRepTypeCodes"]
    return (
        []
        if set(codes) <= {"vector", "grid", "tin", "textTable"}
        else ["TR.invalidSpatialRepresentationCode"]
    )


CHARACTER_SETS = set(
    "ucs2 ucs4 utf7 utf8 8859part1 8859part2 8859part3 8859part4 8859part5 8859part6 8859part7 8859part8 "
    "8859part9 8859part10 8859part11 8859part12 8859part13 8859part14 8859part15 8859part16 jis shiftJIS eucJP "
    "usAscii eucKR big5 GB2312".split()
)


def md_isdss_2_5(record) -> list[str]:
    """md isdss 2.5: Character Encoding: MD_CharacterSetCode values of ISO 19139."""
    codes = x(
        record,
        "gmd:identificationInfo[1]/gmd:MD_DataIdentification/gmd:characterSet/gmd:MD_CharacterSetCode/@codeListValue",
    )
    return [] if set(codes) <= CHARACTER_SETS else ["TR.invalidEncodingCode"]


def md_isdss_2_6(record) -> list[str]:
    """md isdss 2.6: Data Encoding: distribution formats with a name and a version (or a version nil,
    unknown or inapplicable)."""
    formats = x(record, "gmd:distributionInfo[1]/gmd:MD_Distribution/gmd:distributionFormat")
    if not formats:
        return ["TR.noDistFormat"]
    out = []
    for f in formats:
        name, version = x(f, "gmd:MD_Format/gmd:name"), x(f, "gmd:MD_Format/gmd:version")
        if not name or not text_of(name[0]):
            out.append("TR.emptyName")
        elif not (version and "".join(x(version[0], "*/text()")).strip()):
            if not version or version[0].get(f"{{{GCO}}}nilReason") not in ("unknown", "inapplicable"):
                out.append("TR.invalidVersion")
    return out


def md_isdss_2_7(record) -> list[str]:
    """md isdss 2.7: Topological Consistency Quantitative Results: a unit, a gco:Record with its xsi:type."""
    out = []
    for result in x(
        record,
        "gmd:dataQualityInfo/gmd:DQ_DataQuality/gmd:report/gmd:DQ_TopologicalConsistency/gmd:result/gmd:DQ_QuantitativeResult",
    ):
        if not x(result, "gmd:valueUnit"):
            out.append("TR.noValueUnit")
        elif not x(result, "gmd:value/gco:Record"):
            out.append("TR.noValueRecord")
        elif not x(result, "gmd:value/gco:Record/@xsi:type"):
            out.append("TR.noTypeRecord")
    return out


def md_isdss_2_8(record) -> list[str]:
    """md isdss 2.8: Topological Consistency Descriptive Results: the Generic Network Model cited, pass false,
    an explanation."""
    out = []
    for result in x(
        record,
        "gmd:dataQualityInfo/gmd:DQ_DataQuality/gmd:report/gmd:DQ_TopologicalConsistency/gmd:result/gmd:DQ_ConformanceResult",
    ):
        if _spec_title(result) != "INSPIRE Data Specifications - Base Models - Generic Network Model":
            out.append("TR.invalidTitle")
    return out


# ================================================================ spatial data services (CC 4) and network services (CC 5)
def md_sds_3_1(record) -> list[str]:
    """md sds 3.1: Resource Type: one hierarchyLevel service and a hierarchyLevelName not empty."""
    if level(record) != "service":
        return ["TR.isNotService"]
    if len(x(record, "gmd:hierarchyLevel/gmd:MD_ScopeCode")) != 1:
        return ["TR.wrongHierarchyLevelMultiplicity"]
    names = x(record, "gmd:hierarchyLevelName")
    if not names:
        return ["TR.wrongHierarchyLevelNameMultiplicity"]
    return [] if all(text_of(n) for n in names) else ["TR.emptyHierarchyLevelName"]


def md_sds_3_2(record) -> list[str]:
    """md sds 3.2: Service Identification Element: one srv:SV_ServiceIdentification."""
    found = x(record, "gmd:identificationInfo[1]/srv:SV_ServiceIdentification")
    if not found:
        return ["TR.serviceIdentificationNotFound"]
    return [] if len(found) == 1 else ["TR.wrongServiceIdentificationMultiplicity"]


def md_sds_3_4(record) -> list[str]:
    """md sds 3.4: Spatial Data Service Category: a keyword from the SpatialDataServiceCategory code list (an
    Anchor to its URI, or the value's code as text), and no Anchor into that list to an unknown value."""
    keywords = x(
        record,
        "gmd:identificationInfo[1]/srv:SV_ServiceIdentification/gmd:descriptiveKeywords/gmd:MD_Keywords/gmd:keyword",
    )
    if not keywords:
        return ["TR.keywordElementNotFound"]
    codes = {u.rsplit("/", 1)[1] for u in SERVICE_CATEGORIES}
    into = [h for k in keywords for h in x(k, "gmx:Anchor/@xlink:href") if h.startswith(SERVICE_CATEGORY)]
    if any(h not in SERVICE_CATEGORIES for h in into):
        return ["TR.SpatialDataServiceCategoryInvalid"]
    strings = [s for k in keywords for s in x(k, "gco:CharacterString/text()") if s in codes]
    return [] if into or strings else ["TR.SpatialDataServiceCategoryNotFound"]


def _service_type(record, codes) -> list[str]:
    types = x(
        record, "gmd:identificationInfo[1]/srv:SV_ServiceIdentification/srv:serviceType/gco:LocalName/text()"
    )
    if len(types) != 1:
        return ["TR.exactlyOneServiceType"]
    return [] if types[0] in codes else ["TR.noTypeFromSpatialDataServiceType"]


def md_sds_3_5(record) -> list[str]:
    """md sds 3.5: Spatial Data Service Type: exactly one gco:LocalName of SpatialDataServiceType."""
    return _service_type(record, ("discovery", "view", "download", "transformation", "invoke", "other"))


def md_sds_3_6(record, get) -> list[str]:
    """md sds 3.6: Coupled Resource: each srv:operatesOn has an xlink:href to an (XML) record of a data set
    or series; `get(url)` → (status, content type, body) stands for the ETS's HTTP GET."""
    out = []
    for operates in x(record, "gmd:identificationInfo/srv:SV_ServiceIdentification/srv:operatesOn"):
        url = operates.get(HREF)
        if not url:
            out.append("TR.operatesOnWithoutXlink")
            continue
        if not url.startswith(("http://", "https://")):
            out.append("TR.urlNotHttp")
            continue
        status, content_type, body = get(url)
        if status not in (200, 204):
            out.append("TR.resourceNotAccessible")
        elif not content_type.startswith(("text/xml", "application/xml")):
            out.append("TR.unknownResourceType")
        elif not set(
            etree.fromstring(body).xpath(
                "//gmd:hierarchyLevel[1]/gmd:MD_ScopeCode/@codeListValue", namespaces=NS
            )
        ) & {
            "dataset",
            "series",
        }:
            out.append("TR.operatesOnWithoutDatasetOrSeriesRecord")
    return out


def md_sds_3_7(record) -> list[str]:
    """md sds 3.7: Resource Locator: each MD_Distribution has an online resource's URL."""
    out = []
    for dist in x(record, "gmd:distributionInfo/gmd:MD_Distribution"):
        if not x(
            dist,
            "gmd:transferOptions/gmd:MD_DigitalTransferOptions/gmd:onLine/gmd:CI_OnlineResource/gmd:linkage/gmd:URL/text()",
        ):
            out.append("TR.linkageWithoutURL")
    return out


def md_sds_3_8(record) -> list[str]:
    """md sds 3.8: Only One Data Quality Element: its scope service, with a level description."""
    if len(x(record, "gmd:dataQualityInfo/gmd:DQ_DataQuality")) != 1:
        return ["TR.oneDataQuality"]
    if x(
        record,
        "gmd:dataQualityInfo[1]/gmd:DQ_DataQuality/gmd:scope/gmd:DQ_Scope/gmd:level/gmd:MD_ScopeCode/@codeListValue",
    ) != ["service"]:
        return ["TR.invalidCodeListValueSDS"]
    other = x(
        record,
        "gmd:dataQualityInfo[1]/gmd:DQ_DataQuality/gmd:scope/gmd:DQ_Scope/gmd:levelDescription/gmd:MD_ScopeDescription/gmd:other",
    )
    return [] if other and text_of(other[0]) else ["TR.missingScopeDescription"]


def md_ns_4_1(record) -> list[str]:
    """md ns 4.1: Spatial Data Service Type (network services): exactly one of view, download, discovery,
    transformation."""
    return _service_type(record, ("view", "download", "discovery", "transformation"))


# ================================================================ the records, as the ETS is given them
def _get(client: Client, url: str) -> tuple[int, str, bytes]:
    parts = urlsplit(url)
    r = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
    return r.status_code, r.get("Content-Type", ""), r.content


@pytest.fixture(scope="module")
def records(demo_data, django_db_blocker) -> dict[tuple[str, str], etree._Element]:
    """(name, language) → the record, as /metadane/<name>.xml?LANGUAGE=… gives it."""
    client = Client()
    out = {}
    with django_db_blocker.unblock():
        for name in (*DATASETS, *SERVICES):
            for language in LANGUAGES:
                status, content_type, body = _get(
                    client, f"{metadata.inspire_record_url(name)}?LANGUAGE={language}"
                )
                assert status == 200 and content_type.startswith("application/xml"), (name, status)
                out[name, language] = etree.fromstring(body)
    return out


@pytest.fixture(scope="module")
def datasets(records):
    return {key: r for key, r in records.items() if key[0] in DATASETS}


@pytest.fixture(scope="module")
def services(records):
    return {key: r for key, r in records.items() if key[0] in SERVICES}


@pytest.fixture(scope="module")
def md_schema(ogc_schemas, tmp_path_factory):
    """ISO 19139 with gmx (gmx:Anchor) and srv: what the ETS's INSPIRE wrapper schema is (C.1)."""
    wrapper = tmp_path_factory.mktemp("md") / "wrapper.xsd"
    base = "http://schemas.opengis.net/iso/19139/20070417"
    wrapper.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:wrapper">'
        f'<xs:import namespace="{GMD}" schemaLocation="{base}/gmd/gmd.xsd"/>'
        f'<xs:import namespace="{GMX}" schemaLocation="{base}/gmx/gmx.xsd"/>'
        f'<xs:import namespace="{SRV}" schemaLocation="{base}/srv/1.0/srv.xsd"/>'
        "</xs:schema>"
    )
    return ogc_schemas(str(wrapper))


def failures(check, recs: dict, *args) -> dict:
    """The records `check` reports, with its messages (what ETF lists as FAILED)."""
    found = {key: check(r, *args) for key, r in recs.items()}
    return {key: messages for key, messages in found.items() if messages}


# ---- Conformance Class 1: common --------------------------------------------------------------------------
def test_md_common_c1_xml_schema(records, md_schema):
    assert not failures(md_common_c1, records, md_schema), md_schema.error_log


def test_md_common_c2_root_element(records):
    assert not failures(md_common_c2, records)


def test_md_common_c5_language_code(records):
    assert not failures(md_common_c5, records)
    assert {
        x(r, "gmd:language/gmd:LanguageCode/@codeListValue")[0] for (_, lang), r in records.items()
    } == set(LANGUAGES)


def test_md_common_c6_metadata_point_of_contact(records):
    assert not failures(md_common_c6, records)


def test_md_common_c7_metadata_date(records):
    assert not failures(md_common_c7, records)


def test_md_common_c8_resource_title(records):
    assert not failures(md_common_c8, records)


def test_md_common_c9_resource_abstract(records):
    assert not failures(md_common_c9, records)


def test_md_common_c10_responsible_organisation(records):
    assert not failures(md_common_c10, records)


def test_md_common_c11_temporal_reference(records):
    assert not failures(md_common_c11, records)


def test_md_common_c12_max_one_date_of_creation(records):
    assert not failures(md_common_c12, records)


def test_md_common_c13_max_one_date_of_last_revision(records):
    assert not failures(md_common_c13, records)


def test_md_common_c14_temporal_extent(records):
    assert not failures(md_common_c14, records)


def test_md_common_c15_keyword_originating_cv(records):
    assert not failures(md_common_c15, records)


def test_md_common_c16_group_keywords_by_cv(records):
    assert not failures(md_common_c16, records)


def test_md_common_c17_limitations_on_public_access(records):
    assert not failures(md_common_c17, records)
    for r in records.values():  # TG 2.0: the registry's value, by its URI
        assert x(r, "//gmd:accessConstraints/../gmd:otherConstraints/gmx:Anchor/@xlink:href") == [
            f"{LIMITATIONS}/noLimitations"
        ]


def test_md_common_c18_conditions_for_access_and_use(records):
    assert not failures(md_common_c18, records)
    for r in records.values():  # the licence, by its URI
        assert x(r, "//gmd:useConstraints/../gmd:otherConstraints/gmx:Anchor/@xlink:href") == [
            "https://creativecommons.org/licenses/by/4.0/"
        ]


def test_md_common_c19_geographical_bounding_box(records):
    assert not failures(md_common_c19, records)


def test_md_common_c20_conformity(records):
    assert not failures(md_common_c20, records)


def test_md_common_c21_conformity_specifications(records):
    assert not failures(md_common_c21, records)
    for r in records.values():  # TG 2.0: the regulations cited by their EUR-Lex (ELI) URIs
        hrefs = set(
            x(
                r,
                "//gmd:DQ_ConformanceResult/gmd:specification/gmd:CI_Citation/gmd:title/gmx:Anchor/@xlink:href",
            )
        )
        assert "http://data.europa.eu/eli/reg/2010/1089" in hrefs
        if level(r) == "service":
            assert "http://data.europa.eu/eli/reg/2009/976" in hrefs


def test_md_common_c22_conformity_degree(records):
    assert not failures(md_common_c22, records)


# ---- Conformance Class 2: data sets and series -----------------------------------------------------------
def test_md_datasets_and_series_1_1_resource_type(datasets, services):
    assert not failures(md_ds_1_1, datasets)
    assert set(failures(md_ds_1_1, services)) == set(services)


def test_md_datasets_and_series_1_2_only_one_data_identification(datasets):
    assert not failures(md_ds_1_2, datasets)


def test_md_datasets_and_series_1_3_dataset_uid(datasets):
    for language in LANGUAGES:
        same_language = {k: r for k, r in datasets.items() if k[1] == language}
        assert not failures(md_ds_1_3, same_language, list(same_language.values()))


def test_md_datasets_and_series_1_4_inspire_theme_keyword(datasets):
    assert not failures(md_ds_1_4, datasets)
    for (name, _), r in datasets.items():  # TG 2.0: Anchors to the theme register and to the thesaurus
        block = x(r, f"//gmd:MD_Keywords[gmd:thesaurusName//gmd:title/gmx:Anchor='{THEMES_TITLE}']")[0]
        assert x(block, "gmd:thesaurusName//gmd:title/gmx:Anchor/@xlink:href") == [
            "http://www.eionet.europa.eu/gemet/inspire_themes"
        ]
        assert x(block, "gmd:keyword/gmx:Anchor/@xlink:href") == [
            f"http://inspire.ec.europa.eu/theme/{name[-2:]}"
        ]


def test_md_datasets_and_series_1_5_spatial_resolution(datasets):
    assert not failures(md_ds_1_5, datasets)


def test_md_datasets_and_series_1_6_resource_language(datasets):
    assert not failures(md_ds_1_6, datasets)


def test_md_datasets_and_series_1_7_topic_category(datasets):
    assert not failures(md_ds_1_7, datasets)


def test_md_datasets_and_series_1_8_resource_locator(datasets):
    assert not failures(md_ds_1_8, datasets)
    for r in datasets.values():  # TG 2.0 Recommendation 1.8: the link's function
        functions = x(
            r,
            "//gmd:transferOptions//gmd:CI_OnlineResource/gmd:function/gmd:CI_OnLineFunctionCode/@codeListValue",
        )
        assert "download" in functions


def test_md_datasets_and_series_1_9_data_quality_info_section(datasets):
    assert not failures(md_ds_1_9, datasets)


def test_md_datasets_and_series_1_10_dataset_conformity(datasets):
    titles = regulation_titles()
    assert any("1089/2010" in t for t in titles)  # the enums were read
    assert not failures(md_ds_1_10, datasets, titles)


def test_md_datasets_and_series_1_11_lineage(datasets):
    assert not failures(md_ds_1_11, datasets)


# ---- Conformance Class 3: interoperability of data sets ----------------------------------------------------
def test_md_isdss_2_1_coordinate_reference_system(datasets):
    assert not failures(md_isdss_2_1, datasets)


def test_md_isdss_2_2_coordinate_reference_system_identifiers(datasets):
    assert not failures(md_isdss_2_2, datasets)
    for r in datasets.values():  # TG 2.0: each CRS an Anchor to its URI, the national one too
        hrefs = x(r, "//gmd:referenceSystemIdentifier/gmd:RS_Identifier/gmd:code/gmx:Anchor/@xlink:href")
        assert {EPSG_URI + "2180", EPSG_URI + "4258", EPSG_URI + "3035"} == set(hrefs)


def test_md_isdss_2_3_temporal_reference_systems(datasets):
    assert not failures(md_isdss_2_3, datasets)


def test_md_isdss_2_4_spatial_representation_type(datasets):
    assert not failures(md_isdss_2_4, datasets)


def test_md_isdss_2_5_character_encoding(datasets):
    assert not failures(md_isdss_2_5, datasets)
    assert all(x(r, "gmd:identificationInfo[1]/*/gmd:characterSet") for r in datasets.values())


def test_md_isdss_2_6_data_encoding(datasets):
    assert not failures(md_isdss_2_6, datasets)
    for (name, _), r in datasets.items():  # TG 2.0: the application schema by its register's URI
        names = x(r, "//gmd:distributionFormat/gmd:MD_Format/gmd:name/gmx:Anchor/@xlink:href")
        schema = {"inspire-cp": "cp", "inspire-ad": "ad", "inspire-bu": "bu-core2d"}[name]
        assert f"http://inspire.ec.europa.eu/applicationschema/{schema}" in names


def test_md_isdss_2_7_topological_consistency_quantitative_results(datasets):
    assert not failures(md_isdss_2_7, datasets)  # none given: no topological consistency report


def test_md_isdss_2_8_topological_consistency_descriptive_results(datasets):
    assert not failures(md_isdss_2_8, datasets)  # none given (no network data set)


# ---- Conformance Classes 4, 5: spatial data services, network services ---------------------------------
def test_md_sds_3_1_resource_type(services, datasets):
    assert not failures(md_sds_3_1, services)
    assert set(failures(md_sds_3_1, datasets)) == set(datasets)


def test_md_sds_3_2_service_identification_element(services):
    assert not failures(md_sds_3_2, services)


def test_md_sds_3_4_spatial_data_service_category(services):
    assert not failures(md_sds_3_4, services)
    categories = {name: x(r, "//gmd:keyword/gmx:Anchor/@xlink:href") for (name, _), r in services.items()}
    assert f"{SERVICE_CATEGORY}/infoMapAccessService" in categories["usluga-wms"]
    assert f"{SERVICE_CATEGORY}/infoFeatureAccessService" in categories["usluga-wfs"]


def test_md_sds_3_5_spatial_data_service_type(services):
    assert not failures(md_sds_3_5, services)


def test_md_sds_3_6_coupled_resource(services, django_db_blocker):
    client = Client()
    with django_db_blocker.unblock():
        assert not failures(md_sds_3_6, services, lambda url: _get(client, url))
    assert all(x(r, "//srv:operatesOn") for r in services.values())


def test_md_sds_3_7_resource_locator(services):
    assert not failures(md_sds_3_7, services)


def test_md_sds_3_8_only_one_data_quality_element(services):
    assert not failures(md_sds_3_8, services)


def test_md_ns_4_1_spatial_data_service_type(services):
    assert not failures(md_ns_4_1, services)
    types = {name: x(r, "//srv:serviceType/gco:LocalName/text()") for (name, _), r in services.items()}
    assert types == {"usluga-wms": ["view"], "usluga-wfs": ["download"]}


# ---- the ports can fail: records broken the way TG 2.0 forbids ---------------------------------------------
def broken(record, path: str, change) -> etree._Element:
    """A copy of `record` with `change(el)` applied to each element at `path`."""
    doc = copy.deepcopy(record)
    found = x(doc, path)
    assert found, path
    for el in found:
        change(el)
    return doc


def remove(el) -> None:
    el.getparent().remove(el)


def as_string(anchor) -> None:
    """gmx:Anchor → gco:CharacterString (what the records gave before TG 2.0)."""
    anchor.tag = f"{{{GCO}}}CharacterString"
    anchor.attrib.pop(HREF, None)


def test_negative_common(records, md_schema):
    cp = records["inspire-cp", "pol"]
    wms = records["usluga-wms", "eng"]
    # C.1: an unknown element
    assert md_common_c1(
        broken(cp, "gmd:dateStamp", lambda el: etree.SubElement(el, f"{{{GMD}}}oops")), md_schema
    )
    # C.5: a language outside the EU's official ones, or two languages
    assert md_common_c5(
        broken(cp, "gmd:language/gmd:LanguageCode", lambda el: el.set("codeListValue", "rus"))
    )
    # C.6 / C.10: no e-mail
    assert md_common_c6(broken(cp, "gmd:contact//gmd:electronicMailAddress", remove)) == [
        "TR.noMetadataContactEmailAddress"
    ]
    assert md_common_c10(broken(wms, "//srv:SV_ServiceIdentification/gmd:pointOfContact", remove))
    # C.7: a date that is not one
    assert md_common_c7(broken(cp, "gmd:dateStamp/gco:Date", lambda el: setattr(el, "text", "26.11.2026")))
    # C.11: a date type outside publication, revision, creation
    assert md_common_c11(
        broken(
            cp,
            "//gmd:MD_DataIdentification/gmd:citation//gmd:CI_DateTypeCode",
            lambda el: el.set("codeListValue", "adopted"),
        )
    )
    # C.13: two revision dates
    two = broken(
        cp,
        "//gmd:MD_DataIdentification/gmd:citation/gmd:CI_Citation/gmd:date",
        lambda el: el.addnext(copy.deepcopy(el)),
    )
    assert md_common_c13(two) and not md_common_c12(two)
    # C.15: a thesaurus without its publication date
    assert md_common_c15(
        broken(
            wms, "//gmd:thesaurusName//gmd:CI_DateTypeCode", lambda el: el.set("codeListValue", "revision")
        )
    )
    # C.16: one vocabulary in two blocks
    assert md_common_c16(
        broken(
            cp, "//gmd:descriptiveKeywords[.//gmd:thesaurusName][1]", lambda el: el.addnext(copy.deepcopy(el))
        )
    )
    # C.17: the limitation as plain text (no Anchor), over https, or with the conditions' value
    assert md_common_c17(
        broken(cp, "//gmd:accessConstraints/../gmd:otherConstraints/gmx:Anchor", as_string)
    ) == ["TR.noResourceLimitations"]
    assert md_common_c17(
        broken(
            cp,
            "//gmd:accessConstraints/../gmd:otherConstraints/gmx:Anchor",
            lambda el: el.set(HREF, el.get(HREF).replace("http:", "https:")),
        )
    ) == ["TR.invalidHttpsUri"]
    assert md_common_c17(
        broken(
            cp,
            "//gmd:accessConstraints/../gmd:otherConstraints/gmx:Anchor",
            lambda el: el.set(HREF, f"{LIMITATIONS}/everything"),
        )
    )
    # C.18: no conditions
    assert md_common_c18(broken(cp, "//gmd:resourceConstraints[.//gmd:useConstraints]", remove)) == [
        "TR.noResourceConditions"
    ]
    # C.19: the box of a data set missing, or south above north
    assert md_common_c19(broken(cp, "//gmd:EX_GeographicBoundingBox/..", remove)) == [
        "TR.noGeographicBoundingBox"
    ]
    assert md_common_c19(
        broken(cp, "//gmd:southBoundLatitude/gco:Decimal", lambda el: setattr(el, "text", "89.00"))
    )
    # C.20–C.22: no report; the regulation without a date type; pass nil for another reason
    assert md_common_c20(broken(cp, "//gmd:report", remove))
    assert md_common_c21(
        broken(
            cp,
            "//gmd:DQ_ConformanceResult//gmd:CI_DateTypeCode",
            lambda el: el.set("codeListValue", "adopted"),
        )
    )
    assert md_common_c22(
        broken(
            records["inspire-ad", "pol"],
            "//gmd:DQ_ConformanceResult/gmd:pass",
            lambda el: el.set(f"{{{GCO}}}nilReason", "missing"),
        )
    )
    assert md_common_c22(broken(wms, "//gmd:DQ_ConformanceResult/gmd:pass", remove))


def test_negative_datasets(records):
    cp, ad = records["inspire-cp", "pol"], records["inspire-ad", "eng"]
    # 1.3: an identifier two data sets share
    same = broken(
        ad,
        "//gmd:MD_DataIdentification//gmd:RS_Identifier/gmd:code/gco:CharacterString",
        lambda el: setattr(el, "text", "CP"),
    )
    assert md_ds_1_3(same, [cp, same]) == ["TR.duplicateIdentifier"]
    # 1.4: the theme's thesaurus under another title, or a keyword that is no theme
    title = "//gmd:thesaurusName//gmd:title/gmx:Anchor[.='GEMET - INSPIRE themes, version 1.0']"
    assert md_ds_1_4(broken(cp, title, lambda el: setattr(el, "text", "GEMET"))) == [
        "TR.wrongKeywordFromINSPIREThemesTitle"
    ]
    assert md_ds_1_4(
        broken(cp, f"{title}/../../../../gmd:keyword/gmx:Anchor", lambda el: setattr(el, "text", "Działki"))
    )
    # 1.5: a scale that is not an integer
    assert md_ds_1_5(broken(cp, "//gmd:denominator/gco:Integer", lambda el: setattr(el, "text", "1:1000")))
    # 1.7: an unknown topic
    assert md_ds_1_7(broken(cp, "//gmd:MD_TopicCategoryCode", lambda el: setattr(el, "text", "cadastre")))
    # 1.8: a link without its URL
    assert md_ds_1_8(
        broken(cp, "//gmd:transferOptions//gmd:linkage/gmd:URL", lambda el: setattr(el, "text", ""))
    )
    # 1.9: the quality's scope a service
    assert md_ds_1_9(
        broken(cp, "//gmd:DQ_Scope/gmd:level/gmd:MD_ScopeCode", lambda el: el.set("codeListValue", "service"))
    )
    # 1.10: the regulation cited by another title
    assert md_ds_1_10(
        broken(
            cp,
            "//gmd:DQ_ConformanceResult//gmd:title/gmx:Anchor",
            lambda el: setattr(el, "text", "Rozporządzenie 1089/2010"),
        ),
        regulation_titles(),
    ) == ["TR.wrongNumberOfSpecificationForPurpose"]
    # 1.11: two lineages
    assert md_ds_1_11(broken(cp, "//gmd:LI_Lineage/gmd:statement", lambda el: el.addnext(copy.deepcopy(el))))
    # isdss 2.2: a default CRS with a codeSpace (as the records had before), or as an EPSG code only
    code = f"//gmd:RS_Identifier[gmd:code/gmx:Anchor/@xlink:href='{EPSG_URI}4258']/gmd:code"
    with_space = broken(
        cp,
        code,
        lambda el: el.addnext(
            etree.fromstring(
                f'<gmd:codeSpace xmlns:gmd="{GMD}" xmlns:gco="{GCO}"><gco:CharacterString>EPSG</gco:CharacterString></gmd:codeSpace>'
            )
        ),
    )
    assert md_isdss_2_2(with_space) == ["TR.invalidCrsCode"]
    assert md_isdss_2_2(
        broken(cp, f"{code}/gmx:Anchor", lambda el: (as_string(el), setattr(el, "text", "EPSG:4258")))
    )
    # isdss 2.4, 2.6: no representation type; a format without a version
    assert md_isdss_2_4(broken(cp, "//gmd:spatialRepresentationType", remove))
    assert md_isdss_2_6(broken(cp, "//gmd:MD_Format/gmd:version", remove))


def test_negative_services(records, client):
    wms, wfs = records["usluga-wms", "pol"], records["usluga-wfs", "eng"]
    assert md_sds_3_1(broken(wms, "gmd:hierarchyLevelName", remove)) == [
        "TR.wrongHierarchyLevelNameMultiplicity"
    ]
    # 3.4: a category Anchor to no value of the code list
    assert md_sds_3_4(
        broken(
            wfs,
            f"//gmd:keyword/gmx:Anchor[starts-with(@xlink:href, '{SERVICE_CATEGORY}')]",
            lambda el: el.set(HREF, f"{SERVICE_CATEGORY}/download"),
        )
    ) == ["TR.SpatialDataServiceCategoryInvalid"]
    assert md_sds_3_4(
        broken(wfs, f"//gmd:keyword[gmx:Anchor[starts-with(@xlink:href, '{SERVICE_CATEGORY}')]]", remove)
    ) == ["TR.SpatialDataServiceCategoryNotFound"]
    # 3.5 / 4.1: invoke is a service type, not a network service's one
    invoke = broken(wms, "//srv:serviceType/gco:LocalName", lambda el: setattr(el, "text", "invoke"))
    assert not md_sds_3_5(invoke) and md_ns_4_1(invoke) == ["TR.noTypeFromSpatialDataServiceType"]
    # 3.6: operatesOn a record that does not exist, or a service's own record
    gone = broken(
        wfs, "//srv:operatesOn", lambda el: el.set(HREF, el.get(HREF).replace("inspire-", "inspire-x"))
    )
    assert md_sds_3_6(gone, lambda url: _get(client, url)) and "TR.resourceNotAccessible" in md_sds_3_6(
        gone, lambda url: _get(client, url)
    )
    itself = broken(
        wfs, "//srv:operatesOn", lambda el: el.set(HREF, metadata.inspire_record_url("usluga-wms"))
    )
    assert "TR.operatesOnWithoutDatasetOrSeriesRecord" in md_sds_3_6(itself, lambda url: _get(client, url))
    # 3.8: the quality's scope a data set
    assert md_sds_3_8(
        broken(
            wms, "//gmd:DQ_Scope/gmd:level/gmd:MD_ScopeCode", lambda el: el.set("codeListValue", "dataset")
        )
    )
