"""pygeoapi's configuration, generated from the layer catalogue (never a hand-edited YAML), and the
API object, built once per process and rebuilt only when the public URL or the data changes."""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings

from layers.catalogue import layer_names
from layers.selectors import data_version, layer_extents

from .. import metadata
from ..common.crs import transform_extent
from ..features.featuretypes import FeatureType, feature_types
from . import adapter, inspire, records

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
STORAGE_CRS = "http://www.opengis.net/def/crs/EPSG/0/2180"
CRS_LIST = [
    CRS84,
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "http://www.opengis.net/def/crs/EPSG/0/4258",
    STORAGE_CRS,
    "http://www.opengis.net/def/crs/EPSG/0/2178",
    "http://www.opengis.net/def/crs/EPSG/0/3857",
]
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
PROVIDER = "ogc.ogcapi.provider.GisportalProvider"
FEATURE_SCHEMA_PROFILE = "geojson-feature"
# our HTML templates (pygeoapi's put feature properties into inline scripts and load CDN assets); pygeoapi
# looks here first and falls back to its own only for templates we do not have (JSON-LD)
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates" / "pygeoapi"
STATIC_DIR = Path(__file__).resolve().parent / "static"  # in STATICFILES_DIRS; vendor/ is copied at set-up

_lock = threading.Lock()
_api: tuple[tuple, object] | None = None


class _Anonymous:
    """The OGC API publishes what anyone may read (no per-user collections)."""

    is_authenticated = False

    def has_perm(self, perm: str) -> bool:
        return perm == "gisportal.view_public_layers"


def base_url() -> str:
    return f"{settings.GISPORTAL_PUBLIC_URL}/ogcapi"


def feature_schema_url(collection: str) -> str:
    """The JSON Schema of one GeoJSON feature of a collection (schema.py), linked as `describedby`: GDAL's
    OAPIF driver types the fields from it instead of guessing from the first page, where a column that is
    null on the first ten features (NUMER_ARKUSZA) became a string. GDAL up to 3.6 compares the relation
    type case-sensitively with "describedBy" (relation types are case-insensitive, RFC 8288)."""
    return f"{base_url()}/collections/{collection}/schema?profile={FEATURE_SCHEMA_PROFILE}"


def _collection(ft: FeatureType, extent) -> dict:
    layer = ft.layer
    lon0, lat0, lon1, lat1 = _lonlat(extent)
    return {
        "type": "collection",
        "title": {"pl": layer.title_pl, "en": layer.title_en},
        "description": {"pl": layer.abstract_pl, "en": layer.abstract_en},
        "keywords": list(layer.keywords) or [layer.name],
        "links": [
            {
                "type": "application/schema+json",
                "rel": "describedBy",
                "href": feature_schema_url(layer.name),
                "title": {
                    "pl": "Schemat obiektów GeoJSON (JSON Schema)",
                    "en": "Schema of the GeoJSON features (JSON Schema)",
                },
            },
            {  # the data set's ISO 19139 record (the same as WFS/WMS MetadataURL and the CSW's)
                "type": "application/xml",
                "rel": "describedby",
                "href": metadata.record_url(layer),
                "title": {"pl": "Metadane ISO 19139", "en": "ISO 19139 metadata"},
            },
        ],
        "extents": {
            "spatial": {
                "bbox": [round(lon0, 6), round(lat0, 6), round(lon1, 6), round(lat1, 6)],
                "crs": CRS84,
            },
            # the version date of registry objects is what `datetime` filters (open interval)
            **({"temporal": {"begin": None, "end": None}} if ft.temporal_attribute else {}),
        },
        "limits": {"default_items": DEFAULT_LIMIT, "max_items": MAX_LIMIT, "on_exceed": "throttle"},
        "providers": [
            {
                "type": "feature",
                "name": PROVIDER,
                "data": layer.name,
                "id_field": layer.id_attribute,
                "geom_field": "geometry",
                "storage_crs": STORAGE_CRS,
                "crs": CRS_LIST,
                **({"time_field": ft.temporal_attribute.name} if ft.temporal_attribute else {}),
            }
        ],
    }


def _lonlat(extent) -> tuple[float, float, float, float]:
    return transform_extent(extent, 4326) if extent else (20.8, 51.9, 21.3, 52.2)


def pygeoapi_config() -> dict:
    extents = layer_extents()
    readable = feature_types(_Anonymous())
    return {
        "server": {
            "bind": {"host": "127.0.0.1", "port": 0},
            "url": base_url(),
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "gzip": False,
            "languages": ["pl", "en"],
            "pretty_print": False,
            "limits": {"default_items": DEFAULT_LIMIT, "max_items": MAX_LIMIT, "on_exceed": "throttle"},
            "map": {"url": "", "attribution": ""},
            "templates": {"path": str(TEMPLATES_DIR), "static": str(STATIC_DIR)},
            # read by our templates only: our static files, and the portal (its WMS under the pages' maps)
            "static_url": settings.STATIC_URL,
            "portal_url": settings.GISPORTAL_PUBLIC_URL,
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": {
                    "pl": "Rejestry przestrzenne gminy Piaseczno – OGC API",
                    "en": "Spatial registries of Piaseczno – OGC API",
                },
                "description": {
                    "pl": "Obiekty ewidencji gruntów i budynków, adresy, plany miejscowe i granice (dane jawne).",
                    "en": "Land register objects, addresses, zoning plans and boundaries (public data).",
                },
                "keywords": ["EGiB", "MPZP", "PRG", "Piaseczno"],
                "keywords_type": "theme",
                "terms_of_service": "",
                "url": settings.GISPORTAL_PUBLIC_URL + "/",
            },
            "license": {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {
                "name": "Urząd Miasta i Gminy Piaseczno",
                "url": settings.GISPORTAL_PUBLIC_URL + "/",
            },
            "contact": {
                "name": "Administrator geoportalu",
                "email": "urzad@piaseczno.eu",
                "city": "Piaseczno",
                "country": "Polska",
                "role": "pointOfContact",
            },
        },
        "resources": {
            **{ft.name: _collection(ft, extents.get(ft.name)) for ft in readable},
            # the harmonised INSPIRE types (inspire.py), with the extent of their national layer
            **{
                cid: inspire.collection_config(cid, t, _lonlat(extents.get(t.layer)))
                for cid, t in inspire.collections({ft.name for ft in readable})
            },
            records.COLLECTION: records.collection_config(),  # OGC API – Records (records.py)
        },
    }


FILTER_PARAMETERS = [
    {
        "name": "filter",
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "description": "CQL2 filter (OGC API – Features Part 3) over the collection's queryables.",
        "schema": {"type": "string"},
    },
    {
        "name": "filter-lang",
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "description": "Language of `filter`: cql2-text (default) or cql2-json.",
        "schema": {"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"},
    },
    {
        "name": "filter-crs",
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "description": "CRS of the geometry literals in `filter` (default CRS84).",
        "schema": {"type": "string", "format": "uri"},
    },
]


def _datetime_parameter(temporal: str | None) -> dict:
    """`datetime` of one collection's items (Part 1 /req/core/fc-time-definition): declared for every
    collection, also those without a temporal property, which any valid value leaves whole."""
    what = (
        f"Selects the features whose {temporal} lies in the instant or interval."
        if temporal
        else "This collection has no temporal property: any valid date-time or interval selects all its features."
    )
    return {
        "name": "datetime",
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "description": f"An RFC 3339 date-time or an interval of two (`..` for an open end). {what} "
        "An invalid value is a 400.",
        "schema": {"type": "string"},
    }


def _document_items(oas: dict, config: dict) -> dict:
    """pygeoapi's OpenAPI document declares `datetime` only for collections with time (through a remote
    $ref), declares free-form parameters that we refuse (OGC.md §3 O4: unknown parameters are a 400) and
    leaves out the Part 3 filter parameters: each items operation gets what it takes."""
    for path, item in oas.get("paths", {}).items():
        get = item.get("get") if path.endswith("/items") else None
        if get is None:
            continue
        name = path.split("/")[-2]
        provider = config["resources"].get(name, {}).get("providers", [{}])[0]
        params = [
            p
            for p in get.get("parameters", [])
            if not str(p.get("$ref", "")).endswith(
                ("/parameters/datetime", "/parameters/vendorSpecificParameters")
            )
        ]
        params.append(_datetime_parameter(provider.get("time_field")))
        names = {p.get("name") for p in params}
        params.extend(p for p in FILTER_PARAMETERS if p["name"] not in names)
        get["parameters"] = params
    return oas


def api():
    """The pygeoapi API object of this process (OpenAPI document included), built on first use."""
    global _api
    key = (base_url(), data_version(), layer_names())  # a new catalogue entry is served without a restart
    with _lock:
        if _api is None or _api[0] != key:
            from pygeoapi.api import API
            from pygeoapi.openapi import get_oas

            adapter.install()  # our bbox, filter, conformance and translations in pygeoapi (adapter.py)
            config = pygeoapi_config()
            _api = (key, API(config, _document_items(get_oas(config), config)))
            adapter.forget_translated_config()
        return _api[1]
