"""Reading what a remote source offers: WMS 1.3.0/1.1.1 and WFS 2.0.0/1.1.0 capabilities through OWSLib, OGC
API – Features collections from their JSON. The bytes are fetched by our one client (http.py) and handed
to OWSLib as `xml=`, so OWSLib never opens a connection itself. XML is checked first with a parser that
loads no DTD and resolves no entity: a document with a DOCTYPE is refused before it reaches OWSLib.

The result is a plain dict (stored in RemoteSource.capabilities):
    {"service_title", "version", "layers": [{"name", "title", "crs": [...], "bbox": [minx, miny, maxx, maxy]}]}
with bbox in WGS 84 longitude/latitude (CRS:84) when the source declares one.
"""

from __future__ import annotations

import json
import math
import re

from django.utils.translation import gettext as _
from lxml import etree

from . import http
from .http import SourceError

WMS_VERSIONS = ("1.3.0", "1.1.1")
WFS_VERSIONS = ("2.0.0", "1.1.0")
MAX_LAYERS = 5000


# ---------------------------------------------------------------- XML safety
# WMS 1.1.1 documents conventionally name their DTD: an external identifier only, no internal subset. That
# one declaration is cut out before parsing (the DTD is never loaded); any other DOCTYPE is refused.
_PLAIN_DOCTYPE = re.compile(
    rb"<!DOCTYPE\s+WMT_MS_Capabilities\s+(?:SYSTEM\s+(?:\"[^\"<>\[\]]*\"|'[^'<>\[\]]*')"
    rb"|PUBLIC\s+(?:\"[^\"<>\[\]]*\"|'[^'<>\[\]]*')\s+(?:\"[^\"<>\[\]]*\"|'[^'<>\[\]]*'))\s*>",
    re.IGNORECASE,
)


def _dtd_refused() -> SourceError:
    return SourceError(
        _("The capabilities document declares a DOCTYPE or entities; such XML is refused."), code="xml_dtd"
    )


def safe_xml(body: bytes) -> tuple[etree._Element, bytes]:
    """The document's root and the bytes to hand to OWSLib, parsed without DTDs, entities or network;
    SourceError for a DOCTYPE (but WMS 1.1.1's plain one, cut out), an entity declaration, XML that is
    not well formed, or an exception report."""
    if b"<!entity" in body.lower():
        raise _dtd_refused()
    head = body[:4096]
    if b"<!doctype" in head.lower():
        body, n = _PLAIN_DOCTYPE.subn(b"", body, count=1)
        if n != 1 or b"<!doctype" in body[:4096].lower():
            raise _dtd_refused()
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as e:
        raise SourceError(
            _("The source's answer is not well-formed XML (%(reason)s).") % {"reason": str(e)[:200]},
            code="xml_invalid",
        ) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _dtd_refused()
    local = etree.QName(root).localname
    if local in ("ServiceExceptionReport", "ExceptionReport"):
        text = " ".join(t.strip() for t in root.itertext() if t.strip())[:300]
        raise SourceError(
            _("The source answered with an exception: %(text)s") % {"text": text}, code="service_exception"
        )
    return root, body


# ---------------------------------------------------------------- helpers
def _bbox(value) -> list[float] | None:
    if not value:
        return None
    try:
        nums = [float(v) for v in list(value)[:4]]
    except (TypeError, ValueError):
        return None
    if len(nums) != 4 or not all(math.isfinite(n) for n in nums):
        return None
    return nums


def _crs_code(c) -> str:
    if isinstance(c, str):
        return c
    code = getattr(c, "getcode", None)
    return code() if code else str(c)


def _dedup(values) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _capabilities_url(url: str, service: str, version: str) -> str:
    params = {"SERVICE": service, "REQUEST": "GetCapabilities"}
    if service == "WFS":
        params["ACCEPTVERSIONS"] = ",".join(WFS_VERSIONS)
    else:
        params["VERSION"] = version
    return http.with_params(url, params)


def _owslib_failed(e: Exception) -> SourceError:
    return SourceError(
        _("The capabilities document could not be read: %(reason)s")
        % {"reason": str(e)[:200] or type(e).__name__},
        code="capabilities_invalid",
    )


# ---------------------------------------------------------------- WMS
def read_wms(url: str, body: bytes) -> dict:
    root, body = safe_xml(body)
    local = etree.QName(root).localname
    version = root.get("version", "")
    if local == "WMT_MS_Capabilities" or version.startswith("1.1"):
        version = "1.1.1"
    elif local == "WMS_Capabilities":
        version = "1.3.0"
    else:
        raise SourceError(_("The answer is not a WMS capabilities document."), code="not_capabilities")
    from owslib.wms import WebMapService

    try:
        wms = WebMapService(url, version=version, xml=body)
        layers = [
            {
                "name": layer.name,
                "title": layer.title or layer.name,
                "crs": _dedup(_crs_code(c) for c in (layer.crsOptions or [])),
                "bbox": _bbox(layer.boundingBoxWGS84),
            }
            for layer in list(wms.contents.values())[:MAX_LAYERS]
            if layer.name
        ]
        title = wms.identification.title or ""
    except SourceError:
        raise
    except Exception as e:  # OWSLib raises many kinds for a malformed document
        raise _owslib_failed(e) from None
    return {"service_title": title, "version": version, "layers": layers}


# ---------------------------------------------------------------- WFS
def read_wfs(url: str, body: bytes) -> dict:
    root, body = safe_xml(body)
    if etree.QName(root).localname != "WFS_Capabilities":
        raise SourceError(_("The answer is not a WFS capabilities document."), code="not_capabilities")
    version = root.get("version", "")
    if version.startswith("2.0"):
        version = "2.0.0"
    elif version.startswith("1.1"):
        version = "1.1.0"
    else:
        raise SourceError(
            _("WFS version %(v)s is not supported (2.0.0 or 1.1.0).") % {"v": version or "?"},
            code="version",
        )
    from owslib.wfs import WebFeatureService

    try:
        wfs = WebFeatureService(url, version=version, xml=body)
        layers = [
            {
                "name": ft.id,
                "title": ft.title or ft.id,
                "crs": _dedup(_crs_code(c) for c in (ft.crsOptions or [])),
                "bbox": _bbox(ft.boundingBoxWGS84),
            }
            for ft in list(wfs.contents.values())[:MAX_LAYERS]
            if ft.id
        ]
        title = wfs.identification.title or ""
    except SourceError:
        raise
    except Exception as e:
        raise _owslib_failed(e) from None
    return {"service_title": title, "version": version, "layers": layers}


# ---------------------------------------------------------------- OGC API – Features
def _json(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SourceError(_("The source's answer is not valid JSON."), code="json_invalid") from None
    if not isinstance(data, dict):
        raise SourceError(_("The source's answer is not an OGC API document."), code="not_capabilities")
    return data


def read_ogcapi(landing: bytes | None, collections: bytes) -> dict:
    data = _json(collections)
    items = data.get("collections")
    if not isinstance(items, list):
        raise SourceError(_("The answer lists no OGC API collections."), code="not_capabilities")
    title = ""
    if landing:
        try:
            title = str(_json(landing).get("title") or "")[:300]
        except SourceError:
            title = ""
    layers = []
    for c in items[:MAX_LAYERS]:
        if not isinstance(c, dict) or not isinstance(c.get("id"), str) or not c["id"]:
            continue
        crs = c.get("crs") if isinstance(c.get("crs"), list) else []
        storage = c.get("storageCrs")
        spatial = (c.get("extent") or {}).get("spatial") if isinstance(c.get("extent"), dict) else None
        bbox = None
        if isinstance(spatial, dict) and isinstance(spatial.get("bbox"), list) and spatial["bbox"]:
            first = spatial["bbox"][0]
            bbox = _bbox(first if isinstance(first, list) else spatial["bbox"])
        layers.append(
            {
                "name": c["id"][:200],
                "title": str(c.get("title") or c["id"])[:300],
                "crs": _dedup(str(x)[:200] for x in [*crs, storage] if isinstance(x, str))[:100],
                "bbox": bbox,
            }
        )
    return {"service_title": title, "version": "1.0", "layers": layers}


# ---------------------------------------------------------------- fetch and read
def fetch_and_read(kind: str, url: str, *, registering: bool = False) -> dict:
    """Fetch the capabilities of the source at `url` (normalised) through the one client and read them."""
    reg = url if registering else None
    if kind == "wms":
        answer = http.get(_capabilities_url(url, "WMS", WMS_VERSIONS[0]), registering=reg)
        return read_wms(url, answer.body)
    if kind == "wfs":
        answer = http.get(_capabilities_url(url, "WFS", WFS_VERSIONS[0]), registering=reg)
        return read_wfs(url, answer.body)
    if kind == "ogcapi":
        accept = "application/json"
        collections = http.get(
            http.with_params(http.with_path(url, "/collections"), {"f": "json"}),
            registering=reg,
            accept=accept,
        )
        try:
            landing = http.get(
                http.with_params(http.with_path(url, "/"), {"f": "json"}), registering=reg, accept=accept
            ).body
        except SourceError:
            landing = None
        return read_ogcapi(landing, collections.body)
    raise SourceError(
        _("Unknown kind of source %(kind)s: use wms, wfs or ogcapi.") % {"kind": kind}, code="kind"
    )
