"""login.gov.pl as configured: on when GISPORTAL_LOGINGOV_NODE_URL names the node (the simulator
https://symulator.login.gov.pl, integration https://int.wk.login.gov.pl, production https://login.gov.pl, or
the local fake node); its endpoints are that URL + the profile's paths; its signing certificate is the file
GISPORTAL_LOGINGOV_NODE_CERT. Our key and certificate (EC P-256: we sign with it and the node encrypts the
assertion to it) are GISPORTAL_LOGINGOV_DIR/sp-key.pem and sp-cert.pem; they are generated only when
GISPORTAL_LOGINGOV_GENERATE is on and neither exists (the demo and the tests), never replaced."""

from __future__ import annotations

import datetime
import os
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.urls import reverse

from gisportal.core.errors import ConfigurationError

from .saml import LOA, Config

SSO_PATH = "/login/SingleSignOnService"
ARTIFACT_PATH = "/login-services/idpArtifactResolutionService"
SLO_PATH = "/login-services/singleLogoutService"
_lock = threading.Lock()
_cache: dict[tuple, Config] = {}


def enabled() -> bool:
    return bool(getattr(settings, "GISPORTAL_LOGINGOV_NODE_URL", ""))


def key_pair(directory: Path, cn: str, *, generate: bool) -> tuple[bytes, bytes]:
    """(key PEM, certificate PEM) from `directory`; a self-signed P-256 pair made when allowed and absent."""
    key_file, cert_file = directory / "sp-key.pem", directory / "sp-cert.pem"
    if not key_file.exists() and not cert_file.exists():
        if not generate:
            raise ConfigurationError(
                f"login.gov.pl: no key and certificate in {directory} (sp-key.pem, sp-cert.pem); install the pair "
                "registered with the node, or set GISPORTAL_LOGINGOV_GENERATE=1 for a demo"
            )
        key_pem, cert_pem = generate_pair(cn)
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        cert_file.write_bytes(cert_pem)
    if not key_file.exists() or not cert_file.exists():
        raise ConfigurationError(
            f"login.gov.pl: half a key pair in {directory}: both sp-key.pem and sp-cert.pem are needed"
        )
    return key_file.read_bytes(), cert_file.read_bytes()


def generate_pair(cn: str, days: int = 3650) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, cn[:64]), x509.NameAttribute(NameOID.COUNTRY_NAME, "PL")]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return (
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        cert.public_bytes(serialization.Encoding.PEM),
    )


def config() -> Config:
    """The Config for the current settings (cached while they and the files stay the same)."""
    if not enabled():
        raise ConfigurationError("login.gov.pl is not configured (GISPORTAL_LOGINGOV_NODE_URL)")
    node = settings.GISPORTAL_LOGINGOV_NODE_URL.rstrip("/")
    public = settings.GISPORTAL_PUBLIC_URL.rstrip("/")
    directory = Path(settings.GISPORTAL_LOGINGOV_DIR)
    node_cert = Path(settings.GISPORTAL_LOGINGOV_NODE_CERT or directory / "node-cert.pem")
    loa = settings.GISPORTAL_LOGINGOV_LOA if settings.GISPORTAL_LOGINGOV_LOA in LOA else "substantial"

    def stamp(p: Path) -> tuple:
        try:
            st = p.stat()
            return (st.st_mtime_ns, st.st_size)
        except OSError:
            return ()

    key_ = (
        node,
        public,
        str(directory),
        str(node_cert),
        loa,
        settings.GISPORTAL_LOGINGOV_ENTITY_ID,
        settings.GISPORTAL_LOGINGOV_NODE_ENTITY_ID,
        stamp(directory / "sp-key.pem"),
        stamp(node_cert),
    )
    with _lock:
        if key_ in _cache:
            return _cache[key_]
        entity_id = settings.GISPORTAL_LOGINGOV_ENTITY_ID or public + reverse("logingov_metadata")
        key_pem, cert_pem = key_pair(directory, entity_id, generate=settings.GISPORTAL_LOGINGOV_GENERATE)
        try:
            node_cert_pem = node_cert.read_bytes()
            x509.load_pem_x509_certificate(node_cert_pem)
        except (OSError, ValueError) as e:
            raise ConfigurationError(
                f"login.gov.pl: the node's certificate {node_cert} cannot be read"
            ) from e
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigurationError(
                "login.gov.pl: our key must be an elliptic-curve key (the node uses ECDH-ES)"
            )
        cfg = Config(
            entity_id=entity_id,
            acs_url=public + reverse("logingov_acs"),
            slo_url=public + reverse("logingov_slo"),
            key=key,
            key_pem=key_pem,
            cert_pem=cert_pem,
            node_entity_id=settings.GISPORTAL_LOGINGOV_NODE_ENTITY_ID or node,
            sso_url=node + SSO_PATH,
            artifact_url=node + ARTIFACT_PATH,
            node_slo_url=node + SLO_PATH,
            node_cert_pem=node_cert_pem,
            loa=loa,
        )
        _cache.clear()
        _cache[key_] = cfg
        return cfg
