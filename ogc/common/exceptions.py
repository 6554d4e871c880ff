"""OGC exceptions and their rendering in one place (OGC.md §3): WMS 1.3.0 ServiceExceptionReport
(text/xml), WMS 1.1.1 (application/vnd.ogc.se_xml), WFS/OWS ExceptionReport. Never a stack trace,
SQL or path in a body: messages are ours."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from lxml import etree

OGC_NS = "http://www.opengis.net/ogc"
OWS_NS = "http://www.opengis.net/ows/1.1"

# status codes per exception code (400 client error unless stated)
STATUS = {
    "OperationNotSupported": 400,
    "MissingParameterValue": 400,
    "InvalidParameterValue": 400,
    "InvalidFormat": 400,
    "InvalidCRS": 400,
    "InvalidSRS": 400,
    "LayerNotDefined": 400,
    "StyleNotDefined": 400,
    "LayerNotQueryable": 400,
    "InvalidPoint": 400,
    "CurrentUpdateSequence": 400,
    "InvalidUpdateSequence": 400,
    "MissingDimensionValue": 400,
    "InvalidDimensionValue": 400,
    "VersionNegotiationFailed": 400,
    "NotFound": 404,
    "Forbidden": 403,
    "OperationProcessingFailed": 400,
    "ResourceLimitExceeded": 400,
    "NoApplicableCode": 400,
}


class OGCException(Exception):
    def __init__(self, code: str, message: str, locator: str | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.locator = locator
        self.status = status or STATUS.get(code, 400)


def wms_exception_xml(exc: OGCException, version: str) -> tuple[bytes, str]:
    if version == "1.1.1":
        # exception_1_1_1.dtd declares only `code`: the locator goes into the text where the message lacks it
        root = etree.Element("ServiceExceptionReport", version="1.1.1")
        el = etree.SubElement(root, "ServiceException", code=exc.code)
        el.text = (
            exc.message if not exc.locator or exc.locator in exc.message else f"{exc.message} [{exc.locator}]"
        )
        body = etree.tostring(
            root,
            xml_declaration=True,
            encoding="UTF-8",
            doctype='<!DOCTYPE ServiceExceptionReport SYSTEM "http://schemas.opengis.net/wms/1.1.1/exception_1_1_1.dtd">',
        )
        return body, "application/vnd.ogc.se_xml"
    root = etree.Element(f"{{{OGC_NS}}}ServiceExceptionReport", nsmap={None: OGC_NS}, version="1.3.0")
    el = etree.SubElement(root, f"{{{OGC_NS}}}ServiceException", code=exc.code)
    if exc.locator:
        el.set("locator", exc.locator)
    el.text = exc.message
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), "text/xml"


def wms_exception_response(exc: OGCException, version: str, status: int | None = None) -> HttpResponse:
    body, mime = wms_exception_xml(exc, version)
    return HttpResponse(body, status=status or exc.status, content_type=f"{mime}; charset=utf-8")


def wms_status(exc: OGCException) -> int:
    """The HTTP status of a WMS exception report: a client error (400) is answered with
    GISPORTAL_WMS_EXCEPTION_STATUS, 200 by default as MapServer and GeoServer do and as the INSPIRE
    validator requires; 403, 404, 503 and the like keep their own status."""
    return int(settings.GISPORTAL_WMS_EXCEPTION_STATUS) if exc.status == 400 else exc.status


def wms_error_response(exc: OGCException, version: str) -> HttpResponse:
    """A WMS exception report answered by the WMS itself (not by the security middleware)."""
    return wms_exception_response(exc, version, status=wms_status(exc))


def ows_exception_response(exc: OGCException, version: str = "2.0.0") -> HttpResponse:
    ows = "http://www.opengis.net/ows/1.1" if version.startswith("2") else "http://www.opengis.net/ows"
    root = etree.Element(f"{{{ows}}}ExceptionReport", nsmap={"ows": ows}, version=version)
    el = etree.SubElement(root, f"{{{ows}}}Exception", exceptionCode=exc.code)
    if exc.locator:
        el.set("locator", exc.locator)
    etree.SubElement(el, f"{{{ows}}}ExceptionText").text = exc.message
    return HttpResponse(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8"),
        status=exc.status,
        content_type="application/xml; charset=utf-8",
    )
