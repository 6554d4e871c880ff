"""`make bench`: every benchmark in one run, at gmina, county and voivodeship scale, each against its peer
measured in the same run (MapServer 8 from Debian, the raw PostGIS query, ogr2ogr).

Usage: .venv/bin/python bench/run.py [--quick] [--sizes 20000,200000,1000000] [--seconds 8] [--no-append]
       (make bench; make bench QUICK=1: 20 000 parcels only, short rounds, under 5 minutes)

Per size (the demo databases gisportal_bench_<size> are made once and kept between runs):
- WMS GetMap 256×256 and 1024×768 at concurrency 1 and 4 against MapServer;
- WFS GetFeature of ~1 000 parcels, GeoJSON and GML 3.2, c=1 and 4, against MapServer and the raw query;
- OGC API – Features items, limit 100 and 1 000, c=1 and 4, against MapServer's OGC API;
- vector tiles z14–z17 (our tile cache off) against the raw ST_AsMVT query;
- e-form submissions (JSON API, c=4) and one A4 1:1000 map extract after another.
Once per run: payment notifications and the EGiB import against ogr2ogr (100 000 parcels; 20 000 quick).

Request sets hold the same number of features per response at every size (views and boxes sized from the
local density; tiles picked by their parcel count), so the growth p50(largest)/p50(smallest) shows the index and
the engine, not the density. Peer and ours run in alternating rounds. Results: bench/out/bench-<date>.json, a
Markdown section appended to bench/RESULTS.md, and bench/bench-throughput.png (throughput against size).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import harness
from harness import (
    OUT,
    ROOT,
    VENV,
    demo_database,
    ensure_packages,
    gisportal_server,
    mapserver,
    psql,
    say,
    wrk,
)

sys.path.insert(0, str(ROOT))
import forms_submissions
import ogcapi_vs_mapserver
import tiles_vs_raw
import wfs_vs_mapserver
import wms_vs_mapserver

MODULES = (wms_vs_mapserver, wfs_vs_mapserver, ogcapi_vs_mapserver, tiles_vs_raw, forms_submissions)
WMS_CASES = (("256×256", 256, 256, 40), ("1024×768", 1024, 768, 400))  # name, width, height, parcels per view
TILE_BAND = {14: (800, 3000), 15: (200, 900), 16: (50, 260), 17: (12, 80)}  # parcels per tile at each zoom
TARGETS = {  # operation → (what, the ratio it must reach; None: reported only)
    "WMS": ("≥ 1.2× MapServer in every cell", 1.2),
    "WFS": ("≥ 1.5× MapServer, ≤ 1.2× the raw query", 1.5),
    "OGC API items": ("≥ 1.0× MapServer", 1.0),
    "MVT": ("≥ 1.0× raw ST_AsMVT (cache off); p95 < 150 ms at 1M", 1.0),
}


# --------------------------------------------------------------------------------------------- sampling
def _rss_of_group(pgid: int) -> int:
    """Sum of the resident memory (kB) of the processes in a process group."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getpgid(int(pid)) != pgid:
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ProcessLookupError, ValueError):
            continue
    return total


@contextmanager
def peak_rss(pgid: int | None):
    """Peak summed RSS (MB) of a process group while the block runs; {} when the group is unknown."""
    box: dict = {}
    if pgid is None:
        yield box
        return
    stop = threading.Event()

    def run():
        peak = 0
        while not stop.wait(0.2):
            peak = max(peak, _rss_of_group(pgid))
        box["mb"] = round(peak / 1024)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield box
    finally:
        stop.set()
        t.join()


def _pgid_listening(port: int) -> int | None:
    """The process group of whatever listens on 127.0.0.1:port (gunicorn's master and workers)."""
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    m = re.search(r"pid=(\d+)", out)
    return os.getpgid(int(m.group(1))) if m else None


def _mapserv_rss() -> int:
    """Summed RSS (MB) of the MapServer FastCGI processes."""
    out = subprocess.run(["pgrep", "-f", "/usr/lib/cgi-bin/mapserv"], capture_output=True, text=True).stdout
    total = 0
    for pid in out.split():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024)


def _mean_bytes(urls: list[str], n: int = 8) -> int:
    import urllib.request

    sizes = []
    for u in urls[:n]:
        with urllib.request.urlopen(u, timeout=60) as r:  # noqa: S310 -- loopback
            sizes.append(len(r.read()))
    return round(statistics.mean(sizes)) if sizes else 0


def rounds(pairs: list[tuple[str, list[str], int | None]], conc: int, seconds: float, n_rounds: int) -> dict:
    """Alternating rounds of each (label, urls, pgid): wrk per round, the rounds' mean rps, p50, p95 and the
    summed errors; peak RSS sampled for groups we know."""
    acc: dict = {label: [] for label, _u, _p in pairs}
    rss: dict = {}
    for _label, urls, _p in pairs:
        wrk(urls[:10], concurrency=conc, seconds=1)  # warm connections and caches
    for _ in range(n_rounds):
        for label, urls, pgid in pairs:
            with peak_rss(pgid) as box:
                acc[label].append(wrk(urls, concurrency=conc, seconds=max(1, round(seconds / n_rounds))))
            if pgid is None and label == "mapserver":
                box["mb"] = _mapserv_rss()
            rss[label] = max(rss.get(label, 0), box.get("mb", 0))
    out = {}
    for label, runs in acc.items():
        out[label] = {
            "rps": statistics.mean(r["rps"] for r in runs),
            "p50_ms": statistics.mean(r["p50_ms"] for r in runs),
            "p95_ms": statistics.mean(r["p95_ms"] for r in runs),
            "errors": sum(r["errors"] + r["non2xx"] for r in runs),
            "rss_mb": rss.get(label, 0),
        }
    return out


# --------------------------------------------------------------------------------------------- request sets
def _center_points(db: str, n: int, seed: str) -> list[tuple[float, float]]:
    rows = psql(
        f"SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM layers_parcel WHERE end_object IS NULL "
        f"ORDER BY md5(id::text || '{seed}') LIMIT {n}) s",
        db,
    ).splitlines()
    return [tuple(float(v) for v in r.split("|")) for r in rows]


def _count(db: str, box) -> int:
    return int(
        psql(
            "SELECT count(*) FROM layers_parcel WHERE end_object IS NULL AND geom && "
            f"ST_MakeEnvelope({box[0]},{box[1]},{box[2]},{box[3]},2180)",
            db,
        )
    )


def sized_boxes(db: str, n: int, features: int, aspect: float = 1.0, seed: str = "b") -> list[tuple]:
    """`n` boxes (width/height = aspect) around random parcels, each holding features ±20 % parcels."""
    out = []
    for x, y in _center_points(db, n * 2, seed):
        half = 150.0
        for _ in range(10):
            box = (x - half * aspect, y - half, x + half * aspect, y + half)
            k = _count(db, box)
            if 0.8 * features <= k <= 1.2 * features:
                out.append(box)
                break
            half *= (features / max(k, 1)) ** 0.5
        if len(out) == n:
            break
    return out


def wms_urls(boxes, width: int, height: int) -> list[str]:
    return [
        f"SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=dzialki,budynki&STYLES=&CRS=EPSG:2180"
        f"&BBOX={b[1]:.2f},{b[0]:.2f},{b[3]:.2f},{b[2]:.2f}&WIDTH={width}&HEIGHT={height}&FORMAT=image/png"
        for b in boxes
    ]


def band_tiles(db: str, z: int, n: int) -> tuple[list[tuple[int, int, int]], float]:
    """Tiles at zoom z around random parcels whose parcel count is in TILE_BAND[z]; their mean count."""
    lo, hi = TILE_BAND[z]
    tiles_vs_raw.DB = db
    picked, counts = [], []
    for z_, x, y in tiles_vs_raw.tiles_around(z, n * 6):
        k = int(
            psql(
                "SELECT count(*) FROM layers_parcel WHERE end_object IS NULL AND geom && "
                f"ST_Transform(ST_TileEnvelope({z_},{x},{y}), 2180)",
                db,
            )
        )
        if lo <= k <= hi and (z_, x, y) not in picked:
            picked.append((z_, x, y))
            counts.append(k)
        if len(picked) == n:
            break
    return picked, (statistics.mean(counts) if counts else 0.0)


# --------------------------------------------------------------------------------------------- one size
def bench_size(size: int, seconds: float, n_rounds: int, quick: bool) -> list[dict]:
    db = f"gisportal_bench_{size}"
    say(f"== {size} parcels: database {db}")
    env = demo_database(db, size)
    subprocess.run(
        [str(VENV / "gisportal"), "migrate", "-v", "0"], check=True, env=env
    )  # a database of an older run
    for m in MODULES:
        m.DB = db
    cells: list[dict] = []

    def cell(op, variant, conc, res, peer_label, features, extra=None):
        ours, peer = res["gisportal"], res.get(peer_label)
        row = {
            "size": size,
            "op": op,
            "variant": variant,
            "c": conc,
            "rps": round(ours["rps"], 1),
            "p50_ms": round(ours["p50_ms"], 1),
            "p95_ms": round(ours["p95_ms"], 1),
            "errors": ours["errors"],
            "rss_mb": ours.get("rss_mb", 0),
            "features": features,
            "peer": peer_label,
            "peer_rps": round(peer["rps"], 1) if peer else None,
            "peer_p95_ms": round(peer["p95_ms"], 1) if peer else None,
            "peer_errors": peer["errors"] if peer else None,
            "peer_rss_mb": peer.get("rss_mb") if peer else None,
            "ratio": round(ours["rps"] / peer["rps"], 2) if peer and peer["rps"] else None,
        }
        row.update(extra or {})
        say(row)
        cells.append(row)

    n_views = 60 if quick else 150
    ms_port, gp_port = 8091, 8092
    with gisportal_server(env, gp_port, workers=2) as gp:
        gp_pgid = _pgid_listening(gp_port)
        # WMS
        mf = wms_vs_mapserver.mapfile(db, OUT / "bench-wms.map", ms_port)
        with mapserver(mf, ms_port, procs=2) as ms:
            for name, w, h, feats in WMS_CASES:
                boxes = sized_boxes(db, n_views, feats, aspect=w / h, seed=f"wms{w}")
                qs = wms_urls(boxes, w, h)
                ours, peer = [f"{gp}/ows?{q}" for q in qs], [ms + q for q in qs]
                for conc in (1, 4):
                    res = rounds(
                        [("mapserver", peer, None), ("gisportal", ours, gp_pgid)], conc, seconds, n_rounds
                    )
                    cell("WMS", name, conc, res, "mapserver", feats, {"bytes": _mean_bytes(ours)})
        # WFS (and its mapfile for the OGC API)
        boxes = sized_boxes(db, 30, wfs_vs_mapserver.COUNT, seed="wfs")
        mf = wfs_vs_mapserver.mapfile(db, OUT / "bench-wfs.map", ms_port)
        with mapserver(mf, ms_port, procs=2) as ms:
            for fmt, peer_fmt, label in (
                ("application/json", "geojson", "GeoJSON"),
                ("application/gml%2Bxml;%20version=3.2", "application/gml%2Bxml;%20version=3.2", "GML 3.2"),
            ):
                ours = [f"{gp}/ows?{wfs_vs_mapserver.ours(b, fmt)}" for b in boxes]
                peer = [ms + wfs_vs_mapserver.peer(b, peer_fmt) for b in boxes]
                for conc in (1, 4):
                    res = rounds(
                        [("mapserver", peer, None), ("gisportal", ours, gp_pgid)], conc, seconds, n_rounds
                    )
                    extra = {"bytes": _mean_bytes(ours)}
                    if conc == 1 and label == "GeoJSON":
                        raw = wfs_vs_mapserver.raw_sql(boxes, seconds / 2)
                        extra.update(
                            raw_rps=round(raw["rps"], 1),
                            raw_ratio=round(res["gisportal"]["rps"] / raw["rps"], 2),
                        )
                    cell("WFS", label, conc, res, "mapserver", wfs_vs_mapserver.COUNT, extra)
        # OGC API items
        mf = ogcapi_vs_mapserver.ogcapi_mapfile(db, OUT / "bench-ogcapi.map", ms_port)
        with mapserver(mf, ms_port, procs=2) as ms:
            ms_base = ms.split("/mapserv")[0] + "/mapserv/GISPORTAL/ogcapi"
            for limit in (100, 1000):
                bbs = [ogcapi_vs_mapserver.lonlat(b) for b in sized_boxes(db, 20, limit, seed=f"oapi{limit}")]
                q = [
                    f"/collections/dzialki/items?f=json&limit={limit}&bbox={b[0]:.6f},{b[1]:.6f},{b[2]:.6f},{b[3]:.6f}"
                    for b in bbs
                ]
                ours, peer = [f"{gp}/ogcapi{x}" for x in q], [ms_base + x for x in q]
                for conc in (1, 4):
                    res = rounds(
                        [("mapserver", peer, None), ("gisportal", ours, gp_pgid)], conc, seconds, n_rounds
                    )
                    cell(
                        "OGC API items",
                        f"limit {limit}",
                        conc,
                        res,
                        "mapserver",
                        limit,
                        {"bytes": _mean_bytes(ours)},
                    )
        # e-form submissions
        cell_sub = submissions(env, gp, db, seconds)
        cell("Submissions", "JSON API", 4, {"gisportal": cell_sub}, "", 1)
    # MVT, cache off
    cold = dict(env, GISPORTAL_TILE_CACHE="false")
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    with gisportal_server(cold, gp_port, workers=2) as gp:
        gp_pgid = _pgid_listening(gp_port)
        for z in (14, 15, 16, 17):
            tiles, mean_k = band_tiles(db, z, 30 if quick else 60)
            if not tiles:
                say(f"no tiles at z{z} in the band {TILE_BAND[z]}")
                continue
            urls = [
                f"{gp}/ogcapi/collections/dzialki/tiles/WebMercatorQuad/{z_}/{y}/{x}" for z_, x, y in tiles
            ]
            res = rounds([("gisportal", urls, gp_pgid)], 2, seconds, 1)
            raw = tiles_vs_raw.raw_sql(
                [(_canonical(z), {"z": z_, "x": x, "y": y, "name": "dzialki"}) for z_, x, y in tiles],
                max(2, seconds / 2),
            )
            res["raw"] = {"rps": raw, "p95_ms": float("nan"), "errors": 0}
            cell("MVT", f"z{z}", 2, res, "raw", round(mean_k), {"bytes": _mean_bytes(urls)})
    # one A4 1:1000 extract after another
    cells.append(extract(env, db, size, 3 if quick else 8))
    return cells


_CANONICAL: dict[int, str] = {}


def _canonical(z: int) -> str:
    if z not in _CANONICAL:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gisportal.settings")
        import django

        django.setup()
        _CANONICAL[z] = tiles_vs_raw.canonical_sql(z)
    return _CANONICAL[z]


def submissions(env: dict, base: str, db: str, seconds: float) -> dict:
    """E-form submissions over the JSON API at concurrency 4 (forms_submissions's bodies and Lua)."""
    subprocess.run(
        [
            str(VENV / "gisportal"),
            "shell",
            "-c",
            "from gisportal.core.models import User\n"
            "u, _ = User.objects.get_or_create(username='bench.citizen', defaults={'role': 'citizen', 'email': 'bench@example.pl'})\n"
            "u.set_password('bench-haslo-2026'); u.save()",
        ],
        check=True,
        env=env,
    )
    ids = psql(
        "SELECT parcel_id FROM layers_parcel WHERE end_object IS NULL ORDER BY md5(id::text) LIMIT 300", db
    ).splitlines()
    bodies = OUT / "bench-submissions.jsonl"
    bodies.write_text(
        "\n".join(
            json.dumps(
                {
                    "service": "zaswiadczenie-mpzp",
                    "data": {
                        "applicant_name": "Jan Testowy",
                        "email": "jan@example.pl",
                        "pesel": "44051401359",
                        "postal_code": "05-500",
                        "locality": "Piaseczno",
                        "parcels": [pid],
                        "purpose": "sprzedaż nieruchomości",
                    },
                },
                ensure_ascii=False,
            )
            for pid in ids
        )
        + "\n"
    )
    script = OUT / "bench-submissions.lua"
    script.write_text(forms_submissions.LUA)
    cookie, csrf = forms_submissions.login(base, "bench.citizen", "bench-haslo-2026")
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            "4",
            "-d",
            f"{max(seconds, 3):.0f}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            base,
            "--",
            str(bodies),
            cookie,
            csrf,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    r = json.loads(next(x for x in out.splitlines() if x.startswith("{")))
    return {
        "rps": r["requests"] / r["seconds"],
        "p50_ms": r["p50_ms"],
        "p95_ms": r["p95_ms"],
        "errors": r["errors"] + r["non2xx"],
    }


def extract(env: dict, db: str, size: int, n: int) -> dict:
    """One A4 1:1000 map extract after another (render, layout, PAdES seal): p50 / p95 seconds."""
    import documents_extracts

    documents_extracts.DB = db
    env = dict(env, GISPORTAL_SEAL_GENERATE="1", GISPORTAL_SEAL_DIR=str(OUT / "seals"))
    one = json.loads(documents_extracts.shell(env, f"N={n}\n{documents_extracts.ONE_BY_ONE}"))
    row = {
        "size": size,
        "op": "Map extract",
        "variant": "A4 1:1000",
        "c": 1,
        "rps": round(1 / one["p50"], 2),
        "p50_ms": round(one["p50"] * 1000),
        "p95_ms": round(one["p95"] * 1000),
        "errors": 0,
        "rss_mb": 0,
        "features": 1,
        "peer": "",
        "peer_rps": None,
        "ratio": None,
    }
    say(row)
    return row


# --------------------------------------------------------------------------------------------- once per run
def once(quick: bool) -> dict:
    """Payment notifications and the import against ogr2ogr: their own scripts, their Markdown kept."""
    out = {}
    for name, cmd in (
        (
            "payments",
            ["bench/payments_notifications.py", "300" if quick else "2000", "4" if quick else "10", "2"],
        ),
        ("import", ["bench/import_vs_ogr2ogr.py", "20000" if quick else "100000", "1"]),
    ):
        say(f"== {name}: {' '.join(cmd)}")
        run = subprocess.run([str(VENV / "python"), *cmd], cwd=ROOT, capture_output=True, text=True)
        out[name] = {
            "command": ".venv/bin/python " + " ".join(cmd),
            "markdown": "\n".join(
                x for x in run.stdout.splitlines() if "objects imported automatically" not in x
            ).strip(),
            "ok": run.returncode == 0,
            "stderr": run.stderr[-2000:] if run.returncode else "",
        }
    return out


# --------------------------------------------------------------------------------------------- report
def growth(cells: list[dict]) -> list[dict]:
    sizes = sorted({c["size"] for c in cells})
    if len(sizes) < 2:
        return []
    lo, hi = sizes[0], sizes[-1]
    by = {(c["op"], c["variant"], c["c"], c["size"]): c for c in cells}
    rows = []
    for (op, variant, conc, size), c in by.items():
        if size != lo or (op, variant, conc, hi) not in by:
            continue
        big = by[(op, variant, conc, hi)]
        rows.append(
            {
                "op": op,
                "variant": variant,
                "c": conc,
                "p50_lo": c["p50_ms"],
                "p50_hi": big["p50_ms"],
                "growth": round(big["p50_ms"] / c["p50_ms"], 2) if c["p50_ms"] else None,
                "features_lo": c["features"],
                "features_hi": big["features"],
            }
        )
    return rows


def markdown(cells: list[dict], grow: list[dict], extra: dict, command: str, elapsed: float) -> str:
    lines = [
        f"## `make bench`, {datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"Command: `{command}` ({elapsed / 60:.1f} min). Machine: {os.cpu_count()} cores, "
        f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, {platform.platform()}; "
        f"{_versions()}. Both servers: 2 processes (gunicorn sync workers; lighttpd FastCGI max-procs 2); peer and "
        "ours in alternating rounds; features per response held equal across sizes (views and boxes sized from the "
        "local density, tiles picked by parcel count). Ratio = our throughput / the peer's in the same run.",
        "",
        "| parcels | operation | variant | c | req/s | p50 ms | p95 ms | errors | peak RSS MB | features | bytes "
        "| peer | peer req/s | peer p95 ms | ratio |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for c in cells:
        peer_p95 = c.get("peer_p95_ms")
        lines.append(
            f"| {c['size']:,} | {c['op']} | {c['variant']} | {c['c']} | {c['rps']} | {c['p50_ms']} | {c['p95_ms']} | "
            f"{c['errors']} | {c.get('rss_mb') or '–'} | {c['features']} | {c.get('bytes', '–')} | {c.get('peer') or '–'} | "
            f"{c.get('peer_rps') if c.get('peer_rps') is not None else '–'} | "
            f"{peer_p95 if peer_p95 is not None and not (isinstance(peer_p95, float) and math.isnan(peer_p95)) else '–'} | "
            f"{str(c['ratio']) + '×' if c.get('ratio') is not None else '–'}"
            + (f" (raw query {c['raw_ratio']}×)" if c.get("raw_ratio") is not None else "")
            + " |"
        )
    if grow:
        lines += [
            "",
            "Growth, p50 at the largest size / p50 at the smallest, same features per response (target ≤ 1.3):",
            "",
            "| operation | variant | c | p50 ms small | p50 ms large | growth |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for g in grow:
            lines.append(
                f"| {g['op']} | {g['variant']} | {g['c']} | {g['p50_lo']} | {g['p50_hi']} | {g['growth']}× |"
            )
    lines += ["", "Targets (issue 31), this run:", ""]
    for op, (what, need) in TARGETS.items():
        ratios = [c["ratio"] for c in cells if c["op"] == op and c.get("ratio") is not None]
        if ratios:
            lines.append(
                f"- {op}: {what} — lowest cell {min(ratios)}×, {'met' if min(ratios) >= need else 'not met'}."
            )
    for name, block in extra.items():
        lines += [
            "",
            f"{name.capitalize()} (`{block['command']}`):",
            "",
            block["markdown"] or f"(failed: {block['stderr'][-300:]})",
        ]
    lines += ["", "![Throughput against data size](bench-throughput.png)", ""]
    return "\n".join(lines)


def _versions() -> str:
    def first(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    pg = psql("SHOW server_version")
    postgis = psql("SELECT extversion FROM pg_extension WHERE extname = 'postgis'", "template1") or "?"
    ms = first(["/usr/lib/cgi-bin/mapserv", "-v"])
    return f"PostgreSQL {pg.split()[0]}, PostGIS {postgis}, {ms.split(' OUTPUT')[0]}, Python {platform.python_version()}"


def plot(cells: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict = {}
    for c in cells:
        series.setdefault((c["op"], c["variant"], c["c"]), []).append((c["size"], c["rps"]))
    fig, ax = plt.subplots(figsize=(10, 6.5), dpi=110)
    colours = plt.get_cmap("tab20").colors
    styles = {"WMS": ("-", "o"), "WFS": ("--", "s"), "OGC API items": (":", "^"), "MVT": ("-.", "D")}
    for i, ((op, variant, conc), pts) in enumerate(sorted(series.items())):
        pts.sort()
        line, marker = styles.get(op, ("-", "x"))
        ax.plot(
            [p[0] for p in pts],
            [p[1] for p in pts],
            linestyle=line,
            marker=marker,
            color=colours[i % len(colours)],
            label=f"{op} {variant} c={conc}",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parcels in the database")
    ax.set_ylabel("throughput (requests/s, log)")
    ax.set_title("gisportal throughput against data size (make bench)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", default="")
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s] or (
        [20_000] if args.quick else [20_000, 200_000, 1_000_000]
    )
    seconds = args.seconds or (3 if args.quick else 8)
    n_rounds = 1 if args.quick else 2
    command = (
        "make bench" + (" QUICK=1" if args.quick else "") + (f" (sizes {args.sizes})" if args.sizes else "")
    )
    ensure_packages()
    OUT.mkdir(parents=True, exist_ok=True)
    random.seed(1)
    t0 = time.monotonic()
    cells = []
    for size in sizes:
        cells += bench_size(size, seconds, n_rounds, args.quick)
    extra = once(args.quick)
    elapsed = time.monotonic() - t0
    grow = growth(cells)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    (OUT / f"bench-{stamp}.json").write_text(
        json.dumps({"cells": cells, "growth": grow, "once": extra}, indent=1)
    )
    plot(cells, ROOT / "bench" / "bench-throughput.png")
    text = markdown(cells, grow, extra, command, elapsed)
    print(text)
    if not args.no_append:
        with (ROOT / "bench" / "RESULTS.md").open("a") as f:
            f.write("\n" + text)
    say(f"done in {elapsed / 60:.1f} min")


if __name__ == "__main__":
    harness.OUT.mkdir(parents=True, exist_ok=True)
    main()
