"""INSPIRE Buildings 4.0, 2D core profile, mapped from the EGiB buildings, in one place.

Building → bu-core2d:Building (bu-core2d/4.0/BuildingsCore2D.xsd, whose BuildingType extends the abstract
bu-base:BuildingType of bu-base/4.0/BuildingsBase.xsd with the required `geometry2D`; bu-base:Building
itself is abstract and cannot be served): inspireId from the IIP identity (localId = lokalnyId, namespace
= GISPORTAL_INSPIRE_NAMESPACE, versionId = wersjaId or the version start), beginLifespanVersion/
endLifespanVersion = the version dates, conditionOfConstruction `functional` (the register holds built
buildings), externalReference = the EGiB building id (idBudynku) in the national cadastre service (ULDK,
which resolves it), currentUse from the KŚT class (`CURRENT_USE`), numberOfFloorsAboveGround = the storeys
above ground, geometry2D = the outline as the footprint (HorizontalGeometryReferenceValue `footPrint`,
the reference geometry). What the registry does not keep (dates of construction, elevation, height,
name, nature, dwellings, units, accuracy) is written nil. A building without a stored outline is not
served (geometry2D is required).
"""

from __future__ import annotations

from django.conf import settings
from lxml import etree

from layers.models import Building

from .base import GML, XLINK, XSI, Context, InspireType, Source, filterable, row_geometry

BU_BASE = "http://inspire.ec.europa.eu/schemas/bu-base/4.0"
BU_CORE2D = "http://inspire.ec.europa.eu/schemas/bu-core2d/4.0"
BASE_NS = "http://inspire.ec.europa.eu/schemas/base/3.3"
GCO = "http://www.isotc211.org/2005/gco"
CODELIST = "http://inspire.ec.europa.eu/codelist"
SCHEMA = "https://inspire.ec.europa.eu/schemas/bu-core2d/4.0/BuildingsCore2D.xsd"
# not in ../shared/data/ogc-schemas (only bu-base/4.0 is): tests/ogc/test_inspire_ad_bu.py carries a copy
LOCAL_SCHEMA = "inspire/bu-core2d/4.0/BuildingsCore2D.xsd"
DATASET = "BU"
LAYER = "budynki"
BUILDING_KEY = "Building"
NAMESPACES = {
    "bu-core2d": BU_CORE2D,
    "bu-base": BU_BASE,
    "base": BASE_NS,
    "gco": GCO,
    "gml": GML,
    "xlink": XLINK,
    "xsi": XSI,
}
# the national service that resolves an EGiB building id (GetBuildingById)
CADASTRE_SYSTEM = "https://uldk.gugik.gov.pl/"
CADASTRE_SYSTEM_NAME = "Ewidencja gruntów i budynków (EGiB), usługa ULDK GUGiK"

# rodzajWgKST (KŚT group 1 class) → CurrentUseValue; `i` (109, other non-residential) says nothing about
# the use and is written nil
CURRENT_USE = {
    "m": "residential",  # 110 residential
    "g": "agriculture",  # 108 farm buildings
    "p": "industrial",  # 101 industrial
    "s": "industrial",  # 104 tanks, silos and warehouses (CC 125: industrial buildings and warehouses)
    "h": "trade",  # 103 commercial and services
    "b": "office",  # 105 office
    "k": "publicServices",  # 107 education, science, culture and sport
    "z": "publicServices",  # 106 hospitals and health care
    "t": "commerceAndServices",  # 102 transport and communication
}


def namespace() -> str:
    return settings.GISPORTAL_INSPIRE_NAMESPACE


def _version_id(row) -> str:
    if row.version_id:
        return row.version_id
    if row.start_version is not None:  # the IIP convention: the version's start as yyyymmddThhmmss
        return row.start_version.strftime("%Y%m%dT%H%M%S")
    return ""


def buildings():
    return (
        Building.objects.current()
        .filter(geom__isnull=False)
        .only(
            "pk",
            "local_id",
            "version_id",
            "start_version",
            "end_version",
            "building_id",
            "kst_type",
            "storeys_above",
            "geom",
        )
    )


def _code(ctx: Context, parent, tag: str, codelist: str, value: str):
    return ctx.code(parent, BU_BASE, tag, f"{CODELIST}/{codelist}", value)


def encode_building(row, ctx: Context) -> etree._Element:
    """bu-base:AbstractConstructionType: beginLifespanVersion, conditionOfConstruction, dateOfConstruction,
    (dateOfDemolition, dateOfRenovation), elevation, (endLifespanVersion), externalReference,
    heightAboveGround, inspireId, name; bu-base:AbstractBuildingType: buildingNature, currentUse,
    numberOfDwellings, numberOfBuildingUnits, numberOfFloorsAboveGround; bu-base:BuildingType: (parts);
    bu-core2d:BuildingType: geometry2D."""
    fid = f"{BUILDING_KEY}.{row.pk}"
    f = etree.Element(f"{{{BU_CORE2D}}}Building", {f"{{{GML}}}id": fid}, nsmap=NAMESPACES)
    ctx.date_time(f, BU_BASE, "beginLifespanVersion", row.start_version)
    _code(ctx, f, "conditionOfConstruction", "ConditionOfConstructionValue", "functional")
    ctx.nil(f, BU_BASE, "dateOfConstruction")
    ctx.nil(f, BU_BASE, "elevation")
    if row.end_version is not None:
        ctx.date_time(f, BU_BASE, "endLifespanVersion", row.end_version)
    ref = ctx.el(ctx.el(f, BU_BASE, "externalReference"), BU_BASE, "ExternalReference")
    ctx.el(ref, BU_BASE, "informationSystem", CADASTRE_SYSTEM)
    ctx.el(ctx.el(ref, BU_BASE, "informationSystemName"), GCO, "CharacterString", CADASTRE_SYSTEM_NAME)
    ctx.el(ref, BU_BASE, "reference", row.building_id)
    ctx.nil(f, BU_BASE, "heightAboveGround")
    ctx.identifier(f, BU_BASE, "inspireId", row.local_id, namespace(), _version_id(row))
    ctx.nil(f, BU_BASE, "name")
    ctx.nil(f, BU_BASE, "buildingNature")
    use = CURRENT_USE.get(row.kst_type)
    if use:
        cu = ctx.el(ctx.el(f, BU_BASE, "currentUse"), BU_BASE, "CurrentUse")
        _code(ctx, cu, "currentUse", "CurrentUseValue", use)
        ctx.nil(cu, BU_BASE, "percentage")
    else:
        ctx.nil(f, BU_BASE, "currentUse", "unknown")
    ctx.nil(f, BU_BASE, "numberOfDwellings")
    ctx.nil(f, BU_BASE, "numberOfBuildingUnits")
    ctx.el(f, BU_BASE, "numberOfFloorsAboveGround", str(row.storeys_above))
    g2d = ctx.el(ctx.el(f, BU_CORE2D, "geometry2D"), BU_BASE, "BuildingGeometry2D")
    ctx.geometry(ctx.el(g2d, BU_BASE, "geometry"), row_geometry(row), f"{fid}.geom")
    ctx.el(g2d, BU_BASE, "referenceGeometry", "true")
    _code(ctx, g2d, "horizontalGeometryReference", "HorizontalGeometryReferenceValue", "footPrint")
    # gml:LengthType wants its uom even when nil
    ctx.nil(g2d, BU_BASE, "horizontalGeometryEstimatedAccuracy").set("uom", "m")
    return f


# what FES filters and SORTBY may name on bu-core2d:Building (ogc/wfs/inspire.py)
_P = {"bu-base": BU_BASE, "bu-core2d": BU_CORE2D, "base": BASE_NS}
BUILDING_FILTERABLE = (
    filterable("bu-base:inspireId/base:Identifier/base:localId", "local_id", namespaces=_P),
    filterable("bu-base:numberOfFloorsAboveGround", "storeys_above", "integer", namespaces=_P),
    filterable(
        "bu-base:externalReference/bu-base:ExternalReference/bu-base:reference", "building_id", namespaces=_P
    ),
    filterable("bu-base:beginLifespanVersion", "start_version", "datetime", namespaces=_P),
    filterable(
        "bu-core2d:geometry2D/bu-base:BuildingGeometry2D/bu-base:geometry", "geom", "geometry", namespaces=_P
    ),
)


BUILDING = InspireType(
    typename="bu-core2d:Building",
    namespace=BU_CORE2D,
    schema_location=SCHEMA,
    local_schema=LOCAL_SCHEMA,
    dataset=DATASET,
    title_pl="Budynki (INSPIRE)",
    title_en="Buildings (INSPIRE)",
    queryset=buildings,
    encode=encode_building,
    geometry_type="MultiPolygon",
    layer=LAYER,
    parts=(Source(BUILDING_KEY, buildings, encode_building, BUILDING_FILTERABLE),),
    extra={
        "abstract_pl": "Budynki z ewidencji gruntów i budynków (EGiB) w schemacie INSPIRE Budynki 4.0 (profil 2D).",
        "abstract_en": "Buildings of the land and building register (EGiB) in the INSPIRE Buildings 4.0 schema "
        "(2D profile).",
    },
)

TYPES = (BUILDING,)
