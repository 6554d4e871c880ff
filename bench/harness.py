"""Benchmark harness shared by the service benchmarks: a peer MapServer 8 (Debian packages, FastCGI
behind lighttpd) and our portal (gunicorn) on loopback, both on the same PostGIS database, driven by
wrk with the same request list at a given concurrency. Not part of the test run.

Everything here starts processes on 127.0.0.1 only and stops them when the context ends.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
VENV = ROOT / ".venv" / "bin"
PACKAGES = ("cgi-mapserver", "mapserver-bin", "lighttpd", "wrk")

WRK_LUA = r"""
local urls = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do urls[#urls + 1] = line end
end
request = function()
  i = i + 1
  if i > #urls then i = 1 end
  return wrk.format("GET", urls[i])
end
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %.3f, "errors": %d, "non2xx": %d, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def ensure_packages() -> None:
    """Install the peer's Debian packages when missing (idempotent)."""
    missing = [p for p in PACKAGES if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if missing:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
        subprocess.run(
            [*sudo, "apt-get", "install", "-y", "-qq", *missing],
            check=True,
            env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
        )


def psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qtA", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def demo_database(name: str, parcels: int) -> dict:
    """A database with `parcels` demo parcels, reused when it already holds exactly that many."""
    env = dict(os.environ, DATABASE_URL=f"postgis://postgres@127.0.0.1:5432/{name}")
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if exists:
        try:
            if int(psql("SELECT count(*) FROM layers_parcel", name) or 0) == parcels:
                return env
        except subprocess.CalledProcessError:
            pass
        psql(f"DROP DATABASE {name}")
    psql(f"CREATE DATABASE {name}")
    psql("CREATE EXTENSION IF NOT EXISTS postgis", name)  # template1 may hold it (scripts/setup.sh)
    subprocess.run([str(VENV / "gisportal"), "migrate", "-v", "0"], check=True, env=env)
    subprocess.run(
        [str(VENV / "gisportal"), "demo-data", "--parcels", str(parcels), "--seed", "1", "-v", "0"],
        check=True,
        env=env,
    )
    return env


def _wait(url: str, timeout: float = 60) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - loopback only
                if r.status < 500:
                    return
        except Exception:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def gisportal_server(env: dict, port: int, workers: int = 2):
    # throw-away seals for the benchmark database's offices: the web refuses to start without seals (receipts.E001)
    env = dict(
        env,
        GISPORTAL_PUBLIC_URL=f"http://127.0.0.1:{port}",
        DEBUG="false",
        GISPORTAL_SEAL_GENERATE="1",
        GISPORTAL_SEAL_DIR=str(OUT / "seals"),
    )
    proc = subprocess.Popen(
        [
            str(VENV / "gunicorn"),
            "gisportal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@contextmanager
def mapserver(mapfile: Path, port: int, procs: int = 2):
    """MapServer 8 as FastCGI under lighttpd (MAPSERVER_CONFIG_FILE with a MAPS alias)."""
    ensure_packages()
    OUT.mkdir(parents=True, exist_ok=True)
    conf = OUT / "mapserver.conf"
    conf.write_text(
        f'CONFIG\n  ENV\n    PROJ_DATA "/usr/share/proj"\n  END\n  MAPS\n    GISPORTAL "{mapfile}"\n  END\nEND\n'
    )
    light = OUT / "lighttpd.conf"
    sock = OUT / "mapserv.sock"
    light.write_text(f"""
server.modules = ("mod_fastcgi")
server.document-root = "{OUT}"
server.port = {port}
server.bind = "127.0.0.1"
server.pid-file = "{OUT}/lighttpd.pid"
server.errorlog = "{OUT}/lighttpd-error.log"
fastcgi.server = ("/mapserv" => (("socket" => "{sock}", "bin-path" => "/usr/lib/cgi-bin/mapserv",
  "max-procs" => {procs}, "check-local" => "disable",
  "bin-environment" => ("MAPSERVER_CONFIG_FILE" => "{conf}", "PROJ_DATA" => "/usr/share/proj"))))
""")
    proc = subprocess.Popen(
        ["lighttpd", "-D", "-f", str(light)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/mapserv?MAP=GISPORTAL&SERVICE=WMS&REQUEST=GetCapabilities")
        yield f"http://127.0.0.1:{port}/mapserv?MAP=GISPORTAL&"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        # idle FastCGI children may ignore SIGTERM (OGC.md §5.4): end them by name
        subprocess.run(["pkill", "-f", "/usr/lib/cgi-bin/mapserv"], check=False)


def wrk(urls: list[str], *, concurrency: int, seconds: int) -> dict:
    """Drive one server with the URL list (cycled) using wrk; returns throughput and latency."""
    if shutil.which("wrk") is None:
        ensure_packages()
    OUT.mkdir(parents=True, exist_ok=True)
    script = OUT / "urls.lua"
    script.write_text(WRK_LUA)
    listing = OUT / f"urls-{os.getpid()}.txt"
    base = urls[0].split("/", 3)
    host = "/".join(base[:3])
    listing.write_text("\n".join("/" + u.split("/", 3)[3] for u in urls) + "\n")
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(min(concurrency, 2)),
                "-c",
                str(concurrency),
                "-d",
                f"{seconds}s",
                "--timeout",
                "30s",
                "-s",
                str(script),
                host,
                "--",
                str(listing),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        listing.unlink(missing_ok=True)
    line = next(x for x in out.splitlines() if x.startswith("{"))
    data = json.loads(line)
    data["rps"] = data["requests"] / data["seconds"] if data["seconds"] else 0.0
    return data


def say(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def versus_table(first_column: str, results: list[dict], key: str) -> None:
    """Print the Markdown table of a peer-versus-us run: one row per (case, concurrency), rows holding
    wrk results under "mapserver" and "gisportal"."""
    print(
        f"| {first_column} | concurrency | MapServer req/s | gisportal req/s | ratio | MapServer p95 ms | gisportal p95 ms "
        "| errors (ours/peer) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for row in results:
        m, g = row["mapserver"], row["gisportal"]
        ratio = g["rps"] / m["rps"] if m["rps"] else float("nan")
        print(
            f"| {row[key]} | {row['c']} | {m['rps']:.1f} | {g['rps']:.1f} | {ratio:.2f}× | {m['p95_ms']:.1f} | "
            f"{g['p95_ms']:.1f} | {g['errors'] + g['non2xx']}/{m['errors'] + m['non2xx']} |"
        )
