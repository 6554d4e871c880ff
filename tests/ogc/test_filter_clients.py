"""Spatial filters as real clients send them (issue 19), against the live server (tests/conftest.py:
live_url): OWSLib's fes.BBox over WFS 1.1.0 and fes2.BBox (alone and in an And) over WFS 2.0, GDAL's
WFS driver with `-spat` over 1.1.0 (a GML 2 gml:Box) and 2.0 (a GML 3.2 Envelope). Each must find
exactly the features of a KVP `BBOX=…,EPSG:2180` request with the same box: count (RESULTTYPE=hits)
and ids."""

from __future__ import annotations

import json
import subprocess
import urllib.parse
import urllib.request

import pytest
from django.contrib.gis.geos import Polygon
from owslib import fes, fes2
from owslib.etree import etree
from owslib.wfs import WebFeatureService

from layers.models import Parcel

from .helpers import gdal_client_env

pytestmark = pytest.mark.django_db

TYPENAME = "gisportal:dzialki"
MARGIN = 60.0  # metres around a parcel's extent


@pytest.fixture(scope="module")
def box(demo_data, django_db_blocker) -> dict:
    """A box (E,N in EPSG:2180) around a parcel that also holds parcels of another precinct, so that
    an And of the box and a precinct name is narrower than the box."""
    with django_db_blocker.unblock():
        current = Parcel.objects.current()
        for p in (
            current.filter(precinct__unit__unit_id="141804_4")
            .select_related("precinct")
            .order_by("parcel_id")[:400]
        ):
            e1, n1, e2, n2 = p.geom.extent
            e1, n1, e2, n2 = e1 - MARGIN, n1 - MARGIN, e2 + MARGIN, n2 + MARGIN
            inside = current.filter(geom__intersects=Polygon.from_bbox((e1, n1, e2, n2)))
            if inside.values("precinct").distinct().count() > 1:
                return {"e1": e1, "n1": n1, "e2": e2, "n2": n2, "precinct": p.precinct.name}
    pytest.fail("no parcel near a precinct boundary in the demo data")


def _get(url: str, **params: str) -> bytes:
    with urllib.request.urlopen(f"{url}/ows?{urllib.parse.urlencode(params)}", timeout=60) as r:  # noqa: S310 - loopback test server
        return r.read()


@pytest.fixture(scope="module")
def reference(live_url, box) -> dict:
    """What the server answers for the box as a KVP BBOX: numberMatched of hits, and the features."""
    kvp = f"{box['e1']!r},{box['n1']!r},{box['e2']!r},{box['n2']!r},EPSG:2180"
    common = {
        "SERVICE": "WFS",
        "VERSION": "2.0.0",
        "REQUEST": "GetFeature",
        "TYPENAMES": TYPENAME,
        "BBOX": kvp,
    }
    hits = etree.fromstring(_get(live_url, **common, RESULTTYPE="hits"))
    feats = json.loads(_get(live_url, **common, OUTPUTFORMAT="application/json"))["features"]
    ids = {f["properties"]["ID_DZIALKI"] for f in feats}
    in_precinct = {
        f["properties"]["ID_DZIALKI"] for f in feats if f["properties"]["NAZWA_OBREBU"] == box["precinct"]
    }
    assert int(hits.get("numberMatched")) == len(ids) > 2
    assert 0 < len(in_precinct) < len(ids)
    return {"count": len(ids), "ids": ids, "in_precinct": in_precinct}


def _ids(response) -> set[str]:
    return {f["properties"]["ID_DZIALKI"] for f in json.loads(response.read())["features"]}


def _filter11(*predicates) -> str:
    root = etree.Element("{http://www.opengis.net/ogc}Filter", nsmap={"ogc": "http://www.opengis.net/ogc"})
    for p in predicates:
        root.append(p.toXML())
    return etree.tostring(root).decode()


# ------------------------------------------------------------------------------------ OWSLib
def test_owslib_wfs11_fes_bbox(live_url, box, reference):
    wfs = WebFeatureService(f"{live_url}/ows", version="1.1.0", timeout=60)
    e1, n1, e2, n2 = box["e1"], box["n1"], box["e2"], box["n2"]
    # OWSLib writes the numbers as given: no srsName is the DefaultCRS (N,E), EPSG:2180 is E,N (OGC.md §2)
    for bbox in (
        fes.BBox([n1, e1, n2, e2]),
        fes.BBox([e1, n1, e2, n2], crs="EPSG:2180"),
        fes.BBox([n1, e1, n2, e2], crs="urn:ogc:def:crs:EPSG::2180"),
    ):
        r = wfs.getfeature(typename=[TYPENAME], filter=_filter11(bbox), outputFormat="application/json")
        assert _ids(r) == reference["ids"]
    both = fes.And([fes.BBox([n1, e1, n2, e2]), fes.PropertyIsEqualTo("NAZWA_OBREBU", box["precinct"])])
    r = wfs.getfeature(typename=[TYPENAME], filter=_filter11(both), outputFormat="application/json")
    assert _ids(r) == reference["in_precinct"]


def test_owslib_wfs20_fes2_bbox_and_and(live_url, box, reference):
    wfs = WebFeatureService(f"{live_url}/ows", version="2.0.0", timeout=60)
    e1, n1, e2, n2 = box["e1"], box["n1"], box["e2"], box["n2"]
    for bbox in (
        fes2.BBox([n1, e1, n2, e2], crs="urn:ogc:def:crs:EPSG::2180"),
        fes2.BBox([e1, n1, e2, n2], crs="EPSG:2180"),
        fes2.BBox([n1, e1, n2, e2]),
    ):
        f = etree.tostring(fes2.Filter(bbox).toXML()).decode()
        assert (
            _ids(wfs.getfeature(typename=[TYPENAME], filter=f, outputFormat="application/json"))
            == reference["ids"]
        )
    both = fes2.Filter(
        fes2.And(
            [
                fes2.BBox([n1, e1, n2, e2], crs="urn:ogc:def:crs:EPSG::2180"),
                fes2.PropertyIsEqualTo("NAZWA_OBREBU", box["precinct"]),
            ]
        )
    )
    f = etree.tostring(both.toXML()).decode()
    assert (
        _ids(wfs.getfeature(typename=[TYPENAME], filter=f, outputFormat="application/json"))
        == reference["in_precinct"]
    )


# -------------------------------------------------------------------------------------- GDAL
def _gdal(*args: str) -> subprocess.CompletedProcess:
    env = gdal_client_env(CPL_DEBUG="ON", GDAL_HTTP_TIMEOUT="60")
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)


def _spat(box: dict) -> list[str]:
    return [
        "-spat",
        *(repr(box[k]) for k in ("e1", "n1", "e2", "n2")),
    ]  # GDAL shows 2180 east first (OGC.md §2)


# what GDAL sends for -spat: WFS 1.1.0 a GML 2 Box (Filter 1.1 names only gml:Envelope), 2.0 a GML 3.2 Envelope
SENT = {"1.1.0": "<gml:Box><gml:coordinates>", "2.0.0": "<gml:Envelope><gml:lowerCorner>"}


@pytest.mark.parametrize("version", ["1.1.0", "2.0.0"])
def test_gdal_spat_count(live_url, box, reference, version):
    r = _gdal(
        "ogrinfo", "-ro", "-so", *_spat(box), f"WFS:{live_url}/ows?SERVICE=WFS&VERSION={version}", TYPENAME
    )
    assert r.returncode == 0, r.stderr[-2000:]
    sent = urllib.parse.unquote(r.stderr)
    assert SENT[version] in sent and "RESULTTYPE=hits" in sent and "HTTP error" not in sent, sent[-2000:]
    count = int(
        next(line for line in r.stdout.splitlines() if line.startswith("Feature Count:")).split(":")[1]
    )
    assert count == reference["count"]


@pytest.mark.parametrize("version", ["1.1.0", "2.0.0"])
def test_gdal_spat_features(live_url, box, reference, version, tmp_path):
    out = tmp_path / "spat.geojson"
    r = _gdal(
        "ogr2ogr",
        "-f",
        "GeoJSON",
        str(out),
        *_spat(box),
        f"WFS:{live_url}/ows?SERVICE=WFS&VERSION={version}",
        TYPENAME,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    sent = urllib.parse.unquote(r.stderr)
    assert SENT[version] in sent and "HTTP error" not in sent, sent[-2000:]
    ids = [f["properties"]["ID_DZIALKI"] for f in json.loads(out.read_text())["features"]]
    assert len(ids) == len(set(ids)) and set(ids) == reference["ids"]
