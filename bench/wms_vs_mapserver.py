"""WMS GetMap: gisportal (Mapnik) against MapServer 8 on the same PostGIS tables, same run.

Usage: .venv/bin/python bench/wms_vs_mapserver.py [PARCELS] [SECONDS] [PROCESSES]   (default 100000, 15, 2)

Both servers get the same list of random views at parcel scale (layers dzialki + budynki, EPSG:2180,
WMS 1.3.0, opaque 24-bit PNG), 256×256 and 1024×768, at concurrency 1 and 4; 2 worker processes each (gunicorn
sync workers; lighttpd FastCGI max-procs 2). Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from harness import OUT, demo_database, gisportal_server, mapserver, psql, say, versus_table, wrk

DB = "gisportal_wmsbench"


def mapfile(db: str, path: Path, port: int) -> Path:
    """The peer's configuration with styles equivalent to ours (ogc/render/styles.py); connections kept
    open between FastCGI requests (CLOSE_CONNECTION=DEFER) and opaque 24-bit PNG at zlib level 1 like ours,
    as a tuned production MapServer would be."""
    conn = f"host=127.0.0.1 port=5432 dbname={db} user=postgres"
    path.write_text(f"""MAP
  NAME "gisportal"
  EXTENT 628000 455000 648000 476000
  SIZE 256 256
  MAXSIZE 4096
  UNITS METERS
  PROJECTION "init=epsg:2180" END
  OUTPUTFORMAT NAME "png" DRIVER AGG/PNG MIMETYPE "image/png" IMAGEMODE RGB EXTENSION "png" FORMATOPTION "COMPRESSION=1" END
  WEB
    METADATA
      "wms_title" "gisportal peer"
      "wms_onlineresource" "http://127.0.0.1:{port}/mapserv?MAP=GISPORTAL&"
      "wms_srs" "EPSG:2180 EPSG:2178 EPSG:4326 EPSG:3857"
      "wms_enable_request" "*"
    END
  END
  LAYER
    NAME "dzialki"
    TYPE POLYGON
    STATUS ON
    CONNECTIONTYPE POSTGIS
    CONNECTION "{conn}"
    DATA "geom from (select id, geom from layers_parcel where end_object is null) as t using unique id using srid=2180"
    PROJECTION "init=epsg:2180" END
    PROCESSING "CLOSE_CONNECTION=DEFER"
    MAXSCALEDENOM 50000
    METADATA "wms_title" "dzialki" END
    CLASS STYLE OUTLINECOLOR 230 0 0 WIDTH 1.0 END END
  END
  LAYER
    NAME "budynki"
    TYPE POLYGON
    STATUS ON
    CONNECTIONTYPE POSTGIS
    CONNECTION "{conn}"
    DATA "geom from (select id, geom from layers_building where end_object is null) as t using unique id using srid=2180"
    PROJECTION "init=epsg:2180" END
    PROCESSING "CLOSE_CONNECTION=DEFER"
    MAXSCALEDENOM 25000
    METADATA "wms_title" "budynki" END
    CLASS STYLE COLOR 232 207 168 OUTLINECOLOR 107 79 42 WIDTH 0.8 END END
  END
END
""")
    return path


def views(n: int, width: int, height: int, scale: float, seed: int = 7) -> list[str]:
    """Random views centred on parcels, at `scale` (OGC 0.28 mm pixels), as 1.3.0 query strings."""
    rows = psql(
        f"SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM layers_parcel "
        f"ORDER BY md5(id::text || '{seed}') LIMIT {n}) s",
        DB,
    ).splitlines()
    rng = random.Random(seed)
    out = []
    for row in rows:
        x, y = (float(v) for v in row.split("|"))
        s = scale * (0.8 + 0.4 * rng.random())
        w, h = width * 0.00028 * s, height * 0.00028 * s
        out.append(
            f"SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=dzialki,budynki&STYLES=&CRS=EPSG:2180"
            f"&BBOX={y - h / 2:.2f},{x - w / 2:.2f},{y + h / 2:.2f},{x + w / 2:.2f}&WIDTH={width}&HEIGHT={height}"
            f"&FORMAT=image/png"
        )
    return out


def main() -> None:
    parcels = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    env = demo_database(DB, parcels)
    OUT.mkdir(parents=True, exist_ok=True)
    ms_port, gp_port = 8091, 8092
    mf = mapfile(DB, OUT / "gisportal.map", ms_port)
    cases = [("256×256", 256, 256, 2000), ("1024×768", 1024, 768, 4000)]
    lists = {name: views(300, w, h, s) for name, w, h, s in cases}
    results = []
    with mapserver(mf, ms_port, procs=procs) as ms, gisportal_server(env, gp_port, workers=procs) as gp:
        for name, *_ in cases:
            for conc in (1, 4):
                row = {"case": name, "c": conc}
                for label, base in (("mapserver", ms), ("gisportal", f"{gp}/ows?")):
                    urls = [base + q for q in lists[name]]
                    wrk(urls[:20], concurrency=conc, seconds=2)  # warm up connections and caches
                    r = wrk(urls, concurrency=conc, seconds=seconds)
                    say(label, name, conc, r)
                    row[label] = r
                results.append(row)
    print(
        f"Command: .venv/bin/python bench/wms_vs_mapserver.py {parcels} {seconds} {procs}  (data: {parcels} demo parcels, "
        f"layers dzialki+budynki, EPSG:2180, WMS 1.3.0 PNG, 300 random views at parcel scale, {procs} processes each)"
    )
    print()
    versus_table("image", results, "case")


if __name__ == "__main__":
    main()
