"""Request hygiene in one place: a NUL character can never be stored or looked up (PostgreSQL
refuses it in text), so a path or query parameter holding one is answered with a 400 at once."""

from __future__ import annotations

import re

from django.http import HttpResponseBadRequest


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        forms = [request.GET]
        if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            forms.append(request.POST)
        if "\x00" in request.path or any(_has_nul(q) for q in forms):
            return HttpResponseBadRequest("NUL characters are not allowed in requests.", content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _has_nul(query) -> bool:
    return any("\x00" in k or any("\x00" in v for v in query.getlist(k)) for k in query)


_TILE_PATH = re.compile(r"/ogcapi/collections/([^/]+)/tiles/([^/]+)/([0-9]+)/([0-9]+)/([0-9]+)")


class TileShortcutMiddleware:
    """Vector tiles go straight to their view, past the session, locale, CSRF, authentication and
    message middleware below this one: tiles are public, anonymous and the same for everybody, and
    at large zooms those layers cost more than the tile's query (bench/RESULTS.md). The security
    middleware above still adds its headers; the view checks the method and its arguments."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        m = _TILE_PATH.fullmatch(request.path_info)
        if m is None:
            return self.get_response(request)
        from ogc.tiles.views import tile

        collection_id, tms, z, y, x = m.groups()
        return tile(request, collection_id, tms, int(z), int(y), int(x))
