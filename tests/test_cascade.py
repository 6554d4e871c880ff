"""Cascading WMS (issue 27): a fake remote WMS on loopback (capabilities 1.3.0 and 1.1.1, a solid-colour PNG,
the request parameters recorded), registered as two sources; its chosen layers offered through our WMS
(OWSLib on the live server), composed with ours, cached, passed through for feature info, and every
remote failure an OGC exception naming the source, fast, never a 500 nor the remote's body."""

from __future__ import annotations

import io
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from lxml import etree
from PIL import Image

from layers.models import RemoteSource
from layers.sources import actions, cascade

from .conftest import SHARED_DATA

pytestmark = pytest.mark.django_db
OGC = "{http://www.opengis.net/ogc}"
WMS = "{http://www.opengis.net/wms}"
COLOUR = (0, 120, 255, 255)
MARKER = "RAW-REMOTE-BODY"
# the remote's layers: name -> CRSs; all but "ukryta" are chosen
REMOTE_LAYERS = {
    "kolor": ("EPSG:2180", "EPSG:4326", "EPSG:3857", "CRS:84"),
    "wyjatek": ("EPSG:2180",),
    "wolna": ("EPSG:2180",),
    "rozmiar": ("EPSG:2180",),
    "przekierowanie": ("EPSG:2180",),
    "gmina:Działki zewn.": ("EPSG:2180",),
    "ukryta": ("EPSG:2180",),
}
CHOSEN = [n for n in REMOTE_LAYERS if n != "ukryta"]
SOURCE_TITLE = {"/wms13": "Powiat testowy WMS 1.3.0", "/wms11": "Gmina testowa WMS 1.1.1"}
TIMEOUTS = {
    "GISPORTAL_SOURCES_PRIVATE_HOSTS": ["127.0.0.1"],
    "GISPORTAL_SOURCES_TIMEOUT": 1,
    "GISPORTAL_SOURCES_DEADLINE": 3,
    "GISPORTAL_SOURCES_MAX_BYTES": 2 * 1024 * 1024,
}


def _caps(path: str) -> bytes:
    v13 = path == "/wms13"
    key = "CRS" if v13 else "SRS"
    layers = []
    for name, crss in REMOTE_LAYERS.items():
        crs_list = [c for c in crss if v13 or c != "CRS:84"]
        crs = "".join(f"<{key}>{c}</{key}>" for c in crs_list)
        if v13:
            box = (
                "<EX_GeographicBoundingBox><westBoundLongitude>20.9</westBoundLongitude>"
                "<eastBoundLongitude>21.2</eastBoundLongitude><southBoundLatitude>52.0</southBoundLatitude>"
                "<northBoundLatitude>52.2</northBoundLatitude></EX_GeographicBoundingBox>"
            )
        else:
            box = '<LatLonBoundingBox minx="20.9" miny="52.0" maxx="21.2" maxy="52.2"/>'
        layers.append(
            f'<Layer queryable="1"><Name>{name}</Name><Title>Warstwa {name}</Title>{crs}{box}</Layer>'
        )
    body = "".join(layers)
    title = SOURCE_TITLE[path]
    if v13:
        doc = (
            '<?xml version="1.0" encoding="UTF-8"?><WMS_Capabilities version="1.3.0" '
            'xmlns="http://www.opengis.net/wms" xmlns:xlink="http://www.w3.org/1999/xlink">'
            f"<Service><Name>WMS</Name><Title>{title}</Title>"
            '<OnlineResource xlink:href="http://example.invalid/"/></Service><Capability><Request>'
            "<GetCapabilities><Format>text/xml</Format></GetCapabilities>"
            "<GetMap><Format>image/png</Format></GetMap></Request><Exception><Format>XML</Format></Exception>"
            f"<Layer><Title>root</Title>{body}</Layer></Capability></WMS_Capabilities>"
        )
    else:
        doc = (
            '<?xml version="1.0" encoding="UTF-8"?><WMT_MS_Capabilities version="1.1.1">'
            f"<Service><Name>OGC:WMS</Name><Title>{title}</Title>"
            '<OnlineResource xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="http://example.invalid/"/>'
            "</Service><Capability><Request><GetCapabilities><Format>application/vnd.ogc.wms_xml</Format>"
            "</GetCapabilities><GetMap><Format>image/png</Format></GetMap></Request>"
            "<Exception><Format>application/vnd.ogc.se_xml</Format></Exception>"
            f"<Layer><Title>root</Title>{body}</Layer></Capability></WMT_MS_Capabilities>"
        )
    return doc.encode()


def _png(width: int, height: int, colour=COLOUR) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), colour).save(out, "PNG")
    return out.getvalue()


class FakeWMS(BaseHTTPRequestHandler):
    seen: list[dict] = []
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def _send(self, body: bytes, ctype="text/xml", status=200, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = urlsplit(self.path)
        q = {k.upper(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        with FakeWMS.lock:
            FakeWMS.seen.append({"path": parts.path, **q})
        try:
            op = q.get("REQUEST", "").lower()
            if op == "getcapabilities":
                self._send(_caps(parts.path))
            elif op == "getmap":
                self._getmap(q)
            elif op == "getfeatureinfo":
                fmt = q.get("INFO_FORMAT", "")
                if q.get("QUERY_LAYERS") in ("wyjatek", "przekierowanie"):
                    self._getmap({**q, "LAYERS": q["QUERY_LAYERS"]})
                elif fmt == "text/plain":
                    self._send(b"Layer 'kolor'\n  kolor = niebieski\n", "text/plain")
                elif fmt == "application/json":
                    self._send(b'{"type": "FeatureCollection", "features": []}', "application/json")
                else:
                    self._send(b"<html><script>alert(1)</script></html>", "text/html")
            else:
                self._send(b"not found", "text/plain", 404)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _getmap(self, q):
        layer = q.get("LAYERS", "")
        w, h = int(q.get("WIDTH", "1")), int(q.get("HEIGHT", "1"))
        if layer == "wyjatek":
            self._send(
                f'<?xml version="1.0"?><!-- {MARKER} --><ServiceExceptionReport version="1.3.0" '
                'xmlns="http://www.opengis.net/ogc"><ServiceException code="LayerNotDefined">'
                "Brak danych dla tej warstwy</ServiceException></ServiceExceptionReport>".encode()
            )
        elif layer == "wolna":
            time.sleep(2.5)
            self._send(_png(w, h), "image/png")
        elif layer == "rozmiar":
            self._send(_png(w + 1, h), "image/png")
        elif layer == "przekierowanie":
            self._send(b"", status=302, headers=[("Location", "http://10.0.0.1/wms")])
        else:
            self._send(_png(w, h), "image/png")


def seen(**match) -> list[dict]:
    with FakeWMS.lock:
        return [s for s in FakeWMS.seen if all(s.get(k) == v for k, v in match.items())]


@pytest.fixture(scope="module")
def remote(demo_data, django_db_blocker):
    """The fake remote WMS registered (committed: the live server sees it) as a 1.3.0 and a 1.1.1 source."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWMS)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    # set and restored by hand: an override_settings() holder would also swallow what a session fixture
    # created meanwhile sets (live_url's GISPORTAL_PUBLIC_URL) and drop it at the end of this module
    from django.conf import settings

    old = {k: getattr(settings, k) for k in TIMEOUTS}
    for k, v in TIMEOUTS.items():
        setattr(settings, k, v)
    sources = {}
    try:
        with django_db_blocker.unblock():
            for path in ("/wms13", "/wms11"):
                source = actions.source_add(base + path, "wms")
                sources[path] = actions.source_choose(source.pk, CHOSEN)
        names = {path: {n: cascade.local_name(s.pk, n) for n in REMOTE_LAYERS} for path, s in sources.items()}
        yield {"base": base, "sources": sources, "names": names}
    finally:
        with django_db_blocker.unblock():
            RemoteSource.objects.filter(pk__in=[s.pk for s in sources.values()]).delete()
        for k, v in old.items():
            setattr(settings, k, v)
        server.shutdown()
        server.server_close()


def wms(client, **params):
    return client.get("/ows?" + urlencode({"SERVICE": "WMS", **params}))


def getmap(client, layers, version="1.3.0", box130="469300,638400,469800,639000", **over):
    n0, e0, n1, e1 = box130.split(",")
    params = {
        "VERSION": version,
        "REQUEST": "GetMap",
        "LAYERS": layers,
        "STYLES": "",
        "FORMAT": "image/png",
        "TRANSPARENT": "TRUE",
        "WIDTH": "200",
        "HEIGHT": "160",
    }
    if version == "1.3.0":
        params.update({"CRS": "EPSG:2180", "BBOX": box130})
    else:
        params.update({"SRS": "EPSG:2180", "BBOX": f"{e0},{n0},{e1},{n1}"})
    params.update(over)
    return wms(client, **{k: v for k, v in params.items() if v is not None})


def exception(resp) -> tuple[str, str]:
    root = etree.fromstring(resp.content)
    el = root.find(f".//{OGC}ServiceException")
    if el is None:
        el = root.find(".//ServiceException")
    return el.get("code"), el.text or ""


def rgba(body: bytes):
    return Image.open(io.BytesIO(body)).convert("RGBA")


# ---------------------------------------------------------------- names and what is offered
def test_local_names():
    assert cascade.local_name(7, "kolor") == "zdalna_7_kolor"
    odd = cascade.local_name(7, "gmina:Działki zewn.")
    assert odd.startswith("zdalna_7_gmina_dzialki_zewn_") and odd == cascade.local_name(
        7, "gmina:Działki zewn."
    )
    long = cascade.local_name(123456, "x" * 200)
    assert len(long) <= 60 and long.startswith("zdalna_123456_x")
    for name in (odd, long, cascade.local_name(1, "???"), cascade.local_name(1, "Ąę/ŁÓ")):
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789_") and len(name) <= 60
    assert cascade.local_name(1, "a:b") != cascade.local_name(1, "a_b")


def test_only_chosen_layers_of_sources_in_order(remote):
    offered = {c.name: c for c in cascade.cascaded_layers()}
    for path in ("/wms13", "/wms11"):
        names = remote["names"][path]
        assert names["ukryta"] not in offered  # not chosen: not offered
        kolor = offered[names["kolor"]]
        assert kolor.version == ("1.3.0" if path == "/wms13" else "1.1.1")
        assert kolor.source_title == SOURCE_TITLE[path]
        assert "EPSG:2180" in kolor.crs and kolor.bbox == (20.9, 52.0, 21.2, 52.2)
    # a failed source is not offered
    RemoteSource.objects.filter(pk=remote["sources"]["/wms11"].pk).update(status="failed")
    assert remote["names"]["/wms11"]["kolor"] not in {c.name for c in cascade.cascaded_layers()}


# ---------------------------------------------------------------- capabilities
@pytest.mark.parametrize("version", ["1.3.0", "1.1.1"])
def test_owslib_sees_the_cascaded_layers(live_url, remote, version):
    from owslib.wms import WebMapService

    service = WebMapService(f"{live_url}/ows", version=version, timeout=60)
    kolor = remote["names"]["/wms13"]["kolor"]
    assert kolor in service.contents and "dzialki" in service.contents
    layer = service.contents[kolor]
    assert layer.title == "Warstwa kolor"
    crs = {c if isinstance(c, str) else c[-1] for c in layer.crsOptions}
    assert "EPSG:2180" in crs and "EPSG:4326" in crs
    assert 20.8 < layer.boundingBoxWGS84[0] < 21.0
    assert remote["names"]["/wms13"]["ukryta"] not in service.contents
    only_2180 = service.contents[remote["names"]["/wms11"]["wyjatek"]]
    assert "EPSG:4326" not in {c if isinstance(c, str) else c[-1] for c in only_2180.crsOptions}
    assert "dzialki" in service.contents and "EPSG:4326" in service.contents["dzialki"].crsOptions


def test_caps_130_cascaded_valid(client, remote, ogc_schemas):
    r = wms(client, REQUEST="GetCapabilities", VERSION="1.3.0")
    doc = etree.fromstring(r.content)
    cascaded = [el for el in doc.iter(f"{WMS}Layer") if el.get("cascaded") == "1"]
    by_name = {el.findtext(f"{WMS}Name"): el for el in cascaded}
    assert set(by_name) == {
        n for p in ("/wms13", "/wms11") for k, n in remote["names"][p].items() if k != "ukryta"
    }
    group = cascaded[0].getparent()
    assert group.findtext(f"{WMS}Title") == "Źródła zewnętrzne"
    kolor = by_name[remote["names"]["/wms13"]["kolor"]]
    assert kolor.findtext(f"{WMS}Attribution/{WMS}Title") == SOURCE_TITLE["/wms13"]
    assert kolor.findtext(f"{WMS}EX_GeographicBoundingBox/{WMS}westBoundLongitude") == "20.900000"
    # the CRSs both sides offer (the root lists only those common to every child), one box per CRS
    root = doc.find(f"{WMS}Capability/{WMS}Layer")
    assert [c.text for c in root.findall(f"{WMS}CRS")] == ["EPSG:2180"]
    own = [c.text for c in kolor.findall(f"{WMS}CRS")]
    assert own == ["EPSG:4326", "EPSG:3857", "CRS:84"]
    assert [b.get("CRS") for b in kolor.findall(f"{WMS}BoundingBox")] == ["EPSG:2180", *own]
    box2180 = kolor.find(f"{WMS}BoundingBox[@CRS='EPSG:2180']")
    # N,E in 1.3.0: northing ~461 000 first, easting ~630 000 second
    assert 440_000 < float(box2180.get("minx")) < 500_000 < 600_000 < float(box2180.get("miny"))
    wyjatek = by_name[remote["names"]["/wms11"]["wyjatek"]]
    assert wyjatek.findall(f"{WMS}CRS") == [] and len(wyjatek.findall(f"{WMS}BoundingBox")) == 1
    ext = doc.find(
        f"{WMS}Capability/{{http://inspire.ec.europa.eu/schemas/inspire_vs/1.0}}ExtendedCapabilities"
    )
    ext.getparent().remove(ext)
    schema = ogc_schemas("wms/1.3.0/capabilities_1_3_0.xsd")
    assert schema.validate(doc), schema.error_log


def test_caps_111_cascaded_valid(client, remote):
    r = wms(client, REQUEST="GetCapabilities", VERSION="1.1.1", LANGUAGE="eng")
    doc = etree.fromstring(r.content, etree.XMLParser(resolve_entities=False, no_network=True))
    dtd = etree.DTD(str(SHARED_DATA / "ogc-schemas" / "wms" / "1.1.1" / "WMS_MS_Capabilities.dtd"))
    assert dtd.validate(doc), dtd.error_log.filter_from_errors()
    kolor = next(el for el in doc.iter("Layer") if el.findtext("Name") == remote["names"]["/wms11"]["kolor"])
    assert kolor.get("cascaded") == "1" and kolor.getparent().findtext("Title") == "External sources"
    assert kolor.findtext("Attribution/Title") == SOURCE_TITLE["/wms11"]


@pytest.mark.parametrize("role", ["anonymous", "citizen"])
def test_public_users_see_the_layer(client, remote, make_user, role):
    if role == "citizen":
        client.force_login(make_user("obywatel_kaskada", "citizen"))
    name = remote["names"]["/wms13"]["kolor"]
    assert name.encode() in wms(client, REQUEST="GetCapabilities", VERSION="1.3.0").content
    r = getmap(client, name, box130="469000,638000,469100,638100")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    page = client.get("/").content.decode()
    assert f'value="{name}"' in page and "data-cascaded" in page  # the map's layer list


# ---------------------------------------------------------------- GetMap
def test_getmap_composes_remote_under_ours(client, remote):
    name = remote["names"]["/wms13"]["kolor"]
    ours = rgba(getmap(client, "dzialki").content)
    both = getmap(client, f"{name},dzialki")
    assert both.status_code == 200 and both["Content-Type"] == "image/png", both.content[:300]
    composed = rgba(both.content)
    assert composed.size == ours.size == (200, 160)
    empty = drawn = 0
    for xy in ((x, y) for x in range(0, 200, 3) for y in range(0, 160, 3)):
        o, c = ours.getpixel(xy), composed.getpixel(xy)
        if o[3] == 0:
            assert c == COLOUR, xy
            empty += 1
        elif o[3] == 255:
            assert c == o, xy
            drawn += 1
    assert empty > 100 and drawn > 10  # both show
    # the other order: the remote's opaque image over ours
    over = rgba(getmap(client, f"dzialki,{name}").content)
    assert over.getcolors() == [(200 * 160, COLOUR)]
    # opaque JPEG and 8-bit PNG are composed too
    for fmt, mime in (("image/jpeg", "image/jpeg"), ("image/png; mode=8bit", "image/png")):
        r = getmap(client, f"{name},dzialki", FORMAT=fmt, TRANSPARENT="FALSE")
        assert r.status_code == 200 and r["Content-Type"] == mime
        assert Image.open(io.BytesIO(r.content)).size == (200, 160)


@pytest.mark.parametrize("source", ["/wms13", "/wms11"])
@pytest.mark.parametrize("our_version", ["1.3.0", "1.1.1"])
def test_remote_gets_its_axis_order(client, remote, source, our_version):
    name = remote["names"][source]["kolor"]
    box = f"469{source[-2:]}{our_version[2]},638000,469900,638600"  # unique per case (no cache hit)
    n0, e0, n1, e1 = (float(v) for v in box.split(","))
    assert getmap(client, name, version=our_version, box130=box).status_code == 200
    asked = seen(path=source, REQUEST="GetMap", LAYERS="kolor", WIDTH="200")
    got = [s for s in asked if {float(v) for v in s["BBOX"].split(",")} == {n0, e0, n1, e1}]
    assert len(got) == 1, asked
    got = got[0]
    bbox = tuple(float(v) for v in got["BBOX"].split(","))
    if source == "/wms13":
        assert got["VERSION"] == "1.3.0" and got["CRS"] == "EPSG:2180" and "SRS" not in got
        assert bbox == (n0, e0, n1, e1)  # northing first: the authority order of EPSG:2180
    else:
        assert got["VERSION"] == "1.1.1" and got["SRS"] == "EPSG:2180" and "CRS" not in got
        assert bbox == (e0, n0, e1, n1)  # easting first
    assert got["TRANSPARENT"] == "TRUE" and got["FORMAT"] == "image/png" and got["STYLES"] == ""


def test_remote_4326_lat_lon_in_130(client, remote):
    name = remote["names"]["/wms13"]["kolor"]
    r = wms(
        client,
        VERSION="1.3.0",
        REQUEST="GetMap",
        LAYERS=name,
        STYLES="",
        CRS="EPSG:4326",
        BBOX="52.05,21.01,52.06,21.03",
        WIDTH="100",
        HEIGHT="50",
        FORMAT="image/png",
    )
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    got = [s for s in seen(path="/wms13", REQUEST="GetMap", CRS="EPSG:4326") if s["WIDTH"] == "100"]
    assert [tuple(float(v) for v in s["BBOX"].split(",")) for s in got] == [(52.05, 21.01, 52.06, 21.03)]


def test_second_getmap_from_the_cache(client, remote):
    name = remote["names"]["/wms11"]["kolor"]
    box = "469123,638123,469456,638456"

    def count():
        return len(
            [s for s in seen(path="/wms11", REQUEST="GetMap") if s["BBOX"] == "638123,469123,638456,469456"]
        )

    first = getmap(client, name, box130=box)
    assert first.status_code == 200 and count() == 1
    second = getmap(client, name, box130=box)
    assert second.status_code == 200 and second.content == first.content
    assert count() == 1  # served from the cache


@pytest.mark.parametrize(
    "layer, words",
    [
        ("wyjatek", "Brak danych dla tej warstwy"),
        ("wolna", "did not answer in time"),
        ("rozmiar", "201×160"),
        ("przekierowanie", "10.0.0.1"),
    ],
)
@pytest.mark.parametrize("source", ["/wms13", "/wms11"])
def test_remote_failures_are_ogc_exceptions(client, remote, layer, words, source):
    name = remote["names"][source][layer]
    started = time.monotonic()
    r = getmap(client, f"dzialki,{name}", box130="469000,638000,469500,638500", LANGUAGE="eng")
    took = time.monotonic() - started
    assert r.status_code == 200 and r["Content-Type"].startswith("text/xml"), r.content[:200]
    code, text = exception(r)
    assert code == "OperationProcessingFailed"
    assert SOURCE_TITLE[source] in text and words in text, text
    assert MARKER not in r.content.decode() and "<html" not in r.content.decode()
    assert took < 6
    if layer == "przekierowanie":
        assert len(seen(path=source, REQUEST="GetMap", LAYERS="przekierowanie")) == 1  # not followed
    # 1.1.1 answers in its own exception format
    r = getmap(client, name, version="1.1.1", box130="469000,638000,469500,638500")
    assert (
        r["Content-Type"].startswith("application/vnd.ogc.se_xml")
        and exception(r)[0] == "OperationProcessingFailed"
    )


def test_remote_failure_in_image(client, remote):
    name = remote["names"]["/wms13"]["wyjatek"]
    r = getmap(client, name, EXCEPTIONS="INIMAGE", TRANSPARENT="FALSE")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert r["X-OGC-Exception"] == "OperationProcessingFailed"
    r = getmap(client, name, EXCEPTIONS="BLANK", TRANSPARENT="FALSE", BGCOLOR="0xFF0000")
    assert r.status_code == 200 and rgba(r.content).getcolors() == [(200 * 160, (255, 0, 0, 255))]


def test_crs_the_remote_does_not_offer(client, remote):
    name = remote["names"]["/wms13"]["wyjatek"]  # EPSG:2180 only
    before = len(seen(LAYERS="wyjatek", CRS="EPSG:4326"))
    r = getmap(client, name, CRS="EPSG:4326", box130="52.0,21.0,52.1,21.1")
    assert exception(r)[0] == "InvalidCRS"
    r = getmap(client, name, version="1.1.1", SRS="EPSG:3857", BBOX="2337000,6816000,2338000,6817000")
    assert exception(r)[0] == "InvalidSRS"
    assert len(seen(LAYERS="wyjatek", CRS="EPSG:4326")) == before  # nothing asked


def test_unknown_style_and_hidden_layer(client, remote):
    names = remote["names"]["/wms13"]
    assert exception(getmap(client, names["kolor"], STYLES="inny"))[0] == "StyleNotDefined"
    assert exception(getmap(client, names["ukryta"]))[0] == "LayerNotDefined"
    assert exception(getmap(client, "zdalna_999999_kolor"))[0] == "LayerNotDefined"


def test_size_limits_apply(client, remote):
    name = remote["names"]["/wms13"]["kolor"]
    for w in ("4097", "0", "abc"):
        r = getmap(client, name, WIDTH=w)
        assert exception(r)[0] == "InvalidParameterValue"
    assert not [s for s in seen(LAYERS="kolor") if s.get("WIDTH") in ("4097", "0", "abc")]


# ---------------------------------------------------------------- GetFeatureInfo
def gfi(client, layers, query, fmt, version="1.3.0"):
    params = {
        "VERSION": version,
        "REQUEST": "GetFeatureInfo",
        "LAYERS": layers,
        "QUERY_LAYERS": query,
        "STYLES": "",
        "WIDTH": "200",
        "HEIGHT": "160",
        "INFO_FORMAT": fmt,
        "FEATURE_COUNT": "3",
    }
    if version == "1.3.0":
        params.update({"CRS": "EPSG:2180", "BBOX": "469300,638400,469800,639000", "I": "50", "J": "40"})
    else:
        params.update({"SRS": "EPSG:2180", "BBOX": "638400,469300,639000,469800", "X": "50", "Y": "40"})
    return wms(client, **params)


@pytest.mark.parametrize("source", ["/wms13", "/wms11"])
def test_featureinfo_passes_through(client, remote, source):
    name = remote["names"][source]["kolor"]
    r = gfi(client, f"dzialki,{name}", name, "text/plain")
    assert r.status_code == 200 and r["Content-Type"] == "text/plain"
    assert r.content == b"Layer 'kolor'\n  kolor = niebieski\n"
    asked = seen(path=source, REQUEST="GetFeatureInfo", INFO_FORMAT="text/plain")[-1]
    assert asked["QUERY_LAYERS"] == "kolor" and asked["FEATURE_COUNT"] == "3"
    assert (
        (asked["I"], asked["J"]) == ("50", "40")
        if source == "/wms13"
        else (asked["X"], asked["Y"]) == ("50", "40")
    )
    r = gfi(client, name, name, "application/json", version="1.1.1")
    assert r["Content-Type"] == "application/json" and r.json() == {
        "type": "FeatureCollection",
        "features": [],
    }


def test_featureinfo_html_refused(client, remote):
    name = remote["names"]["/wms13"]["kolor"]
    before = len(seen(REQUEST="GetFeatureInfo"))
    r = gfi(client, name, name, "text/html")
    assert r.status_code == 200 and exception(r)[0] == "InvalidFormat"
    assert b"<script>" not in r.content
    assert len(seen(REQUEST="GetFeatureInfo")) == before  # the remote was not asked


def test_featureinfo_mixed_answers_the_first(client, remote):
    name = remote["names"]["/wms13"]["kolor"]
    before = len(seen(REQUEST="GetFeatureInfo"))
    r = gfi(client, f"dzialki,{name}", f"dzialki,{name}", "application/json")
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    assert {f["layer"] for f in r.json()["features"]} <= {"dzialki"}
    assert len(seen(REQUEST="GetFeatureInfo")) == before  # ours first: the remote not asked
    r = gfi(client, f"dzialki,{name}", f"{name},dzialki", "text/plain")
    assert r.content.startswith(b"Layer 'kolor'")


def test_featureinfo_remote_exception(client, remote):
    name = remote["names"]["/wms13"]["przekierowanie"]
    r = gfi(client, name, name, "text/plain")
    code, text = exception(r)
    assert code == "OperationProcessingFailed" and SOURCE_TITLE["/wms13"] in text


# ---------------------------------------------------------------- the map portal in a browser
def test_map_draws_the_cascaded_layer_through_our_wms(live_url, remote, browser):
    """Ticking the external layer draws it (the remote's colour on the map canvas) from our /ows; the
    browser never calls the remote."""
    name = remote["names"]["/wms11"]["kolor"]
    asked: list[str] = []
    page = browser.new_page(viewport={"width": 1000, "height": 700}, locale="pl-PL")
    try:
        page.on("request", lambda r: asked.append(r.url))
        page.goto(f"{live_url}/")
        box = page.locator(f"#layer-list input[value='{name}']")
        assert box.is_visible() and not box.is_checked()
        assert "Źródła zewnętrzne" in page.inner_text("#layer-list")
        with page.expect_response(lambda r: f"LAYERS={name}" in r.url, timeout=30000) as answer:
            box.check()
        assert answer.value.status == 200 and answer.value.headers["content-type"] == "image/png"
        page.wait_for_function(
            """() => Array.from(document.querySelectorAll('#map canvas')).some((c) => {
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              for (let i = 0; i < d.length; i += 64) if (d[i] === 0 && d[i + 1] === 120 && d[i + 2] === 255) return true;
              return false;
            })""",
            timeout=30000,
        )
    finally:
        page.close()
    assert asked and all(u.startswith(live_url) or u.startswith("data:") for u in asked), [
        u for u in asked if not u.startswith(live_url)
    ][:5]
    assert not any(remote["base"] in u for u in asked)


def test_slow_sources_share_one_budget(client, remote, settings):
    """Two slow remote layers in one GetMap do not add their waits up: the map has one budget."""
    settings.GISPORTAL_CASCADE_BUDGET = 2
    slow = [remote["names"][s]["wolna"] for s in ("/wms13", "/wms11")]
    started = time.monotonic()
    r = getmap(client, ",".join(slow), box130="469000,638000,469500,638500", LANGUAGE="eng")
    took = time.monotonic() - started
    assert exception(r)[0] == "OperationProcessingFailed" and "did not answer in time" in exception(r)[1]
    assert took < 2.8, took  # the first source's wait is cut at the budget, the second is not asked


def test_http_get_until_in_the_past_is_refused_at_once(remote):
    from layers.sources import http
    from layers.sources.http import SourceError

    with pytest.raises(SourceError) as e:
        http.get(remote["base"] + "/wms13?SERVICE=WMS&REQUEST=GetCapabilities", until=time.monotonic() - 1)
    assert e.value.code == "timeout"
