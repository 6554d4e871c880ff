"""EGiB GML import against ogr2ogr of the same file into PostGIS, in the same run.

Usage: .venv/bin/python bench/import_vs_ogr2ogr.py [PARCELS] [ROUNDS]   (defaults 100000, 3)

1. a fresh database gets PARCELS synthetic parcels (`gisportal demo-data`), exported with
   `gisportal export-egib` (EGiB GML 2021, EPSG:2180, northing first); the database is dropped;
2. then ROUNDS times, one after the other:
   peer: `ogr2ogr -f PostgreSQL` of that file into an empty PostGIS database (GDAL's GML driver,
   which also has to scan the file to guess its schema);
   ours: `gisportal import` of the same file into an empty migrated database.
Each database is dropped right after its timed run and a CHECKPOINT precedes each run, so that no
autovacuum or checkpoint work left by one run lands in the next one's time. Wall time and peak RSS
(of the importing process) for each run; the ratio ours / ogr2ogr per round and of the medians.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GIS = str(ROOT / ".venv/bin/gisportal")
OUT = ROOT / "bench" / "out"


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qtA", "-c", sql], check=True)


def fresh_db(name: str, migrate: bool) -> dict:
    psql(f"DROP DATABASE IF EXISTS {name}")
    psql(f"CREATE DATABASE {name}")
    psql("CREATE EXTENSION IF NOT EXISTS postgis", name)
    env = dict(os.environ, DATABASE_URL=f"postgis://postgres@127.0.0.1:5432/{name}")
    if migrate:
        subprocess.run([GIS, "migrate", "-v", "0"], check=True, env=env)
    return env


def timed(cmd: list[str], env: dict) -> tuple[float, int]:
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    return wall, rss // 1024


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    OUT.mkdir(parents=True, exist_ok=True)
    gml = OUT / f"egib-{n}.gml"
    env = fresh_db("gisportal_bench_src", migrate=True)
    subprocess.run([GIS, "demo-data", "--parcels", str(n), "--seed", "1", "-v", "0"], check=True, env=env)
    subprocess.run(
        [GIS, "export-egib", str(gml), "-v", "0", "--legal-basis", "benchmark on synthetic data"],
        check=True,
        env=env,
    )
    psql("DROP DATABASE IF EXISTS gisportal_bench_src")
    size_mb = gml.stat().st_size / 1024**2
    rows, counts = [], ""
    for _ in range(rounds):
        for f in OUT.glob("*.gfs"):
            f.unlink()
        env_ogr = fresh_db("gisportal_bench_ogr", migrate=False)
        psql("CHECKPOINT")
        ogr = timed(
            [
                "ogr2ogr",
                "-f",
                "PostgreSQL",
                "PG:host=127.0.0.1 user=postgres dbname=gisportal_bench_ogr",
                str(gml),
                "-lco",
                "SPATIAL_INDEX=GIST",
                "--config",
                "PG_USE_COPY",
                "YES",
                "-gt",
                "65536",
            ],
            env_ogr,
        )
        psql("DROP DATABASE IF EXISTS gisportal_bench_ogr")
        env_imp = fresh_db("gisportal_bench_imp", migrate=True)
        psql("CHECKPOINT")
        ours = timed([GIS, "import", str(gml), "-v", "0"], env_imp)
        counts = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "gisportal_bench_imp",
                "-qtA",
                "-c",
                "SELECT (SELECT count(*) FROM layers_parcel) || ' parcels, ' || (SELECT count(*) FROM layers_building) || ' buildings'",
            ],
            capture_output=True,
            text=True,
        ).stdout.strip()
        psql("DROP DATABASE IF EXISTS gisportal_bench_imp")
        rows.append((ogr, ours))
    print(f"file: {gml.name}, {size_mb:.0f} MB; imported: {counts}")
    print(
        "| round | ogr2ogr (GDAL GML driver → PostgreSQL, COPY) [s] | gisportal import [s] | ratio | peak RSS ogr2ogr / ours [MB] |"
    )
    print("|---:|---:|---:|---:|---|")
    for i, ((ogr_s, ogr_rss), (our_s, our_rss)) in enumerate(rows, start=1):
        print(f"| {i} | {ogr_s:.1f} | {our_s:.1f} | {our_s / ogr_s:.2f}× | {ogr_rss} / {our_rss} |")
    ogr_m, our_m = statistics.median(r[0][0] for r in rows), statistics.median(r[1][0] for r in rows)
    print(
        f"medians: ogr2ogr {ogr_m:.1f} s, gisportal import {our_m:.1f} s; ratio {our_m / ogr_m:.2f}× (target ≤ 2×)"
    )


if __name__ == "__main__":
    main()
