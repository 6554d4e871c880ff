"""OGC API – Features collections of the harmonised INSPIRE types (issue 28): cp:CadastralParcel,
cp:CadastralZoning, ad:Address and bu-core2d:Building, read from the same rows as the WFS serves them in GML
(ogc/inspire: each type's `sources`), as GeoJSON features in the INSPIRE alternative encoding.

The encoding follows the INSPIRE good practice "INSPIRE UML-to-GeoJSON encoding rule" (MIG action 2017.2,
INSPIRE-MIF/2017.2 GeoJSON/geojson-encoding-rule.md) and, for addresses, its "Simple Addresses" rule
(GeoJSON/ads/simple-addresses.md), flat properties with "." as the separator:
- property names are the INSPIRE names, without namespace prefixes (nationalCadastalZoningReference keeps the
  schema's spelling);
- inspireId → `inspireId.localId`, `inspireId.namespace`, `inspireId.versionId` (general flattening, MT001);
- a code list value → its value and `<name>.href`, the registry URI (simple code list reference, MT008);
- a measure → its value and `<name>.uom` (areaValue.uom = "m2");
- a geographical name or localised string → `<name>.<language>` (simple geographical name, MT005);
- an association to a feature served here (zoning, upperLevelUnit) → the URL of that feature in its OGC API
  collection; the address components are inlined by type name (`component.ThoroughfareName`, …,
  `component.AdminUnitName_<level>`, MT003) and the locator designators by their type
  (`locator.designator.addressNumber`, MT004);
- a void (nil) property is left out (the rule keeps nilReason in the data set metadata);
- the one geometry is the GeoJSON geometry (parcel and zoning: geometry, address: position, building:
  geometry2D); the reference point of parcels and zonings is not repeated;
- the feature id is the feature's gml:id in the WFS (CadastralParcel.<pk>, CadastralZoning.precinct.<pk>, …).

The collections are not catalogue layers: they are absent from the map portal; anyone who may read the
national layer a type belongs to (InspireType.layer) may read them. Only public registry models are read: no
personal data. Features are in CRS84 by default, in ETRS89 (EPSG:4258) and EPSG:2180 on request, axis order per
OGC.md §2 (EPSG URIs in the authority order: lat/lon, northing/easting).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import orjson
from django.conf import settings
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.db.models import Q
from pygeoapi.provider.base import BaseProvider, ProviderInvalidQueryError, ProviderItemNotFoundError

from .. import metadata
from ..common.crs import InvalidCRS, Protocol, parse_crs
from ..features.query import decimals_for
from ..inspire import ad, bu, cp
from ..inspire.base import STORAGE_SRID, InspireType, Source, iso_datetime
from ..inspire.registry import by_typename
from .bbox import BBoxError, BBoxFilter, box_filter

PROVIDER = "ogc.ogcapi.inspire.InspireProvider"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
STORAGE_CRS = "http://www.opengis.net/def/crs/EPSG/0/2180"
# CRS84 (the GeoJSON default), ETRS89 (the INSPIRE CRS) and the national PL-1992
CRS_LIST = [CRS84, "http://www.opengis.net/def/crs/EPSG/0/4258", STORAGE_CRS]
GML32 = "application/gml+xml; version=3.2"
FEATURE_SCHEMA_PROFILE = "geojson-feature"  # the same profile as the national collections' (config.py)
GOOD_PRACTICE = "https://github.com/INSPIRE-MIF/2017.2/blob/master/GeoJSON/geojson-encoding-rule.md"

PARCELS = "cp.cadastralparcel"
ZONINGS = "cp.cadastralzoning"
ADDRESSES = "ad.address"
BUILDINGS = "bu-core2d.building"


def collection_id(t: InspireType) -> str:
    """cp:CadastralParcel → cp.cadastralparcel (lower case, no colon: a path segment in any client)."""
    return t.typename.replace(":", ".").lower()


def base_url() -> str:
    return f"{settings.GISPORTAL_PUBLIC_URL}/ogcapi"


def item_url(collection: str, fid: str) -> str:
    return f"{base_url()}/collections/{collection}/items/{quote(fid)}"


def _dt(value) -> str | None:
    return iso_datetime(value) if value is not None else None


def _version_id(row) -> str | None:
    """The versionId the GML writes: wersjaId, or the version start (IIP convention)."""
    if row.version_id:
        return row.version_id
    if row.start_version is not None:
        return row.start_version.strftime("%Y%m%dT%H%M%S")
    return None


def _identity(row) -> dict:
    return {
        "inspireId.localId": row.local_id,
        "inspireId.namespace": settings.GISPORTAL_INSPIRE_NAMESPACE,
        "inspireId.versionId": _version_id(row),
    }


def _code(name: str, codelist: str, value: str | None) -> dict:
    if not value:
        return {}
    return {name: value, f"{name}.href": f"{codelist}/{value}"}


def _number(value: Decimal) -> int | float:
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


# ---- the mapping of each type: one row (of the type's sources) → flat properties --------------------
class Page:
    """What the rows of one response share, read once per page (the address components' unit names)."""

    def __init__(self, rows):
        self.rows = rows
        self._unit_names: dict[int, str] | None = None

    def unit_name(self, pk: int | None) -> str | None:
        if pk is None:
            return None
        if self._unit_names is None:
            from layers.models import AdministrativeUnit

            pks = {
                getattr(r, a)
                for r in self.rows
                for a in ("voivodeship_pk", "county_pk", "gmina_pk")
                if getattr(r, a, None) is not None
            }
            self._unit_names = dict(AdministrativeUnit.objects.filter(pk__in=pks).values_list("pk", "name"))
        return self._unit_names.get(pk)


def parcel(row, page: Page) -> dict:
    return {
        **_identity(row),
        "areaValue": _number(row.area_ha * 10_000),
        "areaValue.uom": "m2",
        "beginLifespanVersion": _dt(row.start_version),
        "label": row.number,
        "nationalCadastralReference": row.parcel_id,
        "validFrom": _dt(row.start_object),
        "validTo": _dt(row.end_object),
        "zoning": item_url(ZONINGS, f"{cp.PRECINCT_KEY}.{row.precinct_id}") if row.precinct_id else None,
    }


def _zoning(row, level: str, label: str, reference: str, upper: str | None) -> dict:
    names = {f"levelName.{lang[:3]}": text for lang, text in cp.LEVEL_NAMES[level]}
    return {
        **_identity(row),
        "beginLifespanVersion": _dt(row.start_version),
        "label": label,
        **_code("level", cp.LEVELS, level),
        **names,
        "name.pol": row.name or None,
        "nationalCadastalZoningReference": reference,
        "validFrom": _dt(row.start_object),
        "validTo": _dt(row.end_object),
        "upperLevelUnit": item_url(ZONINGS, upper) if upper else None,
    }


def unit(row, page: Page) -> dict:
    return _zoning(row, "1stOrder", row.unit_id, row.unit_id, None)


def precinct(row, page: Page) -> dict:
    return _zoning(row, "2ndOrder", row.number, row.precinct_id, f"{cp.UNIT_KEY}.{row.unit_id}")


def address(row, page: Page) -> dict:
    codes = ad.CODELIST
    designators = {f"locator.designator.{kind}": text for text, kind in ad.designators(row.number)}
    status = ad.STATUS.get((row.status or "").strip().lower())
    return {
        **_identity(row),
        **_code("position.specification", f"{codes}/GeometrySpecificationValue", "building"),
        **_code("position.method", f"{codes}/GeometryMethodValue", "byAdministrator"),
        "position.default": True,
        **_code("status", f"{codes}/StatusValue", status),
        **designators,
        **_code("locator.level", f"{codes}/LocatorLevelValue", "siteLevel"),
        "validFrom": _dt(row.start_object),
        "validTo": _dt(row.end_object),
        "beginLifespanVersion": _dt(row.start_version),
        "endLifespanVersion": _dt(row.end_version),
        # the components, most general first (AdministrativeHierarchyLevel n → AdminUnitName_n)
        "component.AdminUnitName_1": ad.COUNTRY_NAME if row.country_pk else None,
        "component.AdminUnitName_2": page.unit_name(row.voivodeship_pk),
        "component.AdminUnitName_3": page.unit_name(row.county_pk),
        "component.AdminUnitName_4": page.unit_name(row.gmina_pk),
        "component.AddressAreaName": row.locality or None,
        "component.ThoroughfareName": row.street or None,
        "component.PostalDescriptor": row.postcode or None,
    }


def building(row, page: Page) -> dict:
    codes = bu.CODELIST
    return {
        **_identity(row),
        "beginLifespanVersion": _dt(row.start_version),
        "endLifespanVersion": _dt(row.end_version),
        **_code("conditionOfConstruction", f"{codes}/ConditionOfConstructionValue", "functional"),
        "externalReference.informationSystem": bu.CADASTRE_SYSTEM,
        "externalReference.informationSystemName": bu.CADASTRE_SYSTEM_NAME,
        "externalReference.reference": row.building_id,
        **_code("currentUse", f"{codes}/CurrentUseValue", bu.CURRENT_USE.get(row.kst_type)),
        "numberOfFloorsAboveGround": row.storeys_above,
        "geometry2D.referenceGeometry": True,
        **_code(
            "geometry2D.horizontalGeometryReference", f"{codes}/HorizontalGeometryReferenceValue", "footPrint"
        ),
    }


STR, INT, NUM, BOOL, DT, URI = (
    {"type": "string"},
    {"type": "integer"},
    {"type": "number"},
    {"type": "boolean"},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "uri"},
)
IDENTITY = {"inspireId.localId": STR, "inspireId.namespace": STR, "inspireId.versionId": STR}
ZONING_FIELDS = {
    **IDENTITY,
    "beginLifespanVersion": DT,
    "label": STR,
    "level": STR,
    "level.href": URI,
    "levelName.pol": STR,
    "levelName.eng": STR,
    "name.pol": STR,
    "nationalCadastalZoningReference": STR,
    "validFrom": DT,
    "validTo": DT,
    "upperLevelUnit": URI,
}


@dataclass(frozen=True)
class Mapping:
    """How a type's features are written: the properties of a row of each source (by Source.key) and the
    JSON Schema of every property a feature may have."""

    properties: dict[str, Callable[[object, Page], dict]]
    fields: dict[str, dict]


MAPPINGS: dict[str, Mapping] = {
    PARCELS: Mapping(
        {cp.PARCEL_KEY: parcel},
        {
            **IDENTITY,
            "areaValue": NUM,
            "areaValue.uom": STR,
            "beginLifespanVersion": DT,
            "label": STR,
            "nationalCadastralReference": STR,
            "validFrom": DT,
            "validTo": DT,
            "zoning": URI,
        },
    ),
    ZONINGS: Mapping({cp.UNIT_KEY: unit, cp.PRECINCT_KEY: precinct}, ZONING_FIELDS),
    ADDRESSES: Mapping(
        {ad.ADDRESS_KEY: address},
        {
            **IDENTITY,
            "position.specification": STR,
            "position.specification.href": URI,
            "position.method": STR,
            "position.method.href": URI,
            "position.default": BOOL,
            "status": STR,
            "status.href": URI,
            "locator.designator.addressNumber": STR,
            "locator.designator.addressNumberExtension": STR,
            "locator.designator.addressIdentifierGeneral": STR,
            "locator.level": STR,
            "locator.level.href": URI,
            "validFrom": DT,
            "validTo": DT,
            "beginLifespanVersion": DT,
            "endLifespanVersion": DT,
            "component.AdminUnitName_1": STR,
            "component.AdminUnitName_2": STR,
            "component.AdminUnitName_3": STR,
            "component.AdminUnitName_4": STR,
            "component.AddressAreaName": STR,
            "component.ThoroughfareName": STR,
            "component.PostalDescriptor": STR,
        },
    ),
    BUILDINGS: Mapping(
        {bu.BUILDING_KEY: building},
        {
            **IDENTITY,
            "beginLifespanVersion": DT,
            "endLifespanVersion": DT,
            "conditionOfConstruction": STR,
            "conditionOfConstruction.href": URI,
            "externalReference.informationSystem": URI,
            "externalReference.informationSystemName": STR,
            "externalReference.reference": STR,
            "currentUse": STR,
            "currentUse.href": URI,
            "numberOfFloorsAboveGround": INT,
            "geometry2D.referenceGeometry": BOOL,
            "geometry2D.horizontalGeometryReference": STR,
            "geometry2D.horizontalGeometryReference.href": URI,
        },
    ),
}
TYPENAMES = {
    PARCELS: "cp:CadastralParcel",
    ZONINGS: "cp:CadastralZoning",
    ADDRESSES: "ad:Address",
    BUILDINGS: "bu-core2d:Building",
}


def inspire_type(collection: str) -> InspireType | None:
    name = TYPENAMES.get(collection)
    return by_typename(name) if name else None


def is_inspire(collection: str) -> bool:
    return collection in TYPENAMES


def collections(readable_layers: set[str]) -> list[tuple[str, InspireType]]:
    """(collection id, type) of the INSPIRE collections whose national layer is in `readable_layers`."""
    out = []
    for cid in TYPENAMES:
        t = inspire_type(cid)
        if t is not None and t.layer in readable_layers:
            out.append((cid, t))
    return out


# ---- the collections' configuration (pygeoapi resources) ------------------------------------------
def wfs_url(t: InspireType) -> str:
    """The type's GML 3.2 through the WFS (the first page of GetFeature; the INSPIRE stored query gives the
    whole data set)."""
    query = urlencode(
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "TYPENAMES": t.typename,
            "NAMESPACES": f"xmlns({t.prefix},{t.namespace})",
        }
    )
    return f"{settings.GISPORTAL_PUBLIC_URL}/ows?{query}"


def feature_schema_url(collection: str) -> str:
    return f"{base_url()}/collections/{collection}/schema?profile={FEATURE_SCHEMA_PROFILE}"


def record_url(t: InspireType) -> str | None:
    """The ISO 19139 record of the type's INSPIRE data set (CP, AD, BU)."""
    return metadata.dataset_record_url(t.dataset)


def collection_config(cid: str, t: InspireType, extent_lonlat) -> dict:
    """One pygeoapi resource: titles and abstracts of the type, the extent of its national layer, links to
    the feature schema, the GML of the WFS and the data set's ISO 19139 record."""
    lon0, lat0, lon1, lat1 = extent_lonlat
    links = [
        {
            "type": "application/schema+json",
            "rel": "describedBy",  # GDAL ≤ 3.6 matches this case (config.feature_schema_url)
            "href": feature_schema_url(cid),
            "title": {
                "pl": "Schemat obiektów GeoJSON (JSON Schema)",
                "en": "Schema of the GeoJSON features (JSON Schema)",
            },
        },
        {
            "type": GML32,
            "rel": "alternate",
            "href": wfs_url(t),
            "title": {
                "pl": f"{t.typename} w GML 3.2 (usługa pobierania WFS, schemat INSPIRE)",
                "en": f"{t.typename} in GML 3.2 (WFS download service, INSPIRE schema)",
            },
        },
        {
            "type": "text/html",
            "rel": "describedby",
            "href": GOOD_PRACTICE,
            "title": {
                "pl": "Reguła kodowania INSPIRE w GeoJSON (dobra praktyka)",
                "en": "INSPIRE UML-to-GeoJSON encoding rule (good practice)",
            },
        },
    ]
    record = record_url(t)
    if record:  # the data set's ISO 19139 record (the WFS MetadataURL of the type)
        links.append(
            {
                "type": "application/xml",
                "rel": "describedby",
                "href": record,
                "title": {"pl": "Metadane ISO 19139", "en": "ISO 19139 metadata"},
            }
        )
    return {
        "type": "collection",
        "title": {"pl": t.title_pl, "en": t.title_en},
        "description": {
            "pl": t.extra.get("abstract_pl") or t.title_pl,
            "en": t.extra.get("abstract_en") or t.title_en,
        },
        "keywords": ["INSPIRE", t.typename, t.dataset],
        "links": links,
        "extents": {
            "spatial": {
                "bbox": [round(lon0, 6), round(lat0, 6), round(lon1, 6), round(lat1, 6)],
                "crs": CRS84,
            }
        },
        "limits": {"default_items": 100, "max_items": 10_000, "on_exceed": "throttle"},
        "providers": [
            {
                "type": "feature",
                "name": PROVIDER,
                "data": cid,
                "id_field": "id",
                "geom_field": "geometry",
                "storage_crs": STORAGE_CRS,
                "crs": CRS_LIST,
            }
        ],
    }


def feature_schema(cid: str) -> dict:
    """A JSON Schema of one GeoJSON feature of the collection (for GDAL's OAPIF driver, like config.py's)."""
    t = inspire_type(cid)
    geometry = {"MultiPolygon": "MultiPolygon", "Point": "Point"}.get(t.geometry_type, "Geometry")
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": feature_schema_url(cid),
        "title": t.title_en,
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": {"$ref": f"https://geojson.org/schema/{geometry}.json"},
            "properties": {"type": "object", "properties": MAPPINGS[cid].fields},
        },
    }


# ---- the provider ---------------------------------------------------------------------------------
def _swap(coords):
    """GeoJSON coordinates with the first two axes swapped (EPSG URIs of north-first CRSs, OGC.md §2)."""
    if coords and isinstance(coords[0], (int, float)):
        return [coords[1], coords[0], *coords[2:]]
    return [_swap(c) for c in coords]


class InspireProvider(BaseProvider):
    """pygeoapi's feature provider over one INSPIRE type: its sources one after another (cp:CadastralZoning:
    the cadastral units, then the precincts), each in primary key order. bbox and the CRS as for the national
    collections (bbox.py, OGC.md §2); `filter`, `sortby` and property filters are not offered (a 400), as the
    WFS offers no FILTER for these types."""

    def __init__(self, provider_def):
        super().__init__(provider_def)
        self.collection = provider_def["data"]
        self.itype = inspire_type(self.collection)
        self.mapping = MAPPINGS[self.collection]
        self._fields = self.get_fields()

    def get_fields(self) -> dict:
        return {k: dict(v) for k, v in self.mapping.fields.items()}

    # ---- pieces
    def _crs(self, spec):
        uri = spec.target_crs_uri if spec is not None else STORAGE_CRS
        try:
            return parse_crs(uri, Protocol.OGCAPI)
        except InvalidCRS as e:
            raise ProviderInvalidQueryError(user_msg=str(e.message)) from None

    @staticmethod
    def _where(bbox) -> Q:
        if not bbox:
            return Q()
        try:
            spatial = (
                bbox
                if isinstance(bbox, BBoxFilter)
                else box_filter(bbox, parse_crs(STORAGE_CRS, Protocol.OGCAPI))
            )
        except BBoxError as e:
            raise ProviderInvalidQueryError(user_msg=str(e)) from None
        if spatial.geometry is None:
            return Q(pk__isnull=True)
        return Q(geom__intersects=spatial.geometry)

    @staticmethod
    def _rows(source: Source, where: Q, crs, with_geometry: bool):
        qs = source.queryset().filter(where).order_by("pk")
        if with_geometry:
            srid = crs.srid
            geom = "geom" if srid == STORAGE_SRID else Transform("geom", srid)
            qs = qs.annotate(ogcapi_geojson=AsGeoJSON(geom, precision=decimals_for(srid)))
        return qs

    def _feature(self, source: Source, row, page: Page, crs, with_geometry: bool, select) -> dict:
        props = {k: v for k, v in self.mapping.properties[source.key](row, page).items() if v is not None}
        if select:
            props = {k: v for k, v in props.items() if k in select}
        geometry = None
        if with_geometry and row.ogcapi_geojson:
            geometry = orjson.loads(row.ogcapi_geojson)
            if crs.swap(Protocol.OGCAPI):
                geometry["coordinates"] = _swap(geometry["coordinates"])
        return {"type": "Feature", "id": source.fid(row.pk), "geometry": geometry, "properties": props}

    def _features(self, chunks, crs, with_geometry: bool, select) -> list[dict]:
        page = Page([row for _source, rows in chunks for row in rows])
        return [
            self._feature(source, row, page, crs, with_geometry, select)
            for source, rows in chunks
            for row in rows
        ]

    # ---- the provider interface
    def query(
        self,
        offset=0,
        limit=10,
        resulttype="results",
        bbox=None,
        datetime_=None,
        properties=None,
        sortby=None,
        select_properties=None,
        skip_geometry=False,
        q=None,
        filterq=None,
        crs_transform_spec=None,
        **kwargs,
    ):
        if filterq is not None or properties:
            raise ProviderInvalidQueryError(
                user_msg="Filters are not offered for INSPIRE collections (bbox is); the national collections "
                "offer them."
            )
        if sortby:
            raise ProviderInvalidQueryError(
                user_msg="sortby is not offered for INSPIRE collections: features come in a fixed order."
            )
        # datetime: these collections have no temporal property; any valid value selects all (the OpenAPI
        # document says so, config._datetime_parameter)
        crs = self._crs(crs_transform_spec)
        where = self._where(bbox)
        offset, limit = int(offset), int(limit)
        sources = self.itype.sources
        if resulttype == "hits":
            matched = sum(s.queryset().filter(where).count() for s in sources)
            return {
                "type": "FeatureCollection",
                "features": [],
                "numberMatched": matched,
                "numberReturned": 0,
            }
        with_geometry = not skip_geometry
        chunks: list[tuple[Source, list]] = []
        if len(sources) == 1:
            source = sources[0]
            rows = list(self._rows(source, where, crs, with_geometry)[offset : offset + limit + 1])
            has_next, rows = len(rows) > limit, rows[:limit]
            chunks.append((source, rows))
            if not has_next and (rows or offset == 0):
                matched = offset + len(rows)
            else:
                matched = source.queryset().filter(where).count()
        else:
            matched, skip, remaining = 0, offset, limit
            for source in sources:
                n = source.queryset().filter(where).count()
                matched += n
                if skip >= n:
                    skip -= n
                    continue
                if remaining > 0:
                    rows = list(self._rows(source, where, crs, with_geometry)[skip : skip + remaining])
                    chunks.append((source, rows))
                    remaining -= len(rows)
                skip = 0
        features = self._features(chunks, crs, with_geometry, set(select_properties or ()))
        return {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": matched,
            "numberReturned": len(features),
        }

    def get(self, identifier, crs_transform_spec=None, **kwargs):
        crs = self._crs(crs_transform_spec)
        key, _sep, pk = str(identifier).rpartition(".")
        source = next((s for s in self.itype.sources if s.key == key), None)
        if source is None or not pk.isdigit() or len(pk) > 18:
            raise ProviderItemNotFoundError(user_msg="No such item.")
        rows = list(self._rows(source, Q(pk=int(pk)), crs, True))
        if not rows:
            raise ProviderItemNotFoundError(user_msg="No such item.")
        return self._features([(source, rows)], crs, True, set())[0]


def without_dangling_next(body: bytes) -> bytes:
    """An items page that ends the collection exactly (numberMatched = offset + numberReturned) without the
    `next` link pygeoapi adds to every full page."""
    doc = orjson.loads(body)
    links = doc.get("links") or []
    matched, returned = doc.get("numberMatched"), doc.get("numberReturned")
    if matched is None or returned is None or not any(x.get("rel") == "next" for x in links):
        return body
    nxt = next(x for x in links if x.get("rel") == "next")
    offset = int(parse_qs(urlsplit(nxt["href"]).query).get("offset", ["0"])[0])
    if offset >= matched:
        doc["links"] = [x for x in links if x.get("rel") != "next"]
        return orjson.dumps(doc)
    return body
