"""Request hygiene in one place: a NUL character can never be stored or looked up (PostgreSQL
refuses it in text), so a path, query parameter or url-encoded form field holding one is answered
with a 400 at once; a database that does not answer gives a 503 in the form of what was asked for,
not a 500.

Multipart bodies are NOT read here: they may be uploads of gigabytes, and reading request.POST
would parse (and spool to disk) the whole body before any view has checked who is asking. Views
read them after their permission check, through Django forms (whose fields refuse NUL) or
`gisportal.core.nul.has_nul`."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gisportal.core.nul import has_nul
from gisportal.core.problems import problem

log = logging.getLogger(__name__)


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        forms = [request.GET]
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            forms.append(
                request.POST
            )  # bounded by DATA_UPLOAD_MAX_MEMORY_SIZE; multipart is left to the views
        if "\x00" in request.path or any(has_nul(q) for q in forms):
            return _answer(request, _("NUL characters are not allowed in requests."), 400)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A database that does not answer in time (a statement or lock timeout, e.g. behind the first
    import into an empty table) or at all gives a 503 with Retry-After, in the form of what was asked
    for: an OGC exception for WMS/WFS, problem JSON for OGC API and the JSON API, a short page for the
    rest (without the session or the database, which may be what is failing). Details go to the log."""

    RETRY_AFTER = "10"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.warning("database unavailable for %s %s", request.method, request.path, exc_info=exception)
        message = _("The service is busy or its database does not answer; try again in a moment.")
        response = _answer(request, message, 503)
        response["Retry-After"] = self.RETRY_AFTER
        return response


def _answer(request, message: str, status: int):
    """An error in the form of what was asked for: an OGC exception report for WMS/WFS, problem JSON for
    OGC API and the JSON API, a short page (needing neither the session nor the database) for the rest."""
    path = request.path
    bad = status < 500
    if path.startswith(("/ows", "/wms", "/wfs")):
        from ogc.common.exceptions import OGCException, ows_exception_response, wms_exception_response

        params = {k.upper(): v.replace("\x00", "") for k, v in request.GET.items()}
        exc = OGCException("InvalidParameterValue" if bad else "NoApplicableCode", message, status=status)
        version = params.get("VERSION", "")
        if path.startswith("/wms") or (
            path.startswith("/ows") and params.get("SERVICE", "").upper() == "WMS"
        ):
            return wms_exception_response(exc, "1.1.1" if version == "1.1.1" else "1.3.0")
        return ows_exception_response(exc, version if version in ("1.1.0", "2.0.0") else "2.0.0")
    if path.startswith("/ogcapi"):
        return JsonResponse(
            {"code": "InvalidParameterValue" if bad else "ServiceUnavailable", "description": message},
            status=status,
            content_type="application/problem+json",
            json_dumps_params={"ensure_ascii": False},
        )
    if path.startswith("/api/"):
        return problem(status, message, code="invalid" if bad else "unavailable")
    title = escape(_("Invalid request") if bad else _("Service temporarily unavailable"))
    page = (
        f'<!DOCTYPE html><html lang="{escape(get_language() or "pl")}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>'
        f"<body><main><h1>{title}</h1><p>{escape(message)}</p></main></body></html>"
    )
    return HttpResponse(page, status=status, content_type="text/html; charset=utf-8")
