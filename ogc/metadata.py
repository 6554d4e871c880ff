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


# ================================================================ INSPIRE data sets and network services
# ISO 19139 records of the harmonised INSPIRE data sets (ogc/inspire: the data sets the WFS's pre-defined
# stored query downloads) and of the two network services, after the INSPIRE metadata Technical Guidelines
# 2.0.1: a value taken from a register is a gmx:Anchor to its URI (limitations on public access, the
# conditions' licence, the CRSs, the INSPIRE theme and its thesaurus, the spatial scope, the service
# category, the regulations a conformity report cites), so a record validates against gmd.xsd with gmx.xsd
# (and srv.xsd for a service). tests/ogc/test_inspire_ets_metadata.py replays the INSPIRE validator's
# metadata suites on them. Their names in /metadane/<name>.xml hold a hyphen, which no catalogue layer name
# can (layers/catalogue.py), so they cannot clash.
SRV = "http://www.isotc211.org/2005/srv"
SRV_SCHEMA = "http://schemas.opengis.net/iso/19139/20070417/srv/1.0/srv.xsd"
GMX = "http://www.isotc211.org/2005/gmx"
GMX_SCHEMA = "http://schemas.opengis.net/iso/19139/20070417/gmx/gmx.xsd"
CRS_URI = "http://www.opengis.net/def/crs/EPSG/0/"
THEME_URI = "http://inspire.ec.europa.eu/theme/"  # + the theme's code: the INSPIRE theme register
GEMET_THEMES_URI = "http://www.eionet.europa.eu/gemet/inspire_themes"  # the themes thesaurus (TG 2.0 1.4)
SPATIAL_SCOPE_URI = "http://inspire.ec.europa.eu/metadata-codelist/SpatialScope"
SERVICE_CATEGORY_URI = "http://inspire.ec.europa.eu/metadata-codelist/SpatialDataServiceCategory"
SERVICE_TYPE_URI = "http://inspire.ec.europa.eu/metadata-codelist/SpatialDataServiceType"
LIMITATIONS_URI = "http://inspire.ec.europa.eu/metadata-codelist/LimitationsOnPublicAccess/noLimitations"
LICENCE_URI = "https://creativecommons.org/licenses/by/4.0/"
APPLICATION_SCHEMA_URI = "http://inspire.ec.europa.eu/applicationschema/"  # + cp, ad, bu-core2d
GML_MEDIA_TYPE_URI = "http://inspire.ec.europa.eu/media-types/application/gml+xml"
REGULATION_1089_URI = "http://data.europa.eu/eli/reg/2010/1089"  # EUR-Lex (ELI)
REGULATION_976_URI = "http://data.europa.eu/eli/reg/2009/976"
SRV_CODELISTS = "http://standards.iso.org/iso/19119/resources/Codelist/gmxCodelists.xml"
REGULATION_1089 = (
    "Rozporządzenie Komisji (UE) nr 1089/2010 z dnia 23 listopada 2010 r. w sprawie wykonania dyrektywy 2007/2/WE "
    "Parlamentu Europejskiego i Rady w zakresie interoperacyjności zbiorów i usług danych przestrzennych"
)
REGULATION_1089_EN = (
    "Commission Regulation (EU) No 1089/2010 of 23 November 2010 implementing Directive 2007/2/EC of the European "
    "Parliament and of the Council as regards interoperability of spatial data sets and services"
)
REGULATION_1089_DATE = "2010-12-08"
REGULATION_976 = (
    "Rozporządzenie Komisji (WE) nr 976/2009 z dnia 19 października 2009 r. w sprawie wykonania dyrektywy 2007/2/WE "
    "Parlamentu Europejskiego i Rady w zakresie usług sieciowych"
)
REGULATION_976_EN = (
    "Commission Regulation (EC) No 976/2009 of 19 October 2009 implementing Directive 2007/2/EC of the European "
    "Parliament and of the Council as regards the Network Services"
)
REGULATION_976_DATE = "2009-10-20"
SERVICE_CLASSIFICATION_TITLE = "Classification of spatial data services"  # Regulation 1205/2008, Part D.4
SERVICE_CLASSIFICATION_DATE = "2008-12-03"
SPATIAL_SCOPE_TITLE = "Spatial scope"  # SPATIAL_SCOPE_URI
SPATIAL_SCOPE_DATE = "2019-05-22"
SPATIAL_SCOPE = {"pl": "Lokalne", "en": "Local"}  # SPATIAL_SCOPE_URI/local
LIMITATIONS = {  # the label of LIMITATIONS_URI in the INSPIRE registry
    "pl": "Brak ograniczeń w publicznym dostępie",
    "en": "No limitations to public access",
}
INSPIRE_CRS = (2180, 4258, 3035)


@dataclass(frozen=True)
class InspireDataset:
    """One harmonised INSPIRE data set: `code` is its SpatialDataSetIdentifier code in DATASET_NAMESPACE
    (the stored query's DataSetIdCode, ogc/inspire: `InspireType.dataset`)."""

    code: str
    name: str  # /metadane/<name>.xml
    theme: str  # the INSPIRE theme (layers/metadata.py THEMES_BY_CODE)
    topic: str  # MD_TopicCategoryCode
    view_prefix: str  # the WMS view layers of this data set: <prefix>.<name>
    app_schema: str  # the INSPIRE application schema's name
    conformant: (
        bool | None
    )  # Regulation 1089/2010: True (checked by the tests' data suites) or None (notEvaluated)
    scale: int | None  # equivalent scale denominator of the source
    texts: dict  # language → (title, abstract, lineage)

    def text(self, language: str) -> tuple[str, str, str]:
        return self.texts["en" if language.startswith("en") else "pl"]

    @property
    def types(self):
        from .inspire.registry import by_dataset

        return by_dataset(self.code)

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.layer for t in self.types))


@dataclass(frozen=True)
class InspireService:
    name: str
    service: str  # WMS | WFS
    kind: str  # the INSPIRE spatial data service type: view | download
    category: str  # the classification of spatial data services keyword (Regulation 1205/2008, Part D.4)
    versions: tuple[str, ...]
    operations: tuple[str, ...]
    texts: dict  # language → (title, abstract)

    def text(self, language: str) -> tuple[str, str]:
        return self.texts["en" if language.startswith("en") else "pl"]


_EGIB_PL = (
    "ewidencji gruntów i budynków (EGiB) prowadzonej przez Starostę Piaseczyńskiego w układzie EPSG:2180"
)
_EGIB_EN = "land and building register (EGiB) kept by the Piaseczno county (starosta) in EPSG:2180"
INSPIRE_DATASETS: tuple[InspireDataset, ...] = (
    InspireDataset(
        code="CP",
        name="inspire-cp",
        theme="cp",
        topic="planningCadastre",
        view_prefix="CP",
        app_schema="INSPIRE Cadastral Parcels GML application schema",
        conformant=True,
        scale=1000,
        texts={
            "pl": (
                "Działki katastralne gminy Piaseczno (INSPIRE)",
                "Działki ewidencyjne (cp:CadastralParcel) oraz jednostki i obręby ewidencyjne (cp:CadastralZoning) "
                "gminy Piaseczno w zharmonizowanym schemacie INSPIRE Działki katastralne 4.0. Tylko dane jawne: bez "
                "właścicieli i numerów ksiąg wieczystych.",
                f"Zbiór utworzony z {_EGIB_PL}: działki ewidencyjne jako cp:CadastralParcel (identyfikator działki "
                "jako nationalCadastralReference, pole ewidencyjne jako areaValue), jednostki ewidencyjne (poziom "
                "1stOrder) i obręby ewidencyjne (2ndOrder) jako cp:CadastralZoning; przekształcenie do schematu "
                "INSPIRE przy każdym pobraniu, wersje obiektów z historii ewidencji.",
            ),
            "en": (
                "Cadastral parcels of gmina Piaseczno (INSPIRE)",
                "Cadastral parcels (cp:CadastralParcel) and cadastral units and precincts (cp:CadastralZoning) of "
                "gmina Piaseczno in the harmonised INSPIRE Cadastral Parcels 4.0 schema. Public data only: no owners "
                "or land register numbers.",
                f"Derived from the {_EGIB_EN}: parcels as cp:CadastralParcel (the parcel id as "
                "nationalCadastralReference, the registered area as areaValue), cadastral units (1stOrder) and "
                "precincts (2ndOrder) as cp:CadastralZoning; transformed to the INSPIRE schema on every download, "
                "object versions from the register's history.",
            ),
        },
    ),
    InspireDataset(
        code="AD",
        name="inspire-ad",
        theme="ad",
        topic="location",
        view_prefix="AD",
        app_schema="INSPIRE Addresses GML application schema",
        conformant=None,
        scale=None,
        texts={
            "pl": (
                "Adresy gminy Piaseczno (INSPIRE)",
                "Punkty adresowe gminy Piaseczno (ad:Address) z ich składnikami: nazwami jednostek administracyjnych, "
                "miejscowości i ulic oraz kodami pocztowymi, w zharmonizowanym schemacie INSPIRE Adresy 4.0.",
                "Zbiór utworzony z gminnej ewidencji miejscowości, ulic i adresów (EMUiA) prowadzonej przez Burmistrza "
                "Miasta i Gminy Piaseczno oraz z państwowego rejestru granic (PRG) i rejestru TERYT; przekształcenie "
                "do schematu INSPIRE przy każdym pobraniu.",
            ),
            "en": (
                "Addresses of gmina Piaseczno (INSPIRE)",
                "Address points of gmina Piaseczno (ad:Address) with their components: administrative unit, "
                "locality and street names and postcodes, in the harmonised INSPIRE Addresses 4.0 schema.",
                "Derived from the gmina register of localities, streets and addresses (EMUiA) kept by the mayor of "
                "Piaseczno, the national register of boundaries (PRG) and the TERYT register; transformed to the "
                "INSPIRE schema on every download.",
            ),
        },
    ),
    InspireDataset(
        code="BU",
        name="inspire-bu",
        theme="bu",
        topic="structure",
        view_prefix="BU",
        app_schema="INSPIRE Buildings Core 2D GML application schema",
        conformant=None,
        scale=1000,
        texts={
            "pl": (
                "Budynki gminy Piaseczno (INSPIRE)",
                "Budynki gminy Piaseczno (bu-core2d:Building) w zharmonizowanym schemacie INSPIRE Budynki 4.0 "
                "(profil 2D): obrys, funkcja, liczba kondygnacji, stan i data budowy, gdy są znane.",
                f"Zbiór utworzony z {_EGIB_PL}: budynki jako bu-core2d:Building z odnośnikiem do ewidencji; "
                "przekształcenie do schematu INSPIRE przy każdym pobraniu.",
            ),
            "en": (
                "Buildings of gmina Piaseczno (INSPIRE)",
                "Buildings of gmina Piaseczno (bu-core2d:Building) in the harmonised INSPIRE Buildings 4.0 schema "
                "(2D profile): footprint, use, number of storeys, condition and date of construction where known.",
                f"Derived from the {_EGIB_EN}: buildings as bu-core2d:Building referring to the register; "
                "transformed to the INSPIRE schema on every download.",
            ),
        },
    ),
)
INSPIRE_SERVICES: tuple[InspireService, ...] = (
    InspireService(
        name="usluga-wms",
        service="WMS",
        kind="view",
        category="infoMapAccessService",
        versions=("1.3.0", "1.1.1"),
        operations=("GetCapabilities", "GetMap", "GetFeatureInfo", "GetLegendGraphic"),
        texts={
            "pl": (
                "Usługa przeglądania INSPIRE (WMS) gminy Piaseczno",
                "Usługa przeglądania (WMS 1.3.0) zbiorów danych INSPIRE gminy Piaseczno: działek katastralnych "
                "(CP.CadastralParcel, CP.CadastralZoning, CP.CadastralBoundary), adresów (AD.Address) i budynków "
                "(BU.Building), w stylach domyślnych INSPIRE, w układach ETRS89 (EPSG:4258, 3035) i EPSG:2180.",
            ),
            "en": (
                "INSPIRE view service (WMS) of gmina Piaseczno",
                "View service (WMS 1.3.0) of the INSPIRE data sets of gmina Piaseczno: cadastral parcels "
                "(CP.CadastralParcel, CP.CadastralZoning, CP.CadastralBoundary), addresses (AD.Address) and buildings "
                "(BU.Building), in the INSPIRE default styles, in ETRS89 (EPSG:4258, 3035) and EPSG:2180.",
            ),
        },
    ),
    InspireService(
        name="usluga-wfs",
        service="WFS",
        kind="download",
        category="infoFeatureAccessService",
        versions=("2.0.0", "1.1.0"),
        operations=(
            "GetCapabilities",
            "DescribeFeatureType",
            "GetFeature",
            "ListStoredQueries",
            "DescribeStoredQueries",
        ),
        texts={
            "pl": (
                "Usługa pobierania INSPIRE (WFS) gminy Piaseczno",
                "Usługa pobierania (WFS 2.0) zbiorów danych INSPIRE gminy Piaseczno w GML 3.2: działek katastralnych "
                "(cp:CadastralParcel, cp:CadastralZoning), adresów (ad:Address) i budynków (bu-core2d:Building); "
                "pobieranie całych zbiorów zapytaniem predefiniowanym INSPIRE (GetSpatialDataSet) i bezpośredni "
                "dostęp do obiektów (BBOX, RESOURCEID).",
            ),
            "en": (
                "INSPIRE download service (WFS) of gmina Piaseczno",
                "Download service (WFS 2.0) of the INSPIRE data sets of gmina Piaseczno in GML 3.2: cadastral parcels "
                "(cp:CadastralParcel, cp:CadastralZoning), addresses (ad:Address) and buildings "
                "(bu-core2d:Building); whole data sets through the INSPIRE pre-defined stored query "
                "(GetSpatialDataSet) and direct access to features (BBOX, RESOURCEID).",
            ),
        },
    ),
)
_DATASETS_BY_CODE = {d.code: d for d in INSPIRE_DATASETS}
_INSPIRE_BY_NAME: dict[str, InspireDataset | InspireService] = {
    **{d.name: d for d in INSPIRE_DATASETS},
    **{s.name: s for s in INSPIRE_SERVICES},
}
_SERVICES_BY_KIND = {s.service: s for s in INSPIRE_SERVICES}


def inspire_record_url(name: str) -> str:
    return settings.GISPORTAL_PUBLIC_URL + reverse("metadata_record", args=[name])


def inspire_file_identifier(name: str) -> str:
    return str(uuid.uuid5(_UUID_NS, f"{DATASET_NAMESPACE}/inspire/{name}"))


def dataset_record_url(code: str) -> str:
    """The record of the INSPIRE data set `code` (CP, AD, BU): the MetadataURL of its WFS feature types and
    WMS view layers and the metadataURL of its SpatialDataSetIdentifier."""
    return inspire_record_url(_DATASETS_BY_CODE[code].name)


def service_record_url(service: str) -> str:
    """The record of the INSPIRE network service (WMS or WFS): the extended capabilities' MetadataUrl."""
    return inspire_record_url(_SERVICES_BY_KIND[service].name)


def view_layer_dataset(layer_name: str) -> InspireDataset | None:
    """The data set an INSPIRE view layer (CP.CadastralParcel …) portrays; None for other layers."""
    prefix = layer_name.split(".", 1)[0] if "." in layer_name else ""
    return next((d for d in INSPIRE_DATASETS if d.view_prefix == prefix), None)


def published_inspire_datasets(published_layers=None) -> tuple[InspireDataset, ...]:
    """The INSPIRE data sets whose every source layer anyone may read (as the layers' own records)."""
    names = {layer.name for layer in (published_layers or edits.published_layers())}
    return tuple(d for d in INSPIRE_DATASETS if d.layers and set(d.layers) <= names)


def inspire_record_names(published_layers=None) -> tuple[str, ...]:
    """The names (/metadane/<name>.xml) of the published INSPIRE records: data sets, then services."""
    return (
        *(d.name for d in published_inspire_datasets(published_layers)),
        *(s.name for s in INSPIRE_SERVICES),
    )


def inspire_identifiers() -> dict[str, str]:
    """name → fileIdentifier of every published INSPIRE record."""
    return {name: inspire_file_identifier(name) for name in inspire_record_names()}


def inspire_entry(name: str) -> InspireDataset | InspireService | None:
    return _INSPIRE_BY_NAME.get(name)


def _union_lonlat(names, extents) -> tuple[float, float, float, float]:
    boxes = [extents[n] for n in names if extents.get(n)]
    if not boxes:
        return DEFAULT_EXTENT
    box = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    return tuple(transform_extent(box, 4326))


def inspire_bbox(entry: InspireDataset | InspireService, extents=None) -> tuple[float, float, float, float]:
    """lon/lat west, south, east, north of a data set (its layers) or a service (its data sets)."""
    extents = layer_extents() if extents is None else extents
    if isinstance(entry, InspireDataset):
        return _union_lonlat(entry.layers, extents)
    return _union_lonlat([n for d in INSPIRE_DATASETS for n in d.layers], extents)


def _root(schema_location: str, nsmap_extra=None):
    nsmap = {"gmd": GMD, "gco": GCO, "gmx": GMX, "xsi": XSI, "xlink": XLINK, **(nsmap_extra or {})}
    root = etree.Element(f"{{{GMD}}}MD_Metadata", nsmap=nsmap)
    root.set(f"{{{XSI}}}schemaLocation", schema_location)
    return root


def _header(root, name: str, scope: str, language: str) -> None:
    _string(root, "fileIdentifier", inspire_file_identifier(name))
    _language(root, "eng" if language.startswith("en") else "pol")
    _code(root, "characterSet", "MD_CharacterSetCode", "utf8")
    _code(root, "hierarchyLevel", "MD_ScopeCode", scope)
    if scope == "service":
        _string(root, "hierarchyLevelName", "usługa" if language == "pl" else "service")
    _party(root, "contact", "pointOfContact")
    _el(_el(root, "dateStamp"), "Date", REVISION, ns=GCO)
    _string(root, "metadataStandardName", "ISO 19115:2003/19139")
    _string(root, "metadataStandardVersion", "1.0")


def _anchor(parent, tag: str, href: str, text: str):
    """A value from a register (INSPIRE metadata TG 2.0): gmx:Anchor, its URI in xlink:href."""
    return _el(_el(parent, tag), "Anchor", text, ns=GMX, **{f"{{{XLINK}}}href": href})


def _reference_systems(root) -> None:
    """TG 2.0 Requirement 2.1/2.2: each CRS by its http://www.opengis.net/def/crs/EPSG/0/ URI (gmx:Anchor),
    without a codeSpace."""
    for epsg in INSPIRE_CRS:
        rs = _el(_el(_el(root, "referenceSystemInfo"), "MD_ReferenceSystem"), "referenceSystemIdentifier")
        _anchor(_el(rs, "RS_Identifier"), "code", f"{CRS_URI}{epsg}", f"EPSG:{epsg}")


def _keywords(ident, words, thesaurus: tuple[str, str, str] | None = None) -> None:
    """A block of keywords: `words` are texts or (URI, text) pairs (gmx:Anchor); `thesaurus` is (title,
    publication date, URI) of the controlled vocabulary they come from."""
    kw = _el(_el(ident, "descriptiveKeywords"), "MD_Keywords")
    for word in words:
        if isinstance(word, tuple):
            _anchor(kw, "keyword", *word)
        else:
            _string(kw, "keyword", word)
    if thesaurus is not None:
        cit = _el(_el(kw, "thesaurusName"), "CI_Citation")
        _anchor(cit, "title", thesaurus[2], thesaurus[0])
        _date(cit, "date", thesaurus[1], "publication")


def _theme_keywords(ident, codes, language: str) -> None:
    """The INSPIRE themes (TG 2.0 Requirement 1.4, Recommendation: Anchor to the theme register)."""
    themes = [edits.THEMES_BY_CODE[code] for code in dict.fromkeys(codes)]
    _keywords(
        ident,
        [(f"{THEME_URI}{t.code}", t.label(language)) for t in themes],
        (edits.GEMET_THESAURUS_TITLE, edits.GEMET_THESAURUS_DATE, GEMET_THEMES_URI),
    )


def _spatial_scope(ident, language: str) -> None:
    lang = "en" if language.startswith("en") else "pl"
    _keywords(
        ident,
        [(f"{SPATIAL_SCOPE_URI}/local", SPATIAL_SCOPE[lang])],
        (SPATIAL_SCOPE_TITLE, SPATIAL_SCOPE_DATE, SPATIAL_SCOPE_URI),
    )


def _constraints(ident, language: str) -> None:
    """TG 2.0 Requirement C.17 (limitations on public access: accessConstraints otherRestrictions and an
    Anchor to the LimitationsOnPublicAccess code list) and C.18 (conditions for access and use:
    useConstraints otherRestrictions and the licence, an Anchor to it)."""
    lang = "en" if language.startswith("en") else "pl"
    access = _el(_el(ident, "resourceConstraints"), "MD_LegalConstraints")
    _code(access, "accessConstraints", "MD_RestrictionCode", "otherRestrictions")
    _anchor(access, "otherConstraints", LIMITATIONS_URI, LIMITATIONS[lang])
    use = _el(_el(ident, "resourceConstraints"), "MD_LegalConstraints")
    _code(use, "useConstraints", "MD_RestrictionCode", "otherRestrictions")
    _anchor(use, "otherConstraints", LICENCE_URI, DEFAULT_LICENCE)


def _bbox(parent, bbox) -> None:
    west, south, east, north = bbox
    box = _el(_el(_el(parent, "EX_Extent"), "geographicElement"), "EX_GeographicBoundingBox")
    for tag, value in (
        ("westBoundLongitude", west),
        ("eastBoundLongitude", east),
        ("southBoundLatitude", south),
        ("northBoundLatitude", north),
    ):
        _el(_el(box, tag), "Decimal", f"{value:.6f}", ns=GCO)


def _online(options, url: str, protocol: str, name: str = "", function: str = "") -> None:
    online = _el(_el(options, "onLine"), "CI_OnlineResource")
    _el(_el(online, "linkage"), "URL", url)
    _string(online, "protocol", protocol)
    if name:
        _string(online, "name", name)
    if function:
        _code(online, "function", "CI_OnLineFunctionCode", function)


def _conformity(
    quality, title: str, date: str, passed: bool | None, language: str, uri: str | None = None
) -> None:
    """A conformity report (INSPIRE TG: DQ_DomainConsistency/DQ_ConformanceResult) citing a specification
    by its official title (an Anchor to `uri` when given) and publication date; `passed` None is
    notEvaluated (gmd:pass nil, reason unknown)."""
    result = _el(_el(_el(_el(quality, "report"), "DQ_DomainConsistency"), "result"), "DQ_ConformanceResult")
    spec = _el(_el(result, "specification"), "CI_Citation")
    if uri:
        _anchor(spec, "title", uri, title)
    else:
        _string(spec, "title", title)
    _date(spec, "date", date, "publication")
    en = language.startswith("en")
    if passed is None:
        explanation = "Not evaluated." if en else "Zgodność nie była oceniana."
    else:
        explanation = (
            "Checked by the INSPIRE validator's test suites replayed in the service's tests."
            if en
            else "Sprawdzone zestawami testów walidatora INSPIRE odtworzonymi w testach usługi."
        )
    _string(result, "explanation", explanation)
    if passed is None:
        _el(result, "pass", **{f"{{{GCO}}}nilReason": "unknown"})
    else:
        _el(_el(result, "pass"), "Boolean", "true" if passed else "false", ns=GCO)


def _stored_query_url(code: str) -> str:
    from urllib.parse import urlencode

    query = urlencode(
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "STOREDQUERY_ID": "http://inspire.ec.europa.eu/operation/download/GetSpatialDataSet",
            "DataSetIdCode": code,
            "DataSetIdNamespace": DATASET_NAMESPACE,
            "CRS": "http://www.opengis.net/def/crs/EPSG/0/2180",
            "Language": "pol",
        }
    )
    return f"{settings.GISPORTAL_PUBLIC_URL}/ows?{query}"


def dataset_record(d: InspireDataset, language: str = "pl", extents=None) -> bytes:
    """The ISO 19139 record of an INSPIRE data set (INSPIRE metadata TG 2.0), valid against gmd.xsd."""
    title, abstract, lineage = d.text(language)
    theme = edits.THEMES_BY_CODE[d.theme]
    types = d.types
    root = _root(f"{GMD} {SCHEMA} {GMX} {GMX_SCHEMA}")
    _header(root, d.name, "dataset", language)
    _reference_systems(root)

    ident = _el(_el(root, "identificationInfo"), "MD_DataIdentification")
    citation = _el(_el(ident, "citation"), "CI_Citation")
    _string(citation, "title", title)
    _date(citation, "date", REVISION, "revision")
    rid = _el(_el(citation, "identifier"), "RS_Identifier")
    _string(rid, "code", d.code)
    _string(rid, "codeSpace", DATASET_NAMESPACE)
    _string(ident, "abstract", abstract)
    _party(ident, "pointOfContact", "custodian")
    maintenance = _el(_el(ident, "resourceMaintenance"), "MD_MaintenanceInformation")
    _code(maintenance, "maintenanceAndUpdateFrequency", "MD_MaintenanceFrequencyCode", "continual")
    _theme_keywords(ident, [theme.code], language)
    _spatial_scope(ident, language)
    _keywords(ident, ["INSPIRE", "Piaseczno", *(t.typename for t in types)])
    _constraints(ident, language)
    _code(ident, "spatialRepresentationType", "MD_SpatialRepresentationTypeCode", "vector")
    if d.scale:
        scale = _el(_el(_el(ident, "spatialResolution"), "MD_Resolution"), "equivalentScale")
        _el(_el(_el(scale, "MD_RepresentativeFraction"), "denominator"), "Integer", str(d.scale), ns=GCO)
    _language(ident)
    _code(ident, "characterSet", "MD_CharacterSetCode", "utf8")
    _el(_el(ident, "topicCategory"), "MD_TopicCategoryCode", d.topic)
    _bbox(_el(ident, "extent"), inspire_bbox(d, extents))

    dist = _el(_el(root, "distributionInfo"), "MD_Distribution")
    # TG 2.0 Requirement 2.6: the encodings; the application schema's name an Anchor to the INSPIRE
    # application schema register, GML's to the INSPIRE media types register
    fmt = _el(_el(dist, "distributionFormat"), "MD_Format")
    if types:
        schema = types[0].typename.split(":", 1)[0]
        _anchor(fmt, "name", f"{APPLICATION_SCHEMA_URI}{schema}", d.app_schema)
    else:
        _string(fmt, "name", d.app_schema)
    _string(fmt, "version", types[0].namespace.rsplit("/", 1)[-1] if types else "4.0")
    _string(fmt, "specification", types[0].schema_location if types else "")
    fmt = _el(_el(dist, "distributionFormat"), "MD_Format")
    _anchor(fmt, "name", GML_MEDIA_TYPE_URI, "GML")
    _string(fmt, "version", "3.2.1")
    options = _el(_el(dist, "transferOptions"), "MD_DigitalTransferOptions")
    base = settings.GISPORTAL_PUBLIC_URL
    _online(options, _stored_query_url(d.code), "OGC:WFS", "GetSpatialDataSet", "download")
    _online(options, f"{base}/ows?SERVICE=WFS&REQUEST=GetCapabilities", "OGC:WFS", "WFS", "download")
    _online(options, f"{base}/ows?SERVICE=WMS&REQUEST=GetCapabilities", "OGC:WMS", "WMS", "information")

    quality = _el(_el(root, "dataQualityInfo"), "DQ_DataQuality")
    _code(_el(_el(quality, "scope"), "DQ_Scope"), "level", "MD_ScopeCode", "dataset")
    en = language.startswith("en")
    _conformity(
        quality,
        REGULATION_1089_EN if en else REGULATION_1089,
        REGULATION_1089_DATE,
        d.conformant,
        language,
        REGULATION_1089_URI,
    )
    _string(_el(_el(quality, "lineage"), "LI_Lineage"), "statement", lineage)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _srv(parent, tag: str, text: str | None = None, **attrs):
    return _el(parent, tag, text, ns=SRV, **attrs)


def service_record(s: InspireService, language: str = "pl", extents=None, published_layers=None) -> bytes:
    """The ISO 19139 record of an INSPIRE network service (SV_ServiceIdentification, INSPIRE metadata
    TG 2.0), valid against srv.xsd: serviceType view/download, operatesOn its data sets' records."""
    from layers.catalogue import layer_names

    title, abstract = s.text(language)
    en = language.startswith("en")
    base = settings.GISPORTAL_PUBLIC_URL
    endpoint = f"{base}/ows?SERVICE={s.service}&REQUEST=GetCapabilities"
    datasets = published_inspire_datasets(published_layers)
    root = _root(f"{GMD} {SCHEMA} {GMX} {GMX_SCHEMA} {SRV} {SRV_SCHEMA}", {"srv": SRV})
    _header(root, s.name, "service", language)
    _reference_systems(root)

    ident = _el(_el(root, "identificationInfo"), "SV_ServiceIdentification", ns=SRV)
    citation = _el(_el(ident, "citation"), "CI_Citation")
    _string(citation, "title", title)
    _date(citation, "date", REVISION, "revision")
    _string(ident, "abstract", abstract)
    _party(ident, "pointOfContact", "custodian")
    # TG 2.0 Requirement 3.4: the spatial data service category (Regulation 1205/2008, Part D.4), an
    # Anchor to the INSPIRE registry's SpatialDataServiceCategory code list
    _keywords(
        ident,
        [(f"{SERVICE_CATEGORY_URI}/{s.category}", s.category)],
        (SERVICE_CLASSIFICATION_TITLE, SERVICE_CLASSIFICATION_DATE, SERVICE_CATEGORY_URI),
    )
    _spatial_scope(ident, language)
    if datasets:
        _theme_keywords(ident, [d.theme for d in datasets], language)
    _constraints(ident, language)
    # TG 2.0 Requirements 3.5, 4.1: the spatial data service type (view, download), a gco:LocalName from
    # the SpatialDataServiceType code list
    _el(_srv(ident, "serviceType"), "LocalName", s.kind, ns=GCO, codeSpace=SERVICE_TYPE_URI)
    for version in s.versions:
        _el(_srv(ident, "serviceTypeVersion"), "CharacterString", f"OGC {s.service} {version}", ns=GCO)
    _bbox(_srv(ident, "extent"), inspire_bbox(s, extents))
    names = layer_names()
    operation = "GetMap" if s.service == "WMS" else "GetFeature"
    for d in datasets:
        if s.service == "WMS":
            resources = [n for n in names if n.startswith(f"{d.view_prefix}.")]
        else:
            resources = [t.typename for t in d.types]
        for resource in resources:
            coupled = _srv(_srv(ident, "coupledResource"), "SV_CoupledResource")
            _el(_srv(coupled, "operationName"), "CharacterString", operation, ns=GCO)
            _el(_srv(coupled, "identifier"), "CharacterString", inspire_file_identifier(d.name), ns=GCO)
            _el(coupled, "ScopedName", resource, ns=GCO)
    _srv(
        _srv(ident, "couplingType"),
        "SV_CouplingType",
        "tight",
        codeList=f"{SRV_CODELISTS}#SV_CouplingType",
        codeListValue="tight",
    )
    for op in s.operations:
        meta = _srv(_srv(ident, "containsOperations"), "SV_OperationMetadata")
        _el(_srv(meta, "operationName"), "CharacterString", op, ns=GCO)
        _srv(
            _srv(meta, "DCP"),
            "DCPList",
            "WebServices",
            codeList=f"{SRV_CODELISTS}#DCPList",
            codeListValue="WebServices",
        )
        online = _el(_srv(meta, "connectPoint"), "CI_OnlineResource")
        _el(_el(online, "linkage"), "URL", f"{base}/ows?SERVICE={s.service}&REQUEST={op}")
    for d in datasets:
        _srv(
            ident,
            "operatesOn",
            uuidref=inspire_file_identifier(d.name),
            **{f"{{{XLINK}}}href": inspire_record_url(d.name)},
        )

    dist = _el(_el(root, "distributionInfo"), "MD_Distribution")
    options = _el(_el(dist, "transferOptions"), "MD_DigitalTransferOptions")
    _online(options, endpoint, f"OGC:{s.service}", s.service, "information")

    quality = _el(_el(root, "dataQualityInfo"), "DQ_DataQuality")
    scope = _el(_el(quality, "scope"), "DQ_Scope")
    _code(scope, "level", "MD_ScopeCode", "service")
    _string(
        _el(_el(scope, "levelDescription"), "MD_ScopeDescription"), "other", "usługa" if not en else "service"
    )
    _conformity(
        quality,
        REGULATION_976_EN if en else REGULATION_976,
        REGULATION_976_DATE,
        None,
        language,
        REGULATION_976_URI,
    )
    _conformity(
        quality,
        REGULATION_1089_EN if en else REGULATION_1089,
        REGULATION_1089_DATE,
        None,
        language,
        REGULATION_1089_URI,
    )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def inspire_record(name: str, language: str = "pl") -> bytes | None:
    """The record /metadane/<name>.xml of an INSPIRE data set or service; None when there is no such
    published record."""
    if name not in inspire_record_names():
        return None
    entry = _INSPIRE_BY_NAME[name]
    if isinstance(entry, InspireDataset):
        return dataset_record(entry, language)
    return service_record(entry, language)
