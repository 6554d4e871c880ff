"""The receipt document: XML in our namespace, modelled on the UPP of DOMAIN.md §8, sealed with
XAdES-BES (enveloped, ECDSA/SHA-256, signing time and certificate digest in SignedProperties)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace
from datetime import datetime

from cryptography import x509
from lxml import etree
from signxml import SignatureMethod
from signxml.xades import XAdESSignatureConfiguration, XAdESSigner, XAdESVerifier

from .seals import Seal

NS = "https://gisportal.piaseczno.eu/schemas/upp/1.0"
DS = "http://www.w3.org/2000/09/xmldsig#"


@dataclass(frozen=True)
class ReceiptData:
    receipt_id: str
    verification_code: str
    sender_name: str
    sender_identifier: str
    addressee_name: str
    addressee_id: str  # TERYT of the office's area; ADE when known
    received_at: str  # ISO 8601
    issued_at: str
    document_id: str
    document_sha256: str
    service: str
    attachments: tuple[tuple[str, str, int], ...] = ()  # (name, sha256, size)
    parcels: tuple[str, ...] = ()
    verify_url: str = ""


def _el(parent, tag: str, text: str | None = None, **attrs):
    el = etree.SubElement(parent, f"{{{NS}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def build(d: ReceiptData) -> etree._Element:
    root = etree.Element(f"{{{NS}}}UPP", nsmap={"upp": NS})
    _el(root, "IdentyfikatorPoswiadczenia", d.receipt_id)
    _el(root, "KodWeryfikacyjny", d.verification_code)
    addressee = _el(root, "Adresat")
    _el(addressee, "Nazwa", d.addressee_name)
    _el(addressee, "IdentyfikatorPodmiotu", d.addressee_id, TypIdentyfikatora="TERYT")
    sender = _el(root, "Nadawca")
    _el(sender, "Nazwa", d.sender_name)
    _el(sender, "IdentyfikatorPodmiotu", d.sender_identifier, TypIdentyfikatora="konto portalu")
    _el(root, "DataDoreczenia", d.received_at)
    _el(root, "DataWytworzeniaPoswiadczenia", d.issued_at)
    _el(root, "IdentyfikatorDokumentu", d.document_id)
    _el(root, "SkrotDokumentu", d.document_sha256, Algorytm="SHA-256")
    _el(root, "Usluga", d.service)
    for pid in d.parcels:
        _el(root, "Dzialka", pid)
    for name, sha, size in d.attachments:
        _el(root, "Zalacznik", Nazwa=name, SkrotSHA256=sha, Rozmiar=str(size))
    if d.verify_url:
        _el(root, "AdresWeryfikacji", d.verify_url)
    return root


def sign(root: etree._Element, seal: Seal) -> bytes:
    method = SignatureMethod.ECDSA_SHA256 if seal.is_ec else SignatureMethod.RSA_SHA256
    signer = XAdESSigner(signature_algorithm=method, digest_algorithm="sha256")
    signed = signer.sign(root, key=seal.key_pem, cert=seal.cert_pem.decode())
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def _parse(xml: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.fromstring(xml, parser)


def embedded_certificates(xml: bytes) -> list[x509.Certificate]:
    """The certificates a sealed receipt carries in ds:KeyInfo (unverified: only a pointer to which
    of the office's own certificates to verify with)."""
    certs = []
    for el in _parse(xml).iterfind(
        f".//{{{DS}}}Signature/{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate"
    ):
        try:
            certs.append(x509.load_der_x509_certificate(base64.b64decode("".join((el.text or "").split()))))
        except (ValueError, binascii.Error):
            continue
    return certs


def verify(xml: bytes, cert: bytes | x509.Certificate, *, at: datetime | None = None) -> etree._Element:
    """The signed receipt element when the seal verifies with this (trusted) certificate, which must
    have been valid at `at` (when the receipt was issued; now when not given); raises otherwise."""
    if isinstance(cert, bytes):
        cert = x509.load_pem_x509_certificate(cert)
    config = (
        replace(XAdESSignatureConfiguration(), verification_time=at)
        if at is not None
        else XAdESSignatureConfiguration()
    )
    results = XAdESVerifier().verify(_parse(xml), x509_cert=cert, expect_config=config)
    return results[0].signed_xml
