"""The timestamp authority behind the PAdES B-T seals of issued documents (RFC 3161).

- Production points GISPORTAL_TSA_URL at a qualified TSA: `timestamper()` is then pyHanko's HTTP client.
- Otherwise (demo, tests) the office's seal is timestamped by a local TSA: an EC P-256 key with a
  self-signed certificate (extendedKeyUsage timeStamping, critical) in GISPORTAL_SEAL_DIR/_tsa. Like the
  office seals (services/offices/seals.py) it never fails open: the pair is generated only when
  GISPORTAL_SEAL_GENERATE is on and neither file exists; a half pair, a key that does not match its
  certificate or an expired certificate is a ConfigurationError, never a new key (documents
  timestamped with the old one would stop verifying).
- The tokens are built with pyHanko's own CMS signer (SimpleSigner over an encapsulated TSTInfo), so no
  signature code lives here; pyHanko's DummyTimeStamper signs with RSA keys only.
- `python -m services.documents.tsa --port 8099` serves the local TSA over HTTP, so a demo deployment
  can exercise the same HTTP path as production.
- Every local TSA certificate is archived in _tsa/archive/ (a lost pair is then an error, never a new
  key). Checking a copy trusts those and the root certificates installed (PEM) in _tsa/trusted/, e.g. a
  qualified TSA's (`trusted_tsa_certificates()`).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import fcntl
import logging
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from pyhanko.keys import load_private_key_from_pemder_data
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper, TimestampRequestError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from gisportal.core.errors import ConfigurationError
from services.offices.seals import folder_locked, pair_problem, pair_stat

log = logging.getLogger(__name__)

TSA_DIR, KEY, CERT, TRUSTED, ARCHIVE = "_tsa", "key.pem", "cert.pem", "trusted", "archive"
# TSA policy of the local (non-qualified) TSA: an OID under the UUID arc 2.25 (ITU-T X.667), ours
# without registration; a qualified TSA names its own policy.
LOCAL_POLICY_OID = "2.25.171165419788278434877544809460743703827"
CONTENT_TYPE_QUERY, CONTENT_TYPE_REPLY = "application/timestamp-query", "application/timestamp-reply"
MAX_QUERY_BYTES = 16 * 1024  # a TimeStampReq with a SHA-512 imprint and extensions is well under 1 KB
_DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}  # imprints we timestamp (no SHA-1, no MD5)
_lock = threading.Lock()
_cache: dict[str, tuple[tuple, _LocalPair]] = {}


class TSAUnavailable(ConfigurationError):
    """The local TSA cannot sign: what is wrong and what to do, for the operator."""

    code = "tsa_unavailable"
    status = 503


@dataclass(frozen=True)
class _LocalPair:
    key_pem: bytes
    cert_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


def tsa_dir() -> Path:
    return Path(settings.GISPORTAL_SEAL_DIR) / TSA_DIR


# ---------------------------------------------------------------- the local TSA's key and certificate
def generate_tsa_pair() -> tuple[bytes, bytes]:
    """A self-signed EC P-256 TSA certificate (RFC 3161 §2.3: extendedKeyUsage timeStamping only,
    critical), valid ten years; for the demo and the tests."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gisportal"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Lokalny urząd znacznika czasu (demonstracyjny)"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    usage = dict.fromkeys(
        (
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.KeyUsage(digital_signature=True, **usage), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _archived(d: Path) -> list[x509.Certificate]:
    """Every certificate the local TSA has had: its timestamps keep verifying after a key is lost."""
    certs = []
    for path in sorted((d / ARCHIVE).glob("*.pem")) if (d / ARCHIVE).is_dir() else []:
        try:
            certs.append(x509.load_pem_x509_certificate(path.read_bytes()))
        except (OSError, ValueError):
            continue
    return certs


def _write(d: Path, key_pem: bytes, cert_pem: bytes) -> None:
    """Write a new pair (under the exclusive lock): the certificate archived first, then the key
    (0600) and the certificate, each atomically."""
    archive = d / ARCHIVE
    archive.mkdir(exist_ok=True)
    serial = x509.load_pem_x509_certificate(cert_pem).serial_number
    (archive / f"{serial:x}.pem").write_bytes(cert_pem)
    key_tmp, cert_tmp = d / (KEY + ".tmp"), d / (CERT + ".tmp")
    fd = os.open(key_tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
        f.flush()
        os.fsync(f.fileno())
    cert_tmp.write_bytes(cert_pem)
    key_tmp.replace(d / KEY)
    cert_tmp.replace(d / CERT)


def _read(d: Path) -> _LocalPair:
    has_key, has_cert = (d / KEY).exists(), (d / CERT).exists()
    if not (has_key and has_cert):
        if has_key or has_cert:
            present, missing = (KEY, CERT) if has_key else (CERT, KEY)
            raise TSAUnavailable(
                f"Local TSA: {d / present} exists but {d / missing} is missing. A TSA key is never "
                f"regenerated over a half pair: restore {missing} from the backup."
            )
        if _archived(d):
            raise TSAUnavailable(
                f"Local TSA: {d / KEY} and {d / CERT} are missing but the TSA has timestamped before "
                f"(certificates in {d / ARCHIVE}). Restore them from the backup; a new key is never generated "
                "silently."
            )
        raise TSAUnavailable(
            f"Local TSA: {d / KEY} and {d / CERT} are missing and GISPORTAL_SEAL_GENERATE is off. Set "
            "GISPORTAL_TSA_URL to a timestamp authority, or install the local TSA's key and certificate there."
        )
    try:
        key_pem, cert_pem = (d / KEY).read_bytes(), (d / CERT).read_bytes()
    except OSError as e:
        raise TSAUnavailable(f"Local TSA: {d} cannot be read ({e.strerror}).") from None
    problem = pair_problem(key_pem, cert_pem)
    if problem:
        raise TSAUnavailable(f"Local TSA: the pair in {d} cannot be used: {problem}.")
    return _LocalPair(key_pem, cert_pem)


def _local_pair(*, create: bool) -> _LocalPair:
    """The local TSA's pair; generated only when asked to, allowed (GISPORTAL_SEAL_GENERATE) and no file
    of a pair exists; raises TSAUnavailable otherwise."""
    d = tsa_dir()
    with _lock:
        hit, signature = _cache.get(str(d)), pair_stat(d)
        if hit is not None and hit[0] == signature and signature[0] is not None:
            return hit[1]
        if create and settings.GISPORTAL_SEAL_GENERATE and signature == (None, None) and not _archived(d):
            with folder_locked(d, fcntl.LOCK_EX):
                if not (d / KEY).exists() and not (d / CERT).exists() and not _archived(d):
                    _write(d, *generate_tsa_pair())
                    log.info("local TSA: generated a key and certificate in %s", d)
            signature = pair_stat(d)
        if not d.is_dir():
            pair = _read(d)  # raises with the operator's message
        else:
            with folder_locked(d, fcntl.LOCK_SH):
                pair = _read(d)
        _cache[str(d)] = (signature, pair)
        return pair


def tsa_certificate() -> x509.Certificate:
    """The local TSA's certificate (generated with its key when allowed and missing)."""
    return _local_pair(create=True).certificate


def trusted_tsa_certificates() -> list[x509.Certificate]:
    """The TSA certificates whose timestamps a copy is checked against: every certificate the local TSA
    has had (_tsa/archive/; checking never creates one) and every PEM certificate in _tsa/trusted/ (the
    root of a qualified TSA a deployment uses)."""
    certs = _archived(tsa_dir())
    folder = tsa_dir() / TRUSTED
    for path in sorted(folder.glob("*.pem")) if folder.is_dir() else []:
        try:
            certs.extend(x509.load_pem_x509_certificates(path.read_bytes()))
        except (OSError, ValueError):
            log.warning("trusted TSA certificate %s is unreadable; ignored", path)
    return certs


# ---------------------------------------------------------------- answering timestamp requests
class _RejectionResp(core.Sequence):
    """TimeStampResp without its (OPTIONAL) token: asn1crypto's TimeStampResp makes the token mandatory,
    so a refusal is encoded (and can only be read back) with this narrower structure. pyHanko's HTTP
    client cannot read a refusal either (it raises ValueError): no timestamp, no seal, as intended."""

    _fields = [("status", tsp.PKIStatusInfo)]


def _rejection(fail_info: str, text: str) -> _RejectionResp:
    return _RejectionResp(
        {
            "status": tsp.PKIStatusInfo(
                {
                    "status": "rejection",
                    "status_string": [text],
                    "fail_info": tsp.PKIFailureInfo({fail_info}),
                }
            )
        }
    )


def _imprint_problem(req: tsp.TimeStampReq) -> tuple[str, str] | None:
    """Why a request cannot be stamped (RFC 3161 failure info, text), None when it can."""
    if req["version"].native != "v1":
        return "bad_request", "unsupported version"
    imprint = req["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if algorithm not in _DIGEST_SIZES:
        return "bad_alg", "unsupported hash algorithm"
    if len(imprint["hashed_message"].native) != _DIGEST_SIZES[algorithm]:
        return "bad_data_format", "the imprint does not match its hash algorithm"
    if req["req_policy"].native not in (None, LOCAL_POLICY_OID):
        return "unaccepted_policy", "unknown policy"
    if req["extensions"].native:
        return "unaccepted_extension", "extensions are not supported"
    return None


def _tst_info(req: tsp.TimeStampReq, tsa_cert: asn1_x509.Certificate, now: datetime.datetime) -> tsp.TSTInfo:
    info = {
        "version": "v1",
        "policy": LOCAL_POLICY_OID,
        "message_imprint": req["message_imprint"],
        "serial_number": secrets.randbits(120),  # unique without a counter shared between processes
        "gen_time": now,
        "accuracy": {"seconds": 1},
        "tsa": asn1_x509.GeneralName(name="directory_name", value=tsa_cert.subject),
    }
    if req["nonce"].native is not None:
        info["nonce"] = req["nonce"]
    return tsp.TSTInfo(info)


class LocalTSA:
    """Answers RFC 3161 requests with the local TSA's key, through pyHanko's CMS signer."""

    def __init__(self, pair: _LocalPair):
        self.certificate = asn1_x509.Certificate.load(
            pair.certificate.public_bytes(serialization.Encoding.DER)
        )
        self._signer = SimpleSigner(
            signing_cert=self.certificate,
            signing_key=load_private_key_from_pemder_data(pair.key_pem, passphrase=None),
            cert_registry=SimpleCertificateStore(),  # the signing certificate is embedded once anyway
        )

    async def respond(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp | _RejectionResp:
        problem = _imprint_problem(req)
        if problem:
            return _rejection(*problem)
        now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        content = cms.EncapsulatedContentInfo(
            {
                "content_type": "tst_info",
                "content": cms.ParsableOctetString(_tst_info(req, self.certificate, now).dump()),
            }
        )
        token = await self._signer.async_sign_general_data(content, "sha256", detached=False)
        return tsp.TimeStampResp(
            {"status": tsp.PKIStatusInfo({"status": "granted"}), "time_stamp_token": token}
        )

    def respond_der(self, body: bytes) -> bytes:
        """A DER TimeStampResp for a DER TimeStampReq; a malformed request gets a rejection, never an
        exception (RFC 3161 §2.4.2: badDataFormat)."""
        try:
            req = tsp.TimeStampReq.load(body, strict=True)
            req.native  # noqa: B018 - parse every field now, inside the guard
        except Exception:  # asn1crypto raises ValueError, TypeError or bare Exceptions on bad DER
            return _rejection("bad_data_format", "malformed request").dump()
        return asyncio.run(self.respond(req)).dump()


class LocalTimeStamper(TimeStamper):
    """pyHanko TimeStamper answered in process by the local TSA."""

    def __init__(self, tsa: LocalTSA):
        super().__init__()
        self._tsa = tsa

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        answer = await self._tsa.respond(req)
        if isinstance(answer, _RejectionResp):  # asn1crypto cannot read a TimeStampResp without a token
            status = answer["status"]
            raise TimestampRequestError(
                f"The local TSA refused the request: {'; '.join(status['status_string'].native or [])}"
            )
        return answer


def local_tsa() -> LocalTSA:
    return LocalTSA(_local_pair(create=True))


def timestamper() -> TimeStamper:
    """The TSA seals are timestamped by: GISPORTAL_TSA_URL when set (production: a qualified TSA),
    else the local TSA in process."""
    url = settings.GISPORTAL_TSA_URL
    if url:
        return HTTPTimeStamper(url, timeout=15)
    return LocalTimeStamper(local_tsa())


# ---------------------------------------------------------------- HTTP server (RFC 3161 §3.4)
def _handler(answer: Callable[[bytes], bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "gisportal-tsa"

        def do_POST(self) -> None:
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != CONTENT_TYPE_QUERY:
                self._send(415, b"expected application/timestamp-query\n", "text/plain")
                return
            try:
                length = int(self.headers.get("Content-Length") or "")
            except ValueError:
                self._send(411, b"Content-Length required\n", "text/plain")
                return
            if not 0 < length <= MAX_QUERY_BYTES:
                self._send(413, b"request too large\n", "text/plain")
                return
            self._send(200, answer(self.rfile.read(length)), CONTENT_TYPE_REPLY)

        def do_GET(self) -> None:
            self._send(405, b"POST an RFC 3161 timestamp query\n", "text/plain", allow="POST")

        def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.capitalize(), value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:
            log.debug("tsa %s: " + format, self.client_address[0], *args)

    return Handler


def tsa_server(host: str = "127.0.0.1", port: int = 8099) -> ThreadingHTTPServer:
    """An HTTP server answering timestamp queries with the local TSA (port 0: any free port); the
    caller runs serve_forever() and shutdown()."""
    server = ThreadingHTTPServer((host, port), _handler(local_tsa().respond_der))
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the local RFC 3161 timestamp authority over HTTP.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gisportal.settings")
    import django

    django.setup()
    logging.basicConfig(level=logging.INFO)
    server = tsa_server(args.host, args.port)
    log.info("local TSA at http://%s:%d/ (certificate in %s)", args.host, server.server_port, tsa_dir())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
