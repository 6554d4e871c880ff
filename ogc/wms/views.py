"""WMS operations: thin handlers over typed requests; every failure is an OGC exception."""

from __future__ import annotations

import logging

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import override

from ..common.exceptions import OGCException, wms_error_response
from ..common.kvp import Params
from ..render import maps
from ..render.legend import legend_png
from ..render.styles import style_for
from . import capabilities, cascading, featureinfo
from .requests import (
    MAP_FORMATS,
    GetMap,
    negotiate,
    parse_getcapabilities,
    parse_getfeatureinfo,
    parse_getlegendgraphic,
    parse_getmap,
    version_of,
)

log = logging.getLogger(__name__)
MEMORY_CAP = 256 * 1024 * 1024  # bytes of raster a single GetMap may need (OGC.md §6)
IMAGE_MIME = {
    "png32:z=1": "image/png",
    "rgb": "image/png",
    "png8:m=h:z=1": "image/png",
    "jpeg85": "image/jpeg",
}


def dispatch(request, params: Params, *, alias: bool = False) -> HttpResponse:
    """`alias`: the request came to /wms, whose path names the service; SERVICE=WMS is still required
    for GetCapabilities (WMS 1.3.0 Table 3, the INSPIRE ETS at05) and another SERVICE is an error."""
    version = version_of(params)
    try:
        if alias:
            _check_service(params)
        op = (params.get("REQUEST") or "").strip()
        if not op:
            raise OGCException(
                "MissingParameterValue", _("Parameter %(p)s is missing.") % {"p": "REQUEST"}, "REQUEST"
            )
        handler = HANDLERS.get(op.lower())
        if handler is None:
            raise OGCException(
                "OperationNotSupported", _("Operation %(op)s is not supported.") % {"op": op[:40]}, "REQUEST"
            )
        return handler(request, params)
    except OGCException as e:
        response = wms_error_response(e, version)
        if e.status == 503:
            response["Retry-After"] = "10"
        return response


def _check_service(params: Params) -> None:
    service = (params.get("SERVICE") or "").strip()
    if service and service.upper() != "WMS":
        raise OGCException(
            "InvalidParameterValue", _("Service %(s)s is not offered here.") % {"s": service[:20]}, "SERVICE"
        )
    if not service and (params.get("REQUEST") or "").strip().lower() == "getcapabilities":
        raise OGCException(
            "MissingParameterValue", _("Parameter %(p)s is missing.") % {"p": "SERVICE"}, "SERVICE"
        )


def get_capabilities(request, params: Params) -> HttpResponse:
    req = parse_getcapabilities(params)
    current = capabilities.update_sequence()
    if req.update_sequence:
        try:
            asked = int(req.update_sequence)
        except ValueError:
            raise OGCException(
                "InvalidUpdateSequence", _("UPDATESEQUENCE must be a number."), "UPDATESEQUENCE"
            ) from None
        if asked == int(current):
            raise OGCException(
                "CurrentUpdateSequence", _("The capabilities have not changed."), "UPDATESEQUENCE"
            )
        if asked > int(current):
            raise OGCException(
                "InvalidUpdateSequence", _("UPDATESEQUENCE is higher than the current one."), "UPDATESEQUENCE"
            )
    body = capabilities.capabilities(req.version, req.language, request.user)
    mime = "text/xml" if req.version == "1.3.0" else "application/vnd.ogc.wms_xml"
    resp = HttpResponse(body, content_type=f"{mime}; charset=utf-8")
    resp["Content-Language"] = req.language
    return resp


def _background(req: GetMap) -> tuple[int, int, int, int] | None:
    transparent = req.transparent and req.mapnik_format != "jpeg85"
    return None if transparent else (*req.bgcolor, 255)


def _image_error(params: Params, exc: OGCException) -> HttpResponse | None:
    """EXCEPTIONS=INIMAGE/BLANK: the error as an image, when the size and format can be read."""
    mode = (params.get("EXCEPTIONS") or "").upper()
    if "INIMAGE" not in mode and "BLANK" not in mode:
        return None
    try:
        width = params.integer("WIDTH", lo=1, hi=4096)
        height = params.integer("HEIGHT", lo=1, hi=4096)
    except OGCException:
        return None
    fmt = MAP_FORMATS.get((params.get("FORMAT") or "").strip().lower())
    if fmt is None:
        return None
    try:
        from .requests import _bgcolor

        bg = (*_bgcolor(params), 255)
    except OGCException:
        bg = (255, 255, 255, 255)
    if (
        params.boolean("TRANSPARENT")
        if (params.get("TRANSPARENT") or "").upper() in ("TRUE", "FALSE", "")
        else False
    ):
        bg = None if fmt != "jpeg85" else bg
    if "BLANK" in mode:
        body = maps.blank(width, height, background=bg, fmt=fmt)
    else:
        body = maps.message_image(exc.message, width, height, background=bg, fmt=fmt)
    resp = HttpResponse(body, content_type=IMAGE_MIME[fmt])
    resp["X-OGC-Exception"] = exc.code
    return resp


def get_map(request, params: Params) -> HttpResponse:
    try:
        req = parse_getmap(params, request.user, cascading.available(params, request.user))
        v = req.view
        if v.width * v.height * 4 * max(len(v.layers), 1) > MEMORY_CAP:
            raise OGCException(
                "InvalidParameterValue",
                _("The image would need too much memory; ask for fewer layers or a smaller size."),
                "WIDTH",
            )
        with override(v.language):
            if v.cascaded:  # remote WMS layers among LAYERS: composed with ours (cascading.py)
                body = cascading.render(req, _background(req))
            else:
                body = maps.render(
                    tuple(zip(v.layers, v.styles, strict=True)),
                    v.srs,
                    v.bbox,
                    v.width,
                    v.height,
                    background=_background(req),
                    fmt=req.mapnik_format,
                )
    except OGCException as e:
        alt = _image_error(params, e)
        if alt is not None:
            return alt
        raise
    except Exception as e:
        if "lock timeout" in str(e):  # a layer's table held by an import (its first load) or a schema change
            raise OGCException(
                "NoApplicableCode", _("A layer is being loaded; try again in a moment."), status=503
            ) from None
        if "statement timeout" in str(e) or "canceling statement" in str(e):
            raise OGCException(
                "OperationProcessingFailed", _("The map took too long to render; ask for a smaller area.")
            ) from None
        if maps.connection_lost(e):  # the database is away (restarting): a 503, try again
            log.warning("GetMap: no database connection (%s)", str(e)[:200])
            raise OGCException(
                "NoApplicableCode", _("The map cannot be rendered now; try again in a moment."), status=503
            ) from None
        log.exception("GetMap failed")
        raise OGCException("NoApplicableCode", _("The map could not be rendered."), status=500) from None
    resp = HttpResponse(body, content_type=IMAGE_MIME[req.mapnik_format])
    resp["Cache-Control"] = "public, max-age=300"
    return resp


def get_feature_info(request, params: Params) -> HttpResponse:
    req = parse_getfeatureinfo(params, request.user, cascading.available(params, request.user))
    if req.remote is not None:
        return cascading.feature_info(req)
    results = featureinfo.query(req)
    encoder, mime = featureinfo.ENCODERS[req.info_format]
    return HttpResponse(encoder(results, req), content_type=mime)


def get_legend_graphic(request, params: Params) -> HttpResponse:
    req = parse_getlegendgraphic(params, request.user)
    body = legend_png(style_for(req.layer, req.style), req.language, width=req.width)
    resp = HttpResponse(body, content_type="image/png")
    resp["Cache-Control"] = "public, max-age=3600"
    return resp


HANDLERS = {
    "getcapabilities": get_capabilities,
    "getmap": get_map,
    "map": get_map,  # WMS 1.0 name, still sent by old clients
    "getfeatureinfo": get_feature_info,
    "getlegendgraphic": get_legend_graphic,
}

__all__ = ["dispatch", "negotiate"]
