"""Revocation data over the network is off by default and, when turned on, goes only to the allowed hosts,
without redirects: a certificate someone uploads never makes the server connect anywhere else. A local
HTTP server plays the CA's CRL distribution point; its log says which requests arrived."""

from __future__ import annotations

import datetime
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from services.signatures import trust
from services.signatures.verify import verify_file

pytestmark = pytest.mark.django_db
NOW = datetime.datetime.now(datetime.UTC)


class _Server:
    """Serves /ca.crl (the CRL) and /moved (a redirect to `redirect_to`); remembers every path asked."""

    def __init__(self):
        self.crl = b""
        self.redirect_to = ""
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits.append(self.path)
                if self.path == "/moved":
                    self.send_response(302)
                    self.send_header("Location", outer.redirect_to)
                    self.end_headers()
                    return
                body = outer.crl if self.path == "/ca.crl" else b""
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


def _chain(crl_url: str):
    """A root (trusted through anchors/) and a signer whose certificate names `crl_url`, revoked a day ago."""
    root_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name("Root CRL test"))
        .issuer_name(_name("Root CRL test"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=30))
        .not_valid_after(NOW + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(root_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "Ewa Testowa"),
                    x509.NameAttribute(NameOID.SERIAL_NUMBER, "PNOPL-90090515829"),
                ]
            )
        )
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=10))
        .not_valid_after(NOW + datetime.timedelta(days=365))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)]
            ),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(NOW - datetime.timedelta(hours=1))
        .next_update(NOW + datetime.timedelta(days=7))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(leaf.serial_number)
            .revocation_date(NOW - datetime.timedelta(days=1))
            .build()
        )
        .sign(root_key, hashes.SHA256())
    )
    signed = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(b"Pismo w sprawie")
        .add_signer(leaf, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    return root, crl.public_bytes(serialization.Encoding.DER), signed


@pytest.fixture
def trusted_root(settings, tmp_path):
    def install(root: x509.Certificate):
        (tmp_path / "anchors").mkdir(exist_ok=True)
        (tmp_path / "anchors" / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
        settings.GISPORTAL_TRUST_DIR = tmp_path
        trust.forget()

    yield install
    trust.forget()


def _verdict(signed: bytes) -> tuple[str, str | None]:
    report = verify_file(signed, "pismo.p7s").as_dict()
    return report["indication"], report["sub_indication"]


def test_nothing_is_fetched_by_default(server, trusted_root):
    root, server.crl, signed = _chain(server.url("/ca.crl"))
    trusted_root(root)
    assert _verdict(signed) == ("TOTAL_PASSED", None)  # no CRL installed, none fetched: soft-fail
    assert server.hits == []


def test_an_allowed_host_is_asked_and_the_revocation_counts(server, trusted_root, settings):
    root, server.crl, signed = _chain(server.url("/ca.crl"))
    trusted_root(root)
    settings.GISPORTAL_REVOCATION_FETCH = True
    settings.GISPORTAL_REVOCATION_HOSTS = ["127.0.0.1"]
    assert _verdict(signed) == ("TOTAL_FAILED", "REVOKED")  # signed (signingTime now) after the revocation
    assert server.hits and set(server.hits) == {"/ca.crl"}  # the CMS check and the chain judgement each ask


def test_a_host_not_allowed_is_never_asked(server, trusted_root, settings):
    root, server.crl, signed = _chain(server.url("/ca.crl"))
    trusted_root(root)
    settings.GISPORTAL_REVOCATION_FETCH = True
    settings.GISPORTAL_REVOCATION_HOSTS = ["crl.example.pl"]
    assert _verdict(signed) == ("TOTAL_PASSED", None)
    assert server.hits == []


def test_a_redirect_is_not_followed(server, trusted_root, settings):
    other = _Server()
    try:
        root, crl, signed = _chain(server.url("/moved"))
        other.crl = crl
        server.redirect_to = other.url("/ca.crl")
        trusted_root(root)
        settings.GISPORTAL_REVOCATION_FETCH = True
        settings.GISPORTAL_REVOCATION_HOSTS = ["127.0.0.1"]
        assert _verdict(signed) == ("TOTAL_PASSED", None)
        assert set(server.hits) == {"/moved"} and other.hits == []
    finally:
        other.close()


def test_an_installed_crl_counts_without_any_network(server, trusted_root, tmp_path):
    root, crl, signed = _chain(server.url("/ca.crl"))
    (tmp_path / "crl").mkdir()
    (tmp_path / "crl" / "root.crl").write_bytes(crl)
    trusted_root(root)
    assert _verdict(signed) == ("TOTAL_FAILED", "REVOKED")
    assert server.hits == []
