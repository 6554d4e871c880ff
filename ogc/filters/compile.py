"""Filter AST → Django Q over one layer's published attributes (OGC.md §3 F6–F8, §6 security): the
compiler behind WFS filters (fes_xml.py: FES 2.0 / Filter 1.1) and OGC API – Features filters
(cql2.py, pygeofilter's CQL2 JSON parser; ogc/ogcapi/filters.py).

`to_q` turns the AST into a Q. Every property name must be a public attribute of the layer (exact
spelling) or `geometry`; nothing else of a model can be reached, and names are never evaluated as
XPath. Values are cast to the attribute's type and bound as ORM values. pygeofilter's Django backend
is not used: it passes unknown names through as fields, reads Like patterns only at `%`, moves BBOX
boxes to EPSG:4326 and measures distances on the spheroid.

The AST it takes: geometry literals are GeoJSON-like dicts in EPSG:2180 with x = easting
(`values.Geometry`), distances are metres (units "m"), During periods are `values.Interval`s of aware
datetimes, literals are the strings as written, `Function("lower")` around a property compares without
case (as pygeofilter reads CQL2's CASEI), and `ResourceId` selects features by id.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual
from django.utils.translation import gettext as _
from pygeofilter import ast, values

from layers.catalogue import Attribute, Layer, get_layer

from ..common.exceptions import OGCException

__all__ = ["GEOMETRY", "ResourceId", "cast_literal", "to_q"]

MAX_LIKE_PATTERN = 1_000
STORAGE_SRID = 2180
GEOMETRY = "geometry"  # public name of every layer's geometry property
GEOMETRY_FIELD = "geom"  # its model field


@dataclass
class ResourceId(ast.Predicate):
    """FES 2.0 ResourceId, Filter 1.1 FeatureId/GmlObjectId: feature ids `<layer name>.<official id>`."""

    rids: tuple[str, ...]


NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d{1,18}", re.ASCII)
_METRES = {
    "",
    "m",
    "metre",
    "meter",
    "metres",
    "meters",
    "urn:ogc:def:uom:epsg::9001",
    "http://www.opengis.net/def/uom/epsg/0/9001",
}
_DEGREES = {
    "deg",
    "degree",
    "degrees",
    "urn:ogc:def:uom:epsg::9102",
    "http://www.opengis.net/def/uom/epsg/0/9102",
}


def invalid(message: str, locator: str = "FILTER") -> OGCException:
    return OGCException("InvalidParameterValue", message, locator=locator, status=400)


def clip(text: str, limit: int = 80) -> str:
    """User input as it may appear in a message: one line, at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_metres(distance: float, units: str | None) -> float:
    unit = (units or "").strip().lower()
    if unit in _DEGREES:
        raise invalid(_("Distances in degrees are not supported; give them in metres."))
    if unit not in _METRES:
        raise invalid(_("Unknown distance unit %(u)s; give distances in metres.") % {"u": clip(unit, 40)})
    if not math.isfinite(distance) or distance < 0:
        raise invalid(_("A distance must be a finite number of metres, not negative."))
    return distance


def cast_literal(value: object, kind: str) -> object:
    """A literal as a Python value of an attribute type (integer, decimal, date, datetime, string);
    ValueError when it is not one."""
    text = value.isoformat() if isinstance(value, date) else str(value)
    if kind == "string":
        return text
    text = text.strip()
    if kind == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    if kind == "decimal" and NUMBER.fullmatch(text):
        return Decimal(text)
    if kind == "date":
        return date.fromisoformat(text)
    if kind == "datetime":
        return parse_datetime(text)
    raise ValueError(kind)


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 date or date-time; one without an offset is taken as UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ------------------------------------------------------------------------------------ to ORM
_LOOKUPS = {
    ast.ComparisonOp.EQ: Exact,
    ast.ComparisonOp.NE: Exact,  # negated
    ast.ComparisonOp.LT: LessThan,
    ast.ComparisonOp.LE: LessThanOrEqual,
    ast.ComparisonOp.GT: GreaterThan,
    ast.ComparisonOp.GE: GreaterThanOrEqual,
}
_SPATIAL_LOOKUPS = {
    ast.SpatialComparisonOp.INTERSECTS: "intersects",
    ast.SpatialComparisonOp.WITHIN: "within",
    ast.SpatialComparisonOp.CONTAINS: "contains",
    ast.SpatialComparisonOp.DISJOINT: "disjoint",
    ast.SpatialComparisonOp.EQUALS: "equals",
    ast.SpatialComparisonOp.TOUCHES: "touches",
    ast.SpatialComparisonOp.CROSSES: "crosses",
    ast.SpatialComparisonOp.OVERLAPS: "overlaps",
}


def to_q(node: ast.Node, layer: Layer) -> Q:
    """A Q over `layer`'s model for an AST from `parse_filter`. Property names must be the layer's
    public attribute names as the catalogue spells them, or `geometry`; OGCException (400) otherwise."""
    return _Translator(layer).q(node)


def _operands(node: ast.Combination) -> list[ast.Node]:
    """The operands of a chain of the same combination (And(And(a, b), c) → a, b, c), without recursion."""
    out: list[ast.Node] = []
    stack: list[ast.Node] = [node]
    while stack:
        item = stack.pop()
        if type(item) is type(node):
            stack += [item.rhs, item.lhs]
        else:
            out.append(item)
    return out


class _Translator:
    def __init__(self, layer: Layer):
        self.layer = layer
        self.attributes = {a.name: a for a in layer.public_attributes}

    def q(self, node: ast.Node) -> Q:
        if isinstance(node, ast.Combination):
            return Q(
                *(self.q(n) for n in _operands(node)), _connector=Q.AND if isinstance(node, ast.And) else Q.OR
            )
        if isinstance(node, ast.Not):
            return ~self.q(node.sub_node)
        if isinstance(node, ResourceId):
            return self._resource_id(node)
        if isinstance(node, ast.Comparison):
            return self._comparison(node)
        if isinstance(node, ast.Between):
            attr = self._attribute(node.lhs)
            q = Q(**{f"{attr.source}__range": (self._value(node.low, attr), self._value(node.high, attr))})
            return ~q if node.not_ else q
        if isinstance(node, ast.Like):
            return self._like(node)
        if isinstance(node, ast.IsNull):
            return Q(**{f"{self._attribute(node.lhs).source}__isnull": not node.not_})
        if isinstance(node, ast.SpatialComparisonPredicate) and node.op in _SPATIAL_LOOKUPS:
            self._geometry_property(node.lhs)
            return Q(**{f"{GEOMETRY_FIELD}__{_SPATIAL_LOOKUPS[node.op]}": _geos(node.rhs)})
        if isinstance(node, ast.SpatialDistancePredicate):
            self._geometry_property(node.lhs)
            q = Q(**{f"{GEOMETRY_FIELD}__dwithin": (_geos(node.rhs), to_metres(node.distance, node.units))})
            if isinstance(node, ast.DistanceBeyond):  # a feature without a geometry is at no distance
                return ~q & Q(**{f"{GEOMETRY_FIELD}__isnull": False})
            return q
        if isinstance(node, ast.In):
            attr = self._attribute(node.lhs)
            q = Q(**{f"{attr.source}__in": [self._value(v, attr) for v in node.sub_nodes]})
            return ~q if node.not_ else q
        if isinstance(node, ast.Include):  # CQL2 TRUE, or FALSE as a negated INCLUDE
            return Q(pk__in=[]) if node.not_ else Q()
        if isinstance(
            node, ast.TimeBefore | ast.TimeAfter | ast.TimeDuring | ast.TimeEquals | ast.TimeDisjoint
        ):
            return self._temporal(node)
        raise invalid(_("This filter operator is not supported."))

    def _temporal(self, node: ast.TemporalPredicate) -> Q:
        """Temporal operators on an instant property (our version dates): FES During, and CQL2's
        T_* operators; the other operand is an instant or an interval whose open ends (`..`) are None.
        During is ISO 19108's: strictly inside the period."""
        attr = self._attribute(node.lhs)
        if attr.type not in ("date", "datetime"):
            raise invalid(
                _("Temporal operators apply to date properties; %(name)s is not one.") % {"name": attr.name},
                attr.name,
            )
        other = node.rhs
        if isinstance(other, values.Interval):
            start, end = other.start, other.end
        elif isinstance(other, date):
            start = end = other
        else:
            raise invalid(_("A temporal operator takes a date, a timestamp or an interval."))

        def v(moment):
            if attr.type == "date" and isinstance(moment, datetime):
                moment = moment.astimezone(UTC).date()
            return self._value(moment, attr)

        field = attr.source
        if isinstance(node, ast.TimeBefore):
            return Q(**{f"{field}__lt": v(start)}) if start is not None else Q(**{f"{field}__isnull": False})
        if isinstance(node, ast.TimeAfter):
            return Q(**{f"{field}__gt": v(end)}) if end is not None else Q(**{f"{field}__isnull": False})
        if isinstance(node, ast.TimeEquals):
            if start != end or start is None:
                raise invalid(_("T_EQUALS compares a date property with an instant."))
            return Q(**{field: v(start)})
        inside = Q(**{f"{field}__isnull": False})
        strict = isinstance(
            node, ast.TimeDuring
        )  # During: strictly inside; Disjoint: outside the closed interval
        if start is not None:
            inside &= Q(**{f"{field}__{'gt' if strict else 'gte'}": v(start)})
        if end is not None:
            inside &= Q(**{f"{field}__{'lt' if strict else 'lte'}": v(end)})
        if isinstance(node, ast.TimeDuring):
            return inside
        return Q(**{f"{field}__isnull": False}) & ~inside

    def _name(self, node: ast.Attribute) -> str | None:
        """The property's name; a path through the feature type (`dzialki/nr`, minimum XPath) only when it
        starts at the queried layer (None otherwise)."""
        head, slash, local = str(node.name).rpartition("/")
        return local if not slash or head == self.layer.name else None

    def _attribute(self, node: ast.Node) -> Attribute:
        if not isinstance(node, ast.Attribute):
            raise invalid(_("A predicate must name a property."))
        name = self._name(node)
        if name == GEOMETRY:
            raise invalid(_("The geometry can only be used in spatial operators."), GEOMETRY)
        attr = self.attributes.get(name)
        if attr is None:
            raise invalid(
                _("Unknown property %(name)s of %(layer)s.")
                % {"name": clip(str(node.name)), "layer": self.layer.name}
            )
        return attr

    def _geometry_property(self, node: ast.Node) -> None:
        if not (isinstance(node, ast.Attribute) and self._name(node) == GEOMETRY):
            raise invalid(_("Spatial operators apply to the geometry property only."))

    def _value(self, value: object, attr: Attribute) -> object:
        try:
            return cast_literal(value, attr.type)
        except ValueError:
            raise invalid(
                _("%(v)s is not a valid value of %(name)s (%(type)s).")
                % {"v": clip(str(value)), "name": attr.name, "type": attr.type},
                attr.name,
            ) from None

    def _comparison(self, node: ast.Comparison) -> Q:
        lhs, nocase = node.lhs, False
        if isinstance(lhs, ast.Function) and lhs.name == "lower" and len(lhs.arguments) == 1:
            lhs, nocase = lhs.arguments[0], True
        attr = self._attribute(lhs)
        field: object = F(attr.source)
        value: object = self._value(node.rhs, attr)
        if nocase and attr.type == "string":  # both sides lower-cased by the database
            field, value = Lower(field), Lower(Value(value, output_field=CharField()))
        q = Q(_LOOKUPS[node.op](field, value))
        # NOT over a lookup expression stays SQL's NOT: a missing value is not "not equal" either
        return ~q if node.op is ast.ComparisonOp.NE else q

    def _like(self, node: ast.Like) -> Q:
        attr = self._attribute(node.lhs)
        if attr.type != "string" or not isinstance(node.pattern, str):
            raise invalid(_("PropertyIsLike applies to text properties and a text pattern."), attr.name)
        if len(node.pattern) > MAX_LIKE_PATTERN:
            raise invalid(
                _("The Like pattern is longer than %(n)s characters.") % {"n": MAX_LIKE_PATTERN}, attr.name
            )
        regex = _like_regex(node.pattern, node.wildcard, node.singlechar, node.escapechar)
        q = Q(**{f"{attr.source}__{'iregex' if node.nocase else 'regex'}": regex})
        return ~q if node.not_ else q

    def _resource_id(self, node: ResourceId) -> Q:
        """Feature ids are `<layer>.<primary key>` (ogc.wfs.featuretypes: official ids such as
        `…/2` are not NCNames). A well-formed id of this layer that names no row matches nothing."""
        pks = []
        for rid in node.rids:
            prefix, dot, key = rid.partition(".")
            if dot and prefix == self.layer.name:
                if key.isascii() and key.isdigit() and len(key) <= 18:
                    pks.append(int(key))
            elif dot and get_layer(prefix) is not None:
                raise invalid(
                    _("The feature id %(rid)s belongs to another feature type.") % {"rid": clip(rid)},
                    "RESOURCEID",
                )
        return Q(pk__in=pks)


def _geos(value: object) -> GEOSGeometry:
    if not isinstance(value, values.Geometry):
        raise invalid(_("A spatial operator needs a geometry."))
    try:
        geom = GEOSGeometry(json.dumps(value.geometry))
    except (GEOSException, GDALException, ValueError, TypeError):
        raise invalid(_("The geometry could not be read.")) from None
    geom.srid = STORAGE_SRID  # GDAL reads GeoJSON as CRS84; our AST's coordinates are EPSG:2180
    return geom


def _like_regex(pattern: str, wildcard: str, single: str, escape: str) -> str:
    """A FES Like pattern as an anchored PostgreSQL regular expression. The declared wildcards become
    `.*` and `.`; every other character matches itself (ASCII punctuation is backslash-escaped, which a
    PostgreSQL ARE reads as that character), so `%`, `_` or `'` in data are never wildcards."""
    out = ["^"]
    chars = iter(pattern)
    for ch in chars:
        if ch == escape:
            literal = next(chars, None)
            if literal is None:
                raise invalid(_("The Like pattern ends with its escape character."))
            out.append(_regex_literal(literal))
        elif ch == wildcard:
            if out[-1] != ".*":  # runs of wildcards are one
                out.append(".*")
        elif ch == single:
            out.append(".")
        else:
            out.append(_regex_literal(ch))
    out.append("$")
    return "".join(out)


def _regex_literal(ch: str) -> str:
    return "\\" + ch if ch.isascii() and not ch.isalnum() else ch
