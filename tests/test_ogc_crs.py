"""Axis order rules of OGC.md §2, driven by the EPSG registry."""

import pytest
from pyproj import Transformer

from ogc.common.crs import Form, InvalidCRS, Protocol, north_first, parse_crs, to_xy

W111, W130, WFS, API = Protocol.WMS111, Protocol.WMS130, Protocol.WFS, Protocol.OGCAPI


@pytest.mark.parametrize(
    "epsg, north",
    [
        (2180, True),
        (2178, True),
        (2176, True),
        (2177, True),
        (2179, True),
        (4326, True),
        (4258, True),
        (3857, False),
    ],
)
def test_north_first_from_registry(epsg, north):
    assert north_first(epsg) is north


@pytest.mark.parametrize(
    "text, protocol, swap",
    [
        ("EPSG:2180", W111, False),
        ("EPSG:2180", W130, True),
        ("EPSG:4326", W130, True),
        ("EPSG:3857", W130, False),
        ("CRS:84", W130, False),
        ("EPSG:2180", WFS, False),
        ("http://www.opengis.net/gml/srs/epsg.xml#2180", WFS, False),
        ("urn:ogc:def:crs:EPSG::2180", WFS, True),
        ("urn:ogc:def:crs:EPSG:6.9:2180", WFS, True),
        ("http://www.opengis.net/def/crs/EPSG/0/2180", WFS, True),
        ("http://www.opengis.net/def/crs/EPSG/0/4326", API, True),
        ("http://www.opengis.net/def/crs/EPSG/0/3857", API, False),
        ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", API, False),
    ],
)
def test_swap_table(text, protocol, swap):
    assert parse_crs(text, protocol).swap(protocol) is swap


@pytest.mark.parametrize(
    "text, protocol",
    [
        ("urn:ogc:def:crs:EPSG::2180", W130),  # unadvertised form → InvalidCRS
        ("http://www.opengis.net/gml/srs/epsg.xml#2180", W130),
        ("CRS:84", WFS),
        ("EPSG:2180", API),  # not a URI
        ("EPSG:0", W130),
        ("EPSG:9999999", W130),
        ("AUTO2:42001,1,0,0", W130),
        ("EPSG:2180' OR '1'='1", WFS),
        ("", W130),
        ("EPSG:" + "1" * 500, W130),
        ("EPSG:2000", W130),  # a real CRS we do not offer
    ],
)
def test_rejected(text, protocol):
    with pytest.raises(InvalidCRS):
        parse_crs(text, protocol)


def test_same_box_in_111_and_130():
    # DOMAIN.md §12: gmina estimate, 1.1.1 EPSG:2180 = E,N; 1.3.0 = N,E
    box111 = (628700, 455400, 646300, 474800)
    box130 = (455400, 628700, 474800, 646300)
    assert to_xy(box111, parse_crs("EPSG:2180", W111), W111) == box111
    assert to_xy(box130, parse_crs("EPSG:2180", W130), W130) == box111
    assert to_xy((51.95, 20.88, 52.12, 21.13), parse_crs("EPSG:4326", W130), W130) == (
        20.88,
        51.95,
        21.13,
        52.12,
    )


def test_fixture_point_matches_independent_transformation():
    # OGC.md §2: Piaseczno centre 21.02E 52.08N = E 638 378, N 470 129 in EPSG:2180
    e, n = Transformer.from_crs(4326, 2180, always_xy=True).transform(21.02, 52.08)
    assert abs(e - 638_378) < 2 and abs(n - 470_129) < 2


def test_output_forms():
    ref = parse_crs("urn:ogc:def:crs:EPSG::2180", WFS)
    assert ref.as_form(Form.URI) == "http://www.opengis.net/def/crs/EPSG/0/2180"
    assert ref.as_form(Form.EPSG) == "EPSG:2180"
