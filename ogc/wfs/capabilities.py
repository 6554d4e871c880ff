"""WFS 2.0.0 / 1.1.0 capabilities, DescribeFeatureType schemas and stored-query descriptions, all
generated from the layer catalogue (ARCHITECTURE §5.8). Capabilities are cached per version,
language, readable layers and data version, like the WMS ones."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.cache import cache
from lxml import etree

from layers.selectors import data_version, layer_extents

from .. import metadata
from ..common.contact import SERVICE_CONTACT
from ..common.crs import transform_extent
from ..common.gml import GISPORTAL_NS, GML, GML311
from ..features.featuretypes import GEOMETRY, PREFIX, FeatureType, feature_types
from . import featuretypes as fts
from . import inspire
from .featuretypes import XSD_TYPES
from .requests import (
    COUNT_DEFAULT,
    DATASET_NAMESPACE,
    FES20,
    GET_FEATURE_BY_ID,
    GET_PARCEL_BY_ID,
    INSPIRE_DATASET,
    MAX_COUNT,
    OGC,
    OTHER_CRS,
    WFS11,
    WFS20,
)

OWS11 = "http://www.opengis.net/ows/1.1"
OWS10 = "http://www.opengis.net/ows"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XS = "http://www.w3.org/2001/XMLSchema"
INSPIRE_COMMON = "http://inspire.ec.europa.eu/schemas/common/1.0"
INSPIRE_DLS = "http://inspire.ec.europa.eu/schemas/inspire_dls/1.0"
INSPIRE_DLS_XSD = "http://inspire.ec.europa.eu/schemas/inspire_dls/1.0/inspire_dls.xsd"
TEXTS = {
    "pl": {
        "title": "Usługa pobierania (WFS) – rejestry przestrzenne gminy Piaseczno",
        "abstract": "Pobieranie obiektów ewidencji gruntów i budynków (działki, budynki, obręby, jednostki, użytki, kontury "
        "klasyfikacyjne), punktów adresowych, terenów miejscowych planów i granic administracyjnych. Tylko dane "
        "jawne: bez właścicieli i numerów ksiąg wieczystych.",
        "fees": "bezpłatnie",
        "access": "Brak ograniczeń dla danych publicznych. Dane osobowe nie są udostępniane.",
    },
    "en": {
        "title": "Download service (WFS) – spatial registries of gmina Piaseczno",
        "abstract": "Download of land and building register objects (parcels, buildings, precincts, units, land-use and soil "
        "contours), address points, zoning plan areas and administrative boundaries. Public data only: no owners "
        "or land register numbers.",
        "fees": "no fees",
        "access": "No restrictions for public data. Personal data is not published.",
    },
}
COMPARISON = (
    "PropertyIsEqualTo",
    "PropertyIsNotEqualTo",
    "PropertyIsLessThan",
    "PropertyIsGreaterThan",
    "PropertyIsLessThanOrEqualTo",
    "PropertyIsGreaterThanOrEqualTo",
    "PropertyIsLike",
    "PropertyIsNull",
    "PropertyIsNil",
    "PropertyIsBetween",
)
SPATIAL = (
    "BBOX",
    "Equals",
    "Disjoint",
    "Intersects",
    "Touches",
    "Crosses",
    "Within",
    "Contains",
    "Overlaps",
    "DWithin",
    "Beyond",
)
OPERANDS = ("gml:Envelope", "gml:Point", "gml:LineString", "gml:Polygon", "gml:MultiSurface")
CONFORMANCE = {
    "ImplementsQuery": True,
    "ImplementsAdHocQuery": True,
    "ImplementsFunctions": False,
    "ImplementsResourceId": True,
    "ImplementsMinStandardFilter": True,
    "ImplementsStandardFilter": True,
    "ImplementsMinSpatialFilter": True,
    "ImplementsSpatialFilter": True,
    "ImplementsMinTemporalFilter": True,
    "ImplementsTemporalFilter": False,
    "ImplementsVersionNav": False,
    "ImplementsSorting": True,
    "ImplementsExtendedOperators": False,
    "ImplementsMinimumXPath": True,
    "ImplementsSchemaElementFunc": False,
}


def endpoint() -> str:
    return f"{settings.GISPORTAL_PUBLIC_URL}/ows"


def describe_url(version: str, typenames: list[str] | None = None) -> str:
    url = f"{endpoint()}?SERVICE=WFS&VERSION={version}&REQUEST=DescribeFeatureType"
    if typenames:
        url += ("&TYPENAMES=" if version.startswith("2") else "&TYPENAME=") + ",".join(typenames)
    return url


def _el(parent, ns: str, tag: str, text: str | None = None, **attrs):
    el = etree.SubElement(parent, f"{{{ns}}}{tag}", {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = str(text)
    return el


def capabilities(version: str, language: str, user) -> bytes:
    types = feature_types(user)
    key = f"gisportal:wfs-caps:{version}:{language}:{','.join(t.name for t in types)}:{data_version()}:{endpoint()}"
    doc = cache.get(key)
    if doc is None:
        doc = (_caps_20 if version.startswith("2") else _caps_11)(language, types)
        cache.set(key, doc, timeout=600)
    return doc


def update_sequence() -> str:
    return str(data_version())


def _service(root, ows: str, language: str, versions: tuple[str, ...]):
    t = TEXTS[language]
    ident = _el(root, ows, "ServiceIdentification")
    _el(ident, ows, "Title", t["title"])
    _el(ident, ows, "Abstract", t["abstract"])
    kws = _el(ident, ows, "Keywords")
    for word in ("EGiB", "MPZP", "PRG", "Piaseczno", "infoFeatureAccessService"):
        _el(kws, ows, "Keyword", word)
    _el(ident, ows, "ServiceType", "WFS")
    for v in versions:
        _el(ident, ows, "ServiceTypeVersion", v)
    _el(ident, ows, "Fees", t["fees"])
    _el(ident, ows, "AccessConstraints", t["access"])
    c = SERVICE_CONTACT
    provider = _el(root, ows, "ServiceProvider")
    _el(provider, ows, "ProviderName", c.organisation)
    _el(provider, ows, "ProviderSite", **{f"{{{XLINK}}}href": settings.GISPORTAL_PUBLIC_URL + "/"})
    contact = _el(provider, ows, "ServiceContact")
    _el(contact, ows, "IndividualName", c.person)
    _el(contact, ows, "PositionName", c.position)
    info = _el(contact, ows, "ContactInfo")
    phone = _el(info, ows, "Phone")
    _el(phone, ows, "Voice", c.phone)
    address = _el(info, ows, "Address")
    for tag, value in (
        ("DeliveryPoint", c.address),
        ("City", c.city),
        ("AdministrativeArea", c.region),
        ("PostalCode", c.postcode),
        ("Country", c.country),
        ("ElectronicMailAddress", c.email),
    ):
        _el(address, ows, tag, value)


def _operation(
    parent, ows: str, name: str, params: dict[str, tuple[str, ...]] | None = None, post: bool = True
):
    op = _el(parent, ows, "Operation", name=name)
    http = _el(_el(op, ows, "DCP"), ows, "HTTP")
    _el(http, ows, "Get", **{f"{{{XLINK}}}href": endpoint() + "?"})
    if post:
        _el(http, ows, "Post", **{f"{{{XLINK}}}href": endpoint()})
    for pname, values in (params or {}).items():
        _parameter(op, ows, pname, values)
    return op


def _parameter(parent, ows: str, name: str, values: tuple[str, ...]):
    p = _el(parent, ows, "Parameter", name=name)
    allowed = _el(p, ows, "AllowedValues") if ows == OWS11 else p
    for v in values:
        _el(allowed, ows, "Value", v)


def _constraint(parent, name: str, value: str):
    c = _el(parent, OWS11, "Constraint", name=name)
    _el(c, OWS11, "NoValues")
    _el(c, OWS11, "DefaultValue", value)


def _wgs84(parent, ows: str, extent):
    lon0, lat0, lon1, lat1 = transform_extent(extent, 4326) if extent else (20.8, 51.9, 21.3, 52.2)
    box = _el(parent, ows, "WGS84BoundingBox")
    _el(box, ows, "LowerCorner", f"{lon0:.6f} {lat0:.6f}")
    _el(box, ows, "UpperCorner", f"{lon1:.6f} {lat1:.6f}")


DESCRIBE_FORMATS = {
    "2.0.0": ("application/gml+xml; version=3.2", "application/json"),
    "1.1.0": ("text/xml; subtype=gml/3.1.1", "application/json"),
}


def _formats(version: str) -> tuple[str, ...]:
    gml = "application/gml+xml; version=3.2" if version.startswith("2") else "text/xml; subtype=gml/3.1.1"
    return (gml, "application/json")


def _inspire(parent, language: str, types):
    ext = _el(parent, INSPIRE_DLS, "ExtendedCapabilities")
    _el(
        _el(ext, INSPIRE_COMMON, "ResourceLocator"),
        INSPIRE_COMMON,
        "URL",
        f"{endpoint()}?SERVICE=WFS&REQUEST=GetCapabilities",
    )
    _el(ext, INSPIRE_COMMON, "ResourceType", "service")
    _el(_el(ext, INSPIRE_COMMON, "TemporalReference"), INSPIRE_COMMON, "DateOfLastRevision", "2026-11-26")
    conf = _el(ext, INSPIRE_COMMON, "Conformity")
    spec = _el(conf, INSPIRE_COMMON, "Specification")
    _el(
        spec,
        INSPIRE_COMMON,
        "Title",
        "Rozporządzenie Komisji (UE) nr 1089/2010 w sprawie interoperacyjności zbiorów i usług danych przestrzennych",
    )
    _el(spec, INSPIRE_COMMON, "DateOfPublication", "2010-12-08")
    _el(conf, INSPIRE_COMMON, "Degree", "notEvaluated")
    poc = _el(ext, INSPIRE_COMMON, "MetadataPointOfContact")
    _el(poc, INSPIRE_COMMON, "OrganisationName", SERVICE_CONTACT.organisation)
    _el(poc, INSPIRE_COMMON, "EmailAddress", SERVICE_CONTACT.email)
    _el(ext, INSPIRE_COMMON, "MetadataDate", "2026-11-26")
    _el(ext, INSPIRE_COMMON, "SpatialDataServiceType", "download")
    _el(
        _el(ext, INSPIRE_COMMON, "MandatoryKeyword"),
        INSPIRE_COMMON,
        "KeywordValue",
        "infoFeatureAccessService",
    )
    langs = _el(ext, INSPIRE_COMMON, "SupportedLanguages")
    _el(_el(langs, INSPIRE_COMMON, "DefaultLanguage"), INSPIRE_COMMON, "Language", "pol")
    _el(_el(langs, INSPIRE_COMMON, "SupportedLanguage"), INSPIRE_COMMON, "Language", "eng")
    _el(
        _el(ext, INSPIRE_COMMON, "ResponseLanguage"),
        INSPIRE_COMMON,
        "Language",
        "eng" if language == "en" else "pol",
    )
    # scenario 2 (the metadata elements above) with the optional link to the service's own record
    locator = _el(ext, INSPIRE_COMMON, "MetadataUrl")
    _el(locator, INSPIRE_COMMON, "URL", metadata.service_record_url("WFS"))
    _el(locator, INSPIRE_COMMON, "MediaType", "application/xml")
    # the harmonised INSPIRE data sets (the pre-defined stored query's DataSetIdCode), each with its record,
    # then the data set of each of our own feature types
    for code in dict.fromkeys(t.dataset for t in inspire.types_for_types(types)):
        ident = _el(
            ext, INSPIRE_DLS, "SpatialDataSetIdentifier", metadataURL=metadata.dataset_record_url(code)
        )
        _el(ident, INSPIRE_COMMON, "Code", code)
        _el(ident, INSPIRE_COMMON, "Namespace", DATASET_NAMESPACE)
    for ft in types:
        ident = _el(ext, INSPIRE_DLS, "SpatialDataSetIdentifier", metadataURL=metadata.record_url(ft.layer))
        _el(ident, INSPIRE_COMMON, "Code", ft.name)
        _el(ident, INSPIRE_COMMON, "Namespace", DATASET_NAMESPACE)


def _caps_20(language: str, types) -> bytes:
    nsmap = {
        "wfs": WFS20,
        "ows": OWS11,
        "fes": FES20,
        "gml": GML,
        "xlink": XLINK,
        "xsi": XSI,
        PREFIX: GISPORTAL_NS,
        "inspire_common": INSPIRE_COMMON,
        "inspire_dls": INSPIRE_DLS,
        **_inspire_prefixes(types),
    }
    root = etree.Element(
        f"{{{WFS20}}}WFS_Capabilities", nsmap=nsmap, version="2.0.0", updateSequence=update_sequence()
    )
    root.set(
        f"{{{XSI}}}schemaLocation",
        f"{WFS20} http://schemas.opengis.net/wfs/2.0/wfs.xsd {INSPIRE_DLS} {INSPIRE_DLS_XSD}",
    )
    _service(root, OWS11, language, ("2.0.0", "1.1.0"))
    om = _el(root, OWS11, "OperationsMetadata")
    names = tuple(ft.typename for ft in types) + tuple(t.typename for t in inspire.types_for_types(types))
    _operation(
        om,
        OWS11,
        "GetCapabilities",
        {
            "AcceptVersions": ("2.0.0", "1.1.0"),
            "AcceptFormats": ("text/xml",),
            "Sections": (
                "ServiceIdentification",
                "ServiceProvider",
                "OperationsMetadata",
                "FeatureTypeList",
                "Filter_Capabilities",
            ),
        },
    )
    _operation(om, OWS11, "DescribeFeatureType", {"outputFormat": DESCRIBE_FORMATS["2.0.0"]})
    _operation(
        om, OWS11, "GetFeature", {"outputFormat": _formats("2.0.0"), "resultType": ("results", "hits")}
    )
    _operation(
        om,
        OWS11,
        "GetPropertyValue",
        {"outputFormat": ("application/gml+xml; version=3.2",), "resolve": ("none",)},
    )
    _operation(om, OWS11, "ListStoredQueries")
    _operation(om, OWS11, "DescribeStoredQueries")
    _parameter(om, OWS11, "version", ("2.0.0", "1.1.0"))
    _parameter(om, OWS11, "typeNames", names)
    for name, value in (
        ("ImplementsBasicWFS", "TRUE"),
        ("ImplementsTransactionalWFS", "FALSE"),
        ("ImplementsLockingWFS", "FALSE"),
        ("KVPEncoding", "TRUE"),
        ("XMLEncoding", "TRUE"),
        ("SOAPEncoding", "FALSE"),
        ("ImplementsInheritance", "FALSE"),
        ("ImplementsRemoteResolve", "FALSE"),
        ("ImplementsResultPaging", "TRUE"),
        ("ImplementsStandardJoins", "FALSE"),
        ("ImplementsSpatialJoins", "FALSE"),
        ("ImplementsTemporalJoins", "FALSE"),
        ("ImplementsFeatureVersioning", "FALSE"),
        ("ManageStoredQueries", "FALSE"),
        ("CountDefault", str(COUNT_DEFAULT)),
        ("PagingIsTransactionSafe", "FALSE"),
    ):
        _constraint(om, name, value)
    c = _el(om, OWS11, "Constraint", name="QueryExpressions")
    allowed = _el(c, OWS11, "AllowedValues")
    _el(allowed, OWS11, "Value", "wfs:Query")
    _el(allowed, OWS11, "Value", "wfs:StoredQuery")
    _constraint(om, "MaximumCount", str(MAX_COUNT))
    _inspire(_el(om, OWS11, "ExtendedCapabilities"), language, types)
    _feature_types(_el(root, WFS20, "FeatureTypeList"), types, language, "2.0.0")
    _filter_caps_20(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _feature_types(ftl, types, language: str, version: str) -> None:
    """FeatureType entries: the same content in both versions, with 2.0's CRS element names."""
    wfs, ows = (WFS20, OWS11) if version.startswith("2") else (WFS11, OWS10)
    default, other = ("DefaultCRS", "OtherCRS") if version.startswith("2") else ("DefaultSRS", "OtherSRS")
    extents = layer_extents()
    for ft in types:
        el = _el(ftl, wfs, "FeatureType")
        _el(el, wfs, "Name", ft.typename)
        _el(el, wfs, "Title", ft.layer.title(language))
        _el(el, wfs, "Abstract", ft.layer.abstract(language))
        kws = _el(el, ows, "Keywords")
        for kw in ft.layer.keywords or (ft.name,):
            _el(kws, ows, "Keyword", kw)
        _el(el, wfs, default, "urn:ogc:def:crs:EPSG::2180")
        for epsg in OTHER_CRS:
            _el(el, wfs, other, f"urn:ogc:def:crs:EPSG::{epsg}")
        fmts = _el(el, wfs, "OutputFormats")
        for f in _formats(version):
            _el(fmts, wfs, "Format", f)
        _wgs84(el, ows, extents.get(ft.name))
        url = metadata.record_url(ft.layer)
        if version.startswith("2"):
            _el(el, wfs, "MetadataURL", **{f"{{{XLINK}}}href": url})
        else:
            _el(el, wfs, "MetadataURL", url, type="19139", format="text/xml")
    _inspire_feature_types(ftl, types, language, version)


def _inspire_prefixes(types) -> dict[str, str]:
    return {t.prefix: t.namespace for t in inspire.types_for_types(types)}


def _inspire_feature_types(ftl, types, language: str, version: str) -> None:
    """The harmonised INSPIRE types (ogc/inspire) after ours: GML 3.2 only, their catalogue layer's extent
    and metadata record. WFS 1.1 lists them too, and answers their GetFeature with an exception."""
    wfs, ows = (WFS20, OWS11) if version.startswith("2") else (WFS11, OWS10)
    default, other = ("DefaultCRS", "OtherCRS") if version.startswith("2") else ("DefaultSRS", "OtherSRS")
    extents = layer_extents()
    for t in inspire.types_for_types(types):
        el = _el(ftl, wfs, "FeatureType")
        _el(el, wfs, "Name", t.typename)
        _el(el, wfs, "Title", inspire.title(t, language))
        _el(el, wfs, "Abstract", inspire.abstract(t, language))
        kws = _el(el, ows, "Keywords")
        for kw in ("INSPIRE", t.local_name, t.dataset):
            _el(kws, ows, "Keyword", kw)
        _el(el, wfs, default, "urn:ogc:def:crs:EPSG::2180")
        for epsg in OTHER_CRS:
            _el(el, wfs, other, f"urn:ogc:def:crs:EPSG::{epsg}")
        if version.startswith("2"):  # WFS 1.1 lists them (clients see them) but serves them in no format
            _el(_el(el, wfs, "OutputFormats"), wfs, "Format", "application/gml+xml; version=3.2")
        _wgs84(el, ows, extents.get(t.layer))
        url = metadata.dataset_record_url(t.dataset)  # the record of the INSPIRE data set it belongs to
        if url and version.startswith("2"):
            _el(el, wfs, "MetadataURL", **{f"{{{XLINK}}}href": url})
        elif url:
            _el(el, wfs, "MetadataURL", url, type="19139", format="text/xml")


def _filter_caps_20(root):
    fc = _el(root, FES20, "Filter_Capabilities")
    conf = _el(fc, FES20, "Conformance")
    for name, value in CONFORMANCE.items():
        c = _el(conf, FES20, "Constraint", name=name)
        _el(c, OWS11, "NoValues")
        _el(c, OWS11, "DefaultValue", "TRUE" if value else "FALSE")
    _el(_el(fc, FES20, "Id_Capabilities"), FES20, "ResourceIdentifier", name="fes:ResourceId")
    scalar = _el(fc, FES20, "Scalar_Capabilities")
    _el(scalar, FES20, "LogicalOperators")
    comp = _el(scalar, FES20, "ComparisonOperators")
    for op in COMPARISON:
        _el(comp, FES20, "ComparisonOperator", name=op)
    spatial = _el(fc, FES20, "Spatial_Capabilities")
    operands = _el(spatial, FES20, "GeometryOperands")
    for op in OPERANDS:
        _el(operands, FES20, "GeometryOperand", name=op)
    ops = _el(spatial, FES20, "SpatialOperators")
    for op in SPATIAL:
        _el(ops, FES20, "SpatialOperator", name=op)
    temporal = _el(fc, FES20, "Temporal_Capabilities")
    _el(_el(temporal, FES20, "TemporalOperands"), FES20, "TemporalOperand", name="gml:TimePeriod")
    _el(_el(temporal, FES20, "TemporalOperators"), FES20, "TemporalOperator", name="During")


def _caps_11(language: str, types) -> bytes:
    nsmap = {
        "wfs": WFS11,
        "ows": OWS10,
        "ogc": OGC,
        "gml": GML311,
        "xlink": XLINK,
        "xsi": XSI,
        PREFIX: GISPORTAL_NS,
        **_inspire_prefixes(types),
    }
    root = etree.Element(
        f"{{{WFS11}}}WFS_Capabilities", nsmap=nsmap, version="1.1.0", updateSequence=update_sequence()
    )
    root.set(f"{{{XSI}}}schemaLocation", f"{WFS11} http://schemas.opengis.net/wfs/1.1.0/wfs.xsd")
    _service(root, OWS10, language, ("1.1.0",))
    om = _el(root, OWS10, "OperationsMetadata")
    _operation(
        om, OWS10, "GetCapabilities", {"AcceptVersions": ("2.0.0", "1.1.0"), "AcceptFormats": ("text/xml",)}
    )
    _operation(om, OWS10, "DescribeFeatureType", {"outputFormat": DESCRIBE_FORMATS["1.1.0"]})
    _operation(
        om, OWS10, "GetFeature", {"resultType": ("results", "hits"), "outputFormat": _formats("1.1.0")}
    )
    # WFS 1.1 has no paging links: every match is returned up to this maximum (QGIS and GDAL read it)
    _el(_el(om, OWS10, "Constraint", name="DefaultMaxFeatures"), OWS10, "Value", str(MAX_COUNT))
    ftl = _el(root, WFS11, "FeatureTypeList")
    _el(_el(ftl, WFS11, "Operations"), WFS11, "Operation", "Query")
    _feature_types(ftl, types, language, "1.1.0")
    fc = _el(root, OGC, "Filter_Capabilities")
    spatial = _el(fc, OGC, "Spatial_Capabilities")
    operands = _el(spatial, OGC, "GeometryOperands")
    for op in ("gml:Envelope", "gml:Point", "gml:LineString", "gml:Polygon"):
        _el(operands, OGC, "GeometryOperand", op)
    ops = _el(spatial, OGC, "SpatialOperators")
    for op in SPATIAL:
        _el(ops, OGC, "SpatialOperator", name=op)
    scalar = _el(fc, OGC, "Scalar_Capabilities")
    _el(scalar, OGC, "LogicalOperators")
    comp = _el(scalar, OGC, "ComparisonOperators")
    for op in (
        "LessThan",
        "GreaterThan",
        "LessThanEqualTo",
        "GreaterThanEqualTo",
        "EqualTo",
        "NotEqualTo",
        "Like",
        "Between",
        "NullCheck",
    ):
        _el(comp, OGC, "ComparisonOperator", op)
    ids = _el(fc, OGC, "Id_Capabilities")
    _el(ids, OGC, "EID")
    _el(ids, OGC, "FID")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# ---- DescribeFeatureType -----------------------------------------------------------------------
def describe(types: list[FeatureType], version: str) -> bytes:
    """The GML application schema of the given feature types (GML 3.2 for 2.0, 3.1.1 for 1.1)."""
    v2 = version.startswith("2")
    gml = GML if v2 else GML311
    root = etree.Element(
        f"{{{XS}}}schema",
        nsmap={"xs": XS, "gml": gml, PREFIX: GISPORTAL_NS},
        targetNamespace=GISPORTAL_NS,
        elementFormDefault="qualified",
        version="1.0",
    )
    _el(
        root,
        XS,
        "import",
        namespace=gml,
        schemaLocation="http://schemas.opengis.net/gml/3.2.1/gml.xsd"
        if v2
        else "http://schemas.opengis.net/gml/3.1.1/base/gml.xsd",
    )
    for ft in types:
        ctype = _el(root, XS, "complexType", name=f"{ft.name}Type")
        seq = _el(
            _el(_el(ctype, XS, "complexContent"), XS, "extension", base="gml:AbstractFeatureType"),
            XS,
            "sequence",
        )
        for a in ft.attributes:
            _el(seq, XS, "element", name=a.name, type=XSD_TYPES[a.type], minOccurs="0", nillable="false")
        _el(seq, XS, "element", name=GEOMETRY, type=fts.geometry_xsd(ft), minOccurs="0")
        _el(
            root,
            XS,
            "element",
            name=ft.name,
            type=f"{PREFIX}:{ft.name}Type",
            substitutionGroup="gml:AbstractFeature" if v2 else "gml:_Feature",
        )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def describe_json(types: list[FeatureType]) -> bytes:
    """DescribeFeatureType as JSON, in the layout GeoServer and its JavaScript clients use."""
    geometry = fts.GEOMETRY_XSD
    doc = {
        "elementFormDefault": "qualified",
        "targetNamespace": GISPORTAL_NS,
        "targetPrefix": PREFIX,
        "featureTypes": [
            {
                "typeName": ft.name,
                "properties": [
                    *(
                        {
                            "name": a.name,
                            "maxOccurs": 1,
                            "minOccurs": 0,
                            "nillable": False,
                            "type": XSD_TYPES[a.type].replace("xs:", "xsd:"),
                            "localType": XSD_TYPES[a.type][3:],
                        }
                        for a in ft.attributes
                    ),
                    {
                        "name": GEOMETRY,
                        "maxOccurs": 1,
                        "minOccurs": 0,
                        "nillable": True,
                        "type": "gml:" + geometry[ft.layer.geometry_type][1],
                        "localType": geometry[ft.layer.geometry_type][1],
                    },
                ],
            }
            for ft in types
        ],
    }
    return json.dumps(doc, ensure_ascii=False).encode()


# ---- stored queries ----------------------------------------------------------------------------
STORED_QUERIES = {
    GET_FEATURE_BY_ID: (
        "Pobierz obiekt po identyfikatorze",
        "Get a feature by its identifier",
        (("ID", "xs:string"),),
    ),
    GET_PARCEL_BY_ID: (
        "Działka po identyfikatorze (jak GetParcelById w ULDK)",
        "A parcel by its official identifier",
        (("ID", "xs:string"),),
    ),
    INSPIRE_DATASET: (
        "Pobierz zbiór danych (INSPIRE)",
        "Get a spatial data set (INSPIRE pre-defined download)",
        (
            ("CRS", "xs:string"),
            ("DataSetIdCode", "xs:string"),
            ("DataSetIdNamespace", "xs:string"),
            ("Language", "xs:string"),
        ),
    ),
}


def _returns(qid: str, types) -> tuple[str, ...]:
    if qid == GET_PARCEL_BY_ID:
        return (f"{PREFIX}:dzialki",)
    return tuple(ft.typename for ft in types)


def list_stored_queries(types, language: str) -> bytes:
    root = etree.Element(
        f"{{{WFS20}}}ListStoredQueriesResponse", nsmap={"wfs": WFS20, PREFIX: GISPORTAL_NS, "xsi": XSI}
    )
    root.set(f"{{{XSI}}}schemaLocation", f"{WFS20} http://schemas.opengis.net/wfs/2.0/wfs.xsd")
    for qid, (title_pl, title_en, _params) in STORED_QUERIES.items():
        sq = _el(root, WFS20, "StoredQuery", id=qid)
        _el(sq, WFS20, "Title", title_en if language == "en" else title_pl)
        for t in _returns(qid, types):
            _el(sq, WFS20, "ReturnFeatureType", t)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def describe_stored_queries(ids: list[str] | None, types, language: str) -> bytes:
    root = etree.Element(
        f"{{{WFS20}}}DescribeStoredQueriesResponse",
        nsmap={"wfs": WFS20, "xs": XS, PREFIX: GISPORTAL_NS, "fes": FES20, "xsi": XSI},
    )
    root.set(f"{{{XSI}}}schemaLocation", f"{WFS20} http://schemas.opengis.net/wfs/2.0/wfs.xsd")
    for qid in ids or list(STORED_QUERIES):
        title_pl, title_en, params = STORED_QUERIES[qid]
        desc = _el(root, WFS20, "StoredQueryDescription", id=qid)
        _el(desc, WFS20, "Title", title_en if language == "en" else title_pl)
        for name, xstype in params:
            _el(desc, WFS20, "Parameter", name=name, type=xstype)
        expr = _el(
            desc,
            WFS20,
            "QueryExpressionText",
            returnFeatureTypes=" ".join(_returns(qid, types)),
            language="urn:ogc:def:queryLanguage:OGC-WFS::WFSQueryExpression",
            isPrivate="true",
        )
        expr.text = None
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
