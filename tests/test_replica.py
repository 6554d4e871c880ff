"""Read replicas (gisportal/core/replica.py, issue 29): read-only OGC and search traffic goes to the replica,
a client that has just written reads from the primary, and a replica that does not answer sends the reads
to the primary without an error.

The replica here is a second connection (a test mirror) to the test database: it sees the committed demo
data, not a test's own uncommitted rows; docker/ runs a real streaming replica (make docker-test)."""

from __future__ import annotations

import logging
import socket
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext

from gisportal.core import replica
from layers.models import Parcel

# the alias exists for the whole session as a test mirror of the default database (Django points it at the
# test database); the router uses it only while GISPORTAL_READ_REPLICA is on (`with_replica`)
connections.settings.setdefault(
    replica.REPLICA,
    {
        **{k: v for k, v in connections.settings["default"].items() if k != "OPTIONS"},
        "OPTIONS": {k: v for k, v in connections.settings["default"]["OPTIONS"].items() if k != "pool"},
        "TEST": {"MIRROR": "default"},
    },
)
pytestmark = pytest.mark.django_db(databases=["default", replica.REPLICA])
WFS = "/ows?" + urlencode(
    {
        "SERVICE": "WFS",
        "VERSION": "2.0.0",
        "REQUEST": "GetFeature",
        "TYPENAMES": "gisportal:dzialki",
        "COUNT": "3",
    }
)
ITEMS = "/ogcapi/collections/dzialki/items?limit=3&f=json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def with_replica(monkeypatch):
    """Turns the `replica` alias on for one test: the test database, or a dead port with `dead=True`.
    (In a test, Django lets a mirror share the default database's connection, so it is set aside, never
    closed, while the replica plays dead.)"""
    conn = connections[replica.REPLICA]
    mirrored, shared = conn.settings_dict, conn.connection
    state = (
        "in_atomic_block",
        "savepoint_ids",
        "atomic_blocks",
        "needs_rollback",
        "closed_in_transaction",
        "autocommit",
    )
    kept = {name: getattr(conn, name) for name in state}  # the test's transaction, as Django left it

    def add(dead: bool = False):
        if dead:  # a copy: the mirror shares the default database's settings dict
            conn.connection = None
            conn.settings_dict = {**mirrored, "HOST": "127.0.0.1", "PORT": str(_free_port())}
            conn.settings_dict["OPTIONS"] = {**mirrored.get("OPTIONS", {}), "connect_timeout": 2}
        monkeypatch.setattr(settings, "GISPORTAL_READ_REPLICA", True)
        monkeypatch.setattr(replica, "_state", {"down_until": 0.0, "down": False})
        return conn

    yield add
    conn.settings_dict, conn.connection = mirrored, shared
    for name, value in kept.items():
        setattr(conn, name, value)


def _queries(client, url, alias):
    with CaptureQueriesContext(connections[alias]) as ctx:
        r = client.get(url)
        body = b"".join(r.streaming_content) if r.streaming else r.content
    return r, body, [q["sql"] for q in ctx.captured_queries]


def test_without_a_replica_everything_reads_from_the_primary(client, demo_data):
    assert not replica.configured()
    r, _body, sql = _queries(client, WFS, "default")
    assert r.status_code == 200 and any("layers_parcel" in q for q in sql)


def test_ogc_reads_go_to_the_replica(client, demo_data, with_replica):
    with_replica()
    for url in (WFS, ITEMS):
        r, body, on_replica = _queries(client, url, replica.REPLICA)
        assert r.status_code == 200, body[:300]
        assert any("layers_parcel" in q for q in on_replica), url
    # the same addresses' parcel reads stay off the primary
    with CaptureQueriesContext(connections["default"]) as primary:
        assert client.get(WFS).status_code == 200
    assert not any("layers_parcel" in q["sql"] for q in primary.captured_queries)
    # pages for people (not OGC or search) read from the primary
    p = Parcel.objects.current().order_by("pk").first()
    r, _body, on_replica = _queries(client, "/", replica.REPLICA)
    assert r.status_code == 200 and on_replica == []
    assert p is not None


def test_a_client_that_wrote_reads_from_the_primary(client, demo_data, with_replica):
    with_replica()
    # any unsafe request pins the client to the primary for a moment (its own write is visible at once)
    r = client.post("/ows", data=b"<not-xml", content_type="application/xml")
    assert r.status_code == 400
    assert r.cookies[replica.PIN_COOKIE]["max-age"] == replica.PIN_SECONDS
    r, _body, on_replica = _queries(client, WFS, replica.REPLICA)
    assert r.status_code == 200 and on_replica == []
    # another client (no cookie) still reads from the replica
    client.cookies.pop(replica.PIN_COOKIE)
    r, _body, on_replica = _queries(client, WFS, replica.REPLICA)
    assert r.status_code == 200 and on_replica


def test_a_replica_that_does_not_answer_sends_reads_to_the_primary(client, demo_data, with_replica, caplog):
    with_replica(dead=True)
    with caplog.at_level(logging.WARNING, logger="gisportal.replica"):
        for url in (WFS, ITEMS, WFS):
            r = client.get(url)
            assert r.status_code == 200, url
    errors = [rec for rec in caplog.records if rec.levelno == logging.ERROR]
    assert len(errors) == 1 and "does not answer" in errors[0].getMessage()


def test_the_router_never_writes_or_migrates_on_the_replica():
    router = replica.ReplicaRouter()
    assert router.db_for_write(Parcel) == "default"
    assert router.allow_migrate("replica", "layers") is False and router.allow_migrate("default", "layers")
    from django.contrib.sessions.models import Session

    with replica.reads_from_replica(True):
        assert router.db_for_read(Session) == "default"  # sessions are read where they are written


def test_a_citizens_own_pages_read_from_the_primary(client, demo_data, with_replica, make_user):
    """Right after filing, the citizen's list of requests is read where the request was written."""
    with_replica()
    client.force_login(make_user("citizen.replica", "citizen"))
    for url in ("/moje-sprawy/", "/konto/"):
        r, _body, on_replica = _queries(client, url, replica.REPLICA)
        assert r.status_code == 200 and on_replica == [], url


def test_tiles_past_django_read_from_the_replica(demo_data, with_replica, monkeypatch):
    """The tiles' WSGI front decides as the middleware does: the replica, unless the client is pinned."""
    from ogc.tiles import wsgi as fast

    from .ogc.test_tiles import wsgi

    seen = []
    real = fast.answer

    def recording(*args):
        seen.append(replica.read_alias())
        return real(*args)

    monkeypatch.setattr(fast, "answer", recording)
    path = "/ogcapi/collections/dzialki/tiles/WebMercatorQuad/16/21645/36590"
    assert wsgi(path)[0] in (200, 204) and seen == ["default"]  # no replica configured
    with_replica()
    assert wsgi(path)[0] in (200, 204) and seen[-1] == replica.REPLICA
    assert wsgi(path, HTTP_COOKIE=f"{replica.PIN_COOKIE}=1")[0] in (200, 204) and seen[-1] == "default"


def test_wms_maps_read_from_the_replica(client, demo_data, with_replica):
    """Mapnik's maps are built per database: a GetMap eligible for the replica draws from it."""
    from ogc.render import maps

    getmap = "/ows?" + urlencode(
        {
            "SERVICE": "WMS",
            "VERSION": "1.3.0",
            "REQUEST": "GetMap",
            "LAYERS": "dzialki",
            "STYLES": "",
            "CRS": "EPSG:2180",
            "BBOX": "460000,634000,462000,636000",
            "WIDTH": "64",
            "HEIGHT": "64",
            "FORMAT": "image/png",
        }
    )
    with_replica()
    r = client.get(getmap)
    assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
    assert any(key[2] == replica.REPLICA for key in maps._local.maps)
    maps._local.maps.clear()
    client.cookies[replica.PIN_COOKIE] = "1"  # a client that wrote: the primary's map
    assert client.get(getmap).status_code == 200
    assert {key[2] for key in maps._local.maps} == {"default"}
