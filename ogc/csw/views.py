"""/csw: the CSW 2.0.2 endpoint (pycsw through service.py). Before pycsw sees a request, what it should
never act on is refused here with an OWS exception report: DTDs and entities in XML (XXE), asynchronous
answers sent elsewhere (ResponseHandler: pycsw would mail or FTP them), SRU/OAI-PMH/OpenSearch modes,
oversized requests. Whatever pycsw raises becomes an exception report too: never a 500."""

from __future__ import annotations

import logging
import re

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from lxml import etree

from . import service

LOGGER = logging.getLogger(__name__)
OWS10 = "http://www.opengis.net/ows"
MAX_BODY = 256 * 1024
MAX_QUERY = 16 * 1024
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_HANDLER = re.compile(rb"ResponseHandler", re.IGNORECASE)


def exception_report(code: str, text: str, locator: str = "", status: int = 400) -> HttpResponse:
    """An OWS 1.0 exception report, as CSW 2.0.2 answers (and as pycsw writes its own)."""
    root = etree.Element(f"{{{OWS10}}}ExceptionReport", nsmap={"ows": OWS10}, version="1.2.0", language="en")
    exc = etree.SubElement(root, f"{{{OWS10}}}Exception", exceptionCode=code)
    if locator:
        exc.set("locator", locator)
    etree.SubElement(exc, f"{{{OWS10}}}ExceptionText").text = text
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return HttpResponse(body, status=status, content_type="application/xml; charset=UTF-8")


def _refuse(request, body: bytes) -> HttpResponse | None:
    if request.method not in ("GET", "HEAD", "POST"):
        response = exception_report("OperationNotSupported", "Use GET or POST.", "request", 405)
        response["Allow"] = "GET, HEAD, POST"
        return response
    if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY or len(body) > MAX_BODY:
        return exception_report("NoApplicableCode", "The request is too large.")
    keys = {k.lower() for k in request.GET}
    if "responsehandler" in keys or (body and _HANDLER.search(body)):
        return exception_report(
            "OperationNotSupported",
            "Asynchronous answers (ResponseHandler) are not offered.",
            "ResponseHandler",
        )
    if "mode" in keys:
        return exception_report("InvalidParameterValue", "Only the CSW interface is offered here.", "mode")
    if request.method == "POST":
        if not body.strip():
            return exception_report("MissingParameterValue", "POST takes a CSW request in XML.", "request")
        if _DTD.search(body):
            return exception_report("NoApplicableCode", "Document type declarations are not accepted.")
    return None


@csrf_exempt
def csw(request):
    body = request.body if request.method == "POST" else b""
    refused = _refuse(request, body)
    if refused is not None:
        return refused
    query = request.META.get("QUERY_STRING", "")
    if request.method != "POST" and not request.GET:
        query = "service=CSW&version=2.0.2&request=GetCapabilities"  # the bare address: the capabilities
    try:
        status, ctype, content = service.dispatch("POST" if request.method == "POST" else "GET", query, body)
    except Exception:  # pycsw's own gaps (e.g. a maxRecords that is no number): a report, never a 500
        LOGGER.exception("CSW request failed")
        return exception_report(
            "NoApplicableCode", "The request could not be processed; check its parameters."
        )
    response = HttpResponse(content if request.method != "HEAD" else b"", status=status, content_type=ctype)
    response["X-Content-Type-Options"] = "nosniff"
    return response
