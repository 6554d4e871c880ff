"""Harvesting (issue 27): a local fake WFS 2.0 / OGC API – Features server whose features the test controls
is harvested into a local layer: paging, the declared axis order and the source's override, change detection
by identifier (new, changed, retired: never deleted), retries with back-off, the hostile cases (slow, invalid
XML, XXE, endless and looping paging, a redirect, an exception, fewer features than announced): bounded
time, a clear error in the run's report and the local layer unchanged. The harvested layer is then served
by our WFS, OGC API, WMS and tiles like any other catalogue layer."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from layers import catalogue
from layers.models import HarvestedFeature, HarvestedLayer, HarvestRun
from layers.sources import actions, harvest, harvested

pytestmark = pytest.mark.django_db

# three parcels in EPSG:2180 (x = easting) near Piaseczno
BASE = [
    ("p1", "Działka 1", 12, (638000.0, 470000.0)),
    ("p2", "Działka 2", 7, (638100.0, 470000.0)),
    ("p3", "Działka 3", 3, (638200.0, 470000.0)),
]


def square(x: float, y: float, size: float = 50.0) -> list[tuple[float, float]]:
    return [(x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)]


class State:
    def __init__(self):
        self.features = [
            {"id": fid, "NAZWA": name, "NUMER": num, "ring": square(*xy)} for fid, name, num, xy in BASE
        ]
        self.mode = ""
        self.requests: list[str] = []
        self.fail_once = 0
        self.axis = "urn"  # urn: N,E with a URN srsName; epsg: E,N with EPSG:2180; wrong: URN but E,N


STATE = State()


def _gml_feature(f: dict, axis: str) -> str:
    if axis == "epsg":
        srs, coords = "EPSG:2180", " ".join(f"{x} {y}" for x, y in f["ring"])
    elif axis == "wrong":
        srs, coords = "urn:ogc:def:crs:EPSG::2180", " ".join(f"{x} {y}" for x, y in f["ring"])
    else:
        srs, coords = "urn:ogc:def:crs:EPSG::2180", " ".join(f"{y} {x}" for x, y in f["ring"])
    return (
        f'<wfs:member><t:parcels gml:id="{f["id"]}"><t:NAZWA>{f["NAZWA"]}</t:NAZWA><t:NUMER>{f["NUMER"]}</t:NUMER>'
        f'<t:geom><gml:Polygon gml:id="{f["id"]}.g" srsName="{srs}"><gml:exterior><gml:LinearRing>'
        f"<gml:posList>{coords}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></t:geom>"
        "</t:parcels></wfs:member>"
    )


CAPS = b"""<?xml version="1.0" encoding="UTF-8"?>
<wfs:WFS_Capabilities version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:ows="http://www.opengis.net/ows/1.1"
 xmlns:t="urn:test">
<ows:ServiceIdentification><ows:Title>Fake county WFS</ows:Title><ows:ServiceType>WFS</ows:ServiceType>
<ows:ServiceTypeVersion>2.0.0</ows:ServiceTypeVersion></ows:ServiceIdentification>
<ows:ServiceProvider><ows:ProviderName>Fake</ows:ProviderName></ows:ServiceProvider>
<ows:OperationsMetadata><ows:Operation name="GetFeature"><ows:DCP><ows:HTTP><ows:Get xmlns:xlink="http://www.w3.org/1999/xlink"
 xlink:href="http://127.0.0.1/wfs"/></ows:HTTP></ows:DCP></ows:Operation></ows:OperationsMetadata>
<wfs:FeatureTypeList><wfs:FeatureType><wfs:Name>t:parcels</wfs:Name><wfs:Title>Parcels of the county</wfs:Title>
<wfs:DefaultCRS>urn:ogc:def:crs:EPSG::2180</wfs:DefaultCRS>
<ows:WGS84BoundingBox><ows:LowerCorner>20.9 52.0</ows:LowerCorner><ows:UpperCorner>21.2 52.2</ows:UpperCorner></ows:WGS84BoundingBox>
</wfs:FeatureType></wfs:FeatureTypeList></wfs:WFS_Capabilities>"""


class Fake(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, body: bytes, ctype: str = "text/xml", status: int = 200, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (the slow case)
            pass

    def do_GET(self):
        STATE.requests.append(self.path)
        parts = urlsplit(self.path)
        q = {k.upper(): v[0] for k, v in parse_qs(parts.query).items()}
        mode = STATE.mode
        if parts.path.startswith("/ogcapi"):
            return self._ogcapi(parts, parse_qs(parts.query))
        if q.get("REQUEST") == "GetCapabilities":
            return self._send(CAPS)
        if STATE.fail_once > 0:
            STATE.fail_once -= 1
            return self._send(b"busy", "text/plain", 503)
        if mode == "slow":
            time.sleep(3)
            return self._send(b"<late/>")
        if mode == "invalid":
            return self._send(b"<wfs:FeatureCollection><broken")
        if mode == "xxe":
            return self._send(
                b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b'<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0">&x;</wfs:FeatureCollection>'
            )
        if mode == "redirect":
            return self._send(
                b"", status=302, headers=[("Location", "http://169.254.169.254/latest/meta-data/")]
            )
        if mode == "exception":
            return self._send(
                b'<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1"><ows:Exception '
                b'exceptionCode="OperationProcessingFailed"><ows:ExceptionText>database down</ows:ExceptionText>'
                b"</ows:Exception></ows:ExceptionReport>"
            )
        start, count = int(q.get("STARTINDEX", 0)), int(q.get("COUNT", 1000))
        if mode == "repeat":  # a server that ignores STARTINDEX
            start = 0
        page = STATE.features[start : start + count]
        matched = len(STATE.features) + (5 if mode == "short" else 0)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" '
            'xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:t="urn:test" '
            f'numberMatched="{matched}" numberReturned="{len(page)}">'
            + "".join(_gml_feature(f, STATE.axis) for f in page)
            + "</wfs:FeatureCollection>"
        )
        return self._send(body.encode())

    def _ogcapi(self, parts, q):
        port = self.server.server_address[1]
        base = f"http://127.0.0.1:{port}/ogcapi"
        if parts.path.rstrip("/") == "/ogcapi":
            return self._send(json.dumps({"title": "Fake API", "links": []}).encode(), "application/json")
        if parts.path.rstrip("/") == "/ogcapi/collections":
            body = {
                "collections": [
                    {
                        "id": "parcels",
                        "title": "Parcels",
                        "crs": [
                            "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                            "http://www.opengis.net/def/crs/EPSG/0/2180",
                        ],
                    }
                ]
            }
            return self._send(json.dumps(body).encode(), "application/json")
        offset = int(q.get("offset", ["0"])[0])
        limit = int(q.get("limit", ["10"])[0])
        page = STATE.features[offset : offset + limit]
        links = []
        if STATE.mode == "loop":
            links.append(
                {"rel": "next", "href": f"{base}/collections/parcels/items?limit={limit}&offset=0&crs=x"}
            )
        elif STATE.mode == "elsewhere":
            links.append({"rel": "next", "href": "http://169.254.169.254/items"})
        elif offset + limit < len(STATE.features):
            crs = q.get("crs", [""])[0]
            links.append(
                {
                    "rel": "next",
                    "type": "application/geo+json",
                    "href": f"{base}/collections/parcels/items?limit={limit}&offset={offset + limit}&crs={crs}",
                }
            )
        feats = [
            {
                "type": "Feature",
                "id": f["id"],
                "properties": {"NAZWA": f["NAZWA"], "NUMER": f["NUMER"]},
                # crs=EPSG:2180 asked: northing first, as the CRS says
                "geometry": {"type": "Polygon", "coordinates": [[[y, x] for x, y in f["ring"]]]},
            }
            for f in page
        ]
        body = {
            "type": "FeatureCollection",
            "features": feats,
            "links": links,
            "numberMatched": len(STATE.features),
        }
        return self._send(json.dumps(body).encode(), "application/geo+json")


@pytest.fixture(scope="module")
def fake():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.GISPORTAL_SOURCES_PRIVATE_HOSTS = ["127.0.0.1"]
    settings.GISPORTAL_SOURCES_TIMEOUT = 1
    settings.GISPORTAL_SOURCES_DEADLINE = 2
    settings.GISPORTAL_HARVEST_PAGE_SIZE = 2
    settings.GISPORTAL_HARVEST_BACKOFF = 0.01
    settings.GISPORTAL_HARVEST_RETRIES = 2
    global STATE
    STATE.__init__()
    harvested.forget()
    yield
    harvested.forget()


@pytest.fixture
def wfs_layer(fake):
    source = actions.source_add(f"{fake}/wfs", "wfs")
    return harvest.layer_ensure(source.pk, "t:parcels")


def _current(layer) -> dict[str, HarvestedFeature]:
    return {f.fid: f for f in HarvestedFeature.objects.filter(layer=layer, end_object__isnull=True)}


def _corner(f: HarvestedFeature) -> tuple[float, float]:
    return tuple(round(c, 3) for c in f.geom[0][0][0])


# ---------------------------------------------------------------- the harvest
def test_first_harvest_pages_and_axis_order(wfs_layer):
    run = harvest.harvest_now(wfs_layer.pk)
    assert run.status == "done", run.error
    assert (run.read, run.pages, run.new, run.changed, run.retired) == (3, 2, 3, 0, 0)
    feats = _current(wfs_layer)
    assert set(feats) == {"p1", "p2", "p3"}
    assert _corner(feats["p1"]) == (638000.0, 470000.0)  # N,E as sent → stored x = easting
    assert feats["p2"].properties == {"NAZWA": "Działka 2", "NUMER": 7}
    wfs_layer.refresh_from_db()
    assert wfs_layer.geometry_type == "MultiPolygon" and wfs_layer.harvested_at is not None
    assert {a["name"]: a["type"] for a in wfs_layer.attributes} == {"NAZWA": "string", "NUMER": "integer"}
    assert any("STARTINDEX=2" in r for r in STATE.requests)


def test_changes_are_applied_by_identifier_and_history_kept(wfs_layer):
    harvest.harvest_now(wfs_layer.pk)
    old_p2 = _current(wfs_layer)["p2"]
    STATE.features[1]["NUMER"] = 8  # changed attribute
    STATE.features[0]["ring"] = square(638000.0, 470000.0, 60.0)  # changed geometry
    del STATE.features[2]  # retired
    STATE.features.append({"id": "p4", "NAZWA": "Działka 4", "NUMER": 1, "ring": square(638300.0, 470000.0)})
    run = harvest.harvest_now(wfs_layer.pk)
    assert (run.new, run.changed, run.retired, run.unchanged) == (1, 2, 1, 0), run.report
    feats = _current(wfs_layer)
    assert set(feats) == {"p1", "p2", "p4"} and feats["p2"].properties["NUMER"] == 8
    old_p2.refresh_from_db()
    assert old_p2.end_object is not None  # the old version kept, retired
    assert HarvestedFeature.objects.filter(layer=wfs_layer, fid="p3", end_object__isnull=False).exists()
    # nothing changes: nothing is written
    before = HarvestedFeature.objects.count()
    run = harvest.harvest_now(wfs_layer.pk)
    assert (run.new, run.changed, run.retired, run.unchanged) == (0, 0, 0, 3)
    assert HarvestedFeature.objects.count() == before


def test_a_sub_millimetre_difference_is_no_change(wfs_layer):
    harvest.harvest_now(wfs_layer.pk)
    STATE.features[0]["ring"] = [(x + 0.0002, y) for x, y in STATE.features[0]["ring"]]
    assert harvest.harvest_now(wfs_layer.pk).changed == 0


@pytest.mark.parametrize(
    ("axis", "override", "corner"),
    [
        ("epsg", "none", (638000.0, 470000.0)),  # EPSG:2180 form: easting first
        ("wrong", "none", (470000.0, 638000.0)),  # a server that sends E,N under a URN: read as declared…
        ("wrong", "xy", (638000.0, 470000.0)),  # … and put right by the source's override
        ("urn", "yx", (638000.0, 470000.0)),
    ],
)
def test_declared_axis_order_and_the_override(wfs_layer, axis, override, corner):
    STATE.axis = axis
    type(wfs_layer.source).objects.filter(pk=wfs_layer.source_id).update(axis_override=override)
    wfs_layer.refresh_from_db()
    run = harvest.harvest_now(wfs_layer.pk)
    assert run.status == "done", run.error
    assert _corner(_current(wfs_layer)["p1"]) == corner


def test_transient_errors_are_retried_with_back_off(wfs_layer):
    STATE.fail_once = 2
    run = harvest.harvest_now(wfs_layer.pk)
    assert run.status == "done" and run.report["retries"] == 2


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("slow", "timeout"),
        ("invalid", "xml_invalid"),
        ("xxe", "xml_dtd"),
        ("redirect", "redirect"),
        ("exception", "service_exception"),
        ("repeat", "paging_loop"),
        ("short", "incomplete"),
    ],
)
def test_hostile_sources_fail_bounded_and_change_nothing(wfs_layer, mode, code):
    harvest.harvest_now(wfs_layer.pk)
    before = sorted(
        HarvestedFeature.objects.filter(layer=wfs_layer).values_list("pk", "digest", "end_object")
    )
    STATE.features = STATE.features[:2] if mode != "repeat" else STATE.features
    STATE.mode = mode
    started = time.monotonic()
    run = harvest.harvest_now(wfs_layer.pk)
    assert time.monotonic() - started < 20
    assert run.status == "failed" and run.report.get("code") == code, (run.error, run.report)
    assert run.error and "Traceback" not in run.error
    after = sorted(HarvestedFeature.objects.filter(layer=wfs_layer).values_list("pk", "digest", "end_object"))
    assert after == before


def test_ogcapi_harvest_follows_next_links_in_2180(fake):
    source = actions.source_add(f"{fake}/ogcapi", "ogcapi")
    layer = harvest.layer_ensure(source.pk, "parcels")
    run = harvest.harvest_now(layer.pk)
    assert run.status == "done", run.error
    assert run.pages == 2 and set(_current(layer)) == {"p1", "p2", "p3"}
    assert _corner(_current(layer)["p1"]) == (638000.0, 470000.0)
    assert any("crs=http" in r for r in STATE.requests)


@pytest.mark.parametrize(("mode", "code"), [("loop", "paging_loop"), ("elsewhere", "not_registered")])
def test_ogcapi_looping_or_foreign_next_links_stop(fake, mode, code):
    source = actions.source_add(f"{fake}/ogcapi", "ogcapi")
    layer = harvest.layer_ensure(source.pk, "parcels")
    STATE.mode = mode
    run = harvest.harvest_now(layer.pk)
    assert run.status == "failed" and run.report["code"] == code
    assert not HarvestedFeature.objects.filter(layer=layer).exists()


def test_layer_ensure_refusals(fake):
    from gisportal.core.errors import InvalidInput

    wms = type(actions.source_add(f"{fake}/wfs", "wfs"))
    source = wms.objects.get(kind="wfs")
    with pytest.raises(InvalidInput):
        harvest.layer_ensure(source.pk, "t:nothing")
    with pytest.raises(InvalidInput):
        harvest.layer_ensure(source.pk, "t:parcels", name="dzialki")  # a declared layer's name
    with pytest.raises(InvalidInput):
        harvest.layer_ensure(source.pk, "t:parcels", name="Robert'); DROP TABLE")
    assert not HarvestedLayer.objects.exists()


# ---------------------------------------------------------------- served like any other layer
def test_the_harvested_layer_is_served_by_wfs_ogcapi_wms_and_tiles(wfs_layer):
    harvest.harvest_now(wfs_layer.pk)
    harvested.forget()
    name = wfs_layer.name
    assert catalogue.get_layer(name) is not None and name in catalogue.layer_names()
    c = Client()
    caps = c.get(
        "/ows", {"SERVICE": "WFS", "REQUEST": "GetCapabilities", "VERSION": "2.0.0"}
    ).content.decode()
    assert f"gisportal:{name}" in caps
    r = c.get(
        "/ows",
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "TYPENAMES": f"gisportal:{name}",
            "OUTPUTFORMAT": "application/json",
        },
    )
    assert r.status_code == 200, r.content[:500]
    data = json.loads(r.content)
    assert sorted(f["properties"]["ID"] for f in data["features"]) == ["p1", "p2", "p3"]
    assert {f["properties"]["NUMER"] for f in data["features"]} == {12, 7, 3}
    # a filter on a harvested attribute
    r = c.get(f"/ogcapi/collections/{name}/items", {"f": "json", "NUMER": "7"})
    assert r.status_code == 200, r.content[:500]
    assert [f["properties"]["ID"] for f in r.json()["features"]] == ["p2"]
    meta = c.get(f"/ogcapi/collections/{name}", {"f": "json"}).json()
    assert "pobrano" in meta["description"] or "harvested" in meta["description"]
    # its ISO 19139 record says where it comes from and when it was harvested
    iso = c.get(f"/metadane/{name}.xml")
    assert iso.status_code == 200 and "harvesting" in iso.content.decode() and "/wfs" in iso.content.decode()
    # WMS: Mapnik reads through its own connection (committed rows only): the layer is offered, and the
    # SQL it draws from finds the rows with the style's columns
    wms = c.get("/ows", {"SERVICE": "WMS", "REQUEST": "GetCapabilities", "VERSION": "1.3.0"}).content.decode()
    assert f"<Name>{name}</Name>" in wms
    from django.db import connection

    from ogc.render import maps, styles

    layer = catalogue.get_layer(name)
    sql = maps.layer_subquery(layer, styles.style_for(name, None))
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM {sql.replace('!bbox!', 'ST_MakeEnvelope(637000, 469000, 639000, 471000, 2180)')}"  # noqa: S608
        )
        assert cur.fetchone()[0] == 3
    # vector tiles
    settings_tiles()
    x, y = _tile_of(638100.0, 470025.0, 14)
    assert _tile_of(638000.0, 470000.0, 14) == _tile_of(638250.0, 470050.0, 14) == (x, y)
    r = c.get(f"/ogcapi/collections/{name}/tiles/WebMercatorQuad/14/{y}/{x}")
    assert r.status_code == 200, r.content[:300]
    import mapbox_vector_tile

    ids = {f["properties"]["ID"] for f in mapbox_vector_tile.decode(r.content)[name]["features"]}
    assert ids == {"p1", "p2", "p3"}


def settings_tiles() -> None:
    from django.conf import settings

    settings.GISPORTAL_TILE_CACHE = False  # the rows live in this test's transaction only


def _tile_of(x2180: float, y2180: float, z: int) -> tuple[int, int]:
    import math

    from pyproj import Transformer

    lon, lat = Transformer.from_crs(2180, 4326, always_xy=True).transform(x2180, y2180)
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def test_the_command_harvests_and_reports(fake):
    source = actions.source_add(f"{fake}/wfs", "wfs")
    out = StringIO()
    call_command("harvest", str(source.pk), "--layer", "t:parcels", "--as", "powiat_dzialki", stdout=out)
    assert (
        "powiat_dzialki" in out.getvalue() and HarvestedLayer.objects.filter(name="powiat_dzialki").exists()
    )
    STATE.mode = "invalid"
    with pytest.raises(CommandError):
        call_command("harvest", str(source.pk), "--layer", "t:parcels", stdout=StringIO(), stderr=StringIO())
    assert HarvestRun.objects.filter(status="failed").count() == 1
    with pytest.raises(CommandError):
        call_command("harvest", "999999", "--layer", "x", stdout=StringIO())


def test_staff_page_harvests_schedules_and_sets_the_axis_order(client, fake, make_user, monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr(harvest, "_enqueue", queued.append)
    source = actions.source_add(f"{fake}/wfs", "wfs")
    actions.source_choose(source.pk, ["t:parcels"])
    url = f"/urzad/zrodla/{source.pk}/"
    client.force_login(make_user("obywatel", "citizen"))
    assert client.post(url, {"action": "harvest", "name": "t:parcels"}).status_code == 403
    assert not HarvestRun.objects.exists()
    client.force_login(make_user("urzednik", "clerk"))
    page = client.get(url).content.decode()
    assert "t:parcels" in page and 'value="harvest"' in page
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        r = client.post(url, {"action": "harvest", "name": "t:parcels"})
    assert r.status_code == 302
    run = HarvestRun.objects.get()
    assert queued == [run.pk] and run.status == "queued" and run.trigger == "manual"
    # asked twice while queued: the same run
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(url, {"action": "harvest", "name": "t:parcels"})
    assert HarvestRun.objects.count() == 1 and queued == [run.pk]
    harvest.harvest_run(run.pk)
    layer = HarvestedLayer.objects.get()
    assert client.post(url, {"action": "schedule", "layer": layer.pk, "hours": "24"}).status_code == 302
    layer.refresh_from_db()
    assert layer.interval_hours == 24
    r = client.post(url, {"action": "schedule", "layer": layer.pk, "hours": "-1"})
    assert r.status_code == 400
    r = client.post(url, {"action": "schedule", "layer": layer.pk, "hours": "1000"})
    assert r.status_code == 400
    layer.refresh_from_db()
    assert layer.interval_hours == 24
    assert client.post(url, {"action": "axis", "axis": "yx"}).status_code == 302
    assert client.post(url, {"action": "axis", "axis": "zz"}).status_code == 400
    source.refresh_from_db()
    assert source.axis_override == "yx"
    page = client.get(url).content.decode()
    assert layer.name in page and "3" in page  # the run's counts


def test_scheduled_harvests_are_queued_when_due(wfs_layer, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    queued: list[int] = []
    monkeypatch.setattr(harvest, "_enqueue", queued.append)
    harvest.harvest_now(wfs_layer.pk)
    HarvestedLayer.objects.filter(pk=wfs_layer.pk).update(interval_hours=6)
    assert harvest.harvest_due(now=timezone.now() + timedelta(hours=1)) == 0
    assert harvest.harvest_due(now=timezone.now() + timedelta(hours=7)) == 1
    assert HarvestRun.objects.filter(status="queued", trigger="schedule").count() == 1


def test_ogcapi_without_2180_is_read_in_crs84_and_transformed(fake, monkeypatch):
    source = actions.source_add(f"{fake}/ogcapi", "ogcapi")
    caps = source.capabilities
    caps["layers"][0]["crs"] = ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    type(source).objects.filter(pk=source.pk).update(capabilities=caps)
    from pyproj import Transformer

    to84 = Transformer.from_crs(2180, 4326, always_xy=True)
    # the fake answers in CRS84 when asked without crs: longitude, latitude with 9 decimals
    original = Fake._ogcapi

    def lonlat(self, parts, q):
        if "crs" in q:
            raise AssertionError("crs asked for although the collection does not offer 2180")
        saved = [f["ring"] for f in STATE.features]
        for f in STATE.features:
            f["ring"] = [tuple(round(c, 9) for c in to84.transform(x, y))[::-1] for x, y in f["ring"]]
        try:
            return original(self, parts, q)  # it writes [y, x] = [lon, lat]
        finally:
            for f, ring in zip(STATE.features, saved, strict=True):
                f["ring"] = ring

    monkeypatch.setattr(Fake, "_ogcapi", lonlat)
    layer = harvest.layer_ensure(source.pk, "parcels")
    run = harvest.harvest_now(layer.pk)
    assert run.status == "done", run.error
    x, y = _current(layer)["p1"].geom[0][0][0]
    assert abs(x - 638000.0) < 0.01 and abs(y - 470000.0) < 0.01


def test_wfs_11_of_our_own_hub_pages_with_startindex(live_url, settings):
    settings.GISPORTAL_SOURCES_TIMEOUT = 60
    settings.GISPORTAL_SOURCES_DEADLINE = 120
    settings.GISPORTAL_SOURCES_MAX_BYTES = 20 * 1024 * 1024
    settings.GISPORTAL_HARVEST_PAGE_SIZE = 700
    source = actions.source_add(f"{live_url}/ows", "wfs")
    caps = {**source.capabilities, "version": "1.1.0"}
    type(source).objects.filter(pk=source.pk).update(capabilities=caps)
    layer = harvest.layer_ensure(source.pk, "gisportal:dzialki")
    type(layer).objects.filter(pk=layer.pk).update(id_property="ID_DZIALKI")
    run = harvest.harvest_now(layer.pk)
    assert run.status == "done", (run.error, run.report)
    from layers.models import Parcel

    expected = set(Parcel.objects.current().values_list("parcel_id", flat=True))
    assert set(_current(layer)) == expected and run.pages >= 3
    p = Parcel.objects.current().order_by("parcel_id").first()
    f = _current(layer)[p.parcel_id]
    assert f.geom.equals_exact(p.geom, tolerance=0.001)
