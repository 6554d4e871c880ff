"""Map extracts (wyrys) at 1:1000 on A4: generated (Mapnik render, WeasyPrint layout, PAdES seal with the
local timestamp authority), one at a time and by two Celery workers.

Usage: .venv/bin/python bench/documents_extracts.py [PARCELS] [N]   (default 100000, 20)

1. N extracts of random parcels issued one after another in one process (as a Celery worker runs them):
   p50 / p95 / max seconds. Target (issue "Issued documents"): p95 < 3 s on this 2-core machine.
2. N × 3 jobs queued at once and run by two Celery workers (one process each): extracts per minute.
Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from harness import OUT, ROOT, VENV, demo_database, psql, say

DB = "gisportal_wmsbench"
ONE_BY_ONE = r"""
import json, time, uuid, statistics
from layers.models import Parcel
from services.offices.models import Office
from services.documents import actions
from services.documents.models import DocumentJob
actions._enqueue = lambda job_id: None
office = Office.objects.get(code="sp-piaseczno")
from django.db import connection
with connection.cursor() as cur:  # parcels that fit an A4 sheet at 1:1000 with its margins
    cur.execute("SELECT parcel_id FROM layers_parcel WHERE end_object IS NULL AND ST_XMax(geom) - ST_XMin(geom) < 120 "
                "AND ST_YMax(geom) - ST_YMin(geom) < 160 ORDER BY random() LIMIT %s", [N + 1])
    ids = [r[0] for r in cur.fetchall()]
times = []
for i, pid in enumerate(ids):
    job = actions.job_create(key=f"bench:{uuid.uuid4()}", kind="egib_wyrys", office=office,
                             params={"parcels": [pid], "scale": 1000, "paper": "A4"})
    t = time.perf_counter()
    status = actions.job_run(job.pk)
    if i:  # the first one loads Mapnik, fonts and the seal
        times.append(time.perf_counter() - t)
    assert status == "issued", (status, DocumentJob.objects.get(pk=job.pk).error)
times.sort()
print(json.dumps({"n": len(times), "p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))],
                  "max": times[-1]}))
"""
QUEUE = r"""
import json, uuid
from layers.models import Parcel
from services.offices.models import Office
from services.documents import actions
office = Office.objects.get(code="sp-piaseczno")
from django.db import connection
with connection.cursor() as cur:
    cur.execute("SELECT parcel_id FROM layers_parcel WHERE end_object IS NULL AND ST_XMax(geom) - ST_XMin(geom) < 120 "
                "AND ST_YMax(geom) - ST_YMin(geom) < 160 ORDER BY random() LIMIT %s", [N])
    ids = [r[0] for r in cur.fetchall()]
jobs = []
for pid in ids:
    jobs.append(str(actions.job_create(key=f"bench:{uuid.uuid4()}", kind="egib_wyrys", office=office,
                                       params={"parcels": [pid], "scale": 1000, "paper": "A4"}).pk))
print(json.dumps(jobs))
"""


def shell(env: dict, code: str) -> str:
    out = subprocess.run(
        [str(VENV / "gisportal"), "shell", "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    parcels = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    env = demo_database(DB, parcels)
    env = dict(
        env,
        GISPORTAL_SEAL_GENERATE="1",
        GISPORTAL_SEAL_DIR=str(OUT / "seals"),
        CELERY_BROKER_URL="redis://127.0.0.1:6379/5",
        CELERY_RESULT_BACKEND="redis://127.0.0.1:6379/6",
    )
    subprocess.run([str(VENV / "gisportal"), "migrate", "-v", "0"], check=True, env=env)
    say("one by one", n)
    one = json.loads(shell(env, f"N={n}\n{ONE_BY_ONE}"))
    say(one)
    subprocess.run(["redis-cli", "-n", "5", "flushdb"], check=True, capture_output=True)
    workers = [
        subprocess.Popen(
            [
                str(VENV / "celery"),
                "-A",
                "gisportal",
                "worker",
                "--concurrency=1",
                "-n",
                f"bench{i}@%h",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for i in (1, 2)
    ]
    try:
        time.sleep(8)  # workers up (and warmed by their first job below)
        jobs = json.loads(shell(env, f"N={n * 3}\n{QUEUE}"))
        t0 = time.monotonic()
        ids = ",".join(f"'{j}'" for j in jobs)
        while True:
            done = int(
                psql(
                    f"SELECT count(*) FROM documents_documentjob WHERE id IN ({ids}) AND status IN ('issued','failed')",
                    DB,
                )
            )
            if done == len(jobs) or time.monotonic() - t0 > 1200:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - t0
        failed = int(
            psql(f"SELECT count(*) FROM documents_documentjob WHERE id IN ({ids}) AND status = 'failed'", DB)
        )
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
    per_minute = done / elapsed * 60
    print(f"Command: .venv/bin/python bench/documents_extracts.py {parcels} {n}")
    print()
    print("| measure | value |")
    print("|---|---:|")
    print(
        f"| one A4 1:1000 extract, one after another (n = {one['n']}): p50 / p95 / max s | {one['p50']:.2f} / {one['p95']:.2f} / {one['max']:.2f} |"
    )
    print(
        f"| {len(jobs)} extracts queued at once, two Celery workers: extracts per minute | {per_minute:.1f} ({failed} failed) |"
    )


if __name__ == "__main__":
    main()
