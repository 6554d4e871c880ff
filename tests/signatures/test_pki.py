"""Sanity checks of the test fixtures library (tests/signatures/pki.py) with the libraries themselves
(signxml, pyHanko, cryptography), never with services.signatures: the certificates chain as described,
the CRL and the TSL are what they claim, every signed document carries a signature that verifies, and
the attack material is shaped as documented."""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import io
import zipfile
from io import BytesIO

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms, validate_tst_signed_data
from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel, TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext
from signxml.exceptions import InvalidSignature
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

from services.forms.validators import is_nip, is_pesel
from tests.signatures import pki as P

QC_COMPLIANCE_DER = bytes.fromhex("060604008e460101")  # OID 0.4.0.1862.1.1


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> P.TestPKI:
    return P.make_pki(tmp_path_factory.mktemp("pki"))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _validation_context(pki: P.TestPKI) -> ValidationContext:
    return ValidationContext(
        trust_roots=[pki.root.asn1_cert],
        crls=[pki.crl_der],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )


def _subject(party: P.Party, oid: x509.ObjectIdentifier) -> str:
    return str(party.cert.subject.get_attributes_for_oid(oid)[0].value)


# ---------------------------------------------------------------- PKI and trust directory
def test_trust_directory_layout_and_cache(pki):
    assert P.make_pki(pki.dir) is pki
    assert (pki.dir / "anchors").is_dir() and not list((pki.dir / "anchors").iterdir())
    assert (pki.dir / "tsl" / "signers" / "pl.pem").read_bytes() == pki.tsl_signer.cert_pem
    assert (pki.dir / "crl" / "intermediate.crl").read_bytes() == pki.crl_der
    assert pki.tsl_path.read_bytes().startswith(b"<?xml")
    anchor = pki.add_anchor(pki.company.cert, "company")
    try:
        assert x509.load_pem_x509_certificate(anchor.read_bytes()) == pki.company.cert
    finally:
        anchor.unlink()


def test_certificates_chain(pki):
    pki.root.cert.verify_directly_issued_by(pki.root.cert)
    pki.intermediate.cert.verify_directly_issued_by(pki.root.cert)
    for party in (pki.person, pki.person_legacy, pki.company, pki.expired, pki.revoked, pki.ministry):
        party.cert.verify_directly_issued_by(pki.intermediate.cert)
        assert party.chain == [pki.intermediate.cert]
        dp = party.cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        assert dp[0].full_name[0].value == P.CRL_URL
    assert pki.root.chain == pki.intermediate.chain == []
    pki.tsa.cert.verify_directly_issued_by(pki.root.cert)
    eku = pki.tsa.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    pki.stranger.cert.verify_directly_issued_by(pki.stranger_root.cert)
    assert pki.stranger.chain == []
    with pytest.raises(ValueError):  # a look-alike name, not the real root
        pki.stranger_root.cert.verify_directly_issued_by(pki.root.cert)
    pki.tsl_signer.cert.verify_directly_issued_by(pki.tsl_signer.cert)
    assert base64.b64encode(pki.stranger_root.cert_der) not in pki.tsl


def test_identities(pki):
    assert _subject(pki.person, NameOID.SERIAL_NUMBER) == "PNOPL-44051401359"
    assert (_subject(pki.person, NameOID.GIVEN_NAME), _subject(pki.person, NameOID.SURNAME)) == (
        "Jan",
        "Kowalski",
    )
    assert _subject(pki.person, NameOID.COUNTRY_NAME) == "PL" and pki.person.name == "Jan Kowalski"
    assert _subject(pki.person_legacy, NameOID.SERIAL_NUMBER) == "PESEL:02070803628"
    for pesel in (P.PERSON_PESEL, P.LEGACY_PESEL, P.EXPIRED_PESEL, P.REVOKED_PESEL):
        assert is_pesel(pesel)
    assert _subject(pki.company, NameOID.ORGANIZATION_IDENTIFIER) == "VATPL-5261040828"
    assert _subject(pki.company, NameOID.ORGANIZATION_NAME) == pki.company.name == "Geodezja Sp. z o.o."
    assert _subject(pki.ministry, NameOID.ORGANIZATION_NAME) == "Ministerstwo Cyfryzacji"
    assert pki.ministry.name == "Podpis zaufany"
    assert _subject(pki.ministry, NameOID.ORGANIZATION_IDENTIFIER).startswith("VATPL-5252")
    assert is_nip(P.COMPANY_NIP) and is_nip(P.MINISTRY_NIP)
    for party in (pki.person, pki.person_legacy, pki.company, pki.ministry):
        qc = party.cert.extensions.get_extension_for_oid(P.QC_STATEMENTS).value
        assert QC_COMPLIANCE_DER in qc.value
        usage = party.cert.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.content_commitment and not usage.key_cert_sign


def test_expired_revoked_and_crl(pki):
    assert pki.expired.cert.not_valid_after_utc < _now() - datetime.timedelta(days=729)
    crl = pki.crl
    assert crl.is_signature_valid(pki.intermediate.key.public_key())
    assert crl.issuer == pki.intermediate.cert.subject
    entry = crl.get_revoked_certificate_by_serial_number(pki.revoked.cert.serial_number)
    assert entry is not None
    assert abs(entry.revocation_date_utc - (_now() - datetime.timedelta(days=1))) < datetime.timedelta(
        minutes=5
    )
    assert crl.get_revoked_certificate_by_serial_number(pki.person.cert.serial_number) is None
    assert datetime.timedelta(days=29) < crl.next_update_utc - _now() <= datetime.timedelta(days=30)


def test_tsl_signature_verifies_and_lists_root_and_tsa(pki):
    results = XAdESVerifier().verify(
        pki.tsl,
        x509_cert=pki.tsl_signer.cert,
        expect_config=XAdESSignatureConfiguration(expect_references=True),
    )
    (tsl,) = [r.signed_xml for r in results if r.signed_xml.tag == f"{{{P.TSL_NS}}}TrustServiceStatusList"]
    assert tsl.findtext("tsl:SchemeInformation/tsl:TSLVersionIdentifier", namespaces=P.NS) == "5"
    assert tsl.findtext("tsl:SchemeInformation/tsl:SchemeTerritory", namespaces=P.NS) == "PL"
    services = {
        s.findtext("tsl:ServiceInformation/tsl:ServiceTypeIdentifier", namespaces=P.NS): (
            s.findtext("tsl:ServiceInformation/tsl:ServiceStatus", namespaces=P.NS),
            base64.b64decode(s.findtext(".//tsl:DigitalId/tsl:X509Certificate", namespaces=P.NS)),
        )
        for s in tsl.iterfind(".//tsl:TSPService", P.NS)
    }
    assert services == {
        P.SVC_CA_QC: (P.SVC_GRANTED, pki.root.cert_der),
        P.SVC_TSA_QTST: (P.SVC_GRANTED, pki.tsa.cert_der),
    }
    with pytest.raises(InvalidSignature):
        XAdESVerifier().verify(
            P.tampered_tsl(pki),
            x509_cert=pki.tsl_signer.cert,
            expect_config=XAdESSignatureConfiguration(expect_references=True),
        )
    assert base64.b64encode(pki.stranger_root.cert_der) in P.tampered_tsl(pki)


# ---------------------------------------------------------------- XAdES
def _xades_cases(pki):
    pdf = b"%PDF-1.7\n\x00\xff binary"
    return {
        "enveloped": (P.xades_enveloped(P.sample_xml(), pki.person), pki.person, None),
        "enveloped_t": (
            P.xades_enveloped(P.sample_xml(), pki.person_legacy, t=True),
            pki.person_legacy,
            None,
        ),
        "enveloping_xml": (P.xades_enveloping(P.sample_xml(), pki.company), pki.company, None),
        "enveloping_binary": (P.xades_enveloping(pdf, pki.company), pki.company, None),
        "detached": (
            P.xades_detached(pdf, "wniosek 1.pdf", pki.person),
            pki.person,
            {"wniosek%201.pdf": pdf},
        ),
        "pz": (P.pz_xades(P.sample_xml(), pki), pki.ministry, None),
    }


@pytest.mark.parametrize(
    "case", ["enveloped", "enveloped_t", "enveloping_xml", "enveloping_binary", "detached", "pz"]
)
def test_xades_verifies(pki, case):
    document, party, files = _xades_cases(pki)[case]
    resolver = files.__getitem__ if files else None
    results = XAdESVerifier().verify(document, x509_cert=party.cert, uri_resolver=resolver)
    properties = next(r.signed_properties for r in results if hasattr(r, "signed_properties"))
    assert properties.find(".//xades:SigningTime", P.NS) is not None
    assert properties.find(".//xades:SigningCertificateV2", P.NS) is not None
    if case == "enveloping_binary":
        assert results[0].signed_data == b"%PDF-1.7\n\x00\xff binary"
    if case == "detached":
        assert b'URI="wniosek%201.pdf"' in document


def test_xades_t_timestamp_covers_signature_value(pki):
    document = etree.fromstring(P.xades_enveloped(P.sample_xml(), pki.person, t=True))
    stamp = document.find(".//xades:UnsignedSignatureProperties/xades:SignatureTimeStamp", P.NS)
    assert stamp.find("ds:CanonicalizationMethod", P.NS).get("Algorithm") == P.EXC_C14N.value
    token = cms.ContentInfo.load(
        base64.b64decode(stamp.findtext("xades:EncapsulatedTimeStamp", namespaces=P.NS))
    )
    value = document.find(".//ds:SignatureValue", P.NS)
    digest = hashlib.sha256(etree.tostring(value, method="c14n", exclusive=True)).digest()
    context = _validation_context(pki)
    status = TimestampSignatureStatus(
        **P._sync(lambda: asyncio.run(validate_tst_signed_data(token["content"], context, lambda _: digest)))
    )
    assert status.intact and status.valid and status.trusted
    assert status.signing_cert.dump() == pki.tsa.asn1_cert.dump()


def test_pz_data_is_inside_the_signed_properties(pki):
    document = P.pz_xades(P.sample_xml(), pki, pesel="02070803628", account="anowak")
    results = XAdESVerifier().verify(document, x509_cert=pki.ministry.cert)
    properties = next(r.signed_properties for r in results if hasattr(r, "signed_properties"))
    podpis = properties.find("xades:SignerRole/xades:ClaimedRoles/xades:ClaimedRole/ppZP:PodpisZP", P.NS)
    person = podpis.find("ppZP:DaneZP/ppZP:DaneZPOsobyFizycznej", P.NS)
    assert [person.findtext(f"os:{n}", namespaces=P.NS) for n in ("Imie", "Nazwisko", "PESEL")] == [
        "Jan",
        "Kowalski",
        "02070803628",
    ]
    assert podpis.findtext("ppZP:DanePodpisu/ppZP:IdKontaUzytkownikaEpuap", namespaces=P.NS) == "anowak"
    with pytest.raises(InvalidSignature):  # the PESEL is covered by the signature
        XAdESVerifier().verify(
            document.replace(b"02070803628</os:PESEL>", b"44051401359</os:PESEL>"),
            x509_cert=pki.ministry.cert,
        )


# ---------------------------------------------------------------- PAdES and CAdES
def _pdf_status(pki, pdf: bytes):
    signature = PdfFileReader(BytesIO(pdf)).embedded_signatures[0]
    context = _validation_context(pki)
    return P._sync(
        lambda: validate_pdf_signature(
            signature, signer_validation_context=context, ts_validation_context=context
        )
    )


def test_pades(pki):
    pdf = P.sample_pdf()
    assert pdf.startswith(b"%PDF") and PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Count"] == 1
    plain = _pdf_status(pki, P.pades(pdf, pki.person))
    assert (
        plain.intact
        and plain.valid
        and plain.trusted
        and plain.coverage == SignatureCoverageLevel.ENTIRE_FILE
    )
    assert plain.timestamp_validity is None
    stamped = _pdf_status(pki, P.pades(pdf, pki.company, timestamp=True))
    assert stamped.bottom_line and stamped.timestamp_validity.intact and stamped.timestamp_validity.trusted
    modified = _pdf_status(pki, P.pades_then_modified(pdf, pki.person))
    assert modified.intact and modified.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert modified.modification_level == ModificationLevel.OTHER


@pytest.mark.parametrize("signing_certificate_v2", [False, True])
def test_cades(pki, signing_certificate_v2):
    data = b"dane\nwniosku\n"
    detached = cms.ContentInfo.load(P.cades(data, pki.person, signing_certificate_v2=signing_certificate_v2))
    signed_data = detached["content"]
    assert {c.chosen.dump() for c in signed_data["certificates"]} >= {pki.intermediate.asn1_cert.dump()}
    status = P._sync(
        lambda: asyncio.run(async_validate_detached_cms(data, signed_data, _validation_context(pki)))
    )
    assert status.intact and status.valid and status.trusted
    attached = cms.ContentInfo.load(P.cades(data, pki.person, detached=False))
    assert attached["content"]["encap_content_info"]["content"].native == data


# ---------------------------------------------------------------- ASiC
def _members(container: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    z = zipfile.ZipFile(io.BytesIO(container))
    return z, z.infolist()


@pytest.mark.parametrize("kind", ["asic_s_p7s", "asic_s_xades", "asic_e_xades", "asic_e_cades"])
def test_asic(pki, kind):
    files = {"wniosek.xml": P.sample_xml(), "mapa.pdf": P.sample_pdf()}
    if kind == "asic_s_p7s":
        container = P.asic_s("wniosek.xml", files["wniosek.xml"], P.cades(files["wniosek.xml"], pki.person))
    elif kind == "asic_s_xades":
        signature = P.xades_detached(files["wniosek.xml"], "wniosek.xml", pki.person)
        container = P.asic_s("wniosek.xml", files["wniosek.xml"], signature, kind="xades")
    elif kind == "asic_e_xades":
        container = P.asic_e_xades(files, pki.person)
    else:
        container = P.asic_e_cades(files, pki.person)
    z, members = _members(container)
    assert members[0].filename == "mimetype" and members[0].compress_type == zipfile.ZIP_STORED
    assert (
        z.read("mimetype") == (P.MIMETYPE_ASIC_S if kind.startswith("asic_s") else P.MIMETYPE_ASIC_E).encode()
    )
    names = z.namelist()
    if "META-INF/signatures.xml" in names:
        wrapper = etree.fromstring(z.read("META-INF/signatures.xml"))
        assert wrapper.tag == f"{{{P.ASIC_NS}}}XAdESSignatures"
        references = (
            len(names) - 2 + 2
        )  # every member but mimetype and the signature; SignedProperties, KeyInfo
        results = XAdESVerifier().verify(
            z.read("META-INF/signatures.xml"),
            x509_cert=pki.person.cert,
            uri_resolver=z.read,
            expect_config=XAdESSignatureConfiguration(expect_references=references),
        )
        assert len(results) == references
    else:
        signed = z.read("META-INF/ASiCManifest.xml") if kind == "asic_e_cades" else z.read("wniosek.xml")
        signed_data = cms.ContentInfo.load(z.read("META-INF/signature.p7s"))["content"]
        status = P._sync(
            lambda: asyncio.run(async_validate_detached_cms(signed, signed_data, _validation_context(pki)))
        )
        assert status.bottom_line
    if kind == "asic_e_cades":
        manifest = etree.fromstring(z.read("META-INF/ASiCManifest.xml"))
        listed = {
            ref.get("URI"): base64.b64decode(ref.findtext("ds:DigestValue", namespaces=P.NS))
            for ref in manifest.iterfind("asic:DataObjectReference", P.NS)
        }
        assert listed == {name: hashlib.sha256(data).digest() for name, data in files.items()}


def test_zip_bomb():
    bomb = P.zip_bomb()
    assert len(bomb) < 8 * 1024 * 1024
    z, members = _members(bomb)
    assert members[0].filename == "mimetype" and z.read("mimetype") == P.MIMETYPE_ASIC_E.encode()
    assert sum(m.file_size for m in members) > 1024**3


# ---------------------------------------------------------------- attack material
def test_wrapping_variants(pki):
    signed = P.xades_enveloped(P.sample_xml(), pki.person)
    variants = P.wrapped_variants(signed)
    assert len(variants) >= 3
    for document in variants.values():
        assert P.FORGED_PREFIX.encode() in document and etree.fromstring(document) is not None
    # the point of the material: signxml alone accepts this one, and hands back the hidden original
    results = XAdESVerifier().verify(variants["hidden_in_forged"], x509_cert=pki.person.cert)
    assert P.FORGED_PREFIX.encode() not in results[0].signed_data


def test_doctype_and_nesting(pki):
    variants = P.with_doctype(P.xades_enveloped(P.sample_xml(), pki.person))
    assert set(variants) == {"xxe", "billion_laughs", "external_dtd"}
    assert b"file:///etc/passwd" in variants["xxe"] and b"&xxe;" in variants["xxe"]
    assert b"&lol9;" in variants["billion_laughs"]
    safe = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for name, document in variants.items():
        try:
            root = etree.fromstring(document, parser=safe)
        except etree.XMLSyntaxError:  # libxml2 refuses the amplification even without expanding
            assert name == "billion_laughs"
            continue
        assert etree.ElementTree(root).docinfo.doctype.startswith("<!DOCTYPE Wniosek")
        assert b"root:" not in etree.tostring(root)
    nested = P.deeply_nested(1000)
    assert nested.count(b"<a>") == 1000
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(P.deeply_nested(), parser=etree.XMLParser())  # libxml2 refuses the depth
