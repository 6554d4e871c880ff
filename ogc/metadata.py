"""ISO 19139 (gmd) records of the published data sets, one per catalogue layer, generated from the
catalogue, the layer's extent and what staff edited (layers/metadata.py: title, abstract, keywords, the
INSPIRE theme, lineage, licence, contact, update frequency; an empty field falls back to the catalogue).
The WFS FeatureTypes and WMS Layers point at them (MetadataURL, INSPIRE TG); their resource identifier
(code + codeSpace) is the SpatialDataSetIdentifier of the INSPIRE extended capabilities, so a validator
can join a service to its data sets. The CSW (ogc/csw/) serves these records, and OGC API – Records
(collection `metadane`) describes the same data sets from `describe`; the URL stays.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from lxml import etree

from layers import metadata as edits
from layers.catalogue import Layer
from layers.models import DatasetMetadata
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
DEFAULT_EXTENT = (20.8, 51.9, 21.3, 52.2)  # lon/lat of gmina Piaseczno and around
DEFAULT_LINEAGE = "Dane z ewidencji gruntów i budynków oraz rejestrów gminy, prowadzone w EPSG:2180."
DEFAULT_LICENCE = "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)"
ACCESS = "Brak ograniczeń dostępu publicznego; dane osobowe nie są udostępniane."
_UUID_NS = uuid.UUID("6f1c2b0e-4d3a-5b8e-9a41-0c7d2e5f8a10")
_UNSET = object()


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


def _party(parent, tag: str, role: str, name: str = OFFICE, email: str = EMAIL):
    party = _el(_el(parent, tag), "CI_ResponsibleParty")
    _string(party, "organisationName", name)
    contact = _el(_el(party, "contactInfo"), "CI_Contact")
    address = _el(_el(contact, "address"), "CI_Address")
    _string(address, "electronicMailAddress", email)
    _code(party, "role", "CI_RoleCode", role)


@dataclass(frozen=True)
class Description:
    """What the record says of one data set: the staff's edits where there are any, else the catalogue's."""

    layer: Layer
    identifier: str
    title: str
    abstract: str
    keywords: tuple[str, ...]
    theme: edits.InspireTheme | None
    lineage: str
    licence: str
    contact_name: str
    contact_email: str
    frequency: str  # ISO MD_MaintenanceFrequencyCode
    date: str  # the metadata's date (YYYY-MM-DD)
    bbox: tuple[float, float, float, float]  # lon/lat: west, south, east, north
    edited: bool


def describe(layer: Layer, language: str = "pl", edited=_UNSET, extent=_UNSET) -> Description:
    """The data set's description; `edited` (a DatasetMetadata or None) and `extent` (EPSG:2180) may be
    given by a caller describing many layers at once."""
    md: DatasetMetadata | None = edits.metadata_of(layer.name) if edited is _UNSET else edited
    if extent is _UNSET:
        extent = layer_extents().get(layer.name)
    bbox = tuple(transform_extent(extent, 4326)) if extent else DEFAULT_EXTENT
    keywords = (
        tuple(md.keywords) if md is not None and md.keywords else (tuple(layer.keywords) or (layer.name,))
    )
    return Description(
        layer=layer,
        identifier=file_identifier(layer),
        title=(md.title if md is not None else "") or layer.title(language),
        abstract=(md.abstract if md is not None else "") or layer.abstract(language),
        keywords=keywords,
        theme=edits.theme(md.inspire_theme) if md is not None else None,
        lineage=(md.lineage if md is not None else "") or _lineage(layer),
        licence=(md.licence if md is not None else "") or DEFAULT_LICENCE,
        contact_name=(md.contact_name if md is not None else "") or OFFICE,
        contact_email=(md.contact_email if md is not None else "") or EMAIL,
        frequency=md.update_frequency if md is not None else DatasetMetadata.Frequency.AS_NEEDED,
        date=md.updated_at.date().isoformat() if md is not None and md.updated_at else REVISION,
        bbox=bbox,
        edited=md is not None,
    )


def _lineage(layer: Layer) -> str:
    """The catalogue's lineage: ours, or for a harvested layer where and when it was copied from."""
    if layer.origin:
        return (
            f"Kopia danych usługi {layer.origin}, pobrana (harvesting) {layer.harvested_at or '–'}; "
            "obiekty nowe, zmienione i usunięte w źródle są uwzględniane przy każdym pobraniu, wersje archiwalne "
            "zachowane."
        )
    return DEFAULT_LINEAGE


def _date(parent, tag: str, value: str, kind: str):
    date = _el(_el(parent, tag), "CI_Date")
    _el(_el(date, "date"), "Date", value, ns=GCO)
    _code(date, "dateType", "CI_DateTypeCode", kind)


def record(layer: Layer, language: str = "pl", *, edited=_UNSET, extent=_UNSET) -> bytes:
    """The ISO 19139 record of one layer's data set, valid against gmd.xsd."""
    d = describe(layer, language, edited, extent)
    root = etree.Element(f"{{{GMD}}}MD_Metadata", nsmap={"gmd": GMD, "gco": GCO, "xsi": XSI, "xlink": XLINK})
    root.set(f"{{{XSI}}}schemaLocation", f"{GMD} {SCHEMA}")
    _string(root, "fileIdentifier", d.identifier)
    _language(root)
    _code(root, "characterSet", "MD_CharacterSetCode", "utf8")
    _code(root, "hierarchyLevel", "MD_ScopeCode", "dataset")
    _party(root, "contact", "pointOfContact")
    _el(_el(root, "dateStamp"), "Date", max(d.date, REVISION), ns=GCO)
    _string(root, "metadataStandardName", "ISO 19115:2003/19139")
    _string(root, "metadataStandardVersion", "1.0")
    rs = _el(_el(_el(root, "referenceSystemInfo"), "MD_ReferenceSystem"), "referenceSystemIdentifier")
    _string(_el(rs, "RS_Identifier"), "code", "http://www.opengis.net/def/crs/EPSG/0/2180")

    ident = _el(_el(root, "identificationInfo"), "MD_DataIdentification")
    citation = _el(_el(ident, "citation"), "CI_Citation")
    _string(citation, "title", d.title)
    _date(citation, "date", REVISION, "revision")
    rid = _el(_el(citation, "identifier"), "RS_Identifier")
    _string(rid, "code", layer.name)
    _string(rid, "codeSpace", DATASET_NAMESPACE)
    _string(ident, "abstract", d.abstract)
    _party(ident, "pointOfContact", "custodian", d.contact_name, d.contact_email)
    maintenance = _el(_el(ident, "resourceMaintenance"), "MD_MaintenanceInformation")
    _code(maintenance, "maintenanceAndUpdateFrequency", "MD_MaintenanceFrequencyCode", d.frequency)
    if d.theme is not None:  # INSPIRE TG: the theme from the GEMET INSPIRE themes thesaurus, cited
        inspire = _el(_el(ident, "descriptiveKeywords"), "MD_Keywords")
        _string(inspire, "keyword", d.theme.label(language))
        thesaurus = _el(_el(inspire, "thesaurusName"), "CI_Citation")
        _string(thesaurus, "title", edits.GEMET_THESAURUS_TITLE)
        _date(thesaurus, "date", edits.GEMET_THESAURUS_DATE, "publication")
    keywords = _el(_el(ident, "descriptiveKeywords"), "MD_Keywords")
    for word in d.keywords:
        _string(keywords, "keyword", word)
    legal = _el(_el(ident, "resourceConstraints"), "MD_LegalConstraints")
    _string(legal, "useLimitation", d.licence)
    _code(legal, "accessConstraints", "MD_RestrictionCode", "otherRestrictions")
    _code(legal, "useConstraints", "MD_RestrictionCode", "otherRestrictions")
    _string(legal, "otherConstraints", ACCESS)
    _string(legal, "otherConstraints", d.licence)
    _code(ident, "spatialRepresentationType", "MD_SpatialRepresentationTypeCode", "vector")
    _language(ident)
    _el(_el(ident, "topicCategory"), "MD_TopicCategoryCode", "planningCadastre")
    west, south, east, north = d.bbox
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
    _string(_el(_el(quality, "lineage"), "LI_Lineage"), "statement", d.lineage)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
