"""Running feature queries (WFS GetFeature, OGC API items): the ORM does filtering, sorting and
paging; PostGIS writes each geometry as GML or GeoJSON text (transformed, axis-swapped when the CRS
form says so), so Python only joins strings. Paging always ends the sort with the primary key; a page is fetched with one row
more than asked to know whether a next page exists without counting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import OperationalError, connections, transaction
from django.db.models import F, Func, Q, TextField

from gisportal.core.replica import read_alias
from layers.selectors import data_version

from ..common.crs import CrsRef, Protocol
from .featuretypes import GEOMETRY, PREFIX, FeatureType

SMALL_PAGE = 2000  # pages up to this size are fetched in one query; bigger ones id-first, in chunks
CHUNK = 1000
COUNT_TIMEOUT_MS = 1500  # numberMatched is exact when it costs less than this, else "unknown"


def decimals_for(srid: int) -> int:
    return 7 if srid in (4326, 4258) else 2


class GeometryText(Func):
    """The geometry of a row as a GML 3 element or a GeoJSON geometry object, in the response CRS.

    PostGIS's ST_AsGML repeats one gml:id on a MultiSurface and all its members (invalid in GML
    3.2), so multi-surfaces are assembled from their dumped members with ids `<fid>.g.<n>`.
    """

    output_field = TextField()

    def __init__(self, ftype: FeatureType, *, fmt: str, crs: CrsRef):
        super().__init__("geom", "pk")
        self.ftype, self.fmt, self.crs = ftype, fmt, crs

    def as_sql(self, compiler, connection, **extra):
        g_sql, g_params = compiler.compile(self.source_expressions[0])
        pk_sql, pk_params = compiler.compile(self.source_expressions[1])
        srid = int(self.crs.srid)
        dec = decimals_for(srid)
        swap = self.crs.swap(Protocol.WFS)
        geom = g_sql if srid == 2180 else f"ST_Transform({g_sql}, {srid})"
        if self.fmt == "geojson":
            if swap:
                geom = f"ST_FlipCoordinates({geom})"
            return f"ST_AsGeoJSON({geom}, {dec}, 0)", [*g_params]
        opts = 1 | (16 if swap else 0)  # 1: srsName as URN (replaced below); 16: axis order swapped
        urn = f' srsName="urn:ogc:def:crs:EPSG::{srid}"'
        fid = f"(%s || {pk_sql} || '.g')"
        fid_params = [f"{self.ftype.name}.", *pk_params]
        srs = self.crs.text
        if self.ftype.layer.geometry_type == "MultiPolygon":
            # one member (nearly every parcel): no set-returning ST_Dump, which costs ~60 µs a row
            one = (
                f"'<gml:MultiSurface gml:id=\"' || {fid} || '\" srsName=\"' || %s || '\"><gml:surfaceMember>' || "
                f"replace(ST_AsGML(3, ST_GeometryN({geom}, 1), {dec}, {opts}, 'gml', {fid} || '.1'), '{urn}', '') || "
                "'</gml:surfaceMember></gml:MultiSurface>'"
            )
            many = (
                f"(SELECT '<gml:MultiSurface gml:id=\"' || {fid} || '\" srsName=\"' || %s || '\">' || "  # noqa: S608
                f"string_agg('<gml:surfaceMember>' || replace(ST_AsGML(3, d.geom, {dec}, {opts}, 'gml', {fid} || '.' || d.path[1]), "
                f"'{urn}', '') || '</gml:surfaceMember>', '' ORDER BY d.path[1]) || '</gml:MultiSurface>' FROM ST_Dump({geom}) d)"
            )
            sql = f"CASE WHEN ST_NumGeometries({g_sql}) = 1 THEN {one} ELSE {many} END"
            return sql, [
                *g_params,
                *fid_params,
                srs,
                *g_params,
                *fid_params,
                *fid_params,
                srs,
                *fid_params,
                *g_params,
            ]
        sql = (
            f"replace(ST_AsGML(3, {geom}, {dec}, {opts}, 'gml', {fid}), '{urn}', ' srsName=\"' || %s || '\"')"
        )
        return sql, [*g_params, *fid_params, srs]


class PropertiesText(Func):
    """The public attributes of a row as one text: a GML fragment (xmlforest: escaped, nulls left
    out, ISO dates) or a GeoJSON properties object (json_build_object: numbers stay numbers)."""

    output_field = TextField()

    def __init__(self, attributes, *, fmt: str):
        super().__init__(*(F(a.source) for a in attributes))
        self.names, self.fmt = [a.name for a in attributes], fmt

    def as_sql(self, compiler, connection, **extra):
        parts, params = [], []
        for name, expr in zip(self.names, self.source_expressions, strict=True):
            sql, p = compiler.compile(expr)
            parts.append(f'{sql} AS "{PREFIX}:{name}"' if self.fmt == "gml" else f"'{name}', {sql}")
            params += p
        if not parts:
            return ("''" if self.fmt == "gml" else "'{}'"), []
        if self.fmt == "gml":
            return f"xmlforest({', '.join(parts)})::text", params
        return f"json_build_object({', '.join(parts)})::text", params


@dataclass
class Query:
    """One query (a wfs:Query, an OGC API items request) after parsing and checking: nothing in it
    comes unchecked from the request."""

    ftype: FeatureType
    where: Q = field(default_factory=Q)
    properties: tuple[str, ...] | None = None  # public names incl. `geometry`; None = all
    sort: tuple[tuple[str, bool], ...] = ()  # (public name, descending)

    def queryset(self):
        order = [("-" if desc else "") + self.ftype.attribute(name).source for name, desc in self.sort]
        return self.ftype.queryset().filter(self.where).order_by(*order, "pk")

    @property
    def attributes(self):
        wanted = self.properties
        return tuple(a for a in self.ftype.attributes if wanted is None or a.name in wanted)

    @property
    def with_geometry(self) -> bool:
        return self.properties is None or GEOMETRY in self.properties


@dataclass
class Page:
    query: Query
    rows: Iterable[
        tuple
    ]  # (pk, properties text, geometry text or None); fmt "values": (pk, *values, geometry)
    returned: int
    has_next: bool


def _columns(query: Query, fmt: str, crs: CrsRef) -> tuple[list[str], dict]:
    """fmt gml / geojson: the attributes as one text; values (GetPropertyValue): each column, GML geometry."""
    geom_fmt = "gml" if fmt == "values" else fmt
    annotations = {"_g": GeometryText(query.ftype, fmt=geom_fmt, crs=crs)} if query.with_geometry else {}
    if fmt == "values":
        return ["pk", *(a.source for a in query.attributes), *annotations], annotations
    annotations = {"_p": PropertiesText(query.attributes, fmt=fmt), **annotations}
    return ["pk", *annotations], annotations


def fetch(query: Query, start: int, count: int, *, fmt: str, crs: CrsRef) -> Page:
    """One page of features; rows of big pages are streamed in chunks of primary keys."""
    cols, annotations = _columns(query, fmt, crs)
    qs = query.queryset()
    if count <= SMALL_PAGE:
        rows = list(qs.annotate(**annotations).values_list(*cols)[start : start + count + 1])
        return Page(query, rows[:count], min(len(rows), count), len(rows) > count)
    ids = list(qs.values_list("pk", flat=True)[start : start + count + 1])
    has_next, ids = len(ids) > count, ids[:count]
    return Page(query, _chunked(query, ids, cols, annotations), len(ids), has_next)


def _chunked(query: Query, ids: list[int], cols: list[str], annotations: dict) -> Iterator[tuple]:
    base = query.ftype.queryset().annotate(**annotations)
    for i in range(0, len(ids), CHUNK):
        part = ids[i : i + CHUNK]
        rows = {r[0]: r for r in base.filter(pk__in=part).values_list(*cols)}
        for pk in part:
            if pk in rows:
                yield rows[pk]


def count(query: Query, *, timeout_ms: int | None = COUNT_TIMEOUT_MS) -> int | None:
    """The number of matching features, or None when counting would take longer than the budget.
    Cached per query and data version, so numberMatched stays the same while a client pages."""
    qs = query.ftype.queryset().filter(query.where)
    sql, params = qs.query.sql_with_params()
    stable = [str(p) for p in params]  # str, not repr: an adapted geometry's repr holds its memory address
    key = "gisportal:wfs-count:" + hashlib.sha256(f"{sql}|{stable}|{data_version()}".encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached
    alias = read_alias()  # the database this request reads from (a replica for OGC reads, if configured)
    try:
        with transaction.atomic(using=alias):
            if timeout_ms:
                with connections[alias].cursor() as cur:
                    cur.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
            n = qs.using(alias).count()
    except OperationalError:
        return None
    cache.set(key, n, timeout=3600)
    return n


def number_matched(query: Query, start: int, page: Page) -> int | None:
    """Exact for free when the page is the last one; otherwise a bounded count (None = unknown)."""
    if not page.has_next and (page.returned or start == 0):
        return start + page.returned
    return count(query)
