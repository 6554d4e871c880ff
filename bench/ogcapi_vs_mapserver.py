"""OGC API – Features items: gisportal (pygeoapi on our provider) against MapServer 8's OGC API
Features on the same PostGIS tables, same run.

Usage: .venv/bin/python bench/ogcapi_vs_mapserver.py [PARCELS] [SECONDS] [PROCESSES]   (default 100000, 15, 2)

Requests: items of `dzialki` by a CRS84 bbox around random parcels holding about 1,000 parcels, pages
of limit=100 and limit=1000, GeoJSON in CRS84, at concurrency 1 and 4; 2 processes each. Target
(issue 9): at least 0.5× MapServer's throughput now, 1.0× as the goal.
"""

from __future__ import annotations

import sys

from harness import OUT, demo_database, gisportal_server, mapserver, psql, say, versus_table, wrk
from wfs_vs_mapserver import boxes, mapfile

DB = "gisportal_wmsbench"


def ogcapi_mapfile(db: str, path, port: int):
    """The WFS peer's mapfile (same layer, same attributes and joins) with OGC API switched on."""
    mapfile(db, path, port)
    text = path.read_text()
    text = text.replace(
        '"wfs_enable_request" "*"',
        '"wfs_enable_request" "*"\n      "oga_enable_request" "*"\n'
        f'      "oga_onlineresource" "http://127.0.0.1:{port}/mapserv/GISPORTAL/ogcapi"',
        1,
    )
    text = text.replace(
        '"wfs_title" "dzialki"',
        '"wfs_title" "dzialki"\n      "oga_enable_request" "*"\n      "wfs_extent" "600000 440000 680000 500000"',
    )
    text = text.replace(
        '    PROCESSING "CLOSE_CONNECTION=DEFER"\n',
        '    PROCESSING "CLOSE_CONNECTION=DEFER"\n    TEMPLATE "query"\n',
        1,
    )
    path.write_text(text)
    return path


def lonlat(box) -> tuple[float, float, float, float]:
    rows = psql(
        f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Transform(ST_MakeEnvelope("
        f"{box[0]}, {box[1]}, {box[2]}, {box[3]}, 2180), 4326) e) s",
        DB,
    )
    return tuple(float(v) for v in rows.split("|"))


def main() -> None:
    parcels = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    env = demo_database(DB, parcels)
    OUT.mkdir(parents=True, exist_ok=True)
    ms_port, gp_port = 8101, 8102
    mf = ogcapi_mapfile(DB, OUT / "gisportal-ogcapi.map", ms_port)
    bbs = [lonlat(b) for b in boxes(30)]
    results = []
    with mapserver(mf, ms_port, procs=procs) as ms, gisportal_server(env, gp_port, workers=procs) as gp:
        ms_base = ms.split("/mapserv")[0] + "/mapserv/GISPORTAL/ogcapi"
        for limit in (100, 1000):
            for conc in (1, 4):
                row = {"limit": limit, "c": conc}
                for label, base in (("mapserver", ms_base), ("gisportal", f"{gp}/ogcapi")):
                    urls = [
                        f"{base}/collections/dzialki/items?f=json&limit={limit}"
                        f"&bbox={b[0]:.6f},{b[1]:.6f},{b[2]:.6f},{b[3]:.6f}"
                        for b in bbs
                    ]
                    wrk(urls[:5], concurrency=conc, seconds=2)
                    r = wrk(urls, concurrency=conc, seconds=seconds)
                    say(label, limit, conc, r)
                    row[label] = r
                results.append(row)
    print(
        f"Command: .venv/bin/python bench/ogcapi_vs_mapserver.py {parcels} {seconds} {procs}  (data: {parcels} demo parcels; "
        f"items of dzialki by 30 CRS84 bboxes of ~1000 parcels, GeoJSON in CRS84; {procs} processes each)"
    )
    print()
    versus_table("limit", results, "limit")


if __name__ == "__main__":
    main()
