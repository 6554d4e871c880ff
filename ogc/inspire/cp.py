"""INSPIRE Cadastral Parcels 4.0 (cp) mapped from the EGiB registry, in one place.

- Parcel (działka) → cp:CadastralParcel: inspireId from the IIP identity (localId = lokalnyId, namespace =
  GISPORTAL_INSPIRE_NAMESPACE, versionId = wersjaId or the version start), nationalCadastralReference = the
  parcel id (ID_DZIALKI), label = the parcel number, areaValue = the registered area in m², the version and
  object dates, a reference point on the surface, zoning = the parcel's precinct.
- CadastralUnit (jednostka ewidencyjna) → cp:CadastralZoning of level 1stOrder; Precinct (obręb, the
  lowest zoning in Poland) → cp:CadastralZoning of level 2ndOrder, its upperLevelUnit the cadastral unit.
- cp:CadastralBoundary is derived from the parcels' rings (EGiB keeps no boundary lines): each line shared by
  two neighbouring current parcels once, both parcels referenced, and each stretch of a parcel's outline that
  no other parcel shares (the data set's edge) with that parcel alone; one feature per connected line (the
  geometry is one gml:LineString, cp:geometry being a GM_Curve). PostGIS computes them parcel by parcel
  (`BoundarySource`): a page or a chunk of features costs the parcels it touches, never the data set.
- cp:BasicPropertyUnit is not served (Polish parcels carry the cadastral reference).

Feature references are the service's GetFeatureById URLs (Context.feature_href), which a client can fetch on
their own (the TG's advice for references across requests), not `#id` links into one document. Only public
registry models are read: no personal data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.geos import GEOSGeometry, LinearRing, MultiPolygon, Polygon
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection, connections
from django.db.models import BigIntegerField, DateTimeField, DecimalField, ExpressionWrapper, F, Q
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Exact
from django.utils.translation import gettext as _
from lxml import etree

from gisportal.core.replica import read_alias
from layers.models import CadastralUnit, Parcel, Precinct

from .base import (
    GML,
    STORAGE_SRID,
    XLINK,
    XSI,
    Context,
    InspireType,
    Source,
    filterable,
    row_geometry,
    row_point,
)
from .xsd import Prop

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
BOUNDARY_KEY = "CadastralBoundary"
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


def _oriented(geom: GEOSGeometry) -> GEOSGeometry:
    """The surface with its rings oriented as GML 3.2 wants them seen from above (ISO 19107; the ETS's
    gmlas.d.10 checks it): exterior counter-clockwise, interiors clockwise, in (east, north) order."""
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return geom
    polys = [geom] if geom.geom_type == "Polygon" else list(geom)
    fixed, changed = [], False
    for poly in polys:
        rings = []
        for i, ring in enumerate(poly):
            if ring.is_counterclockwise != (i == 0):
                ring, changed = LinearRing(list(reversed(ring.coords))), True
            rings.append(ring)
        fixed.append(Polygon(*rings))
    if not changed:
        return geom
    out = fixed[0] if geom.geom_type == "Polygon" else MultiPolygon(*fixed)
    out.srid = geom.srid
    return out


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
    ctx.geometry(ctx.el(f, CP, "geometry"), _oriented(row_geometry(row)), f"{fid}.geom")
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
    ctx.geometry(ctx.el(f, CP, "geometry"), _oriented(row_geometry(row)), f"{fid}.geom")
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


# ---- cp:CadastralBoundary: the lines between neighbouring parcels, computed by PostGIS ----------------
# A boundary's primary key packs (the lower parcel pk a, the other parcel pk b or 0 at the data set's edge,
# the connected part n): (a·10⁸ + b)·100 + n, at most 18 digits (the WFS's resource id limit) while parcel
# primary keys stay below 10⁸; the order of the keys is the order of (a, b, n).
_PAIR = 10**8
_PARTS = 100
# parts shorter than this (metres, EPSG:2180) are overlay noise of nearly coincident vertices, not boundaries
_MIN_LENGTH = 0.001
# `a`: the parcels whose outlines are cut (narrowed by what the filter implies of them, {where_a});
# `rows`: the boundary parts with the values a filter compares ({where}, compiled by Django from a Q)
_BOUNDARY_SQL = """
WITH a AS MATERIALIZED (SELECT p.id, p.geom FROM {parcel} AS p WHERE p.end_object IS NULL AND {where_a}),
nb AS MATERIALIZED (
    SELECT a.id AS a_id, b.id AS b_id, ST_Boundary(b.geom) AS bb
    FROM a JOIN {parcel} AS b ON b.geom && a.geom AND b.id <> a.id AND b.end_object IS NULL
),
lines AS (
    SELECT nb.a_id, nb.b_id,
           ST_LineMerge(ST_CollectionExtract(ST_Intersection(ST_Boundary(a.geom), nb.bb), 2)) AS g
    FROM nb JOIN a ON a.id = nb.a_id
    WHERE nb.a_id < nb.b_id
    UNION ALL
    SELECT a.id, 0, ST_LineMerge(ST_CollectionExtract(ST_Difference(
               ST_Boundary(a.geom), coalesce(n.bbs, 'LINESTRING EMPTY'::geometry)
           ), 2))
    FROM a LEFT JOIN (SELECT a_id, ST_Collect(bb) AS bbs FROM nb GROUP BY a_id) AS n ON n.a_id = a.id
),
parts AS (
    SELECT (lines.a_id * {pair} + lines.b_id) * {parts} + coalesce(d.path[1], 1) AS pk,
           lines.a_id, lines.b_id, d.geom
    FROM lines, ST_Dump(lines.g) AS d
    WHERE ST_Length(d.geom) >= {min_length} AND coalesce(d.path[1], 1) < {parts}
),
rows AS (
    SELECT parts.pk AS boundary_pk, parts.a_id AS boundary_a, parts.b_id AS boundary_b,
           parts.geom AS boundary_geom, pa.local_id AS local_a, pb.local_id AS local_b,
           greatest(pa.start_version, pb.start_version) AS boundary_begin,
           greatest(pa.start_object, pb.start_object) AS boundary_valid_from
    FROM parts JOIN {parcel} AS pa ON pa.id = parts.a_id LEFT JOIN {parcel} AS pb ON pb.id = parts.b_id
)
SELECT {columns} FROM rows AS r WHERE {where} {order}
"""
_ROW_COLUMNS = """r.boundary_pk, r.boundary_a, r.boundary_b, ST_AsEWKB(ST_Transform(r.boundary_geom, %s)),
    r.local_a, r.local_b, r.boundary_begin, r.boundary_valid_from"""
# the columns of `rows` a filter may compare, as the names (Q lookups) the filters use
_COLUMNS = {
    "boundary_pk": BigIntegerField(),
    "boundary_a": BigIntegerField(),
    "boundary_b": BigIntegerField(),
    "boundary_geom": GeometryField(srid=STORAGE_SRID),
    "boundary_begin": DateTimeField(),
    "boundary_valid_from": DateTimeField(),
}
# what SORTBY may order the boundaries by (the lookups of BOUNDARY_FILTERABLE), before the primary key
_SORTABLE = ("boundary_begin", "boundary_valid_from")
_PARCEL = "boundary_parcel"  # cp:parcel: either referenced parcel (rewritten to boundary_a / boundary_b)
# spatial operators true only where the line meets the geometry: the line's parcels meet it too
_MEETING = {"intersects", "within", "contains", "equals", "touches", "crosses", "overlaps", "bboverlaps"}


def boundary_key(pk: int) -> tuple[int, int, int]:
    """(parcel a, parcel b or 0, part) of a boundary's primary key."""
    rest, part = divmod(pk, _PARTS)
    a, b = divmod(rest, _PAIR)
    return a, b, part


@dataclass(frozen=True)
class BoundaryRow:
    pk: int
    parcel_a: int
    parcel_b: int | None  # None: the data set's edge (one parcel only)
    geom: GEOSGeometry  # LineString in the output CRS
    local_a: str
    local_b: str | None
    start_version: datetime | None
    start_object: datetime | None

    @property
    def part(self) -> int:
        return boundary_key(self.pk)[2]


def _refused(message: str, locator: str = "FILTER"):
    from ..common.exceptions import OGCException

    return OGCException("InvalidParameterValue", message, locator)


def parcel_pk(value) -> int:
    """The primary key of the parcel a cp:parcel literal names: its gml:id `CadastralParcel.<pk>` or the
    xlink:href written in cp:parcel (the GetFeatureById URL, whose ID is that gml:id)."""
    text = str(value).strip()
    if "?" in text:
        query = parse_qs(urlsplit(text).query)
        ids = next((v for k, v in query.items() if k.upper() == "ID"), [""])
        text = ids[0].strip()
    key, _sep, pk = text.rpartition(".")
    if key != PARCEL_KEY or not (pk.isascii() and pk.isdigit()) or len(pk) > 18:
        raise _refused(
            _("%(v)s does not name a parcel: give its gml:id (%(key)s.<n>) or its xlink:href.")
            % {"v": text[:80] or str(value)[:80], "key": PARCEL_KEY}
        )
    return int(pk)


def _ewkb(geom: GEOSGeometry) -> bytes:
    return bytes((geom if geom.srid == STORAGE_SRID else geom.transform(STORAGE_SRID, clone=True)).ewkb)


def _names(expression) -> set[str]:
    """The F() names an expression refers to."""
    if isinstance(expression, F):
        return {expression.name}
    out: set[str] = set()
    for source in getattr(expression, "get_source_expressions", list)():
        out |= _names(source)
    return out


_Narrowing = tuple[str, list] | None  # SQL on the parcels `p` every boundary matching a filter is cut from


_NEAR = "EXISTS (SELECT 1 FROM {parcel} AS x WHERE x.id = ANY(%s) AND x.geom && p.geom)"


def _parcels_near(pks: list[int]) -> _Narrowing:
    """The parcels a boundary of one of these parcels is cut from: they and their neighbours."""
    return _NEAR.format(parcel=connection.ops.quote_name(Parcel._meta.db_table)), [pks]


def _lookup(lookup: str, value) -> tuple[Q, _Narrowing]:
    """One `lookup=value` of a filter on the boundaries, with the parcels it implies."""
    name, _sep, op = lookup.partition("__")
    if name == "pk":
        pks = [int(value)] if op in ("", "exact") else [int(v) for v in value]
        return Q(**{f"boundary_pk__{op or 'exact'}": value}), (
            "p.id = ANY(%s)",
            [sorted({boundary_key(pk)[0] for pk in pks})],
        )
    if name == "geom":
        q = Q(**{f"boundary_geom__{op}": value})
        if op in _MEETING:
            ewkb = _ewkb(value)
            return q, (
                "p.geom && ST_GeomFromEWKB(%s) AND ST_Intersects(p.geom, ST_GeomFromEWKB(%s))",
                [ewkb, ewkb],
            )
        if op == "dwithin":
            return q, ("ST_DWithin(p.geom, ST_GeomFromEWKB(%s), %s)", [_ewkb(value[0]), float(value[1])])
        return q, None
    if name == _PARCEL:
        if op in ("", "exact", "in"):
            pks = [parcel_pk(value)] if op != "in" else [parcel_pk(v) for v in value]
            return Q(boundary_a__in=pks) | Q(boundary_b__in=pks), _parcels_near(pks)
        raise _refused(_("cp:parcel is compared by equality only (a parcel's gml:id or xlink:href)."))
    if name not in _COLUMNS:
        raise ValueError(f"unsupported boundary filter {lookup}")
    return Q(**{lookup: value}), None


def _expression(expression) -> tuple[Q, _Narrowing]:
    """A lookup expression of a filter (the compiler's comparisons: Exact(F(name), value), …)."""
    names = _names(expression)
    if _PARCEL in names:
        if isinstance(expression, Exact) and isinstance(expression.lhs, F):
            return _lookup(_PARCEL, getattr(expression.rhs, "value", expression.rhs))
        raise _refused(_("cp:parcel is compared by equality only (a parcel's gml:id or xlink:href)."))
    if not names <= set(_COLUMNS):
        raise ValueError(f"unsupported boundary filter {expression!r}")
    return Q(expression), None


def _translate(node: Q) -> tuple[Q, _Narrowing]:
    """The filter on the boundaries' columns (`pk`, `geom` and cp:parcel renamed), and what it implies of
    the parcels whose outlines are cut (None: nothing, every current parcel is cut). An AND narrows by any
    of its terms, an OR by all of them; a NOT by none."""
    terms, narrowings = [], []
    for child in node.children:
        if isinstance(child, Q):
            q, n = _translate(child)
        elif isinstance(child, tuple):
            q, n = _lookup(*child)
        else:
            q, n = _expression(child)
        terms.append(q)
        narrowings.append(n)
    out = Q(*terms, _connector=node.connector, _negated=node.negated)
    known = [n for n in narrowings if n is not None]
    if node.negated or not known or (node.connector != Q.AND and len(known) < len(narrowings)):
        return out, None
    joiner = " AND " if node.connector == Q.AND else " OR "
    return out, (joiner.join(f"({sql})" for sql, _p in known), [p for _s, params in known for p in params])


def _compiled(q: Q) -> tuple[str, list]:
    """The WHERE of a filter on the boundary rows `r`, compiled by Django (values are parameters)."""
    # the columns of `rows`, by the fixed names of _COLUMNS (no user input is SQL)
    columns = {name: RawSQL(f"r.{name}", (), output_field=field) for name, field in _COLUMNS.items()}  # noqa: S611
    query = Parcel.objects.annotate(**columns).query
    try:
        where = query.build_where(q)
        sql, params = where.as_sql(query.get_compiler(connection=connection), connection)
    except EmptyResultSet:
        return "false", []
    except FullResultSet:
        return "true", []
    return sql or "true", list(params)


def _order(sort: tuple[str, ...]) -> str:
    terms = []
    for term in sort:
        name = term.lstrip("-")
        if name not in _SORTABLE:
            raise _refused(_("Cannot sort by %(p)s.") % {"p": name}, "sortBy")
        terms.append(f"r.{name} DESC" if term.startswith("-") else f"r.{name}")
    return "ORDER BY " + ", ".join([*terms, "r.boundary_pk"])


def boundary_sql(where: Q, columns: str, sort: tuple[str, ...] = (), column_params=()) -> tuple[str, list]:
    """The SQL and parameters of the boundaries matching `where` (a Q from the WFS: pk, pk__in, geom
    lookups, the compiler's comparisons on the declared lookups), `columns` of each, in `sort` order."""
    q, narrowing = _translate(where)
    where_sql, where_params = _compiled(q)
    cond_a, params_a = narrowing or ("true", [])
    table = connection.ops.quote_name(Parcel._meta.db_table)
    sql = _BOUNDARY_SQL.format(
        parcel=table,
        where_a=cond_a,
        pair=_PAIR,
        parts=_PARTS,
        min_length=_MIN_LENGTH,
        columns=columns,
        where=where_sql,
        order=_order(sort) if sort is not None else "",
    )
    return sql, [*params_a, *column_params, *where_params]


def _stable(value) -> str:
    ewkb = getattr(value, "ewkb", None)  # a geometry (or its database adapter): by its bytes
    return bytes(ewkb).hex() if ewkb is not None else repr(value)


@dataclass(frozen=True)
class BoundarySource(Source):
    """The rows of cp:CadastralBoundary: not a model's queryset but lines PostGIS derives from the parcels
    (`queryset` is the parcels they come from). The WFS asks a source with `fetch_ids` for the ordered
    primary keys matching its filter, `fetch_count` for their number and `fetch_rows` for the rows of
    some keys in the output CRS; `cache_key` names a filter (its SQL and parameters) for counts.

    A filter is a Q as on a queryset (pk, pk__in, geom lookups; the compiler's comparisons on the lookups of
    BOUNDARY_FILTERABLE; cp:parcel by equality), compiled by Django against the boundary rows. What it
    implies of the parcels (a spatial operator: the parcels meeting that geometry; a feature id: its parcel;
    cp:parcel: that parcel and its neighbours) narrows the parcels whose outlines are cut first, by their
    index; a filter implying nothing (a date alone, a NOT) cuts every current parcel's outline, like the
    unfiltered data set."""

    sortable: ClassVar[tuple[str, ...]] = _SORTABLE  # what SORTBY may name (parse_sort)

    def _run(self, sql: str, params: list) -> list[tuple]:
        with connections[read_alias()].cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def fetch_ids(self, where: Q, sort: tuple[str, ...] = ()) -> list[int]:
        return [r[0] for r in self._run(*boundary_sql(where, "r.boundary_pk", sort))]

    def fetch_count(self, where: Q) -> int:
        return self._run(*boundary_sql(where, "count(*)", None))[0][0]

    def cache_key(self, where: Q) -> str:
        sql, params = boundary_sql(where, "count(*)", None)
        return f"{sql}|{[_stable(p) for p in params]}"

    def fetch_rows(self, pks: list[int], srid: int) -> list[BoundaryRow]:
        if not pks:
            return []
        rows = []
        sql, params = boundary_sql(Q(pk__in=list(pks)), _ROW_COLUMNS, (), [srid])
        for pk, a, b, wkb, local_a, local_b, start_version, start_object in self._run(sql, params):
            geom = GEOSGeometry(memoryview(bytes(wkb)))
            geom.srid = srid
            rows.append(BoundaryRow(pk, a, b or None, geom, local_a, local_b, start_version, start_object))
        return rows


def boundary_local_id(row: BoundaryRow) -> str:
    """The boundary's localId: a UUID (version 5) of the two parcels' IIP identities (sorted, so the same
    whichever is `a`) and the part, stable while both parcels and the line between them are."""
    names = sorted(x for x in (row.local_a, row.local_b) if x)
    return str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace()}/CadastralBoundary/{'/'.join(names)}/{row.part}")
    )


def encode_boundary(row: BoundaryRow, ctx: Context) -> etree._Element:
    """cp:CadastralBoundaryType: beginLifespanVersion, (endLifespanVersion), estimatedAccuracy, geometry,
    inspireId, validFrom, (validTo), parcel (1 or 2). The line is as recent as the later of its parcels."""
    fid = f"{BOUNDARY_KEY}.{row.pk}"
    f = _feature("CadastralBoundary", fid)
    ctx.date_time(f, CP, "beginLifespanVersion", row.start_version)
    # no positional accuracy is kept for the lines (EGiB records it per boundary point): void, in metres
    ctx.el(f, CP, "estimatedAccuracy", uom="m", **{f"{{{XSI}}}nil": "true", "nilReason": "other:unpopulated"})
    ctx.geometry(ctx.el(f, CP, "geometry"), row.geom, f"{fid}.geom")
    ctx.identifier(f, CP, "inspireId", boundary_local_id(row), namespace())
    ctx.date_time(f, CP, "validFrom", row.start_object)
    ctx.ref(f, CP, "parcel", f"{PARCEL_KEY}.{row.parcel_a}")
    if row.parcel_b is not None:
        ctx.ref(f, CP, "parcel", f"{PARCEL_KEY}.{row.parcel_b}")
    return f


# ---- what FES filters and SORTBY may name (ogc/wfs/inspire.py) ---------------------------------------
_P = {"cp": CP, "base": BASE_NS, "gn": GN}
_LOCAL_ID = "cp:inspireId/base:Identifier/base:localId"
_NAME = "cp:name/gn:GeographicalName/gn:spelling/gn:SpellingOfName/gn:text"


def _common(*more):
    return (
        filterable(_LOCAL_ID, "local_id", namespaces=_P),
        filterable("cp:beginLifespanVersion", "start_version", "datetime", namespaces=_P),
        filterable("cp:validFrom", "start_object", "datetime", namespaces=_P),
        filterable("cp:geometry", "geom", "geometry", namespaces=_P),
        *more,
    )


PARCEL_FILTERABLE = _common(
    filterable("cp:nationalCadastralReference", "parcel_id", namespaces=_P),
    filterable("cp:label", "number", namespaces=_P),
    # areaValue is written in m²: compared in m² (the registry keeps hectares)
    filterable(
        "cp:areaValue",
        "inspire_area_m2",
        "decimal",
        ExpressionWrapper(F("area_ha") * 10_000, output_field=DecimalField(max_digits=16, decimal_places=4)),
        namespaces=_P,
    ),
)
UNIT_FILTERABLE = _common(
    filterable("cp:nationalCadastalZoningReference", "unit_id", namespaces=_P),
    filterable("cp:label", "unit_id", namespaces=_P),
    filterable(_NAME, "name", namespaces=_P),
)
# a boundary's dates are the later of its parcels' (encode_boundary); cp:parcel is compared with a parcel's
# gml:id or the xlink:href written (either referenced parcel matches); no localId (a UUID derived in Python)
BOUNDARY_FILTERABLE = (
    filterable("cp:beginLifespanVersion", "boundary_begin", "datetime", namespaces=_P),
    filterable("cp:validFrom", "boundary_valid_from", "datetime", namespaces=_P),
    filterable("cp:geometry", "geom", "geometry", namespaces=_P),
    filterable("cp:parcel", _PARCEL, namespaces=_P),
)
PRECINCT_FILTERABLE = _common(
    filterable("cp:nationalCadastalZoningReference", "precinct_id", namespaces=_P),
    filterable("cp:label", "number", namespaces=_P),
    filterable(_NAME, "name", namespaces=_P),
)


# ---- the content models (cp/4.0/CadastralParcels.xsd), written out by DescribeFeatureType ------------------
_LIFESPAN = (
    Prop("beginLifespanVersion", "dateTime", nillable=True),
    Prop("endLifespanVersion", "dateTime", 0, nillable=True),
)
_VALIDITY = (Prop("validFrom", "dateTime", 0, nillable=True), Prop("validTo", "dateTime", 0, nillable=True))
_ACCURACY = Prop("estimatedAccuracy", "gml:LengthType", 0, nillable=True)
_POINT = Prop("referencePoint", "gml:PointPropertyType", 0, nillable=True)
PARCEL_XSD = (
    Prop("areaValue", "gml:AreaType", 0, nillable=True),
    *_LIFESPAN,
    Prop("geometry", "gml:GeometryPropertyType"),
    Prop("inspireId", "base:IdentifierPropertyType"),
    Prop("label", "string"),
    Prop("nationalCadastralReference", "string"),
    _POINT,
    *_VALIDITY,
    Prop("basicPropertyUnit", "gml:ReferenceType", 0, None, nillable=True),
    Prop("administrativeUnit", "gml:ReferenceType", 0, nillable=True),
    Prop("zoning", "gml:ReferenceType", 0, nillable=True),
)
ZONING_XSD = (
    *_LIFESPAN,
    _ACCURACY,
    Prop("geometry", "gml:MultiSurfacePropertyType"),
    Prop("inspireId", "base:IdentifierPropertyType", 0),
    Prop("label", "string"),
    Prop("level", "gml:ReferenceType", nillable=True),
    Prop("levelName", "gmd:LocalisedCharacterString_PropertyType", max=None, nillable=True),
    Prop("name", min=0, max=None, nillable=True, wraps="gn:GeographicalName"),
    Prop("nationalCadastalZoningReference", "string"),
    Prop("originalMapScaleDenominator", "integer", 0, nillable=True),
    _POINT,
    *_VALIDITY,
    Prop("upperLevelUnit", "gml:ReferenceType", 0, nillable=True),
)
BOUNDARY_XSD = (
    *_LIFESPAN,
    _ACCURACY,
    Prop("geometry", "gml:CurvePropertyType"),
    Prop("inspireId", "base:IdentifierPropertyType", 0),
    *_VALIDITY,
    Prop("parcel", "gml:ReferenceType", max=2, nillable=True),
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
    parts=(Source(PARCEL_KEY, parcels, encode_parcel, PARCEL_FILTERABLE),),
    properties=PARCEL_XSD,
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
    parts=(
        Source(UNIT_KEY, units, encode_unit, UNIT_FILTERABLE),
        Source(PRECINCT_KEY, precincts, encode_precinct, PRECINCT_FILTERABLE),
    ),
    properties=ZONING_XSD,
    extra={
        "abstract_pl": "Jednostki ewidencyjne (poziom 1stOrder) i obręby ewidencyjne (2ndOrder) w schemacie INSPIRE "
        "Działki katastralne 4.0.",
        "abstract_en": "Cadastral units (level 1stOrder) and precincts (2ndOrder) of the land and building register "
        "in the INSPIRE Cadastral Parcels 4.0 schema.",
    },
)
CADASTRAL_BOUNDARY = InspireType(
    typename="cp:CadastralBoundary",
    namespace=CP,
    schema_location=SCHEMA,
    local_schema=LOCAL_SCHEMA,
    dataset=DATASET,
    title_pl="Granice katastralne (INSPIRE)",
    title_en="Cadastral boundaries (INSPIRE)",
    queryset=parcels,
    encode=encode_boundary,
    geometry_type="LineString",
    layer="dzialki",
    parts=(BoundarySource(BOUNDARY_KEY, parcels, encode_boundary, BOUNDARY_FILTERABLE),),
    properties=BOUNDARY_XSD,
    extra={
        "abstract_pl": "Granice między sąsiednimi działkami ewidencyjnymi (każda linia raz, z odniesieniami do działek "
        "po obu stronach) w schemacie INSPIRE Działki katastralne 4.0.",
        "abstract_en": "The lines between neighbouring parcels of the land and building register (each line once, "
        "referring to the parcels on both sides) in the INSPIRE Cadastral Parcels 4.0 schema.",
    },
)
TYPES = (CADASTRAL_PARCEL, CADASTRAL_ZONING, CADASTRAL_BOUNDARY)
