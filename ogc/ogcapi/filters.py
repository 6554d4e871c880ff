"""The `filter` parameter of /items: CQL2 text (the default of OGC API – Features Part 3), CQL2 JSON,
or the older ECQL text that pygeoapi reads. The view parses it here, with our own messages, and hands
the tree to pygeoapi through `parsed_filter`, which replaces pygeoapi's own ECQL parsing."""

from __future__ import annotations

import json
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils.translation import gettext as _

from ..filters.cql2 import CQL2Error, CQL2TooLarge, parse_cql2_text

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
        except Exception:  # noqa: BLE001 - any failure of the parser is a bad filter
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
    except Exception:  # noqa: BLE001 - lark raises many kinds; RecursionError on deep nesting
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
