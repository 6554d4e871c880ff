"""Sealing an office's XML documents (receipts, fee calculation documents, proofs) with XAdES-BES
(enveloped, ECDSA/SHA-256 or RSA, signing time and certificate digest in SignedProperties), checking
such a seal against the office's own certificates, and the 24-character verification codes printed on
them (DOMAIN.md §8). Pure functions on bytes and keys; the keys come from `seals.py`."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import replace
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import SignatureMethod
from signxml.xades import XAdESSignatureConfiguration, XAdESSigner, XAdESVerifier

from .seals import Seal, certificates_for

DS = "http://www.w3.org/2000/09/xmldsig#"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper
CODE_LENGTH = 24
_CODE = re.compile(r"^[A-Z0-9]{24}$")


def verification_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()[:40]


def code_well_formed(code: str) -> bool:
    return bool(_CODE.match(code))


def format_code(code: str) -> str:
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def sign(root: etree._Element, seal: Seal) -> bytes:
    method = SignatureMethod.ECDSA_SHA256 if seal.is_ec else SignatureMethod.RSA_SHA256
    signer = XAdESSigner(signature_algorithm=method, digest_algorithm="sha256")
    signed = signer.sign(root, key=seal.key_pem, cert=seal.cert_pem.decode())
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def parse(xml: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.fromstring(xml, parser)


def embedded_certificates(xml: bytes) -> list[x509.Certificate]:
    """The certificates a sealed document carries in ds:KeyInfo (unverified: only a pointer to which
    of the office's own certificates to verify with)."""
    certs = []
    for el in parse(xml).iterfind(
        f".//{{{DS}}}Signature/{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate"
    ):
        try:
            certs.append(x509.load_der_x509_certificate(base64.b64decode("".join((el.text or "").split()))))
        except (ValueError, binascii.Error):
            continue
    return certs


def verify(xml: bytes, cert: bytes | x509.Certificate, *, at: datetime | None = None) -> etree._Element:
    """The signed element when the seal verifies with this (trusted) certificate, which must have been
    valid at `at` (when the document was issued; now when not given); raises otherwise."""
    if isinstance(cert, bytes):
        cert = x509.load_pem_x509_certificate(cert)
    config = (
        replace(XAdESSignatureConfiguration(), verification_time=at)
        if at is not None
        else XAdESSignatureConfiguration()
    )
    results = XAdESVerifier().verify(parse(xml), x509_cert=cert, expect_config=config)
    return results[0].signed_xml


def sealed_by(xml: bytes, office, *, at: datetime) -> etree._Element | None:
    """The signed element when the XML carries a valid seal of this office, else None.

    The certificate that sealed it is the one the XAdES signature embeds, accepted only when it is
    byte for byte one of the office's own certificates (the one in use or an archived one: documents
    sealed before a rotation keep verifying), valid at `at` (when the document was issued). Another
    key with the same subject, an edited document or an office without certificates is never genuine,
    and checking never creates a seal."""
    try:
        own = {c.public_bytes(Encoding.DER): c for c in certificates_for(office)}
        signer = next(
            (
                own[der]
                for der in (c.public_bytes(Encoding.DER) for c in embedded_certificates(xml))
                if der in own
            ),
            None,
        )
        if signer is None:
            return None
        return verify(xml, signer, at=at)
    except Exception:
        return None
