"""WFS GetFeature: gisportal against MapServer 8 on the same PostGIS tables, and against a raw
PostGIS query producing the same GeoJSON, all in the same run.

Usage: .venv/bin/python bench/wfs_vs_mapserver.py [PARCELS] [SECONDS] [PROCESSES]   (default 100000, 15, 2)

Requests: WFS 2.0.0 GetFeature of `dzialki` by a bbox around a random parcel sized to hold about
1,000 parcels, COUNT=1000, EPSG:2180 (E,N form on both), as GeoJSON and as GML 3.2; 2 worker
processes each, concurrency 1 and 4. The raw query is run over one psycopg connection for the same
boxes (json_agg of ST_AsGeoJSON plus the same attributes); its mean time is compared with ours at
concurrency 1 (1 / req/s). Prints Markdown tables for bench/RESULTS.md.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import psycopg
from harness import OUT, demo_database, gisportal_server, mapserver, psql, say, versus_table, wrk

DB = "gisportal_wmsbench"
COUNT = 1000
ATTRS_SQL = """
  select p.id, p.parcel_id, p.number, p.sheet, r.number as precinct_number, r.name as precinct_name, u.unit_id,
         g.name as gmina_name, p.area_ha, p.registration_group, p.start_version, p.geom
  from layers_parcel p join layers_precinct r on r.id = p.precinct_id join layers_cadastralunit u on u.id = r.unit_id
  left join layers_administrativeunit g on g.id = u.gmina_id
  where p.end_object is null"""


def mapfile(db: str, path: Path, port: int) -> Path:
    """The peer: dzialki with the same public attributes (the same joins), WFS 2.0 with GML 3.2 and
    OGR GeoJSON output, connections kept open between FastCGI requests."""
    conn = f"host=127.0.0.1 port=5432 dbname={db} user=postgres"
    data = " ".join(ATTRS_SQL.split())
    path.write_text(f"""MAP
  NAME "gisportal"
  EXTENT 628000 455000 648000 476000
  UNITS METERS
  PROJECTION "init=epsg:2180" END
  OUTPUTFORMAT NAME "geojson" DRIVER "OGR/GEOJSON" MIMETYPE "application/json" FORMATOPTION "STORAGE=stream"
    FORMATOPTION "FORM=SIMPLE" FORMATOPTION "LCO:COORDINATE_PRECISION=2" END
  WEB
    METADATA
      "wfs_title" "gisportal peer"
      "wfs_onlineresource" "http://127.0.0.1:{port}/mapserv?MAP=GISPORTAL&"
      "wfs_srs" "EPSG:2180 EPSG:4326"
      "wfs_enable_request" "*"
      "wfs_getfeature_formatlist" "geojson"
      "ows_enable_request" "*"
    END
  END
  LAYER
    NAME "dzialki"
    TYPE POLYGON
    STATUS ON
    CONNECTIONTYPE POSTGIS
    CONNECTION "{conn}"
    DATA "geom from ({data}) as t using unique id using srid=2180"
    PROJECTION "init=epsg:2180" END
    PROCESSING "CLOSE_CONNECTION=DEFER"
    METADATA
      "wfs_title" "dzialki"
      "gml_include_items" "parcel_id,number,sheet,precinct_number,precinct_name,unit_id,gmina_name,area_ha,registration_group,start_version"
      "gml_featureid" "id"
      "wfs_enable_request" "*"
    END
  END
END
""")
    return path


def boxes(n: int, seed: int = 11) -> list[tuple[float, float, float, float]]:
    """Boxes around random parcels holding about COUNT parcels (side from the local density)."""
    rows = psql(
        f"SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM layers_parcel "
        f"ORDER BY md5(id::text || '{seed}') LIMIT {n}) s",
        DB,
    ).splitlines()
    out = []
    rng = random.Random(seed)
    for row in rows:
        x, y = (float(v) for v in row.split("|"))
        half = 250.0
        for _ in range(8):  # grow/shrink towards ~COUNT parcels
            k = int(
                psql(
                    f"SELECT count(*) FROM layers_parcel WHERE end_object IS NULL AND geom && "
                    f"ST_MakeEnvelope({x - half},{y - half},{x + half},{y + half},2180)",
                    DB,
                )
            )
            if 0.8 * COUNT <= k <= 1.2 * COUNT:
                break
            half *= (COUNT / max(k, 1)) ** 0.5
        out.append((x - half, y - half, x + half, y + half))
        rng.random()
    return out


def ours(box, fmt: str) -> str:
    return (
        f"SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gisportal:dzialki&COUNT={COUNT}&SRSNAME=EPSG:2180"
        f"&BBOX={box[0]:.2f},{box[1]:.2f},{box[2]:.2f},{box[3]:.2f},EPSG:2180&OUTPUTFORMAT={fmt}"
    )


def peer(box, fmt: str) -> str:
    """MapServer 8's WFS 2.0 reads an `EPSG:2180` BBOX suffix in authority order (N,E), unlike ours
    (OGC.md §2: the EPSG: form is x/y in WFS); checked by hand: E,N returns no features there."""
    return (
        f"SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=dzialki&COUNT={COUNT}&SRSNAME=EPSG:2180"
        f"&BBOX={box[1]:.2f},{box[0]:.2f},{box[3]:.2f},{box[2]:.2f},EPSG:2180&OUTPUTFORMAT={fmt}"
    )


RAW = f"""
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
  'type', 'Feature', 'id', 'dzialki.' || t.id, 'geometry', ST_AsGeoJSON(t.geom, 2)::json,
  'properties', json_build_object('ID_DZIALKI', t.parcel_id, 'NUMER_DZIALKI', t.number, 'NUMER_ARKUSZA', t.sheet,
    'NUMER_OBREBU', t.precinct_number, 'NAZWA_OBREBU', t.precinct_name, 'ID_JEDNOSTKI', t.unit_id, 'NAZWA_GMINY', t.gmina_name,
    'POLE_EWIDENCYJNE', t.area_ha, 'GRUPA_REJESTROWA', t.registration_group, 'DATA', t.start_version)) ORDER BY t.id), '[]'))::text
FROM ({ATTRS_SQL} and p.geom && ST_MakeEnvelope(%s, %s, %s, %s, 2180)
      and ST_Intersects(p.geom, ST_MakeEnvelope(%s, %s, %s, %s, 2180)) order by p.id limit {COUNT}) t
"""


def raw_sql(box_list, seconds: float) -> dict:
    with psycopg.connect(f"host=127.0.0.1 dbname={DB} user=postgres") as conn:
        n, t0, size = 0, time.monotonic(), 0
        while time.monotonic() - t0 < seconds:
            b = box_list[n % len(box_list)]
            size += len(conn.execute(RAW, (*b, *b)).fetchone()[0])
            n += 1
        elapsed = time.monotonic() - t0
    return {"rps": n / elapsed, "mean_ms": elapsed / n * 1000, "bytes": size / n}


def main() -> None:
    parcels = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    env = demo_database(DB, parcels)
    OUT.mkdir(parents=True, exist_ok=True)
    ms_port, gp_port = 8093, 8094
    mf = mapfile(DB, OUT / "gisportal-wfs.map", ms_port)
    box_list = boxes(40)
    formats = [
        ("GeoJSON", "application/json", "geojson"),
        ("GML 3.2", "application/gml%2Bxml;%20version=3.2", "application/gml%2Bxml;%20version=3.2"),
    ]
    results = []
    with mapserver(mf, ms_port, procs=procs) as ms, gisportal_server(env, gp_port, workers=procs) as gp:
        for name, our_fmt, peer_fmt in formats:
            for conc in (1, 4):
                row = {"case": name, "c": conc}
                for label, urls in (
                    ("mapserver", [ms + peer(b, peer_fmt) for b in box_list]),
                    ("gisportal", [f"{gp}/ows?" + ours(b, our_fmt) for b in box_list]),
                ):
                    wrk(urls[:5], concurrency=conc, seconds=2)
                    r = wrk(urls, concurrency=conc, seconds=seconds)
                    say(label, name, conc, r)
                    row[label] = r
                results.append(row)
    raw = raw_sql(box_list, seconds)
    say("raw", raw)
    print(
        f"Command: .venv/bin/python bench/wfs_vs_mapserver.py {parcels} {seconds} {procs}  (data: {parcels} demo parcels; "
        f"WFS 2.0.0 GetFeature dzialki, {len(box_list)} bboxes of ~{COUNT} parcels, COUNT={COUNT}, EPSG:2180; "
        f"{procs} processes each)"
    )
    print()
    versus_table("output", results, "case")
    ours_geojson = next(r for r in results if r["case"] == "GeoJSON" and r["c"] == 1)["gisportal"]
    ours_ms = 1000 / ours_geojson["rps"]
    print()
    print(
        f"Raw PostGIS query producing the same GeoJSON (one connection, same boxes): {raw['mean_ms']:.1f} ms per "
        f"request ({raw['bytes'] / 1024:.0f} KiB); gisportal GeoJSON at concurrency 1: {ours_ms:.1f} ms → "
        f"{ours_ms / raw['mean_ms']:.2f}× the raw query (target ≤ 1.5×)."
    )


if __name__ == "__main__":
    main()
