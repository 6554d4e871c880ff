"""OGC API – Tiles endpoints for vector tiles: the WebMercatorQuad tile matrix set, each collection's
tileset, and the tiles themselves with ETag / Cache-Control (a matching If-None-Match costs no SQL)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from . import mvt

MVT = "application/vnd.mapbox-vector-tile"
TMS = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"


def _problem(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"code": "InvalidParameterValue" if status == 400 else "NotFound", "description": detail},
                        status=status, content_type="application/problem+json")


def _base() -> str:
    return f"{settings.GISPORTAL_PUBLIC_URL}/ogcapi"


@require_http_methods(["GET", "HEAD"])
def tile_matrix_sets(request):
    return JsonResponse({"tileMatrixSets": [{"id": TMS, "title": "Google Maps Compatible for the World", "uri": TMS_URI,
                                             "links": [{"rel": "self", "href": f"{_base()}/tileMatrixSets/{TMS}"}]}]})


@require_http_methods(["GET", "HEAD"])
def tile_matrix_set(request, tms: str):
    if tms != TMS:
        return _problem(404, "Unknown tile matrix set.")
    half = mvt.WORLD / 2
    matrices = [{"id": str(z), "scaleDenominator": 559082264.0287178 / 2**z, "cellSize": mvt.WORLD / 256 / 2**z,
                 "cornerOfOrigin": "topLeft", "pointOfOrigin": [-half, half], "tileWidth": 256, "tileHeight": 256,
                 "matrixWidth": 2**z, "matrixHeight": 2**z} for z in range(mvt.MAX_ZOOM + 1)]
    return JsonResponse({"id": TMS, "uri": TMS_URI, "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
                         "orderedAxes": ["X", "Y"], "tileMatrices": matrices})


@require_http_methods(["GET", "HEAD"])
def tilesets(request, collection_id: str):
    layer = mvt.LAYERS.get(collection_id)
    if layer is None:
        return _problem(404, "This collection has no vector tiles.")
    url = f"{_base()}/collections/{collection_id}/tiles/{TMS}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
    return JsonResponse({"tilesets": [{"title": collection_id, "dataType": "vector", "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
                                       "tileMatrixSetURI": TMS_URI, "minZoom": layer.min_zoom, "maxZoom": mvt.MAX_ZOOM,
                                       "links": [{"rel": "item", "type": MVT, "href": url, "templated": True},
                                                 {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                                                  "href": f"{_base()}/tileMatrixSets/{TMS}"}]}]})


@require_http_methods(["GET", "HEAD"])
def tile(request, collection_id: str, tms: str, z: int, y: int, x: int):
    layer = mvt.LAYERS.get(collection_id)
    if layer is None or tms != TMS:
        return _problem(404, "No such tileset.")
    if not mvt.tile_in_range(z, x, y):
        return _problem(400, "The tile lies outside the tile matrix set.")
    if set(request.GET) - {"f"}:
        return _problem(400, "Unknown parameter.")
    tag = f'"{mvt.etag(collection_id, z, x, y)}"'
    headers = {"ETag": tag, "Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"}
    if request.headers.get("If-None-Match") == tag:
        return HttpResponse(status=304, headers=headers)
    body = mvt.tile_cached(layer, z, x, y, tag.strip('"'))
    if not body:
        return HttpResponse(status=204, headers=headers)
    return HttpResponse(body, content_type=MVT, headers=headers)
