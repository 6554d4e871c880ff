"""WFS operations: thin handlers over typed requests (requests.py); every failure is an OWS
exception report with a code and locator, never a 500."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.http import HttpResponse, StreamingHttpResponse
from django.middleware.gzip import GZipMiddleware
from django.utils.translation import gettext as _
from django.utils.translation import override
from lxml import etree

from ..common.exceptions import OGCException, ows_exception_response
from ..common.kvp import Params
from ..features import query as wq
from ..features.featuretypes import GEOMETRY, PREFIX, feature_types
from . import capabilities, inspire
from . import featuretypes as fts
from .encode import GeoJSONWriter, GMLWriter, text_value, values_document, xml_escape
from .requests import (
    FORMATS,
    JSON_FORMATS,
    GetFeature,
    _namespaces,
    language,
    negotiate,
    normalise_version,
    parse_getfeature_kvp,
    parse_getfeature_xml,
    parse_xml,
    version_of,
    xml_params,
)

log = logging.getLogger(__name__)
XML_MIME = "application/xml; charset=utf-8"
_gzip = GZipMiddleware(lambda request: None)


def dispatch(request, params: Params, xml_root=None) -> HttpResponse:
    version = normalise_version(params.get("VERSION")) or "2.0.0"
    try:
        with override(language(params)):
            op = (params.get("REQUEST") or "").strip()
            if not op:
                raise OGCException(
                    "MissingParameterValue", _("Parameter %(p)s is missing.") % {"p": "REQUEST"}, "request"
                )
            handler = HANDLERS.get(op.lower())
            if handler is None:
                raise OGCException(
                    "OperationNotSupported",
                    _("Operation %(op)s is not supported.") % {"op": op[:40]},
                    "request",
                )
            response = handler(request, params, xml_root)
    except OGCException as e:
        return ows_exception_response(e, version)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response = _gzip.process_response(request, response)
    return response


def dispatch_xml(request, body: bytes) -> HttpResponse:
    try:
        root = parse_xml(body)
        params = xml_params(root)
    except OGCException as e:
        return ows_exception_response(e)
    return dispatch(request, params, root)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def get_capabilities(request, params: Params, _root=None) -> HttpResponse:
    version = negotiate(params)
    lang = language(params)
    body = capabilities.capabilities(version, lang, request.user)
    return HttpResponse(body, content_type=XML_MIME)


def describe_feature_type(request, params: Params, root=None) -> HttpResponse:
    version = version_of(params)
    names: list[str] = []
    if root is not None:
        ns = etree.QName(root).namespace
        names = [(el.text or "").strip() for el in root.findall(f"{{{ns}}}TypeName")]
    else:
        raw = params.get("TYPENAMES") or params.get("TYPENAME") or ""
        names = [n for n in raw.split(",") if n.strip()]
    fmt = " ".join((params.get("OUTPUTFORMAT") or "").split()).lower()
    as_json = fmt in JSON_FORMATS
    if fmt and not as_json and fmt not in {f.lower() for f in FORMATS[version]}:
        raise OGCException(
            "InvalidParameterValue",
            _("Output format %(f)s is not offered.") % {"f": fmt[:60]},
            "outputFormat",
        )
    namespaces = _namespaces(params.get("NAMESPACES") or params.get("NAMESPACE"))
    if names and any(inspire.is_inspire_name(n, namespaces) for n in names):
        if not all(inspire.is_inspire_name(n, namespaces) for n in names):
            raise OGCException(
                "InvalidParameterValue",
                _("INSPIRE feature types are described apart from the other feature types."),
                "typeNames",
            )
        harmonised = [inspire.resolve(n, request.user, namespaces) for n in names]
        if as_json:
            raise OGCException(
                "InvalidParameterValue",
                _("INSPIRE feature types are described in XML Schema only."),
                "outputFormat",
            )
        return HttpResponse(inspire.describe(harmonised), content_type=XML_MIME)
    types = [fts.resolve(n, request.user) for n in names] if names else list(feature_types(request.user))
    if as_json:
        return HttpResponse(capabilities.describe_json(types), content_type="application/json")
    return HttpResponse(capabilities.describe(types, version), content_type=XML_MIME)


def list_stored_queries(request, params: Params, _root=None) -> HttpResponse:
    version_of(params)
    body = capabilities.list_stored_queries(feature_types(request.user), language(params))
    return HttpResponse(body, content_type=XML_MIME)


def describe_stored_queries(request, params: Params, _root=None) -> HttpResponse:
    version_of(params)
    ids = [i.strip() for i in (params.get("STOREDQUERY_ID") or "").split(",") if i.strip()]
    for i in ids:
        if i not in capabilities.STORED_QUERIES:
            raise OGCException(
                "InvalidParameterValue", _("Unknown stored query %(q)s.") % {"q": i[:80]}, "STOREDQUERY_ID"
            )
    body = capabilities.describe_stored_queries(ids or None, feature_types(request.user), language(params))
    return HttpResponse(body, content_type=XML_MIME)


def _request(request, params: Params, root, **kw) -> GetFeature:
    if root is not None:
        return parse_getfeature_xml(root, request.user, **kw)
    return parse_getfeature_kvp(params, request.user, **kw)


def _link(req: GetFeature, start: int) -> str | None:
    if not req.kvp:
        return None
    kvp = {k: v for k, v in req.kvp.items() if k not in ("STARTINDEX",)}
    kvp["STARTINDEX"] = str(start)
    return f"{capabilities.endpoint()}?{urlencode(kvp)}"


def _pages(req: GetFeature, fmt: str | None = None) -> tuple[list[wq.Page], int | None, bool]:
    """The pages of all queries of the request: one query is paged on its own; several are paged
    over their concatenation (which needs their counts)."""
    kw = {"fmt": fmt or req.fmt, "crs": req.srs}
    if len(req.queries) == 1:
        q = req.queries[0]
        page = wq.fetch(q, req.start, req.count, **kw)
        return [page], wq.number_matched(q, req.start, page), page.has_next
    pages, offset, remaining, total = [], req.start, req.count, 0
    for q in req.queries:
        n = wq.count(q, timeout_ms=None) or 0
        total += n
        if offset >= n:
            offset -= n
            continue
        if remaining > 0:
            page = wq.fetch(q, offset, remaining, **kw)
            pages.append(page)
            remaining -= page.returned
        offset = 0
    return pages, total, req.start + req.count < total


def get_feature(request, params: Params, root=None) -> HttpResponse:
    req = _request(request, params, root)
    if isinstance(req, inspire.InspireGetFeature):
        return inspire.get_feature(req)
    describe = capabilities.describe_url(req.version, sorted({q.ftype.typename for q in req.queries}))
    crs_name = req.srs.text
    writer = (
        GeoJSONWriter(req.version, describe, crs_name)
        if req.fmt == "geojson"
        else GMLWriter(req.version, describe)
    )
    if req.by_id:
        page = wq.fetch(req.queries[0], 0, 1, fmt=req.fmt, crs=req.srs)
        rows = list(page.rows)
        if not rows:
            raise OGCException("NotFound", _("The feature does not exist."), "ID", status=404)
        return HttpResponse(writer.standalone(page, rows[0]), content_type=writer.mime)
    previous = (
        _link(req, max(0, req.start - req.count)) if req.start > 0 and req.version.startswith("2") else None
    )
    if req.hits:
        counts = [wq.count(q, timeout_ms=None) for q in req.queries]
        matched = None if any(c is None for c in counts) else sum(counts)
        # no `next`: a hits answer holds no features, so there is no page to follow
        # WFS 1.1 has no numberMatched: its hits answer carries the count as numberOfFeatures
        returned = 0 if req.version.startswith("2") or req.fmt != "gml" else (matched or 0)
        body = writer.document([], matched=matched, returned=returned, timestamp=_now())
        return HttpResponse(b"".join(body), content_type=writer.mime)
    pages, matched, has_next = _pages(req)
    returned = sum(p.returned for p in pages)
    next_url = _link(req, req.start + req.count) if has_next and req.version.startswith("2") else None
    body = writer.document(
        pages, matched=matched, returned=returned, timestamp=_now(), next_url=next_url, previous_url=previous
    )
    if returned <= wq.SMALL_PAGE:  # small answers in one piece (with a length); big ones streamed
        return HttpResponse(b"".join(body), content_type=writer.mime)
    return StreamingHttpResponse(body, content_type=writer.mime)


def get_property_value(request, params: Params, root=None) -> HttpResponse:
    ref = (params.get("VALUEREFERENCE") or "").strip()
    if not ref:
        raise OGCException(
            "MissingParameterValue",
            _("Parameter %(p)s is missing.") % {"p": "valueReference"},
            "valueReference",
        )
    req = _request(request, params, root, value_reference=True)
    if isinstance(req, inspire.InspireGetFeature):
        return inspire.get_property_value(req, ref)
    if req.fmt != "gml":
        raise OGCException("InvalidParameterValue", _("GetPropertyValue returns GML only."), "outputFormat")
    for q in req.queries:
        if ref in ("@gml:id", "@id"):
            q.properties = ()
        else:
            bare = ref.split(":", 1)[1] if ref.startswith(PREFIX + ":") else ref
            if bare != GEOMETRY and q.ftype.attribute(ref) is None:
                raise OGCException(
                    "InvalidParameterValue",
                    _("%(p)s is not a property of %(t)s.") % {"p": ref[:40], "t": q.ftype.typename},
                    "valueReference",
                )
            q.properties = (GEOMETRY if bare == GEOMETRY else q.ftype.attribute(ref).name,)
    pages, matched, _more = _pages(req, fmt="values")
    values: list[str] = []
    for page in pages:
        for row in page.rows:
            if not page.query.properties:
                values.append(page.query.ftype.fid(row[0]))
            elif page.query.with_geometry:
                if row[-1]:
                    values.append(row[-1])
            elif row[1] is not None:
                values.append(xml_escape(text_value(row[1])))
    return HttpResponse(
        values_document(values, matched=matched, returned=len(values), timestamp=_now(), v2=True),
        content_type=XML_MIME,
    )


HANDLERS = {
    "getcapabilities": get_capabilities,
    "describefeaturetype": describe_feature_type,
    "getfeature": get_feature,
    "getpropertyvalue": get_property_value,
    "liststoredqueries": list_stored_queries,
    "describestoredqueries": describe_stored_queries,
}
