"""WMS KVP → typed requests. Everything is checked here, before any handler runs; the bounding box
is normalised to x/y (easting/longitude first) of the request CRS (OGC.md §2)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from layers import catalogue
from layers.sources import cascade
from layers.sources.cascade import CascadedLayer

from ..common.crs import ETRS89_LAEA, WMS_EPSG, CrsRef, InvalidCRS, Protocol, parse_crs, to_xy
from ..common.exceptions import OGCException
from ..common.kvp import Params

VERSIONS = ("1.1.1", "1.3.0")
MAX_SIZE = 4096
LAYER_LIMIT = 20
MAX_FEATURE_COUNT = 50
MAX_TOLERANCE = 25
# zlib level 1: half the encoding time of the default for ~15 % bigger files (OGC.md §5.3)
MAP_FORMATS = {
    "image/png": "png32:z=1",
    "image/png; mode=8bit": "png8:m=h:z=1",
    "image/png8": "png8:m=h:z=1",
    "image/jpeg": "jpeg85",
}
OPAQUE_PNG = "rgb"  # ogc.render.maps.OPAQUE_PNG: 24-bit RGB by our own fast encoder
INFO_FORMATS = (
    "application/json",
    "text/html",
    "application/vnd.ogc.gml",
    "application/vnd.ogc.gml/3.1.1",
    "application/gml+xml; version=3.2",
    "text/xml",
    "text/plain",
)
LANGUAGES = {"pol": "pl", "eng": "en"}
EXCEPTION_FORMATS = {
    "XML": "xml",
    "application/vnd.ogc.se_xml": "xml",
    "text/xml": "xml",
    "INIMAGE": "inimage",
    "application/vnd.ogc.se_inimage": "inimage",
    "BLANK": "blank",
    "application/vnd.ogc.se_blank": "blank",
}


# CRSs a layer offers beyond the service's list (capabilities.CRS_LIST): the INSPIRE view layers (catalogue
# `view_of`) add ETRS89-LAEA, advertised on their group and refused for any other layer (InvalidCRS)
INSPIRE_EXTRA_CRS = (f"EPSG:{ETRS89_LAEA}",)


def layer_extra_crs(layer: catalogue.Layer) -> tuple[str, ...]:
    return INSPIRE_EXTRA_CRS if layer.view_of else ()


def negotiate(requested: str | None) -> str:
    """WMS version negotiation (W1): none → highest; above 1.3.0 → 1.3.0; below → 1.1.1."""
    if not requested:
        return "1.3.0"
    try:
        v = tuple(int(p) for p in requested.split("."))
    except ValueError:
        return "1.3.0"
    if v >= (1, 3, 0):
        return "1.3.0"
    return "1.1.1"


def language(params: Params) -> str:
    return LANGUAGES.get((params.get("LANGUAGE") or "pol").lower(), "pl")


def version_of(params: Params) -> str:
    v = params.get("VERSION") or params.get("WMTVER")
    return v if v in VERSIONS else "1.3.0" if not v else negotiate(v)


@dataclass(frozen=True)
class GetCapabilities:
    version: str
    language: str
    update_sequence: str | None


@dataclass(frozen=True)
class MapView:
    version: str
    layers: tuple[str, ...]
    styles: tuple[str, ...]
    crs: CrsRef
    bbox: tuple[float, float, float, float]  # x/y order of the CRS
    width: int
    height: int
    language: str
    # the cascaded (remote WMS) layers among `layers` (layers.sources.cascade), in no particular order
    cascaded: tuple[CascadedLayer, ...] = ()

    @property
    def srs(self) -> str:
        return f"epsg:{self.crs.srid}"

    @property
    def crs_code(self) -> str:
        """The request CRS as a WMS code: "EPSG:<n>" or "CRS:84"."""
        return "CRS:84" if self.crs.epsg is None else f"EPSG:{self.crs.epsg}"

    def remote(self, name: str) -> CascadedLayer | None:
        return next((c for c in self.cascaded if c.name == name), None)

    @property
    def scale_denominator(self) -> float:
        """OGC scale denominator (0.28 mm pixels); degrees taken at the box's middle latitude."""
        w = self.bbox[2] - self.bbox[0]
        if self.crs.srid in (4326, 4258):
            lat = (self.bbox[1] + self.bbox[3]) / 2
            w = w * 111_320 * math.cos(math.radians(lat))
        return w / self.width / 0.00028


@dataclass(frozen=True)
class GetMap:
    view: MapView
    format: str
    mapnik_format: str
    transparent: bool
    bgcolor: tuple[int, int, int]
    exceptions: str


@dataclass(frozen=True)
class GetFeatureInfo:
    view: MapView
    query_layers: tuple[str, ...]
    info_format: str
    i: int
    j: int
    feature_count: int
    tolerance: int
    exceptions: str
    # set when the answer is passed through from a cascaded layer (the first of QUERY_LAYERS)
    remote: CascadedLayer | None = None


@dataclass(frozen=True)
class GetLegendGraphic:
    version: str
    layer: str
    style: str
    format: str
    width: int | None
    language: str


def parse_getcapabilities(params: Params) -> GetCapabilities:
    version = negotiate(params.get("VERSION") or params.get("WMTVER"))
    return GetCapabilities(
        version=version, language=language(params), update_sequence=params.get("UPDATESEQUENCE")
    )


def _exceptions(params: Params) -> str:
    raw = params.get("EXCEPTIONS") or "XML"
    return EXCEPTION_FORMATS.get(raw, EXCEPTION_FORMATS.get(raw.upper(), "xml"))


def _bbox(params: Params) -> tuple[float, float, float, float]:
    raw = params.require("BBOX")
    parts = raw.split(",")
    if len(parts) != 4:
        raise OGCException(
            "InvalidParameterValue", _("BBOX must have four numbers: minx,miny,maxx,maxy."), "BBOX"
        )
    try:
        nums = tuple(float(p) for p in parts)
    except ValueError:
        raise OGCException(
            "InvalidParameterValue", _("BBOX must have four numbers: minx,miny,maxx,maxy."), "BBOX"
        ) from None
    if not all(math.isfinite(n) and abs(n) < 1e9 for n in nums):
        raise OGCException("InvalidParameterValue", _("BBOX holds numbers out of range."), "BBOX")
    if nums[0] >= nums[2] or nums[1] >= nums[3]:
        raise OGCException("InvalidParameterValue", _("BBOX minimum must be less than its maximum."), "BBOX")
    return nums  # type: ignore[return-value]


def parse_view(
    params: Params,
    user,
    *,
    version: str,
    layers_param: str = "LAYERS",
    styles_required: bool = False,
    cascaded: Mapping[str, CascadedLayer] | None = None,
) -> MapView:
    """The map part of GetMap and GetFeatureInfo. STYLES is mandatory in GetMap (WMS 1.3.0 and 1.1.1; an
    empty `STYLES=` asks for the default styles); GetFeatureInfo takes its absence as the defaults.
    `cascaded`: the remote layers this user may see by name (read by the view: parsers do no I/O); a
    cascaded layer has the one style `default` and only the CRSs its remote offers."""
    cascaded = cascaded or {}
    names = [n.strip() for n in params.require(layers_param).split(",")]
    if len(names) > LAYER_LIMIT:
        raise OGCException(
            "InvalidParameterValue", _("At most %(n)s layers per request.") % {"n": LAYER_LIMIT}, layers_param
        )
    readable = {la.name for la in catalogue.layers_for(user)} | set(cascaded)
    for name in names:
        if name not in readable:
            raise OGCException(
                "LayerNotDefined", _("Layer %(l)s is not defined.") % {"l": name[:60]}, layers_param
            )
    raw_styles = params.get("STYLES")
    if raw_styles is None and styles_required:
        raise OGCException(
            "MissingParameterValue", _("Parameter %(p)s is missing.") % {"p": "STYLES"}, "STYLES"
        )
    styles = [s.strip() for s in raw_styles.split(",")] if raw_styles else []
    if styles and len(styles) != len(names):
        if all(s == "" for s in styles):
            styles = []
        else:
            raise OGCException("StyleNotDefined", _("STYLES must list one style per layer."), "STYLES")
    styles = styles or [""] * len(names)
    resolved = []
    for name, style in zip(names, styles, strict=True):
        if name in cascaded:
            if style not in ("", "default"):
                raise OGCException(
                    "StyleNotDefined",
                    _("Style %(s)s is not defined for layer %(l)s.") % {"s": style[:40], "l": name},
                    "STYLES",
                )
            resolved.append("default")
            continue
        layer = catalogue.get_layer(name)
        style = style or layer.default_style
        if style not in layer.styles:
            raise OGCException(
                "StyleNotDefined",
                _("Style %(s)s is not defined for layer %(l)s.") % {"s": style[:40], "l": name},
                "STYLES",
            )
        resolved.append(style)
    crs_key = "CRS" if version == "1.3.0" else "SRS"
    crs_text = params.get(crs_key) or params.get("SRS" if crs_key == "CRS" else "CRS")
    if not crs_text:
        raise OGCException(
            "MissingParameterValue", _("Parameter %(p)s is missing.") % {"p": crs_key}, crs_key
        )
    try:
        crs = parse_crs(crs_text, Protocol.WMS130 if version == "1.3.0" else Protocol.WMS111, WMS_EPSG)
    except InvalidCRS as e:
        raise OGCException("InvalidCRS" if version == "1.3.0" else "InvalidSRS", e.message, crs_key) from None
    remote = tuple(dict.fromkeys(cascaded[n] for n in names if n in cascaded))
    code = "CRS:84" if crs.epsg is None else f"EPSG:{crs.epsg}"
    if code in INSPIRE_EXTRA_CRS:  # a CRS only some of our layers offer
        for name in names:
            if name not in cascaded and code not in layer_extra_crs(catalogue.get_layer(name)):
                raise OGCException(
                    "InvalidCRS" if version == "1.3.0" else "InvalidSRS",
                    _("CRS %(crs)s is not offered for layer %(l)s.") % {"crs": crs_text[:60], "l": name},
                    crs_key,
                )
    for layer in remote:
        if not layer.offers(code):
            raise OGCException(
                "InvalidCRS" if version == "1.3.0" else "InvalidSRS",
                _("CRS %(crs)s is not offered for layer %(l)s.") % {"crs": crs_text[:60], "l": layer.name},
                crs_key,
            )
    bbox = to_xy(_bbox(params), crs, Protocol.WMS130 if version == "1.3.0" else Protocol.WMS111)
    width = params.integer("WIDTH", lo=1, hi=MAX_SIZE)
    height = params.integer("HEIGHT", lo=1, hi=MAX_SIZE)
    return MapView(
        version,
        tuple(names),
        tuple(resolved),
        crs,
        bbox,  # type: ignore[arg-type]
        width,  # type: ignore[arg-type]
        height,  # type: ignore[arg-type]
        language(params),
        remote,
    )


def _bgcolor(params: Params) -> tuple[int, int, int]:
    raw = (params.get("BGCOLOR") or "0xFFFFFF").strip()
    if raw.startswith(("0x", "0X", "#")):
        raw = raw[2:] if raw[0] == "0" else raw[1:]
    if len(raw) != 6:
        raise OGCException("InvalidParameterValue", _("BGCOLOR must be 0xRRGGBB."), "BGCOLOR")
    try:
        return int(raw[0:2], 16), int(raw[2:4], 16), int(raw[4:6], 16)
    except ValueError:
        raise OGCException("InvalidParameterValue", _("BGCOLOR must be 0xRRGGBB."), "BGCOLOR") from None


def reject_user_styles(params: Params) -> None:
    for key in ("SLD", "SLD_BODY", "SLD_VERSION_BODY"):
        if params.has(key):
            raise OGCException(
                "OperationNotSupported",
                _("User-defined styles (SLD) are not supported; use the styles advertised."),
                key,
            )


def parse_getmap(params: Params, user, cascaded: Mapping[str, CascadedLayer] | None = None) -> GetMap:
    if not params.get("VERSION") and not params.get("WMTVER"):
        raise OGCException(
            "MissingParameterValue", _("Parameter %(p)s is missing.") % {"p": "VERSION"}, "VERSION"
        )
    version = params.get("VERSION") or params.get("WMTVER")
    if version not in VERSIONS:
        raise OGCException(
            "InvalidParameterValue",
            _("Version %(v)s is not supported (1.3.0 or 1.1.1).") % {"v": version[:10]},
            "VERSION",
        )
    reject_user_styles(params)
    fmt = params.require("FORMAT").strip()
    mapnik_fmt = MAP_FORMATS.get(fmt) or MAP_FORMATS.get(fmt.lower())
    if mapnik_fmt is None:
        raise OGCException("InvalidFormat", _("Format %(f)s is not offered.") % {"f": fmt[:40]}, "FORMAT")
    view = parse_view(params, user, version=version, styles_required=True, cascaded=cascaded)
    transparent = params.boolean("TRANSPARENT")
    if mapnik_fmt == "png32:z=1" and not transparent:
        mapnik_fmt = OPAQUE_PNG  # 24-bit RGB: no alpha channel to encode when nothing is transparent
    return GetMap(
        view=view,
        format=fmt.lower() if fmt.lower() in MAP_FORMATS else fmt,
        mapnik_format=mapnik_fmt,
        transparent=transparent,
        bgcolor=_bgcolor(params),
        exceptions=_exceptions(params),
    )


def parse_getfeatureinfo(
    params: Params, user, cascaded: Mapping[str, CascadedLayer] | None = None
) -> GetFeatureInfo:
    """QUERY_LAYERS naming cascaded layers: when the first of QUERY_LAYERS is cascaded, the answer is that
    remote layer's, passed through (INFO_FORMAT one of layers.sources.cascade.INFO_FORMATS; the other
    query layers are not asked); when the first is ours, our query layers are answered and cascaded ones
    among them are left out (no merging of a remote's answer into ours)."""
    version = params.get("VERSION") or params.get("WMTVER")
    if not version:
        raise OGCException(
            "MissingParameterValue", _("Parameter %(p)s is missing.") % {"p": "VERSION"}, "VERSION"
        )
    if version not in VERSIONS:
        raise OGCException(
            "InvalidParameterValue",
            _("Version %(v)s is not supported (1.3.0 or 1.1.1).") % {"v": version[:10]},
            "VERSION",
        )
    reject_user_styles(params)
    view = parse_view(params, user, version=version, cascaded=cascaded)
    query = [n.strip() for n in params.require("QUERY_LAYERS").split(",")]
    for name in query:
        if name not in view.layers:
            raise OGCException(
                "LayerNotDefined", _("Layer %(l)s is not defined.") % {"l": name[:60]}, "QUERY_LAYERS"
            )
        if view.remote(name) is not None:
            continue  # whether the remote layer is queryable is the remote's answer
        if not catalogue.get_layer(name).queryable:
            raise OGCException(
                "LayerNotQueryable", _("Layer %(l)s cannot be queried.") % {"l": name}, "QUERY_LAYERS"
            )
    info = (params.get("INFO_FORMAT") or ("text/html" if version == "1.1.1" else "")).strip()
    if not info:
        raise OGCException(
            "MissingParameterValue", _("Parameter %(p)s is missing.") % {"p": "INFO_FORMAT"}, "INFO_FORMAT"
        )
    remote = view.remote(query[0])
    if remote is not None:
        query = [query[0]]
    else:
        query = [n for n in query if view.remote(n) is None]
    if info.lower() not in (cascade.INFO_FORMATS if remote is not None else INFO_FORMATS):
        raise OGCException(
            "InvalidFormat", _("Format %(f)s is not offered.") % {"f": info[:40]}, "INFO_FORMAT"
        )
    ik, jk = ("I", "J") if version == "1.3.0" else ("X", "Y")
    i = params.integer(ik, code="InvalidPoint")
    j = params.integer(jk, code="InvalidPoint")
    if not (0 <= i < view.width and 0 <= j < view.height):
        raise OGCException(
            "InvalidPoint", _("The point %(i)s,%(j)s lies outside the map.") % {"i": i, "j": j}, ik
        )
    count = params.integer("FEATURE_COUNT", required=False, default=1, lo=1, hi=10**12) or 1
    tolerance = params.integer("TOLERANCE", required=False, default=None, lo=0, hi=10**6)
    if tolerance is None:
        tolerance = params.integer("BUFFER", required=False, default=4, lo=0, hi=10**6)
    return GetFeatureInfo(
        view=view,
        query_layers=tuple(query),
        info_format=info.lower(),
        i=i,
        j=j,
        feature_count=min(count, MAX_FEATURE_COUNT),
        tolerance=min(tolerance, MAX_TOLERANCE),
        exceptions=_exceptions(params),
        remote=remote,
    )


def parse_getlegendgraphic(params: Params, user) -> GetLegendGraphic:
    version = version_of(params)
    name = params.require("LAYER").strip()
    layer = catalogue.get_layer(name)
    if layer is None or not catalogue.user_can_read(user, layer):
        raise OGCException("LayerNotDefined", _("Layer %(l)s is not defined.") % {"l": name[:60]}, "LAYER")
    style = (params.get("STYLE") or "").strip() or layer.default_style
    if style not in layer.styles:
        raise OGCException(
            "StyleNotDefined",
            _("Style %(s)s is not defined for layer %(l)s.") % {"s": style[:40], "l": name},
            "STYLE",
        )
    fmt = (params.get("FORMAT") or "image/png").strip().lower()
    if fmt not in ("image/png",):
        raise OGCException("InvalidFormat", _("Format %(f)s is not offered.") % {"f": fmt[:40]}, "FORMAT")
    reject_user_styles(params)
    width = params.integer("WIDTH", required=False, lo=40, hi=1000)
    return GetLegendGraphic(
        version=version, layer=name, style=style, format=fmt, width=width, language=language(params)
    )
