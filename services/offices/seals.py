"""Office seal keys and certificates, for everything an office seals (receipts, fee calculation documents,
issued documents, proofs). They never fail open:

- Layout, per office: GISPORTAL_SEAL_DIR/<office code>/key.pem and cert.pem (the seal in use) and
  archive/<serial>.pem, every certificate the office has ever sealed with (the current one too), so
  that receipts sealed before a rotation keep verifying.
- A key is never replaced silently. A seal is generated (self-signed EC P-256, for the demo and the
  tests) only when GISPORTAL_SEAL_GENERATE is on (off by default) AND neither key.pem nor cert.pem
  exists AND the archive is empty (the office has never had a seal). A half pair, a key that does
  not match its certificate, an expired certificate, or a missing pair after the office has had a
  seal is a ConfigurationError with what to do, never a new key.
- Production installs a pair (or replaces one) with `gisportal seal-rotate <office> --key --cert`.
- The web process refuses to start without a usable seal for every active office (deployment check
  receipts.E001 in checks.py, run by `check --deploy` and gisportal/wsgi.py).
"""

from __future__ import annotations

import datetime
import fcntl
import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils.translation import gettext as _

from gisportal.core.errors import ConfigurationError

log = logging.getLogger(__name__)
KEY, CERT, ARCHIVE = "key.pem", "cert.pem", "archive"
_lock = threading.Lock()
_cache: dict[str, tuple[tuple, Seal]] = {}  # office code -> (stat signature of the pair, seal)


class SealUnavailable(ConfigurationError):
    """The office cannot seal now. The message is for users (no paths); `detail` tells the operator
    what is wrong and what to do (logged, and shown by the start-up check and the CLI)."""

    code = "seal_unavailable"
    status = 503

    def __init__(self, detail: str):
        super().__init__(
            _(
                "The office's electronic seal is not available, so no receipt can be issued now. "
                "Try again later or contact the office."
            )
        )
        self.detail = detail


@dataclass(frozen=True)
class Seal:
    office_code: str
    key_pem: bytes
    cert_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    @property
    def is_ec(self) -> bool:
        return isinstance(self.certificate.public_key(), ec.EllipticCurvePublicKey)


def seal_dir(office_code: str) -> Path:
    return Path(settings.GISPORTAL_SEAL_DIR) / office_code


def _dir(office) -> Path:
    return seal_dir(office.code)


@contextmanager
def folder_locked(d: Path, mode: int):
    """A key folder (an office's seal, the local TSA) locked across processes (shared to read, exclusive
    to write). The lock is taken on the folder itself, so a read-only folder can still be read."""
    if mode == fcntl.LOCK_EX:
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def pair_stat(d: Path) -> tuple:
    """What tells a key folder's pair has changed on disk (inode, time, size of key.pem and cert.pem)."""
    out = []
    for name in (KEY, CERT):
        try:
            st = (d / name).stat()
        except FileNotFoundError:
            out.append(None)
        else:
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(out)


# ---------------------------------------------------------------- reading
def archived_certificates(office_code: str) -> list[x509.Certificate]:
    """Every certificate the office has sealed with (oldest first by validity start)."""
    folder = seal_dir(office_code) / ARCHIVE
    certs = []
    for path in sorted(folder.glob("*.pem")) if folder.is_dir() else []:
        try:
            certs.append(x509.load_pem_x509_certificate(path.read_bytes()))
        except (OSError, ValueError):
            continue  # an unreadable file is no certificate of ours
    return sorted(certs, key=lambda c: c.not_valid_before_utc)


def certificates_for(office) -> list[x509.Certificate]:
    """The office's current certificate and every archived one (no generation, no key read): what
    a receipt's embedded certificate is checked against."""
    certs = archived_certificates(office.code)
    cert_path = _dir(office) / CERT
    try:
        current = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        current = None
    der = {c.public_bytes(serialization.Encoding.DER) for c in certs}
    if current is not None and current.public_bytes(serialization.Encoding.DER) not in der:
        certs.append(current)
    return certs


def seal_problem(office) -> str | None:
    """Why the office cannot seal (None when it can, or when a seal may still be generated for it).
    Reads only: used by the start-up check."""
    d = _dir(office)
    has_key, has_cert = (d / KEY).exists(), (d / CERT).exists()
    if has_key and has_cert:
        try:
            _read_pair(office.code, d)
        except SealUnavailable as e:
            return e.detail
        return None
    if has_key or has_cert:
        return _half_pair_message(office.code, d, has_key)
    if archived_certificates(office.code):
        return _lost_message(office.code, d)
    if settings.GISPORTAL_SEAL_GENERATE:
        return None
    return (
        f"Office {office.code} has no seal: {d / KEY} and {d / CERT} are missing and GISPORTAL_SEAL_GENERATE is off. "
        f"Install the office's key and certificate with `gisportal seal-rotate {office.code} --key KEY.pem --cert CERT.pem`."
    )


def _half_pair_message(code: str, d: Path, has_key: bool) -> str:
    present, missing = (KEY, CERT) if has_key else (CERT, KEY)
    return (
        f"Office {code}: {d / present} exists but {d / missing} is missing. A seal is never regenerated over a "
        f"half pair (receipts sealed with it would stop verifying): restore {missing} from the backup."
    )


def _lost_message(code: str, d: Path) -> str:
    return (
        f"Office {code} has sealed receipts before (certificates in {d / ARCHIVE}) but {d / KEY} and {d / CERT} are "
        f"missing. Restore them from the backup, or install a new pair with "
        f"`gisportal seal-rotate {code} --key KEY.pem --cert CERT.pem`; a new key is never generated silently."
    )


def _read_pair(code: str, d: Path) -> Seal:
    try:
        key_pem, cert_pem = (d / KEY).read_bytes(), (d / CERT).read_bytes()
    except OSError as e:
        raise SealUnavailable(f"Office {code}: the seal in {d} cannot be read ({e.strerror}).") from None
    problem = pair_problem(key_pem, cert_pem)
    if problem:
        raise SealUnavailable(f"Office {code}: the seal in {d} cannot be used: {problem}.")
    return Seal(code, key_pem, cert_pem)


def pair_problem(key_pem: bytes, cert_pem: bytes, *, now: datetime.datetime | None = None) -> str | None:
    """What is wrong with a key and certificate as a seal (None when they make a usable pair)."""
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as e:
        return f"the key is not an unencrypted PEM private key ({e.__class__.__name__})"
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        return "the certificate is not a PEM X.509 certificate"
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        return "only EC and RSA keys can seal receipts"
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, spki) != cert.public_key().public_bytes(
        serialization.Encoding.DER, spki
    ):
        return "the key does not belong to the certificate"
    now = now or datetime.datetime.now(datetime.UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        return (
            f"the certificate is valid from {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}, "
            f"not now; rotate it with `gisportal seal-rotate`"
        )
    return None


def _archive(d: Path, cert_pem: bytes) -> None:
    """Keep the certificate for ever (idempotent): archive/<serial hex>.pem."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    folder = d / ARCHIVE
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{cert.serial_number:x}.pem"
    if path.exists():
        if x509.load_pem_x509_certificate(path.read_bytes()) == cert:
            return
        path = folder / f"{cert.serial_number:x}-{cert.fingerprint(hashes.SHA256()).hex()[:16]}.pem"
        if path.exists():
            return
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tmp.replace(path)


# ---------------------------------------------------------------- the seal in use
def seal_for(office) -> Seal:
    """The office's seal; raises SealUnavailable (never generates over anything that exists)."""
    d = _dir(office)
    with _lock:
        hit = _cache.get(office.code)
        if hit is not None and hit[0] == (str(d), pair_stat(d)):
            return hit[1]  # unchanged on disk (a rotation by the CLI replaces the files: reloaded here)
        try:
            seal = _load_or_create(office)
        except SealUnavailable as e:
            log.error("seal unavailable: %s", e.detail)
            raise
        # the files as they are after loading (a pair generated just now included), and where they are
        _cache[office.code] = ((str(d), pair_stat(d)), seal)
        return seal


def _load_or_create(office) -> Seal:
    d = _dir(office)
    key_path, cert_path = d / KEY, d / CERT
    if not key_path.exists() and not cert_path.exists() and not archived_certificates(office.code):
        if not settings.GISPORTAL_SEAL_GENERATE:
            raise SealUnavailable(seal_problem(office) or f"Office {office.code} has no seal in {d}.")
        with folder_locked(d, fcntl.LOCK_EX):  # several workers may start at once: one generates
            if not key_path.exists() and not cert_path.exists() and not archived_certificates(office.code):
                key_pem, cert_pem = generate_pair(office)
                _install(d, key_pem, cert_pem)
    with folder_locked(d, fcntl.LOCK_SH):  # never read the key of one pair and the certificate of another
        has_key, has_cert = key_path.exists(), cert_path.exists()
        if not (has_key and has_cert):
            if has_key or has_cert:
                raise SealUnavailable(_half_pair_message(office.code, d, has_key))
            raise SealUnavailable(_lost_message(office.code, d))
        seal = _read_pair(office.code, d)
    if not any(c == seal.certificate for c in archived_certificates(office.code)):
        try:  # a pair installed before archives existed, or by hand
            with folder_locked(d, fcntl.LOCK_EX):
                _archive(d, seal.cert_pem)
        except OSError as e:
            log.warning(
                "office %s: the certificate in use could not be archived in %s (%s); receipts verify "
                "against it only while it stays in use",
                office.code,
                d / ARCHIVE,
                e.strerror,
            )
    return seal


def generate_pair(office) -> tuple[bytes, bytes]:
    """A self-signed EC P-256 seal (demo and tests; production installs a certificate it was issued)."""
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, office.name[:64]),
        x509.NameAttribute(NameOID.COMMON_NAME, f"Pieczęć demonstracyjna: {office.name}"[:64]),
    ]
    if office.nip:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"VATPL-{office.nip}"))
    name = x509.Name(attrs)
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _install(d: Path, key_pem: bytes, cert_pem: bytes) -> None:
    """Write a pair (call under the exclusive lock): the certificate is archived first, so no
    receipt can be sealed with a certificate the archive does not hold."""
    _archive(d, cert_pem)
    key_tmp, cert_tmp = d / (KEY + ".tmp"), d / (CERT + ".tmp")
    fd = os.open(key_tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
        f.flush()
        os.fsync(f.fileno())
    cert_tmp.write_bytes(cert_pem)
    cert_tmp.replace(d / CERT)
    key_tmp.replace(d / KEY)


def seal_rotate(
    office, *, key_pem: bytes | None = None, cert_pem: bytes | None = None, generate: bool = False
) -> Seal:
    """Install a new seal for the office: the current certificate stays in the archive (receipts
    sealed with it keep verifying), the new pair is checked (key matches certificate, valid now,
    not the one in use) and written atomically. `generate` makes a self-signed pair instead."""
    if generate == (key_pem is not None or cert_pem is not None):
        raise ConfigurationError("Give either a key and a certificate, or ask for a generated seal.")
    if generate:
        key_pem, cert_pem = generate_pair(office)
    if key_pem is None or cert_pem is None:
        raise ConfigurationError("Give both the key and the certificate.")
    problem = pair_problem(key_pem, cert_pem)
    if problem:
        raise ConfigurationError(f"The new seal cannot be used: {problem}.")
    d = _dir(office)
    new_cert = x509.load_pem_x509_certificate(cert_pem)
    with folder_locked(d, fcntl.LOCK_EX):
        if (d / CERT).exists():
            try:
                current = x509.load_pem_x509_certificate((d / CERT).read_bytes())
            except ValueError:
                current = None
            if current is not None:
                if current == new_cert:
                    raise ConfigurationError("This certificate is already the office's seal.")
                _archive(d, current.public_bytes(serialization.Encoding.PEM))
        _install(d, key_pem, cert_pem)
    with _lock:
        _cache.pop(office.code, None)
    return Seal(office.code, key_pem, cert_pem)
