"""Boxes outside a CRS's area of use (latitude 100..200 in EPSG:4326, 1e8 m in EPSG:3857, a 2180 box
far outside Poland) in every protocol: an OGC exception (WMS: with HTTP 200, GISPORTAL_WMS_EXCEPTION_STATUS's
default; WFS: 400) / problem JSON or an ordinary empty answer, never a 500 (OGC.md §6)."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

GFI = {
    "SERVICE": "WMS",
    "REQUEST": "GetFeatureInfo",
    "LAYERS": "dzialki",
    "QUERY_LAYERS": "dzialki",
    "WIDTH": "100",
    "HEIGHT": "100",
    "INFO_FORMAT": "application/json",
    "STYLES": "",
}
GETMAP = {
    "SERVICE": "WMS",
    "REQUEST": "GetMap",
    "LAYERS": "dzialki",
    "STYLES": "",
    "WIDTH": "64",
    "HEIGHT": "64",
    "FORMAT": "image/png",
}

# (CRS, BBOX) pairs: impossible latitudes, huge metres, far-away but valid places
WMS130_BOXES = [
    ("EPSG:4326", "100,100,200,200"),  # lat 100..200: outside the CRS
    ("EPSG:4326", "-95,10,95,20"),  # lat beyond the poles
    ("EPSG:4326", "10,170,20,200"),  # lon beyond 180
    ("EPSG:4326", "-10,-10,10,10"),  # a real place, far from the data
    ("EPSG:4258", "100,100,200,200"),
    ("CRS:84", "100,100,200,200"),  # lon 100..200, lat 100..200 (CRS:84 is lon,lat)
    ("CRS:84", "170,80,190,95"),
    ("EPSG:3857", "100000000,100000000,200000000,200000000"),  # far beyond the Mercator square
    ("EPSG:3857", "-900000000,-900000000,900000000,900000000"),
    ("EPSG:2180", "100000000,100000000,200000000,200000000"),
    ("EPSG:2180", "-900000000,-900000000,900000000,900000000"),
    ("EPSG:2178", "100000000,100000000,200000000,200000000"),
]
WMS111_BOXES = [
    ("EPSG:4326", "100,100,200,200"),  # 1.1.1 is lon,lat: lon 100..200, lat 100..200
    ("EPSG:4326", "10,95,20,100"),
    ("EPSG:3857", "100000000,100000000,200000000,200000000"),
    ("EPSG:2180", "100000000,100000000,200000000,200000000"),
]
CASES = [("1.3.0", c, b) for c, b in WMS130_BOXES] + [("1.1.1", c, b) for c, b in WMS111_BOXES]


def _quiet_client() -> Client:
    return Client(raise_request_exception=False)


@pytest.fixture
def quiet():
    logging.disable(logging.ERROR)
    yield
    logging.disable(logging.NOTSET)


def _is_ogc_exception(r) -> bool:
    return r["Content-Type"].split(";")[0] in (
        "text/xml",
        "application/vnd.ogc.se_xml",
        "application/xml",
    ) and (b"ServiceException" in r.content or b"ExceptionReport" in r.content)


@pytest.mark.parametrize(("version", "crs", "bbox"), CASES, ids=[f"{v}-{c}-{b}" for v, c, b in CASES])
def test_getfeatureinfo_out_of_area_box_is_an_exception_or_empty(demo_data, quiet, version, crs, bbox):
    ij = {"I": "50", "J": "50"} if version == "1.3.0" else {"X": "50", "Y": "50"}
    crs_key = "CRS" if version == "1.3.0" else "SRS"
    r = _quiet_client().get("/ows", {**GFI, "VERSION": version, crs_key: crs, "BBOX": bbox, **ij})
    assert r.status_code == 200, (r.status_code, r.content[:300])
    if _is_ogc_exception(r):
        assert b"BBOX" in r.content
    else:
        features = json.loads(r.content)["features"]
        if bbox.startswith("-900000000"):  # a box around the whole world: its middle pixel may hit a parcel
            assert isinstance(features, list)
        else:
            assert features == []


def test_the_reported_getfeatureinfo_box_is_an_ogc_exception(demo_data, quiet, settings):
    query = {**GFI, "VERSION": "1.3.0", "CRS": "EPSG:4326", "BBOX": "100,100,200,200", "I": "50", "J": "50"}
    assert (
        _quiet_client().get("/ows", query).status_code == 200
    )  # a WMS exception report: HTTP 200 by default
    settings.GISPORTAL_WMS_EXCEPTION_STATUS = "400"
    r = _quiet_client().get("/ows", query)
    assert r.status_code == 400
    assert _is_ogc_exception(r)
    assert b'code="InvalidParameterValue"' in r.content and b'locator="BBOX"' in r.content


@pytest.mark.parametrize(("version", "crs", "bbox"), CASES, ids=[f"{v}-{c}-{b}" for v, c, b in CASES])
def test_getmap_out_of_area_box_is_an_exception_or_an_image(demo_data, quiet, version, crs, bbox):
    crs_key = "CRS" if version == "1.3.0" else "SRS"
    r = _quiet_client().get("/ows", {**GETMAP, "VERSION": version, crs_key: crs, "BBOX": bbox})
    assert r.status_code == 200, (r.status_code, r.content[:300])
    assert _is_ogc_exception(r) or r["Content-Type"] == "image/png", r.content[:300]


WFS_BOXES = [
    ("2.0.0", "100,100,200,200,urn:ogc:def:crs:EPSG::4326"),
    ("2.0.0", "100,100,200,200"),  # default CRS (EPSG:2180, N,E)
    ("2.0.0", "100,100,200,200,EPSG:4326"),
    ("2.0.0", "100000000,100000000,200000000,200000000,urn:ogc:def:crs:EPSG::3857"),
    ("2.0.0", "-900000000,-900000000,900000000,900000000,urn:ogc:def:crs:EPSG::2180"),
    ("2.0.0", "1e300,1e300,1e301,1e301,urn:ogc:def:crs:EPSG::2178"),
    ("1.1.0", "100,100,200,200,EPSG:4326"),
    ("1.1.0", "100000000,100000000,200000000,200000000,EPSG:3857"),
]


@pytest.mark.parametrize(("version", "bbox"), WFS_BOXES, ids=[f"{v}-{b}" for v, b in WFS_BOXES])
def test_wfs_out_of_area_bbox_is_400_or_empty(demo_data, quiet, version, bbox):
    names = {"TYPENAMES": "gisportal:dzialki"} if version == "2.0.0" else {"TYPENAME": "gisportal:dzialki"}
    r = _quiet_client().get(
        "/ows",
        {
            "SERVICE": "WFS",
            "VERSION": version,
            "REQUEST": "GetFeature",
            **names,
            "BBOX": bbox,
            "COUNT": "2",
            "MAXFEATURES": "2",
        },
    )
    assert r.status_code in (200, 400), (r.status_code, r.content[:300])
    if r.status_code == 400:
        assert b"ExceptionReport" in r.content
    elif "-900000000" not in bbox:  # the world-sized box holds the data
        assert b'numberReturned="0"' in r.content or b'numberOfFeatures="0"' in r.content, r.content[:400]


OGCAPI_BOXES = [
    ({"bbox": "100,100,200,200"}),  # CRS84: lat 100..200
    ({"bbox": "-200,-100,200,100"}),
    ({"bbox": "1e300,1e300,1e301,1e301"}),
    ({"bbox": "100,100,200,200", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}),
    (
        {
            "bbox": "100000000,100000000,200000000,200000000",
            "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        }
    ),
    (
        {
            "bbox": "-900000000,-900000000,900000000,900000000",
            "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/2180",
        }
    ),
]


@pytest.mark.parametrize("params", OGCAPI_BOXES, ids=[json.dumps(p) for p in OGCAPI_BOXES])
def test_ogcapi_out_of_area_bbox_is_400_or_empty(demo_data, quiet, params):
    r = _quiet_client().get("/ogcapi/collections/dzialki/items", {**params, "limit": "2", "f": "json"})
    assert r.status_code in (200, 400), (r.status_code, r.content[:300])
    body = json.loads(r.content)
    if r.status_code == 200:
        assert isinstance(body["features"], list)
        if "-900000000" not in params["bbox"]:  # the world-sized box holds the data
            assert body["features"] == []
    else:
        assert body.get("code") and body.get("description")
