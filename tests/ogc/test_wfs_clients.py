"""Real WFS clients against a real HTTP server (tests/conftest.py: live_url): OWSLib's
WebFeatureService 2.0.0 and 1.1.0, and GDAL's WFS driver through ogrinfo / ogr2ogr."""

from __future__ import annotations

import json
import subprocess

import pytest
from owslib.fes2 import PropertyIsEqualTo
from owslib.wfs import WebFeatureService
from pyproj import Transformer

from layers.models import Parcel, Precinct

from .helpers import gdal_client_env
from .test_wfs import parcel  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("version", ["2.0.0", "1.1.0"])
def test_owslib_contents(live_url, version):
    wfs = WebFeatureService(f"{live_url}/ows", version=version, timeout=60)
    assert {"gisportal:dzialki", "gisportal:budynki", "gisportal:adresy", "gisportal:obreby"} <= set(
        wfs.contents
    )
    assert {op.name for op in wfs.operations} >= {"GetCapabilities", "DescribeFeatureType", "GetFeature"}
    schema = wfs.get_schema("gisportal:dzialki")
    assert "ID_DZIALKI" in schema["properties"]


@pytest.mark.parametrize("version", ["2.0.0", "1.1.0"])
def test_owslib_getfeature_by_bbox_urn_and_4326(live_url, parcel, version):  # noqa: F811
    wfs = WebFeatureService(f"{live_url}/ows", version=version, timeout=60)
    x, y = parcel["x"], parcel["y"]
    # OWSLib swaps a URN-form box to N,E itself (OGC.md §4): callers give E,N
    r = wfs.getfeature(
        typename=["gisportal:dzialki"],
        bbox=(x - 1, y - 1, x + 1, y + 1, "urn:ogc:def:crs:EPSG::2180"),
        srsname="urn:ogc:def:crs:EPSG::2180",
        outputFormat="application/json",
    )
    ids = [f["properties"]["ID_DZIALKI"] for f in json.loads(r.read())["features"]]
    assert parcel["id"] in ids
    lon, lat = Transformer.from_crs(2180, 4326, always_xy=True).transform(x, y)
    d = 0.00001
    r = wfs.getfeature(
        typename=["gisportal:dzialki"],
        bbox=(lon - d, lat - d, lon + d, lat + d, "EPSG:4326"),
        outputFormat="application/json",
    )
    assert parcel["id"] in [f["properties"]["ID_DZIALKI"] for f in json.loads(r.read())["features"]]


def test_owslib_filter_and_stored_queries(live_url, parcel):  # noqa: F811
    from owslib.etree import etree
    from owslib.fes2 import Filter

    wfs = WebFeatureService(f"{live_url}/ows", version="2.0.0", timeout=60)
    f = etree.tostring(
        Filter(PropertyIsEqualTo(propertyname="ID_DZIALKI", literal=parcel["id"])).toXML()
    ).decode()
    r = wfs.getfeature(typename=["gisportal:dzialki"], filter=f, outputFormat="application/json")
    assert [x["properties"]["ID_DZIALKI"] for x in json.loads(r.read())["features"]] == [parcel["id"]]
    ids = {q.id for q in wfs.storedqueries}
    assert "urn:ogc:def:query:OGC-WFS::GetFeatureById" in ids
    r = wfs.getfeature(
        storedQueryID="urn:gisportal:query:GetParcelById", storedQueryParams={"ID": parcel["id"]}
    )
    assert parcel["id"].encode() in r.read()


def test_owslib_paging(live_url):
    wfs = WebFeatureService(f"{live_url}/ows", version="2.0.0", timeout=60)
    seen = []
    for start in range(0, 1000, 100):
        r = wfs.getfeature(
            typename=["gisportal:obreby"],
            maxfeatures=10,
            startindex=start // 10,
            outputFormat="application/json",
            sortby=["ID_OBREBU"],
        )
        feats = json.loads(r.read())["features"]
        if not feats:
            break
        seen += [f["id"] for f in feats]
    assert len(seen) == len(set(seen)) == Precinct.objects.current().count()


def _gdal(*args: str) -> subprocess.CompletedProcess:
    env = gdal_client_env(OGR_WFS_PAGE_SIZE="100", CPL_DEBUG="ON", GDAL_HTTP_TIMEOUT="60")
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)


def test_gdal_count_via_hits(live_url):
    r = _gdal("ogrinfo", "-ro", "-so", f"WFS:{live_url}/ows?SERVICE=WFS&VERSION=2.0.0", "gisportal:dzialki")
    assert r.returncode == 0, r.stderr[-2000:]
    count = int(
        next(line for line in r.stdout.splitlines() if line.startswith("Feature Count:")).split(":")[1]
    )
    assert count == Parcel.objects.current().count()
    assert "RESULTTYPE=hits" in r.stderr.replace("resulttype", "RESULTTYPE")


def test_gdal_attribute_filter_pushed_to_server(live_url, parcel):  # noqa: F811
    r = _gdal(
        "ogrinfo",
        "-ro",
        "-q",
        f"WFS:{live_url}/ows?SERVICE=WFS&VERSION=2.0.0",
        "gisportal:dzialki",
        "-where",
        f"ID_DZIALKI = '{parcel['id']}'",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count("ID_DZIALKI (String) = ") == 1 and parcel["id"] in r.stdout
    assert "FILTER=" in r.stderr  # GDAL sent the filter as FES instead of filtering client-side


def test_gdal_pages_through_every_parcel_once(live_url, tmp_path):
    out = tmp_path / "dzialki.geojson"
    r = _gdal(
        "ogr2ogr",
        "-f",
        "GeoJSON",
        str(out),
        f"WFS:{live_url}/ows?SERVICE=WFS&VERSION=2.0.0",
        "gisportal:dzialki",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    feats = json.loads(out.read_text())["features"]
    ids = [f["properties"]["ID_DZIALKI"] for f in feats]
    assert len(ids) == len(set(ids)) == Parcel.objects.current().count()
    assert "STARTINDEX=100" in r.stderr.upper()  # paged, not one big request
