"""The ULDK adapter (DOMAIN.md §4.3): UldkClient against FakeUldk and a misbehaving server, over real HTTP
on loopback. No database."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import shapely.wkt
from django.contrib.gis.geos import GEOSGeometry

from gisportal.core.errors import GisportalError, InvalidInput
from layers.registries.uldk import (
    DEFAULT_PARCELS,
    FakeUldk,
    ParcelLocator,
    UldkClient,
    UldkParcel,
    UldkUnavailable,
    get_locator,
    load_parcels,
)

LESZNOWOLA = "141803_2.0011.25/3"
LESZNOWOLA_EAST = "141803_2.0011.26"
SHEET = "141802_5.0003.AR_2.77"
PIASECZNO_CENTRE = (638_881.0, 469_553.0)  # DOMAIN.md §12: inside gmina Piaseczno, no fake parcel there


def inside(parcel_id: str) -> tuple[float, float]:
    p = shapely.wkt.loads(DEFAULT_PARCELS[parcel_id][1]).representative_point()
    return p.x, p.y


@pytest.fixture(scope="module")
def fake():
    with FakeUldk() as server:
        yield server


@pytest.fixture
def client(fake):
    return UldkClient(fake.url, timeout=3.0)


# ------------------------------------------------------------------------------------- by id
def test_client_is_a_parcel_locator(client):
    assert isinstance(client, ParcelLocator)


def test_by_id_hit(client, fake):
    parcel = client.parcel_by_id(LESZNOWOLA)
    assert parcel == UldkParcel(
        parcel_id=LESZNOWOLA,
        teryt="1418032",
        voivodeship="mazowieckie",
        county="piaseczyński",
        commune="Lesznowola",
        region="Magdalenka",
        parcel="25/3",
        geom_wkt=DEFAULT_PARCELS[LESZNOWOLA][1],
    )
    # the request: the real protocol, the id percent-encoded
    sent = fake.requests[-1]
    assert sent.startswith("/?request=GetParcelById&id=141803_2.0011.25%2F3&")
    assert "result=geom_wkt,teryt,voivodeship,county,commune,region,parcel" in sent
    assert sent.endswith("&srid=2180")


@pytest.mark.parametrize("parcel_id", sorted(DEFAULT_PARCELS))
def test_by_id_geometry_equals_the_fakes(client, parcel_id):
    parcel = client.parcel_by_id(parcel_id)
    expected = shapely.wkt.loads(DEFAULT_PARCELS[parcel_id][1])
    assert parcel.parcel_id == parcel_id
    assert shapely.wkt.loads(parcel.geom_wkt).equals(expected)
    geos = parcel.geometry
    assert geos.srid == 2180 and geos.geom_type == "Polygon"
    assert geos.equals_exact(GEOSGeometry(expected.wkt, srid=2180), tolerance=1e-6)
    unit = parcel_id.split(".")[0]
    assert parcel.teryt == unit.replace("_", "") and len(parcel.teryt) == 7


def test_by_id_sheet_form_and_teryt(client):
    parcel = client.parcel_by_id(SHEET)
    assert (parcel.parcel_id, parcel.parcel, parcel.teryt) == (SHEET, "77", "1418025")
    warsaw = client.parcel_by_id("146510_8.0307.12/1")
    assert (warsaw.teryt, warsaw.county, warsaw.region) == ("1465108", "Warszawa", "5-03-07")


def test_by_id_miss(client):
    assert client.parcel_by_id("141803_2.0011.9999") is None


def test_default_parcels_are_outside_piaseczno_and_in_mazowieckie():
    for parcel_id, (attrs, wkt) in DEFAULT_PARCELS.items():
        assert not parcel_id.startswith("141804_")
        assert parcel_id[:2] == "14" and attrs["voivodeship"] == "mazowieckie"
        minx, miny, maxx, maxy = shapely.wkt.loads(wkt).bounds
        assert 620_000 <= minx <= maxx <= 650_000 and 455_000 <= miny <= maxy <= 490_000


# ------------------------------------------------------------------------------------- by xy
@pytest.mark.parametrize("parcel_id", sorted(DEFAULT_PARCELS))
def test_by_xy_hit_inside_each_parcel(client, parcel_id):
    x, y = inside(parcel_id)
    parcel = client.parcel_by_xy(x, y)
    assert parcel is not None and parcel.parcel_id == parcel_id
    assert shapely.wkt.loads(parcel.geom_wkt).covers(shapely.geometry.Point(x, y))


def test_by_xy_miss_outside(client):
    assert client.parcel_by_xy(*PIASECZNO_CENTRE) is None
    assert client.parcel_by_xy(627_030.0, 469_800.0) is None  # just south of the Lesznowola pair


def test_by_xy_sends_northing_first_by_default(client, fake):
    client.parcel_by_xy(627_030.5, 469_915.25)
    assert "xy=469915.25,627030.5,2180&" in fake.requests[-1]


def test_by_xy_on_a_shared_edge_returns_one_of_the_neighbours(client):
    parcel = client.parcel_by_xy(627_046.835, 469_917.98)  # midpoint of the shared edge
    assert parcel.parcel_id in (LESZNOWOLA, LESZNOWOLA_EAST)


@pytest.mark.parametrize("northing_first", [True, False])
def test_both_xy_orders_are_handled_consistently(northing_first):
    x, y = inside(LESZNOWOLA)
    with FakeUldk(xy_northing_first=northing_first) as server:
        same = UldkClient(server.url, timeout=3.0, xy_northing_first=northing_first)
        assert same.parcel_by_xy(x, y).parcel_id == LESZNOWOLA
        xy = parse_qs(urlsplit(server.requests[-1]).query)["xy"][0].split(",")
        expected = (y, x, 2180) if northing_first else (x, y, 2180)
        assert tuple(float(v) for v in xy) == pytest.approx(expected, abs=1e-6)
        # a client with the other convention asks about a point far away: no parcel there
        other = UldkClient(server.url, timeout=3.0, xy_northing_first=not northing_first)
        assert other.parcel_by_xy(x, y) is None


# ------------------------------------------------------------------------------------- hostile input
HOSTILE_IDS = [
    "1' OR '1'='1",
    "141803_2.0011." + "1" * 5000,
    "../../etc/passwd",
    "141803_2.0011.25/../../x",
    "141804_4.0001.1\r\nX: y",
    "141804_4.0001.1\nX: y",
    "141804_4.0001.1&request=GetParcelByXY",
    "141804_4.0001.1#x",
    "141804_3.0001.15",
    "",
    "１４１８０４_4.0001.1",
]


@pytest.mark.parametrize("bad", HOSTILE_IDS)
def test_hostile_ids_are_refused_before_any_request(client, fake, bad):
    before = len(fake.requests)
    with pytest.raises(InvalidInput):
        client.parcel_by_id(bad)
    assert len(fake.requests) == before


@pytest.mark.parametrize(
    "x, y, srid",
    [
        (float("nan"), 469_000.0, 2180),
        (627_000.0, float("inf"), 2180),
        ("627000", 469_000.0, 2180),
        (None, 469_000.0, 2180),
        (True, 469_000.0, 2180),
        (627_000.0, 469_000.0, "2180"),
        (627_000.0, 469_000.0, -1),
        (627_000.0, 469_000.0, True),
    ],
)
def test_bad_coordinates_are_refused_before_any_request(client, fake, x, y, srid):
    before = len(fake.requests)
    with pytest.raises(InvalidInput):
        client.parcel_by_xy(x, y, srid)
    assert len(fake.requests) == before


# ------------------------------------------------------------------------------------- misbehaving server
GOOD_GEOM = "SRID=2180;" + DEFAULT_PARCELS[LESZNOWOLA][1]
GOOD_REST = "mazowieckie|piaseczyński|Lesznowola|Magdalenka|25/3"


def record(geom: str = GOOD_GEOM, parcel_id: str = LESZNOWOLA, rest: str = GOOD_REST) -> str:
    return f"0\n{geom}|{parcel_id}|{rest}\n"


TEXT_REPLIES = {
    "garbage": "lorem ipsum dolor sit amet\n",
    "html": "<!DOCTYPE html><html><body><h1>Przerwa techniczna</h1></body></html>",
    "xml": '<?xml version="1.0"?><ServiceExceptionReport><ServiceException>error</ServiceException></ServiceExceptionReport>',
    "blad": "-1 błąd wewnętrzny serwera\n",
    "blad_status0": "0 błąd\n" + record()[2:],
    "bad_param": "niepoprawny parametr id, specyfikacja usługi: https://uldk.gugik.gov.pl/opis.html\n",
    "other_minus_one": "-1 przekroczono limit zapytań\n",
    "empty": "",
    "blank": "\n\n\n",
    "status_without_data": "0\n",
    "other_id": record(parcel_id="141803_2.0011.99"),
    "malformed_id": record(parcel_id="'; DROP TABLE x; --"),
    "too_few_fields": f"0\n{GOOD_GEOM}|{LESZNOWOLA}|mazowieckie\n",
    "too_many_fields": record(rest=GOOD_REST + "|extra"),
    "bad_geometry": record(geom="SRID=2180;POLYGON((1 2, 3"),
    "not_wkt": record(geom="SRID=2180;0103000020840800000100"),
    "point": record(geom="SRID=2180;POINT(627030 469915)"),
    "empty_polygon": record(geom="SRID=2180;POLYGON EMPTY"),
    "wrong_srid": record(geom="SRID=4326;POLYGON((21 52,21.001 52,21.001 52.001,21 52))"),
    "degrees": record(geom="POLYGON((21 52,21.001 52,21.001 52.001,21 52))"),
    "garbled_srid": record(geom="SRID=abc;" + DEFAULT_PARCELS[LESZNOWOLA][1]),
    "nan_geometry": record(geom="SRID=2180;POLYGON((nan 1,2 2,3 1,nan 1))"),
    "control_chars": record(rest="mazowieckie|piaseczyński|Lesz\x1bnowola|Magdalenka|25/3"),
}
BYTE_REPLIES = {"latin2": "0\nSRID=2180;POLYGON((1 1))|x|ł\n".encode("iso-8859-2") + b"\xff\xfe"}


class Misbehaving(BaseHTTPRequestHandler):
    """/<mode>/?... selects the misbehaviour."""

    def do_GET(self):
        mode = self.path.split("/")[1]
        self.server.hits.append(mode)
        try:
            self.misbehave(mode)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def reply(self, body: bytes, status: int = 200, ctype: str = "text/plain; charset=utf-8", length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def misbehave(self, mode):
        if mode in TEXT_REPLIES:
            self.reply(TEXT_REPLIES[mode].encode("utf-8"))
        elif mode in BYTE_REPLIES:
            self.reply(BYTE_REPLIES[mode])
        elif mode == "blad_in_region":  # a legitimate precinct name containing "błąd"
            self.reply(record(rest="kujawsko-pomorskie|włocławski|Lubień Kujawski|Błądzim|25/3").encode())
        elif mode in ("status500", "status404", "status502"):
            self.reply(b"0\n" + record().encode(), status=int(mode[6:]))
        elif mode == "sleep":
            time.sleep(3)
            self.reply(record().encode())
        elif mode == "drip":  # headers at once, then one byte at a time: never a socket timeout
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(60):
                self.wfile.write(b"0")
                self.wfile.flush()
                time.sleep(0.05)
        elif mode == "huge":  # no Content-Length: only the byte cap stops it
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"0\n")
            chunk = b"x" * 65536
            for _ in range(6 * 1024 * 1024 // len(chunk) + 2):
                self.wfile.write(chunk)
        elif mode == "huge_declared":
            self.reply(b"0\n", length=50 * 1024 * 1024)
        elif mode == "truncated":  # promises more than it sends, then hangs up
            self.reply(record().encode(), length=10_000)
        elif mode == "hangup":
            self.close_connection = True
            self.connection.shutdown(2)
        elif mode == "redirect_ftp":
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1/etc/passwd")
            self.end_headers()
        elif mode == "redirect_file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
        elif mode == "redirect_fake":  # a redirect to a good ULDK is followed
            self.send_response(302)
            self.send_header("Location", self.server.good_url + "?" + self.path.split("?", 1)[1])
            self.end_headers()
        else:
            self.reply(b"unknown mode", status=404)

    def log_message(self, *args):
        pass


class MisbehavingServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


@pytest.fixture(scope="module")
def bad_server(fake):
    server = MisbehavingServer(("127.0.0.1", 0), Misbehaving)
    server.hits = []
    server.good_url = fake.url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


BROKEN_MODES = sorted(
    [
        *TEXT_REPLIES,
        *BYTE_REPLIES,
        "status500",
        "status404",
        "status502",
        "sleep",
        "drip",
        "huge",
        "huge_declared",
        "truncated",
        "hangup",
        "redirect_ftp",
        "redirect_file",
    ]
)


@pytest.mark.parametrize("mode", BROKEN_MODES)
def test_misbehaving_server_gives_uldk_unavailable(bad_server, mode):
    client = UldkClient(f"{bad_server}/{mode}/", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(UldkUnavailable) as e:
        client.parcel_by_id(LESZNOWOLA)
    assert time.monotonic() - started < 2.5  # timeouts and caps bite; nothing waits for the server
    assert e.value.status == 503 and e.value.code == "uldk_unavailable"
    assert isinstance(e.value, GisportalError)
    assert "ULDK" in e.value.message
    assert "\n" not in e.value.message and "<" not in e.value.message  # never echoes the reply


@pytest.mark.parametrize("mode", ["garbage", "html", "xml", "malformed_id", "point", "status500", "huge"])
def test_misbehaving_server_by_xy(bad_server, mode):
    client = UldkClient(f"{bad_server}/{mode}/", timeout=0.5)
    with pytest.raises(UldkUnavailable):
        client.parcel_by_xy(*inside(LESZNOWOLA))


def test_by_xy_accepts_any_parcel_id_but_still_checks_it(bad_server):
    # by xy the answer's id is not known in advance; a well-formed other id is fine
    client = UldkClient(f"{bad_server}/other_id/", timeout=0.5)
    assert client.parcel_by_xy(*inside(LESZNOWOLA)).parcel_id == "141803_2.0011.99"
    with pytest.raises(UldkUnavailable):
        UldkClient(f"{bad_server}/malformed_id/", timeout=0.5).parcel_by_xy(*inside(LESZNOWOLA))


def test_bad_in_a_precinct_name_is_not_an_error(bad_server):
    parcel = UldkClient(f"{bad_server}/blad_in_region/", timeout=0.5).parcel_by_id(LESZNOWOLA)
    assert parcel.region == "Błądzim"


def test_redirect_to_http_is_followed(bad_server):
    parcel = UldkClient(f"{bad_server}/redirect_fake/", timeout=1.0).parcel_by_id(LESZNOWOLA)
    assert parcel.parcel_id == LESZNOWOLA


def test_nothing_listening_gives_uldk_unavailable():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UldkUnavailable):
        UldkClient(f"http://127.0.0.1:{port}/", timeout=0.5).parcel_by_id(LESZNOWOLA)


@pytest.mark.parametrize(
    "url", ["", "ftp://uldk.gugik.gov.pl/", "file:///etc/passwd", "uldk.gugik.gov.pl", "http://"]
)
def test_bad_base_url_is_a_configuration_error(url):
    with pytest.raises(GisportalError) as e:
        UldkClient(url)
    assert e.value.status == 500


def test_base_url_with_a_query_string(fake):
    client = UldkClient(fake.url + "?", timeout=3.0)
    assert client.parcel_by_id(LESZNOWOLA).parcel_id == LESZNOWOLA


# ------------------------------------------------------------------------------------- the fake itself
@pytest.mark.parametrize(
    "query",
    [
        "",
        "request=GetParcelById",
        "request=GetParcelById&id=1'%20OR%201=1&result=teryt",
        "request=GetParcelById&id=141803_2.0011.25%2F3&result=teryt,password",
        "request=GetParcelById&id=141803_2.0011.25%2F3&result=teryt&srid=4326",
        "request=GetParcelByXY&xy=abc,def&result=teryt",
        "request=GetParcelByXY&xy=469915,627030,4326&result=teryt",
        "request=GetParcelByXY&xy=nan,627030&result=teryt",
        "request=DropTables",
        "request=GetParcelById&id=%ff%fe",
        "request=GetParcelById&id=%EF%BC%91%EF%BC%94%EF%BC%91%EF%BC%98%EF%BC%90%EF%BC%93_2.0011.1&result=teryt",
        "request=GetParcelById&id=141803_2.0011." + "1" * 100 + "&result=teryt",
        "request=GetParcelById&id=141803_2.0011.25%0A&result=teryt",
    ],
)
def test_fake_answers_malformed_requests_with_an_error_line(fake, query):
    reply = fake.answer(query)
    status = reply.splitlines()[0]
    assert status != "0" and status.startswith("-1") and "brak wyników" not in status


def test_fake_reply_format(fake):
    assert fake.answer("request=GetParcelById&id=141803_2.0011.1&result=teryt") == "-1 brak wyników\n"
    reply = fake.answer(f"request=GetParcelById&id={LESZNOWOLA}&result=parcel,teryt,commune")
    assert reply == f"0\n25/3|{LESZNOWOLA}|Lesznowola\n"
    # without result= ULDK answers WKB (EWKB hex) only
    wkb = fake.answer(f"request=GetParcelById&id={LESZNOWOLA}").splitlines()[1]
    assert shapely.from_wkb(bytes.fromhex(wkb)).equals(shapely.wkt.loads(DEFAULT_PARCELS[LESZNOWOLA][1]))


def test_fake_rejects_bad_data():
    with pytest.raises(ValueError):
        FakeUldk({"141804_3.0001.1": ({}, "POLYGON((0 0,1 0,1 1,0 0))")})
    with pytest.raises(ValueError):
        FakeUldk({LESZNOWOLA: ({}, "POINT(1 2)")})


def test_fake_from_json_on_the_command_line(tmp_path: Path):
    data = {
        "141806_4.0001.5": {
            "voivodeship": "mazowieckie",
            "county": "piaseczyński",
            "commune": "Tarczyn (miasto)",
            "region": "Tarczyn",
            "wkt": "POLYGON((620000 456000,620040 456000,620040 456050,620000 456050,620000 456000))",
        }
    }
    path = tmp_path / "parcels.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert load_parcels(path)["141806_4.0001.5"][0]["commune"] == "Tarczyn (miasto)"
    proc = subprocess.Popen(
        [sys.executable, "-m", "layers.registries.uldk", "--port", "0", "--data", str(path)],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "1 parcels at http://127.0.0.1:" in line, (
            proc.stderr.read() if proc.poll() is not None else line
        )
        url = line.rsplit(" ", 1)[1].strip()
        client = UldkClient(url, timeout=3.0)
        parcel = client.parcel_by_xy(620_020.0, 456_025.0)
        assert (parcel.parcel_id, parcel.teryt, parcel.parcel) == ("141806_4.0001.5", "1418064", "5")
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


# ------------------------------------------------------------------------------------- the factory
def test_get_locator_from_settings(settings, fake):
    settings.GISPORTAL_ULDK_URL = None
    assert get_locator() is None
    settings.GISPORTAL_ULDK_URL = fake.url
    locator = get_locator()
    assert isinstance(locator, UldkClient) and isinstance(locator, ParcelLocator)
    assert locator.xy_northing_first is True
    assert locator.parcel_by_id(LESZNOWOLA).teryt == "1418032"
    settings.GISPORTAL_ULDK_XY_NORTHING_FIRST = False
    assert get_locator().xy_northing_first is False


def test_parcel_is_frozen(client):
    parcel = client.parcel_by_id(LESZNOWOLA)
    with pytest.raises(AttributeError):
        parcel.parcel_id = "x"
