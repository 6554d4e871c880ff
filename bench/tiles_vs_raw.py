"""Vector tiles: our /ogcapi tiles endpoint against the raw ST_AsMVT query, z14–z17 on the
100k-parcel data, in the same run.

Usage: .venv/bin/python bench/tiles_vs_raw.py [PARCELS] [SECONDS]   (default 100000, 10)

Ours: gunicorn with 2 workers, wrk at concurrency 2 over a list of tiles around random parcels
(no If-None-Match, so every request renders). The peer, "raw": the PostGIS manual's ST_AsMVT query
for the same layer, attributes and tiles (transform on the fly, no simplification: what a generic
tile server runs on the table), over 2 psycopg connections in 2 threads, no HTTP. Also measured the
same way: our own tile SQL without HTTP (ogc/tiles/mvt.py), the floor that shows what HTTP and
Django cost. Target: at least 0.8× the raw throughput.
"""

from __future__ import annotations

import math
import sys
import threading
import time

import psycopg
from harness import demo_database, gisportal_server, psql, say, wrk

DB = "gisportal_wmsbench"


def tiles_around(z: int, n: int = 60) -> list[tuple[int, int, int]]:
    rows = psql(
        "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) c FROM layers_parcel "
        f"ORDER BY md5(id::text || 'tiles') LIMIT {n}) s",
        DB,
    ).splitlines()
    out = []
    for row in rows:
        lon, lat = (float(v) for v in row.split("|"))
        k = 2**z
        out.append(
            (
                z,
                int((lon + 180) / 360 * k),
                int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * k),
            )
        )
    return out


def canonical_sql(z: int) -> str:
    """The raw query: the pattern of the PostGIS manual (ST_AsMVTGeom over ST_TileEnvelope, rows picked by
    the envelope in the table's CRS, no simplification) with the attributes our dzialki tiles carry at this
    zoom, from the same catalogue SQL source (`SqlSource`: table, joins, conditions, column expressions)."""
    from ogc.tiles import mvt

    layer = mvt.LAYERS["dzialki"]
    src = layer.detail if z >= layer.detail_zoom else layer.base
    attrs = "".join(f', {expr} AS "{attr.name}"' for attr, expr in src.columns)
    where = " AND ".join(src.conditions) or "true"
    return f"""
        WITH mvtgeom AS (
          SELECT {src.pk} AS fid,
                 ST_AsMVTGeom(ST_Transform({src.geometry}, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 64, true) AS geom{attrs}
          FROM {src.from_clause}
          WHERE {src.geometry} && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096), 2180) AND {where}
        )
        SELECT ST_AsMVT(mvtgeom.*, %(name)s, 4096, 'geom', 'fid') FROM mvtgeom"""


def raw_sql(queries: list[tuple[str, object]], seconds: float, threads: int = 2) -> float:
    """Tiles per second running the (sql, params) list, cycled, on `threads` connections."""
    done, failed = [0], []
    stop = time.monotonic() + seconds

    def run(offset: int):
        try:
            with psycopg.connect(f"host=127.0.0.1 dbname={DB} user=postgres", options="-c jit=off") as conn:
                i = offset
                while time.monotonic() < stop:
                    conn.execute(*queries[i % len(queries)], prepare=True).fetchone()  # as tile servers do
                    i += threads
                    done[0] += 1
        except Exception as e:
            failed.append(e)

    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if failed:
        raise RuntimeError(f"the SQL peer failed: {failed[0]}")
    return done[0] / (time.monotonic() - t0)


def main() -> None:
    parcels = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    env = demo_database(DB, parcels)
    import os

    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gisportal.settings")
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from ogc.tiles import mvt

    rows = []
    cold = dict(env, GISPORTAL_TILE_CACHE="false")
    with gisportal_server(cold, 8098, workers=2) as base, gisportal_server(env, 8099, workers=2) as cached:
        for z in (14, 15, 16, 17):
            tiles = tiles_around(z)
            urls = [
                f"{base}/ogcapi/collections/dzialki/tiles/WebMercatorQuad/{z}/{y}/{x}" for z, x, y in tiles
            ]
            wrk(urls[:5], concurrency=2, seconds=2)
            ours = wrk(urls, concurrency=2, seconds=seconds)
            warm_urls = [u.replace(base, cached) for u in urls]
            wrk(warm_urls, concurrency=2, seconds=3)  # fills the tile cache
            warm = wrk(warm_urls, concurrency=2, seconds=seconds)
            raw = raw_sql(
                [(canonical_sql(z), {"z": z, "x": x, "y": y, "name": "dzialki"}) for z, x, y in tiles],
                seconds,
            )
            own = raw_sql([mvt.tile_sql(mvt.LAYERS["dzialki"], z, x, y) for z, x, y in tiles], seconds)
            say(z, ours["rps"], warm["rps"], raw, own)
            rows.append((z, ours, warm, raw, own))
    print(
        f"Command: .venv/bin/python bench/tiles_vs_raw.py {parcels} {seconds}  (layer dzialki, 60 tiles around random "
        f"parcels per zoom, 2 gunicorn workers + wrk c=2 vs the raw query and our SQL on 2 connections)"
    )
    print()
    print(
        "| zoom | raw ST_AsMVT tiles/s | our SQL, no HTTP | gisportal, tile cache off | ratio to raw | to our SQL "
        "| gisportal, tile cache warm | ratio to raw | p95 ms off / warm | errors |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for z, ours, warm, raw, own in rows:
        print(
            f"| {z} | {raw:.1f} | {own:.1f} | {ours['rps']:.1f} | {ours['rps'] / raw:.2f}× | {ours['rps'] / own:.2f}× | "
            f"{warm['rps']:.1f} | {warm['rps'] / raw:.2f}× | {ours['p95_ms']:.1f} / {warm['p95_ms']:.1f} | "
            f"{ours['errors'] + ours['non2xx'] + warm['errors'] + warm['non2xx']} |"
        )


if __name__ == "__main__":
    main()
