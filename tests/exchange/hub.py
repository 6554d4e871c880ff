"""A second hub for the tests of the exchange between hubs (tests/exchange/test_two_hubs.py).

Hub B is the application served by gunicorn (one sync worker) in a separate process, on a free port, with its
own database `<test database>_hub_b` (created from template1, which carries PostGIS, and migrated: the
migrations seed the offices), its own seal folder (seals generated on first use), trust folder, state folder
and cache prefix. Its Celery broker is a Redis database nobody works on, so nothing it queues reaches a
worker of the demo or of another run.

`Proxy` stands in front of it in the test process and plays the network: it can be down (connection
refused), answer 500, pass the request to B and then never answer (the answer is lost after B stored
the envelope) or stop in the middle of the answer, besides passing requests through."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import psycopg
import requests

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GUNICORN = BIN / "gunicorn"
STARTUP_TIMEOUT = 90.0
# a Redis database of its own for hub B's Celery: tasks it queues (if any) are never run by a real worker
HUB_B_BROKER = "redis://127.0.0.1:6379/13"

SETUP = r"""
import json, django
django.setup()
from gisportal.core.actions import api_key_create
from gisportal.core.models import User
from services.offices.models import Office
from services.offices.seals import seal_for

system = User.objects.create_user(username="hub-a", email="hub-a@example.pl", role="office_system")
citizen = User.objects.create_user(username="jan.b", email="jan.b@example.pl", role="citizen")
print(json.dumps({
    "api_key": api_key_create(system, "hub A")[1],
    "citizen_key": api_key_create(citizen, "a citizen's key")[1],
    "cert": seal_for(Office.objects.get(code="sp-piaseczno")).cert_pem.decode(),
}))
"""


class HubUnavailable(Exception):
    """Hub B could not be set up here (no right to create a database, gunicorn does not start)."""


@dataclass
class Hub:
    url: str
    conninfo: dict
    api_key: str  # hub A's system account on B (exchange_messages)
    citizen_key: str  # a citizen's key on B (no exchange_messages)
    receipt_cert_pem: bytes  # the seal of B's sp-piaseczno, which seals B's receipts
    workdir: Path
    timings: dict[str, float] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    env: dict = field(default_factory=dict)

    def manage(self, *args: str) -> str:
        """Run a `gisportal` command against hub B's database and settings."""
        return _run([str(BIN / "gisportal"), *args], self.env, " ".join(args[:2]))

    def query(self, sql: str, params=()) -> list[tuple]:
        """Read hub B's database directly (a new connection each time: B's commits are seen)."""
        with psycopg.connect(**self.conninfo, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def log_tail(self, n: int = 40) -> str:
        path = self.workdir / "gunicorn.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
        drop_database(self.conninfo)


def _admin(conninfo: dict) -> psycopg.Connection:
    return psycopg.connect(**{**conninfo, "dbname": "postgres"}, autocommit=True)


def drop_database(conninfo: dict) -> None:
    with _admin(conninfo) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{conninfo["dbname"]}" WITH (FORCE)')


def _run(cmd: list[str], env: dict, what: str, timeout: float = 300) -> str:
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"hub B: {what} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return r.stdout


def start_hub(
    db: dict, workdir: Path, *, trusted_pems: list[bytes], parcels: int = 0, suffix: str = "hub_b"
) -> Hub:
    """Create, migrate and start hub B. `db` is hub A's (Django's settings_dict of the test database);
    `trusted_pems` are the certificates of A's offices that B trusts (A's office seals); `parcels`: demo
    registry data of that size loaded into B (0: none)."""
    name = f"{db['NAME']}_{suffix}"
    conninfo = {
        "dbname": name,
        "user": db["USER"],
        "password": db["PASSWORD"] or None,
        "host": db["HOST"] or "127.0.0.1",
        "port": int(db["PORT"] or 5432),
    }
    conninfo = {k: v for k, v in conninfo.items() if v is not None}
    timings: dict[str, float] = {}
    try:
        drop_database(conninfo)  # left by an interrupted run
        with _admin(conninfo) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template1')
    except psycopg.Error as e:
        raise HubUnavailable(f"cannot create the database {name} for hub B: {e}") from e

    seals, trust, state = workdir / "seals", workdir / "trust", workdir / "state"
    (trust / "anchors").mkdir(parents=True, exist_ok=True)
    seals.mkdir(exist_ok=True)
    state.mkdir(exist_ok=True)
    for i, pem in enumerate(trusted_pems):
        (trust / "anchors" / f"hub-a-{i}.pem").write_bytes(pem)
    auth = quote(conninfo["user"], safe="") + (
        ":" + quote(conninfo["password"], safe="") if conninfo.get("password") else ""
    )
    port = _free_port()  # known before the start, so that B's own links (OGC API `next`) name its address
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GISPORTAL_", "PYTEST", "DJANGO_"))},
        "GISPORTAL_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DJANGO_SETTINGS_MODULE": "gisportal.settings",
        "DATABASE_URL": f"postgis://{auth}@{conninfo['host']}:{conninfo['port']}/{name}",
        "GISPORTAL_STATE_DIR": str(state),
        "GISPORTAL_SEAL_DIR": str(seals),
        "GISPORTAL_SEAL_GENERATE": "1",
        "GISPORTAL_TRUST_DIR": str(trust),
        "GISPORTAL_EXCHANGE_HUB": "hub-b",
        "GISPORTAL_EXCHANGE_PEERS": "[]",
        "GISPORTAL_CACHE_PREFIX": f"hubb-{name}",
        "GISPORTAL_DB_POOL": "0",
        "CELERY_BROKER_URL": HUB_B_BROKER,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "0",
    }
    hub = Hub("", conninfo, "", "", b"", workdir, timings, env=env)
    try:
        t = time.monotonic()
        _run([str(BIN / "gisportal"), "migrate", "--no-input", "-v", "0"], env, "migrate")
        timings["migrate"] = time.monotonic() - t
        if parcels:
            t = time.monotonic()
            _run(
                [str(BIN / "gisportal"), "demo_data", "--parcels", str(parcels), "--seed", "11", "-v", "0"],
                env,
                "demo data",
            )
            timings["demo_data"] = time.monotonic() - t
        t = time.monotonic()
        made = json.loads(_run([sys.executable, "-c", SETUP], env, "set-up").strip().splitlines()[-1])
        timings["setup"] = time.monotonic() - t
        hub.api_key, hub.citizen_key = made["api_key"], made["citizen_key"]
        hub.receipt_cert_pem = made["cert"].encode()

        t = time.monotonic()
        hub.proc, hub.url = _gunicorn(env, workdir, port)
        timings["startup"] = time.monotonic() - t
    except BaseException:
        hub.stop()
        raise
    return hub


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(env: dict, workdir: Path, port: int = 0) -> tuple[subprocess.Popen, str]:
    if not GUNICORN.exists():
        raise HubUnavailable(f"gunicorn is not installed ({GUNICORN})")
    log = workdir / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(GUNICORN),
                "gisportal.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--worker-class",
                "sync",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--no-control-socket",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline, url = time.monotonic() + STARTUP_TIMEOUT, ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if not url:
            found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log.read_text(errors="replace"))
            url = found.group(1) if found else ""
        if url:
            try:
                if requests.get(url + "/healthz", timeout=5).status_code == 200:
                    return proc, url
            except requests.RequestException:
                pass
        time.sleep(0.1)
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=15)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
    raise HubUnavailable(f"gunicorn did not serve hub B within {STARTUP_TIMEOUT:.0f} s:\n{tail}")


# ---------------------------------------------------------------- the network between A and B
class Proxy:
    """A's way to B: `mode` is "pass" (to B and back), "500" (B is not asked), "lost" (B is asked, then
    the answer never comes: the request hangs until `release()`) or "stall" (B is asked, its answer's
    headers and half its body come, then nothing until `release()`); `down()` closes the port (connection
    refused), `up()` opens it again. `hits` lists (mode, path) of every request that came in."""

    def __init__(self, target: str):
        self.target = target
        self.mode = "pass"
        self.hits: list[tuple[str, str]] = []
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self.up()
        self.url = f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        if self._server is not None:
            return
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._handle(b"")

            def do_POST(self):
                self._handle(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _handle(self, body: bytes):
                mode = proxy.mode
                proxy.hits.append((mode, self.path))
                if mode == "500":
                    self._answer(500, "text/plain", b"Internal Server Error")
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("authorization", "x-api-key", "content-type", "user-agent", "accept")
                }
                r = requests.request(
                    self.command, proxy.target + self.path, data=body or None, headers=headers, timeout=60
                )
                if mode == "lost":
                    proxy._release.wait(30)
                    self.close_connection = True
                    return
                if mode == "stall":
                    self._answer(r.status_code, r.headers.get("Content-Type", ""), r.content, stall=True)
                    return
                self._answer(r.status_code, r.headers.get("Content-Type", ""), r.content)

            def _answer(self, status: int, content_type: str, content: bytes, stall: bool = False):
                try:
                    self.send_response(status)
                    if content_type:
                        self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    if stall:  # half of the answer, then nothing
                        self.wfile.write(content[: len(content) // 2])
                        self.wfile.flush()
                        proxy._release.wait(30)
                        self.close_connection = True
                        return
                    self.wfile.write(content)
                except OSError:  # the client has gone
                    pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_port
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self._server = server

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def release(self) -> None:
        self._release.set()

    def close(self) -> None:
        self.release()
        self.down()
