"""WFS filters: FES 2.0 (WFS 2.0) and Filter 1.1 (WFS 1.1) XML → pygeofilter AST, which
compile.py turns into a Django Q (OGC.md §2 axis order, §3 F6–F8, §6 security).

`parse_filter` reads the XML itself with a locked-down lxml parser and checks size, DOCTYPE, element
count and logical nesting before walking it into `pygeofilter.ast` nodes. pygeofilter's own FES
parser is not used: its string path takes lxml's default parser, it recurses without a limit, needs
pygml for GML and ignores srsName axis order, and it lacks ResourceId/FeatureId, PropertyIsNil,
matchCase on comparisons, Filter 1.1's `escape` and Distance units.

Geometries are read in the filter version's GML (3.2 for FES 2.0, 3.1.1 for Filter 1.1), except
envelopes, which real clients send in either GML: a gml:Envelope of GML 3.1.1 or 3.2 in every
encoding its schema allows (lowerCorner/upperCorner, two pos, two coord, coordinates) and GML 2's
gml:Box (GDAL's WFS 1.1 `-spat`). A spatial operator's property may be omitted or `ows:BoundingBox`
(OWSLib's BBox): both mean the geometry. The AST is the one compile.py documents: geometries in
EPSG:2180 with x = easting, distances in metres, `matchCase="false"` as `Function("lower")`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.contrib.gis.geos import (
    GEOSException,
    GEOSGeometry,
    LinearRing,
    LineString,
    MultiPolygon,
    Point,
    Polygon,
)
from django.utils.translation import gettext as _
from lxml import etree
from pygeofilter import ast, values
from pyproj import Transformer
from pyproj.exceptions import ProjError

from ..common.crs import CrsRef, InvalidCRS, Protocol, parse_crs
from .compile import GEOMETRY, NUMBER, STORAGE_SRID, ResourceId, clip, invalid, parse_datetime, to_metres

__all__ = ["parse_filter"]

MAX_BYTES = 1 << 20
MAX_LOGICAL_DEPTH = 30
MAX_ELEMENTS = 5_000
MAX_VERTICES = 100_000
MAX_COORDINATE = 1e9  # in any CRS's units; larger numbers are mistakes (and overflow box arithmetic)
DEFAULT_SRS = "urn:ogc:def:crs:EPSG::2180"  # the WFS DefaultCRS: north first (OGC.md §2)
ENVELOPE_EDGE_POINTS = 16  # an envelope given in another CRS is densified before it is transformed

FES20 = "http://www.opengis.net/fes/2.0"
OGC = "http://www.opengis.net/ogc"
GML32 = "http://www.opengis.net/gml/3.2"
GML311 = "http://www.opengis.net/gml"  # also GML 2's namespace (gml:Box, gml:coordinates)
OWS_NAMESPACES = frozenset(
    {"http://www.opengis.net/ows", "http://www.opengis.net/ows/1.1", "http://www.opengis.net/ows/2.0"}
)


@dataclass(frozen=True)
class _Dialect:
    fes: str
    gml: str
    property: str  # the element naming a property
    ids: dict[str, str]  # id element → attribute holding the id
    only_here: frozenset[str]  # operators of this version alone


_DIALECTS = {
    "2.0": _Dialect(
        FES20, GML32, "ValueReference", {"ResourceId": "rid"}, frozenset({"PropertyIsNil", "During"})
    ),
    "1.1": _Dialect(
        OGC, GML311, "PropertyName", {"FeatureId": "fid", "GmlObjectId": f"{{{GML311}}}id"}, frozenset()
    ),
}

_COMPARISONS: dict[str, type[ast.Comparison]] = {
    "PropertyIsEqualTo": ast.Equal,
    "PropertyIsNotEqualTo": ast.NotEqual,
    "PropertyIsLessThan": ast.LessThan,
    "PropertyIsGreaterThan": ast.GreaterThan,
    "PropertyIsLessThanOrEqualTo": ast.LessEqual,
    "PropertyIsGreaterThanOrEqualTo": ast.GreaterEqual,
}
# `Literal op property` is read as `property flipped-op literal`
_FLIPPED: dict[type[ast.Comparison], type[ast.Comparison]] = {
    ast.LessThan: ast.GreaterThan,
    ast.GreaterThan: ast.LessThan,
    ast.LessEqual: ast.GreaterEqual,
    ast.GreaterEqual: ast.LessEqual,
}
_SPATIAL: dict[str, type[ast.SpatialComparisonPredicate]] = {
    "BBOX": ast.GeometryIntersects,
    "Intersects": ast.GeometryIntersects,
    "Within": ast.GeometryWithin,
    "Contains": ast.GeometryContains,
    "Disjoint": ast.GeometryDisjoint,
    "Equals": ast.GeometryEquals,
    "Touches": ast.GeometryTouches,
    "Crosses": ast.GeometryCrosses,
    "Overlaps": ast.GeometryOverlaps,
}
_DISTANCE: dict[str, type[ast.SpatialDistancePredicate]] = {
    "DWithin": ast.DistanceWithin,
    "Beyond": ast.DistanceBeyond,
}
_LOGICAL = ("And", "Or", "Not")
_GML_METADATA = ("description", "descriptionReference", "identifier", "name")  # skipped in geometries

# a bare or prefixed (any NCName prefix) property name; XPath steps, axes, predicates, functions fail
_STEP = re.compile(r"(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_]\w*)(?:\[\s*1\s*\])?", re.ASCII)


def property_path(text: str) -> str | None:
    """A property of a (flat) feature in the FES 2.0 minimum XPath subset: `name`, `prefix:name`, `name[1]`,
    `./name`, each also after the feature type's own name (`dzialki/nr`, `gisportal:dzialki/gisportal:nr`).
    Returns `name` or `type/name` (the compiler checks the type against the queried layer); None for any
    other path (axes, functions, other predicates, deeper paths: our properties are single-valued and flat)."""
    names = []
    for step in text.split("/"):
        step = step.strip()
        if step == ".":
            continue
        m = _STEP.fullmatch(step)
        if not m:
            return None
        names.append(m.group(1))
    return "/".join(names) if 1 <= len(names) <= 2 else None


# ------------------------------------------------------------------------------------- parsing
def parse_filter(xml: str | bytes, *, version: str) -> ast.Node:
    """The AST of a FES 2.0 (`version` "2.0") or Filter 1.1 ("1.1") `Filter` document; an
    OGCException (400, InvalidParameterValue) for anything unsafe, malformed or unsupported."""
    dialect = _DIALECTS.get(version[:3])
    if dialect is None:
        raise ValueError(f"no filter dialect for WFS version {version!r}")
    root = _read_xml(xml)
    _check_limits(root, dialect)
    return _Parser(dialect).filter(root)


def _read_xml(xml: str | bytes) -> etree._Element:
    data = (
        xml.encode("utf-8", "surrogatepass") if isinstance(xml, str) else xml
    )  # lxml refuses lone surrogates
    if len(data) > MAX_BYTES:
        raise invalid(_("The filter is larger than 1 MB."))
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        encoding="utf-8" if isinstance(xml, str) else None,
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError, LookupError):  # LookupError: an unknown declared encoding
        raise invalid(_("The filter is not well-formed XML or is nested too deeply.")) from None
    if root.getroottree().docinfo.doctype:
        raise invalid(_("A filter must not contain a document type declaration."))
    return root


def _check_limits(root: etree._Element, dialect: _Dialect) -> None:
    """Element count and nesting of logical operators, checked without recursion before the walk."""
    logical = {f"{{{dialect.fes}}}{name}" for name in _LOGICAL}
    count = depth = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        if event == "end":
            depth -= el.tag in logical
            continue
        count += 1
        depth += el.tag in logical
        if count > MAX_ELEMENTS:
            raise invalid(_("The filter has more than %(n)s elements.") % {"n": MAX_ELEMENTS})
        if depth > MAX_LOGICAL_DEPTH:
            raise invalid(
                _("Logical operators are nested more than %(n)s levels deep.") % {"n": MAX_LOGICAL_DEPTH}
            )


class _Parser:
    def __init__(self, dialect: _Dialect):
        self.d = dialect
        self.vertices = 0  # over the whole filter

    def _fes(self, el: etree._Element) -> str:
        """Local name of an element of this version's filter namespace, '' for any other element."""
        qname = etree.QName(el)
        return qname.localname if qname.namespace == self.d.fes else ""

    def _gml(self, el: etree._Element) -> str:
        qname = etree.QName(el)
        return qname.localname if qname.namespace == self.d.gml else ""

    def _parts(self, el: etree._Element) -> list[etree._Element]:
        """The children of a GML geometry element but its descriptive metadata."""
        return [c for c in el if self._gml(c) not in _GML_METADATA]

    def _gml_attribute(self, el: etree._Element, name: str) -> str | None:
        # OWSLib writes srsName and srsDimension in the GML namespace (of the element's GML version)
        return el.get(name) or el.get(f"{{{etree.QName(el).namespace}}}{name}")

    def filter(self, root: etree._Element) -> ast.Node:
        if self._fes(root) != "Filter":
            raise invalid(
                _("The filter must be a Filter element in the namespace %(ns)s.") % {"ns": self.d.fes}
            )
        children = list(root)
        if children and all(self._fes(c) in self.d.ids for c in children):
            return ResourceId(tuple(self._rid(c) for c in children))
        if len(children) != 1:
            raise invalid(_("A filter holds one predicate or a list of feature ids."))
        return self._predicate(children[0])

    def _predicate(self, el: etree._Element) -> ast.Node:
        name = self._fes(el)
        if name in ("And", "Or"):
            parts = [self._predicate(child) for child in el]
            if not parts:
                raise invalid(_("%(op)s needs operands.") % {"op": name})
            return (ast.And if name == "And" else ast.Or).from_items(*parts)
        if name == "Not":
            return ast.Not(self._predicate(self._operands(el, 1)[0]))
        if name in _COMPARISONS:
            return self._comparison(el, _COMPARISONS[name])
        if name == "PropertyIsLike":
            return self._like(el)
        if name == "PropertyIsNull" or (name == "PropertyIsNil" and name in self.d.only_here):
            return ast.IsNull(self._property(self._operands(el, 1)[0]), not_=False)
        if name == "PropertyIsBetween":
            prop, low, high = self._operands(el, 3)
            if self._fes(low) != "LowerBoundary" or self._fes(high) != "UpperBoundary":
                raise invalid(_("PropertyIsBetween needs a LowerBoundary and an UpperBoundary."))
            return ast.Between(
                self._property(prop),
                self._literal(self._operands(low, 1)[0]),
                self._literal(self._operands(high, 1)[0]),
                not_=False,
            )
        if name in _SPATIAL:
            return self._spatial(el, name)
        if name in _DISTANCE:
            return self._distance(el, name)
        if name == "During" and name in self.d.only_here:
            prop, period = self._operands(el, 2)
            return ast.TimeDuring(self._property(prop), self._period(period))
        if name in self.d.ids:
            return ResourceId((self._rid(el),))
        raise invalid(
            _("The filter operator %(op)s is not supported.") % {"op": clip(etree.QName(el).localname)}
        )

    def _operands(self, el: etree._Element, n: int) -> list[etree._Element]:
        children = list(el)
        if len(children) != n:
            raise invalid(_("%(op)s takes %(n)s operands.") % {"op": etree.QName(el).localname, "n": n})
        return children

    def _property(self, el: etree._Element) -> ast.Attribute:
        if self._fes(el) != self.d.property or len(el):
            raise invalid(_("Expected a %(el)s element.") % {"el": self.d.property})
        text = (el.text or "").strip()
        path = property_path(text)
        if path is None:
            raise invalid(_("%(name)s is not a property name.") % {"name": clip(text)})
        return ast.Attribute(path)

    def _literal(self, el: etree._Element) -> str:
        if self._fes(el) != "Literal" or len(el):
            raise invalid(_("Expected a Literal holding a single value."))
        return el.text or ""

    def _flag(self, el: etree._Element, attribute: str, default: bool) -> bool:
        value = el.get(attribute)
        if value is None:
            return default
        if value.strip() not in ("true", "false", "1", "0"):
            raise invalid(_("%(a)s must be true or false.") % {"a": attribute})
        return value.strip() in ("true", "1")

    def _comparison(self, el: etree._Element, op: type[ast.Comparison]) -> ast.Node:
        if el.get("matchAction", "Any") not in ("Any", "All", "One"):  # all our properties are single-valued
            raise invalid(_("matchAction must be Any, All or One."))
        first, second = self._operands(el, 2)
        if self._fes(first) == "Literal":
            first, second, op = second, first, _FLIPPED.get(op, op)
        lhs: ast.Node = self._property(first)
        if not self._flag(el, "matchCase", True):
            lhs = ast.Function("lower", [lhs])
        return op(lhs, self._literal(second))

    def _like(self, el: etree._Element) -> ast.Like:
        prop, pattern = self._operands(el, 2)
        chars = (el.get("wildCard"), el.get("singleChar"), el.get("escapeChar", el.get("escape")))
        if any(c is None or len(c) != 1 for c in chars) or len(set(chars)) != 3:
            raise invalid(
                _(
                    "PropertyIsLike needs three different single characters: wildCard, singleChar and escapeChar."
                )
            )
        wildcard, single, escape = chars
        return ast.Like(
            self._property(prop),
            self._literal(pattern),
            nocase=not self._flag(el, "matchCase", True),
            wildcard=wildcard,
            singlechar=single,
            escapechar=escape,
            not_=False,
        )

    def _geometry_operands(
        self, el: etree._Element, extra: int
    ) -> tuple[ast.Attribute, list[etree._Element]]:
        """An optional property (the geometry by default), then the rest of the operands."""
        children = list(el)
        prop = ast.Attribute(GEOMETRY)
        if children and self._fes(children[0]) == self.d.property:
            prop = self._geometry_property(children.pop(0))
        if len(children) != 1 + extra:
            raise invalid(_("%(op)s takes a geometry.") % {"op": etree.QName(el).localname})
        return prop, children

    def _geometry_property(self, el: etree._Element) -> ast.Attribute:
        """The property of a spatial operator. `ows:BoundingBox` (what OWSLib's BBox writes, a CSW
        queryable) stands for the default geometry, as an omitted property does."""
        prefix, colon, local = (el.text or "").strip().rpartition(":")
        if colon and local == "BoundingBox" and not len(el):
            namespace = el.nsmap.get(prefix, "http://www.opengis.net/ows" if prefix == "ows" else None)
            if namespace in OWS_NAMESPACES:
                return ast.Attribute(GEOMETRY)
        return self._property(el)

    def _spatial(self, el: etree._Element, name: str) -> ast.Node:
        prop, (operand,) = self._geometry_operands(el, 0)
        if name == "BBOX" and not _envelope_kind(operand):
            raise invalid(_("BBOX takes a gml:Envelope."))
        return _SPATIAL[name](prop, self._geometry(operand))

    def _distance(self, el: etree._Element, name: str) -> ast.Node:
        prop, (operand, distance) = self._geometry_operands(el, 1)
        if self._fes(distance) != "Distance" or len(distance):
            raise invalid(_("%(op)s needs a Distance.") % {"op": name})
        text = (distance.text or "").strip()
        if not NUMBER.fullmatch(text):
            raise invalid(_("The distance %(d)s is not a number.") % {"d": clip(text)})
        metres = to_metres(float(text), distance.get("uom", distance.get("units")))
        return _DISTANCE[name](prop, self._geometry(operand), metres, "m")

    def _period(self, el: etree._Element) -> values.Interval:
        if self._gml(el) != "TimePeriod":
            raise invalid(_("During takes a gml:TimePeriod."))
        begin, end = self._instant(el, "begin"), self._instant(el, "end")
        if begin > end:
            raise invalid(_("The time period ends before it begins."))
        return values.Interval(begin, end)

    def _instant(self, period: etree._Element, which: str) -> datetime:
        ns = self.d.gml
        pos = period.find(f"{{{ns}}}{which}Position")
        if pos is None:
            pos = period.find(f"{{{ns}}}{which}/{{{ns}}}TimeInstant/{{{ns}}}timePosition")
        text = (pos.text or "").strip() if pos is not None else ""
        try:
            return parse_datetime(text)
        except ValueError:
            raise invalid(
                _("The time period needs a %(w)s date or date-time (ISO 8601).") % {"w": which}
            ) from None

    def _rid(self, el: etree._Element) -> str:
        if any(el.get(a) is not None for a in ("version", "startDate", "endDate", "previousRid")):
            raise invalid(_("Feature versions are not supported."), "RESOURCEID")
        rid = (el.get(self.d.ids[self._fes(el)]) or "").strip()
        if not rid:
            raise invalid(_("A feature id is empty."), "RESOURCEID")
        return rid

    # ---------------------------------------------------------------------------- GML geometries
    def _geometry(self, el: etree._Element) -> values.Geometry:
        try:
            geom = self._geos(el, None)
            geom.srid = STORAGE_SRID
            reason = geom.valid_reason
        except GEOSException:
            raise invalid(_("The geometry could not be read.")) from None
        if reason != "Valid Geometry":
            raise invalid(_("The geometry is not valid: %(why)s.") % {"why": clip(reason)})
        return values.Geometry({"type": geom.geom_type, "coordinates": geom.coords})

    def _geos(self, el: etree._Element, srs: str | None) -> GEOSGeometry:
        """A GML geometry as GEOS in EPSG:2180, x = easting; `srs` is the srsName of an enclosing element."""
        kind = self._gml(el)
        srs = self._gml_attribute(el, "srsName") or srs
        if self._gml_attribute(el, "srsDimension") not in (None, "2"):
            raise invalid(_("Only two-dimensional coordinates are supported."))
        crs = _crs(srs)
        if _envelope_kind(el):
            return self._envelope(el, crs)
        if kind == "Point":
            coords = self._coords(el, crs, 1)
            if len(coords) != 1:
                raise invalid(_("A point has one position."))
            return Point(coords[0])
        if kind == "LineString":
            return LineString(self._coords(el, crs, 2))
        if kind == "Polygon":
            return self._polygon(el, crs)
        if kind in ("MultiSurface", "MultiPolygon"):
            polygons = []
            for member in self._parts(el):
                if self._gml(member) not in ("surfaceMember", "surfaceMembers", "polygonMember"):
                    raise invalid(_("%(g)s holds surface members only.") % {"g": kind})
                for polygon in member:
                    if self._gml(polygon) != "Polygon":
                        raise invalid(_("Surface members must be polygons."))
                    polygons.append(self._geos(polygon, srs))
            if not polygons:
                raise invalid(_("%(g)s needs polygon members.") % {"g": kind})
            return MultiPolygon(*polygons)
        raise invalid(
            _(
                "Unsupported geometry %(g)s: use Envelope, Point, LineString, Polygon or MultiSurface in GML %(v)s."
            )
            % {"g": clip(etree.QName(el).localname, 40), "v": "3.2" if self.d.gml == GML32 else "3.1.1"}
        )

    def _polygon(self, el: etree._Element, crs: CrsRef) -> Polygon:
        rings = []
        for i, boundary in enumerate(self._parts(el)):
            expected = "exterior" if i == 0 else "interior"
            if (
                self._gml(boundary) != expected
                or len(boundary) != 1
                or self._gml(boundary[0]) != "LinearRing"
            ):
                raise invalid(_("A polygon has one exterior and any number of interior LinearRings."))
            coords = self._coords(boundary[0], crs, 4)
            if coords[0] != coords[-1]:
                raise invalid(_("A polygon ring is not closed."))
            rings.append(LinearRing(coords))
        if not rings:
            raise invalid(_("A polygon needs an exterior ring."))
        return Polygon(*rings)

    def _envelope(self, el: etree._Element, crs: CrsRef) -> GEOSGeometry:
        """A gml:Envelope (GML 3.1.1 or 3.2) or GML 2's gml:Box in any encoding its schema allows."""
        kind, namespace = _envelope_kind(el), etree.QName(el).namespace
        children = [c for c in el if _local(c, namespace) not in _GML_METADATA]
        form = tuple(_local(c, namespace) for c in children)
        if form not in _ENVELOPE_FORMS[kind, namespace]:
            raise invalid(
                _("An envelope has a lowerCorner and an upperCorner.")
                if kind == "Envelope"
                else _("A gml:Box has two gml:coord or one gml:coordinates.")
            )
        if form == ("coordinates",):
            numbers = self._coordinates(children[0])
            if len(numbers) != 4:
                raise invalid(_("%(el)s needs two corners.") % {"el": kind})
        elif form == ("coord", "coord"):
            numbers = [n for c in children for n in self._coord(c, namespace)]
        else:
            numbers = [n for c in children for n in self._numbers(c, 2)]
        (x1, y1), (x2, y2) = _swap(numbers, crs)
        if x1 > x2 or y1 > y2:
            raise invalid(_("The envelope's lower corner is above or right of its upper corner."))
        n = 1 if crs.srid == STORAGE_SRID else ENVELOPE_EDGE_POINTS
        ring = (
            [(x1 + (x2 - x1) * i / n, y1) for i in range(n)]
            + [(x2, y1 + (y2 - y1) * i / n) for i in range(n)]
            + [(x2 - (x2 - x1) * i / n, y2) for i in range(n)]
            + [(x1, y2 - (y2 - y1) * i / n) for i in range(n)]
            + [(x1, y1)]
        )
        ring = _to_storage(ring, crs.srid)
        if x1 == x2 or y1 == y2:  # a degenerate box is a line or a point, not an (invalid) polygon
            return LineString(ring) if x1 != x2 or y1 != y2 else Point(ring[0])
        return Polygon(ring)

    def _coords(self, el: etree._Element, crs: CrsRef, minimum: int) -> list[tuple[float, float]]:
        """The positions of a Point, LineString or LinearRing (one posList or pos elements)."""
        children = self._parts(el)
        if len(children) == 1 and self._gml(children[0]) == "posList":
            numbers = self._numbers(children[0], None)
        elif children and all(self._gml(c) == "pos" for c in children):
            numbers = [n for c in children for n in self._numbers(c, 2)]
        else:
            raise invalid(_("Coordinates must be given in gml:posList or gml:pos."))
        if len(numbers) < 2 * minimum:
            raise invalid(_("Too few positions in %(g)s.") % {"g": etree.QName(el).localname})
        pairs = _swap(numbers, crs)
        return _to_storage(pairs, crs.srid)

    def _numbers(self, el: etree._Element, expected: int | None) -> list[float]:
        """The numbers of a gml:pos, posList, lowerCorner or upperCorner (pairs separated by blanks)."""
        if self._gml_attribute(el, "srsDimension") not in (None, "2"):
            raise invalid(_("Only two-dimensional coordinates are supported."))
        tokens = (el.text or "").split()
        if len(tokens) % 2 or (expected is not None and len(tokens) != expected):
            raise invalid(_("%(el)s needs pairs of coordinates.") % {"el": etree.QName(el).localname})
        self._count(len(tokens) // 2)
        return _floats(tokens)

    def _coord(self, el: etree._Element, namespace: str) -> list[float]:
        """GML 2's deprecated `<gml:coord><gml:X>…</gml:X><gml:Y>…</gml:Y></gml:coord>`."""
        names = [_local(c, namespace) for c in el]
        if names == ["X", "Y", "Z"]:
            raise invalid(_("Only two-dimensional coordinates are supported."))
        if names != ["X", "Y"] or any(len(c) for c in el):
            raise invalid(_("A gml:coord holds a gml:X and a gml:Y."))
        self._count(1)
        return _floats([(c.text or "").strip() for c in el])

    def _coordinates(self, el: etree._Element) -> list[float]:
        """GML 2's `<gml:coordinates cs="," ts=" " decimal=".">x,y x,y</gml:coordinates>`: tuples
        separated by `ts` (any run of blanks when it is a blank), numbers within them by `cs`."""
        cs, ts, decimal = el.get("cs", ","), el.get("ts", " "), el.get("decimal", ".")
        separators = (cs, ts, decimal)
        if (
            len(el)
            or any(len(c) != 1 or c.isalnum() or c in "+-" for c in separators)
            or len(set(separators)) != 3
        ):
            raise invalid(
                _("gml:coordinates needs three different single-character separators (cs, ts, decimal).")
            )
        text = (el.text or "").strip()
        tuples = text.split() if ts.isspace() else text.split(ts)
        self._count(len(tuples))  # counted before any tuple is split or converted
        numbers: list[str] = []
        for item in tuples:
            parts = [part.strip() for part in item.split(cs)]
            if len(parts) == 3:
                raise invalid(_("Only two-dimensional coordinates are supported."))
            if len(parts) != 2:
                raise invalid(_("%(el)s needs pairs of coordinates.") % {"el": "coordinates"})
            if decimal != ".":  # then a "." is no decimal point, and the number it is in fails to parse
                parts = [part.replace(".", "?").replace(decimal, ".") for part in parts]
            numbers += parts
        return _floats(numbers)

    def _count(self, vertices: int) -> None:
        self.vertices += vertices
        if self.vertices > MAX_VERTICES:
            raise invalid(_("The filter's geometries have more than %(n)s vertices.") % {"n": MAX_VERTICES})


# which children an envelope may have, by element and GML namespace (the schemas' choices)
_CORNERS, _POS, _COORD, _COORDINATES = (
    ("lowerCorner", "upperCorner"),
    ("pos", "pos"),
    ("coord", "coord"),
    ("coordinates",),
)
_ENVELOPE_FORMS: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = {
    ("Envelope", GML32): (_CORNERS, _POS, _COORDINATES),
    ("Envelope", GML311): (_CORNERS, _POS, _COORD, _COORDINATES),
    ("Box", GML311): (_COORD, _COORDINATES),  # GML 2, which GDAL sends in Filter 1.1
}


def _envelope_kind(el: etree._Element) -> str:
    """ "Envelope" or "Box" for an envelope in any GML a filter may carry, whichever the filter's
    version (FES 2.0 allows any GML; OWSLib's fes2.BBox writes GML 3.1.1); "" otherwise."""
    qname = etree.QName(el)
    return qname.localname if (qname.localname, qname.namespace) in _ENVELOPE_FORMS else ""


def _local(el: etree._Element, namespace: str) -> str:
    """Local name of an element of `namespace`, "?" for any other (a comment or PI has no name)."""
    if not isinstance(el.tag, str):
        return "?"
    qname = etree.QName(el)
    return qname.localname if qname.namespace == namespace else "?"


def _floats(tokens: list[str]) -> list[float]:
    numbers = [float(t) for t in tokens if NUMBER.fullmatch(t)]
    if len(numbers) != len(tokens) or not all(map(math.isfinite, numbers)):
        raise invalid(_("Coordinates must be finite numbers."))
    if any(abs(n) > MAX_COORDINATE for n in numbers):
        raise invalid(
            _("A coordinate is larger than %(n)s in absolute value.") % {"n": f"{MAX_COORDINATE:.0e}"}
        )
    return numbers


def _crs(srs: str | None) -> CrsRef:
    try:
        return parse_crs(srs or DEFAULT_SRS, Protocol.WFS)
    except InvalidCRS as exc:
        raise invalid(str(exc.message)) from None


def _swap(numbers: list[float], crs: CrsRef) -> list[tuple[float, float]]:
    """Coordinate pairs in x/y order: the srsName's form decides whether they came north first (§2)."""
    pairs = list(zip(numbers[0::2], numbers[1::2], strict=True))
    return [(b, a) for a, b in pairs] if crs.swap(Protocol.WFS) else pairs


@lru_cache(maxsize=8)
def _transformer(epsg: int) -> Transformer:
    return Transformer.from_crs(epsg, STORAGE_SRID, always_xy=True)


def _to_storage(pairs: list[tuple[float, float]], epsg: int) -> list[tuple[float, float]]:
    if epsg == STORAGE_SRID:
        return pairs
    try:
        xs, ys = _transformer(epsg).transform([p[0] for p in pairs], [p[1] for p in pairs], errcheck=True)
        if not all(map(math.isfinite, [*xs, *ys])):
            raise ProjError("not finite")
    except ProjError:
        raise invalid(_("The geometry lies outside the area of its coordinate reference system.")) from None
    return list(zip(xs, ys, strict=True))
