"""Helpers for OGC tests: decoded images and expected pixels."""

from __future__ import annotations

from ogc.render.engine import mapnik


def image(data: bytes):
    return mapnik().Image.from_string(data)


def rgba(data: bytes, x: int, y: int) -> tuple[int, int, int, int]:
    c = image(data).get_pixel_color(x, y)
    return c.r, c.g, c.b, c.a


def size(data: bytes) -> tuple[int, int]:
    im = image(data)
    return im.width(), im.height()


def pixel_of(x: float, y: float, bbox: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int]:
    """Pixel (column, row) of a map coordinate x/y in a bbox minx,miny,maxx,maxy (x/y order)."""
    minx, miny, maxx, maxy = bbox
    return int((x - minx) / (maxx - minx) * width), int((maxy - y) / (maxy - miny) * height)


# what gisportal.settings sets so that GDAL in the server never reaches the network; GDAL as a *client* of
# the live server (ogrinfo, as a surveyor's desktop would run it) is another program and must not inherit it
SERVER_ONLY_GDAL_ENV = ("GDAL_HTTP_PROXY", "GDAL_HTTPS_PROXY", "GDAL_HTTP_CONNECTTIMEOUT", "GDAL_HTTP_MAX_RETRY",
                        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS")


def gdal_client_env(**extra: str) -> dict:
    import os

    env = {k: v for k, v in os.environ.items() if k not in SERVER_ONLY_GDAL_ENV}
    env.update(extra)
    return env
