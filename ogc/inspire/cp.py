"""INSPIRE Cadastral Parcels 4.0 (cp) mapped from the EGiB registry, in one place.

- Parcel (działka) → cp:CadastralParcel: inspireId from the IIP identity (localId = lokalnyId, namespace =
  GISPORTAL_INSPIRE_NAMESPACE, versionId = wersjaId or the version start), nationalCadastralReference = the
  parcel id (ID_DZIALKI), label = the parcel number, areaValue = the registered area in m², the version and
  object dates, a reference point on the surface, zoning = the parcel's precinct.
- CadastralUnit (jednostka ewidencyjna) → cp:CadastralZoning of level 1stOrder; Precinct (obręb, the
  lowest zoning in Poland) → cp:CadastralZoning of level 2ndOrder, its upperLevelUnit the cadastral unit.
- cp:CadastralBoundary and cp:BasicPropertyUnit are not served (Polish parcels carry the cadastral
  reference; boundaries would have to be derived from the parcel rings).

Feature references are the service's GetFeatureById URLs (Context.feature_href), which a client can fetch on
their own (the TG's advice for references across requests), not `#id` links into one document. Only public
registry models are read: no personal data.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from lxml import etree

from layers.models import CadastralUnit, Parcel, Precinct

from .base import (
    GML,
    XLINK,
    XSI,
    Context,
    InspireType,
    Source,
    row_geometry,
    row_point,
)

CP = "http://inspire.ec.europa.eu/schemas/cp/4.0"
GN = "http://inspire.ec.europa.eu/schemas/gn/4.0"
GMD = "http://www.isotc211.org/2005/gmd"
BASE_NS = "http://inspire.ec.europa.eu/schemas/base/3.3"
SCHEMA = "https://inspire.ec.europa.eu/schemas/cp/4.0/CadastralParcels.xsd"
LOCAL_SCHEMA = "inspire/cp/4.0/CadastralParcels.xsd"
LEVELS = "http://inspire.ec.europa.eu/codelist/CadastralZoningLevelValue"
NATIVENESS = "http://inspire.ec.europa.eu/codelist/NativenessValue"
NAME_STATUS = "http://inspire.ec.europa.eu/codelist/NameStatusValue"
DATASET = "CP"  # the SpatialDataSetIdentifier code of the Cadastral Parcels data set (stored query)
# the prefixes a response declares once at its root (every element of a feature is in one of these)
NAMESPACES = {"cp": CP, "base": BASE_NS, "gn": GN, "gmd": GMD, "gml": GML, "xlink": XLINK, "xsi": XSI}
PARCEL_KEY = "CadastralParcel"
UNIT_KEY = "CadastralZoning.unit"
PRECINCT_KEY = "CadastralZoning.precinct"
LEVEL_NAMES = {
    "1stOrder": (("pol", "jednostka ewidencyjna"), ("eng", "cadastral unit")),
    "2ndOrder": (("pol", "obręb ewidencyjny"), ("eng", "cadastral precinct")),
}


def namespace() -> str:
    return settings.GISPORTAL_INSPIRE_NAMESPACE


def _version_id(row) -> str:
    if row.version_id:
        return row.version_id
    if row.start_version is not None:  # the IIP convention: the version's start as yyyymmddThhmmss
        return row.start_version.strftime("%Y%m%dT%H%M%S")
    return ""


def _feature(tag: str, fid: str) -> etree._Element:
    return etree.Element(f"{{{CP}}}{tag}", {f"{{{GML}}}id": fid}, nsmap=NAMESPACES)


def _area_m2(area_ha: Decimal) -> str:
    m2 = (Decimal(area_ha) * 10_000).normalize()
    return f"{m2:f}"


def _geographical_name(parent, ctx: Context, text: str) -> None:
    """gn:GeographicalName of a Polish official (endonym) name, spelled in Latin script."""
    gname = ctx.el(ctx.el(parent, CP, "name"), GN, "GeographicalName")
    ctx.el(gname, GN, "language", "pol")
    ctx.code(gname, GN, "nativeness", NATIVENESS, "endonym")
    ctx.code(gname, GN, "nameStatus", NAME_STATUS, "official")
    ctx.el(gname, GN, "sourceOfName", "EGiB")
    ctx.nil(gname, GN, "pronunciation")
    spelling = ctx.el(ctx.el(gname, GN, "spelling"), GN, "SpellingOfName")
    ctx.el(spelling, GN, "text", text)
    ctx.el(spelling, GN, "script", "Latn")


# ---- queries: current public rows, with what the encoders read ------------------------------------
def parcels():
    return Parcel.objects.current().only(
        "pk",
        "local_id",
        "version_id",
        "start_object",
        "start_version",
        "end_object",
        "parcel_id",
        "number",
        "area_ha",
        "precinct_id",
        "geom",
    )


def units():
    return CadastralUnit.objects.current().only(
        "pk",
        "local_id",
        "version_id",
        "start_object",
        "start_version",
        "end_object",
        "unit_id",
        "name",
        "geom",
    )


def precincts():
    return Precinct.objects.current().only(
        "pk",
        "local_id",
        "version_id",
        "start_object",
        "start_version",
        "end_object",
        "precinct_id",
        "number",
        "name",
        "unit_id",
        "geom",
    )


# ---- encoders: one row → the feature element, in the XSD's element order ---------------------------
def encode_parcel(row, ctx: Context) -> etree._Element:
    """cp:CadastralParcelType: areaValue, beginLifespanVersion, (endLifespanVersion), geometry, inspireId,
    label, nationalCadastralReference, referencePoint, validFrom, (validTo), basicPropertyUnit,
    administrativeUnit, zoning."""
    fid = f"{PARCEL_KEY}.{row.pk}"
    f = _feature("CadastralParcel", fid)
    ctx.el(f, CP, "areaValue", _area_m2(row.area_ha), uom="m2")
    ctx.date_time(f, CP, "beginLifespanVersion", row.start_version)
    ctx.geometry(ctx.el(f, CP, "geometry"), row_geometry(row), f"{fid}.geom")
    ctx.identifier(f, CP, "inspireId", row.local_id, namespace(), _version_id(row))
    ctx.el(f, CP, "label", row.number)
    ctx.el(f, CP, "nationalCadastralReference", row.parcel_id)
    point = row_point(row)
    if point is not None:
        ctx.geometry(ctx.el(f, CP, "referencePoint"), point, f"{fid}.rp")
    ctx.date_time(f, CP, "validFrom", row.start_object)
    if row.end_object is not None:
        ctx.date_time(f, CP, "validTo", row.end_object)
    ctx.nil(f, CP, "basicPropertyUnit")  # PL: the parcel itself carries the cadastral reference
    ctx.nil(f, CP, "administrativeUnit")  # no harmonised au:AdministrativeUnit is served to point at
    ctx.ref(f, CP, "zoning", f"{PRECINCT_KEY}.{row.precinct_id}")
    return f


def _zoning(
    row, ctx: Context, fid: str, *, level: str, label: str, reference: str, name: str, upper: str | None
) -> etree._Element:
    """cp:CadastralZoningType: beginLifespanVersion, (endLifespanVersion, estimatedAccuracy), geometry,
    inspireId, label, level, levelName, name, nationalCadastalZoningReference (sic),
    (originalMapScaleDenominator), referencePoint, validFrom, (validTo), upperLevelUnit."""
    f = _feature("CadastralZoning", fid)
    ctx.date_time(f, CP, "beginLifespanVersion", row.start_version)
    ctx.geometry(ctx.el(f, CP, "geometry"), row_geometry(row), f"{fid}.geom")
    ctx.identifier(f, CP, "inspireId", row.local_id, namespace(), _version_id(row))
    ctx.el(f, CP, "label", label)
    ctx.code(f, CP, "level", LEVELS, level)
    for lang, text in LEVEL_NAMES[level]:
        holder = ctx.el(f, CP, "levelName")
        ctx.el(holder, GMD, "LocalisedCharacterString", text, locale=f"#{lang}")
    if name:
        _geographical_name(f, ctx, name)
    ctx.el(f, CP, "nationalCadastalZoningReference", reference)
    point = row_point(row)
    if point is not None:
        ctx.geometry(ctx.el(f, CP, "referencePoint"), point, f"{fid}.rp")
    ctx.date_time(f, CP, "validFrom", row.start_object)
    if row.end_object is not None:
        ctx.date_time(f, CP, "validTo", row.end_object)
    if upper:
        ctx.ref(f, CP, "upperLevelUnit", upper)
    return f


def encode_unit(row, ctx: Context) -> etree._Element:
    return _zoning(
        row,
        ctx,
        f"{UNIT_KEY}.{row.pk}",
        level="1stOrder",
        label=row.unit_id,
        reference=row.unit_id,
        name=row.name,
        upper=None,
    )


def encode_precinct(row, ctx: Context) -> etree._Element:
    return _zoning(
        row,
        ctx,
        f"{PRECINCT_KEY}.{row.pk}",
        level="2ndOrder",
        label=row.number,
        reference=row.precinct_id,
        name=row.name,
        upper=f"{UNIT_KEY}.{row.unit_id}",
    )


CADASTRAL_PARCEL = InspireType(
    typename="cp:CadastralParcel",
    namespace=CP,
    schema_location=SCHEMA,
    local_schema=LOCAL_SCHEMA,
    dataset=DATASET,
    title_pl="Działki katastralne (INSPIRE)",
    title_en="Cadastral parcels (INSPIRE)",
    queryset=parcels,
    encode=encode_parcel,
    layer="dzialki",
    parts=(Source(PARCEL_KEY, parcels, encode_parcel),),
    extra={
        "abstract_pl": "Działki ewidencyjne z ewidencji gruntów i budynków w schemacie INSPIRE Działki katastralne 4.0.",
        "abstract_en": "Parcels of the land and building register (EGiB) in the INSPIRE Cadastral Parcels 4.0 schema.",
    },
)
CADASTRAL_ZONING = InspireType(
    typename="cp:CadastralZoning",
    namespace=CP,
    schema_location=SCHEMA,
    local_schema=LOCAL_SCHEMA,
    dataset=DATASET,
    title_pl="Strefy katastralne: jednostki i obręby ewidencyjne (INSPIRE)",
    title_en="Cadastral zonings: cadastral units and precincts (INSPIRE)",
    queryset=units,
    encode=encode_unit,
    layer="obreby",
    parts=(Source(UNIT_KEY, units, encode_unit), Source(PRECINCT_KEY, precincts, encode_precinct)),
    extra={
        "abstract_pl": "Jednostki ewidencyjne (poziom 1stOrder) i obręby ewidencyjne (2ndOrder) w schemacie INSPIRE "
        "Działki katastralne 4.0.",
        "abstract_en": "Cadastral units (level 1stOrder) and precincts (2ndOrder) of the land and building register "
        "in the INSPIRE Cadastral Parcels 4.0 schema.",
    },
)
TYPES = (CADASTRAL_PARCEL, CADASTRAL_ZONING)
