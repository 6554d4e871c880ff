"""WMS 1.3.0 / 1.1.1: the assertions of OGC.md §3 (W1–W12), schema validity, rendering where the
coordinates say, feature info, legends, and Mapnik beside GeoDjango in one process."""

from __future__ import annotations

import re
import subprocess
from urllib.parse import urlencode

import pytest
from django.contrib.gis.geos import Point
from lxml import etree
from pyproj import Transformer

from layers.models import AddressPoint, Parcel, Precinct

from ..conftest import SHARED_DATA
from .helpers import gdal_client_env, pixel_of, rgba, size

pytestmark = pytest.mark.django_db
WMS = "{http://www.opengis.net/wms}"
FILL = (0xFF, 0xD5, 0x4F)  # the 'wypelnienie' style of dzialki
EXC = 200  # WMS exception reports for bad requests: HTTP 200 by default (GISPORTAL_WMS_EXCEPTION_STATUS)


def get(client, **params):
    return client.get("/ows?" + urlencode({"SERVICE": "WMS", **params}))


def exc_code(resp) -> str:
    root = etree.fromstring(resp.content)
    el = root.find(".//{http://www.opengis.net/ogc}ServiceException")
    if el is None:
        el = root.find(".//ServiceException")
    return el.get("code")


def schema_from(xsd: bytes, base_url: str | None = None) -> etree.XMLSchema:
    """An XML schema (e.g. a DescribeFeatureType answer) whose imports resolve to ../shared/data/ogc-schemas, laid
    out as schemas.opengis.net, and http://inspire.ec.europa.eu/schemas/ to its inspire/ folder, with the INSPIRE
    files' site-root-relative paths rewritten as ../shared/data/README.md says."""
    root = (SHARED_DATA / "ogc-schemas").resolve()

    class Resolver(etree.Resolver):
        def resolve(self, url, pubid, context):
            for prefix, folder in (
                ("http://schemas.opengis.net/", root),
                ("https://schemas.opengis.net/", root),
                ("http://inspire.ec.europa.eu/schemas/", root / "inspire"),
                ("https://inspire.ec.europa.eu/schemas/", root / "inspire"),
            ):
                if url.startswith(prefix):
                    return self.resolve_filename(str(folder / url[len(prefix) :]), context)
            if url.endswith("/xml.xsd"):
                return self.resolve_filename(str(root / "w3c" / "xml.xsd"), context)
            if url.endswith("xlink.xsd"):
                return self.resolve_filename(str(root / "w3c" / "xlink.xsd"), context)
            for wrong, right in (
                ("inspire/schemas/ogc/", ""),
                ("inspire/schemas/iso/", "iso/"),
                ("inspire/schemas/", "inspire/"),
                ("inspire/ows/", "ows/"),
            ):
                marker = f"{root}/{wrong}"
                if url.startswith(marker):
                    return self.resolve_filename(str(root / right / url[len(marker) :]), context)
            return None

    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(Resolver())
    return etree.XMLSchema(etree.fromstring(xsd, parser, base_url=base_url or str(root / "x.xsd")))


def getmap(client, version="1.3.0", **over):
    params = {
        "VERSION": version,
        "REQUEST": "GetMap",
        "LAYERS": "dzialki",
        "STYLES": "",
        "FORMAT": "image/png",
        "WIDTH": "256",
        "HEIGHT": "256",
    }
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
    # the OGC schema alone here; with the INSPIRE extension in test_inspire_view_service.py (at04)
    ext = doc.find(
        f"{WMS}Capability/{{http://inspire.ec.europa.eu/schemas/inspire_vs/1.0}}ExtendedCapabilities"
    )
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


@pytest.mark.parametrize(
    "asked, got",
    [
        (None, "1.3.0"),
        ("1.3.0", "1.3.0"),
        ("100.0.0", "1.3.0"),
        ("0.0.0", "1.1.1"),
        ("1.1.1", "1.1.1"),
        ("1.2.0", "1.1.1"),
    ],
)
def test_version_negotiation(client, demo_data, asked, got):
    r = caps(client, **({"VERSION": asked} if asked else {}))
    assert etree.fromstring(r.content).get("version") == got


def test_caps_unknown_params_and_bad_format_ignored(client, demo_data):
    r = caps(client, VERSION="1.3.0", FOO="bar", FORMAT="application/nonsense")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/xml")


def test_update_sequence(client, demo_data):
    seq = int(etree.fromstring(caps(client).content).get("updateSequence"))
    assert (
        exc_code(r := caps(client, UPDATESEQUENCE=str(seq))) == "CurrentUpdateSequence"
        and r.status_code == EXC
    )
    assert exc_code(caps(client, UPDATESEQUENCE=str(seq + 1))) == "InvalidUpdateSequence"
    assert caps(client, UPDATESEQUENCE=str(seq - 1)).status_code == 200


def test_caps_content(client, demo_data, settings):
    doc = etree.fromstring(caps(client, VERSION="1.3.0").content)
    names = [e.text for e in doc.iter(f"{WMS}Name")][1:]
    assert set(names) >= {
        "dzialki",
        "budynki",
        "numery_dzialek",
        "obreby",
        "jednostki_ewidencyjne",
        "uzytki",
        "kontury_klasyfikacyjne",
        "adresy",
        "mpzp",
        "granice",
        "default",
    }
    hrefs = [e.get("{http://www.w3.org/1999/xlink}href") for e in doc.iter(f"{WMS}OnlineResource")]
    assert all(h.startswith(settings.GISPORTAL_PUBLIC_URL) for h in hrefs)
    dz = next(e for e in doc.iter(f"{WMS}Layer") if e.findtext(f"{WMS}Name") == "dzialki")
    assert dz.get("queryable") == "1"
    assert dz.findtext(f"{WMS}MaxScaleDenominator") == "50000"
    boxes = {b.get("CRS"): b for b in dz.findall(f"{WMS}BoundingBox")}
    assert set(boxes) == {"EPSG:2180", "EPSG:2178", "EPSG:4326", "EPSG:4258", "EPSG:3857", "CRS:84"}
    # EPSG:2180 and 4326 north-first in 1.3.0; CRS:84 and 3857 east-first
    assert (
        400_000
        < float(boxes["EPSG:2180"].get("minx"))
        < 500_000
        < 600_000
        < float(boxes["EPSG:2180"].get("miny"))
        < 700_000
    )
    assert 51 < float(boxes["EPSG:4326"].get("minx")) < 53 and 20 < float(boxes["EPSG:4326"].get("miny")) < 22
    assert 20 < float(boxes["CRS:84"].get("minx")) < 22
    geo = dz.find(f"{WMS}EX_GeographicBoundingBox")
    assert float(geo.findtext(f"{WMS}westBoundLongitude")) < float(geo.findtext(f"{WMS}eastBoundLongitude"))
    legend = dz.find(f"{WMS}Style/{WMS}LegendURL/{WMS}OnlineResource").get(
        "{http://www.w3.org/1999/xlink}href"
    )
    assert "GetLegendGraphic" in legend
    nr = next(e for e in doc.iter(f"{WMS}Layer") if e.findtext(f"{WMS}Name") == "numery_dzialek")
    assert nr.get("queryable") == "0" and nr.findtext(f"{WMS}MaxScaleDenominator") == "5000"


@pytest.mark.parametrize("version", ["1.3.0", "1.1.1"])
def test_caps_contact_position(client, demo_data, version):
    """ContactPosition: the responsible party's role (INSPIRE ETS at26), between ContactPersonPrimary and
    ContactAddress as the schema and the DTD order them (their validation tests check the rest)."""
    ns = WMS if version == "1.3.0" else ""
    info = etree.fromstring(caps(client, VERSION=version).content).find(f"{ns}Service/{ns}ContactInformation")
    assert [etree.QName(e).localname for e in info][:3] == [
        "ContactPersonPrimary",
        "ContactPosition",
        "ContactAddress",
    ]
    assert info.findtext(f"{ns}ContactPosition") == "pointOfContact"


def test_caps_language(client, demo_data):
    pol = etree.fromstring(caps(client).content)
    eng = etree.fromstring(caps(client, LANGUAGE="eng").content)
    assert "Usługa przeglądania" in pol.findtext(f"{WMS}Service/{WMS}Title")
    assert "View service" in eng.findtext(f"{WMS}Service/{WMS}Title")
    assert "Działki ewidencyjne" in caps(client, LANGUAGE="xxx").content.decode()  # unsupported → default


def test_legend_url_serves_png(client, demo_data):
    doc = etree.fromstring(caps(client).content)
    href = (
        next(doc.iter(f"{WMS}LegendURL"))
        .find(f"{WMS}OnlineResource")
        .get("{http://www.w3.org/1999/xlink}href")
    )
    r = client.get(href[href.index("/ows") :])
    assert r.status_code == 200 and r["Content-Type"] == "image/png" and r.content[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------------ GetMap
def test_getmap_missing_version(client, demo_data):
    r = getmap(client, VERSION=None)
    assert r.status_code == EXC and exc_code(r) == "MissingParameterValue"


@pytest.mark.parametrize(
    "bbox",
    [
        "469800,638400,469300,639000",
        "469300,639000,469800,638400",
        "1,2,3",
        "1,2,3,4,5",
        "a,b,c,d",
        "NaN,0,1,1",
        "Infinity,0,1e308,1",
        "",
    ],
)
def test_getmap_bad_bbox(client, demo_data, bbox):
    r = getmap(client, BBOX=bbox)
    assert r.status_code == EXC and exc_code(r) in ("InvalidParameterValue", "MissingParameterValue")


def test_getmap_bbox_off_data_is_empty_image(client, demo_data):
    r = getmap(client, BBOX="100000,100000,100100,100100")
    assert r.status_code == 200 and rgba(r.content, 5, 5)[:3] == (255, 255, 255)


@pytest.mark.parametrize(
    "crs", ["EPSG:9999", "EPSG:0", "AUTO2:42001,1,0,0", "urn:ogc:def:crs:EPSG::2180", "x" * 5000]
)
def test_getmap_invalid_crs(client, demo_data, crs):
    r = getmap(client, CRS=crs)
    assert r.status_code == EXC and exc_code(r) == "InvalidCRS"
    r = getmap(client, "1.1.1", SRS=crs)
    assert r.status_code == EXC and exc_code(r) == "InvalidSRS"


def test_getmap_formats(client, demo_data):
    assert exc_code(getmap(client, FORMAT="image/gif")) == "InvalidFormat"
    for fmt, mime in (
        ("image/png", "image/png"),
        ("image/png; mode=8bit", "image/png"),
        ("image/jpeg", "image/jpeg"),
    ):
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
    assert (
        exc_code(getmap(client, LAYERS=",".join(["dzialki"] * 21))) == "InvalidParameterValue"
    )  # LayerLimit + 1
    assert exc_code(getmap(client, LAYERS=",".join(["dzialki"] * 1000))) == "InvalidParameterValue"


@pytest.mark.parametrize("version", ["1.3.0", "1.1.1"])
def test_getmap_styles_is_mandatory(client, demo_data, version):
    r = getmap(client, version, STYLES=None)
    assert r.status_code == EXC and exc_code(r) == "MissingParameterValue" and b"STYLES" in r.content
    assert getmap(client, version, STYLES="")["Content-Type"] == "image/png"  # empty: the default styles
    assert getmap(client, version, STYLES="kieg")["Content-Type"] == "image/png"
    # GetFeatureInfo takes a missing STYLES as the defaults (clients build it from older map requests)
    ij = (
        {"I": "128", "J": "128"}
        if version == "1.3.0"
        else {"X": "128", "Y": "128", "SRS": "EPSG:2180", "CRS": None, "BBOX": "638400,469300,639000,469800"}
    )
    assert "features" in gfi(client, VERSION=version, STYLES=None, **ij).json()


def test_exception_status_is_configurable(client, demo_data, settings):
    """WMS exception reports come with HTTP 200 by default (MapServer and GeoServer do; the INSPIRE validator
    requires it) or 400 by GISPORTAL_WMS_EXCEPTION_STATUS; WFS keeps its 400, the middleware's answers theirs."""
    assert getmap(client, LAYERS="nope").status_code == 200
    assert getmap(client, "1.1.1", LAYERS="nope").status_code == 200
    wfs = {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "gisportal:nope"}
    assert client.get("/ows", wfs).status_code == 400
    nul = client.get("/ows?SERVICE=WMS&REQUEST=GetMap&LAYERS=dzialki%00")  # refused by the middleware
    assert nul.status_code == 400 and exc_code(nul) == "InvalidParameterValue"
    settings.GISPORTAL_WMS_EXCEPTION_STATUS = "400"
    r = getmap(client, LAYERS="nope")
    assert (
        r.status_code == 400 and exc_code(r) == "LayerNotDefined" and r["Content-Type"].startswith("text/xml")
    )
    assert getmap(client, "1.1.1", LAYERS="nope").status_code == 400
    assert client.get("/wms?REQUEST=GetCapabilities").status_code == 400
    assert client.get("/ows", wfs).status_code == 400


@pytest.mark.parametrize(
    "over", [{"LAYERS": "nope"}, {"STYLES": None}, {"SRS": "EPSG:9999"}, {"WIDTH": "0"}, {"BBOX": "1,2,3"}]
)
def test_exception_111_valid_against_the_dtd(client, demo_data, over):
    """exception_1_1_1.dtd declares `code` only: no `locator` attribute; the locator stays in the text."""
    r = getmap(client, "1.1.1", **over)
    assert r.status_code == EXC and r["Content-Type"].startswith("application/vnd.ogc.se_xml")
    dtd = etree.DTD(str(SHARED_DATA / "ogc-schemas" / "wms" / "1.1.1" / "exception_1_1_1.dtd"))
    doc = etree.fromstring(r.content, etree.XMLParser(resolve_entities=False, no_network=True))
    assert dtd.validate(doc), dtd.error_log.filter_from_errors()
    el = doc.find("ServiceException")
    assert el.get("locator") is None and next(iter(over)) in el.text


@pytest.mark.parametrize("w, h", [(8, 5), (1024, 768), (4096, 4096)])
def test_getmap_exact_size(client, demo_data, w, h):
    r = getmap(client, WIDTH=str(w), HEIGHT=str(h), FORMAT="image/png; mode=8bit")
    assert r.status_code == 200 and size(r.content) == (w, h)


@pytest.mark.parametrize("value", ["100000", "0", "-1", "1e9", "abc", "2147483648", "4097"])
def test_getmap_hostile_sizes(client, demo_data, value):
    r = getmap(client, WIDTH=value)
    assert r.status_code == EXC and exc_code(r) == "InvalidParameterValue"
    assert b"Traceback" not in r.content


def test_getmap_memory_cap(client, demo_data):
    r = getmap(
        client,
        WIDTH="4096",
        HEIGHT="4096",
        LAYERS=",".join(["dzialki", "budynki", "uzytki", "adresy", "obreby"]),
    )
    assert r.status_code == EXC and exc_code(r) == "InvalidParameterValue"
    assert b"memory" in r.content.lower() or "pamięci".encode() in r.content.lower()


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
    assert (
        xml.status_code == EXC
        and xml["Content-Type"].startswith("text/xml")
        and exc_code(xml) == "LayerNotDefined"
    )
    assert getmap(client, "1.1.1", LAYERS="nope")["Content-Type"].startswith("application/vnd.ogc.se_xml")


@pytest.mark.parametrize(
    "crs, box111, box130",
    [
        ("EPSG:2180", "638400,469300,639000,469800", "469300,638400,469800,639000"),
        ("EPSG:4326", "21.020,52.070,21.030,52.078", "52.070,21.020,52.078,21.030"),
    ],
)
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
    r = getmap(
        client,
        CRS=crs,
        BBOX=",".join(f"{v:.8f}" for v in bbox),
        STYLES="wypelnienie",
        WIDTH="300",
        HEIGHT="300",
    )
    assert r.status_code == 200
    col, row = pixel_of(x, y, box, 300, 300)
    assert rgba(r.content, col, row)[:3] == FILL
    # GetFeatureInfo at that pixel returns that parcel
    info = get(
        client,
        VERSION="1.3.0",
        REQUEST="GetFeatureInfo",
        LAYERS="dzialki",
        QUERY_LAYERS="dzialki",
        STYLES="",
        CRS=crs,
        BBOX=",".join(f"{v:.8f}" for v in bbox),
        WIDTH="300",
        HEIGHT="300",
        INFO_FORMAT="application/json",
        I=str(col),
        J=str(row),
        TOLERANCE="0",
    )
    assert info.json()["features"][0]["properties"]["ID_DZIALKI"] == known_parcel["id"]


def test_rendering_keeps_geodjango_transforms_working(client, demo_data):
    assert getmap(client).status_code == 200
    p = Point(638_881, 469_553, srid=2180)
    p.transform(4326)
    assert abs(p.x - 21.0271) < 0.001 and abs(p.y - 52.0747) < 0.001


def test_user_styles_and_time_are_refused_or_ignored(client, demo_data):
    for key, value in (
        ("SLD", "http://169.254.169.254/latest"),
        ("SLD_BODY", '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'),
    ):
        r = getmap(client, **{key: value})
        assert r.status_code == EXC and exc_code(r) == "OperationNotSupported"
    assert getmap(client, TIME="2020-01-01' OR '1'='1").status_code == 200  # no layer has a time dimension


def test_xss_in_echoed_parameters_is_escaped(client, demo_data):
    r = getmap(client, LAYERS="<script>alert(1)</script>")
    assert b"<script>" not in r.content and exc_code(r) == "LayerNotDefined"


def test_unknown_request_and_service(client):
    r = get(client, REQUEST="Nope")
    assert r.status_code == EXC and exc_code(r) == "OperationNotSupported"
    assert (
        client.get("/ows?REQUEST=GetCapabilities").status_code == 400
    )  # SERVICE missing on /ows: an OWS 400 (WFS too)
    assert client.get("/wms?SERVICE=WMS&REQUEST=GetCapabilities").status_code == 200
    assert (
        client.post("/wms", {"SERVICE": "WMS", "REQUEST": "GetCapabilities"}).status_code == 200
    )  # form-encoded POST
    # /wms names the service, yet GetCapabilities needs SERVICE=WMS (WMS 1.3.0; the INSPIRE ETS at05), another is an error
    r = client.get("/wms?REQUEST=GetCapabilities")
    assert (
        r.status_code == EXC and exc_code(r) == "MissingParameterValue" and b'locator="SERVICE"' in r.content
    )
    r = client.get("/wms?SERVICE=WFS&REQUEST=GetCapabilities")
    assert (
        r.status_code == EXC and exc_code(r) == "InvalidParameterValue" and b'locator="SERVICE"' in r.content
    )
    r = client.get(
        "/wms?VERSION=1.3.0&REQUEST=GetMap"
    )  # GetMap implies WMS: the first thing missing is FORMAT
    assert exc_code(r) == "MissingParameterValue" and b'locator="FORMAT"' in r.content


# ------------------------------------------------------------------------------ GetFeatureInfo
def gfi(client, **over):
    params = {
        "VERSION": "1.3.0",
        "REQUEST": "GetFeatureInfo",
        "LAYERS": "dzialki",
        "QUERY_LAYERS": "dzialki",
        "STYLES": "",
        "CRS": "EPSG:2180",
        "BBOX": "469300,638400,469800,639000",
        "WIDTH": "256",
        "HEIGHT": "256",
        "INFO_FORMAT": "application/json",
        "I": "128",
        "J": "128",
    }
    params.update(over)
    return get(client, **{k: v for k, v in params.items() if v is not None})


def test_gfi_errors(client, demo_data):
    assert exc_code(gfi(client, INFO_FORMAT="image/png")) == "InvalidFormat"
    for i in ("-1", "256", "abc"):
        assert exc_code(gfi(client, I=i)) == "InvalidPoint"
    assert exc_code(gfi(client, QUERY_LAYERS="nope")) == "LayerNotDefined"
    assert (
        exc_code(gfi(client, LAYERS="dzialki,numery_dzialek", QUERY_LAYERS="numery_dzialek"))
        == "LayerNotQueryable"
    )
    assert gfi(client, LAYERS="dzialki,budynki", QUERY_LAYERS="dzialki").status_code == 200


def test_gfi_feature_count(client, demo_data):
    counts = [
        len(gfi(client, FEATURE_COUNT=str(n), TOLERANCE="25").json()["features"])
        for n in (1, 3, 10, 1000000000)
    ]
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
    html = gfi(
        client, LAYERS="obreby", QUERY_LAYERS="obreby", BBOX=bbox, INFO_FORMAT="text/html"
    ).content.decode()
    assert "<script>" not in html and "&lt;script&gt;" in html and 'lang="pl"' in html
    eng = gfi(
        client, LAYERS="obreby", QUERY_LAYERS="obreby", BBOX=bbox, INFO_FORMAT="text/html", LANGUAGE="eng"
    ).content.decode()
    assert "Precinct name" in eng
    text = gfi(client, LAYERS="obreby", QUERY_LAYERS="obreby", BBOX=bbox, INFO_FORMAT="text/plain")
    assert text["Content-Type"].startswith("text/plain") and "NAZWA_OBREBU" in text.content.decode()
    g = gfi(client, LAYERS="obreby", QUERY_LAYERS="obreby", BBOX=bbox, INFO_FORMAT="application/vnd.ogc.gml")
    doc = etree.fromstring(g.content)
    pos = doc.find(".//{http://www.opengis.net/gml/3.2}posList").text.split()
    assert (
        400_000 < float(pos[0]) < 500_000 and 600_000 < float(pos[1]) < 700_000
    )  # northing first for EPSG:2180 in 1.3.0
    assert (
        doc.find(".//{http://www.opengis.net/gml/3.2}MultiSurface").get("srsName")
        == "urn:ogc:def:crs:EPSG::2180"
    )


def _ogr_extent(tmp_path, body: bytes) -> tuple[float, ...]:
    """The layer extent as GDAL's GML driver reads a saved GetFeatureInfo answer (x = easting/longitude)."""
    path = tmp_path / "gfi.gml"
    path.write_bytes(body)
    out = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=gdal_client_env(),
        check=True,
    ).stdout
    m = re.search(r"Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)", out)
    assert m, out
    return tuple(float(g) for g in m.groups())


@pytest.mark.parametrize("info_format", ["application/vnd.ogc.gml", "application/vnd.ogc.gml/3.1.1"])
@pytest.mark.parametrize(
    "version, crs, srs_name",
    [
        ("1.3.0", "EPSG:2180", "urn:ogc:def:crs:EPSG::2180"),  # N,E: the URN form says EPSG order
        ("1.3.0", "EPSG:4326", "urn:ogc:def:crs:EPSG::4326"),  # lat,lon
        ("1.3.0", "EPSG:3857", "urn:ogc:def:crs:EPSG::3857"),  # east-first anyway
        ("1.3.0", "CRS:84", "urn:ogc:def:crs:OGC:1.3:CRS84"),
        ("1.1.1", "EPSG:2180", "EPSG:2180"),  # E,N as the 1.1.1 SRS and the EPSG:xxxx form say
        ("1.1.1", "EPSG:4326", "EPSG:4326"),
    ],
)
def test_gfi_gml_axis_order_as_gdal_reads_it(
    client, demo_data, known_parcel, tmp_path, info_format, version, crs, srs_name
):
    """The srsName form and the coordinate order go together, so GDAL (as QGIS) puts the parcel where it is."""
    epsg = 4326 if crs == "CRS:84" else int(crs.split(":")[1])
    t = Transformer.from_crs(2180, epsg, always_xy=True)
    x, y = t.transform(known_parcel["x"], known_parcel["y"])
    e = t.transform_bounds(*known_parcel["extent"])
    d = max(e[2] - e[0], e[3] - e[1])
    box = (x - d, y - d, x + d, y + d)  # the point in the middle pixel
    north_first = version == "1.3.0" and crs in ("EPSG:2180", "EPSG:4326")
    bbox = ",".join(f"{v:.8f}" for v in ((box[1], box[0], box[3], box[2]) if north_first else box))
    where = (
        {"CRS": crs, "I": "50", "J": "50"}
        if version == "1.3.0"
        else {"SRS": crs, "CRS": None, "X": "50", "Y": "50"}
    )
    r = gfi(
        client,
        VERSION=version,
        BBOX=bbox,
        WIDTH="101",
        HEIGHT="101",
        INFO_FORMAT=info_format,
        FEATURE_COUNT="1",
        TOLERANCE="1",
        **where,
    )
    assert r.status_code == 200 and r["Content-Type"].startswith(info_format)
    doc = etree.fromstring(r.content)
    assert {el.get("srsName") for el in doc.iter() if el.get("srsName")} == {srs_name}
    fid = doc.find(".//{https://gisportal.piaseczno.eu/schemas/gisportal/1.0}dzialki").get(
        f"{{{etree.QName(doc).namespace}}}id"
    )
    parcel = Parcel.objects.get(pk=int(fid.split(".")[1]))
    assert parcel.parcel_id == known_parcel["id"]
    expected = parcel.geom.transform(epsg, clone=True).extent  # x/y: easting, longitude first
    tolerance = 1e-6 if epsg == 4326 else 0.01
    got = _ogr_extent(tmp_path, r.content)
    assert all(abs(a - b) <= tolerance for a, b in zip(got, expected, strict=True)), (got, expected)


@pytest.mark.parametrize(
    "info_format, gml_ns, wfs_version",
    [
        ("application/vnd.ogc.gml/3.1.1", "http://www.opengis.net/gml", "1.1.0"),
        ("application/vnd.ogc.gml", "http://www.opengis.net/gml/3.2", "2.0.0"),
    ],
)
def test_gfi_gml_valid_against_the_wfs_application_schema(
    client, demo_data, info_format, gml_ns, wfs_version
):
    """GML 3.1.1 is asked for by its own MIME type and gets GML 3.1.1 (not 3.2), valid against GML 3.1.1 and the
    application schema the WFS describes for 1.1.0; the default GML stays 3.2, valid with the WFS 2.0 schema."""
    x, y = (
        AddressPoint.objects.current().order_by("pk").first().geom.coords
    )  # an address point in the middle pixel
    layers = "dzialki,budynki,adresy,obreby"
    r = gfi(
        client,
        LAYERS=layers,
        QUERY_LAYERS=layers,
        INFO_FORMAT=info_format,
        FEATURE_COUNT="5",
        TOLERANCE="10",
        BBOX=f"{y - 100},{x - 100},{y + 100},{x + 100}",
        WIDTH="201",
        HEIGHT="201",
        I="100",
        J="100",
    )
    assert r.status_code == 200 and r["Content-Type"] == info_format
    doc = etree.fromstring(r.content)
    assert etree.QName(doc).namespace == gml_ns and {
        etree.QName(e).namespace for e in doc.iter(f"{{{gml_ns}}}*")
    } == {gml_ns}
    other = (
        "http://www.opengis.net/gml/3.2"
        if gml_ns == "http://www.opengis.net/gml"
        else 'xmlns:gml="http://www.opengis.net/gml"'
    )
    assert other.encode() not in r.content
    kinds = {etree.QName(e).localname for e in doc.iter(f"{{{gml_ns}}}MultiSurface", f"{{{gml_ns}}}Point")}
    assert kinds == {"MultiSurface", "Point"}  # polygons and address points
    names = "TYPENAMES" if wfs_version == "2.0.0" else "TYPENAME"
    described = client.get(
        "/ows",
        {
            "SERVICE": "WFS",
            "VERSION": wfs_version,
            "REQUEST": "DescribeFeatureType",
            names: ",".join(f"gisportal:{n}" for n in layers.split(",")),
        },
    )
    assert described.status_code == 200, described.content[:300]
    schema = schema_from(described.content)
    assert schema.validate(doc), schema.error_log


# ------------------------------------------------------------------------------ GetLegendGraphic
def test_legend_graphic(client, demo_data):
    for layer in ("dzialki", "uzytki", "mpzp", "adresy", "granice"):
        r = get(client, REQUEST="GetLegendGraphic", LAYER=layer, FORMAT="image/png", VERSION="1.3.0")
        assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
    assert (
        exc_code(get(client, REQUEST="GetLegendGraphic", LAYER="nope", FORMAT="image/png"))
        == "LayerNotDefined"
    )
    assert exc_code(get(client, REQUEST="GetLegendGraphic", LAYER="dzialki", STYLE="x")) == "StyleNotDefined"
    wide = get(client, REQUEST="GetLegendGraphic", LAYER="mpzp", WIDTH="100000")
    assert wide.status_code == EXC and exc_code(wide) == "InvalidParameterValue"


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


def test_getmap_without_a_database_connection_is_a_503(client, demo_data, monkeypatch):
    """Mapnik's own connections broken beyond its one retry (the database restarting): 503, try again."""
    from ogc.render import maps

    def lost(*args, **kwargs):
        raise RuntimeError("Postgis Plugin: server closed the connection unexpectedly")

    monkeypatch.setattr(maps, "render", lost)
    r = getmap(client, EXCEPTIONS="XML")
    assert r.status_code == 503, r.content[:300]
    assert maps.connection_lost(RuntimeError("FATAL: terminating connection due to administrator command"))
    assert not maps.connection_lost(RuntimeError('column "x" does not exist'))


def test_render_draws_again_on_each_pool_whose_connection_broke(monkeypatch):
    """After the replica and the primary both restarted, Mapnik's pooled connections to each fail once: the
    replica's map, then the primary's, then the primary's on a fresh connection; a query error is not retried."""
    from gisportal.core import replica
    from ogc.render import maps

    real, calls, failures = maps.mapnik(), [], []

    class Map:
        def __init__(self, alias):
            self.alias = alias

        def resize(self, width, height):
            pass

        def zoom_to_box(self, box):
            pass

    class Mapnik:
        Color, Box2d, Image = real.Color, real.Box2d, real.Image

        @staticmethod
        def render(m, im):
            calls.append(m.alias)
            if failures:
                raise RuntimeError(failures.pop(0))

    monkeypatch.setattr(maps, "mapnik", lambda: Mapnik)
    monkeypatch.setattr(maps, "get_map", lambda layer_styles, srs, alias="default": Map(alias))
    lost = "Postgis Plugin: server closed the connection unexpectedly"
    token = replica._alias.set(replica.REPLICA)
    try:
        failures[:] = [lost, lost]
        body = maps.render((("dzialki", ""),), "epsg:2180", (0, 0, 1, 1), 8, 8, background=None, fmt="png")
        assert body[:4] == b"\x89PNG" and calls == ["replica", "default", "default"]
        calls.clear()
        failures[:] = [lost, lost, lost]
        with pytest.raises(RuntimeError):
            maps.render((("dzialki", ""),), "epsg:2180", (0, 0, 1, 1), 8, 8, background=None, fmt="png")
        assert len(calls) == 3
        calls.clear()
        failures[:] = ['column "x" does not exist']
        with pytest.raises(RuntimeError):
            maps.render((("dzialki", ""),), "epsg:2180", (0, 0, 1, 1), 8, 8, background=None, fmt="png")
        assert calls == ["replica"]
    finally:
        replica._alias.reset(token)
