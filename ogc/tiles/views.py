"""OGC API – Tiles endpoints for vector tiles: the WebMercatorQuad tile matrix set, each collection's
tileset, and the tiles themselves with ETag / Cache-Control (a matching If-None-Match costs no SQL)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import mvt

MVT = "application/vnd.mapbox-vector-tile"


def _problem(status: int, detail: str) -> HttpResponse:
    return _response(_problem_reply(status, detail))


def _base() -> str:
    return f"{settings.GISPORTAL_PUBLIC_URL}/ogcapi"


TITLES = {
    "WebMercatorQuad": "Google Maps Compatible for the World",
    "PUWG1992": "PUWG 1992 (EPSG:2180) over Poland",
}


@require_http_methods(["GET", "HEAD"])
def tile_matrix_sets(request):
    return JsonResponse(
        {
            "tileMatrixSets": [
                {
                    "id": g.id,
                    "title": TITLES[g.id],
                    "uri": g.uri,
                    "links": [{"rel": "self", "href": f"{_base()}/tileMatrixSets/{g.id}"}],
                }
                for g in mvt.GRIDS.values()
            ]
        }
    )


@require_http_methods(["GET", "HEAD"])
def tile_matrix_set(request, tms: str):
    grid = mvt.GRIDS.get(tms)
    if grid is None:
        return _problem(404, _("Unknown tile matrix set."))
    if grid.epsg == 3857:
        origin, axes = [-mvt.WORLD / 2, mvt.WORLD / 2], ["X", "Y"]
    else:  # EPSG:2180 in its axis order: northing, easting
        origin, axes = [mvt.PUWG_ORIGIN[1], mvt.PUWG_ORIGIN[0]], ["x", "y"]
    matrices = [
        {
            "id": str(z),
            "scaleDenominator": grid.span(z) / 256 / 0.00028,
            "cellSize": grid.span(z) / 256,
            "cornerOfOrigin": "topLeft",
            "pointOfOrigin": origin,
            "tileWidth": 256,
            "tileHeight": 256,
            "matrixWidth": 2**z,
            "matrixHeight": 2**z,
        }
        for z in range(grid.max_zoom + 1)
    ]
    return JsonResponse(
        {
            "id": grid.id,
            "uri": grid.uri,
            "crs": f"http://www.opengis.net/def/crs/EPSG/0/{grid.epsg}",
            "orderedAxes": axes,
            "tileMatrices": matrices,
        }
    )


@require_http_methods(["GET", "HEAD"])
def tilesets(request, collection_id: str):
    layer = mvt.LAYERS.get(collection_id)
    if layer is None:
        return _problem(404, _("This collection has no vector tiles."))
    sets = []
    for g in mvt.GRIDS.values():
        url = f"{_base()}/collections/{collection_id}/tiles/{g.id}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
        sets.append(
            {
                "title": f"{collection_id} ({g.id})",
                "dataType": "vector",
                "crs": f"http://www.opengis.net/def/crs/EPSG/0/{g.epsg}",
                "tileMatrixSetURI": g.uri,
                "minZoom": max(0, layer.min_zoom - g.zoom_offset),
                "maxZoom": g.max_zoom,
                "links": [
                    {"rel": "item", "type": MVT, "href": url, "templated": True},
                    {
                        "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                        "href": f"{_base()}/tileMatrixSets/{g.id}",
                    },
                ],
            }
        )
    return JsonResponse({"tilesets": sets})


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes = b""


def _response(reply: Reply) -> HttpResponse:
    return HttpResponse(reply.body, status=reply.status, headers=reply.headers)


def _problem_reply(status: int, detail: str) -> Reply:
    code = {400: "InvalidParameterValue", 404: "NotFound"}.get(status, "ServiceUnavailable")
    body = json.dumps({"code": code, "description": detail}).encode()
    return Reply(status, {"Content-Type": "application/problem+json"}, body)


def answer(
    collection_id: str, tms: str, z: int, y: int, x: int, params: Iterable[str], if_none_match: str | None
) -> Reply:
    """One tile request of GET or HEAD, answered the same for everybody (tiles are public and vary on
    nothing): served by the view below and, without Django's request handling, by ogc.tiles.wsgi."""
    layer, grid = mvt.LAYERS.get(collection_id), mvt.GRIDS.get(tms)
    if layer is None or grid is None:
        return _problem_reply(404, _("No such tileset."))
    if not mvt.tile_in_range(z, x, y, grid):
        return _problem_reply(400, _("The tile lies outside the tile matrix set."))
    if set(params) - {"f"}:
        return _problem_reply(400, _("Unknown parameter."))
    tag = f'"{mvt.etag(collection_id, z, x, y, grid.id)}"'
    headers = {"ETag": tag, "Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"}
    if if_none_match == tag:
        return Reply(304, headers)
    body = mvt.tile_cached(layer, z, x, y, tag.strip('"'), grid)
    if not body:
        return Reply(204, headers)
    return Reply(200, {**headers, "Content-Type": MVT}, body)


@require_http_methods(["GET", "HEAD"])
def tile(request, collection_id: str, tms: str, z: int, y: int, x: int):
    return _response(
        answer(collection_id, tms, z, y, x, request.GET.keys(), request.headers.get("If-None-Match"))
    )
