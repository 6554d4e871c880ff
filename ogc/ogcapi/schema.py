"""JSON types of the published attributes, one table for the queryables, the collection schema
(pygeoapi's /schema, both from the provider's fields) and the GeoJSON feature schema linked as
`describedby` — the same catalogue types that WFS DescribeFeatureType writes as XSD types
(ogc/wfs/featuretypes.py), and the same JSON types PostGIS writes into the GeoJSON properties."""

from __future__ import annotations

from layers.catalogue import Layer

# catalogue type → (JSON Schema type, format)
JSON_TYPES = {
    "string": ("string", None),
    "integer": ("integer", None),
    "decimal": ("number", None),
    "date": ("string", "date"),
    "datetime": ("string", "date-time"),
}
_GEOMETRY = {"MultiPolygon": "MultiPolygon", "Point": "Point", "LineString": "LineString"}


def attribute_schemas(layer: Layer) -> dict[str, dict]:
    """{public name: JSON Schema} of a layer's attributes. A value may be null where the register has
    none; the type stays one name (GDAL reads `type` only as a string)."""
    out = {}
    for a in layer.public_attributes:
        kind, fmt = JSON_TYPES[a.type]
        out[a.name] = {"type": kind, "title": a.title_pl or a.name}
        if fmt:
            out[a.name]["format"] = fmt
    return out


def feature_schema(layer: Layer, url: str) -> dict:
    """A JSON Schema of one GeoJSON feature of the layer (CRS84 geometry, properties as published)."""
    geometry = _GEOMETRY.get(layer.geometry_type, "Geometry")
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": url,
        "title": layer.title_en,
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": {"$ref": f"https://geojson.org/schema/{geometry}.json"},
            "properties": {"type": "object", "properties": attribute_schemas(layer)},
        },
    }
