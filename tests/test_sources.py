"""Remote OGC sources (issue 27, first part): our own hub as the remote (live_url serves /ows and /ogcapi),
hostile local fakes for the outbound client's limits, the `sources` command and the staff page."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gisportal.core.errors import InvalidInput
from layers.models import RemoteSource
from layers.sources import actions, http
from layers.sources.http import SourceError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sources_settings(settings):
    settings.GISPORTAL_SOURCES_PRIVATE_HOSTS = ["127.0.0.1"]
    settings.GISPORTAL_SOURCES_TIMEOUT = 1
    settings.GISPORTAL_SOURCES_DEADLINE = 3
    settings.GISPORTAL_SOURCES_MAX_BYTES = 1024 * 1024


def _crs_has(layer: dict, code: str) -> bool:
    return any(c.endswith(code) or c.endswith(f"/{code}") for c in layer["crs"])


# ---------------------------------------------------------------- our hub as the remote
@pytest.mark.parametrize("kind,path", [("wms", "/ows"), ("wfs", "/ows"), ("ogcapi", "/ogcapi")])
def test_add_our_hub(live_url, kind, path, settings):
    settings.GISPORTAL_SOURCES_TIMEOUT = 60
    settings.GISPORTAL_SOURCES_DEADLINE = 120
    settings.GISPORTAL_SOURCES_MAX_BYTES = 20 * 1024 * 1024
    given = (
        f"{live_url}{path}?SERVICE=X&map=a" if kind != "ogcapi" else f"{live_url}{path}/collections/?f=json"
    )
    source = actions.source_add(given, kind, office_code="1418")
    assert source.status == "ok" and source.kind == kind and source.office_code == "1418"
    assert source.url == (f"{live_url}{path}?map=a" if kind != "ogcapi" else f"{live_url}/ogcapi")
    layers = {layer["name"].split(":")[-1]: layer for layer in source.capabilities["layers"]}
    assert {"dzialki", "budynki", "obreby", "adresy"} <= set(layers)
    assert _crs_has(layers["dzialki"], "2180")
    if kind != "wfs":
        assert layers["dzialki"]["bbox"] and 20 < layers["dzialki"]["bbox"][0] < 22  # lon of Piaseczno
    assert source.capabilities["version"] in {"wms": ("1.3.0",), "wfs": ("2.0.0",), "ogcapi": ("1.0",)}[kind]
    # the same source twice: refused
    with pytest.raises(SourceError) as e:
        actions.source_add(given, kind)
    assert e.value.code == "duplicate"
    # refresh and choose
    assert actions.source_refresh(source.pk).status == "ok"
    name = source.capabilities["layers"][0]["name"]
    assert actions.source_choose(source.pk, [name, name]).chosen == [name]
    with pytest.raises(InvalidInput) as refused:
        actions.source_choose(source.pk, ["nie_ma"])
    assert "nie_ma" in str(refused.value)  # the message names the layer (in the user's language)


def test_refresh_failure_is_recorded(live_url, settings):
    source = RemoteSource.objects.create(kind="wms", url="http://127.0.0.1:9/ows", title="gone")
    refreshed = actions.source_refresh(source.pk)
    assert refreshed.status == "failed" and refreshed.last_error


# ---------------------------------------------------------------- hostile fakes
class Hostile(BaseHTTPRequestHandler):
    seen: list[str] = []

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
        Hostile.seen.append(self.path)
        path = self.path.split("?", 1)[0]
        try:
            if path == "/slow":
                time.sleep(2.5)
                self._send(b"<WMS_Capabilities/>")
            elif path == "/trickle":  # each byte in time, the whole answer never
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.end_headers()
                for _ in range(40):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.3)
            elif path == "/invalid":
                self._send(b"<WMS_Capabilities version='1.3.0'><Service><Title>x</Ser")
            elif path == "/xxe":
                self._send(
                    b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                    b'<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms">'
                    b"<Service><Title>&x;</Title></Service></WMS_Capabilities>"
                )
            elif path == "/xxe111":  # WMS 1.1.1's DOCTYPE, with an internal subset
                self._send(
                    b'<!DOCTYPE WMT_MS_Capabilities SYSTEM "x.dtd" [<!ENTITY % p SYSTEM "http://10.0.0.1/">%p;]>'
                    b'<WMT_MS_Capabilities version="1.1.1"/>'
                )
            elif path == "/dtd":  # an external DTD on another host
                self._send(
                    b'<!DOCTYPE WMS_Capabilities SYSTEM "http://169.254.169.254/x.dtd">'
                    b'<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms"/>'
                )
            elif path == "/claimed":  # 2 GB claimed
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(2 * 1024**3))
                self.end_headers()
                self.wfile.write(b"<" * 65536)
            elif path == "/streamed":  # 2 GB streamed, no length
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.end_headers()
                chunk = b"<a>" * 21846
                for _ in range(2 * 1024**3 // len(chunk)):
                    self.wfile.write(chunk)
            elif path.startswith("/redirect/"):
                self._send(
                    b"", status=302, headers=[("Location", "http://" + path.split("/", 2)[2] + "/ows")]
                )
            elif path == "/exception":
                self._send(
                    b'<ServiceExceptionReport version="1.3.0"><ServiceException>nope</ServiceException>'
                    b"</ServiceExceptionReport>"
                )
            else:
                self._send(b"not found", "text/plain", 404)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def hostile():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "path,code",
    [
        ("/slow", "timeout"),
        ("/trickle", "timeout"),
        ("/invalid", "xml_invalid"),
        ("/xxe", "xml_dtd"),
        ("/xxe111", "xml_dtd"),
        ("/dtd", "xml_dtd"),
        ("/claimed", "too_large"),
        ("/streamed", "too_large"),
        ("/redirect/10.0.0.1", "redirect"),
        ("/redirect/169.254.169.254", "redirect"),
        ("/exception", "service_exception"),
        ("/missing", "http_status"),
    ],
)
def test_hostile_source_refused(hostile, path, code):
    Hostile.seen.clear()
    started = time.monotonic()
    with pytest.raises(SourceError) as e:
        actions.source_add(f"http://127.0.0.1:{hostile}{path}", "wms")
    assert e.value.code == code, e.value.message
    assert str(e.value.message)
    assert time.monotonic() - started < 8
    assert not RemoteSource.objects.exists()
    if code == "redirect":
        assert path.split("/", 2)[2] in str(e.value.message)
        assert len(Hostile.seen) == 1  # fetched once, the redirect not followed


def test_private_address_refused(hostile):
    for url in (f"http://localhost:{hostile}/xxe", "http://10.0.0.1/ows", "http://[::1]:80/ows"):
        with pytest.raises(SourceError) as e:
            actions.source_add(url, "wfs")
        assert e.value.code == "private_address", url
    assert not RemoteSource.objects.exists()


def test_addresses_refused():
    for url, code in (
        ("ftp://example.com/ows", "invalid_url"),
        ("http://user:secret@example.com/ows", "credentials_in_url"),
        ("file:///etc/passwd", "invalid_url"),
    ):
        with pytest.raises(SourceError) as e:
            actions.source_add(url, "wms")
        assert e.value.code == code
    with pytest.raises(SourceError) as e:
        actions.source_add("http://example.com/ows", "wcs")
    assert e.value.code == "kind"


def test_client_goes_only_to_registered_sources(hostile):
    with pytest.raises(SourceError) as e:
        http.get(f"http://127.0.0.1:{hostile}/missing")
    assert e.value.code == "not_registered"
    RemoteSource.objects.create(kind="wms", url=f"http://127.0.0.1:{hostile}/ows")
    with pytest.raises(SourceError) as e:
        http.get(f"http://127.0.0.1:{hostile}/missing")
    assert e.value.code == "http_status"  # allowed now: the fake's 404
    with pytest.raises(SourceError) as e:
        http.get(f"http://127.0.0.1:{hostile + 1 if hostile < 65535 else hostile - 1}/ows")
    assert e.value.code == "not_registered"


def test_normalise_url():
    assert http.normalise_url(" HTTP://Example.COM:80/ows?service=WMS&Request=x&map=m#f ") == (
        "http://example.com/ows?map=m"
    )
    assert http.normalise_url("https://example.com:8443") == "https://example.com:8443/"


# ---------------------------------------------------------------- command and pages
def test_command(live_url, hostile, settings):
    settings.GISPORTAL_SOURCES_TIMEOUT = 60
    settings.GISPORTAL_SOURCES_DEADLINE = 120
    settings.GISPORTAL_SOURCES_MAX_BYTES = 20 * 1024 * 1024
    out = StringIO()
    call_command("sources", "add", f"{live_url}/ows", "--kind", "wfs", stdout=out)
    assert "dzialki" in out.getvalue() and "2180" in out.getvalue()
    source = RemoteSource.objects.get()
    out = StringIO()
    call_command("sources", "list", stdout=out)
    assert f"{source.pk}\twfs\tok" in out.getvalue()
    out = StringIO()
    call_command("sources", "refresh", str(source.pk), stdout=out)
    assert "dzialki" in out.getvalue()
    with pytest.raises(CommandError, match="DOCTYPE"):
        call_command("sources", "add", f"http://127.0.0.1:{hostile}/xxe", "--kind", "wms", stdout=StringIO())
    assert RemoteSource.objects.count() == 1


def test_staff_page(client, live_url, make_user, settings):
    settings.GISPORTAL_SOURCES_TIMEOUT = 60
    settings.GISPORTAL_SOURCES_DEADLINE = 120
    settings.GISPORTAL_SOURCES_MAX_BYTES = 20 * 1024 * 1024
    client.force_login(make_user("obywatel", "citizen"))
    assert client.get("/urzad/zrodla/").status_code == 403
    assert client.post("/urzad/zrodla/", {"url": f"{live_url}/ows", "kind": "wms"}).status_code == 403
    assert not RemoteSource.objects.exists()
    client.force_login(make_user("urzednik", "clerk"))
    page = client.get("/urzad/zrodla/")
    assert page.status_code == 200
    r = client.post("/urzad/zrodla/", {"url": "http://10.0.0.1/ows", "kind": "wms"})
    assert r.status_code == 400 and "10.0.0.1" in r.content.decode()
    r = client.post("/urzad/zrodla/", {"url": f"{live_url}/ows", "kind": "wms"})
    assert r.status_code == 302
    source = RemoteSource.objects.get()
    assert source.added_by.username == "urzednik"
    page = client.get(r["Location"]).content.decode()
    assert "dzialki" in page and "EPSG:2180" in page
    r = client.post(r["Location"], {"action": "choose", "names": ["dzialki", "budynki"]})
    assert r.status_code == 302
    source.refresh_from_db()
    assert set(source.chosen) == {"dzialki", "budynki"}
    assert client.get("/urzad/zrodla/").content.decode().count(source.url) >= 1
    client.force_login(make_user("obywatel2", "citizen"))
    assert client.get(f"/urzad/zrodla/{source.pk}/").status_code == 403


@pytest.mark.parametrize("service,version", [("WMS", "1.1.1"), ("WFS", "1.1.0")])
def test_older_versions_read(live_url, service, version):
    import requests

    from layers.sources import capabilities

    key = "VERSION" if service == "WMS" else "ACCEPTVERSIONS"
    body = requests.get(
        f"{live_url}/ows", params={"SERVICE": service, "REQUEST": "GetCapabilities", key: version}, timeout=60
    ).content
    read = capabilities.read_wms if service == "WMS" else capabilities.read_wfs
    caps = read(f"{live_url}/ows", body)
    assert caps["version"] == version
    layers = {layer["name"].split(":")[-1]: layer for layer in caps["layers"]}
    assert "dzialki" in layers and _crs_has(layers["dzialki"], "2180")
