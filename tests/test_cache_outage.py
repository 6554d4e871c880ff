"""Degrade, don't fail (issue 29): with Redis unreachable the cache answers as an empty one
(gisportal/cache.py), so the OGC services, the API and the pages are answered from the database, never with a
500; the outage is logged once; a data version bump made during it is made when Redis returns."""

from __future__ import annotations

import logging
import socket
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from gisportal.cache import ResilientRedisCache
from layers import selectors
from layers.models import Parcel

pytestmark = pytest.mark.django_db


def _dead_url() -> str:
    """A Redis URL where nothing listens (a port just freed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"redis://127.0.0.1:{port}/1"


def _backend(url: str) -> ResilientRedisCache:
    return ResilientRedisCache(url, {"KEY_PREFIX": f"outage-{settings.CACHES['default']['KEY_PREFIX']}"})


@pytest.fixture
def dead_cache():
    dead = {**settings.CACHES["default"], "LOCATION": _dead_url()}
    with override_settings(CACHES={"default": dead}):
        selectors._seen_version.clear()
        yield cache
    selectors._seen_version.clear()


def test_an_unreachable_cache_answers_as_an_empty_one():
    c = _backend(_dead_url())
    assert c.get("k", "fallback") == "fallback"
    assert c.add("k", 1) is False and c.set("k", 1) is None and c.get_many(["a", "b"]) == {}
    assert c.has_key("k") is False and c.delete("k") is False and c.touch("k") is False
    with pytest.raises(ValueError):
        c.incr("k")
    assert c.get_or_set("k", 7) == 7
    assert c.unavailable


def test_the_outage_is_logged_once_and_its_end_once(caplog):
    c = _backend(_dead_url())
    with caplog.at_level(logging.WARNING, logger="gisportal.cache"):
        for _ in range(20):
            c.get("k")
        # Redis comes back: the same backend, now pointed at the live server, after the retry pause
        c._servers = [settings.CACHES["default"]["LOCATION"]]
        del c._cache
        c.get("k")  # inside the pause: not tried yet
        assert c.unavailable
        c._down_until = 0.0
        c.set("k", 5)
        assert not c.unavailable and c.get("k") == 5
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "unreachable" in errors[0].getMessage()
    assert sum("reachable again" in r.getMessage() for r in caplog.records) == 1
    c.delete("k")


def test_an_import_during_the_outage_changes_the_data_version(dead_cache):
    """The data version is in the database: a bump while Redis is away is seen at once, and what Redis
    cached before the outage is keyed on the old version when it returns."""
    before = selectors.data_version()
    selectors.data_version_bump()
    after = selectors.data_version()
    assert after > before
    selectors.data_version_bump()
    assert selectors.data_version() > after


def test_services_and_pages_answer_without_the_cache(client, demo_data, dead_cache, caplog):
    p = Parcel.objects.current().order_by("pk").first()
    x0, y0, x1, y1 = p.geom.extent
    urls = [
        "/ows?" + urlencode({"SERVICE": "WMS", "REQUEST": "GetCapabilities"}),
        "/ows?"
        + urlencode(
            {
                "SERVICE": "WMS",
                "VERSION": "1.3.0",
                "REQUEST": "GetMap",
                "LAYERS": "dzialki",
                "STYLES": "",
                "CRS": "EPSG:2180",
                "BBOX": f"{y0},{x0},{y1},{x1}",
                "WIDTH": "256",
                "HEIGHT": "256",
                "FORMAT": "image/png",
            }
        ),
        "/ows?" + urlencode({"SERVICE": "WFS", "REQUEST": "GetCapabilities"}),
        "/ows?"
        + urlencode(
            {
                "SERVICE": "WFS",
                "VERSION": "2.0.0",
                "REQUEST": "GetFeature",
                "TYPENAMES": "gisportal:dzialki",
                "COUNT": "5",
            }
        ),
        "/ows?"
        + urlencode(
            {
                "SERVICE": "WFS",
                "VERSION": "2.0.0",
                "REQUEST": "GetFeature",
                "TYPENAMES": "cp:CadastralParcel",
                "COUNT": "5",
            }
        ),
        "/ogcapi/collections/dzialki/items?limit=5",
        "/ogcapi/collections/dzialki/items?limit=5&f=json",
        "/",
    ]
    with caplog.at_level(logging.ERROR, logger="gisportal.cache"):
        for url in urls:
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code)
            body = b"".join(r.streaming_content) if r.streaming else r.content
            assert body
    assert cache.unavailable
    assert sum("unreachable" in rec.getMessage() for rec in caplog.records) == 1
