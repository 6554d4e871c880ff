"""Office seal keys and certificates for signing receipts. Production configures a key and a
certificate per office in GISPORTAL_SEAL_DIR/<office code>/{key.pem,cert.pem}; the demo and tests
generate a self-signed EC P-256 seal per office on first use (GISPORTAL_SEAL_GENERATE)."""

from __future__ import annotations

import datetime
import fcntl
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings

from gisportal.core.errors import ConfigurationError

_lock = threading.Lock()
_cache: dict[str, Seal] = {}


@dataclass(frozen=True)
class Seal:
    office_code: str
    key_pem: bytes
    cert_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


def _dir(office) -> Path:
    return Path(settings.GISPORTAL_SEAL_DIR) / office.code


def seal_for(office) -> Seal:
    with _lock:
        seal = _cache.get(office.code)
        if seal is None:
            seal = _load_or_create(office)
            _cache[office.code] = seal
        return seal


def _load_or_create(office) -> Seal:
    d = _dir(office)
    key_path, cert_path = d / "key.pem", d / "cert.pem"
    if not key_path.exists() or not cert_path.exists():
        if not settings.GISPORTAL_SEAL_GENERATE:
            raise ConfigurationError(f"no seal key and certificate for office {office.code} in {d}")
        d.mkdir(parents=True, exist_ok=True)
        with open(d / ".lock", "w") as lock:  # several workers may start at once: one generates
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not key_path.exists() or not cert_path.exists():
                _generate(office, key_path, cert_path)
    return Seal(office.code, key_path.read_bytes(), cert_path.read_bytes())


def _generate(office, key_path: Path, cert_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, office.name[:64]),
             x509.NameAttribute(NameOID.COMMON_NAME, f"Pieczęć demonstracyjna: {office.name}"[:64])]
    if office.nip:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"VATPL-{office.nip}"))
    name = x509.Name(attrs)
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    tmp = key_path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tmp.replace(key_path)
