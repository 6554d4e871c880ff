"""What the verifier trusts, read from configuration (GISPORTAL_TRUST_DIR) and from the offices' own seals.

- `anchors/*.pem|*.crt|*.cer`: trusted roots (PEM or DER), e.g. a qualified CA's root installed by hand.
- `tsl/*.xml`: trusted lists in the EU TSL format (ETSI TS 119 612; the Polish national list from NCCert is
  one). A list is used only when its XAdES signature verifies with a certificate in `tsl/signers/` (the
  pinned certificates of the lists' operators); pyHanko parses and checks it. Its granted qualified CA
  services become roots, its qualified timestamp services trusted TSAs, and the list decides whether a
  certificate is qualified. Pointers to other lists (the EU LOTL) are not followed: nothing is fetched.
- `crl/*.crl|*.pem`: CRLs of the CAs, refreshed by whoever installs them (a cron job in production).
- `pz/*.pem`: the certificates of the Profil Zaufany service's seal (the ministry's "pieczęć podpisu
  zaufanego"). Only a signature made with one of them (and trusted like any other) vouches for the name and
  PESEL in its PodpisZP data; anybody else's PodpisZP is somebody's claim.
- The offices' own seal certificates (every one they ever sealed with) and, through `register_source`, the
  local TSA's: our receipts and issued documents verify as the office's.

Revocation over the network is off unless GISPORTAL_REVOCATION_FETCH is on; then only from the hosts in
GISPORTAL_REVOCATION_HOSTS, without redirects, each request within GISPORTAL_REVOCATION_TIMEOUT seconds and
a small budget: a certificate someone uploads never makes the server connect anywhere else.

The store is rebuilt when a file in the folder (or a seal) changes."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests
from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.api import Fetchers, FetchLimits
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
from pyhanko_certvalidator.fetchers.requests_fetchers.cert_fetch_client import RequestsCertificateFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.crl_client import RequestsCRLFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.ocsp_client import RequestsOCSPFetcher
from pyhanko_certvalidator.path import ValidationPath

log = logging.getLogger(__name__)

MAX_TRUST_FILE = 30 * 1024 * 1024  # the EU LOTL and national lists are a few MB
RECHECK_SECONDS = 0.0  # the stat walk is cheap next to a verification: a new seal counts at once
CertSource = Callable[[], Iterable[x509.Certificate]]
_sources: dict[str, CertSource] = {}
_lock = threading.Lock()
_cached: tuple[tuple, float, TrustStore] | None = None


def register_source(name: str, source: CertSource) -> None:
    """More trusted certificates, read each time the store is built (the local TSA's, set at start-up)."""
    _sources[name] = source


@dataclass(frozen=True)
class TrustedList:
    """A trusted list that was read: its file, territory, issue date, how many services it gave, and why it
    was refused when it was (then nothing of it is trusted)."""

    file: str
    territory: str = ""
    issued: str = ""
    next_update: str = ""
    services: int = 0
    problem: str = ""


@dataclass(frozen=True)
class TrustStore:
    anchors: tuple[tuple[asn1_x509.Certificate, str], ...]  # (root, where it comes from)
    crls: tuple[asn1_crl.CertificateList, ...] = ()
    lists: tuple[TrustedList, ...] = ()
    registry: object | None = None  # pyHanko's TSPRegistry of the accepted lists
    pz_certificates: frozenset[bytes] = frozenset()  # DER of the Profil Zaufany seal certificates
    _by_der: dict = field(default_factory=dict, compare=False, repr=False)

    def source_of(self, cert: asn1_x509.Certificate) -> str | None:
        """Where a trusted root comes from ("config", "tsl:PL", "office:GM-PIASECZNO", "tsa"), or None."""
        if not self._by_der:
            self._by_der.update({c.dump(): s for c, s in self.anchors})
        return self._by_der.get(cert.dump())

    def context(
        self,
        *,
        moment: datetime | None = None,
        other_certs: Iterable[asn1_x509.Certificate] = (),
        fetch: bool = True,
    ) -> ValidationContext:
        """A validation context at `moment` (now when None) with every root, CRL and the fetch policy
        (`fetch=False`: never fetch, for a check whose trust verdict is not used)."""
        fetch = fetch and settings.GISPORTAL_REVOCATION_FETCH and bool(settings.GISPORTAL_REVOCATION_HOSTS)
        return ValidationContext(
            trust_roots=[c for c, _ in self.anchors],
            other_certs=list(other_certs),
            crls=list(self.crls),
            moment=moment,
            allow_fetching=fetch,
            fetcher_backend=GuardedFetcherBackend() if fetch else None,
            revocation_mode="soft-fail",
            retroactive_revinfo=True,
        )

    def qualified(self, path: ValidationPath | None, moment: datetime | None) -> bool | None:
        """Whether the trusted lists say the path's end certificate is qualified (None: no list applies)."""
        if path is None or self.registry is None:
            return None
        from pyhanko.sign.validation.qualified.assess import QualificationAssessor

        try:
            result = QualificationAssessor(self.registry).check_entity_cert_qualified(path, moment=moment)
        except Exception:  # a certificate the assessor cannot read: not known to be qualified
            log.info("qualification assessment failed", exc_info=True)
            return None
        if result.service_definition is None:
            return None
        return bool(result.status.qualified)


# ---------------------------------------------------------------- network (off by default)
def _allowed(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in settings.GISPORTAL_REVOCATION_HOSTS


class _Guarded:
    """pyHanko's requests fetchers, with the host allow-list and no redirects."""

    def _get(self, url, *, acceptable_content_types):
        if not _allowed(url):
            raise requests.RequestException("host not allowed for revocation data")
        return self._request("GET", url, None, {"Accept": ",".join(acceptable_content_types)})

    def _post(self, url, data, *, content_type, acceptable_content_types):
        if not _allowed(url):
            raise requests.RequestException("host not allowed for revocation data")
        headers = {"Accept": ",".join(acceptable_content_types), "Content-Type": content_type}
        return self._request("POST", url, data, headers)

    def _request(self, method, url, data, headers):
        from asyncio import to_thread

        def task():
            r = requests.request(
                method,
                url,
                data=data,
                headers={**headers, "User-Agent": "gisportal"},
                timeout=settings.GISPORTAL_REVOCATION_TIMEOUT,
                allow_redirects=False,
            )
            if r.status_code != 200 or len(r.content) > MAX_TRUST_FILE:
                raise requests.RequestException(f"status code {r.status_code}")
            return r

        return to_thread(task)


class _CRL(_Guarded, RequestsCRLFetcher):
    pass


class _OCSP(_Guarded, RequestsOCSPFetcher):
    pass


class _Certs(_Guarded, RequestsCertificateFetcher):
    pass


class GuardedFetcherBackend(RequestsFetcherBackend):
    def __init__(self):
        super().__init__(
            per_request_timeout=settings.GISPORTAL_REVOCATION_TIMEOUT,
            limits=FetchLimits(),
        )

    def get_fetchers(self) -> Fetchers:
        base = super().get_fetchers()
        to, budget = self.per_request_timeout, base.crl_fetcher._budget
        return Fetchers(
            ocsp_fetcher=_OCSP(per_request_timeout=to, budget=budget),
            crl_fetcher=_CRL(per_request_timeout=to, budget=budget),
            cert_fetcher=_Certs(per_request_timeout=to, budget=budget),
        )


# ---------------------------------------------------------------- reading the folder
def _certs_in(data: bytes) -> list[asn1_x509.Certificate]:
    if pem.detect(data):
        return [asn1_x509.Certificate.load(der) for _t, _h, der in pem.unarmor(data, multiple=True)]
    return [asn1_x509.Certificate.load(data)]


def _files(folder: Path, patterns: tuple[str, ...]) -> list[Path]:
    if not folder.is_dir():
        return []
    out = {p for pattern in patterns for p in folder.glob(pattern) if p.is_file()}
    return sorted(out)


def _read(path: Path) -> bytes | None:
    try:
        if path.stat().st_size > MAX_TRUST_FILE:
            log.warning("%s is too large to be a trust file", path)
            return None
        return path.read_bytes()
    except OSError:
        log.warning("%s is unreadable", path)
        return None


def _read_lists(root: Path) -> tuple[list[TrustedList], object | None]:
    files = _files(root / "tsl", ("*.xml",))
    if not files:
        return [], None
    from pyhanko.sign.validation.qualified.eutl_parse import trust_list_to_registry
    from pyhanko.sign.validation.qualified.tsp import TSPRegistry

    signers: list[asn1_x509.Certificate] = []
    for p in _files(root / "tsl" / "signers", ("*.pem", "*.crt", "*.cer")):
        data = _read(p)
        try:
            signers.extend(_certs_in(data or b""))
        except ValueError:
            log.warning("%s is not a certificate", p)
    registry = TSPRegistry()
    lists = []
    for p in files:
        data = _read(p)
        if data is None:
            lists.append(TrustedList(p.name, problem="unreadable"))
            continue
        if not signers:
            lists.append(TrustedList(p.name, problem="no pinned signer certificate in tsl/signers"))
            continue
        before = len(registry.known_certificate_authorities) + len(registry.known_timestamp_authorities)
        try:
            _reg, errors = trust_list_to_registry(data.decode("utf-8"), signers, registry=registry)
        except Exception as e:  # an unsigned, tampered or malformed list is not trusted at all
            log.warning("trusted list %s refused: %s", p.name, e)
            lists.append(TrustedList(p.name, problem=f"refused: {e.__class__.__name__}"))
            continue
        for err in errors:
            log.info("trusted list %s: service skipped: %s", p.name, err)
        after = len(registry.known_certificate_authorities) + len(registry.known_timestamp_authorities)
        lists.append(TrustedList(p.name, services=after - before, **_list_facts(data)))
    return lists, registry


def _list_facts(data: bytes) -> dict:
    from .xmlsafe import UnsafeXml, parse_xml

    try:
        root = parse_xml(data)
    except UnsafeXml:
        return {}
    ns = "{http://uri.etsi.org/02231/v2#}"

    def text(tag: str) -> str:
        el = root.find(f"{ns}SchemeInformation/{ns}{tag}")
        return (el.text or "").strip() if el is not None else ""

    next_update = root.find(f"{ns}SchemeInformation/{ns}NextUpdate/{ns}dateTime")
    return {
        "territory": text("SchemeTerritory"),
        "issued": text("ListIssueDateTime"),
        "next_update": (next_update.text or "").strip() if next_update is not None else "",
    }


def _office_certificates() -> list[tuple[x509.Certificate, str]]:
    from services.offices.models import Office
    from services.offices.seals import certificates_for

    out = []
    for office in Office.objects.all():
        out.extend((c, f"office:{office.code}") for c in certificates_for(office))
    return out


def _build(root: Path) -> TrustStore:
    anchors: list[tuple[asn1_x509.Certificate, str]] = []
    for p in _files(root / "anchors", ("*.pem", "*.crt", "*.cer", "*.der")):
        try:
            anchors.extend((c, "config") for c in _certs_in(_read(p) or b""))
        except ValueError:
            log.warning("%s is not a certificate", p)
    lists, registry = _read_lists(root)
    if registry is not None:
        for authority in [*registry.known_certificate_authorities, *registry.known_timestamp_authorities]:
            cert = getattr(authority, "certificate", None)
            if cert is not None:
                anchors.append((cert, "tsl"))
    try:
        for cert, where in _office_certificates():
            anchors.append((asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)), where))
    except Exception:  # no database yet (start-up checks): the configured roots still work
        log.info("office certificates not read", exc_info=True)
    for name, source in _sources.items():
        try:
            anchors.extend((asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)), name) for c in source())
        except Exception:
            log.exception("trusted certificates of %s unreadable", name)
    crls = []
    for p in _files(root / "crl", ("*.crl", "*.pem", "*.der")):
        data = _read(p) or b""
        try:
            ders = [der for _t, _h, der in pem.unarmor(data, multiple=True)] if pem.detect(data) else [data]
            crls.extend(asn1_crl.CertificateList.load(d) for d in ders)
            for c in crls[-len(ders) :]:
                c.native  # noqa: B018 - parse now: a broken CRL is skipped here, not in a request
        except ValueError:
            log.warning("%s is not a CRL", p)
            crls = crls[: len(crls) - len(ders)] if ders else crls
    pz = set()
    for p in _files(root / "pz", ("*.pem", "*.crt", "*.cer", "*.der")):
        try:
            pz.update(c.dump() for c in _certs_in(_read(p) or b""))
        except ValueError:
            log.warning("%s is not a certificate", p)
    unique: dict[bytes, tuple[asn1_x509.Certificate, str]] = {}
    for cert, where in anchors:
        unique.setdefault(cert.dump(), (cert, where))
    return TrustStore(tuple(unique.values()), tuple(crls), tuple(lists), registry, frozenset(pz))


def _signature(root: Path) -> tuple:
    """What tells the folder (and the seal folder) changed: names, sizes and times of every file."""
    out = []
    for folder in (root, Path(settings.GISPORTAL_SEAL_DIR)):
        if folder.is_dir():
            for p in sorted(folder.rglob("*")):
                try:
                    st = p.stat()
                except OSError:
                    continue
                out.append((str(p), st.st_size, st.st_mtime_ns))
    return (str(root), tuple(out), tuple(sorted(_sources)))


def trust_store() -> TrustStore:
    global _cached
    root = Path(settings.GISPORTAL_TRUST_DIR)
    with _lock:
        now = time.monotonic()
        if _cached is not None and now - _cached[1] < RECHECK_SECONDS and _cached[0][0] == str(root):
            return _cached[2]
        sig = _signature(root)
        if _cached is not None and _cached[0] == sig:
            _cached = (sig, now, _cached[2])
            return _cached[2]
        store = _build(root)
        _cached = (sig, now, store)
        return store


def forget() -> None:
    """Drop the cached store (tests that change the folder within the re-check interval)."""
    global _cached
    with _lock:
        _cached = None


def fingerprint(cert: asn1_x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()
