"""/ogcapi/: pygeoapi's OGC API – Features handlers on one API object per process (config.api()).

Before pygeoapi sees a request, unknown query parameters are refused (OGC.md §3 O4: 400, where
pygeoapi would ignore them) and sizes are bounded; pygeoapi does the rest of the protocol."""

from __future__ import annotations

import re

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from layers import catalogue

from ..filters.cql2 import CQL2Error
from . import inspire
from .adapter import api_request
from .bbox import BBoxError, parse_bbox
from .bbox import using as using_bbox
from .config import FEATURE_SCHEMA_PROFILE, api, feature_schema_url
from .filters import parse_filter, to_storage, using
from .records import COLLECTION as RECORDS
from .schema import feature_schema

COMMON = {"f", "lang"}
ITEMS = COMMON | {
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "limit",
    "offset",
    "properties",
    "sortby",
    "skipGeometry",
    "filter",
    "filter-lang",
    "filter-crs",
    "resulttype",
}
MAX_QUERY = 16 * 1024
MAX_OFFSET = 10_000_000
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?)?$")


def _problem(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        {"code": code, "description": detail}, status=status, content_type="application/problem+json"
    )


def _check(request, allowed: set[str], collection: str | None = None):
    if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY or len(request.body or b"") > 256 * 1024:
        return _problem(400, "InvalidParameterValue", "The request is too large.")
    extra = set(request.GET) - allowed
    if collection is not None:
        layer = catalogue.get_layer(collection)
        if layer is not None:
            extra -= set(layer.attribute_names)
    if extra:
        return _problem(
            400, "InvalidParameterValue", f"Unknown parameter(s): {', '.join(sorted(extra))[:200]}."
        )
    layer = catalogue.get_layer(collection) if collection else None
    if layer is not None and "sortby" in request.GET:
        keys = [k.strip() for k in request.GET["sortby"].split(",")]
        if any(not k or k.lstrip("+-") not in layer.attribute_names for k in keys):
            return _problem(
                400,
                "InvalidParameterValue",
                "sortby names the layer's properties, each optionally with + or -.",
            )
    if "datetime" in request.GET:
        parts = request.GET["datetime"].split("/")
        if len(parts) > 2 or not all(p == ".." or _RFC3339.match(p) for p in parts) or parts == ["..", ".."]:
            return _problem(
                400, "InvalidParameterValue", "datetime is an RFC 3339 date-time or an interval of two."
            )
    offset = request.GET.get("offset", "0").strip()
    if offset and (not offset.isdigit() or int(offset) > MAX_OFFSET):
        return _problem(400, "InvalidParameterValue", f"offset must be a whole number up to {MAX_OFFSET}.")
    return None


def _run(fn, request, *args, drop: tuple[str, ...] = ()) -> HttpResponse:
    a = api()
    params = None
    if drop:
        params = request.GET.copy()
        for name in drop:
            params.pop(name, None)
    req = api_request(request, a.locales, params)
    headers, status, content = fn(a, req, *args)
    response = HttpResponse(content, status=status)
    for key, value in headers.items():
        response[key] = value
    return response


@require_http_methods(["GET", "HEAD"])
def landing(request):
    import pygeoapi.api as core

    return _check(request, COMMON) or _run(core.landing_page, request)


@require_http_methods(["GET", "HEAD"])
def openapi(request):
    import pygeoapi.api as core

    return _check(request, COMMON | {"ui"}) or _run(core.openapi_, request)


@require_http_methods(["GET", "HEAD"])
def conformance(request):
    import pygeoapi.api as core

    return _check(request, COMMON) or _run(core.conformance, request)


@require_http_methods(["GET", "HEAD"])
def collections(request, collection_id: str | None = None):
    import pygeoapi.api as core

    return _check(request, COMMON) or _run(core.describe_collections, request, collection_id)


@require_http_methods(["GET", "HEAD"])
def queryables(request, collection_id: str):
    import pygeoapi.api.itemtypes as items

    return _check(request, COMMON | {"profile"}) or _run(
        items.get_collection_queryables, request, collection_id
    )


@require_http_methods(["GET", "HEAD"])
def schema(request, collection_id: str):
    """pygeoapi's collection schema (the queryables' types), or with `profile=geojson-feature` the JSON
    Schema of one GeoJSON feature that the collection links as `describedby` (for GDAL)."""
    import pygeoapi.api as core

    bad = _check(request, COMMON | {"profile"})
    if bad:
        return bad
    profile = request.GET.get("profile")
    if profile is None:
        return _run(core.get_collection_schema, request, collection_id)
    if profile != FEATURE_SCHEMA_PROFILE:
        return _problem(400, "InvalidParameterValue", f"The schema profiles are: {FEATURE_SCHEMA_PROFILE}.")
    if collection_id not in api().config["resources"]:
        return _problem(404, "NotFound", "Collection not found.")
    if inspire.is_inspire(collection_id):
        body = inspire.feature_schema(collection_id)
    else:
        body = feature_schema(catalogue.get_layer(collection_id), feature_schema_url(collection_id))
    return JsonResponse(
        body, content_type="application/schema+json", json_dumps_params={"ensure_ascii": False}
    )


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def items(request, collection_id: str):
    import pygeoapi.api.itemtypes as items_api

    if request.method == "POST" and request.content_type not in (
        "application/query-cql-json",
        "application/json",
    ):
        return _problem(
            400, "InvalidParameterValue", "POST takes a CQL2 JSON filter (application/query-cql-json)."
        )
    bad = _check(request, ITEMS | {"q"} if collection_id == RECORDS else ITEMS, collection_id)
    if bad:
        return bad
    try:
        tree = to_storage(
            parse_filter(request.GET.get("filter"), request.GET.get("filter-lang")),
            request.GET.get("filter-crs"),
        )
        box = parse_bbox(request.GET.get("bbox"), request.GET.get("bbox-crs"))
    except (CQL2Error, BBoxError) as e:
        return _problem(400, "InvalidParameterValue", str(e))
    with using(tree), using_bbox(box):
        # pygeoapi knows only cql-text/cql-json as languages; the tree is already parsed
        response = _run(items_api.get_collection_items, request, collection_id, drop=("filter-lang",))
    if response.status_code == 200 and response.get("Content-Type", "").startswith(
        ("application/geo+json", "application/json")
    ):
        response.content = _without_dangling_next(response.content)
    return response


_MATCHED = re.compile(rb'"numberMatched":\s*(\d+)')
_RETURNED = re.compile(rb'"numberReturned":\s*(\d+)')
_OFFSET = re.compile(rb"[?&]offset=(\d+)")


def _without_dangling_next(body: bytes) -> bytes:
    """pygeoapi adds `next` to every full page, also to the one that ends the collection exactly
    (numberMatched = offset + numberReturned): that link is dropped. The counts are found in the tail of
    the answer without parsing it; only such a last page is parsed and written again."""
    tail = body[-16384:]
    m, r = _MATCHED.search(tail), _RETURNED.search(tail)
    if m is None or r is None or b'"next"' not in tail:
        return body
    matched, returned = int(m.group(1)), int(r.group(1))
    nxt = re.search(rb'"rel":\s*"next"[^}]*"href":\s*"([^"]+)"|"href":\s*"([^"]+)"[^}]*"rel":\s*"next"', tail)
    if nxt is None:
        return body
    offset = _OFFSET.search(nxt.group(1) or nxt.group(2))
    start = int(offset.group(1)) if offset else 0  # the next page's offset = this page's offset + limit
    if start < matched or returned == 0:
        return body
    return inspire.without_dangling_next(body)


@require_http_methods(["GET", "HEAD"])
def item(request, collection_id: str, item_id: str):
    import pygeoapi.api.itemtypes as items_api

    return _check(request, COMMON | {"crs"}) or _run(
        items_api.get_collection_item, request, collection_id, item_id
    )
