"""Vector tiles (OGC API – Tiles, MVT on WebMercatorQuad): decoded tiles hold the expected features
and attributes where they belong; per-zoom diet; ETag/304; bad tiles are 400/404."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from pyproj import Transformer

from layers.models import AddressPoint, AdministrativeUnit, Building, Parcel, ZoningArea

pytestmark = pytest.mark.django_db


def tile_of(x2180: float, y2180: float, z: int) -> tuple[int, int]:
    lon, lat = Transformer.from_crs(2180, 4326, always_xy=True).transform(x2180, y2180)
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


@pytest.fixture(scope="module")
def parcel(demo_data, django_db_blocker):
    with django_db_blocker.unblock():
        p = Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[40]
        pt = p.geom.point_on_surface
        return {"id": p.parcel_id, "x": pt.x, "y": pt.y, "number": p.number}


def get_tile(client, layer: str, z: int, x: int, y: int, **headers):
    return client.get(f"/ogcapi/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}", **headers)


def test_parcel_tile_holds_the_parcel_with_attributes(client, parcel):
    x, y = tile_of(parcel["x"], parcel["y"], 17)
    r = get_tile(client, "dzialki", 17, x, y)
    assert r.status_code == 200 and r["Content-Type"] == "application/vnd.mapbox-vector-tile"
    feats = mapbox_vector_tile.decode(r.content)["dzialki"]["features"]
    mine = [f for f in feats if f["properties"]["ID_DZIALKI"] == parcel["id"]]
    assert len(mine) == 1 and mine[0]["properties"]["NUMER_DZIALKI"] == parcel["number"]
    assert mine[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_attribute_diet_and_min_zoom(client, parcel):
    x, y = tile_of(parcel["x"], parcel["y"], 14)
    feats = mapbox_vector_tile.decode(get_tile(client, "dzialki", 14, x, y).content)["dzialki"]["features"]
    assert feats and all(set(f["properties"]) == {"ID_DZIALKI"} for f in feats)
    x, y = tile_of(parcel["x"], parcel["y"], 11)
    assert get_tile(client, "dzialki", 11, x, y).status_code == 204


OTHER_LAYERS = {  # layer: (the current rows, the official id's field, its tile attribute)
    "budynki": (lambda: Building.objects.current().exclude(geom=None), "building_id", "ID_BUDYNKU"),
    "adresy": (lambda: AddressPoint.objects.current(), "local_id", "ID_ADRESU"),
    "mpzp": (lambda: ZoningArea.objects.all(), "id", "ID_TERENU"),
    "granice": (lambda: AdministrativeUnit.objects.all(), "teryt", "TERYT"),
}


@pytest.mark.parametrize("layer, z", [("budynki", 16), ("adresy", 16), ("mpzp", 13), ("granice", 9)])
def test_other_layers_have_tiles(client, parcel, layer, z):
    """The tile under a feature of the layer (the one nearest the parcel) is not empty and holds it."""
    rows, field, attribute = OTHER_LAYERS[layer]
    near = Point(parcel["x"], parcel["y"], srid=2180)
    feature = rows().annotate(d=Distance("geom", near)).order_by("d", "pk").first()
    assert feature is not None, f"the demo data has no {layer}"
    pt = feature.geom.point_on_surface
    x, y = tile_of(pt.x, pt.y, z)
    r = get_tile(client, layer, z, x, y)
    assert r.status_code == 200 and r["Content-Type"] == "application/vnd.mapbox-vector-tile"
    ids = {str(f["properties"][attribute]) for f in mapbox_vector_tile.decode(r.content)[layer]["features"]}
    assert str(getattr(feature, field)) in ids


def test_etag_and_cache(client, parcel):
    x, y = tile_of(parcel["x"], parcel["y"], 16)
    r = get_tile(client, "dzialki", 16, x, y)
    assert r["Cache-Control"].startswith("public") and r["ETag"]
    assert get_tile(client, "dzialki", 16, x, y, HTTP_IF_NONE_MATCH=r["ETag"]).status_code == 304


def test_bad_tiles(client, demo_data):
    assert get_tile(client, "dzialki", 3, 8, 0).status_code == 400
    assert get_tile(client, "dzialki", 23, 0, 0).status_code == 400
    assert get_tile(client, "obreby", 14, 0, 0).status_code == 404
    assert client.get("/ogcapi/collections/dzialki/tiles/EuropeanETRS89_LAEAQuad/1/0/0").status_code == 404
    assert (
        client.get("/ogcapi/collections/dzialki/tiles/WebMercatorQuad/14/1/1", {"x": "1"}).status_code == 400
    )


def test_tileset_metadata(client, demo_data):
    ts = client.get("/ogcapi/collections/dzialki/tiles").json()["tilesets"][0]
    assert ts["dataType"] == "vector" and "{tileMatrix}" in ts["links"][0]["href"]
    tms = client.get("/ogcapi/tileMatrixSets/WebMercatorQuad").json()
    assert len(tms["tileMatrices"]) == 23 and tms["tileMatrices"][0]["matrixWidth"] == 1


def puwg_tile(x2180: float, y2180: float, z: int) -> tuple[int, int]:
    span = 819_200.0 / 2**z
    return int((x2180 - 100_000.0) // span), int((919_200.0 - y2180) // span)


def test_puwg1992_tiles_without_reprojection(client, parcel):
    """The PUWG-1992 tile matrix set (EPSG:2180, for maps in the national grid): tile units map
    linearly to 2180 metres, so the parcel's point lands where the grid says."""
    z = 12
    x, y = puwg_tile(parcel["x"], parcel["y"], z)
    r = client.get(f"/ogcapi/collections/dzialki/tiles/PUWG1992/{z}/{y}/{x}")
    assert r.status_code == 200
    tile = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})["dzialki"]
    mine = [f for f in tile["features"] if f["properties"]["ID_DZIALKI"] == parcel["id"]]
    assert len(mine) == 1
    span = 819_200.0 / 2**z
    px = (parcel["x"] - (100_000.0 + x * span)) / span * 4096
    py = ((919_200.0 - y * span) - parcel["y"]) / span * 4096
    ring = (
        mine[0]["geometry"]["coordinates"][0]
        if mine[0]["geometry"]["type"] == "Polygon"
        else mine[0]["geometry"]["coordinates"][0][0]
    )
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    assert min(xs) - 2 <= px <= max(xs) + 2 and min(ys) - 2 <= py <= max(ys) + 2
    tms = client.get("/ogcapi/tileMatrixSets/PUWG1992").json()
    assert tms["crs"].endswith("/2180") and tms["tileMatrices"][12]["cellSize"] == pytest.approx(span / 256)
    assert client.get("/ogcapi/collections/dzialki/tiles/PUWG1992/18/0/0").status_code == 400


def wsgi(path: str, method: str = "GET", query: str = "", **environ):
    """A request to the WSGI application gunicorn serves (gisportal.wsgi), tile fast path included."""
    from wsgiref.util import setup_testing_defaults

    from gisportal.wsgi import application

    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_HOST": "testserver",
        **environ,
    }
    setup_testing_defaults(env)
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(application(env, start_response))
    return seen["status"], seen["headers"], body


def test_tiles_past_django_are_the_tiles_of_the_view(client, parcel):
    """ogc.tiles.wsgi answers tile paths before Django builds a request: the same status, body, ETag
    and caching headers as the view, the security headers, nothing that varies by session or language."""
    x, y = tile_of(parcel["x"], parcel["y"], 17)
    path = f"/ogcapi/collections/dzialki/tiles/WebMercatorQuad/17/{y}/{x}"
    view = client.get(path)
    status, headers, body = wsgi(path, HTTP_COOKIE="sessionid=whatever", HTTP_ACCEPT_LANGUAGE="en")
    assert status == 200 and body == view.content
    for name in ("ETag", "Cache-Control", "Content-Type", "Access-Control-Allow-Origin"):
        assert headers[name] == view[name]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Content-Length"] == str(len(body))
    assert "Vary" not in headers and "Content-Language" not in headers and "Set-Cookie" not in headers
    assert wsgi(path, HTTP_IF_NONE_MATCH=headers["ETag"])[:1] == (304,)
    head = wsgi(path, "HEAD")
    assert head[0] == 200 and head[2] == b"" and head[1]["Content-Length"] == str(len(body))
    assert wsgi(path, "POST")[0] == 405 and wsgi(path, "POST")[1]["Allow"] == "GET, HEAD"
    status, headers, body = wsgi(path, query="f=mvt&x=1", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert (
        status == 400
        and headers["Content-Type"] == "application/problem+json"
        and b"Unknown parameter" in body
    )
    assert headers["Content-Language"] == "en" and headers["Vary"] == "Accept-Language"
    status, headers, body = wsgi(path, query="x=1")  # Polish first
    assert status == 400 and headers["Content-Language"] == "pl" and "Nieznany parametr" in body.decode()
    assert "Nieznany parametr" in client.get(path + "?x=1").json()["description"]  # the view: the same text
    assert wsgi("/ogcapi/collections/nic/tiles/WebMercatorQuad/17/1/1")[0] == 404
    assert wsgi("/ogcapi/collections/dzialki/tiles/WebMercatorQuad/23/1/1")[0] == 400
    # not tile paths: Django as always
    assert wsgi(path + "/")[0] == 404
    status, headers, _body = wsgi("/ogcapi/collections/dzialki/tiles", HTTP_ACCEPT_LANGUAGE="en")
    assert status == 200 and "Accept-Language" in headers.get("Vary", "")


def test_tiles_past_django_keep_their_connection(parcel):
    """The fast path keeps its database connection between tiles (taking it from the pool per tile
    cost as much as a small tile's query)."""
    from django.db import connection

    x, y = tile_of(parcel["x"], parcel["y"], 17)
    path = f"/ogcapi/collections/dzialki/tiles/WebMercatorQuad/17/{y}/{x}"
    assert wsgi(path)[0] == 200
    first = connection.connection
    assert wsgi(path.replace(f"/{x}", f"/{x + 1}"))[0] in (200, 204)
    assert first is not None and connection.connection is first


def test_tiles_past_django_give_the_connection_back_under_a_thread_per_connection(parcel, monkeypatch):
    """runserver and other servers with a thread per connection (wsgi.multithread) would leave a pooled
    connection in every finished thread: there the connection goes back after each tile."""
    from django.db import connections

    connection = connections["default"]
    closed = []
    # the test's transaction is left as it is: closing is recorded, not done
    monkeypatch.setattr(connection, "in_atomic_block", False)
    monkeypatch.setattr(connection, "close", lambda: closed.append(1))
    x, y = tile_of(parcel["x"], parcel["y"], 17)
    path = f"/ogcapi/collections/dzialki/tiles/WebMercatorQuad/17/{y}/{x}"
    assert wsgi(path, **{"wsgi.multithread": False})[0] == 200 and not closed
    assert wsgi(path, **{"wsgi.multithread": True})[0] == 200 and closed


@pytest.mark.parametrize("failure", ["database", "cache"])
def test_a_database_or_cache_failure_is_a_503_without_details(parcel, monkeypatch, failure):
    import psycopg
    import redis
    from django.db import connection

    from ogc.tiles import mvt

    def broken(*_args, **_kwargs):
        if failure == "database":
            raise psycopg.OperationalError("server closed the connection unexpectedly SELECT secret")
        raise redis.exceptions.ConnectionError("Error 111 connecting to secret:6379")

    monkeypatch.setattr(mvt, "tile_cached", broken)
    monkeypatch.setattr(connection, "close", lambda: None)  # the test's transaction stays open
    x, y = tile_of(parcel["x"], parcel["y"], 17)
    status, headers, body = wsgi(f"/ogcapi/collections/dzialki/tiles/WebMercatorQuad/17/{y}/{x}")
    assert status == 503 and headers["Content-Type"] == "application/problem+json" and headers["Retry-After"]
    assert b"secret" not in body and b"Traceback" not in body


@pytest.mark.parametrize("layer", ["dzialki", "budynki", "adresy"])
def test_tile_query_clips_and_transforms_each_row_once(parcel, layer):
    """A NULL test on the clipped geometry outside the row query would be pushed into the scan, where
    PostgreSQL evaluates ST_AsMVTGeom a second time per row (it has no common subexpressions)."""
    from django.db import connection

    from ogc.tiles import mvt

    x, y = tile_of(parcel["x"], parcel["y"], 17)
    sql, params = mvt.tile_sql(mvt.LAYERS[layer], 17, x, y)
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (VERBOSE, FORMAT TEXT) " + sql, params)
        plan = "\n".join(row[0] for row in cur.fetchall()).lower()
    assert plan.count("st_asmvtgeom(") == 1, plan


def test_tile_statements_are_prepared_once_per_connection(parcel):
    """Django turns psycopg's prepared statements off (prepare_threshold None), which makes psycopg
    ignore prepare=True as well; the settings turn them back on for the code that asks."""
    from django.db import connection

    from ogc.tiles import mvt

    x, y = tile_of(parcel["x"], parcel["y"], 17)
    for _ in range(3):
        mvt.tile(mvt.LAYERS["dzialki"], 17, x, y)
        mvt.tile(mvt.LAYERS["dzialki"], 17, x + 1, y)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), sum(generic_plans + custom_plans) FROM pg_prepared_statements "
            "WHERE statement LIKE '%%ST_AsMVT(q%%layers_parcel%%'"
        )
        statements, executions = cur.fetchone()
    assert statements == 1 and executions >= 6


def test_features_in_the_tile_buffer_are_included(client, demo_data):
    """A feature lying in a tile's buffer, just outside the tile, is drawn across the tile's edge, so
    it is in that tile too: rows are picked by the buffered envelope, as ST_AsMVTGeom clips."""
    from layers.models import AddressPoint

    z, tried = 17, 0
    to_lonlat = Transformer.from_crs(2180, 4326, always_xy=True)
    for point in AddressPoint.objects.filter(end_object__isnull=True).order_by("local_id")[:2000]:
        lon, lat = to_lonlat.transform(point.geom.x, point.geom.y)
        fx = (lon + 180) / 360 * 2**z
        fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z
        if not 0.001 < fx % 1 < 0.01:  # within the 64/4096 buffer of the tile to the left, clear of its edge
            continue
        r = get_tile(client, "adresy", z, int(fx) - 1, int(fy))
        assert r.status_code == 200, point.local_id
        ids = {
            f["properties"]["ID_ADRESU"] for f in mapbox_vector_tile.decode(r.content)["adresy"]["features"]
        }
        assert point.local_id in ids
        tried += 1
    assert tried > 0  # the data does exercise the buffer


@pytest.mark.parametrize(
    "layer, table, id_name, id_column, z",
    [
        ("dzialki", "layers_parcel", "ID_DZIALKI", "parcel_id", 14),
        ("dzialki", "layers_parcel", "ID_DZIALKI", "parcel_id", 17),
        ("budynki", "layers_building", "ID_BUDYNKU", "building_id", 17),
    ],
)
def test_simplified_geometry_stays_within_a_tile_unit(client, parcel, layer, table, id_name, id_column, z):
    """Simplification before the transformation drops only what the tile grid cannot show: every
    outline in the tile is within a tile unit of the unsimplified one."""
    import shapely
    from django.db import connection

    x, y = tile_of(parcel["x"], parcel["y"], z)
    tile = mapbox_vector_tile.decode(
        get_tile(client, layer, z, x, y).content, default_options={"y_coord_down": True}
    )
    drawn = {f["properties"][id_name]: shapely.geometry.shape(f["geometry"]) for f in tile[layer]["features"]}
    with connection.cursor() as cur:
        outline = (
            "ST_AsText(ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(%s, %s, %s), 4096, 64, true))"
        )
        sql = f"SELECT {id_column}, {outline} FROM {table} WHERE {id_column} = ANY(%s) AND end_object IS NULL"  # noqa: S608
        cur.execute(sql, [z, x, y, list(drawn)])
        exact = {key: shapely.from_wkt(wkt) for key, wkt in cur.fetchall()}
    assert len(exact) == len(drawn) > 0
    # vertices well inside the tile (where the tile is clipped, a line almost parallel to the clip moves
    # its crossing far along it for any change of the line): each within 1.5 units of the other outline
    # (half a unit of simplification, and both snapped to the grid)
    inside = shapely.box(8, 8, 4088, 4088)
    worst = 0.0
    for k in drawn:
        for a, b in ((drawn[k], exact[k]), (exact[k], drawn[k])):
            points = shapely.points(shapely.get_coordinates(a.boundary))
            points = points[shapely.contains(inside, points)]
            if len(points):
                worst = max(worst, float(shapely.distance(points, b.boundary).max()))
    assert worst <= 1.5


def test_tiles_past_django_survive_a_broken_connection(parcel, monkeypatch):
    """After a database restart the connection held for tiles is broken: the tile is answered from a fresh
    connection (one try more), and a database that stays away gives a 503 to try again, never a 500."""
    from django.db import OperationalError

    from ogc.tiles import wsgi as fast

    x, y = tile_of(parcel["x"], parcel["y"], 17)
    path = f"/ogcapi/collections/dzialki/tiles/WebMercatorQuad/17/{y}/{x}"
    real, calls = fast.answer, []

    def once_broken(*args):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args)

    closed = []
    # the test's own connection holds its transaction: closing it is recorded, not done
    monkeypatch.setattr(fast.connections["default"], "close", lambda: closed.append(1))
    monkeypatch.setattr(fast, "answer", once_broken)
    status, _headers, body = wsgi(path)
    assert closed == [1]
    assert status == 200 and body and len(calls) == 2

    def always_broken(*args):
        raise OperationalError("connection to server failed")

    monkeypatch.setattr(fast, "answer", always_broken)
    status, headers, _body = wsgi(path)
    assert status == 503 and headers["Retry-After"] == "5"
