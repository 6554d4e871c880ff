"""The `filter` parameter of /items: CQL2 text (the default of OGC API – Features Part 3), CQL2 JSON,
or the older ECQL text that pygeoapi reads. The view parses it here, with our own messages, brings its
geometry literals into EPSG:2180 (`to_storage`) and hands the tree to pygeoapi through `parsed_filter`
and `prepared_filter`, which replace pygeoapi's own ECQL parsing and CRS transformation.

Literals are clipped to the area of EPSG:2180 before they are transformed, as bbox is (bbox.py): a
polygon at the equator would become infinite coordinates (a 500 from PostGIS). No feature lies outside
that area, so clipping changes nothing for S_INTERSECTS, S_DISJOINT and S_WITHIN (a literal far away
selects nothing, or all for S_DISJOINT); other operators would compare with a cut literal, so they
refuse literals that reach beyond it (400)."""

from __future__ import annotations

import json
import math
from contextlib import contextmanager
from contextvars import ContextVar

import shapely
from django.utils.translation import gettext as _
from pygeofilter import ast, values

from ..common.crs import CrsRef, InvalidCRS, Protocol, parse_crs
from ..filters.cql2 import CQL2Error, CQL2TooLarge, parse_cql2_text
from .bbox import CRS84_URI, within_storage_area
from .bbox import to_storage as _area_to_storage

LANGUAGES = ("cql2-text", "cql2-json", "cql-text", "cql-json", "ecql-text")
_CURRENT: ContextVar = ContextVar("gisportal_ogcapi_filter", default=None)


def parse_filter(text: str | None, lang: str | None):
    """The filter's AST (None without a filter); CQL2Error with a message for the user, also for an
    unknown language when no filter is given."""
    if lang is not None and lang not in LANGUAGES:
        raise CQL2Error(_("Unknown filter-lang %(l)s; use cql2-text or cql2-json.") % {"l": lang[:30]})
    if text is None:
        return None
    if lang in ("cql2-json", "cql-json"):
        from pygeofilter.parsers.cql2_json import parse as parse_json

        try:
            return parse_json(json.loads(text))
        except Exception:
            raise CQL2Error(_("The filter is not valid CQL2 JSON.")) from None
    if lang in ("cql-text", "ecql-text"):
        return _ecql(text)
    try:
        return parse_cql2_text(text)
    except CQL2TooLarge:
        raise
    except CQL2Error:
        if lang is None:  # no language named: clients that still send ECQL (INTERSECTS(...)) keep working
            try:
                return _ecql(text)
            except CQL2Error:
                pass
        raise


def _ecql(text: str):
    from pygeofilter.parsers.ecql import parse as parse_ecql

    try:
        return parse_ecql(text)
    except Exception:
        raise CQL2Error(_("The filter is not valid CQL text.")) from None


@contextmanager
def using(tree):
    """`with using(tree):` pygeoapi's parsing of the filter returns `tree`."""
    token = _CURRENT.set(tree)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def parsed_filter(text: str):
    """Stands in for pygeoapi's `parse_ecql_text`: the tree the view parsed for this request."""
    tree = _CURRENT.get()
    if tree is None:
        return _ecql(text)
    return tree


def prepared_filter(tree, *, filter_crs_uri: str | None = None, **_kwargs):
    """Stands in for pygeoapi's `modify_pygeofilter`: the view's tree is in EPSG:2180 already; a tree
    pygeoapi parsed itself (a CQL2 JSON body) is brought there now (CQL2Error: pygeoapi's 400)."""
    if tree is not None and tree is _CURRENT.get():
        return tree
    return to_storage(tree, filter_crs_uri)


def _exact_when_clipped(node, field: str) -> bool:
    """Whether clipping the literal in `field` of `node` to the area of EPSG:2180 keeps the answer."""
    if isinstance(node, ast.GeometryIntersects | ast.GeometryDisjoint):
        return True
    return (isinstance(node, ast.GeometryWithin) and field == "rhs") or (
        isinstance(node, ast.GeometryContains) and field == "lhs"
    )


def _literal_crs(literal: values.Geometry, default: CrsRef) -> CrsRef:
    inline = (literal.geometry.get("crs") or {}).get("properties", {}).get("name")  # EWKT SRID=…;
    if not inline:
        return default
    try:
        return parse_crs(inline, Protocol.WFS)  # a URN: the CRS's own axis order, as pygeoapi reads it
    except InvalidCRS as e:
        raise CQL2Error(str(e.message)) from None


def _literal_to_storage(literal: values.Geometry, crs: CrsRef, exact: bool) -> None:
    try:
        geom = shapely.geometry.shape(literal.geometry)
    except (ValueError, TypeError, AttributeError, shapely.errors.ShapelyError):
        raise CQL2Error(_("The geometry could not be read.")) from None
    if crs.swap(Protocol.WFS):  # URI (filter-crs) and URN (EWKT) forms: the CRS's own axis order
        geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
    if not all(math.isfinite(v) for v in geom.bounds if not geom.is_empty):
        raise CQL2Error(_("A geometry of the filter holds a value that is not a number."))
    if not exact and not within_storage_area(geom, crs.epsg):
        raise CQL2Error(
            _(
                "A geometry of the filter reaches beyond the area of EPSG:2180 (Poland); only S_INTERSECTS, "
                "S_DISJOINT and S_WITHIN take such geometries."
            )
        )
    out = _area_to_storage(geom, crs.epsg)
    literal.geometry = (
        {"type": "GeometryCollection", "geometries": []} if out.is_empty else shapely.geometry.mapping(out)
    )


def to_storage(tree, filter_crs: str | None):
    """The tree with its geometry literals (in `filter-crs`, CRS84 by default; an EPSG URI in the EPSG
    axis order) in EPSG:2180 with x = easting, in place. Walked without recursion: the depth caps come
    later (provider.py). CQL2Error (a 400) for a bad filter-crs or a literal we cannot take."""
    if tree is None:
        return None
    try:
        default = parse_crs(filter_crs or CRS84_URI, Protocol.OGCAPI)
    except InvalidCRS as e:
        raise CQL2Error(str(e.message)) from None
    stack = [tree]
    while stack:
        node = stack.pop()
        for field, value in vars(node).items():
            for child in value if isinstance(value, list | tuple) else (value,):
                if isinstance(child, values.Geometry):
                    _literal_to_storage(child, _literal_crs(child, default), _exact_when_clipped(node, field))
                elif isinstance(child, ast.Node):
                    stack.append(child)
    return tree
