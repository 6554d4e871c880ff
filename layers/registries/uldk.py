"""ULDK, GUGiK's parcel-location service (DOMAIN.md §4.3): the interface, the real client and a local fake.

- `ParcelLocator` is what callers depend on; `get_locator()` returns the configured one (or None).
- `UldkClient` speaks ULDK's plain-text protocol over HTTP (`urllib`, no extra dependency). It does no
  database I/O (ARCHITECTURE.md §4) and turns every failure of the outside service -- HTTP errors,
  timeouts, XML/HTML, garbage, unparsable geometry, an answer about another parcel, an oversized reply --
  into `UldkUnavailable`; it never crashes on what the server sends.
- `FakeUldk` is a local threaded HTTP server speaking the same protocol, for tests and the demo:
  `python -m layers.registries.uldk --port 8097 [--data FILE.json]`.

The protocol, as implemented on both sides (reply layout partly unverified, see DOMAIN.md §4.3)::

    GET /?request=GetParcelById&id=141803_2.0011.25%2F3
          &result=geom_wkt,teryt,voivodeship,county,commune,region,parcel&srid=2180
    0
    SRID=2180;POLYGON((627012.41 469893.12,...))|141803_2.0011.25/3|mazowieckie|piaseczyński|Lesznowola|Magdalenka|25/3

Line 1 is the status: `0` = found, then one `|`-joined record per line with the fields in the order of
`result=`; `-1 brak wyników` = nothing found; anything else (`-1 błąd ...`, XML, `niepoprawny parametr`)
is an error. ULDK's `teryt` result field is the parcel's full identifier; `UldkParcel.teryt` is the
7-character gmina TERYT derived from it (`141803_2` -> `1418032`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import math
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import shapely
import shapely.wkt
from django.utils.translation import gettext as _
from shapely.errors import GEOSException
from shapely.geometry import Point

from gisportal.core.errors import ConfigurationError, GisportalError, InvalidInput
from gisportal.core.identifiers import PARCEL_RE, parse_parcel_id

if TYPE_CHECKING:
    from django.contrib.gis.geos import GEOSGeometry

logger = logging.getLogger(__name__)

SRID = 2180
# the fields we always ask for; the reply's record follows this order
RESULT_FIELDS = ("geom_wkt", "teryt", "voivodeship", "county", "commune", "region", "parcel")
MAX_REPLY_BYTES = 5 * 1024 * 1024  # a parcel's WKT is a few kB; anything near this is not a parcel
# EPSG:2180 covers Poland within roughly E 145 000-880 000, N 125 000-800 000; a generous box that
# still rejects degrees (a 4326 answer) and nonsense
_PLAUSIBLE_2180 = (50_000.0, 950_000.0)
# Polish projected systems whose EPSG axis order is northing, easting (DOMAIN.md §12); see UldkClient
NORTHING_FIRST_SRIDS = frozenset({2176, 2177, 2178, 2179, 2180})
# ids coming back from ULDK: DOMAIN.md §3.1 says some powiats put letters or more "/" in the number,
# so this is looser than PARCEL_RE (which guards what we send)
_REPLY_ID_RE = re.compile(r"^\d{6}_\d\.\d{4}\.[0-9A-Za-z_./-]{1,64}$", re.ASCII)
MAX_ID_LENGTH = 64
_SRID_PREFIX_RE = re.compile(r"^SRID=(\d{1,6})$", re.IGNORECASE | re.ASCII)


# ------------------------------------------------------------------------------------- interface
class UldkUnavailable(GisportalError):
    """ULDK could not be reached or answered something we cannot trust."""

    code = "uldk_unavailable"
    status = 503


@dataclass(frozen=True)
class UldkParcel:
    parcel_id: str  # WWPPGG_R.XXXX[.AR_n].NDZ as ULDK spells it
    teryt: str  # gmina TERYT (7 chars): the unit WWPPGG_R without the underscore
    voivodeship: str
    county: str
    commune: str
    region: str  # precinct (obręb) name or number
    parcel: str  # parcel number (NDZ)
    geom_wkt: str  # EPSG:2180, x = easting, without the SRID= prefix

    srid: ClassVar[int] = SRID

    @property
    def geometry(self) -> GEOSGeometry:
        """The geometry as GEOS (EPSG:2180), for GeoDjango callers."""
        from django.contrib.gis.geos import GEOSGeometry

        return GEOSGeometry(self.geom_wkt, srid=SRID)


@runtime_checkable
class ParcelLocator(Protocol):
    def parcel_by_id(self, parcel_id: str) -> UldkParcel | None:
        """The parcel with this official id, or None if the registry has none. Raises InvalidInput for
        a malformed id (before any request) and UldkUnavailable when the service fails."""
        ...

    def parcel_by_xy(self, x: float, y: float, srid: int = SRID) -> UldkParcel | None:
        """The parcel covering the point (x = easting/longitude, y = northing/latitude), or None."""
        ...


def gmina_teryt(parcel_id: str) -> str:
    """`141803_2.0011.25/3` -> `1418032` (WWPPGG_R -> WWPPGGR)."""
    unit = parcel_id.split(".", 1)[0]
    return unit[:6] + unit[7:8]


# ------------------------------------------------------------------------------------- the client
class _SafeRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only (urllib's default would also follow ftp://)."""

    max_redirections = 3

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, "redirect to a non-HTTP URL refused", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _unavailable(reason: str) -> UldkUnavailable:
    return UldkUnavailable(
        _("The parcel location service (ULDK) is unavailable: %(reason)s") % {"reason": reason}
    )


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(
            _("The coordinate %(name)s must be a number.") % {"name": name}, code="coordinates", field=name
        )
    value = float(value)
    if not math.isfinite(value):
        raise InvalidInput(
            _("The coordinate %(name)s must be a finite number.") % {"name": name},
            code="coordinates",
            field=name,
        )
    return value


def _bounded_id(value: Any) -> str:
    """Guards parse_parcel_id leaves open: PARCEL_RE's `\\d` also matches non-ASCII digits and `\\d+`
    has no length limit; real parcel ids are ASCII and about 15-30 characters."""
    if not isinstance(value, str) or len(value) > MAX_ID_LENGTH or not value.isascii():
        raise InvalidInput(
            _(
                "“%(value)s” is not a parcel identifier of the form WWPPGG_R.XXXX.NDZ (e.g. 141804_4.0001.123/4)."
            )
            % {"value": str(value)[:80]},
            code="parcel_id_format",
        )
    return value


def _fmt(value: float) -> str:
    """Plain decimal, no exponent, enough digits for degrees and millimetres."""
    text = format(value, ".9f").rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class UldkClient:
    """The real ULDK client (`base_url` e.g. `https://uldk.gugik.gov.pl/`).

    `timeout` (seconds) bounds connecting and each read, and the whole reply must arrive within it
    too (so a server dripping bytes cannot hold a worker); worst case about twice `timeout`.

    `xy_northing_first` -- the coordinate order of `GetParcelByXY&xy=` in EPSG:2180 (and the other
    Polish projected systems 2176-2179) is unverified (DOMAIN.md §4.3): GUGiK's own sample
    `xy=482206.91,673473.54` only lands on Mińsk Mazowiecki -- the town of its GetParcelById sample
    `141201_1.0001.1867/2` -- when read as northing,easting (as easting,northing it is in Pomerania),
    i.e. the Polish geodetic X (north), Y (east), which is also EPSG:2180's axis order. Hence the
    default True: `parcel_by_xy(easting, northing)` sends `xy=<northing>,<easting>,2180`. Several
    third-party clients send easting,northing instead; set False (GISPORTAL_ULDK_XY_NORTHING_FIRST)
    if a live test shows that is what the service expects. Geographic input (`srid=4326`) is always
    sent lon,lat (x first). Our own API always takes x = easting/longitude, y = northing/latitude.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 5.0,
        *,
        xy_northing_first: bool = True,
        max_bytes: int = MAX_REPLY_BYTES,
    ):
        parts = urllib.parse.urlsplit(base_url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise ConfigurationError(
                _("The ULDK address must be an http(s) URL, e.g. https://uldk.gugik.gov.pl/."),
                code="uldk_url",
            )
        if not (isinstance(timeout, int | float) and 0 < timeout <= 120):
            raise ConfigurationError(
                _("The ULDK timeout must be between 0 and 120 seconds."), code="uldk_timeout"
            )
        self.base_url = base_url
        self.timeout = float(timeout)
        self.xy_northing_first = bool(xy_northing_first)
        self.max_bytes = int(max_bytes)
        self._opener = urllib.request.build_opener(_SafeRedirectHandler())

    def __repr__(self) -> str:
        return f"UldkClient({self.base_url!r}, timeout={self.timeout}, xy_northing_first={self.xy_northing_first})"

    # ---- the interface
    def parcel_by_id(self, parcel_id: str) -> UldkParcel | None:
        wanted = str(parse_parcel_id(_bounded_id(parcel_id)))  # raises InvalidInput before any request
        records = self._call({"request": "GetParcelById", "id": wanted})
        if records is None:
            return None
        parcels = [self._parse_record(r) for r in records]
        for parcel in parcels:
            if parcel.parcel_id != wanted:
                logger.warning("ULDK answered %r when asked for %r", parcel.parcel_id[:80], wanted)
                raise _unavailable(_("it answered about a different parcel"))
        return parcels[0]

    def parcel_by_xy(self, x: float, y: float, srid: int = SRID) -> UldkParcel | None:
        x, y = _number(x, "x"), _number(y, "y")
        if isinstance(srid, bool) or not isinstance(srid, int) or not 0 < srid < 1_000_000:
            raise InvalidInput(_("The coordinate system must be an EPSG code."), code="srid", field="srid")
        first, second = (y, x) if (srid in NORTHING_FIRST_SRIDS and self.xy_northing_first) else (x, y)
        records = self._call({"request": "GetParcelByXY", "xy": f"{_fmt(first)},{_fmt(second)},{srid}"})
        if records is None:
            return None
        # a point on a shared boundary may hit several parcels: all must parse, the first one wins
        parcels = [self._parse_record(r) for r in records]
        return parcels[0]

    # ---- HTTP
    def _url(self, params: dict[str, str]) -> str:
        params = {**params, "result": ",".join(RESULT_FIELDS), "srid": str(SRID)}
        query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe=",")
        base = self.base_url
        sep = "" if base.endswith(("?", "&")) else ("&" if "?" in base else "?")
        return f"{base}{sep}{query}"

    def _fetch(self, url: str) -> bytes:
        request = urllib.request.Request(  # noqa: S310 -- scheme checked in __init__ (http/https only)
            url, headers={"User-Agent": "gisportal-uldk/1.0", "Accept": "text/plain"}
        )
        deadline = time.monotonic() + self.timeout
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                declared = response.headers.get("Content-Length")
                if declared and declared.strip().isdigit() and int(declared) > self.max_bytes:
                    raise _unavailable(_("its reply is too large"))
                chunks: list[bytes] = []
                size = 0
                while True:
                    chunk = response.read1(65536)  # at most one socket read: the deadline is checked often
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _unavailable(_("its reply is too large"))
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise _unavailable(_("it did not answer in time"))
                if declared and declared.strip().isdigit() and size < int(declared):
                    raise _unavailable(_("its reply was cut short"))
                return b"".join(chunks)
        except urllib.error.HTTPError as e:
            e.close()
            logger.warning("ULDK HTTP error %s for %s", e.code, url)
            raise _unavailable(_("it answered with HTTP status %(status)s") % {"status": e.code}) from None
        except TimeoutError as e:
            logger.warning("ULDK timeout for %s: %s", url, e)
            raise _unavailable(_("it did not answer in time")) from None
        except urllib.error.URLError as e:
            logger.warning("ULDK unreachable (%s) for %s", e.reason, url)
            if isinstance(e.reason, TimeoutError):
                raise _unavailable(_("it did not answer in time")) from None
            raise _unavailable(_("it cannot be reached")) from None
        except (http.client.HTTPException, OSError, ValueError) as e:
            logger.warning("ULDK connection failed for %s: %r", url, e)
            raise _unavailable(_("the connection failed")) from None

    def _call(self, params: dict[str, str]) -> list[str] | None:
        """The data records of a reply, None for "no result"; UldkUnavailable for anything else."""
        url = self._url(params)
        body = self._fetch(url)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            logger.warning("ULDK reply is not UTF-8 for %s", url)
            raise _unavailable(_("its reply could not be read")) from None
        text = text.lstrip("\ufeff")
        lines = [line.rstrip("\r") for line in text.split("\n")]
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines or not lines[0].strip():
            raise _unavailable(_("its reply was empty"))
        status = lines[0].strip()
        if status.startswith("<"):
            logger.warning("ULDK answered XML/HTML for %s: %r", url, text[:200])
            raise _unavailable(_("it reported an error"))
        # only the status line is searched for "błąd": a precinct may be called Błądzim
        if "błąd" in status.lower() or "blad" in status.lower():
            logger.warning("ULDK reported an error for %s: %r", url, status[:200])
            raise _unavailable(_("it reported an error"))
        if status == "0":
            records = [line for line in lines[1:] if line.strip()]
            if not records:
                raise _unavailable(_("it reported success without data"))
            return records
        if status == "-1" or status.startswith(("-1 ", "-1\t")):
            message = status[2:].strip() or (lines[1].strip() if len(lines) > 1 else "")
            if not message or message.lower().startswith("brak wynik"):
                return None
            logger.warning("ULDK answered %r for %s", status[:200], url)
            raise _unavailable(_("it reported an error"))
        logger.warning("ULDK reply not understood for %s: %r", url, text[:200])
        raise _unavailable(_("its reply was not understood"))

    # ---- records
    def _parse_record(self, record: str) -> UldkParcel:
        fields = [f.strip() for f in record.split("|")]
        if len(fields) != len(RESULT_FIELDS):
            logger.warning(
                "ULDK record has %d fields, expected %d: %r", len(fields), len(RESULT_FIELDS), record[:200]
            )
            raise _unavailable(_("its reply was not understood"))
        values = dict(zip(RESULT_FIELDS, fields, strict=True))
        wkt = _checked_wkt(values["geom_wkt"])
        parcel_id = values["teryt"]  # ULDK's `teryt` field is the full parcel id
        if not _REPLY_ID_RE.match(parcel_id):
            logger.warning("ULDK record carries a malformed id: %r", parcel_id[:80])
            raise _unavailable(_("its reply was not understood"))
        if any(ord(c) < 32 for f in fields for c in f):
            raise _unavailable(_("its reply was not understood"))
        return UldkParcel(
            parcel_id=parcel_id,
            teryt=gmina_teryt(parcel_id),
            voivodeship=values["voivodeship"],
            county=values["county"],
            commune=values["commune"],
            region=values["region"],
            parcel=values["parcel"],
            geom_wkt=wkt,
        )


def _checked_wkt(value: str) -> str:
    """`SRID=2180;POLYGON((...))` -> `POLYGON((...))`, or UldkUnavailable if it is not a polygon in 2180."""
    prefix, sep, wkt = value.partition(";")  # split on ";" first (DOMAIN.md §4.3)
    if sep:
        m = _SRID_PREFIX_RE.match(prefix.strip())
        if not m or int(m.group(1)) != SRID:
            logger.warning("ULDK geometry has an unexpected SRID prefix: %r", prefix[:40])
            raise _unavailable(_("its geometry is not in EPSG:2180"))
    else:
        wkt = prefix
    wkt = wkt.strip()
    try:
        geom = shapely.wkt.loads(wkt)
    except (GEOSException, ValueError, TypeError, AttributeError):
        logger.warning("ULDK geometry does not parse: %r", wkt[:200])
        raise _unavailable(_("its geometry could not be read")) from None
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise _unavailable(_("its geometry could not be read"))
    lo, hi = _PLAUSIBLE_2180
    minx, miny, maxx, maxy = geom.bounds
    if not all(math.isfinite(v) and lo <= v <= hi for v in (minx, miny, maxx, maxy)):
        logger.warning("ULDK geometry outside EPSG:2180's area: %r", geom.bounds)
        raise _unavailable(_("its geometry is not in EPSG:2180"))
    return wkt


def get_locator() -> ParcelLocator | None:
    """The configured parcel locator: a UldkClient on settings.GISPORTAL_ULDK_URL (the real
    https://uldk.gugik.gov.pl/ or a FakeUldk), or None when unset, so callers can skip ULDK."""
    from django.conf import settings

    url = getattr(settings, "GISPORTAL_ULDK_URL", None)
    if not url:
        return None
    return UldkClient(
        url,
        timeout=float(getattr(settings, "GISPORTAL_ULDK_TIMEOUT", 5.0)),
        xy_northing_first=bool(getattr(settings, "GISPORTAL_ULDK_XY_NORTHING_FIRST", True)),
    )


# ------------------------------------------------------------------------------------- the fake
ParcelData = tuple[dict[str, str], str]  # ({"voivodeship", "county", "commune", "region"}, WKT in 2180)
ATTRIBUTES = ("voivodeship", "county", "commune", "region")

# Synthetic parcels around gmina Piaseczno, none inside it. Unit codes from DOMAIN.md §3: powiat 1418 =
# 01 Góra Kalwaria, 02 Konstancin-Jeziorna (types 3/4/5), 03 Lesznowola (type 2), 05 Prażmów, 06 Tarczyn;
# so Lesznowola is 141803_2 (141805 is Prażmów). Warsaw (TERYT 1465011) is divided for the cadastre
# into districts, unit kind 8 (DOMAIN.md §3.1): 146510_8 Śródmieście and 146513_8 Ursynów (district
# codes from memory, unverified). Precinct numbers and names, parcel numbers, the exact spelling of
# ULDK's county/commune values and the geometries are invented. Positions follow the demo map
# (layers/demo/generator.py: Warsaw north, Lesznowola west, Konstancin-Jeziorna east) and stay outside
# its Piaseczno grid; x = easting, y = northing.
DEFAULT_PARCELS: dict[str, ParcelData] = {
    "141803_2.0011.25/3": (
        {
            "voivodeship": "mazowieckie",
            "county": "piaseczyński",
            "commune": "Lesznowola",
            "region": "Magdalenka",
        },
        "POLYGON((627012.41 469893.12,627048.77 469897.35,627044.9 469938.61,627008.52 469934.4,627012.41 469893.12))",
    ),
    # shares its western edge with 25/3
    "141803_2.0011.26": (
        {
            "voivodeship": "mazowieckie",
            "county": "piaseczyński",
            "commune": "Lesznowola",
            "region": "Magdalenka",
        },
        "POLYGON((627048.77 469897.35,627083.05 469901.3,627079.31 469942.55,627044.9 469938.61,627048.77 469897.35))",
    ),
    "141802_4.0005.118/2": (
        {
            "voivodeship": "mazowieckie",
            "county": "piaseczyński",
            "commune": "Konstancin-Jeziorna (miasto)",
            "region": "Konstancin",
        },
        "POLYGON((647480.2 467985.6,647512.85 467981.1,647519.4 468027.75,647486.95 468032.3,647480.2 467985.6))",
    ),
    # sheet numbering (AR_n), DOMAIN.md §3.1
    "141802_5.0003.AR_2.77": (
        {
            "voivodeship": "mazowieckie",
            "county": "piaseczyński",
            "commune": "Konstancin-Jeziorna (obszar wiejski)",
            "region": "Ciszyca",
        },
        "POLYGON((648170 464440,648232.5 464446.2,648228.1 464556.8,648165.6 464550.4,648170 464440))",
    ),
    "146510_8.0307.12/1": (
        {
            "voivodeship": "mazowieckie",
            "county": "Warszawa",
            "commune": "Warszawa-Śródmieście",
            "region": "5-03-07",
        },
        "POLYGON((637262.3 486968.4,637318.9 486972.1,637315.2 487031.6,637258.7 487027.8,637262.3 486968.4))",
    ),
    "146513_8.0112.45": (
        {
            "voivodeship": "mazowieckie",
            "county": "Warszawa",
            "commune": "Warszawa-Ursynów",
            "region": "1-01-12",
        },
        "POLYGON((640380 477280,640421.6 477284.9,640417.3 477322.4,640375.8 477317.6,640380 477280))",
    ),
}

_FAKE_FIELDS = ("geom_wkb", "geom_wkt", "teryt", "id", "voivodeship", "county", "commune", "region", "parcel")
NO_RESULT = "-1 brak wyników"


def _fake_parcel_ok(parcel_id: str) -> bool:
    return (
        len(parcel_id) <= MAX_ID_LENGTH
        and parcel_id.isascii()
        and bool(PARCEL_RE.match(parcel_id))
        and "\n" not in parcel_id
        and not parcel_id.split(".", 1)[0].endswith("_3")
    )


def _parcel_number(parcel_id: str) -> str:
    rest = parcel_id.split(".", 2)[2]
    return rest.split(".", 1)[1] if rest.startswith("AR_") else rest


def load_parcels(path: str | Path) -> dict[str, ParcelData]:
    """Read a JSON file `{"<parcel id>": {"voivodeship", "county", "commune", "region", "wkt"}}`."""
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected an object mapping parcel ids to attributes")
    parcels: dict[str, ParcelData] = {}
    for parcel_id, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("wkt"), str):
            raise ValueError(f"{path}: {parcel_id!r} needs an object with a 'wkt' string")
        parcels[parcel_id] = ({k: str(entry.get(k, "")) for k in ATTRIBUTES}, entry["wkt"])
    return parcels


class _FakeHandler(BaseHTTPRequestHandler):
    server_version = "FakeULDK/1.0"
    server: _FakeServer

    def do_GET(self) -> None:
        fake = self.server.fake
        fake.requests.append(self.path)
        body = fake.answer(urllib.parse.urlsplit(self.path).query).encode("utf-8")
        self.send_response(200)  # ULDK answers 200 even for errors: the status is the first line
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.fake.verbose:
            super().log_message(format, *args)


class _FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeUldk

    def handle_error(self, request, client_address) -> None:
        logger.debug("fake ULDK: error serving %s", client_address, exc_info=True)


class FakeUldk:
    """A local ULDK speaking the protocol UldkClient parses (GetParcelById, GetParcelByXY).

    `parcels` maps parcel ids to `(attributes, WKT in EPSG:2180)` (default: DEFAULT_PARCELS).
    `xy_northing_first` reads `xy=` in 2180 as northing,easting -- keep it equal to the client's.
    Only EPSG:2180 is served (`srid=` and the `xy` srid must be 2180 or absent); other requests get
    an error line. `requests` records the raw request paths (for tests)."""

    def __init__(
        self,
        parcels: Mapping[str, ParcelData] | None = None,
        *,
        xy_northing_first: bool = True,
        host: str = "127.0.0.1",
        verbose: bool = False,
    ):
        self.host = host
        self.xy_northing_first = xy_northing_first
        self.verbose = verbose
        self.requests: list[str] = []
        self._parcels: dict[str, tuple[dict[str, str], str, Any]] = {}
        for parcel_id, (attrs, wkt) in (DEFAULT_PARCELS if parcels is None else parcels).items():
            if not _fake_parcel_ok(parcel_id):
                raise ValueError(f"not a parcel id: {parcel_id!r}")
            wkt = " ".join(wkt.split())
            geom = shapely.wkt.loads(wkt)
            if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
                raise ValueError(f"{parcel_id}: the geometry must be a polygon")
            shapely.prepare(geom)
            clean = {k: str(attrs.get(k, "")).replace("|", "/").replace("\n", " ") for k in ATTRIBUTES}
            self._parcels[parcel_id] = (clean, wkt, geom)
        self._server: _FakeServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle
    def start(self, port: int = 0) -> str:
        if self._server is not None:
            raise RuntimeError("the fake ULDK is already running")
        server = _FakeServer((self.host, port), _FakeHandler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-uldk", daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake ULDK is not running")
        host, port = self._server.server_address[:2]
        if ":" in str(host):
            host = f"[{host}]"
        return f"http://{host}:{port}/"

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeUldk:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the protocol (pure: query string in, reply text out)
    def answer(self, query: str) -> str:
        try:
            pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, max_num_fields=20, errors="strict")
        except ValueError:
            return "-1 błąd: niepoprawne zapytanie\n"
        params: dict[str, str] = {}
        for key, value in pairs:
            params.setdefault(key.lower(), value)
        fields = params.get("result", "geom_wkb").split(",")
        if not fields or any(f not in _FAKE_FIELDS for f in fields):
            return "-1 błąd: niepoprawny parametr result\n"
        if params.get("srid", str(SRID)) != str(SRID):
            return "-1 błąd: niepoprawny parametr srid (atrapa obsługuje tylko 2180)\n"
        request = params.get("request", "").lower()
        if request == "getparcelbyid":
            parcel_id = params.get("id", "")
            if not _fake_parcel_ok(parcel_id):
                return "-1 błąd: niepoprawny parametr id\n"
            hits = [parcel_id] if parcel_id in self._parcels else []
        elif request == "getparcelbyxy":
            point = self._point(params.get("xy", ""))
            if point is None:
                return "-1 błąd: niepoprawny parametr xy\n"
            hits = sorted(pid for pid, (_a, _w, geom) in self._parcels.items() if geom.covers(point))
        else:
            return "-1 błąd: niepoprawny parametr request\n"
        if not hits:
            return NO_RESULT + "\n"
        return "0\n" + "".join(self._record(pid, fields) + "\n" for pid in hits)

    def _point(self, xy: str) -> Point | None:
        parts = xy.split(",")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2].strip() != str(SRID)):
            return None
        try:
            a, b = float(parts[0]), float(parts[1])
        except ValueError:
            return None
        if not (math.isfinite(a) and math.isfinite(b)):
            return None
        easting, northing = (b, a) if self.xy_northing_first else (a, b)
        return Point(easting, northing)

    def _record(self, parcel_id: str, fields: list[str]) -> str:
        attrs, wkt, geom = self._parcels[parcel_id]
        values = {
            "geom_wkt": f"SRID={SRID};{wkt}",
            "geom_wkb": shapely.to_wkb(shapely.set_srid(geom, SRID), hex=True, include_srid=True),
            "teryt": parcel_id,
            "id": parcel_id,
            "parcel": _parcel_number(parcel_id),
            **attrs,
        }
        return "|".join(values[f] for f in fields)


# ------------------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m layers.registries.uldk", description="Run a local fake ULDK (GUGiK parcel locator)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8097, help="port (default 8097; 0 = any free port)")
    parser.add_argument(
        "--data", help='JSON: {"<parcel id>": {"voivodeship", "county", "commune", "region", "wkt"}}'
    )
    parser.add_argument(
        "--xy-easting-first", action="store_true", help="read GetParcelByXY xy= in 2180 as easting,northing"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    try:
        parcels = load_parcels(args.data) if args.data else DEFAULT_PARCELS
        fake = FakeUldk(
            parcels, xy_northing_first=not args.xy_easting_first, host=args.host, verbose=args.verbose
        )
    except (OSError, ValueError, GEOSException) as e:
        print(f"fake ULDK: cannot load parcels: {e}", file=sys.stderr)
        return 2

    def _terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        fake.start(args.port)
    except OSError as e:
        print(f"fake ULDK: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    print(f"fake ULDK: {len(parcels)} parcels at {fake.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
