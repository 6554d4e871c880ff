"""WMS 1.3.0 / 1.1.1: the assertions of OGC.md §3 (W1–W12), schema validity, rendering where the
coordinates say, feature info, legends, and Mapnik beside GeoDjango in one process."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.contrib.gis.geos import Point
from lxml import etree
from pyproj import Transformer

from layers.models import Parcel, Precinct

from ..conftest import SHARED_DATA
from .helpers import pixel_of, rgba, size

pytestmark = pytest.mark.django_db
WMS = "{http://www.opengis.net/wms}"
FILL = (0xFF, 0xD5, 0x4F)  # the 'wypelnienie' style of dzialki


def get(client, **params):
    return client.get("/ows?" + urlencode({"SERVICE": "WMS", **params}))


def exc_code(resp) -> str:
    root = etree.fromstring(resp.content)
    el = root.find(".//{http://www.opengis.net/ogc}ServiceException")
    if el is None:
        el = root.find(".//ServiceException")
    return el.get("code")


def getmap(client, version="1.3.0", **over):
    params = {"VERSION": version, "REQUEST": "GetMap", "LAYERS": "dzialki", "STYLES": "", "FORMAT": "image/png",
              "WIDTH": "256", "HEIGHT": "256"}
    if version == "1.3.0":
        params.update({"CRS": "EPSG:2180", "BBOX": "469300,638400,469800,639000"})
    else:
        params.update({"SRS": "EPSG:2180", "BBOX": "638400,469300,639000,469800"})
    params.update(over)
    return get(client, **{k: v for k, v in params.items() if v is not None})


@pytest.fixture(scope="module")
def known_parcel(demo_data, django_db_blocker):
    with django_db_blocker.unblock():
        p = Parcel.objects.filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[50]
        inner = p.geom.point_on_surface
        return {"id": p.parcel_id, "x": inner.x, "y": inner.y, "extent": p.geom.extent}


# ------------------------------------------------------------------------------ capabilities
def caps(client, **params):
    return get(client, REQUEST="GetCapabilities", **params)


def test_caps_130_valid_against_the_official_schema(client, demo_data, ogc_schemas):
    r = caps(client, VERSION="1.3.0")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/xml")
    doc = etree.fromstring(r.content)
    assert doc.get("version") == "1.3.0"
    # INSPIRE's schema is not among the official OGC schemas at hand: check it apart, validate the rest
    ext = doc.find(f"{WMS}Capability/{{http://inspire.ec.europa.eu/schemas/inspire_vs/1.0}}ExtendedCapabilities")
    assert ext is not None
    langs = [e.text for e in ext.iter("{http://inspire.ec.europa.eu/schemas/common/1.0}Language")]
    assert langs == ["pol", "eng", "pol"]
    ext.getparent().remove(ext)
    schema = ogc_schemas("wms/1.3.0/capabilities_1_3_0.xsd")
    assert schema.validate(doc), schema.error_log


def test_caps_111_valid_against_the_dtd(client, demo_data):
    r = caps(client, VERSION="1.1.1")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.ogc.wms_xml")
    dtd = etree.DTD(str(SHARED_DATA / "ogc-schemas" / "wms" / "1.1.1" / "WMS_MS_Capabilities.dtd"))
    doc = etree.fromstring(r.content, etree.XMLParser(resolve_entities=False, no_network=True))
    assert dtd.validate(doc), dtd.error_log.filter_from_errors()


@pytest.mark.parametrize("asked, got", [(None, "1.3.0"), ("1.3.0", "1.3.0"), ("100.0.0", "1.3.0"), ("0.0.0", "1.1.1"),
                                        ("1.1.1", "1.1.1"), ("1.2.0", "1.1.1")])
def test_version_negotiation(client, demo_data, asked, got):
    r = caps(client, **({"VERSION": asked} if asked else {}))
    assert etree.fromstring(r.content).get("version") == got


def test_caps_unknown_params_and_bad_format_ignored(client, demo_data):
    r = caps(client, VERSION="1.3.0", FOO="bar", FORMAT="application/nonsense")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/xml")


def test_update_sequence(client, demo_data):
    seq = int(etree.fromstring(caps(client).content).get("updateSequence"))
    assert exc_code(r := caps(client, UPDATESEQUENCE=str(seq))) == "CurrentUpdateSequence" and r.status_code == 400
    assert exc_code(caps(client, UPDATESEQUENCE=str(seq + 1))) == "InvalidUpdateSequence"
    assert caps(client, UPDATESEQUENCE=str(seq - 1)).status_code == 200


def test_caps_content(client, demo_data, settings):
    doc = etree.fromstring(caps(client, VERSION="1.3.0").content)
    names = [e.text for e in doc.iter(f"{WMS}Name")][1:]
    assert set(names) >= {"dzialki", "budynki", "numery_dzialek", "obreby", "jednostki_ewidencyjne", "uzytki",
                          "kontury_klasyfikacyjne", "adresy", "mpzp", "granice", "default"}
    hrefs = [e.get("{http://www.w3.org/1999/xlink}href") for e in doc.iter(f"{WMS}OnlineResource")]
    assert all(h.startswith(settings.GISPORTAL_PUBLIC_URL) for h in hrefs)
    dz = next(e for e in doc.iter(f"{WMS}Layer") if e.findtext(f"{WMS}Name") == "dzialki")
    assert dz.get("queryable") == "1"
    assert dz.findtext(f"{WMS}MaxScaleDenominator") == "50000"
    boxes = {b.get("CRS"): b for b in dz.findall(f"{WMS}BoundingBox")}
    assert set(boxes) == {"EPSG:2180", "EPSG:2178", "EPSG:4326", "EPSG:4258", "EPSG:3857", "CRS:84"}
    # EPSG:2180 and 4326 north-first in 1.3.0; CRS:84 and 3857 east-first
    assert 400_000 < float(boxes["EPSG:2180"].get("minx")) < 500_000 < 600_000 < float(boxes["EPSG:2180"].get("miny")) < 700_000
    assert 51 < float(boxes["EPSG:4326"].get("minx")) < 53 and 20 < float(boxes["EPSG:4326"].get("miny")) < 22
    assert 20 < float(boxes["CRS:84"].get("minx")) < 22
    geo = dz.find(f"{WMS}EX_GeographicBoundingBox")
    assert float(geo.findtext(f"{WMS}westBoundLongitude")) < float(geo.findtext(f"{WMS}eastBoundLongitude"))
    legend = dz.find(f"{WMS}Style/{WMS}LegendURL/{WMS}OnlineResource").get("{http://www.w3.org/1999/xlink}href")
    assert "GetLegendGraphic" in legend
    nr = next(e for e in doc.iter(f"{WMS}Layer") if e.findtext(f"{WMS}Name") == "numery_dzialek")
    assert nr.get("queryable") == "0" and nr.findtext(f"{WMS}MaxScaleDenominator") == "5000"


def test_caps_language(client, demo_data):
    pol = etree.fromstring(caps(client).content)
    eng = etree.fromstring(caps(client, LANGUAGE="eng").content)
    assert "Usługa przeglądania" in pol.findtext(f"{WMS}Service/{WMS}Title")
    assert "View service" in eng.findtext(f"{WMS}Service/{WMS}Title")
    assert "Działki ewidencyjne" in caps(client, LANGUAGE="xxx").content.decode()  # unsupported → default


def test_legend_url_serves_png(client, demo_data):
    doc = etree.fromstring(caps(client).content)
    href = next(doc.iter(f"{WMS}LegendURL")).find(f"{WMS}OnlineResource").get("{http://www.w3.org/1999/xlink}href")
    r = client.get(href[href.index("/ows"):])
    assert r.status_code == 200 and r["Content-Type"] == "image/png" and r.content[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------------ GetMap
def test_getmap_missing_version(client, demo_data):
    r = getmap(client, VERSION=None)
    assert r.status_code == 400 and exc_code(r) == "MissingParameterValue"


@pytest.mark.parametrize("bbox", ["469800,638400,469300,639000", "469300,639000,469800,638400", "1,2,3", "1,2,3,4,5", "a,b,c,d",
                                  "NaN,0,1,1", "Infinity,0,1e308,1", ""])
def test_getmap_bad_bbox(client, demo_data, bbox):
    r = getmap(client, BBOX=bbox)
    assert r.status_code == 400 and exc_code(r) in ("InvalidParameterValue", "MissingParameterValue")


def test_getmap_bbox_off_data_is_empty_image(client, demo_data):
    r = getmap(client, BBOX="100000,100000,100100,100100")
    assert r.status_code == 200 and rgba(r.content, 5, 5)[:3] == (255, 255, 255)


@pytest.mark.parametrize("crs", ["EPSG:9999", "EPSG:0", "AUTO2:42001,1,0,0", "urn:ogc:def:crs:EPSG::2180", "x" * 5000])
def test_getmap_invalid_crs(client, demo_data, crs):
    r = getmap(client, CRS=crs)
    assert r.status_code == 400 and exc_code(r) == "InvalidCRS"
    r = getmap(client, "1.1.1", SRS=crs)
    assert r.status_code == 400 and exc_code(r) == "InvalidSRS"


def test_getmap_formats(client, demo_data):
    assert exc_code(getmap(client, FORMAT="image/gif")) == "InvalidFormat"
    for fmt, mime in (("image/png", "image/png"), ("image/png; mode=8bit", "image/png"), ("image/jpeg", "image/jpeg")):
        r = getmap(client, FORMAT=fmt)
        assert r.status_code == 200 and r["Content-Type"] == mime
    assert getmap(client, FORMAT="image/jpeg").content[:2] == b"\xff\xd8"


def test_getmap_layers_and_styles(client, demo_data):
    assert exc_code(getmap(client, LAYERS="dzialki,nope")) == "LayerNotDefined"
    assert exc_code(getmap(client, LAYERS="../etc/passwd")) == "LayerNotDefined"
    assert exc_code(getmap(client, STYLES="nope")) == "StyleNotDefined"
    four = "dzialki,budynki,uzytki,adresy"
    for styles in ("", ",,,", "kieg,,,", "kieg,default,default,default"):
        assert getmap(client, LAYERS=four, STYLES=styles).status_code == 200
    assert getmap(client, LAYERS=",".join(["dzialki"] * 21)).status_code == 400  # LayerLimit + 1
    assert getmap(client, LAYERS=",".join(["dzialki"] * 1000)).status_code == 400


@pytest.mark.parametrize("w, h", [(8, 5), (1024, 768), (4096, 4096)])
def test_getmap_exact_size(client, demo_data, w, h):
    r = getmap(client, WIDTH=str(w), HEIGHT=str(h), FORMAT="image/png; mode=8bit")
    assert r.status_code == 200 and size(r.content) == (w, h)


@pytest.mark.parametrize("value", ["100000", "0", "-1", "1e9", "abc", "2147483648", "4097"])
def test_getmap_hostile_sizes(client, demo_data, value):
    r = getmap(client, WIDTH=value)
    assert r.status_code == 400 and exc_code(r) == "InvalidParameterValue"
    assert b"Traceback" not in r.content


def test_getmap_memory_cap(client, demo_data):
    r = getmap(client, WIDTH="4096", HEIGHT="4096", LAYERS=",".join(["dzialki", "budynki", "uzytki", "adresy", "obreby"]))
    assert r.status_code == 400 and b"memory" in r.content.lower() or b"pami" in r.content.lower()


def test_transparency_and_exceptions_in_image(client, demo_data):
    opaque = getmap(client, BBOX="100000,100000,100100,100100")
    assert rgba(opaque.content, 3, 3)[3] == 255
    clear = getmap(client, BBOX="100000,100000,100100,100100", TRANSPARENT="TRUE")
    assert rgba(clear.content, 3, 3)[3] == 0
    blank = getmap(client, LAYERS="nope", EXCEPTIONS="BLANK", BGCOLOR="0xFF0000")
    assert blank.status_code == 200 and blank["Content-Type"] == "image/png"
    assert {rgba(blank.content, x, y) for x, y in ((0, 0), (100, 100), (255, 255))} == {(255, 0, 0, 255)}
    clear_blank = getmap(client, LAYERS="nope", EXCEPTIONS="BLANK", TRANSPARENT="TRUE")
    assert rgba(clear_blank.content, 10, 10)[3] == 0
    inimage = getmap(client, LAYERS="nope", EXCEPTIONS="INIMAGE", FORMAT="image/jpeg")
    assert inimage.status_code == 200 and inimage["Content-Type"] == "image/jpeg"
    xml = getmap(client, LAYERS="nope", EXCEPTIONS="XML")
    assert xml.status_code == 400 and xml["Content-Type"].startswith("text/xml")
    assert getmap(client, "1.1.1", LAYERS="nope")["Content-Type"].startswith("application/vnd.ogc.se_xml")


@pytest.mark.parametrize("crs, box111, box130", [
    ("EPSG:2180", "638400,469300,639000,469800", "469300,638400,469800,639000"),
    ("EPSG:4326", "21.020,52.070,21.030,52.078", "52.070,21.020,52.078,21.030"),
])
def test_same_picture_in_111_and_130(client, demo_data, crs, box111, box130):
    a = getmap(client, "1.1.1", SRS=crs, BBOX=box111, LAYERS="dzialki,budynki")
    b = getmap(client, "1.3.0", CRS=crs, BBOX=box130, LAYERS="dzialki,budynki")
    assert a.status_code == b.status_code == 200
    assert a.content == b.content


@pytest.mark.parametrize("crs", ["EPSG:2180", "EPSG:2178", "EPSG:4326", "EPSG:3857", "CRS:84"])
def test_known_parcel_lands_on_its_pixel(client, demo_data, known_parcel, crs):
    epsg = 4326 if crs == "CRS:84" else int(crs.split(":")[1])
    t = Transformer.from_crs(2180, epsg, always_xy=True)
    x, y = t.transform(known_parcel["x"], known_parcel["y"])
    minx, miny, maxx, maxy = t.transform_bounds(*known_parcel["extent"])
    dx, dy = (maxx - minx) * 2, (maxy - miny) * 2
    box = (minx - dx, miny - dy, maxx + dx, maxy + dy)
    north_first = crs in ("EPSG:2180", "EPSG:2178", "EPSG:4326")
    bbox = (box[1], box[0], box[3], box[2]) if north_first else box
    r = getmap(client, CRS=crs, BBOX=",".join(f"{v:.8f}" for v in bbox), STYLES="wypelnienie", WIDTH="300", HEIGHT="300")
    assert r.status_code == 200
    col, row = pixel_of(x, y, box, 300, 300)
    assert rgba(r.content, col, row)[:3] == FILL
    # GetFeatureInfo at that pixel returns that parcel
    info = get(client, VERSION="1.3.0", REQUEST="GetFeatureInfo", LAYERS="dzialki", QUERY_LAYERS="dzialki", STYLES="",
               CRS=crs, BBOX=",".join(f"{v:.8f}" for v in bbox), WIDTH="300", HEIGHT="300", INFO_FORMAT="application/json",
               I=str(col), J=str(row), TOLERANCE="0")
    assert info.json()["features"][0]["properties"]["ID_DZIALKI"] == known_parcel["id"]


def test_rendering_keeps_geodjango_transforms_working(client, demo_data):
    assert getmap(client).status_code == 200
    p = Point(638_881, 469_553, srid=2180)
    p.transform(4326)
    assert abs(p.x - 21.0271) < 0.001 and abs(p.y - 52.0747) < 0.001


def test_user_styles_and_time_are_refused_or_ignored(client, demo_data):
    for key, value in (("SLD", "http://169.254.169.254/latest"), ("SLD_BODY", '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')):
        r = getmap(client, **{key: value})
        assert r.status_code == 400 and exc_code(r) == "OperationNotSupported"
    assert getmap(client, TIME="2020-01-01' OR '1'='1").status_code == 200  # no layer has a time dimension


def test_xss_in_echoed_parameters_is_escaped(client, demo_data):
    r = getmap(client, LAYERS="<script>alert(1)</script>")
    assert b"<script>" not in r.content and exc_code(r) == "LayerNotDefined"


def test_unknown_request_and_service(client):
    r = get(client, REQUEST="Nope")
    assert r.status_code == 400 and exc_code(r) == "OperationNotSupported"
    assert client.get("/ows?REQUEST=GetCapabilities").status_code == 400  # SERVICE missing on /ows
    assert client.get("/wms?REQUEST=GetCapabilities").status_code == 200  # the alias implies WMS
    assert client.post("/wms", {"REQUEST": "GetCapabilities"}).status_code == 200  # form-encoded POST


# ------------------------------------------------------------------------------ GetFeatureInfo
def gfi(client, **over):
    params = {"VERSION": "1.3.0", "REQUEST": "GetFeatureInfo", "LAYERS": "dzialki", "QUERY_LAYERS": "dzialki", "STYLES": "",
              "CRS": "EPSG:2180", "BBOX": "469300,638400,469800,639000", "WIDTH": "256", "HEIGHT": "256",
              "INFO_FORMAT": "application/json", "I": "128", "J": "128"}
    params.update(over)
    return get(client, **{k: v for k, v in params.items() if v is not None})


def test_gfi_errors(client, demo_data):
    assert exc_code(gfi(client, INFO_FORMAT="image/png")) == "InvalidFormat"
    for i in ("-1", "256", "abc"):
        assert exc_code(gfi(client, I=i)) == "InvalidPoint"
    assert exc_code(gfi(client, QUERY_LAYERS="nope")) == "LayerNotDefined"
    assert exc_code(gfi(client, LAYERS="dzialki,numery_dzialek", QUERY_LAYERS="numery_dzialek")) == "LayerNotQueryable"
    assert gfi(client, LAYERS="dzialki,budynki", QUERY_LAYERS="dzialki").status_code == 200


def test_gfi_feature_count(client, demo_data):
    counts = [len(gfi(client, FEATURE_COUNT=str(n), TOLERANCE="25").json()["features"]) for n in (1, 3, 10, 1000000000)]
    assert counts[0] == 1 and counts[0] <= counts[1] <= counts[2] <= counts[3] <= 50
    assert len(gfi(client).json()["features"]) < 2  # absent → 1


def test_gfi_never_publishes_personal_data(client, demo_data):
    body = gfi(client, FEATURE_COUNT="10", TOLERANCE="25").json()
    for f in body["features"]:
        assert not {"KW", "kw", "OWNERS", "numerKW"} & set(f["properties"])
        assert "NUMER_OBREBU" in f["properties"] and "POLE_EWIDENCYJNE" in f["properties"]
    assert b"WA1I/" not in gfi(client, INFO_FORMAT="text/html", FEATURE_COUNT="10").content


def test_gfi_formats_and_escaping(client, demo_data):
    precinct = Precinct.objects.filter(unit__unit_id="141804_4").first()
    precinct.name = "<script>alert('x')</script>"
    precinct.save()  # visible to the test client's connection (same transaction)
    x, y = precinct.geom.point_on_surface.coords
    bbox = f"{y - 100},{x - 100},{y + 100},{x + 100}"
    html = gfi(client, LAYERS="obreby", QUERY_LAYERS="obreby", BBOX=bbox, INFO_FORMAT="text/html").content.decode()
    assert "<script>" not in html and "&lt;script&gt;" in html and 'lang="pl"' in html
    eng = gfi(client, LAYERS="obreby", QUERY_LAYERS="obreby", BBOX=bbox, INFO_FORMAT="text/html", LANGUAGE="eng").content.decode()
    assert "Precinct name" in eng
    text = gfi(client, LAYERS="obreby", QUERY_LAYERS="obreby", BBOX=bbox, INFO_FORMAT="text/plain")
    assert text["Content-Type"].startswith("text/plain") and "NAZWA_OBREBU" in text.content.decode()
    g = gfi(client, LAYERS="obreby", QUERY_LAYERS="obreby", BBOX=bbox, INFO_FORMAT="application/vnd.ogc.gml")
    doc = etree.fromstring(g.content)
    pos = doc.find(".//{http://www.opengis.net/gml/3.2}posList").text.split()
    assert 400_000 < float(pos[0]) < 500_000 and 600_000 < float(pos[1]) < 700_000  # northing first for EPSG:2180 in 1.3.0


# ------------------------------------------------------------------------------ GetLegendGraphic
def test_legend_graphic(client, demo_data):
    for layer in ("dzialki", "uzytki", "mpzp", "adresy", "granice"):
        r = get(client, REQUEST="GetLegendGraphic", LAYER=layer, FORMAT="image/png", VERSION="1.3.0")
        assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
    assert exc_code(get(client, REQUEST="GetLegendGraphic", LAYER="nope", FORMAT="image/png")) == "LayerNotDefined"
    assert exc_code(get(client, REQUEST="GetLegendGraphic", LAYER="dzialki", STYLE="x")) == "StyleNotDefined"
    wide = get(client, REQUEST="GetLegendGraphic", LAYER="mpzp", WIDTH="100000")
    assert wide.status_code == 400


def test_png_colour_types(client, demo_data):
    """Opaque PNG is 24-bit RGB (IHDR colour type 2), transparent 32-bit RGBA (6), 8-bit palette (3)."""
    assert getmap(client).content[25] == 2
    assert getmap(client, TRANSPARENT="TRUE").content[25] == 6
    assert getmap(client, FORMAT="image/png; mode=8bit").content[25] == 3


def test_fast_png_encoder_round_trips():
    from ogc.render.engine import mapnik
    from ogc.render.png import encode_rgb

    mk = mapnik()
    im = mk.Image(7, 3)
    im.fill(mk.Color(10, 200, 30, 255))
    im.set_pixel(2, 1, mk.Color(250, 5, 7, 255))
    back = mk.Image.from_string(encode_rgb(im.to_string(), 7, 3))
    assert (back.width(), back.height()) == (7, 3)
    c = back.get_pixel_color(2, 1)
    assert (c.r, c.g, c.b, c.a) == (250, 5, 7, 255)
    c = back.get_pixel_color(6, 2)
    assert (c.r, c.g, c.b) == (10, 200, 30)
