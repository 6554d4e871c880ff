"""Hostile values in every parameter of the public endpoints never produce a 5xx (OGC.md §6): each
is answered with a 4xx or an ordinary 200 (an empty result is an answer)."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
HOSTILE = [
    "",
    "'",
    "\x00",
    "a\x00b",
    "-1",
    "1e309",
    "nan",
    "99999999999999999999",
    "../..",
    "<x>",
    ",",
    "((",
    "urn:ogc:def:crs:EPSG::",
    "1,2,3,4,5,6,7",
    "x" * 3000,
]
TARGETS = [
    (
        "/ows",
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "TYPENAMES": "gisportal:dzialki",
            "COUNT": "2",
        },
        [
            "COUNT",
            "STARTINDEX",
            "BBOX",
            "SRSNAME",
            "SORTBY",
            "PROPERTYNAME",
            "RESOURCEID",
            "FILTER",
            "OUTPUTFORMAT",
            "RESULTTYPE",
            "TYPENAMES",
            "NAMESPACES",
            "STOREDQUERY_ID",
        ],
    ),
    (
        "/ows",
        {"SERVICE": "WFS", "VERSION": "1.1.0", "REQUEST": "GetFeature", "TYPENAME": "gisportal:obreby"},
        ["MAXFEATURES", "BBOX", "SRSNAME", "FILTER"],
    ),
    (
        "/ows",
        {
            "SERVICE": "WMS",
            "VERSION": "1.3.0",
            "REQUEST": "GetMap",
            "LAYERS": "dzialki",
            "STYLES": "",
            "CRS": "EPSG:2180",
            "BBOX": "469300,638400,469800,639000",
            "WIDTH": "64",
            "HEIGHT": "64",
            "FORMAT": "image/png",
        },
        [
            "LAYERS",
            "STYLES",
            "CRS",
            "BBOX",
            "WIDTH",
            "HEIGHT",
            "FORMAT",
            "TRANSPARENT",
            "BGCOLOR",
            "EXCEPTIONS",
        ],
    ),
    (
        "/ogcapi/collections/dzialki/items",
        {"limit": "2"},
        [
            "bbox",
            "bbox-crs",
            "crs",
            "datetime",
            "limit",
            "offset",
            "properties",
            "sortby",
            "skipGeometry",
            "filter",
            "filter-lang",
            "filter-crs",
            "f",
            "ID_DZIALKI",
            "POLE_EWIDENCYJNE",
        ],
    ),
    ("/api/search", {}, ["q"]),
    ("/api/calendar/deadline", {"start": "2026-01-01", "period": "P1M"}, ["start", "period"]),
    ("/verify/", {}, ["code"]),
    (
        "/api/fees/quote",
        {
            "service": "wypis-wyrys-mpzp",
            "product": "wypis_wyrys",
            "copies": "1",
            "parcels": "141804_4.0001.1",
        },
        ["service", "parcels", "product", "copies", "pages", "parts", "housing_exemption"],
    ),
    (
        "/api/fees/quote",
        {"service": "wypis-wyrys-egib", "variant": "wyrys", "form": "paper", "parcels": "141804_4.0001.1"},
        ["variant", "form", "parcels"],
    ),
]


@pytest.mark.parametrize(
    "path, base, keys", TARGETS, ids=[f"{t[0]}:{t[1].get('REQUEST', '')}" for t in TARGETS]
)
def test_no_5xx_for_hostile_parameters(demo_data, path, base, keys):
    client = Client(raise_request_exception=False)
    logging.disable(logging.ERROR)
    try:
        failures = []
        for key in keys:
            for value in HOSTILE:
                r = client.get(path, {**base, key: value})
                if r.status_code >= 500:
                    failures.append((key, value[:20], r.status_code))
    finally:
        logging.disable(logging.NOTSET)
    assert failures == []


@pytest.mark.parametrize(
    "path",
    [
        "/dzialka/'",
        "/dzialka/141804_4.0001.1/2/3",
        "/verify/'",
        "/ogcapi/collections/'",
        "/ogcapi/collections/dzialki/items/%00",
        "/ogcapi/collections/dzialki/tiles/WebMercatorQuad/99/1/1",
    ],
)
def test_no_5xx_for_hostile_paths(demo_data, path):
    assert Client(raise_request_exception=False).get(path).status_code < 500


def test_nul_in_a_posted_form_is_a_400(demo_data):
    c = Client(raise_request_exception=False)
    assert c.post("/status/", {"reference": "UiA\x00", "access_code": "x"}).status_code == 400
    assert c.get("/api/search", {"q": "ab\x00"}).status_code == 400


@pytest.fixture
def database_times_out(monkeypatch):
    """Every query of the request fails as a statement or lock timeout does (e.g. behind the first
    import into an empty table, which holds its tables until it commits)."""
    from django.db import OperationalError
    from django.db.backends import utils

    def timeout(self, sql, params=None):
        raise OperationalError("canceling statement due to lock timeout")

    monkeypatch.setattr(utils.CursorWrapper, "execute", timeout)
    monkeypatch.setattr(utils.CursorWrapper, "executemany", timeout)


@pytest.mark.parametrize(
    ("path", "params", "content_type", "marker"),
    [
        (
            "/ows",
            {
                "SERVICE": "WFS",
                "VERSION": "2.0.0",
                "REQUEST": "GetFeature",
                "TYPENAMES": "gisportal:dzialki",
                "COUNT": "2",
            },
            "application/xml",
            b'exceptionCode="NoApplicableCode"',
        ),
        (
            "/wms",
            {
                "SERVICE": "WMS",
                "VERSION": "1.3.0",
                "REQUEST": "GetFeatureInfo",
                "LAYERS": "dzialki",
                "QUERY_LAYERS": "dzialki",
                "STYLES": "",
                "CRS": "EPSG:2180",
                "BBOX": "469300,638400,469800,639000",
                "WIDTH": "64",
                "HEIGHT": "64",
                "I": "10",
                "J": "10",
                "INFO_FORMAT": "application/json",
            },
            "text/xml",
            b"ServiceExceptionReport",
        ),
        (
            "/ogcapi/collections/dzialki/items",
            {"limit": "2"},
            "application/problem+json",
            b'"ServiceUnavailable"',
        ),
        ("/api/search", {"q": "141804_4.0001.1"}, "application/problem+json", b'"status": 503'),
        ("/dzialka/141804_4.0001.1", {}, "text/html", "Usługa chwilowo niedostępna".encode()),
    ],
)
def test_a_database_that_does_not_answer_is_a_503_in_the_form_asked_for(
    demo_data, database_times_out, path, params, content_type, marker
):
    client = Client(raise_request_exception=False)
    logging.disable(logging.WARNING)
    try:
        r = client.get(path, params, HTTP_ACCEPT_LANGUAGE="pl")
    finally:
        logging.disable(logging.NOTSET)
    assert r.status_code == 503, (path, r.status_code, r.content[:300])
    assert r["Content-Type"].startswith(content_type)
    assert r["Retry-After"] == "10"
    assert marker in r.content
    assert b"canceling statement" not in r.content and b"Traceback" not in r.content
