"""OGC API – Records: the collection `metadane` (pygeoapi, type record), one record per published data
set, made from the same description as its ISO 19139 record (ogc/metadata.py): id = the ISO file
identifier, title, description, keywords and the INSPIRE theme, the extent, links to the ISO XML and to
the layer's OGC API collection. No network, no CSW facade: the records are built from our metadata on
each request (a few dozen)."""

from __future__ import annotations

from django.conf import settings
from pygeoapi.provider.base import BaseProvider, ProviderInvalidQueryError, ProviderItemNotFoundError

from layers import metadata as edits
from layers.selectors import layer_extents

from .. import metadata

COLLECTION = "metadane"
PROVIDER = "ogc.ogcapi.records.MetadataRecordsProvider"
RECORD_CORE = "http://www.opengis.net/spec/ogcapi-records-1/1.0/req/record-core"
FIELDS = {
    "type": {"type": "string"},
    "title": {"type": "string"},
    "description": {"type": "string"},
    "keywords": {"type": "string"},
    "updated": {"type": "string", "format": "date"},
    "license": {"type": "string"},
}


def collection_config() -> dict:
    """The pygeoapi resource of the collection (config.py adds it to the generated configuration)."""
    return {
        "type": "collection",
        "title": {"pl": "Metadane zbiorów danych", "en": "Dataset metadata"},
        "description": {
            "pl": "Opisy (ISO 19139) zbiorów danych przestrzennych udostępnianych przez geoportal; "
            "te same rekordy wydaje usługa CSW pod /csw.",
            "en": "Descriptions (ISO 19139) of the spatial data sets the portal publishes; the CSW at "
            "/csw serves the same records.",
        },
        "keywords": ["metadane", "INSPIRE", "ISO 19139"],
        "links": [
            {
                "type": "application/xml",
                "rel": "related",
                "href": f"{settings.GISPORTAL_PUBLIC_URL}/csw?service=CSW&version=2.0.2&request=GetCapabilities",
                "title": {"pl": "Usługa CSW 2.0.2", "en": "CSW 2.0.2 service"},
            }
        ],
        "extents": {
            "spatial": {
                "bbox": list(metadata.DEFAULT_EXTENT),
                "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            }
        },
        "providers": [
            {"type": "record", "name": PROVIDER, "data": COLLECTION, "id_field": "id", "title_field": "title"}
        ],
    }


def record(d: metadata.Description, language: str = "pl") -> dict:
    west, south, east, north = d.bbox
    base = settings.GISPORTAL_PUBLIC_URL
    name = d.layer.name
    properties = {
        "type": "dataset",
        "title": d.title,
        "description": d.abstract,
        "keywords": list(d.keywords),
        "language": {"code": "pl"},
        "updated": d.date,
        "license": d.licence,
        "rights": metadata.ACCESS,
        "contacts": [
            {
                "organization": d.contact_name,
                "emails": [{"value": d.contact_email}],
                "roles": ["pointOfContact"],
            }
        ],
        "formats": [{"name": "GML", "mediaType": "application/gml+xml"}, {"name": "GeoJSON"}],
        "externalIds": [{"scheme": metadata.DATASET_NAMESPACE, "value": name}],
    }
    if d.theme is not None:
        properties["themes"] = [
            {
                "concepts": [{"id": d.theme.code, "title": d.theme.label(language), "url": d.theme.uri}],
                "scheme": edits.INSPIRE_THEME_REGISTER,
            }
        ]
    return {
        "id": d.identifier,
        "type": "Feature",
        "conformsTo": [RECORD_CORE],
        "time": None,
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [round(west, 6), round(south, 6)],
                    [round(east, 6), round(south, 6)],
                    [round(east, 6), round(north, 6)],
                    [round(west, 6), round(north, 6)],
                    [round(west, 6), round(south, 6)],
                ]
            ],
        },
        "properties": properties,
        "links": [
            {
                "rel": "describedby",
                "type": "application/xml",
                "href": metadata.record_url(d.layer),
                "title": "ISO 19139",
            },
            {
                "rel": "item",
                "type": "application/json",
                "href": f"{base}/ogcapi/collections/{name}",
                "title": "OGC API – Features",
            },
            {
                "rel": "item",
                "type": "application/geo+json",
                "href": f"{base}/ogcapi/collections/{name}/items",
                "title": d.title,
            },
        ],
    }


def records(language: str = "pl") -> list[dict]:
    edited = edits.metadata_all()
    extents = layer_extents()
    return [
        record(metadata.describe(layer, language, edited.get(layer.name), extents.get(layer.name)), language)
        for layer in edits.published_layers()
    ]


def _box(bbox) -> tuple[float, float, float, float] | None:
    """The query box in lon/lat: from the filter our view parsed (EPSG:2180), or pygeoapi's numbers."""
    geometry = getattr(bbox, "geometry", False)
    if geometry is None:
        return (0.0, 0.0, -1.0, -1.0)  # outside EPSG:2180's area: selects nothing
    if geometry is not False:
        lon0, lat0, lon1, lat1 = geometry.transform(4326, clone=True).extent
        return (lon0, lat0, lon1, lat1)
    numbers = [float(v) for v in bbox]
    return (numbers[0], numbers[1], numbers[-2], numbers[-1]) if len(numbers) in (4, 6) else None


def _matches(rec: dict, box, words: list[str], properties) -> bool:
    if box is not None:
        (w, s), _, (e, n), *_ = rec["geometry"]["coordinates"][0]
        if w > box[2] or e < box[0] or s > box[3] or n < box[1]:
            return False
    props = rec["properties"]
    text = " ".join(
        [props["title"], props["description"], *props["keywords"]]
        + [c["title"] for t in props.get("themes", []) for c in t["concepts"]]
    ).casefold()
    if words and not any(w in text for w in words):
        return False
    for name, value in properties or []:
        have = props.get(name)
        have = " ".join(have) if isinstance(have, list) else str(have)
        if str(value).casefold() not in have.casefold():
            return False
    return True


class MetadataRecordsProvider(BaseProvider):
    def __init__(self, provider_def):
        super().__init__(provider_def)
        self.id_field = "id"
        self.title_field = "title"
        self._fields = dict(FIELDS)

    def get_fields(self) -> dict:
        return dict(FIELDS)

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
        language=None,
        **kwargs,
    ):
        if filterq is not None:
            raise ProviderInvalidQueryError(user_msg="The records take q, bbox and property filters only.")
        lang = "en" if str(getattr(language, "language", language) or "pl").startswith("en") else "pl"
        box = _box(bbox) if bbox else None
        words = [w.casefold() for w in str(q or "").replace(",", " ").split() if w][:20]
        found = [r for r in records(lang) if _matches(r, box, words, properties)]
        for key in reversed(sortby or []):
            name = key.get("property")
            if name not in FIELDS:
                raise ProviderInvalidQueryError(user_msg="sortby names title, description or updated.")
            found.sort(
                key=lambda r, n=name: str(r["properties"].get(n) or ""), reverse=key.get("order") == "-"
            )
        page = found[int(offset) : int(offset) + int(limit)] if resulttype != "hits" else []
        if skip_geometry:
            page = [{**r, "geometry": None} for r in page]
        return {
            "type": "FeatureCollection",
            "features": page,
            "numberMatched": len(found),
            "numberReturned": len(page),
        }

    def get(self, identifier, language=None, **kwargs):
        lang = "en" if str(getattr(language, "language", language) or "pl").startswith("en") else "pl"
        for layer in edits.published_layers():
            if metadata.file_identifier(layer) == str(identifier):
                return record(metadata.describe(layer, lang), lang)
        raise ProviderItemNotFoundError(user_msg="No such record.")
