"""/ows (and the /wms alias): one entry point for OGC services; the SERVICE parameter picks one."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from layers.catalogue import get_layer, user_can_read

from . import metadata
from .common.exceptions import OGCException, ows_exception_response, wms_error_response
from .common.kvp import Params
from .wfs import views as wfs
from .wms import views as wms

WMS_ONLY = {"getmap", "getfeatureinfo", "getlegendgraphic", "map"}


@csrf_exempt
def ows(request, service: str | None = None):
    if request.method not in ("GET", "POST", "HEAD"):
        return ows_exception_response(
            OGCException("OperationNotSupported", _("Use GET or POST."), status=405)
        )
    if request.method == "POST" and _is_xml(request):
        if service == "WMS":
            return wms_error_response(
                OGCException("OperationNotSupported", _("WMS takes KVP requests only.")), "1.3.0"
            )
        return wfs.dispatch_xml(request, request.body)
    try:
        params = Params.from_request(request)
    except OGCException as e:
        return wms_error_response(e, "1.3.0") if service == "WMS" else ows_exception_response(e)
    svc = (service or params.get("SERVICE") or "").strip().upper()
    if not svc and (params.get("REQUEST") or "").lower() in WMS_ONLY:
        svc = "WMS"
    if svc == "WMS":
        return wms.dispatch(request, params, alias=service == "WMS")
    if svc == "WFS":
        return wfs.dispatch(request, params)
    if not svc:
        return ows_exception_response(
            OGCException(
                "MissingParameterValue", _("Parameter %(p)s is missing.") % {"p": "SERVICE"}, "SERVICE"
            )
        )
    return ows_exception_response(
        OGCException(
            "InvalidParameterValue", _("Service %(s)s is not offered here.") % {"s": svc[:20]}, "SERVICE"
        )
    )


@csrf_exempt
def wms_alias(request):
    return ows(request, service="WMS")


@csrf_exempt
def wfs_alias(request):
    return ows(request, service="WFS")


def _is_xml(request) -> bool:
    ctype = (request.content_type or "").lower()
    return (
        ctype.endswith("/xml")
        or ctype.endswith("+xml")
        or (
            ctype not in ("application/x-www-form-urlencoded", "multipart/form-data")
            and request.body[:1] == b"<"
        )
    )


@require_safe
def metadata_record(request, name: str):
    """/metadane/<layer>.xml: the ISO 19139 record of a data set (the MetadataURL of WFS and WMS);
    /metadane/inspire-cp.xml, usluga-wms.xml …: the records of the INSPIRE data sets and network services
    (their names hold a hyphen, which no layer name can)."""
    lang = (
        "en"
        if (request.GET.get("LANGUAGE") or request.GET.get("language") or "").lower() in ("eng", "en")
        else "pl"
    )
    if metadata.inspire_entry(name) is not None:
        body = metadata.inspire_record(name, lang)
        if body is None:
            raise Http404
        return HttpResponse(body, content_type="application/xml; charset=utf-8")
    layer = get_layer(name)
    if layer is None or not layer.is_dataset or not user_can_read(request.user, layer):
        raise Http404
    return HttpResponse(metadata.record(layer, lang), content_type="application/xml; charset=utf-8")
