"""ISO 19139 (gmd) records of the published data sets, one per catalogue layer, generated from the
catalogue and the layer's extent. The WFS FeatureTypes and WMS Layers point at them (MetadataURL,
INSPIRE TG); their resource identifier (code + codeSpace) is the SpatialDataSetIdentifier of the
INSPIRE extended capabilities, so a validator can join a service to its data sets. When the data
sharing issue adds a CSW, these become its records; the URL stays.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.urls import reverse
from lxml import etree

from layers.catalogue import Layer
from layers.selectors import layer_extents

from .common.contact import SERVICE_CONTACT
from .common.crs import transform_extent

GMD = "http://www.isotc211.org/2005/gmd"
GCO = "http://www.isotc211.org/2005/gco"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XLINK = "http://www.w3.org/1999/xlink"
SCHEMA = "http://schemas.opengis.net/iso/19139/20070417/gmd/gmd.xsd"
CODELISTS = "http://standards.iso.org/iso/19139/resources/gmxCodelists.xml"
DATASET_NAMESPACE = "https://gisportal.piaseczno.eu/zbiory"  # the SpatialDataSetIdentifier namespace
OFFICE = SERVICE_CONTACT.organisation
EMAIL = SERVICE_CONTACT.email
REVISION = "2026-11-26"
_UUID_NS = uuid.UUID("6f1c2b0e-4d3a-5b8e-9a41-0c7d2e5f8a10")


def file_identifier(layer: Layer) -> str:
    """A stable identifier of the record: the same for the same data set on every server start."""
    return str(uuid.uuid5(_UUID_NS, f"{DATASET_NAMESPACE}/{layer.name}"))


def record_url(layer: Layer) -> str:
    return settings.GISPORTAL_PUBLIC_URL + reverse("metadata_record", args=[layer.name])


def _el(parent, tag: str, text: str | None = None, ns: str = GMD, **attrs):
    el = etree.SubElement(parent, f"{{{ns}}}{tag}", {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _string(parent, tag: str, text: str):
    _el(_el(parent, tag), "CharacterString", text, ns=GCO)


def _code(parent, tag: str, code_type: str, value: str):
    _el(_el(parent, tag), code_type, value, codeList=f"{CODELISTS}#{code_type}", codeListValue=value)


def _language(parent, code: str = "pol"):
    _el(
        _el(parent, "language"),
        "LanguageCode",
        code,
        codeList="http://www.loc.gov/standards/iso639-2/",
        codeListValue=code,
    )


def _party(parent, tag: str, role: str):
    party = _el(_el(parent, tag), "CI_ResponsibleParty")
    _string(party, "organisationName", OFFICE)
    contact = _el(_el(party, "contactInfo"), "CI_Contact")
    address = _el(_el(contact, "address"), "CI_Address")
    _string(address, "electronicMailAddress", EMAIL)
    _code(party, "role", "CI_RoleCode", role)


def record(layer: Layer, language: str = "pl") -> bytes:
    """The ISO 19139 record of one layer's data set, valid against gmd.xsd."""
    root = etree.Element(f"{{{GMD}}}MD_Metadata", nsmap={"gmd": GMD, "gco": GCO, "xsi": XSI, "xlink": XLINK})
    root.set(f"{{{XSI}}}schemaLocation", f"{GMD} {SCHEMA}")
    _string(root, "fileIdentifier", file_identifier(layer))
    _language(root)
    _code(root, "characterSet", "MD_CharacterSetCode", "utf8")
    _code(root, "hierarchyLevel", "MD_ScopeCode", "dataset")
    _party(root, "contact", "pointOfContact")
    _el(_el(root, "dateStamp"), "Date", REVISION, ns=GCO)
    _string(root, "metadataStandardName", "ISO 19115:2003/19139")
    _string(root, "metadataStandardVersion", "1.0")
    rs = _el(_el(_el(root, "referenceSystemInfo"), "MD_ReferenceSystem"), "referenceSystemIdentifier")
    _string(_el(rs, "RS_Identifier"), "code", "http://www.opengis.net/def/crs/EPSG/0/2180")

    ident = _el(_el(root, "identificationInfo"), "MD_DataIdentification")
    citation = _el(_el(ident, "citation"), "CI_Citation")
    _string(citation, "title", layer.title(language))
    date = _el(_el(citation, "date"), "CI_Date")
    _el(_el(date, "date"), "Date", REVISION, ns=GCO)
    _code(date, "dateType", "CI_DateTypeCode", "revision")
    rid = _el(_el(citation, "identifier"), "RS_Identifier")
    _string(rid, "code", layer.name)
    _string(rid, "codeSpace", DATASET_NAMESPACE)
    _string(ident, "abstract", layer.abstract(language))
    _party(ident, "pointOfContact", "custodian")
    keywords = _el(_el(ident, "descriptiveKeywords"), "MD_Keywords")
    for word in layer.keywords or (layer.name,):
        _string(keywords, "keyword", word)
    legal = _el(_el(ident, "resourceConstraints"), "MD_LegalConstraints")
    _code(legal, "accessConstraints", "MD_RestrictionCode", "otherRestrictions")
    _string(
        legal, "otherConstraints", "Brak ograniczeń dostępu publicznego; dane osobowe nie są udostępniane."
    )
    _code(ident, "spatialRepresentationType", "MD_SpatialRepresentationTypeCode", "vector")
    _language(ident)
    _el(_el(ident, "topicCategory"), "MD_TopicCategoryCode", "planningCadastre")
    extent = layer_extents().get(layer.name)
    west, south, east, north = transform_extent(extent, 4326) if extent else (20.8, 51.9, 21.3, 52.2)
    box = _el(_el(_el(_el(ident, "extent"), "EX_Extent"), "geographicElement"), "EX_GeographicBoundingBox")
    for tag, value in (
        ("westBoundLongitude", west),
        ("eastBoundLongitude", east),
        ("southBoundLatitude", south),
        ("northBoundLatitude", north),
    ):
        _el(_el(box, tag), "Decimal", f"{value:.6f}", ns=GCO)

    dist = _el(_el(root, "distributionInfo"), "MD_Distribution")
    for name, version in (("GML", "3.2.1"), ("GeoJSON", "RFC 7946")):
        fmt = _el(_el(dist, "distributionFormat"), "MD_Format")
        _string(fmt, "name", name)
        _string(fmt, "version", version)
    options = _el(_el(dist, "transferOptions"), "MD_DigitalTransferOptions")
    base = settings.GISPORTAL_PUBLIC_URL
    for url, protocol in (
        (f"{base}/ows?SERVICE=WFS&REQUEST=GetCapabilities", "OGC:WFS"),
        (f"{base}/ows?SERVICE=WMS&REQUEST=GetCapabilities", "OGC:WMS"),
        (f"{base}/ogcapi/collections/{layer.name}", "OGC:API-Features"),
    ):
        online = _el(_el(options, "onLine"), "CI_OnlineResource")
        _el(_el(online, "linkage"), "URL", url)
        _string(online, "protocol", protocol)

    quality = _el(_el(root, "dataQualityInfo"), "DQ_DataQuality")
    _code(_el(_el(quality, "scope"), "DQ_Scope"), "level", "MD_ScopeCode", "dataset")
    _string(
        _el(_el(quality, "lineage"), "LI_Lineage"),
        "statement",
        "Dane z ewidencji gruntów i budynków oraz rejestrów gminy, prowadzone w EPSG:2180.",
    )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
