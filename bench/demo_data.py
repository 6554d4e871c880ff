"""Time and peak memory of `gisportal demo-data` at several sizes, each into a fresh database.

Usage: .venv/bin/python bench/demo_data.py [N ...]    (default: 20000 200000 1000000)
Peak memory is the maximum resident set of the gisportal process (the PostgreSQL server is separate).
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = "gisportal_bench"


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qtA", "-c", sql], check=True)


def run(n: int) -> dict:
    psql(f"DROP DATABASE IF EXISTS {DB}")
    psql(f"CREATE DATABASE {DB}")
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            DB,
            "-qc",
            "CREATE EXTENSION IF NOT EXISTS postgis",
        ],
        check=True,
    )
    env = dict(os.environ, DATABASE_URL=f"postgis://postgres@127.0.0.1:5432/{DB}")
    gis = str(ROOT / ".venv/bin/gisportal")
    subprocess.run([gis, "migrate", "-v", "0"], check=True, env=env)
    t0 = time.monotonic()
    out = subprocess.run(
        ["/usr/bin/time", "-v", gis, "demo-data", "--parcels", str(n), "--seed", "1", "-v", "0"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - t0
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    size = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-qtA",
            "-c",
            f"SELECT pg_size_pretty(pg_database_size('{DB}'))",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {"parcels": n, "seconds": round(wall, 1), "peak_rss_mb": round(rss_kb / 1024), "db_size": size}


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [20_000, 200_000, 1_000_000]
    rows = []
    for n in sizes:
        r = run(n)
        print(r, flush=True)
        rows.append(r)
    psql(f"DROP DATABASE IF EXISTS {DB}")
    print()
    print(
        f"Machine: {os.cpu_count()} cores, {platform.python_version()}; command: .venv/bin/python bench/demo_data.py {' '.join(map(str, sizes))}"
    )
    print("| parcels | wall time [s] | peak RSS of gisportal [MB] | database size |")
    print("|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['parcels']:,} | {r['seconds']} | {r['peak_rss_mb']} | {r['db_size']} |".replace(",", " ")
        )


if __name__ == "__main__":
    main()
