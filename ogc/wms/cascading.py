"""Cascaded layers in our WMS (issue 27): a GetMap naming remote WMS layers (layers.sources.cascade) is
composed here; a GetFeatureInfo whose first query layer is remote is passed through.

Composition is the one place GetMap differs for cascaded layers: LAYERS is split into runs of our own layers
and single remote layers, in the asked order (the first at the bottom). Each run of ours is rendered by the
usual Mapnik path (ogc.render.maps.render, transparent), each remote layer is fetched by
`cascade.remote_getmap` (cached, checked to be an image of the asked size), and the images are laid over
the background with Pillow's alpha_composite, then encoded in the asked format. A request without cascaded
layers never comes here. A remote failure is an OGC exception naming the source (EXCEPTIONS=INIMAGE/BLANK
are honoured by the view), never the remote's body.
"""

from __future__ import annotations

import io
import time

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _

from layers.sources import cascade
from layers.sources.http import SourceError

from ..common.exceptions import OGCException
from ..render import maps
from ..render.png import encode_rgb
from .requests import GetFeatureInfo, GetMap

TRANSPARENT_PNG = "png32:z=1"


def available(params, user) -> dict[str, cascade.CascadedLayer]:
    """The cascaded layers the user may see, by name, when LAYERS names one (one small query); an empty
    dict otherwise, so that requests for our own layers only cost nothing more."""
    names = (params.get("LAYERS") or "").split(",")
    if not any(n.strip().startswith(cascade.PREFIX + "_") for n in names):
        return {}
    return cascade.cascaded_for(user)


def _failed(e: SourceError) -> OGCException:
    # OperationProcessingFailed: a client-error-class WMS exception, answered with the WMS's configured
    # status (GISPORTAL_WMS_EXCEPTION_STATUS, 200 by default); the message is ours and names the source
    return OGCException("OperationProcessingFailed", str(e.message))


def _runs(req: GetMap) -> list[tuple[str, object]]:
    """[("local", ((layer, style), ...)) | ("remote", CascadedLayer)] in the asked order."""
    v = req.view
    runs: list[tuple[str, object]] = []
    for name, style in zip(v.layers, v.styles, strict=True):
        remote = v.remote(name)
        if remote is not None:
            runs.append(("remote", remote))
        elif runs and runs[-1][0] == "local":
            runs[-1] = ("local", (*runs[-1][1], (name, style)))  # type: ignore[misc]
        else:
            runs.append(("local", ((name, style),)))
    return runs


def _encode(im, fmt: str) -> bytes:
    """The composed RGBA image in the format GetMap asked for (the view's Mapnik format names)."""
    from PIL import Image

    out = io.BytesIO()
    if fmt == maps.OPAQUE_PNG:
        return encode_rgb(im.tobytes(), im.width, im.height)
    if fmt == TRANSPARENT_PNG:
        im.save(out, "PNG", compress_level=1)
    elif fmt.startswith("png8"):
        im.quantize(256, method=Image.Quantize.FASTOCTREE).save(out, "PNG", compress_level=1)
    elif fmt.startswith("jpeg"):
        im.convert("RGB").save(out, "JPEG", quality=85)
    else:  # a format the parser does not produce
        raise OGCException("InvalidFormat", _("Format %(f)s is not offered.") % {"f": fmt[:40]}, "FORMAT")
    return out.getvalue()


def render(req: GetMap, background: tuple[int, int, int, int] | None) -> bytes:
    """The map of a GetMap with cascaded layers, composed in the asked order over `background`."""
    from PIL import Image

    v = req.view
    canvas = Image.new("RGBA", (v.width, v.height), background or (0, 0, 0, 0))
    # one budget for all the remote layers of this map: several slow sources do not add up
    until = time.monotonic() + float(getattr(settings, "GISPORTAL_CASCADE_BUDGET", 30))
    for kind, what in _runs(req):
        if kind == "local":
            body = maps.render(what, v.srs, v.bbox, v.width, v.height, background=None, fmt=TRANSPARENT_PNG)
            layer = Image.open(io.BytesIO(body)).convert("RGBA")
        else:
            try:
                layer = cascade.remote_getmap(what, v.bbox, v.crs_code, v.width, v.height, until=until)  # type: ignore[arg-type]
            except SourceError as e:
                raise _failed(e) from None
        canvas.alpha_composite(layer)
    return _encode(canvas, req.mapnik_format)


def feature_info(req: GetFeatureInfo) -> HttpResponse:
    """The remote's feature info for the first query layer, with the content type we chose."""
    v = req.view
    try:
        body, mime = cascade.remote_featureinfo(
            req.remote,  # type: ignore[arg-type]
            v.bbox,
            v.crs_code,
            v.width,
            v.height,
            req.i,
            req.j,
            req.info_format,
            req.feature_count,
        )
    except SourceError as e:
        raise _failed(e) from None
    resp = HttpResponse(body, content_type=mime)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp
