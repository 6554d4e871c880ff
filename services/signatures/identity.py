"""Who signed: from a qualified certificate's subject (DOMAIN.md §9: serialNumber PNOPL-<PESEL> or the
legacy PESEL:<PESEL>, givenName, surname, organizationIdentifier VATPL-<NIP> or NTRPL-<KRS> of a seal) and
from the Profil Zaufany data (PodpisZP) in a verified XAdES SignedProperties. A certificate with no
national identifier is named by its SHA-256 fingerprint."""

from __future__ import annotations

import hashlib
import re

from asn1crypto import x509 as asn1_x509
from lxml import etree

from .report import Signer

PPZP = "http://crd.gov.pl/xml/schematy/ppzp/"
OS = "http://crd.gov.pl/xml/schematy/osoba/2009/03/06/"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
_PESEL = re.compile(r"(?:PNOPL|PESEL)\D{0,3}(\d{11})\b")
_NIP = re.compile(r"(?:VATPL|TINPL|NIP)\D{0,3}(\d{10})\b")
_KRS = re.compile(r"NTRPL\D{0,3}(\d{10})\b")
_OTHER = re.compile(r"^(PNO|TIN|VAT|NTR|IDC|PAS)([A-Z]{2})-(.{1,40})$")


def _attr(subject: dict, key: str) -> str:
    value = subject.get(key, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()[:200]


def signer_of(cert: asn1_x509.Certificate) -> Signer:
    try:
        subject = cert.subject.native
    except Exception:  # a subject asn1crypto cannot decode: the fingerprint still names it
        subject = {}
    serial, org_id = _attr(subject, "serial_number"), _attr(subject, "organization_identifier")
    given, surname = _attr(subject, "given_name"), _attr(subject, "surname")
    org, cn = _attr(subject, "organization_name"), _attr(subject, "common_name")
    signer = Signer(
        name=cn or " ".join(p for p in (given, surname) if p) or org,
        given_name=given,
        surname=surname,
        organisation=org,
        country=_attr(subject, "country_name"),
    )
    if m := _PESEL.search(serial):
        signer.identifier_kind, signer.identifier = "PESEL", m.group(1)
    elif m := _NIP.search(org_id) or _NIP.search(serial):
        signer.identifier_kind, signer.identifier = "NIP", m.group(1)
    elif m := _KRS.search(org_id) or _KRS.search(serial):
        signer.identifier_kind, signer.identifier = "KRS", m.group(1)
    elif m := _OTHER.match(serial) or _OTHER.match(org_id):
        signer.identifier_kind, signer.identifier = "ID", m.group(0)
    else:
        signer.identifier_kind, signer.identifier = "fingerprint", hashlib.sha256(cert.dump()).hexdigest()
    return signer


def profil_zaufany(signed_properties: etree._Element | None) -> Signer | None:
    """The person a Profil Zaufany signature names, read only from the SignedProperties the signature
    was verified over (None when it carries no PodpisZP)."""
    if signed_properties is None:
        return None
    node = next(signed_properties.iter(f"{{{PPZP}}}PodpisZP"), None)
    if node is None:
        return None

    def text(path: str) -> str:
        el = node.find(path, namespaces={"p": PPZP, "os": OS})
        return (el.text or "").strip()[:200] if el is not None else ""

    person = "p:DaneZP/p:DaneZPOsobyFizycznej/"
    given, surname, pesel = text(person + "os:Imie"), text(person + "os:Nazwisko"), text(person + "os:PESEL")
    return Signer(
        name=" ".join(p for p in (given, surname) if p),
        given_name=given,
        surname=surname,
        country="PL",
        identifier_kind="PESEL" if re.fullmatch(r"\d{11}", pesel) else "",
        identifier=pesel if re.fullmatch(r"\d{11}", pesel) else "",
        source="profil_zaufany",
        epuap_account=text("p:DanePodpisu/p:IdKontaUzytkownikaEpuap"),
    )


def certificate_facts(cert: asn1_x509.Certificate) -> dict:
    def name(n) -> str:
        try:
            return n.human_friendly
        except Exception:
            return ""

    try:
        validity = cert["tbs_certificate"]["validity"]
        not_before, not_after = validity["not_before"].native, validity["not_after"].native
    except Exception:
        not_before = not_after = None
    return {
        "subject": name(cert.subject),
        "issuer": name(cert.issuer),
        "serial": format(cert.serial_number, "x"),
        "not_before": not_before.isoformat() if not_before else None,
        "not_after": not_after.isoformat() if not_after else None,
        "sha256": hashlib.sha256(cert.dump()).hexdigest(),
    }
