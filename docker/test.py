#!/usr/bin/env python3
"""make docker-test: the compose stack (docker/compose.yml) tried as an office runs it and as things break.

Starts the stack fresh (web ×2, worker ×2, beat, nginx, PostgreSQL primary + streaming replica, Redis), then:
- smoke: home, health, WMS GetMap, WFS GetFeature (ours and INSPIRE), OGC API items, a vector tile (twice:
  the second from nginx's cache), static files compressed, a citizen's submission with its receipt, replication;
- faults: a web container killed under load (no failed request), Redis stopped for 30 s while citizens file
  requests (every one answered and stored; their cases made once Redis is back), the replica stopped (reads
  go on), the primary restarted (the app reconnects), a worker killed in the middle of an import job (the job
  finishes once, after the restart);
- load: mixed traffic (maps, features, items, tiles, search, submissions) at c=16 through nginx for
  GISPORTAL_LOAD_SECONDS (300; QUICK=1: 60) with zero errors; throughput and p95 appended to
  bench/RESULTS.md.
Prints "N passed, N failed" and exits 1 when anything failed. Standard library only (runs with python3).
"""

from __future__ import annotations

import base64
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = os.environ.get("GISPORTAL_COMPOSE_PROJECT", "gisportal")
PORT = int(os.environ.get("GISPORTAL_HTTP_PORT", "8080"))
BASE = f"http://127.0.0.1:{PORT}"
COMPOSE = ["docker-compose", "-f", str(ROOT / "docker" / "compose.yml"), "-p", PROJECT]
QUICK = os.environ.get("QUICK", "0") == "1"
LOAD_SECONDS = int(os.environ.get("GISPORTAL_LOAD_SECONDS", "60" if QUICK else "300"))
PARCELS = os.environ.get("GISPORTAL_DEMO_PARCELS", "5000")
CITIZEN = ("obywatel", "demo-haslo-2026")
results: list[tuple[str, bool, str]] = []


# ---------------------------------------------------------------- plumbing
def say(text: str) -> None:
    print(f"\033[1m[docker-test]\033[0m {text}", flush=True)


def sh(*args: str, check: bool = True, capture: bool = True, timeout: int = 900) -> str:
    r = subprocess.run(args, capture_output=capture, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} → {r.returncode}: {(r.stderr or '')[-2000:]}")
    return r.stdout if capture else ""


def compose(*args: str, **kw) -> str:
    return sh(*COMPOSE, *args, **kw)


def container(service: str, index: int = 1) -> str:
    return f"{PROJECT}_{service}_{index}"


def manage(code: str) -> str:
    """Python in a running web container with Django set up (what the app sees)."""
    for index in (1, 2):
        if (
            sh("docker", "inspect", "-f", "{{.State.Running}}", container("web", index), check=False).strip()
            == "true"
        ):
            return sh("docker", "exec", container("web", index), "gisportal", "shell", "-c", code).strip()
    raise RuntimeError("no web container is running")


def crash(name: str) -> None:
    """The container's processes die at once, as in a crash (SIGKILL to its init from the host): unlike
    `docker kill` or `docker stop`, its restart policy then brings it back."""
    pid = sh("docker", "inspect", "-f", "{{.State.Pid}}", name).strip()
    os.kill(int(pid), 9)


def http(method: str, path: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 60):
    req = urllib.request.Request(BASE + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def get(path: str, **kw):
    return http("GET", path, **kw)


def wait_for(what: str, test, timeout: float = 300, every: float = 2) -> None:
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            if test():
                return
        except Exception as e:
            last = e
        time.sleep(every)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s ({last})")


def healthy(name: str) -> bool:
    state = sh(
        "docker",
        "inspect",
        "-f",
        "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}",
        name,
    )
    return state.split() in (["running", "healthy"], ["running"])


def test(fn):
    def run():
        t0 = time.monotonic()
        try:
            detail = fn() or ""
            results.append((fn.__name__, True, detail))
            say(f"PASS {fn.__name__} ({time.monotonic() - t0:.0f} s) {detail}")
        except Exception as e:
            results.append((fn.__name__, False, f"{type(e).__name__}: {e}"))
            say(f"FAIL {fn.__name__}: {type(e).__name__}: {e}")

    run.__name__ = fn.__name__
    return run


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def submit(key: str | None = None, timeout: float = 60):
    data = {
        "service": "pismo-ogolne",
        "data": {
            "applicant_name": "Jan Kowalski",
            "email": "jan@example.pl",
            "pesel": "44051401359",
            "postal_code": "05-500",
            "locality": "Piaseczno",
            "subject": "Pismo z testu odporności",
            "content": "Treść pisma.",
        },
    }
    return http(
        "POST",
        "/api/submissions/",
        json.dumps(data).encode(),
        {
            "Content-Type": "application/json",
            "Authorization": basic(*CITIZEN),
            "Idempotency-Key": key or uuid.uuid4().hex,
        },
        timeout=timeout,
    )


# ---------------------------------------------------------------- traffic
EXTENT = (631_000.0, 458_000.0, 642_000.0, 474_000.0)  # the demo gmina (EPSG:2180, x = easting)


def _bbox(size: float) -> tuple[float, float, float, float]:
    x = random.uniform(EXTENT[0], EXTENT[2] - size)
    y = random.uniform(EXTENT[1], EXTENT[3] - size)
    return x, y, x + size, y + size


def read_request() -> str:
    kind = random.random()
    if kind < 0.35:
        x0, y0, x1, y1 = _bbox(800)
        return (
            "/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=dzialki,budynki&STYLES=&CRS=EPSG:2180"
            f"&BBOX={y0:.0f},{x0:.0f},{y1:.0f},{x1:.0f}&WIDTH=256&HEIGHT=256&FORMAT=image/png"
        )
    if kind < 0.55:
        x0, y0, x1, y1 = _bbox(400)
        return (
            "/ows?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gisportal:dzialki&COUNT=200"
            f"&BBOX={x0:.0f},{y0:.0f},{x1:.0f},{y1:.0f},EPSG:2180&SRSNAME=EPSG:2180"
        )
    if kind < 0.70:
        x0, y0, x1, y1 = _bbox(400)
        return f"/ogcapi/collections/dzialki/items?limit=100&f=json&bbox={x0:.0f},{y0:.0f},{x1:.0f},{y1:.0f}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2180"
    if kind < 0.88:
        return f"/ogcapi/collections/dzialki/tiles/WebMercatorQuad/16/{random.randint(21612, 21652)}/{random.randint(36578, 36598)}"  # z/row/col over the gmina
    if kind < 0.95:
        return "/api/search?q=" + random.choice(["Pia", "Jazg", "Gol", "Zal", "Pias", "1/2"])
    return "/"


class Load:
    """c threads sending requests until stopped; each result (ok, status, seconds, kind) recorded."""

    def __init__(self, concurrency: int, submissions: float = 0.0):
        self.concurrency, self.submissions = concurrency, submissions
        self.records: list[tuple[bool, int, float, str]] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(concurrency)]

    def _run(self) -> None:
        while not self._stop.is_set():
            post = random.random() < self.submissions
            path = "/api/submissions/" if post else read_request()
            t0 = time.monotonic()
            try:
                status, _h, _b = submit() if post else get(path, timeout=60)
                ok = status in ((201,) if post else (200, 204, 304))  # 204: a tile with nothing in it
            except Exception as e:
                status, ok = 0, False
                with self._lock:
                    self.errors.append(f"{path[:80]}: {type(e).__name__}: {e}")
            seconds = time.monotonic() - t0
            with self._lock:
                self.records.append((ok, status, seconds, "POST" if post else path.split("?")[0][:30]))
                if not ok and status:
                    self.errors.append(f"{path[:80]}: HTTP {status}")

    def __enter__(self):
        self.started = time.monotonic()
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self.threads:
            t.join(timeout=90)
        self.elapsed = time.monotonic() - self.started

    def summary(self) -> dict:
        lat = sorted(r[2] for r in self.records)
        n = len(lat)
        return {
            "requests": n,
            "errors": sum(1 for r in self.records if not r[0]),
            "rps": n / self.elapsed if self.elapsed else 0,
            "p50_ms": 1000 * statistics.median(lat) if lat else 0,
            "p95_ms": 1000 * lat[int(0.95 * (n - 1))] if lat else 0,
            "submissions": sum(1 for r in self.records if r[3] == "POST"),
        }


# ---------------------------------------------------------------- set-up
def build() -> None:
    say("base image")
    sh(str(ROOT / "docker" / "build-base.sh"), capture=False)
    for target in ("db", "redis", "app", "nginx"):
        say(f"image gisportal-{target}")
        t0 = time.monotonic()
        sh(
            "docker",
            "build",
            "-q",
            "-f",
            "docker/Dockerfile",
            "--target",
            target,
            "-t",
            f"gisportal-{target}:latest",
            str(ROOT),
            timeout=3600,
        )
        say(f"  built in {time.monotonic() - t0:.0f} s")


def secrets() -> None:
    folder = ROOT / "docker" / "secrets"
    folder.mkdir(mode=0o700, exist_ok=True)
    for name in ("db_password", "replication_password", "secret_key"):
        path = folder / name
        if not path.exists() or not path.read_text().strip():
            import secrets as s

            path.write_text(s.token_urlsafe(32) + "\n")
            path.chmod(0o644)  # read by the containers' own users through the bind mount; the folder is 0700


def up() -> None:
    say("fresh stack (volumes removed)")
    compose("down", "-v", "--remove-orphans", check=False)
    env = {**os.environ, "GISPORTAL_DEMO_PARCELS": PARCELS, "GISPORTAL_HTTP_PORT": str(PORT)}
    r = subprocess.run(
        [*COMPOSE, "up", "-d", "--no-build", "--scale", "web=2", "--scale", "worker=2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-3000:])
    wait_for("the web containers", lambda: healthy(container("web", 1)) and healthy(container("web", 2)), 600)
    wait_for("nginx", lambda: get("/healthz", timeout=5)[0] == 200, 120)


# ---------------------------------------------------------------- checks
@test
def smoke() -> str:
    out = []
    status, _h, body = get("/")
    assert status == 200 and b"<html" in body.lower(), status
    status, _h, body = get("/healthz")
    assert status == 200 and json.loads(body)["checks"]["redis"] == "ok", body[:200]
    status, h, body = get(
        "/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=dzialki&STYLES=&CRS=EPSG:2180"
        "&BBOX=460000,634000,462000,636000&WIDTH=256&HEIGHT=256&FORMAT=image/png"
    )
    assert status == 200 and body[:8] == b"\x89PNG\r\n\x1a\n", (status, body[:100])
    status, _h, body = get(
        "/ows?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gisportal:dzialki&COUNT=10"
    )
    assert status == 200 and b'numberReturned="10"' in body, body[:300]
    status, _h, body = get(
        "/ows?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=cp:CadastralParcel&COUNT=3"
    )
    assert status == 200 and body.count(b"<cp:CadastralParcel ") == 3, body[:300]
    status, _h, body = get("/ogcapi/collections/dzialki/items?limit=5&f=json")
    assert status == 200 and len(json.loads(body)["features"]) == 5
    tile = "/ogcapi/collections/dzialki/tiles/WebMercatorQuad/15/10822/18295"  # z/row/col: parcels there
    status, h1, _b = get(tile)
    status2, h2, _b = get(tile)
    assert status == status2 == 200 and h2.get("X-Cache") == "HIT", (h1.get("X-Cache"), h2.get("X-Cache"))
    status, h, body = get("/static/web/map.bundle.js", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and h.get("Content-Encoding") == "gzip", h
    status, _h, body = submit()
    assert status == 201, body[:300]
    receipt = json.loads(body)["receipt"]
    status, _h, page = get(receipt["verify_url"])
    assert status == 200 and receipt["verification_code"].encode() in page
    out.append(f"receipt {receipt['verification_code']}")
    lag = sh(
        "docker",
        "exec",
        container("db"),
        "psql",
        "-U",
        "postgres",
        "-qtAc",
        "select state from pg_stat_replication",
    ).strip()
    assert lag == "streaming", lag
    return ", ".join(out)


@test
def pay_a_fee_with_the_sandbox() -> str:
    """A paid request (EGiB extract, 140 zł): its fee document at filing, paid through the sandbox gateway's
    page (a browser's form with its CSRF token), settled by the gateway's notification."""
    import re
    from http.cookiejar import CookieJar

    status, _h, body = get(
        "/ows?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gisportal:dzialki&COUNT=1&OUTPUTFORMAT=application/json"
    )
    parcel = json.loads(body)["features"][0]["properties"]["ID_DZIALKI"]
    data = {
        "service": "wypis-wyrys-egib",
        "data": {
            "applicant_name": "Jan Kowalski",
            "email": "jan@example.pl",
            "pesel": "44051401359",
            "postal_code": "05-500",
            "locality": "Piaseczno",
            "parcels": [parcel],
            "variant": "wypis_wyrys",
            "form": "electronic",
            "legal_interest": "Jestem właścicielem działki.",
        },
    }
    auth = {"Authorization": basic(*CITIZEN), "Content-Type": "application/json"}
    status, _h, body = http(
        "POST", "/api/submissions/", json.dumps(data).encode(), {**auth, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert status == 201, body[:300]
    sub = json.loads(body)

    def payment():
        got = json.loads(get(f"/api/submissions/{sub['id']}", headers=auth)[2])
        return got.get("payment")

    wait_for("the fee document", lambda: payment() is not None, 60)
    pay = payment()
    assert pay["status"] == "due" and pay["amount"] == "140.00", pay
    # the citizen's browser: signs in, opens the payment page, chooses the sandbox, pays on its page
    jar = CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def submit_form(path: str, fields: dict):
        page = browser.open(f"{BASE}{path}", timeout=30)
        html, where = page.read().decode(), page.geturl()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        return browser.open(urllib.request.Request(where.split("?")[0], data=form, method="POST"), timeout=30)

    submit_form("/konto/logowanie/", {"username": CITIZEN[0], "password": CITIZEN[1]})
    gateway = submit_form(f"/platnosci/{pay['id']}/", {"provider": "sandbox"})  # → the sandbox's page
    where = gateway.geturl()
    assert "/platnosci/sandbox/" in where, where
    session = urllib.parse.parse_qs(urllib.parse.urlsplit(where).query)["s"][0]
    back = submit_form(where.split(BASE, 1)[-1], {"s": session, "outcome": "success"})
    assert back.status == 200 and f"/platnosci/{pay['id']}/powrot/" in back.geturl(), back.geturl()
    wait_for(
        "the payment settled",
        lambda: json.loads(get(f"/api/payments/{pay['id']}", headers=auth)[2])["status"] == "paid",
        60,
    )
    return f"fee {pay['amount']} zł paid through the sandbox, settled"


@test
def kill_a_web_container_under_load() -> str:
    with Load(8) as load:
        time.sleep(5)
        crash(container("web", 1))
        time.sleep(10)
    s = load.summary()
    assert s["errors"] == 0, load.errors[:5]
    wait_for("the killed web container back", lambda: healthy(container("web", 1)), 180)
    return f"{s['requests']} requests, 0 failed; the container restarted"


@test
def redis_stopped_while_citizens_file() -> str:
    sh("docker", "stop", container("redis"))
    filed, t0 = [], time.monotonic()
    try:
        while time.monotonic() - t0 < 30:
            status, _h, body = submit(timeout=30)
            assert status == 201, (status, body[:300])
            filed.append(json.loads(body)["id"])
            for path in (
                "/ows?SERVICE=WMS&REQUEST=GetCapabilities",
                "/ogcapi/collections/dzialki/items?limit=3&f=json",
            ):
                status, _h, body = get(path)
                assert status == 200, (path, status, body[:200])
            time.sleep(2)
    finally:
        sh("docker", "start", container("redis"))
    ids = ",".join(f"'{i}'" for i in filed)
    # every submission stored with its receipt at once (the 201 carries it); its case made by the sweep once
    # Redis is back (its enqueue at filing found no broker)
    code = (
        "from services.forms.models import Submission; from services.cases.models import Case; "
        f"ids = [{ids}]; "
        "print(Submission.objects.filter(id__in=ids).count(), Case.objects.filter(submission_id__in=ids).count())"
    )
    wait_for(
        "cases of the submissions filed during the outage",
        lambda: manage(code).split()[-2:] == [str(len(filed))] * 2,
        timeout=400,
        every=10,
    )
    return f"{len(filed)} submissions filed during 30 s without Redis, each with its receipt and (after) its case"


@test
def replica_stopped() -> str:
    sh("docker", "stop", container("db-replica"))
    try:
        for _ in range(10):
            for path in (
                "/ows?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gisportal:dzialki&COUNT=5",
                "/ogcapi/collections/dzialki/items?limit=5&f=json",
                f"/ogcapi/collections/dzialki/tiles/WebMercatorQuad/16/{random.randint(21612, 21652)}/{random.randint(36578, 36598)}",
                read_request(),  # a WMS map, WFS page, items, tile or search
            ):
                status, _h, body = get(path)
                assert status in (200, 204), (path, status, body[:200])
    finally:
        sh("docker", "start", container("db-replica"))
    wait_for(
        "the replica streaming again",
        lambda: (
            "streaming"
            in sh(
                "docker",
                "exec",
                container("db"),
                "psql",
                "-U",
                "postgres",
                "-qtAc",
                "select state from pg_stat_replication",
            )
        ),
        120,
    )
    return "reads answered from the primary; the replica caught up after its restart"


@test
def primary_restarted() -> str:
    sh("docker", "restart", "-t", "30", container("db"))
    wait_for("the primary", lambda: healthy(container("db")), 120)
    wait_for("the app on the restarted primary", lambda: submit(timeout=10)[0] == 201, 120)
    for path in (
        "/",
        "/ows?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gisportal:dzialki&COUNT=5",
    ):
        status, _h, _b = get(path)
        assert status == 200, (path, status)
    return "the app reconnected"


def psql(sql: str) -> str:
    return sh(
        "docker", "exec", container("db"), "psql", "-U", "postgres", "-d", "gisportal", "-qtAc", sql
    ).strip()


@test
def worker_killed_during_an_import_job() -> str:
    """An import job (a voivodeship's boundary, `granice`) held up inside its import by a lock the test takes,
    so it is surely running; both workers crash; after their restart the sweep queues it again and it finishes
    once."""
    square = [[19.0, 53.5], [20.0, 53.5], [20.0, 54.0], [19.0, 54.0], [19.0, 53.5]]
    feature = {
        "type": "Feature",
        "properties": {"TERYT": "28", "POZIOM": "województwo", "NAZWA": "warmińsko-mazurskie"},
    }
    feature["geometry"] = {"type": "MultiPolygon", "coordinates": [[square]]}
    collection = json.dumps({"type": "FeatureCollection", "features": [feature]})
    create = (
        "import json; from pathlib import Path; from django.conf import settings; "
        "from layers.actions import import_job_create; "
        "path = Path(settings.STATE_DIR) / 'granice-28.geojson'; "
        f"path.write_text({collection!r}); "
        "job = import_job_create(open(path, 'rb'), storage_dir=settings.GISPORTAL_IMPORT_DIR, options={'layer': 'granice'}); "
        "print(job.pk)"
    )
    locker = "select pg_advisory_lock(hashtext('gisportal.import.admin')), pg_sleep(300)"
    sh("docker", "exec", "-d", container("db"), "psql", "-U", "postgres", "-d", "gisportal", "-c", locker)
    try:
        job = int(manage(create).split()[-1])
        waiting = (
            "select count(*) from pg_stat_activity where usename = 'gisportal' and wait_event_type = 'Lock'"
        )
        wait_for(
            "the job running, held at its lock",
            lambda: (
                psql(f"select status from layers_importjob where id = {job}") == "running"
                and psql(waiting) != "0"
            ),
            120,
            every=0.5,
        )
        for index in (1, 2):
            crash(container("worker", index))
        wait_for("the crashed runner's connection gone", lambda: psql(waiting) == "0", 60, every=0.5)
        assert psql(f"select status from layers_importjob where id = {job}") == "running"
    finally:
        psql(
            "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(300)%' and pid <> pg_backend_pid()"
        )
    wait_for(
        "the workers back", lambda: healthy(container("worker", 1)) and healthy(container("worker", 2)), 120
    )
    wait_for(
        "the job done after the restart",
        lambda: psql(f"select status from layers_importjob where id = {job}") in ("done", "failed"),
        600,
        every=3,
    )
    final, written = psql(f"select status, written from layers_importjob where id = {job}").split("|")
    units = psql("select count(*) from layers_administrativeunit where teryt = '28'")
    assert (final, written, units) == ("done", "1", "1"), (final, written, units)
    return f"job {job} held at its lock, both workers crashed; queued again by the sweep and done once"


@test
def load_mixed_traffic() -> str:
    say(f"load: c=16 for {LOAD_SECONDS} s")
    with Load(16, submissions=0.02) as load:
        time.sleep(LOAD_SECONDS)
    s = load.summary()
    record_load(s)
    assert s["errors"] == 0, load.errors[:10]
    return f"{s['requests']} requests ({s['submissions']} submissions), {s['rps']:.1f} req/s, p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms, 0 errors"


def record_load(s: dict) -> None:
    versions = sh("docker", "--version").strip()
    line = (
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {os.cpu_count()} cores | c=16, {LOAD_SECONDS} s, {PARCELS} parcels | "
        f"{s['requests']} | {s['errors']} | {s['rps']:.1f} | {s['p50_ms']:.0f} | {s['p95_ms']:.0f} |"
    )
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text()
    head = "## Docker stack under mixed load (make docker-test)"
    if head not in text:
        text += (
            f"\n{head}\n\nCommand: `make docker-test` (docker/test.py: nginx → web ×2, worker ×2, PostgreSQL primary + "
            "streaming replica, Redis, on one machine; 35 % WMS GetMap 256 px, 20 % WFS bbox pages, 15 % OGC API "
            "items, 18 % vector tiles, 7 % search, 3 % home page, 2 % citizens' submissions). "
            f"{versions}.\n\n| date (UTC) | machine | run | requests | errors | req/s | p50 ms | p95 ms |\n|---|---|---|---|---|---|---|---|\n"
        )
    path.write_text(text.rstrip("\n") + "\n" + line + "\n")


# ---------------------------------------------------------------- main
def main() -> int:
    os.chdir(ROOT)
    t0 = time.monotonic()
    try:
        build()
        secrets()
        up()
    except Exception as e:
        say(f"the stack did not start: {e}")
        print(compose("logs", "--tail", "60", check=False))
        print("0 passed, 1 failed")
        return 1
    for check in (
        smoke,
        pay_a_fee_with_the_sandbox,
        kill_a_web_container_under_load,
        redis_stopped_while_citizens_file,
        replica_stopped,
        primary_restarted,
        worker_killed_during_an_import_job,
        load_mixed_traffic,
    ):
        check()
    if os.environ.get("GISPORTAL_DOCKER_KEEP", "0") != "1":
        compose("down", "-v", check=False)
    passed = sum(1 for _n, ok, _d in results if ok)
    failed = len(results) - passed
    say(f"done in {time.monotonic() - t0:.0f} s")
    for name, ok, detail in results:
        print(f"  {'PASS' if ok else 'FAIL'} {name}: {detail}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
