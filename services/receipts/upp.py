"""The receipt document: XML in our namespace, modelled on the UPP of DOMAIN.md §8, sealed with
XAdES-BES (enveloped, ECDSA/SHA-256, signing time and certificate digest in SignedProperties)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from services.offices import sealing

NS = "https://gisportal.piaseczno.eu/schemas/upp/1.0"


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
    tracking_code: str = ""  # of the case the request opens (e-filed requests)
    access_code: str = ""


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
    if d.tracking_code:
        _el(root, "KodSledzeniaSprawy", d.tracking_code)
    if d.access_code:
        _el(root, "KodDostepuDoSprawy", d.access_code)
    return root


# sealing and checking live with the office's seals (shared by every sealed document)
sign, embedded_certificates, verify = sealing.sign, sealing.embedded_certificates, sealing.verify
