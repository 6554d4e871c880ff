"""/ows (and the /wms alias): one entry point for OGC services; the SERVICE parameter picks one."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from .common.exceptions import OGCException, ows_exception_response, wms_exception_response
from .common.kvp import Params
from .wms import views as wms

WMS_ONLY = {"getmap", "getfeatureinfo", "getlegendgraphic", "map"}


@csrf_exempt
def ows(request, service: str | None = None):
    if request.method not in ("GET", "POST", "HEAD"):
        return ows_exception_response(OGCException("OperationNotSupported", _("Use GET or POST."), status=405))
    try:
        params = Params.from_request(request)
    except OGCException as e:
        return wms_exception_response(e, "1.3.0") if service == "WMS" else ows_exception_response(e)
    svc = (service or params.get("SERVICE") or "").strip().upper()
    if not svc and (params.get("REQUEST") or "").lower() in WMS_ONLY:
        svc = "WMS"
    if svc == "WMS":
        return wms.dispatch(request, params)
    if not svc:
        return ows_exception_response(OGCException("MissingParameterValue", _("Parameter %(p)s is missing.") % {"p": "SERVICE"}, "SERVICE"))
    return ows_exception_response(OGCException("InvalidParameterValue", _("Service %(s)s is not offered here.") % {"s": svc[:20]}, "SERVICE"))


@csrf_exempt
def wms_alias(request):
    return ows(request, service="WMS")
