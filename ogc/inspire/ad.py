"""INSPIRE Addresses 4.0 (ad/4.0/Addresses.xsd) mapped from the address points (PRG/EMUiA), in one place.

- AddressPoint → ad:Address: inspireId from the IIP identity (localId = lokalnyId, namespace =
  GISPORTAL_INSPIRE_NAMESPACE, versionId = wersjaId or the version start), position = the point (on its
  building: GeometrySpecificationValue `building`, placed by the gmina: GeometryMethodValue
  `byAdministrator`, default), status from the PRG status (`STATUS`), locator = the house number
  (`designators`, level `siteLevel`), validFrom/validTo = the object dates, beginLifespanVersion/
  endLifespanVersion = the version dates, component = links to its components, most general first.
  No alternativeIdentifier: the registry keeps no PRG identifier besides the IIP identity.
- The components are not registry objects; they are built from the distinct values of the current address
  points, each served as the address point with the smallest primary key among those that share it (its
  gml:id and GetFeatureById key `<kind>.<that pk>`), with a local id that does not depend on it: uuid5 of
  its natural key (`component_id`). Their life-cycle dates are the earliest of their address points.
  * ad:AdminUnitName: the gmina, county and voivodeship (AdministrativeUnit rows, by the TERC prefixes of
    the address points; level 4th/3rd/2ndOrder, alternativeIdentifier the TERC code) and the country
    (Polska, 1stOrder: the INSPIRE constraint wants one per address), served as the first voivodeship's
    row under the key `AdminUnitName.country`;
  * ad:AddressAreaName: the locality (SIMC id as alternativeIdentifier), situated within its gmina;
  * ad:ThoroughfareName: the street in its locality (ULIC id as alternativeIdentifier);
  * ad:PostalDescriptor: the postcode.

Feature references are the service's GetFeatureById URLs (Context.feature_href); without one (a document
that holds all the features) they are `#gml:id` links. Only public registry models are read.
"""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.db.models import Case, CharField, IntegerField, Min, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Substr
from lxml import etree

from layers.models import AddressPoint, AdministrativeUnit

from .base import GML, XLINK, XSI, Context, InspireType, Source, filterable, row_geometry

AD = "http://inspire.ec.europa.eu/schemas/ad/4.0"
GN = "http://inspire.ec.europa.eu/schemas/gn/4.0"
BASE_NS = "http://inspire.ec.europa.eu/schemas/base/3.3"
CODELIST = "http://inspire.ec.europa.eu/codelist"
SCHEMA = "https://inspire.ec.europa.eu/schemas/ad/4.0/Addresses.xsd"
LOCAL_SCHEMA = "inspire/ad/4.0/Addresses.xsd"
DATASET = "AD"
LAYER = "adresy"  # the catalogue layer whose readers may read the addresses
NAMESPACES = {"ad": AD, "base": BASE_NS, "gn": GN, "gml": GML, "xlink": XLINK, "xsi": XSI}
COUNTRY_KEY, COUNTRY_NAME = "PL", "Polska"

ADDRESS_KEY = "Address"
UNIT_KEY = "AdminUnitName"
COUNTRY_FID_KEY = "AdminUnitName.country"
AREA_KEY = "AddressAreaName"
STREET_KEY = "ThoroughfareName"
POSTAL_KEY = "PostalDescriptor"

# PRG `status` of an address point → StatusValue; anything else is written nil
STATUS = {
    "istniejacy": "current",
    "istniejący": "current",
    "prognozowany": "proposed",
    "w budowie": "proposed",
    "archiwalny": "retired",
    "nieistniejacy": "retired",
    "nieistniejący": "retired",
}
# AdministrativeUnit.level → AdministrativeHierarchyLevel (the country is 1stOrder)
ADMIN_LEVEL = {"voivodeship": "2ndOrder", "county": "3rdOrder", "gmina": "4thOrder"}
_NUMBER = re.compile(r"^(\d+)\s*([A-Za-z]+)$")

# the address point fields a component is the distinct value of
AREA = ("teryt_gmina", "simc", "locality")
STREET = (*AREA, "street")
POSTAL = ("postcode",)


def namespace() -> str:
    return settings.GISPORTAL_INSPIRE_NAMESPACE


def _version_id(row) -> str:
    if row.version_id:
        return row.version_id
    if row.start_version is not None:  # the IIP convention: the version's start as yyyymmddThhmmss
        return row.start_version.strftime("%Y%m%dT%H%M%S")
    return ""


def component_id(kind: str, key: str) -> str:
    """The local id of a component: uuid5 of its kind and natural key (TERC code, SIMC id, …)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"gisportal:inspire:ad:{kind}:{key}"))


def area_key(teryt_gmina: str, simc: str, locality: str) -> str:
    return simc or f"{teryt_gmina}:{locality}"


def street_key(teryt_gmina: str, simc: str, locality: str, street: str) -> str:
    return f"{area_key(teryt_gmina, simc, locality)}:{street}"


def designators(number: str) -> list[tuple[str, str]]:
    """A house number as (designator, LocatorDesignatorTypeValue): `12` → addressNumber, `12A` → addressNumber
    12 + addressNumberExtension A, anything else (`12/14`) → addressIdentifierGeneral."""
    number = number.strip()
    if number.isdigit():
        return [(number, "addressNumber")]
    m = _NUMBER.match(number)
    if m:
        return [(m.group(1), "addressNumber"), (m.group(2), "addressNumberExtension")]
    return [(number, "addressIdentifierGeneral")]


# ---- queries: current public rows, annotated with the primary keys of what they link to -------------
def _current():
    return AddressPoint.objects.current()


def _first(fields: tuple[str, ...]):
    """The smallest pk of the current address points sharing `fields` with the outer row."""
    return Subquery(_current().filter(**{f: OuterRef(f) for f in fields}).order_by("pk").values("pk")[:1])


def _earliest(fields: tuple[str, ...], column: str):
    rows = _current().filter(**{f: OuterRef(f) for f in fields}, **{f"{column}__isnull": False})
    return Subquery(rows.order_by(column).values(column)[:1])


def _unit_pk(length: int, outer: str = "teryt_gmina"):
    teryt = OuterRef(outer) if length == 7 else Substr(OuterRef(outer), 1, length)
    return Subquery(AdministrativeUnit.objects.filter(teryt=teryt).values("pk")[:1])


def _country_pk():
    """The row the country is served as: the first voivodeship of the address points."""
    voivodeships = _current().annotate(v=Substr("teryt_gmina", 1, 2)).values("v")
    first = AdministrativeUnit.objects.filter(level="voivodeship", teryt__in=Subquery(voivodeships))
    return Subquery(first.order_by("pk").values("pk")[:1])


def _representatives(fields: tuple[str, ...], *, non_blank: str = ""):
    rows = _current().exclude(**{non_blank: ""}) if non_blank else _current()
    firsts = rows.order_by().values(*fields).annotate(first=Min("pk")).values("first")
    return _current().filter(pk__in=Subquery(firsts))


def addresses():
    return _current().annotate(
        country_pk=_country_pk(),
        voivodeship_pk=_unit_pk(2),
        county_pk=_unit_pk(4),
        gmina_pk=_unit_pk(7),
        area_pk=_first(AREA),
        street_pk=Case(
            When(street="", then=Value(None)), default=_first(STREET), output_field=IntegerField()
        ),
        postal_pk=Case(
            When(postcode="", then=Value(None)), default=_first(POSTAL), output_field=IntegerField()
        ),
    )


def admin_units():
    """The gminas, counties and voivodeships of the current address points."""
    tercs = _current().order_by().values("teryt_gmina")
    return AdministrativeUnit.objects.filter(
        Q(teryt__in=Subquery(tercs))
        | Q(teryt__in=Subquery(tercs.annotate(c=Substr("teryt_gmina", 1, 4)).values("c")))
        | Q(teryt__in=Subquery(tercs.annotate(v=Substr("teryt_gmina", 1, 2)).values("v")))
    ).annotate(country_pk=_country_pk())


def country():
    return AdministrativeUnit.objects.filter(pk=_country_pk())


def _dated(qs, fields):
    return qs.annotate(
        first_version=_earliest(fields, "start_version"), first_start=_earliest(fields, "start_object")
    )


def areas():
    return _dated(_representatives(AREA), AREA).annotate(gmina_pk=_unit_pk(7))


def streets():
    return _dated(_representatives(STREET, non_blank="street"), STREET).annotate(area_pk=_first(AREA))


def postal_descriptors():
    return _dated(_representatives(POSTAL, non_blank="postcode"), POSTAL)


# ---- encoders: one row → the feature element, in the XSD's element order ---------------------------
def _feature(tag: str, fid: str) -> etree._Element:
    return etree.Element(f"{{{AD}}}{tag}", {f"{{{GML}}}id": fid}, nsmap=NAMESPACES)


def _link(ctx: Context, parent, tag: str, fid: str):
    """An association to another feature (ad:component is not nillable: a `#gml:id` link when the context
    has no GetFeatureById URLs)."""
    href = ctx.feature_href(fid) if getattr(ctx, "feature_href", None) else f"#{fid}"
    return ctx.el(parent, AD, tag, **{f"{{{XLINK}}}href": href})


def _code(ctx: Context, parent, ns: str, tag: str, codelist: str, value: str):
    return ctx.code(parent, ns, tag, f"{CODELIST}/{codelist}", value)


def geographical_name(ctx: Context, parent, ns: str, tag: str, text: str, source: str = ""):
    """`<tag><gn:GeographicalName>` of an official Polish name (endonym, Latin script)."""
    holder = ctx.el(parent, ns, tag)
    gname = ctx.el(holder, GN, "GeographicalName")
    ctx.el(gname, GN, "language", "pol")
    _code(ctx, gname, GN, "nativeness", "NativenessValue", "endonym")
    _code(ctx, gname, GN, "nameStatus", "NameStatusValue", "official")
    if source:
        ctx.el(gname, GN, "sourceOfName", source)
    else:
        ctx.nil(gname, GN, "sourceOfName")
    ctx.nil(gname, GN, "pronunciation")
    spelling = ctx.el(ctx.el(gname, GN, "spelling"), GN, "SpellingOfName")
    ctx.el(spelling, GN, "text", text)
    ctx.el(spelling, GN, "script", "Latn")
    return holder


def component_fids(row) -> list[str]:
    """The gml:ids of the components of one (annotated) address, most general first."""
    pairs = [
        (COUNTRY_FID_KEY, row.country_pk),
        (UNIT_KEY, row.voivodeship_pk),
        (UNIT_KEY, row.county_pk),
        (UNIT_KEY, row.gmina_pk),
        (AREA_KEY, row.area_pk),
        (STREET_KEY, row.street_pk),
        (POSTAL_KEY, row.postal_pk),
    ]
    return [f"{key}.{pk}" for key, pk in pairs if pk is not None]


def encode_address(row, ctx: Context) -> etree._Element:
    """ad:AddressType: inspireId, (alternativeIdentifier), position, status, locator, validFrom, (validTo),
    beginLifespanVersion, (endLifespanVersion), (parcel, parentAddress, building), component."""
    fid = f"{ADDRESS_KEY}.{row.pk}"
    f = _feature("Address", fid)
    ctx.identifier(f, AD, "inspireId", row.local_id, namespace(), _version_id(row))
    pos = ctx.el(ctx.el(f, AD, "position"), AD, "GeographicPosition")
    ctx.geometry(ctx.el(pos, AD, "geometry"), row_geometry(row), f"{fid}.pos")
    _code(ctx, pos, AD, "specification", "GeometrySpecificationValue", "building")
    _code(ctx, pos, AD, "method", "GeometryMethodValue", "byAdministrator")
    ctx.el(pos, AD, "default", "true")
    status = STATUS.get((row.status or "").strip().lower())
    if status:
        _code(ctx, f, AD, "status", "StatusValue", status)
    else:
        ctx.nil(f, AD, "status", "unknown")
    loc = ctx.el(ctx.el(f, AD, "locator"), AD, "AddressLocator")
    for text, kind in designators(row.number):
        d = ctx.el(ctx.el(loc, AD, "designator"), AD, "LocatorDesignator")
        ctx.el(d, AD, "designator", text)
        _code(ctx, d, AD, "type", "LocatorDesignatorTypeValue", kind)
    _code(ctx, loc, AD, "level", "LocatorLevelValue", "siteLevel")
    ctx.date_time(f, AD, "validFrom", row.start_object)
    if row.end_object is not None:
        ctx.date_time(f, AD, "validTo", row.end_object)
    ctx.date_time(f, AD, "beginLifespanVersion", row.start_version)
    if row.end_version is not None:
        ctx.date_time(f, AD, "endLifespanVersion", row.end_version)
    for component in component_fids(row):
        _link(ctx, f, "component", component)
    return f


def _component(
    ctx: Context,
    tag: str,
    fid: str,
    kind: str,
    key: str,
    alternative: str,
    begin,
    valid_from,
    within: str | None,
) -> etree._Element:
    """ad:AddressComponentType: inspireId, alternativeIdentifier, beginLifespanVersion, (endLifespanVersion,
    status), validFrom, (validTo), situatedWithin."""
    f = _feature(tag, fid)
    ctx.identifier(f, AD, "inspireId", component_id(kind, key), namespace())
    if alternative:
        ctx.el(f, AD, "alternativeIdentifier", alternative)
    ctx.date_time(f, AD, "beginLifespanVersion", begin)
    ctx.date_time(f, AD, "validFrom", valid_from)
    if within:
        _link(ctx, f, "situatedWithin", within)
    return f


def encode_admin_unit_name(row, ctx: Context) -> etree._Element:
    """ad:AdminUnitNameType: the component's elements, name, level, adminUnit (nil: no au:AdministrativeUnit
    is served)."""
    teryt = row.teryt
    if row.level == "voivodeship":
        within = f"{COUNTRY_FID_KEY}.{row.country_pk}" if row.country_pk else None
    else:
        within = f"{UNIT_KEY}.{row.parent_id}" if row.parent_id else None
    f = _component(ctx, "AdminUnitName", f"{UNIT_KEY}.{row.pk}", UNIT_KEY, teryt, teryt, None, None, within)
    geographical_name(ctx, f, AD, "name", row.name, "TERYT")
    _code(ctx, f, AD, "level", "AdministrativeHierarchyLevel", ADMIN_LEVEL[row.level])
    ctx.nil(f, AD, "adminUnit")
    return f


def encode_country(row, ctx: Context) -> etree._Element:
    fid = f"{COUNTRY_FID_KEY}.{row.pk}"
    f = _component(ctx, "AdminUnitName", fid, UNIT_KEY, COUNTRY_KEY, COUNTRY_KEY, None, None, None)
    geographical_name(ctx, f, AD, "name", COUNTRY_NAME)
    _code(ctx, f, AD, "level", "AdministrativeHierarchyLevel", "1stOrder")
    ctx.nil(f, AD, "adminUnit")
    return f


def encode_address_area_name(row, ctx: Context) -> etree._Element:
    """ad:AddressAreaNameType: the component's elements, name, (namedPlace)."""
    key = area_key(row.teryt_gmina, row.simc, row.locality)
    within = f"{UNIT_KEY}.{row.gmina_pk}" if row.gmina_pk else None
    f = _component(
        ctx,
        "AddressAreaName",
        f"{AREA_KEY}.{row.pk}",
        AREA_KEY,
        key,
        row.simc,
        row.first_version,
        row.first_start,
        within,
    )
    geographical_name(ctx, f, AD, "name", row.locality, "TERYT")
    return f


def encode_thoroughfare_name(row, ctx: Context) -> etree._Element:
    """ad:ThoroughfareNameType: the component's elements, name/ThoroughfareNameValue/name, (transportLink)."""
    key = street_key(row.teryt_gmina, row.simc, row.locality, row.street)
    within = f"{AREA_KEY}.{row.area_pk}" if row.area_pk else None
    f = _component(
        ctx,
        "ThoroughfareName",
        f"{STREET_KEY}.{row.pk}",
        STREET_KEY,
        key,
        row.ulic,
        row.first_version,
        row.first_start,
        within,
    )
    value = ctx.el(ctx.el(f, AD, "name"), AD, "ThoroughfareNameValue")
    geographical_name(ctx, value, AD, "name", row.street, "TERYT")
    return f


def encode_postal_descriptor(row, ctx: Context) -> etree._Element:
    """ad:PostalDescriptorType: the component's elements, (postName), postCode."""
    fid = f"{POSTAL_KEY}.{row.pk}"
    f = _component(
        ctx, "PostalDescriptor", fid, POSTAL_KEY, row.postcode, "", row.first_version, row.first_start, None
    )
    ctx.el(f, AD, "postCode", row.postcode)
    return f


def _type(local: str, title_pl: str, title_en: str, parts: tuple[Source, ...], geometry_type: str, **extra):
    return InspireType(
        typename=f"ad:{local}",
        namespace=AD,
        schema_location=SCHEMA,
        local_schema=LOCAL_SCHEMA,
        dataset=DATASET,
        title_pl=title_pl,
        title_en=title_en,
        queryset=parts[0].queryset,
        encode=parts[0].encode,
        geometry_type=geometry_type,
        layer=LAYER,
        parts=parts,
        extra=extra,
    )


# what FES filters and SORTBY may name on ad:Address (ogc/wfs/inspire.py)
_P = {"ad": AD, "base": BASE_NS, "gn": GN}
ADDRESS_FILTERABLE = (
    filterable("ad:inspireId/base:Identifier/base:localId", "local_id", namespaces=_P),
    filterable(
        "ad:locator/ad:AddressLocator/ad:designator/ad:LocatorDesignator/ad:designator",
        "number",
        namespaces=_P,
    ),
    filterable("ad:position/ad:GeographicPosition/ad:geometry", "geom", "geometry", namespaces=_P),
    filterable("ad:validFrom", "start_object", "datetime", namespaces=_P),
    filterable("ad:beginLifespanVersion", "start_version", "datetime", namespaces=_P),
)
ADDRESS = _type(
    "Address",
    "Adresy (INSPIRE)",
    "Addresses (INSPIRE)",
    (Source(ADDRESS_KEY, addresses, encode_address, ADDRESS_FILTERABLE),),
    "Point",
    abstract_pl="Punkty adresowe gminnej ewidencji miejscowości, ulic i adresów (EMUiA) w schemacie INSPIRE "
    "Adresy 4.0, z odnośnikami do ich składników (nazw jednostek administracyjnych, miejscowości, ulic, kodów "
    "pocztowych).",
    abstract_en="Address points of the gmina register of localities, streets and addresses (EMUiA) in the INSPIRE "
    "Addresses 4.0 schema, linked to their components (administrative unit, locality and street names, postcodes).",
)
# what FES filters and SORTBY may name on the components: their names, codes and dates as written (no
# geometry: the schema gives them none; no localId: a UUID derived in Python, `component_id`)
_SPELLING = "gn:GeographicalName/gn:spelling/gn:SpellingOfName/gn:text"
_ALTERNATIVE = "ad:alternativeIdentifier"


def _text(value: str) -> Value:
    return Value(value, output_field=CharField())


def _dates(*more):
    """The lifespan and validity of a locality, street or postcode: its address points' earliest."""
    return (
        *more,
        filterable("ad:beginLifespanVersion", "first_version", "datetime", namespaces=_P),
        filterable("ad:validFrom", "first_start", "datetime", namespaces=_P),
    )


# ad:level is compared by its code (the xlink:title written: 1stOrder … 4thOrder, which sort by level);
# the country (one row) takes constants
COUNTRY_FILTERABLE = (
    filterable(f"ad:name/{_SPELLING}", "inspire_name", "string", _text(COUNTRY_NAME), namespaces=_P),
    filterable("ad:level", "inspire_level", "string", _text("1stOrder"), namespaces=_P),
    filterable(_ALTERNATIVE, "inspire_alternative", "string", _text(COUNTRY_KEY), namespaces=_P),
)
ADMIN_UNIT_FILTERABLE = (
    filterable(f"ad:name/{_SPELLING}", "name", namespaces=_P),
    filterable(
        "ad:level",
        "inspire_level",
        "string",
        Case(
            *(When(level=level, then=_text(code)) for level, code in ADMIN_LEVEL.items()),
            output_field=CharField(),
        ),
        namespaces=_P,
    ),
    filterable(_ALTERNATIVE, "teryt", namespaces=_P),
)
AREA_FILTERABLE = _dates(
    filterable(f"ad:name/{_SPELLING}", "locality", namespaces=_P),
    filterable(_ALTERNATIVE, "simc", namespaces=_P),
)
STREET_FILTERABLE = _dates(
    filterable(f"ad:name/ad:ThoroughfareNameValue/ad:name/{_SPELLING}", "street", namespaces=_P),
    filterable(_ALTERNATIVE, "ulic", namespaces=_P),
)
POSTAL_FILTERABLE = _dates(filterable("ad:postCode", "postcode", namespaces=_P))
# The components have no geometry of their own in the schema; the rows they are served as (address points,
# administrative units) have one, which is what a BBOX selects them by.
ADMIN_UNIT_NAME = _type(
    "AdminUnitName",
    "Nazwy jednostek administracyjnych adresów (INSPIRE)",
    "Administrative unit names of the addresses (INSPIRE)",
    (
        Source(COUNTRY_FID_KEY, country, encode_country, COUNTRY_FILTERABLE),
        Source(UNIT_KEY, admin_units, encode_admin_unit_name, ADMIN_UNIT_FILTERABLE),
    ),
    "MultiPolygon",
)
ADDRESS_AREA_NAME = _type(
    "AddressAreaName",
    "Nazwy miejscowości adresów (INSPIRE)",
    "Address area names (INSPIRE)",
    (Source(AREA_KEY, areas, encode_address_area_name, AREA_FILTERABLE),),
    "Point",
)
THOROUGHFARE_NAME = _type(
    "ThoroughfareName",
    "Nazwy ulic (INSPIRE)",
    "Thoroughfare names (INSPIRE)",
    (Source(STREET_KEY, streets, encode_thoroughfare_name, STREET_FILTERABLE),),
    "Point",
)
POSTAL_DESCRIPTOR = _type(
    "PostalDescriptor",
    "Kody pocztowe (INSPIRE)",
    "Postal descriptors (INSPIRE)",
    (Source(POSTAL_KEY, postal_descriptors, encode_postal_descriptor, POSTAL_FILTERABLE),),
    "Point",
)

TYPES = (ADDRESS, ADMIN_UNIT_NAME, ADDRESS_AREA_NAME, THOROUGHFARE_NAME, POSTAL_DESCRIPTOR)
