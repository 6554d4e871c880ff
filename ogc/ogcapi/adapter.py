"""Every place where we reach into pygeoapi 0.21 beyond its handler functions (`landing_page`,
`get_collection_items`, ...) and its provider interface, in one module. A pygeoapi upgrade is checked
here and by tests/ogc/test_pygeoapi_adapter.py, which fails naming the attribute or call that changed.

`install()` (once per process, from config.api()) replaces:
- `itemtypes.transform_bbox`: the bbox the view parsed (bbox.py) instead of pygeoapi's transformation;
- `itemtypes.parse_ecql_text`: the CQL2 tree the view parsed (filters.py) instead of pygeoapi's ECQL;
- `itemtypes.modify_pygeofilter`: its literals in EPSG:2180, clipped to its area (filters.py);
- `itemtypes.CONFORMANCE_CLASSES_FEATURES`: what we do (not Part 4 editing);
- `api.CONFORMANCE_CLASSES`: with a list that adds each class once, because pygeoapi's `conformance`
  extends this module list in place on every call (it grew without bound);
- `util.Translations`: our templates' {% trans %} texts from our django.po, in Polish and English.
Besides, `forget_translated_config()` empties the per-locale config cache of `l10n` when the
configuration changes, and `api_request()` builds pygeoapi's request, with the query parameters the
view decided on (its private `_args`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from django.conf import settings

from .bbox import for_pygeoapi
from .filters import parsed_filter, prepared_filter

PYGEOAPI_VERSION = "0.21.0"  # the version this module was written for; requirements.lock pins it

_F = "http://www.opengis.net/spec/ogcapi-features-"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
FEATURES_CONFORMANCE = [
    f"{_F}1/1.0/conf/core",
    f"{_F}1/1.0/conf/oas30",
    f"{_F}1/1.0/conf/html",
    f"{_F}1/1.0/conf/geojson",
    f"{_F}2/1.0/conf/crs",
    f"{_F}3/1.0/conf/queryables",
    f"{_F}3/1.0/conf/queryables-query-parameters",
    f"{_F}3/1.0/conf/filter",
    f"{_F}3/1.0/conf/features-filter",
    f"{_CQL2}cql2-text",
    f"{_CQL2}cql2-json",
    f"{_CQL2}basic-cql2",
    f"{_CQL2}advanced-comparison-operators",
    f"{_CQL2}case-insensitive-comparison",
    f"{_CQL2}basic-spatial-functions",
    f"{_CQL2}basic-spatial-functions-plus",
    f"{_CQL2}spatial-functions",
    f"{_CQL2}temporal-functions",
]

_lock = threading.Lock()
_installed = False


class OnceEach(list):
    """A list to which `extend` adds only the items it does not hold yet."""

    def extend(self, items: Iterable) -> None:
        super().extend([i for i in dict.fromkeys(items) if i not in self])


class DjangoCatalog:
    """What pygeoapi asks Babel for when it renders a template (`Translations.load(locale_dir, [locale])`):
    pygeoapi ships no catalogue, so our templates' {% trans %} texts come from our django.po."""

    @staticmethod
    def load(dirname=None, locales=None, domain=None):
        from django.utils.translation import trans_real

        code = str((locales or [None])[0] or settings.LANGUAGE_CODE).replace("-", "_").split("_")[0].lower()
        return trans_real.translation(code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE)


def install() -> None:
    """Put our replacements into pygeoapi's modules; later calls do nothing."""
    global _installed
    with _lock:
        if _installed:
            return
        import pygeoapi.api as core
        import pygeoapi.api.itemtypes as itemtypes
        import pygeoapi.util as util

        itemtypes.transform_bbox = for_pygeoapi
        itemtypes.parse_ecql_text = parsed_filter
        itemtypes.modify_pygeofilter = prepared_filter
        itemtypes.CONFORMANCE_CLASSES_FEATURES[:] = FEATURES_CONFORMANCE
        core.CONFORMANCE_CLASSES = OnceEach(core.CONFORMANCE_CLASSES)
        util.Translations = DjangoCatalog
        _installed = True


def forget_translated_config() -> None:
    """pygeoapi keeps the config its templates see per locale for the life of the process: drop it when
    the config changes, or pages would keep the first public URL (the map's WMS on another origin: CSP)."""
    import pygeoapi.l10n as l10n

    l10n._cfg_cache.clear()


def api_request(request, locales, params=None):
    """pygeoapi's APIRequest of a Django request; `params` (a QueryDict) replaces its query parameters."""
    from pygeoapi.api import APIRequest

    req = APIRequest.from_django(request, locales)
    if params is not None:
        req._args = params
    return req
