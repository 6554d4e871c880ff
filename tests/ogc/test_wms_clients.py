"""Real clients against a real HTTP server: OWSLib's WebMapService 1.3.0 and 1.1.1, and concurrent
GetMaps. The server is the app on the test database (tests/conftest.py: live_url)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.request import urlopen

import pytest
from owslib.wms import WebMapService
from pyproj import Transformer

from .helpers import pixel_of, rgba, size
from .test_wms import FILL, known_parcel  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("version", ["1.3.0", "1.1.1"])
def test_owslib_contents_and_styles(live_url, version):
    wms = WebMapService(f"{live_url}/ows?SERVICE=WMS", version=version, timeout=60)
    assert {"dzialki", "budynki", "numery_dzialek", "obreby", "adresy", "mpzp", "granice"} <= set(
        wms.contents
    )
    assert set(wms["dzialki"].styles) == {"default", "kieg", "wypelnienie"}
    assert "EPSG:2180" in wms["dzialki"].crsOptions
    assert {op.name for op in wms.operations} >= {"GetCapabilities", "GetMap", "GetFeatureInfo"}


@pytest.mark.parametrize("version", ["1.3.0", "1.1.1"])
@pytest.mark.parametrize("crs", ["EPSG:2180", "EPSG:2178", "EPSG:4326", "EPSG:3857"])
def test_owslib_getmap_parcel_on_its_pixel(live_url, known_parcel, version, crs):  # noqa: F811
    """OWSLib takes the box east-first and swaps it itself for north-first CRSs in 1.3.0 (OGC.md §4)."""
    wms = WebMapService(f"{live_url}/ows?SERVICE=WMS", version=version, timeout=60)
    epsg = int(crs.split(":")[1])
    t = Transformer.from_crs(2180, epsg, always_xy=True)
    x, y = t.transform(known_parcel["x"], known_parcel["y"])
    minx, miny, maxx, maxy = t.transform_bounds(*known_parcel["extent"])
    dx, dy = (maxx - minx) * 2, (maxy - miny) * 2
    box = (minx - dx, miny - dy, maxx + dx, maxy + dy)
    img = wms.getmap(
        layers=["dzialki"], styles=["wypelnienie"], srs=crs, bbox=box, size=(300, 300), format="image/png"
    )
    data = img.read()
    assert size(data) == (300, 300)
    col, row = pixel_of(x, y, box, 300, 300)
    assert rgba(data, col, row)[:3] == FILL
    info = wms.getfeatureinfo(
        layers=["dzialki"],
        srs=crs,
        bbox=box,
        size=(300, 300),
        format="image/png",
        query_layers=["dzialki"],
        info_format="application/json",
        xy=(col, row),
    )
    import json

    assert json.loads(info.read())["features"][0]["properties"]["ID_DZIALKI"] == known_parcel["id"]


def test_concurrent_getmaps(live_url, demo_data):
    urls = [
        f"{live_url}/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=dzialki,budynki,numery_dzialek&STYLES="
        f"&CRS=EPSG:2180&BBOX={469000 + 200 * i},{638000 + 150 * i},{469400 + 200 * i},{638400 + 150 * i}"
        f"&WIDTH=512&HEIGHT=512&FORMAT=image/png"
        for i in range(12)
    ]

    def fetch(url):
        with urlopen(url, timeout=60) as r:  # noqa: S310 - loopback test server
            return r.status, r.headers["Content-Type"], r.read()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(fetch, urls))
    assert all(
        status == 200 and mime == "image/png" and size(body) == (512, 512) for status, mime, body in results
    )
