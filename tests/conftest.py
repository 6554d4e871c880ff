"""Shared fixtures. Tests run against the real PostGIS and Redis (ARCHITECTURE §8)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


def _shared_dir() -> Path:
    """../shared beside the repository (CI lays it there); GISPORTAL_SHARED_DIR overrides; a clone made
    elsewhere (git clone . /tmp/x) finds it beside the repository it was cloned from."""
    if os.environ.get("GISPORTAL_SHARED_DIR"):
        return Path(os.environ["GISPORTAL_SHARED_DIR"])
    repo = Path(__file__).resolve().parents[1]
    beside = repo.parent / "shared"
    if beside.exists():
        return beside
    try:
        origin = subprocess.run(
            ["git", "-C", str(repo), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        origin = ""
    if origin and "://" not in origin and (Path(origin).resolve().parent / "shared").exists():
        return Path(origin).resolve().parent / "shared"
    return beside


SHARED_DATA = _shared_dir() / "data"

DEMO_PARCELS = 2000
DEMO_SEED = 7


@pytest.fixture(scope="session")
def demo_data(django_db_setup, django_db_blocker):
    """A small synthetic data set loaded once into the test database (committed)."""
    from layers.demo.loader import load_demo

    with django_db_blocker.unblock():
        counts = load_demo(DEMO_PARCELS, DEMO_SEED, replace=True)
    return counts


@pytest.fixture
def make_user(db):
    from gisportal.core.models import User

    def make(username: str, role: str = "citizen", **extra):
        if role == "surveyor":
            extra.setdefault("licence_no", "99999")
        user = User.objects.create_user(
            username=username, email=f"{username}@example.pl", password="x-Secret-2026!", role=role, **extra
        )
        return user

    return make


@pytest.fixture(scope="session")
def live_url(demo_data, django_db_blocker):
    """A real HTTP server (threaded WSGI) on loopback serving the app on the test database, for
    OWSLib and GDAL. It sees committed data only: the session's demo data."""
    import threading
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from django.conf import settings

    from gisportal.wsgi import application as app  # what gunicorn serves, the tile fast path included

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    class Unblocked:
        """The response body read and closed with database access allowed too: streamed WFS answers
        query as they are read, and closing the response ends the request's connection."""

        def __init__(self, body):
            self.body = body

        def __iter__(self):
            chunks = iter(self.body)
            while True:
                with django_db_blocker.unblock():
                    chunk = next(chunks, None)
                if chunk is None:
                    return
                yield chunk

        def close(self):
            with django_db_blocker.unblock():
                if hasattr(self.body, "close"):
                    self.body.close()

    def guarded(environ, start_response):
        # a thread per request (ThreadingMixIn), though wsgiref says wsgi.multithread=False: the tile fast
        # path (ogc/tiles/wsgi.py) must not keep a pooled connection per thread, threads here do not live on
        environ["wsgi.multithread"] = True
        with django_db_blocker.unblock():
            return Unblocked(app(environ, start_response))

    httpd = make_server("127.0.0.1", 0, guarded, server_class=Server, handler_class=QuietHandler)
    url = f"http://127.0.0.1:{httpd.server_port}"
    old = settings.GISPORTAL_PUBLIC_URL, settings.GISPORTAL_INTERNAL_URL
    settings.GISPORTAL_PUBLIC_URL = settings.GISPORTAL_INTERNAL_URL = url
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield url
    httpd.shutdown()
    settings.GISPORTAL_PUBLIC_URL, settings.GISPORTAL_INTERNAL_URL = old


@pytest.fixture(scope="session")
def ogc_schemas(tmp_path_factory):
    """An lxml parser that resolves http://schemas.opengis.net/ (and the W3C schemas) to ../shared, and the
    INSPIRE schemas too: https://inspire.ec.europa.eu/schemas/… and, inside them, their imports laid out for
    that site ("../../schemas/au/4.0/…", "../../schemas/ogc/gml/3.2.1/gml.xsd", "../../schemas/iso/…")
    become ../shared/data/ogc-schemas/inspire/au/4.0/…, gml/3.2.1/…, iso/…; the ISO schemas at
    standards.iso.org (srv.xsd imports gmd, gco from there) become the iso/19139/20070417 copies. The 2D
    profile of Buildings (bu-core2d/4.0), not among the local copies, is the official schema kept in
    tests/ogc/test_inspire_ad_bu.py."""
    from lxml import etree

    root = SHARED_DATA / "ogc-schemas"
    inspire = root / "inspire"
    # where "../../schemas/x" lands when read from inspire/<theme>/<version>/ (and from one level higher)
    misplaced = tuple(
        str(base) + "/"
        for where in (inspire / "schemas", root / "schemas")
        for base in dict.fromkeys((where, where.resolve()))
    )
    iso = "http://standards.iso.org/ittf/PubliclyAvailableStandards/ISO_19139_Schemas/"
    core2d_dir = tmp_path_factory.mktemp("bu-core2d")

    def core2d() -> Path:
        path = core2d_dir / "BuildingsCore2D.xsd"
        if not path.exists():
            from .ogc.test_inspire_ad_bu import BU_CORE2D_XSD

            path.write_text(BU_CORE2D_XSD)
        return path

    def inspire_path(tail: str) -> Path:
        if tail.startswith("ogc/"):
            return root / tail[len("ogc/") :]
        if tail.startswith("iso/"):
            return root / tail
        if tail.startswith("bu-core2d/") and not (inspire / tail).exists():
            return core2d()
        return inspire / tail

    class Resolver(etree.Resolver):
        def resolve(self, url, pubid, context):
            path = None
            for prefix in ("http://schemas.opengis.net/", "https://schemas.opengis.net/"):
                if url.startswith(prefix):
                    path = root / url[len(prefix) :]
            for prefix in ("http://inspire.ec.europa.eu/schemas/", "https://inspire.ec.europa.eu/schemas/"):
                if url.startswith(prefix):
                    path = inspire_path(url[len(prefix) :])
            for prefix in (iso, iso.replace("http:", "https:")):
                if url.startswith(prefix):
                    path = root / "iso" / "19139" / "20070417" / url[len(prefix) :]
            local = url.removeprefix("file://")
            for prefix in misplaced:
                if local.startswith(prefix):
                    path = inspire_path(local[len(prefix) :])
            if url.endswith("xlink.xsd"):
                path = root / "w3c" / "xlink.xsd"
            elif url.endswith("/xml.xsd"):
                path = root / "w3c" / "xml.xsd"
            if path is None:
                return None
            return self.resolve_filename(str(path.resolve()), context)

    def schema(relative: str):
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        parser.resolvers.add(Resolver())
        return etree.XMLSchema(etree.parse(str(root / relative), parser))

    return schema


@pytest.fixture(scope="session", autouse=True)
def _close_foreign_connections(django_db_setup, django_db_blocker):
    """Mapnik keeps pooled connections to the test database; end them before it is dropped."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="session", autouse=True)
def _private_state_dirs(tmp_path_factory):
    """Seals (receipt keys) and uploaded files of the tests go to a temporary folder, never var/.
    The tests seal with generated throw-away keys (GISPORTAL_SEAL_GENERATE is off by default;
    pytest-django has read the settings before this file, so it is turned on here)."""
    from django.conf import settings

    old = (
        settings.GISPORTAL_SEAL_DIR,
        settings.MEDIA_ROOT,
        settings.GISPORTAL_SEAL_GENERATE,
        settings.GISPORTAL_TRUST_DIR,
    )
    settings.GISPORTAL_SEAL_DIR = tmp_path_factory.mktemp("seals")
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    settings.GISPORTAL_SEAL_GENERATE = True
    settings.GISPORTAL_TRUST_DIR = tmp_path_factory.mktemp("trust")  # signature verification: empty
    yield
    (
        settings.GISPORTAL_SEAL_DIR,
        settings.MEDIA_ROOT,
        settings.GISPORTAL_SEAL_GENERATE,
        settings.GISPORTAL_TRUST_DIR,
    ) = old


@pytest.fixture(scope="session", autouse=True)
def _private_cache_keys():
    """Redis outlives a test run: a key prefix of this session keeps throttles and counters of earlier
    runs (and of a running demo) out of the tests."""
    import copy
    import uuid

    from django.conf import settings
    from django.test import override_settings

    caches = copy.deepcopy(settings.CACHES)
    for conf in caches.values():
        conf["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(autouse=True)
def _fresh_data_version():
    """Each test reads the data version from the database, not from what this process saw a moment ago."""
    from layers import selectors

    selectors._seen_version.clear()
    yield


@pytest.fixture(autouse=True)
def _sandbox_notifications_stay_here(monkeypatch):
    """The sandbox gateway repeats its notification through a Celery task; in tests it is recorded, never
    published to the real broker (a demo's worker would otherwise pick test notifications up later).
    The fixture's value lists the (body, signature) pairs; tests deliver them themselves when they need to."""
    from services.payments import tasks

    sent: list[tuple] = []
    monkeypatch.setattr(tasks.sandbox_notify, "apply_async", lambda args, **kw: sent.append(tuple(args)))
    return sent


@pytest.fixture(autouse=True)
def document_jobs_queued(monkeypatch):
    """Document jobs are queued to Celery after the commit; in tests they are recorded instead (never
    published to the real broker), and a test runs them with services.documents.actions.job_run."""
    from services.documents import actions

    queued: list[str] = []
    monkeypatch.setattr(actions, "_enqueue", lambda job_id: queued.append(str(job_id)))
    return queued


@pytest.fixture(autouse=True)
def deliveries_queued(monkeypatch):
    """e-Doręczenia sends are queued to Celery after the commit; in tests they are recorded instead (never
    published to the real broker), and a test sends them with services.delivery.actions.delivery_send."""
    from services.delivery import actions

    queued: list[str] = []
    monkeypatch.setattr(actions, "_enqueue", lambda delivery_id: queued.append(str(delivery_id)))
    return queued


@pytest.fixture(autouse=True)
def envelopes_queued(monkeypatch):
    """Outgoing envelopes are sent by Celery after the commit; in tests they are recorded instead, and a test
    sends them with services.exchange.actions.outbox_deliver."""
    from services.exchange import actions

    queued: list[int] = []
    monkeypatch.setattr(actions, "_enqueue", lambda pk: queued.append(pk))
    return queued


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright, one for the whole run: the browser tests in tests/e2e/ and the
    few elsewhere (a second sync_playwright() in the same run finds the first one's event loop running)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.helpers import ARTIFACTS, CHROMIUM

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the ORM is used beside Playwright's event loop
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()
