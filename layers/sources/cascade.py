"""Cascading WMS (issue 27): layers of a registered remote WMS that staff chose, offered through our own WMS
under local names and drawn by asking the remote through the one outbound client (http.py).

Pure functions over RemoteSource rows and the client; no Django views, nothing of ogc (the WMS turns a
SourceError into its OGC exception). The browser never calls the remote: our WMS fetches, checks and
composes.

- `cascaded_layers()`: for each WMS source with status ok, each chosen layer still in its capabilities, a
  `CascadedLayer` named `zdalna_<source pk>_<remote name as a plain identifier>` (lower-case [a-z0-9_], at
  most 60 characters, deterministic: a short hash of the remote name is appended when the name had to be
  changed beyond lower-casing or cut).
- `remote_getmap(...)`: the remote GetMap (the source's own WMS version; WMS 1.3.0 takes the box in the
  CRS's authority order, 1.1.1 easting first, OGC.md §2), TRANSPARENT=TRUE, FORMAT=image/png; the answer
  must be a PNG or JPEG of the asked size, else SourceError (a remote exception report becomes a clear
  message naming the source). Answers are cached (Django cache, key = the URL's hash,
  GISPORTAL_CASCADE_CACHE_SECONDS, 300 s by default; entries above 5 MB are not kept).
- `remote_featureinfo(...)`: GetFeatureInfo passed through with INFO_FORMAT limited to INFO_FORMATS (never
  text/html: the remote's HTML would run on our origin); the answer is checked to be of that format and
  is served with the content type we chose, not the remote's.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from gisportal.core.crs import north_first, srsname_epsg
from layers.models import RemoteSource

from . import http
from .capabilities import safe_xml
from .http import SourceError

PREFIX = "zdalna"
MAX_NAME = 60
CACHE_MAX_BYTES = 5 * 1024 * 1024
CAPABILITY = "view_public_layers"  # who may see cascaded layers: as for the public layers
# INFO_FORMATs passed through to a remote (text/html is not: it would run on our origin)
INFO_FORMATS = (
    "text/plain",
    "application/json",
    "application/geo+json",
    "application/vnd.ogc.gml",
    "text/xml",
)
_JSON_FORMATS = ("application/json", "application/geo+json")
_XML_FORMATS = ("application/vnd.ogc.gml", "text/xml")
_CRS84 = re.compile(
    r"^(CRS:84|urn:ogc:def:crs:OGC:(1\.3|2)?:CRS84|https?://www\.opengis\.net/def/crs/OGC/1\.3/CRS84)$", re.I
)


@dataclass(frozen=True)
class CascadedLayer:
    name: str  # our WMS name
    source_id: int
    source_title: str
    source_url: str
    version: str  # the remote's WMS version (1.3.0 or 1.1.1)
    remote_name: str
    title: str
    crs: tuple[str, ...]  # the remote's CRSs, normalised: "EPSG:<code>" or "CRS:84"
    bbox: tuple[float, float, float, float] | None  # WGS 84 longitude/latitude, when the remote gave one

    def offers(self, crs: str) -> bool:
        """Whether the remote offers this CRS ("EPSG:2180", "CRS:84", as normalised)."""
        return normalise_crs(crs) in self.crs


def allowed(user) -> bool:
    return bool(user is not None and user.has_perm("gisportal." + CAPABILITY))


# ---------------------------------------------------------------- names and CRSs
def _plain(text: str) -> str:
    text = text.replace("ł", "l").replace("Ł", "L")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def local_name(source_pk: int, remote_name: str) -> str:
    """`zdalna_<pk>_<plain>`: lower-case [a-z0-9_], ≤ 60 characters, the same for the same input."""
    head = f"{PREFIX}_{int(source_pk)}_"
    plain = _plain(remote_name)
    digest = hashlib.sha256(remote_name.encode()).hexdigest()[:6]
    exact = plain == remote_name.lower()
    if not plain:
        plain, exact = "warstwa", False
    if exact and len(head) + len(plain) <= MAX_NAME:
        return head + plain
    room = MAX_NAME - len(head) - len(digest) - 1
    return f"{head}{plain[:room].rstrip('_')}_{digest}"


def normalise_crs(code: str) -> str:
    text = (code or "").strip()
    if _CRS84.match(text):
        return "CRS:84"
    found = srsname_epsg(text)
    if found:
        return f"EPSG:{found[0]}"
    return text.upper()


def _bbox(value) -> tuple[float, float, float, float] | None:
    try:
        box = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    if len(box) != 4 or not (-180 <= box[0] < box[2] <= 180 and -90 <= box[1] < box[3] <= 90):
        return None
    return box  # type: ignore[return-value]


# ---------------------------------------------------------------- the layers offered
def cascaded_layers() -> list[CascadedLayer]:
    """Every chosen layer of every WMS source with status ok, in source then choice order."""
    out: list[CascadedLayer] = []
    seen: set[str] = set()
    sources = RemoteSource.objects.filter(kind=RemoteSource.Kind.WMS, status=RemoteSource.Status.OK).order_by(
        "pk"
    )
    for source in sources:
        caps = source.capabilities or {}
        offered = {la.get("name"): la for la in caps.get("layers", []) if isinstance(la, dict)}
        version = "1.1.1" if str(caps.get("version", "")).startswith("1.1") else "1.3.0"
        for remote in source.chosen or []:
            layer = offered.get(remote)
            if not layer or not isinstance(remote, str):
                continue  # chosen once, gone from the capabilities read last
            name = local_name(source.pk, remote)
            if name in seen:  # remote names differing in case only
                name = local_name(source.pk, remote + "\x00")
            seen.add(name)
            out.append(
                CascadedLayer(
                    name=name,
                    source_id=source.pk,
                    source_title=source.title or source.url,
                    source_url=source.url,
                    version=version,
                    remote_name=remote,
                    title=str(layer.get("title") or remote)[:300],
                    crs=tuple(dict.fromkeys(normalise_crs(str(c)) for c in layer.get("crs") or [] if c)),
                    bbox=_bbox(layer.get("bbox")),
                )
            )
    return out


def cascaded_for(user) -> dict[str, CascadedLayer]:
    """The cascaded layers this user may see, by our name (empty without the capability)."""
    if not allowed(user):
        return {}
    return {layer.name: layer for layer in cascaded_layers()}


# ---------------------------------------------------------------- requests to the remote
def _url(layer: CascadedLayer, params: dict[str, str]) -> str:
    """The source's address with these parameters (replacing any of the same name the address holds)."""
    parts = urlsplit(layer.source_url)
    ours = {k.upper() for k in params}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.upper() not in ours]
    query += list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))


def _num(v: float) -> str:
    return f"{v:.12g}"


def _map_params(
    layer: CascadedLayer, bbox: tuple[float, float, float, float], crs: str, width: int, height: int
) -> dict[str, str]:
    """The map part of GetMap and GetFeatureInfo in the remote's version. `bbox` is easting/longitude first."""
    code = normalise_crs(crs)
    box = tuple(bbox)
    if layer.version == "1.3.0" and code.startswith("EPSG:") and north_first(int(code[5:])):
        box = (box[1], box[0], box[3], box[2])  # WMS 1.3.0: the CRS's own axis order (N,E; lat,lon)
    return {
        "SERVICE": "WMS",
        "VERSION": layer.version,
        "LAYERS": layer.remote_name,
        "STYLES": "",
        ("CRS" if layer.version == "1.3.0" else "SRS"): code,
        "BBOX": ",".join(_num(v) for v in box),
        "WIDTH": str(int(width)),
        "HEIGHT": str(int(height)),
        "EXCEPTIONS": "XML" if layer.version == "1.3.0" else "application/vnd.ogc.se_xml",
    }


def _named(layer: CascadedLayer, e: SourceError) -> SourceError:
    return SourceError(
        _("External source “%(source)s”: %(reason)s")
        % {"source": layer.source_title[:120], "reason": e.message},
        code=e.code,
    )


def _exception_text(body: bytes) -> SourceError | None:
    """A SourceError for an XML answer (an exception report, or XML where something else was asked)."""
    if not body.lstrip()[:1] == b"<":
        return None
    try:
        safe_xml(body)
    except SourceError as e:
        return e
    return SourceError(_("The source answered with XML instead of an image."), code="not_image")


def cache_seconds() -> int:
    return int(getattr(settings, "GISPORTAL_CASCADE_CACHE_SECONDS", 300))


def _check_image(body: bytes, width: int, height: int):
    """The answer as a loaded Pillow image (PNG or JPEG of exactly width × height), or SourceError."""
    from PIL import Image

    xml = _exception_text(body)
    if xml is not None:
        raise xml
    try:
        im = Image.open(io.BytesIO(body))
        if im.format not in ("PNG", "JPEG"):
            raise SourceError(
                _("The source answered with a %(f)s image; PNG or JPEG was asked for.")
                % {"f": im.format or "?"},
                code="not_image",
            )
        if im.size != (width, height):
            raise SourceError(
                _("The source answered with an image of %(w)s×%(h)s pixels instead of %(W)s×%(H)s.")
                % {"w": im.size[0], "h": im.size[1], "W": width, "H": height},
                code="image_size",
            )
        im.load()
    except SourceError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise SourceError(_("The source's answer is not a readable image."), code="not_image") from None
    return im


def remote_getmap_url(
    layer: CascadedLayer,
    bbox: tuple[float, float, float, float],
    crs: str,
    width: int,
    height: int,
    fmt: str = "image/png",
) -> str:
    params = _map_params(layer, bbox, crs, width, height)
    fmt = fmt if fmt in ("image/png", "image/jpeg") else "image/png"
    params.update({"REQUEST": "GetMap", "FORMAT": fmt, "TRANSPARENT": "TRUE"})
    return _url(layer, params)


def remote_getmap(
    layer: CascadedLayer,
    bbox: tuple[float, float, float, float],
    crs: str,
    width: int,
    height: int,
    fmt: str = "image/png",
    until: float | None = None,
):
    """The remote's map of this layer as an RGBA Pillow image (`until`: the GetMap's time budget, see
    http.get). `bbox` easting/longitude first in `crs`
    (which the remote must offer); the remote is asked for TRANSPARENT=TRUE in `fmt` (image/png, the
    default, or image/jpeg) and may answer PNG or JPEG of exactly the asked size. SourceError naming the
    source on any failure."""
    if not layer.offers(crs):
        raise SourceError(
            _("External source “%(source)s” does not offer %(crs)s for %(layer)s.")
            % {"source": layer.source_title[:120], "crs": crs[:40], "layer": layer.remote_name[:60]},
            code="crs",
        )
    url = remote_getmap_url(layer, bbox, crs, width, height, fmt)
    key = "gisportal:cascade:" + hashlib.sha256(url.encode()).hexdigest()
    body = cache.get(key)
    if body is not None:
        try:
            return _check_image(body, width, height).convert("RGBA")
        except SourceError:
            cache.delete(key)
    try:
        answer = http.get(url, accept="image/png,image/jpeg;q=0.9", until=until)
        im = _check_image(answer.body, width, height)
    except SourceError as e:
        raise _named(layer, e) from None
    if len(answer.body) <= CACHE_MAX_BYTES and cache_seconds() > 0:
        cache.set(key, answer.body, timeout=cache_seconds())
    return im.convert("RGBA")


def remote_featureinfo(
    layer: CascadedLayer,
    bbox: tuple[float, float, float, float],
    crs: str,
    width: int,
    height: int,
    i: int,
    j: int,
    info_format: str,
    feature_count: int = 1,
) -> tuple[bytes, str]:
    """GetFeatureInfo of this layer passed through: (body, content type = `info_format`). `info_format` must
    be one of INFO_FORMATS; the answer is checked to be JSON for the JSON formats and well-formed XML (no
    DTD, not an exception report) for the XML ones; SourceError naming the source otherwise."""
    info_format = (info_format or "").strip().lower()
    if info_format not in INFO_FORMATS:
        raise SourceError(
            _("Feature info in %(f)s is not passed on from external sources.") % {"f": info_format[:40]},
            code="info_format",
        )
    if not layer.offers(crs):
        raise SourceError(
            _("External source “%(source)s” does not offer %(crs)s for %(layer)s.")
            % {"source": layer.source_title[:120], "crs": crs[:40], "layer": layer.remote_name[:60]},
            code="crs",
        )
    params = _map_params(layer, bbox, crs, width, height)
    ik, jk = ("I", "J") if layer.version == "1.3.0" else ("X", "Y")
    params.update(
        {
            "REQUEST": "GetFeatureInfo",
            "QUERY_LAYERS": layer.remote_name,
            "INFO_FORMAT": info_format,
            "FEATURE_COUNT": str(max(1, int(feature_count))),
            ik: str(int(i)),
            jk: str(int(j)),
        }
    )
    try:
        answer = http.get(_url(layer, params), accept=info_format)
        body = answer.body
        if info_format in _XML_FORMATS:
            safe_xml(body)  # exception reports and DTDs refused
        else:
            xml = _exception_text(body) if body.lstrip()[:1] == b"<" else None
            if xml is not None and xml.code == "service_exception":
                raise xml
            if info_format in _JSON_FORMATS:
                try:
                    json.loads(body)
                except (ValueError, UnicodeDecodeError):
                    raise SourceError(
                        _("The source's answer is not valid JSON."), code="json_invalid"
                    ) from None
    except SourceError as e:
        raise _named(layer, e) from None
    return body, info_format
