"""The INSPIRE view layers (issue 28): CP.CadastralParcel, CP.CadastralZoning, CP.CadastralBoundary,
AD.Address and BU.Building portray the data of dzialki, obreby, adresy and budynki under the harmonised layer
names, titles and default styles of the data specifications, in the INSPIRE CRSs (ETRS89 EPSG:4258 and
ETRS89-LAEA EPSG:3035 besides 2180, 4326, 3857), with the metadata record of the data set they portray. They
are WMS layers only: no WFS feature type, no OGC API collection, no tiles, no metadata record of their own."""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import urlencode, urlsplit

import pytest
from owslib.wms import WebMapService
from pyproj import CRS, Transformer

from layers import catalogue
from layers.models import AddressPoint, Building, Parcel, Precinct
from ogc import metadata

from .helpers import image, pixel_of, size
from .test_wms import EXC, exc_code

pytestmark = pytest.mark.django_db
WMS = "{http://www.opengis.net/wms}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
INSPIRE = {  # layer: (the layer it portrays, English and Polish titles of Regulation 1089/2010 Annex II, style)
    "CP.CadastralParcel": ("dzialki", "Cadastral Parcel", "Działka katastralna"),
    "CP.CadastralZoning": ("obreby", "Cadastral Zoning", "Obszar katastralny"),
    "CP.CadastralBoundary": ("dzialki", "Cadastral Boundary", "Granica katastralna"),
    "AD.Address": ("adresy", "Addresses", "Adresy"),
    "BU.Building": ("budynki", "Building", "Budynek"),
}
STYLE_TITLES = {  # the TGs' style titles (§11.2 of TG CP, AD, BU 3.1)
    "CP.CadastralParcel": "Cadastral Parcel Default Style",
    "CP.CadastralZoning": "Cadastral Zoning Default Style",
    "CP.CadastralBoundary": "Cadastral Boundary Default Style",
    "AD.Address": "Address Default Style",
    "BU.Building": "Building Default Style",
}
INSPIRE_CRS = ("EPSG:4258", "EPSG:3035", "EPSG:2180", "EPSG:4326", "EPSG:3857")
BUILDING_GREY = (0x80, 0x80, 0x80)
ADDRESS_GREY = (0xC0, 0xC0, 0xC0)


def get(client, **params):
    return client.get("/ows?" + urlencode({"SERVICE": "WMS", **params}))


def caps(client, version="1.3.0", language="pol"):
    from lxml import etree

    r = get(client, REQUEST="GetCapabilities", VERSION=version, LANGUAGE=language)
    assert r.status_code == 200
    return etree.fromstring(r.content)


def local(url: str) -> str:
    """The path and query of a public URL (the test client answers for the public host)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def north_first(epsg: int) -> bool:
    return CRS.from_epsg(epsg).axis_info[0].direction.lower() == "north"


def box_around(epsg: int, x2180: float, y2180: float, half: float) -> tuple[float, float, float, float]:
    """An x/y box in `epsg` around an EPSG:2180 point, `half` metres each side (edges densified)."""
    t = Transformer.from_crs(2180, epsg, always_xy=True)
    return t.transform_bounds(x2180 - half, y2180 - half, x2180 + half, y2180 + half, densify_pts=21)


def wms_bbox(box, version: str, epsg: int) -> str:
    """The BBOX parameter: WMS 1.3.0 in the CRS's axis order (lat/lon for 4258, N/E for 3035 and 2180)."""
    if version == "1.3.0" and north_first(epsg):
        box = (box[1], box[0], box[3], box[2])
    return ",".join(f"{v:.9f}" for v in box)


def getmap(client, layer: str, epsg: int, box, version="1.3.0", width=300, height=300, **over):
    params = {
        "VERSION": version,
        "REQUEST": "GetMap",
        "LAYERS": layer,
        "STYLES": "",
        "CRS" if version == "1.3.0" else "SRS": f"EPSG:{epsg}",
        "BBOX": wms_bbox(box, version, epsg),
        "WIDTH": str(width),
        "HEIGHT": str(height),
        "FORMAT": "image/png",
        **over,
    }
    return get(client, **params)


def near(data: bytes, col: int, row: int, wanted, radius: int = 1) -> bool:
    """Whether a pixel within `radius` of (col, row) has the colour `wanted` (a predicate on r,g,b,a)."""
    im = image(data)
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            x, y = col + dx, row + dy
            if 0 <= x < im.width() and 0 <= y < im.height():
                c = im.get_pixel_color(x, y)
                if wanted((c.r, c.g, c.b, c.a)):
                    return True
    return False


def dark(c) -> bool:
    return c[3] > 0 and max(c[:3]) < 96


def inked(c) -> bool:
    return c[3] > 0 and c[:3] != (255, 255, 255)


def dark_pixels(data: bytes, wanted=dark) -> int:
    im = image(data)
    return sum(
        1
        for x in range(0, im.width(), 2)
        for y in range(0, im.height(), 2)
        if wanted(tuple(getattr(im.get_pixel_color(x, y), k) for k in "rgba"))
    )


@pytest.fixture(scope="module")
def parcel(demo_data, django_db_blocker):
    """The known parcel of test_wms (the 51st of the town's unit): a point inside it and the middle of its
    longest outline edge, in EPSG:2180 (x = easting)."""
    with django_db_blocker.unblock():
        p = Parcel.objects.filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[50]
        ring = p.geom[0].exterior_ring.coords
        edges = [(ring[i], ring[i + 1]) for i in range(len(ring) - 1)]
        (x0, y0), (x1, y1) = max(edges, key=lambda e: (e[1][0] - e[0][0]) ** 2 + (e[1][1] - e[0][1]) ** 2)
        inner = p.geom.point_on_surface
        return {
            "id": p.parcel_id,
            "number": p.number,
            "inner": (inner.x, inner.y),
            "edge": ((x0 + x1) / 2, (y0 + y1) / 2),
        }


# ------------------------------------------------------------------------------ catalogue
def test_catalogue_view_layers_are_valid():
    assert catalogue.validate_catalogue() == []
    for name, (portrayed, title_en, title_pl) in INSPIRE.items():
        layer = catalogue.get_layer(name)
        assert layer.view_of == portrayed and not layer.is_dataset and not layer.tiles
        assert layer.group == "inspire" and layer.default_style == f"{name}.Default" == layer.styles[0]
        assert (layer.title("en"), layer.title("pl")) == (title_en, title_pl)
        assert layer.model == catalogue.get_layer(portrayed).model
    assert catalogue.get_layer("cp.cadastralparcel") is None  # names are case-sensitive


def test_validate_catalogue_checks_view_of(monkeypatch):
    base = catalogue.get_layer("CP.CadastralParcel")
    bad = (
        replace(base, name="CP.Nowhere", view_of="nope"),
        replace(base, name="CP.WrongModel", view_of="budynki"),
        replace(base, name="not an inspire name", view_of="dzialki"),
        replace(base, name="CP.Labels", view_of="numery_dzialek"),
    )
    monkeypatch.setattr(catalogue, "LAYERS", catalogue.LAYERS + bad)
    problems = "\n".join(catalogue.validate_catalogue())
    assert "CP.Nowhere: view_of nope is not a declared data set layer" in problems
    assert "CP.WrongModel: portrays budynki but reads layers.Parcel" in problems
    assert "not an inspire name: a view layer's name" in problems
    assert "CP.Labels: view_of numery_dzialek is not a declared data set layer" in problems


# ------------------------------------------------------------------------------ capabilities
def _named(doc, name):
    return next(e for e in doc.iter(f"{WMS}Layer") if e.findtext(f"{WMS}Name") == name)


@pytest.mark.parametrize("language", ["pol", "eng"])
def test_caps_130_lists_the_view_layers(client, demo_data, language):
    doc = caps(client, "1.3.0", language)
    group = next(g for g in doc.iter(f"{WMS}Layer") if g.findtext(f"{WMS}Title", "").startswith("INSPIRE"))
    assert [e.findtext(f"{WMS}Name") for e in group.findall(f"{WMS}Layer")] == list(INSPIRE)
    assert "EPSG:3035" in [c.text for c in group.findall(f"{WMS}CRS")]  # their group adds ETRS89-LAEA
    inherited = {c.text for c in doc.find(f"{WMS}Capability/{WMS}Layer").findall(f"{WMS}CRS")}
    assert {"EPSG:4258", "EPSG:2180", "EPSG:4326", "EPSG:3857"} <= inherited
    for name, (_portrayed, title_en, title_pl) in INSPIRE.items():
        el = _named(doc, name)
        assert el.findtext(f"{WMS}Title") == (title_en if language == "eng" else title_pl)
        assert el.get("queryable") == ("0" if name == "CP.CadastralBoundary" else "1")
        styles = el.findall(f"{WMS}Style")
        assert [s.findtext(f"{WMS}Name") for s in styles] == [f"{name}.Default"]
        if language == "eng":
            assert styles[0].findtext(f"{WMS}Title") == STYLE_TITLES[name]
        legend = styles[0].find(f"{WMS}LegendURL/{WMS}OnlineResource").get(XLINK_HREF)
        assert f"LAYER={name}" in legend and f"STYLE={name}.Default" in legend
        # the MetadataURL is the record of the data set the layer portrays
        md = el.find(f"{WMS}MetadataURL")
        assert md.get("type") == "ISO19115:2003"
        expected = metadata.dataset_record_url(metadata.view_layer_dataset(name).code)
        assert md.find(f"{WMS}OnlineResource").get(XLINK_HREF) == expected
        boxes = {b.get("CRS"): b for b in el.findall(f"{WMS}BoundingBox")}
        assert set(INSPIRE_CRS) <= set(boxes)
    # 1.3.0 boxes in the CRS's axis order: lat/lon for 4258, northing first for 3035 (LAEA N ≈ 3.2e6, E ≈ 5.1e6)
    dz = {b.get("CRS"): b for b in _named(doc, "CP.CadastralParcel").findall(f"{WMS}BoundingBox")}
    assert 51 < float(dz["EPSG:4258"].get("minx")) < 53 and 20 < float(dz["EPSG:4258"].get("miny")) < 22
    assert (
        3.0e6
        < float(dz["EPSG:3035"].get("minx"))
        < 3.5e6
        < 4.9e6
        < float(dz["EPSG:3035"].get("miny"))
        < 5.3e6
    )
    # the national layers offer no ETRS89-LAEA
    assert "EPSG:3035" not in {b.get("CRS") for b in _named(doc, "dzialki").findall(f"{WMS}BoundingBox")}


def test_caps_111_lists_the_view_layers(client, demo_data):
    doc = caps(client, "1.1.1")
    group = next(g for g in doc.iter("Layer") if (g.findtext("Title") or "").startswith("INSPIRE"))
    assert "EPSG:3035" in [c.text for c in group.findall("SRS")]
    for name, (_portrayed, _en, _pl) in INSPIRE.items():
        el = next(e for e in doc.iter("Layer") if e.findtext("Name") == name)
        assert [s.findtext("Name") for s in el.findall("Style")] == [f"{name}.Default"]
        boxes = {b.get("SRS"): b for b in el.findall("BoundingBox")}
        assert {"EPSG:4258", "EPSG:3035", "EPSG:2180"} <= set(boxes)
        assert float(boxes["EPSG:3035"].get("minx")) > 4.9e6  # easting first in 1.1.1
        md = el.find("MetadataURL/OnlineResource").get(XLINK_HREF)
        assert md == metadata.dataset_record_url(metadata.view_layer_dataset(name).code)


@pytest.mark.parametrize("version", ["1.3.0", "1.1.1"])
def test_owslib_sees_the_view_layers(live_url, version):
    wms = WebMapService(f"{live_url}/ows?SERVICE=WMS", version=version, timeout=60)
    for name, (_portrayed, _en, title_pl) in INSPIRE.items():
        layer = wms[name]
        assert layer.title == title_pl
        assert list(layer.styles) == [f"{name}.Default"]
        assert "legend" in layer.styles[f"{name}.Default"]
        assert {"EPSG:4258", "EPSG:3035", "EPSG:2180", "EPSG:4326", "EPSG:3857"} <= set(layer.crsOptions)
        urls = [m["url"] for m in layer.metadataUrls]
        assert urls == [metadata.dataset_record_url(metadata.view_layer_dataset(name).code)]


# ------------------------------------------------------------------------------ GetMap
CASES = [("1.3.0", 4258), ("1.3.0", 3035), ("1.1.1", 4258), ("1.1.1", 3035), ("1.3.0", 2180)]


@pytest.mark.parametrize("version, epsg", CASES, ids=[f"{v}-{e}" for v, e in CASES])
def test_cadastral_parcel_drawn_on_its_pixels(client, parcel, version, epsg):
    """The known parcel's outline is black where the coordinates say, in ETRS89 (1.3.0: lat/lon) and
    ETRS89-LAEA (1.3.0: northing first); GetFeatureInfo at a pixel inside it answers with that parcel under
    its INSPIRE property names."""
    box = box_around(epsg, *parcel["inner"], half=120)
    t = Transformer.from_crs(2180, epsg, always_xy=True)
    for name in ("CP.CadastralParcel", "CP.CadastralBoundary"):
        r = getmap(client, name, epsg, box, version)
        assert r.status_code == 200 and r["Content-Type"] == "image/png", r.content[:300]
        assert size(r.content) == (300, 300)
        col, row = pixel_of(*t.transform(*parcel["edge"]), box, 300, 300)
        assert near(r.content, col, row, dark), (name, col, row)
    col, row = pixel_of(*t.transform(*parcel["inner"]), box, 300, 300)
    params = {
        "VERSION": version,
        "REQUEST": "GetFeatureInfo",
        "LAYERS": "CP.CadastralParcel",
        "QUERY_LAYERS": "CP.CadastralParcel",
        "STYLES": "",
        "CRS" if version == "1.3.0" else "SRS": f"EPSG:{epsg}",
        "BBOX": wms_bbox(box, version, epsg),
        "WIDTH": "300",
        "HEIGHT": "300",
        "INFO_FORMAT": "application/json",
        "I" if version == "1.3.0" else "X": str(col),
        "J" if version == "1.3.0" else "Y": str(row),
        "TOLERANCE": "0",
    }
    feature = get(client, **params).json()["features"][0]
    assert feature["layer"] == "CP.CadastralParcel"
    props = feature["properties"]
    assert props["nationalCadastralReference"] == parcel["id"] and props["label"] == parcel["number"]
    assert set(props) == {a.name for a in catalogue.get_layer("CP.CadastralParcel").public_attributes}
    # GML feature info: the layer name, dots and capitals, is the element's name
    params["INFO_FORMAT"] = "application/gml+xml; version=3.2"
    body = get(client, **params).content
    assert b"<gisportal:CP.CadastralParcel " in body and parcel["id"].encode() in body


def test_cadastral_parcel_is_scale_dependent(client, parcel):
    """TG CP: drawn from 1:1 to 1:20 000 only; beyond that an empty image (not an error)."""
    near_box = box_around(3035, *parcel["inner"], half=120)
    far_box = box_around(3035, *parcel["inner"], half=6000)  # ≈ 1:140 000 at 300 px
    assert dark_pixels(getmap(client, "CP.CadastralParcel", 3035, near_box).content) > 0
    far = getmap(client, "CP.CadastralParcel", 3035, far_box)
    assert far.status_code == 200 and dark_pixels(far.content) == 0
    # the national layer has no such limit (the control: the same box does hold parcels)
    national = getmap(client, "dzialki", 2180, box_around(2180, *parcel["inner"], half=6000))
    assert dark_pixels(national.content, inked) > 0


@pytest.mark.parametrize("epsg", [4258, 3035])
def test_zoning_building_and_address_drawn(client, demo_data, django_db_blocker, epsg):
    with django_db_blocker.unblock():
        building = Building.objects.filter(end_object__isnull=True, geom__isnull=False).order_by("pk").first()
        address = AddressPoint.objects.filter(end_object__isnull=True).order_by("pk").first()
        precinct = Precinct.objects.filter(end_object__isnull=True).order_by("pk").first()
        b_inner = building.geom.point_on_surface
        z_edge = precinct.geom[0].exterior_ring.coords[0]
    t = Transformer.from_crs(2180, epsg, always_xy=True)
    # a building: TG BU grey (#808080) inside
    box = box_around(epsg, b_inner.x, b_inner.y, half=40)
    r = getmap(client, "BU.Building", epsg, box)
    assert r.status_code == 200
    col, row = pixel_of(*t.transform(b_inner.x, b_inner.y), box, 300, 300)
    assert near(r.content, col, row, lambda c: c[:3] == BUILDING_GREY, radius=0)
    # an address: the TG AD 6 px square, 75 % grey (#C0C0C0), on its point
    box = box_around(epsg, address.geom.x, address.geom.y, half=20)
    r = getmap(client, "AD.Address", epsg, box)
    col, row = pixel_of(*t.transform(address.geom.x, address.geom.y), box, 300, 300)
    assert near(r.content, col, row, lambda c: c[:3] == ADDRESS_GREY, radius=2)
    assert not near(r.content, 20, 20, lambda c: c[:3] == ADDRESS_GREY, radius=2)
    # a precinct: its outline 2 px black
    box = box_around(epsg, *z_edge, half=100)
    r = getmap(client, "CP.CadastralZoning", epsg, box)
    col, row = pixel_of(*t.transform(*z_edge), box, 300, 300)
    assert near(r.content, col, row, dark, radius=2)


def test_view_layers_with_national_ones_and_crs_rules(client, parcel):
    box = box_around(3035, *parcel["inner"], half=120)
    both = getmap(client, "dzialki,CP.CadastralParcel", 3035, box, STYLES=",")
    assert both.status_code == EXC and exc_code(both) == "InvalidCRS"  # 3035 is the INSPIRE layers' own
    r = getmap(
        client, "CP.CadastralParcel,BU.Building,AD.Address", 3035, box, STYLES="CP.CadastralParcel.Default,,"
    )
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert exc_code(getmap(client, "CP.CadastralParcel", 3035, box, STYLES="default")) == "StyleNotDefined"
    assert exc_code(getmap(client, "cp.cadastralparcel", 3035, box)) == "LayerNotDefined"
    assert exc_code(getmap(client, "CP.CadastralParcel", 2176, box)) == "InvalidCRS"
    box_2180 = box_around(2180, *parcel["inner"], half=120)
    r = getmap(
        client, "dzialki,CP.CadastralParcel", 2180, box_2180, STYLES="wypelnienie,CP.CadastralParcel.Default"
    )
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    # 1.1.1 words the error InvalidSRS
    r111 = getmap(client, "dzialki", 3035, box, version="1.1.1")
    assert exc_code(r111) == "InvalidSRS"


def test_cadastral_boundary_is_not_queryable(client, parcel):
    box = box_around(2180, *parcel["inner"], half=120)
    r = get(
        client,
        VERSION="1.3.0",
        REQUEST="GetFeatureInfo",
        LAYERS="CP.CadastralBoundary",
        QUERY_LAYERS="CP.CadastralBoundary",
        STYLES="",
        CRS="EPSG:2180",
        BBOX=wms_bbox(box, "1.3.0", 2180),
        WIDTH="300",
        HEIGHT="300",
        INFO_FORMAT="application/json",
        I="150",
        J="150",
    )
    assert exc_code(r) == "LayerNotQueryable"


@pytest.mark.parametrize("version", ["1.3.0", "1.1.1"])
def test_owslib_getmap_in_etrs89(live_url, parcel, version):
    """OWSLib takes the box east-first and swaps it itself for 4258 and 3035 in 1.3.0 (its yx list)."""
    wms = WebMapService(f"{live_url}/ows?SERVICE=WMS", version=version, timeout=60)
    for epsg in (4258, 3035):
        box = box_around(epsg, *parcel["inner"], half=120)
        img = wms.getmap(
            layers=["CP.CadastralParcel"],
            styles=["CP.CadastralParcel.Default"],
            srs=f"EPSG:{epsg}",
            bbox=box,
            size=(300, 300),
            format="image/png",
        )
        data = img.read()
        t = Transformer.from_crs(2180, epsg, always_xy=True)
        col, row = pixel_of(*t.transform(*parcel["edge"]), box, 300, 300)
        assert near(data, col, row, dark), (epsg, version)
        col, row = pixel_of(*t.transform(*parcel["inner"]), box, 300, 300)
        info = wms.getfeatureinfo(
            layers=["CP.CadastralParcel"],
            srs=f"EPSG:{epsg}",
            bbox=box,
            size=(300, 300),
            format="image/png",
            query_layers=["CP.CadastralParcel"],
            info_format="application/json",
            xy=(col, row),
        )
        assert (
            json.loads(info.read())["features"][0]["properties"]["nationalCadastralReference"] == parcel["id"]
        )


# ------------------------------------------------------------------------------ GetLegendGraphic
@pytest.mark.parametrize("name", list(INSPIRE))
def test_legend_graphic(client, demo_data, name):
    doc = caps(client, "1.3.0", "eng")
    legend = _named(doc, name).find(f"{WMS}Style/{WMS}LegendURL")
    url = legend.find(f"{WMS}OnlineResource").get(XLINK_HREF)
    r = client.get(local(url))
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert size(r.content) == (int(legend.get("width")), int(legend.get("height")))
    if name == "AD.Address":  # the square itself, not a sample text
        assert near(r.content, 12, size(r.content)[1] // 2, lambda c: c[:3] == ADDRESS_GREY, radius=3)
    elif name == "BU.Building":
        assert near(r.content, 12, size(r.content)[1] // 2, lambda c: c[:3] == BUILDING_GREY, radius=3)
    else:
        assert near(r.content, 12, size(r.content)[1] // 2, dark, radius=3)
    r = get(
        client, REQUEST="GetLegendGraphic", VERSION="1.3.0", LAYER=name, FORMAT="image/png"
    )  # default style
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert exc_code(get(client, REQUEST="GetLegendGraphic", LAYER=name, STYLE="default")) == "StyleNotDefined"


# ------------------------------------------------------------------------------ WMS only
def test_wfs_ogcapi_tiles_and_records_do_not_list_them(client, demo_data):
    from lxml import etree

    names = [n.lower() for n in INSPIRE]
    for version in ("2.0.0", "1.1.0"):
        r = client.get(
            "/ows?" + urlencode({"SERVICE": "WFS", "REQUEST": "GetCapabilities", "VERSION": version})
        )
        assert r.status_code == 200
        doc = etree.fromstring(r.content)
        types = [e.text.lower() for e in doc.iter() if etree.QName(e).localname == "Name" and e.text]
        assert not any(n in t for t in types for n in names), types
        assert b"dzialki" in r.content
    r = client.get(
        "/ows?"
        + urlencode(
            {
                "SERVICE": "WFS",
                "VERSION": "2.0.0",
                "REQUEST": "DescribeFeatureType",
                "TYPENAMES": "CP.CadastralParcel",
            }
        )
    )
    assert r.status_code != 200 or b"ExceptionReport" in r.content
    r = client.get(
        "/ows?"
        + urlencode(
            {
                "SERVICE": "WFS",
                "VERSION": "2.0.0",
                "REQUEST": "GetFeature",
                "TYPENAMES": "CP.CadastralParcel",
                "COUNT": "1",
            }
        )
    )
    assert r.status_code != 200 or b"ExceptionReport" in r.content
    ids = [c["id"] for c in client.get("/ogcapi/collections").json()["collections"]]
    assert "dzialki" in ids and not set(INSPIRE) & set(ids)
    for name in INSPIRE:
        assert client.get(f"/ogcapi/collections/{name}").status_code == 404
        assert client.get(f"/ogcapi/collections/{name}/items").status_code == 404
        assert client.get(f"/ogcapi/collections/{name}/tiles").status_code == 404
    # no metadata record of their own: the data set's record is the one they point at
    assert client.get(local(metadata.record_url(catalogue.get_layer("dzialki")))).status_code == 200
    for name in INSPIRE:  # the records' URL pattern takes no dots: no record of a view layer can be asked for
        assert client.get(f"/metadane/{name}.xml").status_code == 404
