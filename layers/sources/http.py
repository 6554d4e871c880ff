"""The one outbound HTTP client for remote sources (ARCHITECTURE §5.10: a user's input never chooses where
the server connects). Everything the hub fetches from a remote WMS, WFS or OGC API goes through `get`:

- GET only, and only to a URL whose scheme, host and port equal a registered source's (or those of the URL
  being registered, during its registration);
- no redirects: a redirect is an error naming where it pointed, never followed;
- connect and read timeouts (GISPORTAL_SOURCES_TIMEOUT, 10 s) and a deadline for the whole answer
  (GISPORTAL_SOURCES_DEADLINE, 30 s);
- an answer size cap (GISPORTAL_SOURCES_MAX_BYTES, 20 MB), counted on the decoded bytes read in chunks;
- the address the host resolves to must not be private, loopback, link-local, multicast or reserved unless
  the host is listed in GISPORTAL_SOURCES_PRIVATE_HOSTS; the connection is made to the very address that
  was checked (no second DNS lookup to rebind);
- no proxies or other settings from the environment.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import urllib3
from django.conf import settings
from django.utils.translation import gettext as _
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError

from gisportal.core.errors import GisportalError

from .selectors import origin, source_origins

CHUNK = 64 * 1024
USER_AGENT = "gisportal-sources/1"
# request parameters that belong to one request, not to the service's address
_REQUEST_KEYS = {"service", "request", "version", "acceptversions", "f"}


class SourceError(GisportalError):
    """A remote source could not be read; the message is safe to show to staff."""

    code = "source_error"
    status = 400


def _setting(name: str, default):
    return getattr(settings, name, default)


def timeout() -> float:
    return float(_setting("GISPORTAL_SOURCES_TIMEOUT", 10))


def deadline() -> float:
    return float(_setting("GISPORTAL_SOURCES_DEADLINE", 3 * timeout()))


def max_bytes() -> int:
    return int(_setting("GISPORTAL_SOURCES_MAX_BYTES", 20 * 1024 * 1024))


def private_hosts() -> set[str]:
    return {h.strip().lower() for h in _setting("GISPORTAL_SOURCES_PRIVATE_HOSTS", []) or [] if h.strip()}


# ---------------------------------------------------------------- addresses
def normalise_url(url: str) -> str:
    """The service's address as stored: http(s) only, no credentials, no fragment, the host in lower case,
    the default port dropped, per-request parameters (SERVICE, REQUEST, VERSION, f) left out."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise SourceError(_("The address is not a valid URL."), code="invalid_url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(_("The address must be an http:// or https:// URL."), code="invalid_url")
    if parts.username or parts.password or "@" in parts.netloc:
        raise SourceError(
            _("The address must not contain a user name or password."), code="credentials_in_url"
        )
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == {"http": 80, "https": 443}[scheme] else f"{host}:{port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in _REQUEST_KEYS]
    )
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, query, ""))


def with_params(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def with_path(url: str, suffix: str) -> str:
    """`url` with `suffix` appended to its path (the query kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + suffix, parts.query, ""))


def _forbidden_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def resolve_checked(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, each allowed; SourceError when any is not."""
    bare = host.strip("[]").lower()
    try:
        infos = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise SourceError(
            _("The host name %(host)s could not be resolved.") % {"host": bare}, code="dns"
        ) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if bare not in private_hosts():
        for a in addresses:
            if _forbidden_address(ipaddress.ip_address(a.split("%", 1)[0])):
                raise SourceError(
                    _(
                        "The host %(host)s resolves to a private or local address (%(addr)s); such "
                        "addresses are not fetched."
                    )
                    % {"host": bare, "addr": a},
                    code="private_address",
                )
    if not addresses:
        raise SourceError(_("The host name %(host)s could not be resolved.") % {"host": bare}, code="dns")
    return addresses


# ---------------------------------------------------------------- connections pinned to checked addresses
class _Guarded:
    def _new_conn(self) -> socket.socket:
        last: OSError | None = None
        for address in resolve_checked(self._dns_host, self.port):
            try:
                sock = socket.create_connection((address, self.port), self.timeout, self.source_address)
            except TimeoutError:
                raise ConnectTimeoutError(self, f"connection to {self.host} timed out") from None
            except OSError as e:
                last = e
                continue
            for opt in self.socket_options or ():
                sock.setsockopt(*opt)
            return sock
        raise NewConnectionError(self, f"failed to connect: {last}")


class _GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _Adapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def _session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # no proxies, .netrc or CA bundles from the environment
    s.proxies = {}
    adapter = _Adapter(max_retries=0)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


# ---------------------------------------------------------------- the client
@dataclass(frozen=True)
class Answer:
    url: str
    status: int
    content_type: str
    body: bytes


def get(url: str, *, registering: str | None = None, accept: str = "", until: float | None = None) -> Answer:
    """GET `url` under the rules above; the whole answer (status 200) or SourceError. `until`: a
    time.monotonic() moment the answer must be complete by, besides the usual deadline (a caller's budget
    for several requests)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SourceError(_("The address must be an http:// or https:// URL."), code="invalid_url")
    if parts.username or parts.password:
        raise SourceError(
            _("The address must not contain a user name or password."), code="credentials_in_url"
        )
    allowed = {origin(registering)} if registering else source_origins()
    if origin(url) not in allowed:
        raise SourceError(
            _("%(url)s is not the address of a registered source; it is not fetched.") % {"url": url},
            code="not_registered",
        )
    t = timeout()
    limit = max_bytes()
    started = time.monotonic()
    end = started + deadline() if until is None else min(started + deadline(), until)
    if end - started <= 0:
        raise _too_slow()
    t = min(t, end - started)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if accept:
        headers["Accept"] = accept
    try:
        with (
            _session() as s,
            s.get(url, headers=headers, timeout=(t, t), allow_redirects=False, stream=True) as r,
        ):
            if r.is_redirect or 300 <= r.status_code < 400:
                raise SourceError(
                    _("The source answered with a redirect to %(location)s; redirects are not followed.")
                    % {"location": r.headers.get("Location", "?")[:300]},
                    code="redirect",
                )
            if r.status_code != 200:
                error = SourceError(
                    _("The source answered with HTTP status %(status)s.") % {"status": r.status_code},
                    code="http_status",
                )
                error.remote_status = r.status_code  # a harvest retries 5xx and 429, not the others
                raise error
            declared = r.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(limit)
            chunks: list[bytes] = []
            size = 0
            while True:  # read1: whatever has arrived, so that the deadline is checked between reads
                chunk = r.raw.read1(CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                if time.monotonic() > end:
                    raise _too_slow()
                chunks.append(chunk)
            if time.monotonic() > end:
                raise _too_slow()
            return Answer(url, r.status_code, r.headers.get("Content-Type", ""), b"".join(chunks))
    except SourceError:
        raise
    except (requests.Timeout, ReadTimeoutError, TimeoutError):
        raise _too_slow() from None
    except requests.ConnectionError as e:
        if e.args and isinstance(e.args[0], ReadTimeoutError):  # a read timeout while streaming the body
            raise _too_slow() from None
        raise _unreachable(e) from None
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
        raise _unreachable(e) from None


def _unreachable(e: Exception) -> SourceError:
    return SourceError(
        _("The source could not be reached: %(reason)s") % {"reason": type(e).__name__}, code="network"
    )


def _too_large(limit: int) -> SourceError:
    return SourceError(
        _("The source's answer is larger than %(mb)s MB; it was cut off and not read.")
        % {"mb": round(limit / 1024 / 1024, 1)},
        code="too_large",
    )


def _too_slow() -> SourceError:
    return SourceError(
        _("The source did not answer in time (limit %(s)s s).") % {"s": round(deadline(), 1)},
        code="timeout",
    )
