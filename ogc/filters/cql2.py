"""CQL2 text (OGC 21-065, OGC API – Features Part 3) → the pygeofilter AST that `compile.to_q` turns into
a Django Q. Our own small recursive-descent parser, because pygeofilter's CQL2 text grammar misses
parts of the standard (INTERVAL with date strings, BBOX literals, `_` as the LIKE single-character
wildcard) and gives no say over nesting.

Supported: AND / OR / NOT and parentheses; = <> < > <= >=; [NOT] LIKE with `%` and `_` and `\\` as
escape; [NOT] BETWEEN; [NOT] IN (...); IS [NOT] NULL; CASEI() on both sides of a comparison or LIKE;
S_INTERSECTS, S_EQUALS, S_DISJOINT, S_TOUCHES, S_WITHIN, S_OVERLAPS, S_CROSSES, S_CONTAINS with WKT
or BBOX literals; T_BEFORE, T_AFTER, T_DURING, T_EQUALS, T_DISJOINT, T_INTERSECTS with DATE(),
TIMESTAMP() and INTERVAL() (open ends `..`); TRUE / FALSE. Property names are identifiers or
double-quoted. Geometry literals are in the filter CRS (CRS84 unless `filter-crs` says otherwise),
x/y as written. Nesting deeper than `MAX_DEPTH` and filters longer than `MAX_TOKENS` are refused
while parsing, before anything is built or evaluated.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from django.utils.translation import gettext as _
from pygeofilter import ast, values

MAX_DEPTH = 30
MAX_TOKENS = 20_000


class CQL2Error(ValueError):
    """A filter that is not CQL2 text we understand; the message is safe to show."""


class CQL2TooLarge(CQL2Error):
    """A filter over the nesting or size caps: refused whatever language it might be in."""


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<qident>"(?:[^"]|"")+")
  | (?P<number>[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
  | (?P<op><>|<=|>=|=|<|>)
  | (?P<punct>[(),])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.:]*)
""",
    re.X,
)
_GEOMETRY_TYPES = {
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
    "GEOMETRYCOLLECTION",
}
_SPATIAL = {
    "S_INTERSECTS": ast.GeometryIntersects,
    "S_EQUALS": ast.GeometryEquals,
    "S_DISJOINT": ast.GeometryDisjoint,
    "S_TOUCHES": ast.GeometryTouches,
    "S_WITHIN": ast.GeometryWithin,
    "S_OVERLAPS": ast.GeometryOverlaps,
    "S_CROSSES": ast.GeometryCrosses,
    "S_CONTAINS": ast.GeometryContains,
}
_TEMPORAL = {
    "T_BEFORE": ast.TimeBefore,
    "T_AFTER": ast.TimeAfter,
    "T_DURING": ast.TimeDuring,
    "T_EQUALS": ast.TimeEquals,
    "T_DISJOINT": ast.TimeDisjoint,
    "T_INTERSECTS": None,
}
_UNSUPPORTED_FUNCTIONS = {
    "ACCENTI",
    "A_EQUALS",
    "A_CONTAINS",
    "A_CONTAINEDBY",
    "A_OVERLAPS",
    "T_CONTAINS",
    "T_FINISHEDBY",
    "T_FINISHES",
    "T_MEETS",
    "T_METBY",
    "T_OVERLAPPEDBY",
    "T_OVERLAPS",
    "T_STARTEDBY",
    "T_STARTS",
}
_COMPARISONS = {
    "=": ast.Equal,
    "<>": ast.NotEqual,
    "<": ast.LessThan,
    ">": ast.GreaterThan,
    "<=": ast.LessEqual,
    ">=": ast.GreaterEqual,
}
_KEYWORDS = {"AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE"}


class _Casei:
    """CASEI(x) while parsing: the comparison or LIKE around it becomes case-insensitive."""

    def __init__(self, inner):
        self.inner = inner


def parse_cql2_text(text: str) -> ast.Node:
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise CQL2Error(
                    _("Unexpected character %(c)r at position %(pos)s of the filter.")
                    % {"c": text[pos], "pos": pos + 1}
                )
            if m.lastgroup != "ws":
                self.tokens.append((m.lastgroup, m.group(), pos))
                if len(self.tokens) > MAX_TOKENS:
                    raise CQL2TooLarge(_("The filter is too large."))
            pos = m.end()
        self.i = 0
        self.depth = 0

    # ---- tokens
    def _peek(self, k: int = 0) -> tuple[str, str, int] | None:
        j = self.i + k
        return self.tokens[j] if j < len(self.tokens) else None

    def _word(self, k: int = 0) -> str:
        t = self._peek(k)
        return t[1].upper() if t and t[0] == "ident" else ""

    def _take(self) -> tuple[str, str, int]:
        t = self._peek()
        if t is None:
            raise CQL2Error(_("The filter ends too early."))
        self.i += 1
        return t

    def _expect(self, value: str) -> None:
        t = self._take()
        if t[1].upper() != value:
            raise self._unexpected(t, value)

    def _accept_word(self, word: str) -> bool:
        if self._word() == word:
            self.i += 1
            return True
        return False

    def _unexpected(self, t, wanted: str | None = None) -> CQL2Error:
        if t is None:
            return CQL2Error(_("The filter ends too early."))
        if wanted:
            return CQL2Error(
                _("Expected %(w)s at position %(pos)s of the filter, found %(t)s.")
                % {"w": wanted, "pos": t[2] + 1, "t": t[1][:30]}
            )
        return CQL2Error(
            _("Unexpected %(t)s at position %(pos)s of the filter.") % {"t": t[1][:30], "pos": t[2] + 1}
        )

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise CQL2TooLarge(_("The filter is nested more than %(n)s levels deep.") % {"n": MAX_DEPTH})

    # ---- grammar
    def parse(self) -> ast.Node:
        if not self.tokens:
            raise CQL2Error(_("The filter is empty."))
        node = self._or()
        if self._peek() is not None:
            raise self._unexpected(self._peek())
        return node

    def _or(self) -> ast.Node:
        node = self._and()
        while self._accept_word("OR"):
            node = ast.Or(node, self._and())
        return node

    def _and(self) -> ast.Node:
        node = self._not()
        while self._accept_word("AND"):
            node = ast.And(node, self._not())
        return node

    def _not(self) -> ast.Node:
        if self._accept_word("NOT"):
            self._enter()
            node = ast.Not(self._not())
            self.depth -= 1
            return node
        return self._primary()

    def _primary(self) -> ast.Node:
        t = self._peek()
        if t is None:
            raise self._unexpected(None)
        if t[1] == "(":
            self.i += 1
            self._enter()
            node = self._or()
            self.depth -= 1
            self._expect(")")
            return node
        word = self._word()
        if word in _SPATIAL:
            return self._spatial(word)
        if word in _TEMPORAL:
            return self._temporal(word)
        if word in _UNSUPPORTED_FUNCTIONS:
            raise CQL2Error(_("%(f)s is not supported by this server.") % {"f": word})
        nxt = self._peek(1)
        if word in ("TRUE", "FALSE") and not (
            nxt and (nxt[0] == "op" or nxt[1].upper() in ("IS", "IN", "NOT", "LIKE", "BETWEEN"))
        ):
            self.i += 1
            return ast.Include(word == "FALSE")  # pygeofilter: INCLUDE, or EXCLUDE as a negated INCLUDE
        return self._predicate()

    def _predicate(self) -> ast.Node:
        lhs = self._scalar()
        negate = self._accept_word("NOT")
        word = self._word()
        if word == "LIKE":
            self.i += 1
            return self._like(lhs, self._scalar(), negate)
        if word == "BETWEEN":
            self.i += 1
            low = self._scalar()
            self._expect("AND")
            high = self._scalar()
            return ast.Between(_plain(lhs), _plain(low), _plain(high), negate)
        if word == "IN":
            self.i += 1
            items = [_plain(v) for v in self._arguments(self._scalar)]
            return ast.In(_plain(lhs), items, negate)
        if negate:
            raise self._unexpected(self._peek(), "LIKE, BETWEEN or IN")
        if word == "IS":
            self.i += 1
            not_ = self._accept_word("NOT")
            self._expect("NULL")
            return ast.IsNull(_plain(lhs), not_)
        t = self._peek()
        if t is None or t[0] != "op":
            raise self._unexpected(t, _("a comparison operator"))
        self.i += 1
        rhs = self._scalar()
        op = _COMPARISONS[t[1]]
        nocase = isinstance(lhs, _Casei) or isinstance(rhs, _Casei)
        left, right = _plain(lhs), _plain(rhs)
        if nocase:
            left = ast.Function("lower", [left])
            right = right.lower() if isinstance(right, str) else right
        return op(left, right)

    def _like(self, lhs, pattern, negate: bool) -> ast.Like:
        nocase = isinstance(lhs, _Casei) or isinstance(pattern, _Casei)
        pattern = _plain(pattern)
        if not isinstance(pattern, str):
            raise CQL2Error(_("LIKE takes a text pattern."))
        return ast.Like(_plain(lhs), pattern, nocase, "%", "_", "\\", negate)

    def _scalar(self):
        t = self._take()
        kind, value = t[0], t[1]
        if kind == "string":
            return value[1:-1].replace("''", "'")
        if kind == "number":
            return float(value) if any(c in value for c in ".eE") else int(value)
        if kind == "qident":
            return ast.Attribute(value[1:-1].replace('""', '"'))
        if kind == "ident":
            word = value.upper()
            if word in ("CASEI", "ACCENTI"):
                if word == "ACCENTI":
                    raise CQL2Error(_("%(f)s is not supported by this server.") % {"f": word})
                self._expect("(")
                inner = self._scalar()
                self._expect(")")
                return _Casei(inner)
            if word in ("DATE", "TIMESTAMP"):
                return self._instant(word)
            if word in ("TRUE", "FALSE"):
                return word == "TRUE"
            if word in _KEYWORDS:
                raise self._unexpected(t)
            if self._peek() and self._peek()[1] == "(":
                raise CQL2Error(_("Function %(f)s is not supported by this server.") % {"f": value[:40]})
            return ast.Attribute(value)
        raise self._unexpected(t)

    def _instant(self, word: str):
        self._expect("(")
        t = self._take()
        if t[0] != "string":
            raise self._unexpected(t, _("a quoted date"))
        self._expect(")")
        return _instant_value(word, t[1][1:-1])

    def _arguments(self, read, n: int | None = None) -> list:
        """`( a, b, ... )`, each read by `read`; exactly `n` of them when given."""
        self._expect("(")
        items = [read()]
        while self._peek() and self._peek()[1] == ",":
            self.i += 1
            items.append(read())
        if n is not None and len(items) != n:
            raise self._unexpected(self._peek(), ")")
        self._expect(")")
        return items

    def _spatial(self, word: str) -> ast.Node:
        self.i += 1
        lhs, rhs = self._arguments(self._geometry_operand, 2)
        return _SPATIAL[word](lhs, rhs)

    def _geometry_operand(self):
        t = self._peek()
        word = self._word()
        if word in _GEOMETRY_TYPES:
            return self._wkt()
        if word == "BBOX":
            self.i += 1
            nums = self._arguments(self._number)
            if len(nums) == 6:
                nums = [nums[0], nums[1], nums[3], nums[4]]
            if len(nums) != 4:
                raise CQL2Error(_("BBOX takes four (or six) numbers."))
            x0, y0, x1, y1 = nums
            ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
            return values.Geometry({"type": "Polygon", "coordinates": [ring]})
        if t is not None and t[0] in ("ident", "qident"):
            return _plain(self._scalar())
        raise self._unexpected(t, _("a geometry"))

    def _number(self) -> float:
        t = self._take()
        if t[0] != "number":
            raise self._unexpected(t, _("a number"))
        return float(t[1])

    def _wkt(self) -> values.Geometry:
        """A WKT literal: from its keyword to the matching closing parenthesis."""
        import shapely
        from shapely.errors import ShapelyError

        start = self._take()[2]
        if self._peek() and self._word() in ("Z", "M", "ZM"):
            self.i += 1
        depth = 0
        end = None
        while True:
            t = self._take()
            if t[1] == "(":
                depth += 1
                if depth > 8:
                    raise CQL2Error(_("The geometry is nested too deeply."))
            elif t[1] == ")":
                depth -= 1
                if depth == 0:
                    end = t[2] + 1
                    break
            elif t[0] not in ("number", "punct") and not (
                t[0] == "ident" and t[1].upper() in _GEOMETRY_TYPES | {"EMPTY"}
            ):
                raise self._unexpected(t, _("a coordinate"))
        try:
            geom = shapely.from_wkt(self.text[start:end])
        except (ShapelyError, ValueError):
            raise CQL2Error(
                _("The geometry at position %(pos)s cannot be read.") % {"pos": start + 1}
            ) from None
        if geom is None or geom.is_empty:
            raise CQL2Error(_("The geometry at position %(pos)s is empty.") % {"pos": start + 1})
        return values.Geometry(shapely.geometry.mapping(geom))

    def _temporal(self, word: str) -> ast.Node:
        self.i += 1
        lhs, rhs = self._arguments(self._temporal_operand, 2)
        if not isinstance(lhs, ast.Attribute):
            lhs, rhs = rhs, lhs
            if word in ("T_BEFORE", "T_AFTER"):
                word = "T_AFTER" if word == "T_BEFORE" else "T_BEFORE"
            elif word == "T_DURING":
                raise CQL2Error(_("T_DURING compares a property with an interval."))
        if word == "T_INTERSECTS":
            return ast.Not(ast.TimeDisjoint(lhs, rhs))
        return _TEMPORAL[word](lhs, rhs)

    def _temporal_operand(self):
        word = self._word()
        if word == "INTERVAL":
            self.i += 1
            start, end = self._arguments(self._interval_end, 2)
            return values.Interval(start, end)
        value = self._scalar()
        if isinstance(value, ast.Attribute | date):
            return value
        raise CQL2Error(_("A temporal operator takes a property, DATE(), TIMESTAMP() or INTERVAL()."))

    def _interval_end(self):
        t = self._peek()
        if t and t[0] == "string":
            self.i += 1
            text = t[1][1:-1]
            if text == "..":
                return None
            return _instant_value("TIMESTAMP" if "T" in text else "DATE", text)
        value = self._scalar()
        if isinstance(value, date):
            return value
        raise CQL2Error(_("INTERVAL takes dates, timestamps or '..'."))


def _instant_value(word: str, text: str):
    try:
        if word == "DATE":
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        raise CQL2Error(_("%(v)s is not a valid %(w)s.") % {"v": text[:40], "w": word}) from None


def _plain(value):
    if isinstance(value, _Casei):
        inner = value.inner
        return inner.lower() if isinstance(inner, str) else inner
    return value
