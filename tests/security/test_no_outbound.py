"""No request makes the server connect anywhere: URLs, external entities, XIncludes and schema locations
placed in WMS, WFS and OGC API requests are never followed (a canary listener counts connections)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .canary import Canary

pytestmark = pytest.mark.django_db
BBOX = "455000,636000,456000,637000"


@pytest.fixture
def canary():
    c = Canary()
    yield c
    c.close()


def _entity(url: str, body: str) -> str:
    return f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "{url}/e">]>{body}'


def _requests(url: str) -> list[tuple[str, str, str | None]]:
    fes = (
        '<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:xi="http://www.w3.org/2001/XInclude">'
        f'<xi:include href="{url}/x"/></fes:Filter>'
    )
    sld = (
        '<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" xmlns:xlink="http://www.w3.org/1999/xlink">'
        f"<NamedLayer><Name>dzialki</Name><UserStyle><FeatureTypeStyle><Rule><PointSymbolizer><Graphic><ExternalGraphic>"
        f'<OnlineResource xlink:href="{url}/g.png"/><Format>image/png</Format></ExternalGraphic></Graphic></PointSymbolizer>'
        "</Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>"
    )
    entity_filter = '<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0">&e;</fes:Filter>'
    ref = '{"$ref": "' + url + '/f.json"}'
    getmap = f"/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=dzialki&STYLES=&CRS=EPSG:2180&BBOX={BBOX}&WIDTH=64&HEIGHT=64&FORMAT=image/png"
    wfs = "/ows?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gisportal:dzialki&COUNT=1"
    post = (
        '<wfs:GetFeature service="WFS" version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="http://www.opengis.net/wfs/2.0 {url}/wfs.xsd">'
        '<wfs:Query typeNames="gisportal:dzialki"/></wfs:GetFeature>'
    )
    return [
        ("get", f"{getmap}&SLD={quote(url + '/s.sld')}", None),
        ("get", f"{getmap}&SLD_BODY={quote(sld)}", None),
        ("get", getmap.replace("EPSG:2180", quote(f"{url}/def/crs/EPSG/0/2180")), None),
        (
            "get",
            f"/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=dzialki&FORMAT=image/png&SLD={quote(url)}",
            None,
        ),
        ("get", f"{wfs}&FILTER={quote(_entity(url, entity_filter))}", None),
        ("get", f"{wfs}&FILTER={quote(fes)}", None),
        ("get", f"{wfs}&SRSNAME={quote(url + '/def/crs/EPSG/0/4326')}", None),
        ("post", "/ows", post),
        ("post", "/ows", _entity(url, post.replace("<wfs:Query", "&e;<wfs:Query"))),
        ("get", f"/ogcapi/collections/dzialki/items?limit=1&crs={quote(url + '/def/crs/EPSG/0/2180')}", None),
        (
            "get",
            f"/ogcapi/collections/dzialki/items?limit=1&bbox=0,0,1,1&bbox-crs={quote(url + '/crs')}",
            None,
        ),
        (
            "get",
            f"/ogcapi/collections/dzialki/items?limit=1&filter=S_INTERSECTS(geometry,BBOX(0,0,1,1))&filter-crs={quote(url)}",
            None,
        ),
        ("get", f"/ogcapi/collections/dzialki/items?limit=1&filter-lang=cql2-json&filter={quote(ref)}", None),
        ("get", f"/ogcapi/collections/dzialki/items?f=html&limit=1&filter={quote(url)}", None),
    ]


def test_no_ogc_request_makes_the_server_connect_anywhere(client, demo_data, canary):
    for method, path, body in _requests(canary.url):
        if method == "get":
            r = client.get(path)
        else:
            r = client.post(path, body, content_type="application/xml")
        assert r.status_code < 500, (path[:200], r.status_code)
    assert canary.hits == 0
