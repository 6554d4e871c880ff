"""FES 2.0 minimum XPath (7.4.4) on our own feature types: the capabilities declare ImplementsMinimumXPath
TRUE, so a property may be named `NUMER_DZIALKI`, `gisportal:NUMER_DZIALKI`, `./…`, `…[1]` or through the
feature type (`gisportal:dzialki/gisportal:NUMER_DZIALKI`) in FILTER, SORTBY, PROPERTYNAME and
GetPropertyValue, with the same answer; a path through another type, a later position, an attribute axis, a
descendant step or a deeper path is refused with an exception naming the parameter."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from lxml import etree

from layers.models import Parcel

pytestmark = pytest.mark.django_db
WFS20 = "http://www.opengis.net/wfs/2.0"
GP = "https://gisportal.piaseczno.eu/schemas/gisportal/1.0"
FES = "http://www.opengis.net/fes/2.0"
SAME = (
    "NUMER_DZIALKI",
    "gisportal:NUMER_DZIALKI",
    "./gisportal:NUMER_DZIALKI",
    "gisportal:NUMER_DZIALKI[1]",
    "gisportal:dzialki/gisportal:NUMER_DZIALKI",
    "dzialki/NUMER_DZIALKI",
    "./gisportal:dzialki/gisportal:NUMER_DZIALKI[ 1 ]",
)
REFUSED = (
    "gisportal:obreby/gisportal:NUMER_DZIALKI",  # another feature type
    "gisportal:NUMER_DZIALKI[2]",  # a position our single-valued properties never have
    "gisportal:NUMER_DZIALKI[@x='1']",
    "@gml:id",
    "//gisportal:NUMER_DZIALKI",
    "gisportal:dzialki/gisportal:NUMER_DZIALKI/gisportal:x",
    "string(gisportal:NUMER_DZIALKI)",
)


def get(client, **params):
    r = client.get("/ows?" + urlencode({"SERVICE": "WFS", "VERSION": "2.0.0", **params}))
    body = b"".join(r.streaming_content) if r.streaming else r.content
    return r, body


def equal(path: str, value: str) -> str:
    return (
        f'<fes:Filter xmlns:fes="{FES}" xmlns:gisportal="{GP}"><fes:PropertyIsEqualTo>'
        f"<fes:ValueReference>{path}</fes:ValueReference><fes:Literal>{value}</fes:Literal>"
        "</fes:PropertyIsEqualTo></fes:Filter>"
    )


def ids(body: bytes) -> list[str]:
    return [
        el.get("{http://www.opengis.net/gml/3.2}id")
        for el in etree.fromstring(body).iterfind(f"{{{WFS20}}}member/*")
    ]


def locator(body: bytes) -> str | None:
    return next(etree.fromstring(body).iter("{*}Exception")).get("locator")


def test_capabilities_declare_minimum_xpath(client, demo_data):
    r, body = get(client, REQUEST="GetCapabilities")
    value = etree.fromstring(body).xpath(
        "//fes:Constraint[@name='ImplementsMinimumXPath']/ows:DefaultValue/text()",
        namespaces={"fes": FES, "ows": "http://www.opengis.net/ows/1.1"},
    )
    assert value == ["TRUE"]


def test_filter_paths_name_the_same_property(client, demo_data):
    number = Parcel.objects.current().order_by("pk").first().number
    want = sorted(
        f"dzialki.{pk}" for pk in Parcel.objects.current().filter(number=number).values_list("pk", flat=True)
    )
    assert want
    for path in SAME:
        r, body = get(client, REQUEST="GetFeature", TYPENAMES="gisportal:dzialki", FILTER=equal(path, number))
        assert r.status_code == 200, (path, body[:300])
        assert sorted(ids(body)) == want, path


@pytest.mark.parametrize("path", REFUSED)
def test_filter_paths_outside_the_subset_are_refused(client, demo_data, path):
    r, body = get(client, REQUEST="GetFeature", TYPENAMES="gisportal:dzialki", FILTER=equal(path, "1"))
    assert r.status_code == 400, (path, body[:300])
    assert locator(body) in ("FILTER", "filter"), body[:300]


def test_spatial_filter_through_the_feature_type(client, demo_data):
    p = Parcel.objects.current().order_by("pk").first()
    x0, y0, x1, y1 = p.geom.extent
    envelope = (
        f'<gml:Envelope xmlns:gml="http://www.opengis.net/gml/3.2" srsName="EPSG:2180">'
        f"<gml:lowerCorner>{x0} {y0}</gml:lowerCorner><gml:upperCorner>{x1} {y1}</gml:upperCorner></gml:Envelope>"
    )
    results = []
    for path in ("geometry", "gisportal:dzialki/gisportal:geometry", "./gisportal:geometry[1]"):
        filt = (
            f'<fes:Filter xmlns:fes="{FES}" xmlns:gisportal="{GP}"><fes:BBOX>'
            f"<fes:ValueReference>{path}</fes:ValueReference>{envelope}</fes:BBOX></fes:Filter>"
        )
        r, body = get(client, REQUEST="GetFeature", TYPENAMES="gisportal:dzialki", FILTER=filt)
        assert r.status_code == 200, (path, body[:300])
        results.append(sorted(ids(body)))
    assert f"dzialki.{p.pk}" in results[0] and results == [results[0]] * 3


def test_sortby_propertyname_and_value_reference_take_paths(client, demo_data):
    base = {"REQUEST": "GetFeature", "TYPENAMES": "gisportal:dzialki", "COUNT": "7"}
    _r, plain = get(client, **base, SORTBY="NUMER_DZIALKI DESC")
    _r, pathed = get(client, **base, SORTBY="gisportal:dzialki/gisportal:NUMER_DZIALKI[1] DESC")
    assert ids(plain) == ids(pathed) and len(ids(plain)) == 7
    r, body = get(client, **base, PROPERTYNAME="./gisportal:NUMER_DZIALKI")
    assert r.status_code == 200, body[:300]
    first = next(etree.fromstring(body).iterfind(f"{{{WFS20}}}member/*"))
    assert [etree.QName(c).localname for c in first] == ["NUMER_DZIALKI"]
    values = []
    for ref in ("gisportal:NUMER_DZIALKI", "gisportal:dzialki/gisportal:NUMER_DZIALKI"):
        r, body = get(
            client, REQUEST="GetPropertyValue", TYPENAMES="gisportal:dzialki", COUNT="5", VALUEREFERENCE=ref
        )
        assert r.status_code == 200, (ref, body[:300])
        values.append([m.text for m in etree.fromstring(body).iterfind(f"{{{WFS20}}}member")])
    assert values[0] == values[1] and len(values[0]) == 5
    for bad in ("gisportal:obreby/gisportal:NUMER_DZIALKI", "gisportal:NUMER_DZIALKI[2]"):
        r, body = get(client, **base, SORTBY=bad)
        assert r.status_code == 400 and locator(body) == "sortBy", body[:300]
        r, body = get(client, **base, PROPERTYNAME=bad)
        assert r.status_code == 400, body[:300]
