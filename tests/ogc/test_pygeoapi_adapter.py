"""What ogc/ogcapi/adapter.py relies on in pygeoapi: each test fails naming the installed pygeoapi
version and the attribute, signature or call that a pygeoapi upgrade removed or changed."""

from __future__ import annotations

import dis
import inspect
import re
from importlib import metadata
from pathlib import Path

import pytest

from ogc.ogcapi import adapter

INSTALLED = metadata.version("pygeoapi")
LOCK = Path(__file__).resolve().parents[2] / "requirements.lock"


def fail(what: str) -> None:
    pytest.fail(
        f"pygeoapi {INSTALLED}: {what}. ogc/ogcapi/adapter.py was written for pygeoapi "
        f"{adapter.PYGEOAPI_VERSION}: check the adapter against the new version.",
        pytrace=False,
    )


def need(module, name: str):
    if not hasattr(module, name):
        fail(f"{module.__name__}.{name} no longer exists")
    return getattr(module, name)


def globals_read(fn) -> set[str]:
    """The module globals a function looks up when it runs (so replacing the module attribute takes effect)."""
    return {i.argval for i in dis.get_instructions(fn) if i.opname == "LOAD_GLOBAL"}


def params(fn) -> list[tuple[str, str]]:
    return [(p.name, p.kind.name) for p in inspect.signature(fn).parameters.values()]


def test_the_pinned_version_is_installed():
    pinned = re.search(r"^pygeoapi==(\S+)", LOCK.read_text(), re.M)
    assert pinned, "requirements.lock does not pin pygeoapi"
    if not (pinned.group(1) == INSTALLED == adapter.PYGEOAPI_VERSION):
        fail(
            f"requirements.lock pins {pinned.group(1)}, {INSTALLED} is installed and "
            f"adapter.PYGEOAPI_VERSION is {adapter.PYGEOAPI_VERSION}; they must agree"
        )


# (module of the name pygeoapi calls, the name, where the original lives, its parameters, our stand-in,
#  how pygeoapi calls it)
REPLACED = [
    (
        "pygeoapi.api.itemtypes",
        "transform_bbox",
        "pygeoapi.util",
        [
            ("bbox", "POSITIONAL_OR_KEYWORD"),
            ("from_crs", "POSITIONAL_OR_KEYWORD"),
            ("to_crs", "POSITIONAL_OR_KEYWORD"),
        ],
        "ogc.ogcapi.bbox.for_pygeoapi",
        (([1, 2, 3, 4], "from", "to"), {}),
    ),
    (
        "pygeoapi.api.itemtypes",
        "parse_ecql_text",
        "pygeofilter.parsers.ecql.parse",
        [("cql_text", "POSITIONAL_OR_KEYWORD")],
        "ogc.ogcapi.filters.parsed_filter",
        (("a = 1",), {}),
    ),
    (
        "pygeoapi.api.itemtypes",
        "modify_pygeofilter",
        "pygeoapi.util",
        [
            ("ast_tree", "POSITIONAL_OR_KEYWORD"),
            ("filter_crs_uri", "KEYWORD_ONLY"),
            ("storage_crs_uri", "KEYWORD_ONLY"),
            ("geometry_column_name", "KEYWORD_ONLY"),
        ],
        "ogc.ogcapi.filters.prepared_filter",
        ((None,), {"filter_crs_uri": "u", "storage_crs_uri": "u", "geometry_column_name": "geometry"}),
    ),
]


def _resolve(dotted: str):
    import importlib

    module, _, name = dotted.rpartition(".")
    try:
        return importlib.import_module(dotted)
    except ImportError:
        return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("module, name, home, expected, ours, call", REPLACED, ids=[r[1] for r in REPLACED])
def test_replaced_functions_keep_their_names_signatures_and_calls(module, name, home, expected, ours, call):
    import pygeoapi.api.itemtypes as itemtypes

    mod = _resolve(module)
    need(mod, name)
    original = _resolve(home)
    original = need(original, name) if inspect.ismodule(original) else original
    if params(original) != expected:
        fail(f"{home}.{name} now takes {params(original)}, not {expected}")
    if name not in globals_read(itemtypes.get_collection_items):
        fail(
            f"get_collection_items no longer calls the module global {module}.{name} (our stand-in would be skipped)"
        )
    args, kwargs = call
    try:
        inspect.signature(_resolve(ours)).bind(*args, **kwargs)
    except TypeError as e:
        fail(f"our {ours} cannot take the call {name}{args, kwargs}: {e}")


def test_conformance_lists():
    import pygeoapi.api as core
    import pygeoapi.api.itemtypes as itemtypes

    if not isinstance(need(core, "CONFORMANCE_CLASSES"), list):
        fail("pygeoapi.api.CONFORMANCE_CLASSES is no longer a list")
    if "CONFORMANCE_CLASSES" not in globals_read(need(core, "conformance")):
        fail("pygeoapi.api.conformance no longer reads the module global CONFORMANCE_CLASSES")
    if not isinstance(need(itemtypes, "CONFORMANCE_CLASSES_FEATURES"), list):
        fail("pygeoapi.api.itemtypes.CONFORMANCE_CLASSES_FEATURES is no longer a list")
    if core.all_apis().get("itemtypes") is not itemtypes:
        fail("pygeoapi.api.all_apis()['itemtypes'] is not the module whose feature classes we set")


def test_template_translations():
    import pygeoapi.util as util

    need(util, "Translations")
    if "Translations" not in globals_read(need(util, "render_j2_template")):
        fail(
            "pygeoapi.util.render_j2_template no longer loads its catalogue through the module global Translations"
        )
    try:
        inspect.signature(adapter.DjangoCatalog.load).bind("locale_dir", ["pl"])
    except TypeError as e:
        fail(f"Translations.load is called differently: {e}")


def test_translated_config_cache():
    import pygeoapi.l10n as l10n

    if not isinstance(need(l10n, "_cfg_cache"), dict):
        fail("pygeoapi.l10n._cfg_cache is no longer a dict")
    if "_cfg_cache" not in globals_read(need(l10n, "translate_struct")):
        fail("pygeoapi.l10n.translate_struct no longer caches in _cfg_cache")


def test_api_request_takes_our_parameters(rf):
    from django.http import QueryDict
    from pygeoapi import l10n

    locales = [l10n.str2locale("pl")]
    params = QueryDict("f=json")
    req = adapter.api_request(rf.get("/ogcapi/collections?f=json&filter-lang=cql2-text"), locales, params)
    if getattr(req, "_args", None) is not params or req.params is not params:
        fail("APIRequest no longer keeps its query parameters in _args (read by .params)")
    assert req.format == "json"


@pytest.mark.django_db
def test_installed_once_and_conformance_does_not_grow(client, demo_data):
    import pygeoapi.api as core
    import pygeoapi.api.itemtypes as itemtypes
    import pygeoapi.util as util

    from ogc.ogcapi.bbox import for_pygeoapi
    from ogc.ogcapi.filters import parsed_filter, prepared_filter

    first = client.get("/ogcapi/conformance").json()["conformsTo"]
    installed = core.CONFORMANCE_CLASSES
    size = len(installed)
    adapter.install()
    for _ in range(3):
        assert client.get("/ogcapi/conformance").json()["conformsTo"] == first
    assert core.CONFORMANCE_CLASSES is installed and len(installed) == size  # it grew on every call before
    assert set(adapter.FEATURES_CONFORMANCE) <= set(first) and not any("features-4" in c for c in first)
    assert itemtypes.transform_bbox is for_pygeoapi and itemtypes.parse_ecql_text is parsed_filter
    assert itemtypes.modify_pygeofilter is prepared_filter and util.Translations is adapter.DjangoCatalog


def test_once_each():
    kept = adapter.OnceEach(["a"])
    kept.extend(["a", "b", "b"])
    kept.extend(["b", "c"])
    assert kept == ["a", "b", "c"]
