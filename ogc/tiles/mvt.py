"""Mapbox vector tiles of our layers on the WebMercatorQuad tile matrix set.

Per tile: the envelope is transformed once to EPSG:2180 so the spatial index filters in storage
coordinates; geometries are simplified in 2180 BEFORE they are transformed to 3857 (OGC.md §5.3:
simplifying after the transformation costs ten times more); each layer has a minimum zoom and a
per-zoom attribute diet. Tiles are identified by an ETag of (data version, layer, z, x, y).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.core.cache import cache
from django.db import connections

from gisportal.core.replica import read_alias
from layers import catalogue
from layers.catalogue import Layer, SqlSource, quote
from layers.selectors import data_version

EXTENT = 4096
BUFFER = 64
WORLD = 40075016.685578488  # WebMercatorQuad width in metres
COS_LAT = 0.615  # Piaseczno (52.1° N): 3857 metres × cos(lat) = ground metres
MAX_ZOOM = 22
CACHE_MAX_BYTES = 512 * 1024
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class TileLayer:
    """A catalogue layer with tiles, its SQL from the catalogue (layers.catalogue.layer_sql_source)."""

    name: str
    min_zoom: int
    detail_zoom: int
    id_name: str  # the official id's attribute (always in the tile); the MVT feature id is the primary key
    base: SqlSource  # the official id only (below `detail_zoom`)
    detail: SqlSource  # the official id, then the layer's tile attributes
    polygons: bool = True  # simplified before the transformation (not points)


# an MVT value is a string, a number or a boolean: numeric (decimal) columns go as float8, not as text
_MVT_CAST = {"decimal": "::float8"}


def _columns_after_id(src: SqlSource) -> str:
    """`, expr AS "NAME"` of the source's columns after the first (the official id)."""
    return "".join(
        f", {expr}{_MVT_CAST.get(attr.type, '')} AS {quote(attr.name)}" for attr, expr in src.columns[1:]
    )


def tile_layer_of(layer: Layer) -> TileLayer:
    ident = layer.attribute(layer.id_attribute)
    attrs = [layer.attribute(n) for n in layer.tile_attributes]
    return TileLayer(
        layer.name,
        layer.tile_min_zoom,
        layer.tile_detail_zoom,
        layer.id_attribute,
        base=catalogue.layer_sql_source(layer, [ident]),
        detail=catalogue.layer_sql_source(layer, [ident, *attrs]),
        polygons=layer.geometry_type != "Point",
    )


_built: dict[str, tuple[Layer, TileLayer]] = {}


def tile_layer(name: str) -> TileLayer | None:
    """The tile layer of that catalogue name (None: no such layer, or it has no tiles), derived once per
    catalogue entry."""
    layer = catalogue.get_layer(name)
    if layer is None or not layer.tiles:
        return None
    seen = _built.get(name)
    if seen is None or seen[0] is not layer:
        seen = _built[name] = (layer, tile_layer_of(layer))
    return seen[1]


class _TileLayers(Mapping[str, TileLayer]):
    """The catalogue's layers with tiles by name, read from the catalogue at each access."""

    def __getitem__(self, name: str) -> TileLayer:
        found = tile_layer(name)
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter([layer.name for layer in catalogue.all_layers() if layer.tiles])

    def __len__(self) -> int:
        return sum(1 for layer in catalogue.all_layers() if layer.tiles)


LAYERS: Mapping[str, TileLayer] = _TileLayers()


@dataclass(frozen=True)
class Grid:
    """A tile matrix set: WebMercatorQuad (EPSG:3857, the world) or PUWG1992 (EPSG:2180 over Poland,
    top-left origin E 100 000, N 919 200, 819.2 km tiles at level 0 halving per level; its level z is
    about WebMercatorQuad's z + 5 around Piaseczno, which is how the layers' zoom limits translate)."""

    id: str
    uri: str
    epsg: int
    max_zoom: int
    zoom_offset: int  # added to a level to compare it with the layers' WebMercatorQuad zoom limits

    def span(self, z: int) -> float:
        return (WORLD if self.epsg == 3857 else PUWG_SPAN) / 2**z


PUWG_SPAN = 819_200.0
PUWG_ORIGIN = (100_000.0, 919_200.0)
GRIDS = {
    "WebMercatorQuad": Grid(
        "WebMercatorQuad",
        "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        3857,
        MAX_ZOOM,
        0,
    ),
    "PUWG1992": Grid("PUWG1992", "https://gisportal.piaseczno.eu/def/tilematrixset/PUWG1992", 2180, 17, 5),
}


def tile_in_range(z: int, x: int, y: int, grid: Grid | None = None) -> bool:
    grid = grid or GRIDS["WebMercatorQuad"]
    return 0 <= z <= grid.max_zoom and 0 <= x < 2**z and 0 <= y < 2**z


def etag(layer: str, z: int, x: int, y: int, grid: str = "WebMercatorQuad") -> str:
    return hashlib.sha256(f"{data_version()}:{grid}:{layer}:{z}:{x}:{y}".encode()).hexdigest()[:32]


def tile_cached(layer: TileLayer, z: int, x: int, y: int, tag: str, grid: Grid | None = None) -> bytes:
    """The tile from the tile cache (Redis, keyed by its ETag, so an import invalidates it), or rendered."""
    if not settings.GISPORTAL_TILE_CACHE:
        return tile(layer, z, x, y, grid)
    key = f"gisportal:mvt:{tag}"
    body = cache.get(key)
    if body is None:
        body = tile(layer, z, x, y, grid)
        if len(body) <= CACHE_MAX_BYTES:
            cache.set(key, body, timeout=CACHE_SECONDS)
    return body


def tile(layer: TileLayer, z: int, x: int, y: int, grid: Grid | None = None) -> bytes:
    """The MVT of one layer for one tile (empty bytes when nothing is there or below the layer's zoom)."""
    query = tile_sql(layer, z, x, y, grid)
    if query is None:
        return b""
    connection = connections[read_alias()]  # a replica's, for tiles outside a writer's moment, if configured
    connection.ensure_connection()
    # a server-side bound, prepared statement (one per layer, zoom detail and grid on each pooled
    # connection: planning it was a third of a small tile's time; prepared only because the settings
    # give psycopg a prepare_threshold, see there) with the bytea in binary
    with psycopg.Cursor(connection.connection) as cur:
        cur.execute(*query, prepare=True, binary=True)
        row = cur.fetchone()
    return bytes(row[0]) if row and row[0] else b""


def tile_sql(layer: TileLayer, z: int, x: int, y: int, grid: Grid | None = None) -> tuple[str, list] | None:
    """The SQL and parameters of one tile, or None below the layer's zoom."""
    grid = grid or GRIDS["WebMercatorQuad"]
    level = z + grid.zoom_offset
    if level < layer.min_zoom:
        return None
    unit = grid.span(z) / EXTENT  # CRS units per tile unit
    # half a tile unit on the ground: what ST_AsMVTGeom then snaps to its grid cannot tell the difference,
    # and even at z17 (2 cm) dropping the vertices within it before the transformation made tiles ~30 %
    # cheaper (the topology-preserving variant, tried first, cost more than it saved below z15)
    tolerance = (unit * COS_LAT if grid.epsg == 3857 else unit) / 2 if layer.polygons else 0.0
    src = layer.detail if level >= layer.detail_zoom else layer.base
    id_expr = src.columns[0][1]  # the official id comes first
    # Douglas-Peucker keeping collapsed rings: ST_AsMVTGeom snaps to the tile grid and repairs what it
    # draws, so the topology-preserving variant made the same tiles at twice the cost (bench/RESULTS.md)
    geom = f"ST_Simplify({src.geometry}, {tolerance:.5f}, true)" if tolerance else src.geometry
    if grid.epsg == 3857:
        # rows are picked by the envelope widened by the buffer: a feature lying only in the buffer
        # still draws its edge into this tile
        envelope = (
            "SELECT ST_TileEnvelope(%s, %s, %s) AS etile, "
            f"ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => {BUFFER / EXTENT}), 2180) AS e2180"
        )
        params: list = [z, x, y, z, x, y]
        projected = f"ST_Transform({geom}, 3857)"
    else:  # storage CRS: no transformation at all
        span = grid.span(z)
        x0, y0 = PUWG_ORIGIN[0] + x * span, PUWG_ORIGIN[1] - (y + 1) * span
        m = span * BUFFER / EXTENT
        envelope = "SELECT ST_MakeEnvelope(%s, %s, %s, %s, 2180) AS etile, ST_MakeEnvelope(%s, %s, %s, %s, 2180) AS e2180"
        params = [x0, y0, x0 + span, y0 + span, x0 - m, y0 - m, x0 + span + m, y0 + span + m]
        projected = geom
    sql = f"""
        WITH b AS ({envelope})
        SELECT ST_AsMVT(q, %s, {EXTENT}, 'geom', 'fid') FROM (
          SELECT {src.pk} AS fid, {id_expr} AS {quote(layer.id_name)},
                 ST_AsMVTGeom({projected}, b.etile, {EXTENT}, {BUFFER}, true) AS geom{_columns_after_id(src)}
          FROM {src.from_clause}, b
          WHERE {src.where(f"{src.geometry} && b.e2180")}
        ) q
    """  # noqa: S608 - catalogue identifiers (quoted) and numbers; the envelope and name are bound
    # No `WHERE q.geom IS NOT NULL` on the outer query: PostgreSQL would push it into the scan and clip
    # and transform every row twice (a third to a half of a tile's time); ST_AsMVT skips NULL geometries.
    return sql, [*params, layer.name]
