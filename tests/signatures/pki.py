"""A test PKI and signed test documents for the signature verifier (issue 24, services/signatures).

Everything is generated at run time (nothing but this code is committed), with libraries only: the
certificates, the CRL and the CMS signatures with cryptography, asn1crypto and pyHanko, the XML signatures
with signxml. Every key is EC P-256 (each library used here signs with EC), so a whole PKI takes
milliseconds; `make_pki` is cached per directory for the test session.

- `make_pki(directory)`: a root CA, an intermediate (qualified-like) CA, end-entity certificates (a natural
  person with `PNOPL-` and one with a legacy `PESEL:` serial number, a company seal, the Profil Zaufany
  ministry seal, an expired and a revoked certificate, a certificate under an untrusted root), a TSA issued
  by the root, the intermediate's CRL and an EU trusted list (ETSI TS 119 612) listing the root and the
  TSA, signed by a pinned TSL signer; all written to a trust directory (layout in `make_pki`).
- Signed documents: XAdES (enveloped, enveloping, detached; BES or T), a Profil-Zaufany-shaped XAdES,
  PAdES (with or without a timestamp; changed after signing), CAdES (attached or detached), ASiC-S and
  ASiC-E containers.
- Attack material: XML signature wrapping, DOCTYPE/XXE/billion laughs, deep nesting, a zip bomb.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import functools
import hashlib
import mimetypes
import secrets
import zipfile
from concurrent.futures import ThreadPoolExecutor
from copy import deepcopy
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree
from lxml.builder import ElementMaker
from pyhanko.keys import load_private_key_from_pemder_data
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from signxml import SignatureReference
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.util import xades_tag
from signxml.xades import XAdESDataObjectFormat, XAdESSigner

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

# ---------------------------------------------------------------- names and identifiers
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
TSL_NS = "http://uri.etsi.org/02231/v2#"
ASIC_NS = "http://uri.etsi.org/02918/v1.2.1#"
PPZP_NS = "http://crd.gov.pl/xml/schematy/ppzp/"
OS_NS = "http://crd.gov.pl/xml/schematy/osoba/2009/03/06/"
WNIOSEK_NS = "urn:test:wniosek"
NS = {"ds": DS_NS, "xades": XADES_NS, "tsl": TSL_NS, "asic": ASIC_NS, "ppZP": PPZP_NS, "os": OS_NS}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
BASE64_TRANSFORM = "http://www.w3.org/2000/09/xmldsig#base64"
SHA256_URI = "http://www.w3.org/2001/04/xmlenc#sha256"

SVC_CA_QC = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
SVC_TSA_QTST = "http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST"
SVC_GRANTED = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"

MIMETYPE_ASIC_S = "application/vnd.etsi.asic-s+zip"
MIMETYPE_ASIC_E = "application/vnd.etsi.asic-e+zip"

PERSON_PESEL = "44051401359"
LEGACY_PESEL = "02070803628"
EXPIRED_PESEL, REVOKED_PESEL = "82010112344", "90090515829"
COMPANY_NIP = "5261040828"
MINISTRY_NIP = "5252000025"
# Where the intermediate's CRL claims to live (CRL distribution point of every certificate it issues).
# .test never resolves (RFC 2606): a verifier gets the CRL from the trust directory, crl/intermediate.crl.
CRL_URL = "http://crl.pki.test/intermediate.crl"

QC_STATEMENTS = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")
QC_COMPLIANCE = "0.4.0.1862.1.1"  # ETSI EN 319 412-5 esi4-qcStatement-1
QC_SSCD = "0.4.0.1862.1.4"
QC_TYPE = "0.4.0.1862.1.6"
QC_TYPE_ESIGN, QC_TYPE_ESEAL = "0.4.0.1862.1.6.1", "0.4.0.1862.1.6.2"
POLICY_QCP_N_QSCD = "0.4.0.194112.1.2"  # qualified certificate for a natural person, key on a QSCD
POLICY_QCP_L_QSCD = "0.4.0.194112.1.3"  # qualified certificate for a legal person (seal), key on a QSCD
TSA_POLICY = "2.25.329800735698586629295641978511506172918"  # a test policy under the UUID arc


def _sync(fn):
    """Call `fn` (which runs its own event loop: pyHanko's sync wrappers, asyncio.run) here, or in a worker
    thread when this thread already runs a loop (the e2e tests' Playwright keeps one for the session)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# ---------------------------------------------------------------- parties
@dataclass(eq=False)
class Party:
    """A certificate with its private key: somebody who signs (or issues) in the tests.

    `chain` holds the issuers up to but excluding the root (what a signer embeds next to its own
    certificate); `tsa` is the TSA that timestamps this party's signatures when a function is asked to."""

    cert: x509.Certificate
    key: PrivateKey
    chain: list[x509.Certificate] = field(default_factory=list)
    tsa: Party | None = field(default=None, repr=False)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def name(self) -> str:
        """The certificate's commonName."""
        return str(self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)

    @property
    def asn1_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert_der)


@dataclass(eq=False)
class TestPKI:
    """The test PKI and the trust directory it was written to (see `make_pki`)."""

    __test__ = False  # not a pytest test class

    dir: Path
    root: Party  # trust anchor, listed in the TSL as CA/QC
    intermediate: Party  # issues the end-entity certificates and the CRL
    person: Party  # Jan Kowalski, PNOPL-44051401359, qcStatements QcCompliance, nonRepudiation
    person_legacy: Party  # Anna Nowak, PESEL:02070803628
    company: Party  # seal of Geodezja Sp. z o.o., VATPL-5261040828
    expired: Party  # not valid after 2 years ago
    revoked: Party  # revoked 1 day ago, in crl_der
    ministry: Party  # the Profil Zaufany seal (Ministerstwo Cyfryzacji)
    tsa: Party  # timeStamping EKU (critical), issued by the root, listed in the TSL as TSA/QTST
    stranger: Party  # issued by stranger_root, which is trusted nowhere
    stranger_root: Party  # a self-made root: not in the trust directory, not in the TSL
    tsl_signer: Party  # self-signed, signs the TSL; pinned in tsl/signers/pl.pem
    crl_der: bytes  # the intermediate's CRL: revoked.cert listed, nextUpdate in 30 days

    @property
    def tsl_path(self) -> Path:
        return self.dir / "tsl" / "pl.xml"

    @property
    def tsl(self) -> bytes:
        """The signed trusted list as written."""
        return self.tsl_path.read_bytes()

    @property
    def crl(self) -> x509.CertificateRevocationList:
        return x509.load_der_x509_crl(self.crl_der)

    def add_anchor(self, cert: x509.Certificate, name: str | None = None) -> Path:
        """Install a certificate (PEM) as a configured trust anchor in anchors/; returns its path."""
        path = self.dir / "anchors" / f"{name or format(cert.serial_number, 'x')}.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path


# ---------------------------------------------------------------- certificates
class _QcStatement(core.Sequence):
    _fields = [("statement_id", core.ObjectIdentifier), ("statement_info", core.Any, {"optional": True})]


class _QcStatements(core.SequenceOf):
    _child_spec = _QcStatement


class _QcTypes(core.SequenceOf):
    _child_spec = core.ObjectIdentifier


def _qc_statements(qc_type: str) -> x509.UnrecognizedExtension:
    """qcStatements (RFC 3739, ETSI EN 319 412-5): QcCompliance, QcSSCD and QcType; cryptography has no
    builder for it, so the DER comes from asn1crypto."""
    statements = _QcStatements(
        [
            {"statement_id": QC_COMPLIANCE},
            {"statement_id": QC_SSCD},
            {"statement_id": QC_TYPE, "statement_info": _QcTypes([qc_type])},
        ]
    )
    return x509.UnrecognizedExtension(QC_STATEMENTS, statements.dump())


def _policies(oid: str) -> x509.CertificatePolicies:
    return x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(oid), None)])


def _name(*attributes: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


_KEY_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def _party(
    subject: x509.Name,
    issuer: Party | None,
    *,
    valid: tuple[datetime.timedelta, datetime.timedelta],
    usage: tuple[str, ...],
    ca: bool = False,
    path_length: int | None = None,
    eku: list[x509.ObjectIdentifier] | None = None,
    extensions: tuple[x509.ExtensionType, ...] = (),
) -> Party:
    """A new EC P-256 key and its certificate, issued by `issuer` (self-signed when None). `valid` is
    (not before, not after) relative to now; `usage` names the keyUsage bits set (critical)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + valid[0])
        .not_valid_after(now + valid[1])
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(**{bit: bit in usage for bit in _KEY_USAGES}),  # type: ignore[arg-type]
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    if issuer and not ca and issuer.cert.issuer != issuer.cert.subject:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(CRL_URL)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    cert = builder.sign(signer_key, hashes.SHA256())
    chain: list[x509.Certificate] = []
    if issuer and issuer.cert.issuer != issuer.cert.subject:  # an intermediate: it and its own issuers
        chain = [issuer.cert, *issuer.chain]
    return Party(cert=cert, key=key, chain=chain)


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def _natural_person(issuer: Party, given: str, surname: str, serial: str, **kwargs) -> Party:
    subject = _name(
        (NameOID.COUNTRY_NAME, "PL"),
        (NameOID.COMMON_NAME, f"{given} {surname}"),
        (NameOID.GIVEN_NAME, given),
        (NameOID.SURNAME, surname),
        (NameOID.SERIAL_NUMBER, serial),
    )
    kwargs.setdefault("valid", (_days(-30), _days(730)))
    return _party(
        subject,
        issuer,
        usage=("content_commitment",),
        extensions=(_qc_statements(QC_TYPE_ESIGN), _policies(POLICY_QCP_N_QSCD)),
        **kwargs,
    )


def _seal(issuer: Party, organisation: str, common_name: str, nip: str) -> Party:
    subject = _name(
        (NameOID.COUNTRY_NAME, "PL"),
        (NameOID.ORGANIZATION_NAME, organisation),
        (NameOID.ORGANIZATION_IDENTIFIER, f"VATPL-{nip}"),
        (NameOID.COMMON_NAME, common_name),
    )
    return _party(
        subject,
        issuer,
        valid=(_days(-30), _days(730)),
        usage=("content_commitment",),
        extensions=(_qc_statements(QC_TYPE_ESEAL), _policies(POLICY_QCP_L_QSCD)),
    )


def _crl(intermediate: Party, revoked: Party) -> bytes:
    now = _now()
    entry = (
        x509.RevokedCertificateBuilder()
        .serial_number(revoked.cert.serial_number)
        .revocation_date(now - _days(1))
        .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
        .build()
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(intermediate.cert.subject)
        .last_update(now - datetime.timedelta(hours=1))
        .next_update(now + _days(30))
        .add_revoked_certificate(entry)
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(intermediate.key.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(intermediate.key, hashes.SHA256())
    )
    return crl.public_bytes(serialization.Encoding.DER)


# ---------------------------------------------------------------- the trusted list
def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _signature_method(key: PrivateKey) -> SignatureMethod:
    return SignatureMethod.RSA_SHA256 if isinstance(key, rsa.RSAPrivateKey) else SignatureMethod.ECDSA_SHA256


def _tsl(root: Party, tsa: Party, signer: Party) -> bytes:
    """The EU trusted list (ETSI TS 119 612 v2) of the test PKI: one TSP whose services are the root
    (CA/QC, granted) and the TSA (TSA/QTST, granted); enveloped XAdES signature (exclusive C14N,
    ECDSA-SHA256) by `signer`, its certificate in KeyInfo."""
    t = ElementMaker(namespace=TSL_NS, nsmap={"tsl": TSL_NS})
    now = _now()

    def names(text: str):
        return [t.Name(text, {XML_LANG: "pl"})]

    def service(kind: str, party: Party, title: str):
        return t.TSPService(
            t.ServiceInformation(
                t.ServiceTypeIdentifier(kind),
                t.ServiceName(*names(title)),
                t.ServiceDigitalIdentity(t.DigitalId(t.X509Certificate(_b64(party.cert_der)))),
                t.ServiceStatus(SVC_GRANTED),
                t.StatusStartingTime(_iso(party.cert.not_valid_before_utc)),
            )
        )

    tsl = t.TrustServiceStatusList(
        t.SchemeInformation(
            t.TSLVersionIdentifier("5"),
            t.TSLSequenceNumber("1"),
            t.TSLType("http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric"),
            t.SchemeOperatorName(*names("Narodowe Centrum Certyfikacji (testowe)")),
            t.SchemeName(*names("PL: Testowa lista zaufanych usług")),
            t.StatusDeterminationApproach("http://uri.etsi.org/TrstSvc/TrustedList/StatusDetn/EUappropriate"),
            t.SchemeTerritory("PL"),
            t.HistoricalInformationPeriod("65535"),
            t.ListIssueDateTime(_iso(now)),
            t.NextUpdate(t.dateTime(_iso(now + _days(180)))),
        ),
        t.TrustServiceProviderList(
            t.TrustServiceProvider(
                t.TSPInformation(t.TSPName(*names("Testowe Centrum Certyfikacji Sp. z o.o."))),
                t.TSPServices(
                    service(SVC_CA_QC, root, "Testowe kwalifikowane certyfikaty podpisu i pieczęci"),
                    service(SVC_TSA_QTST, tsa, "Testowy kwalifikowany znacznik czasu"),
                ),
            )
        ),
        TSLTag="http://uri.etsi.org/19612/TSLTag",
    )
    # trusted lists are XAdES-signed (ETSI TS 119 612 5.7; pyHanko's reader requires SignedProperties)
    signer_xml = _XAdESSigner(SignatureConstructionMethod.enveloped, signer.key)
    return _xml(signer_xml.sign(tsl, key=signer.key, cert=[signer.cert]))


def tampered_tsl(pki: TestPKI) -> bytes:
    """The TSL with the CA/QC service's certificate swapped for the stranger's root; the signature is
    kept, so it no longer verifies (a verifier must not trust the stranger through it)."""
    root = etree.fromstring(pki.tsl, parser=_safe_parser())
    (cert,) = root.xpath(
        "//tsl:TSPService[tsl:ServiceInformation/tsl:ServiceTypeIdentifier=$kind]"
        "/tsl:ServiceInformation/tsl:ServiceDigitalIdentity/tsl:DigitalId/tsl:X509Certificate",
        namespaces=NS,
        kind=SVC_CA_QC,
    )
    cert.text = _b64(pki.stranger_root.cert_der)
    return _xml(root)


# ---------------------------------------------------------------- the PKI
def make_pki(directory: Path | str) -> TestPKI:
    """Generate the test PKI and write its trust directory (cached per directory: call it from a
    session fixture with a tmp dir). Layout:

    - `anchors/`: empty (tests may add PEM trust anchors, `TestPKI.add_anchor`);
    - `tsl/pl.xml`: the signed trusted list (root as CA/QC, TSA as TSA/QTST, both granted);
    - `tsl/signers/pl.pem`: the TSL signer's certificate (the pinned TSL signing certificate);
    - `crl/intermediate.crl`: the intermediate's CRL (DER), listing `revoked`.
    """
    return _make_pki(Path(directory).resolve())


@functools.cache
def _make_pki(directory: Path) -> TestPKI:
    root = _party(
        _name(
            (NameOID.COUNTRY_NAME, "PL"),
            (NameOID.ORGANIZATION_NAME, "Testowe Centrum Certyfikacji Sp. z o.o."),
            (NameOID.COMMON_NAME, "Testowy Root Kwalifikowany"),
        ),
        None,
        valid=(_days(-3650), _days(3650)),
        usage=("key_cert_sign", "crl_sign"),
        ca=True,
        path_length=1,
    )
    intermediate = _party(
        _name(
            (NameOID.COUNTRY_NAME, "PL"),
            (NameOID.ORGANIZATION_NAME, "Testowe Centrum Certyfikacji Sp. z o.o."),
            (NameOID.ORGANIZATION_IDENTIFIER, "VATPL-5170359458"),
            (NameOID.COMMON_NAME, "Testowe CA Kwalifikowane 1"),
        ),
        root,
        valid=(_days(-1825), _days(1825)),
        usage=("key_cert_sign", "crl_sign"),
        ca=True,
        path_length=0,
    )
    tsa = _party(
        _name(
            (NameOID.COUNTRY_NAME, "PL"),
            (NameOID.ORGANIZATION_NAME, "Testowe Centrum Certyfikacji Sp. z o.o."),
            (NameOID.COMMON_NAME, "Testowy Kwalifikowany Znacznik Czasu"),
        ),
        root,
        valid=(_days(-365), _days(1825)),
        usage=("digital_signature", "content_commitment"),
        eku=[ExtendedKeyUsageOID.TIME_STAMPING],
    )
    person = _natural_person(intermediate, "Jan", "Kowalski", f"PNOPL-{PERSON_PESEL}")
    person_legacy = _natural_person(intermediate, "Anna", "Nowak", f"PESEL:{LEGACY_PESEL}")
    expired = _natural_person(
        intermediate, "Piotr", "Wiśniewski", f"PNOPL-{EXPIRED_PESEL}", valid=(_days(-1095), _days(-730))
    )
    revoked = _natural_person(intermediate, "Ewa", "Zielińska", f"PNOPL-{REVOKED_PESEL}")
    company = _seal(intermediate, "Geodezja Sp. z o.o.", "Geodezja Sp. z o.o.", COMPANY_NIP)
    ministry = _seal(intermediate, "Ministerstwo Cyfryzacji", "Podpis zaufany", MINISTRY_NIP)
    stranger_root = _party(
        _name((NameOID.COUNTRY_NAME, "PL"), (NameOID.COMMON_NAME, "Testowy Root Kwalifikowany")),
        None,  # the same common name as the real root, a different key and subject: trusted nowhere
        valid=(_days(-365), _days(1825)),
        usage=("key_cert_sign", "crl_sign"),
        ca=True,
    )
    stranger = _party(
        _name(
            (NameOID.COUNTRY_NAME, "PL"),
            (NameOID.COMMON_NAME, "Jan Kowalski"),
            (NameOID.GIVEN_NAME, "Jan"),
            (NameOID.SURNAME, "Kowalski"),
            (NameOID.SERIAL_NUMBER, f"PNOPL-{PERSON_PESEL}"),
        ),
        stranger_root,
        valid=(_days(-30), _days(730)),
        usage=("content_commitment",),
        extensions=(_qc_statements(QC_TYPE_ESIGN),),
    )
    tsl_signer = _party(
        _name(
            (NameOID.COUNTRY_NAME, "PL"),
            (NameOID.ORGANIZATION_NAME, "Narodowy Bank Polski (testowy)"),
            (NameOID.COMMON_NAME, "Testowy podpisujący listę TSL"),
        ),
        None,
        valid=(_days(-30), _days(1095)),
        usage=("digital_signature", "content_commitment"),
    )
    for party in (person, person_legacy, expired, revoked, company, ministry, stranger, intermediate, root):
        party.tsa = tsa
    crl_der = _crl(intermediate, revoked)

    for sub in ("anchors", "tsl/signers", "crl"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    (directory / "tsl" / "pl.xml").write_bytes(_tsl(root, tsa, tsl_signer))
    (directory / "tsl" / "signers" / "pl.pem").write_bytes(tsl_signer.cert_pem)
    (directory / "crl" / "intermediate.crl").write_bytes(crl_der)
    return TestPKI(
        dir=directory,
        root=root,
        intermediate=intermediate,
        person=person,
        person_legacy=person_legacy,
        company=company,
        expired=expired,
        revoked=revoked,
        ministry=ministry,
        tsa=tsa,
        stranger=stranger,
        stranger_root=stranger_root,
        tsl_signer=tsl_signer,
        crl_der=crl_der,
    )


# ---------------------------------------------------------------- the TSA (RFC 3161)
def _cms_signer(party: Party) -> SimpleSigner:
    """pyHanko's CMS signer for a party: its certificate and its chain embedded."""
    return SimpleSigner(
        signing_cert=party.asn1_cert,
        signing_key=load_private_key_from_pemder_data(party.key_pem, passphrase=None),
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in party.chain]
        ),
    )


async def _async_token(
    tsa: Party, digest: bytes, md_algorithm: str = "sha256", nonce: int | None = None
) -> cms.ContentInfo:
    info = {
        "version": "v1",
        "policy": TSA_POLICY,
        "message_imprint": {"hash_algorithm": {"algorithm": md_algorithm}, "hashed_message": digest},
        "serial_number": secrets.randbits(120),
        "gen_time": _now(),
        "accuracy": {"seconds": 1},
        "tsa": asn1_x509.GeneralName(name="directory_name", value=tsa.asn1_cert.subject),
    }
    if nonce is not None:
        info["nonce"] = nonce
    content = cms.EncapsulatedContentInfo(
        {"content_type": "tst_info", "content": cms.ParsableOctetString(tsp.TSTInfo(info).dump())}
    )
    return await _cms_signer(tsa).async_sign_general_data(content, "sha256", detached=False)


def timestamp_token(tsa: Party, digest: bytes, md_algorithm: str = "sha256") -> cms.ContentInfo:
    """An RFC 3161 timestamp token (CMS SignedData over a TSTInfo, signed by `tsa` with pyHanko's CMS
    signer, as services/documents/tsa.py does) for a message digest."""
    return _sync(lambda: asyncio.run(_async_token(tsa, digest, md_algorithm)))


class PKITimeStamper(TimeStamper):
    """pyHanko TimeStamper answered in process by a test TSA (no HTTP): for PdfSigner."""

    def __init__(self, tsa: Party):
        super().__init__()
        self.tsa = tsa

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        imprint = req["message_imprint"]
        token = await _async_token(
            self.tsa,
            imprint["hashed_message"].native,
            imprint["hash_algorithm"]["algorithm"].native,
            req["nonce"].native,
        )
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})


def _tsa_of(party: Party, tsa: Party | None) -> Party:
    if tsa is None and party.tsa is None:
        raise ValueError(f"no TSA for {party.name}: pass tsa=")
    return tsa or party.tsa  # type: ignore[return-value]


# ---------------------------------------------------------------- documents to sign
def sample_xml(*, pesel: str = PERSON_PESEL, doc_id: str = "Wniosek-1") -> bytes:
    """A small Polish application (`<Wniosek xmlns="urn:test:wniosek" Id=...>`) to sign."""
    w = ElementMaker(namespace=WNIOSEK_NS, nsmap={None: WNIOSEK_NS})
    root = w.Wniosek(
        w.Tresc("Wnoszę o wydanie wypisu z rejestru gruntów dla działki 141201_1.0001.123/4."),
        w.Wnioskodawca(w.Imie("Jan"), w.Nazwisko("Kowalski"), w.PESEL(pesel)),
        w.Data("2026-01-15"),
        Id=doc_id,
    )
    return _xml(root)


def _pdf_text(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")  # Helvetica/WinAnsi: no ą, ę, ł, ś, ż, ź, ć, ń
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _font() -> generic.DictionaryObject:
    return generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/Type1"),
            pdf_name("/BaseFont"): pdf_name("/Helvetica"),
            pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding"),
        }
    )


def sample_pdf(
    text: str = "Wniosek o wydanie wypisu z rejestru gruntow\nDzialka 141201_1.0001.123/4",
) -> bytes:
    """A one-page A4 PDF (pyHanko's writer) showing `text` (one line per newline, Helvetica)."""
    writer = PdfFileWriter()
    resources = generic.DictionaryObject(
        {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): writer.add_object(_font())})}
    )
    content = b"BT /F1 12 Tf 16 TL 72 770 Td " + b" ".join(_pdf_text(x) + b" Tj T*" for x in text.split("\n"))
    stream = writer.add_object(generic.StreamObject(stream_data=content + b" ET"))
    writer.insert_page(PageObject(contents=stream, media_box=(0, 0, 595, 842), resources=resources))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


# ---------------------------------------------------------------- XAdES
class _XAdESSigner(XAdESSigner):
    """signxml's XAdESSigner (exclusive C14N, SHA-256, ECDSA or RSA by the key) with three additions,
    each a small override of a signxml method:

    - `files`: detached references to external files by name (URI = the name, percent-encoded), digest
      over the raw bytes, no transforms (signxml only knows same-document detached references);
    - `base64_data`: enveloping of binary data: base64 in ds:Object (Encoding=base64) with the base64
      transform, digest over the raw bytes (signxml would put the bytes as text);
    - `claimed_role`: an XML element as the content of SignerRole/ClaimedRoles/ClaimedRole (signxml
      takes strings only); one DataObjectFormat per data reference (signxml: the first only)."""

    def __init__(
        self,
        method: SignatureConstructionMethod,
        key: PrivateKey,
        *,
        files: dict[str, bytes] | None = None,
        base64_data: bytes | None = None,
        mime_types: list[str] | None = None,
        claimed_role: etree._Element | None = None,
    ):
        super().__init__(
            method=method,
            signature_algorithm=_signature_method(key),
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=EXC_C14N,
            data_object_format=XAdESDataObjectFormat(Description="Podpisany dokument"),
        )
        self._files = {quote(name): data for name, data in files.items()} if files is not None else None
        self._base64_data = base64_data
        self._base64_node: etree._Element | None = None
        self._mime_types = mime_types or ["text/xml"]
        self._claimed_role = claimed_role

    def _unpack(self, data, references):
        if self._files is not None:
            sig_root = etree.Element(self._ds_tag("Signature"), nsmap=self.namespaces)
            refs = [SignatureReference(URI=uri) for uri in self._files]
            return sig_root, sig_root, list(self._files.values()), refs
        sig_root, doc_root, c14n_inputs, references = super()._unpack(data, references)
        if self._base64_data is not None:
            self._base64_node = c14n_inputs[0]
            self._base64_node.set("MimeType", self._mime_types[0])
            self._base64_node.set("Encoding", BASE64_TRANSFORM)
        return sig_root, doc_root, c14n_inputs, references

    def _build_transforms_for_reference(
        self, *, transforms_node, reference, exclude_c14n_transform_element=True
    ):
        if self._files is not None:
            return  # the raw bytes of a file; the empty Transforms is dropped in _build_sig
        if self._base64_data is not None:
            etree.SubElement(transforms_node, self._ds_tag("Transform"), Algorithm=BASE64_TRANSFORM)
            return
        super()._build_transforms_for_reference(
            transforms_node=transforms_node,
            reference=reference,
            exclude_c14n_transform_element=exclude_c14n_transform_element,
        )

    def _build_sig(
        self, sig_root, references, c14n_inputs, inclusive_ns_prefixes, exclude_c14n_transform_element=False
    ):
        signed_info, signature_value = super()._build_sig(
            sig_root, references, c14n_inputs, inclusive_ns_prefixes, exclude_c14n_transform_element
        )
        for transforms in signed_info.findall("ds:Reference/ds:Transforms", NS):
            if len(transforms) == 0:  # xmldsig: Transforms holds at least one Transform
                transforms.getparent().remove(transforms)
        return signed_info, signature_value

    def _c14n(self, nodes, algorithm, inclusive_ns_prefixes=None):
        if isinstance(nodes, bytes):  # an external file
            return nodes
        if nodes is not None and nodes is self._base64_node:
            return self._base64_data
        return super()._c14n(nodes, algorithm=algorithm, inclusive_ns_prefixes=inclusive_ns_prefixes)

    def _add_reference_to_signed_info(self, sig_root, node_to_reference, **attrs):
        # signxml digests SignedProperties and KeyInfo with the signature's C14N (exclusive here) but
        # writes no Transform, and a reference without one is read with inclusive C14N: name it.
        super()._add_reference_to_signed_info(sig_root, node_to_reference, **attrs)
        reference = self._findall(self._find(sig_root, "ds:SignedInfo"), "ds:Reference")[-1]
        transforms = etree.Element(self._ds_tag("Transforms"))
        etree.SubElement(transforms, self._ds_tag("Transform"), Algorithm=self.c14n_alg.value)
        reference.insert(0, transforms)

    def add_signer_role(self, signed_signature_properties, sig_root, signing_settings):
        if self._claimed_role is None:
            return super().add_signer_role(signed_signature_properties, sig_root, signing_settings)
        role = etree.SubElement(signed_signature_properties, xades_tag("SignerRole"), nsmap=self.namespaces)
        roles = etree.SubElement(role, xades_tag("ClaimedRoles"), nsmap=self.namespaces)
        claimed = etree.SubElement(roles, xades_tag("ClaimedRole"), nsmap=self.namespaces)
        claimed.append(deepcopy(self._claimed_role))

    def add_data_object_format(self, signed_data_object_properties, sig_root, signing_settings):
        signed_info = self._find(sig_root, "ds:SignedInfo")
        for index, reference in enumerate(self._findall(signed_info, "ds:Reference")):
            if "Id" not in reference.attrib:
                reference.set("Id", f"SignXMLReference{self._get_token()}")
            dof = etree.SubElement(
                signed_data_object_properties,
                xades_tag("DataObjectFormat"),
                nsmap=self.namespaces,
                ObjectReference=f"#{reference.get('Id')}",
            )
            etree.SubElement(
                dof, xades_tag("Description"), nsmap=self.namespaces
            ).text = self.data_object_format.Description
            etree.SubElement(dof, xades_tag("MimeType"), nsmap=self.namespaces).text = self._mime_types[
                min(index, len(self._mime_types) - 1)
            ]


def _signature_of(root: etree._Element) -> etree._Element:
    return root if root.tag == f"{{{DS_NS}}}Signature" else root.find(".//ds:Signature", NS)


def add_signature_timestamp(root: etree._Element, tsa: Party) -> etree._Element:
    """Turn XAdES-BES into XAdES-T: an RFC 3161 token from `tsa` over the exclusive C14N of
    ds:SignatureValue in QualifyingProperties/UnsignedProperties/UnsignedSignatureProperties/
    SignatureTimeStamp (ds:CanonicalizationMethod naming the C14N, then EncapsulatedTimeStamp).
    Works in place on the (first) signature in `root`; returns `root`."""
    signature = _signature_of(root)
    value = signature.find("ds:SignatureValue", NS)
    digest = hashlib.sha256(etree.tostring(value, method="c14n", exclusive=True)).digest()
    token = timestamp_token(tsa, digest)
    qualifying = signature.find("ds:Object/xades:QualifyingProperties", NS)
    unsigned = qualifying.find("xades:UnsignedProperties", NS)
    if unsigned is None:
        unsigned = etree.SubElement(qualifying, f"{{{XADES_NS}}}UnsignedProperties")
    properties = etree.SubElement(unsigned, f"{{{XADES_NS}}}UnsignedSignatureProperties")
    stamp = etree.SubElement(properties, f"{{{XADES_NS}}}SignatureTimeStamp", Id=f"TS-{secrets.token_hex(4)}")
    etree.SubElement(stamp, f"{{{DS_NS}}}CanonicalizationMethod", Algorithm=EXC_C14N.value)
    etree.SubElement(stamp, f"{{{XADES_NS}}}EncapsulatedTimeStamp").text = _b64(token.dump())
    return root


def _sign(signer: _XAdESSigner, data, party: Party, *, t: bool, tsa: Party | None) -> etree._Element:
    root = signer.sign(data, key=party.key, cert=[party.cert, *party.chain])
    if t:
        add_signature_timestamp(root, _tsa_of(party, tsa))
    return root


def xades_enveloped(xml: bytes, party: Party, *, t: bool = False, tsa: Party | None = None) -> bytes:
    """XAdES-BES (t: XAdES-T) enveloped in `xml`: Reference URI "#<root Id>" (or "" without an Id),
    enveloped-signature + exclusive C14N transforms; SigningTime and SigningCertificateV2 signed."""
    signer = _XAdESSigner(SignatureConstructionMethod.enveloped, party.key)
    root = etree.fromstring(xml, parser=_safe_parser())
    return _xml(_sign(signer, root, party, t=t, tsa=tsa))


def xades_enveloping(
    data: bytes, party: Party, *, mime_type: str | None = None, t: bool = False, tsa: Party | None = None
) -> bytes:
    """XAdES-BES (t: XAdES-T) enveloping `data` in ds:Object Id="object": well-formed XML (no DOCTYPE)
    is embedded as an element (exclusive C14N transform); anything else goes in as base64 with the
    base64 transform (digest over the raw bytes), like EU DSS."""
    try:
        element = etree.fromstring(data, parser=_safe_parser())
        if etree.ElementTree(element).docinfo.doctype:
            raise ValueError("DOCTYPE")
    except (etree.XMLSyntaxError, ValueError):
        element = None
    if element is not None:
        signer = _XAdESSigner(SignatureConstructionMethod.enveloping, party.key, mime_types=["text/xml"])
        return _xml(_sign(signer, element, party, t=t, tsa=tsa))
    mime = mime_type or "application/octet-stream"
    signer = _XAdESSigner(
        SignatureConstructionMethod.enveloping, party.key, base64_data=data, mime_types=[mime]
    )
    return _xml(_sign(signer, _b64(data), party, t=t, tsa=tsa))


def _mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _xades_detached_element(
    files: dict[str, bytes], party: Party, *, t: bool, tsa: Party | None
) -> etree._Element:
    signer = _XAdESSigner(
        SignatureConstructionMethod.detached, party.key, files=files, mime_types=[_mime(n) for n in files]
    )
    return _sign(signer, b"", party, t=t, tsa=tsa)


def xades_detached(
    data: bytes, name: str, party: Party, *, t: bool = False, tsa: Party | None = None
) -> bytes:
    """XAdES-BES (t: XAdES-T) detached from the file `name` (Reference URI = the name, percent-encoded;
    no transforms; SHA-256 of the raw bytes): a verifier resolves the reference by file name."""
    return _xml(_xades_detached_element({name: data}, party, t=t, tsa=tsa))


def podpis_zp(*, imie: str, nazwisko: str, pesel: str, account: str) -> etree._Element:
    """The ppZP:PodpisZP block of a Profil Zaufany signature (DOMAIN.md §9)."""
    p = ElementMaker(namespace=PPZP_NS, nsmap={"ppZP": PPZP_NS, "os": OS_NS})
    o = ElementMaker(namespace=OS_NS, nsmap={"os": OS_NS})
    return p.PodpisZP(
        p.DaneZP(p.DaneZPOsobyFizycznej(o.Imie(imie), o.Nazwisko(nazwisko), o.PESEL(pesel))),
        p.DanePodpisu(p.IdKontaUzytkownikaEpuap(account)),
    )


def pz_xades(
    xml: bytes,
    pki: TestPKI,
    *,
    imie: str = "Jan",
    nazwisko: str = "Kowalski",
    pesel: str = PERSON_PESEL,
    account: str = "jkowalski",
    t: bool = False,
) -> bytes:
    """A Profil-Zaufany-shaped XAdES enveloped in `xml`: signed with the ministry's seal, the user's data
    in SignedProperties/SignedSignatureProperties/SignerRole/ClaimedRoles/ClaimedRole/ppZP:PodpisZP
    (covered by the signature)."""
    zp = podpis_zp(imie=imie, nazwisko=nazwisko, pesel=pesel, account=account)
    signer = _XAdESSigner(SignatureConstructionMethod.enveloped, pki.ministry.key, claimed_role=zp)
    root = etree.fromstring(xml, parser=_safe_parser())
    return _xml(_sign(signer, root, pki.ministry, t=t, tsa=pki.tsa))


# ---------------------------------------------------------------- PAdES
def pades(
    pdf: bytes, party: Party, *, timestamp: bool = False, tsa: Party | None = None, field_name: str = "Podpis"
) -> bytes:
    """The PDF signed by `party` as PAdES (pyHanko PdfSigner, subfilter ETSI.CAdES.detached, SHA-256,
    invisible field, the chain embedded), B-T with a signature timestamp from the test TSA when asked."""
    meta = PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        reason="Podpis wniosku",
        location="Piaseczno",
    )
    stamper = PKITimeStamper(_tsa_of(party, tsa)) if timestamp else None
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    return _sync(lambda: PdfSigner(meta, _cms_signer(party), timestamper=stamper).sign_pdf(writer).getvalue())


def pades_then_modified(pdf: bytes, party: Party, *, text: str = "Kwota do zaplaty: 0 zl") -> bytes:
    """A PAdES-signed PDF with an incremental update after the signature that adds a content stream
    (visible text) to page 1: the signature still verifies over its byte range, the file does not."""
    writer = IncrementalPdfFileWriter(BytesIO(pades(pdf, party)), strict=False)
    stream = writer.add_object(
        generic.StreamObject(stream_data=b"BT /FX 18 Tf 72 600 Td " + _pdf_text(text) + b" Tj ET")
    )
    resources = generic.DictionaryObject(
        {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/FX"): writer.add_object(_font())})}
    )
    writer.add_stream_to_page(0, stream, resources=resources)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


# ---------------------------------------------------------------- CAdES
def cades(data: bytes, party: Party, *, detached: bool = True, signing_certificate_v2: bool = False) -> bytes:
    """DER CMS SignedData over `data` by `party` (SHA-256), the chain embedded; detached or with the
    content. By default cryptography's PKCS7SignatureBuilder (Binary: no S/MIME newline conversion);
    its signed attributes are contentType, signingTime, smimeCapabilities and messageDigest, without the
    ESS signing-certificate-v2 CAdES-BES requires. signing_certificate_v2=True signs with pyHanko
    instead (use_cades: signing-certificate-v2 included)."""
    if signing_certificate_v2:
        signed = _sync(
            lambda: asyncio.run(
                _cms_signer(party).async_sign_general_data(data, "sha256", detached=detached, use_cades=True)
            )
        )
        return signed.dump()
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(party.cert, party.key, hashes.SHA256())
    for cert in party.chain:
        builder = builder.add_certificate(cert)
    options = [pkcs7.PKCS7Options.Binary]
    if detached:
        options.append(pkcs7.PKCS7Options.DetachedSignature)
    return builder.sign(serialization.Encoding.DER, options)


# ---------------------------------------------------------------- ASiC (ETSI EN 319 162-1)
def _zip(mimetype: str, members: dict[str, bytes]) -> bytes:
    """A container: `mimetype` first and stored (uncompressed, no extra field), then the members
    (deflated)."""
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mimetype.encode("ascii"), compress_type=zipfile.ZIP_STORED)
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _xades_signatures(signature: etree._Element | bytes) -> bytes:
    """META-INF/signatures.xml: the signature inside asic:XAdESSignatures (kept as is when it already is
    one). Safe because every signature here uses exclusive C14N."""
    if isinstance(signature, bytes):
        signature = etree.fromstring(signature, parser=_safe_parser())
    if signature.tag == f"{{{ASIC_NS}}}XAdESSignatures":
        return _xml(signature)
    wrapper = etree.Element(f"{{{ASIC_NS}}}XAdESSignatures", nsmap={"asic": ASIC_NS})
    wrapper.append(signature)
    return _xml(wrapper)


def asic_s(name: str, data: bytes, signature_bytes: bytes, kind: str = "p7s") -> bytes:
    """ASiC-S: the signed file `name` and its signature, META-INF/signature.p7s (kind "p7s": a detached
    CAdES) or META-INF/signatures.xml (kind "xades": a detached XAdES referencing `name`, wrapped in
    asic:XAdESSignatures)."""
    if kind == "p7s":
        member = {"META-INF/signature.p7s": signature_bytes}
    elif kind == "xades":
        member = {"META-INF/signatures.xml": _xades_signatures(signature_bytes)}
    else:
        raise ValueError(f"kind must be 'p7s' or 'xades', not {kind!r}")
    return _zip(MIMETYPE_ASIC_S, {name: data, **member})


def asic_e_xades(files: dict[str, bytes], party: Party, *, t: bool = False) -> bytes:
    """ASiC-E with XAdES: the files and META-INF/signatures.xml, one detached XAdES whose references
    name each file (URI = the file name)."""
    signature = _xades_detached_element(files, party, t=t, tsa=None)
    return _zip(MIMETYPE_ASIC_E, {**files, "META-INF/signatures.xml": _xades_signatures(signature)})


def asic_manifest(files: dict[str, bytes], signature_name: str = "META-INF/signature.p7s") -> bytes:
    """META-INF/ASiCManifest.xml (ETSI EN 319 162-1 §A.4): the signature it belongs to and each file
    with its SHA-256."""
    a = ElementMaker(namespace=ASIC_NS, nsmap={"asic": ASIC_NS, "ds": DS_NS})
    d = ElementMaker(namespace=DS_NS, nsmap={"ds": DS_NS})
    manifest = a.ASiCManifest(
        a.SigReference(URI=signature_name, MimeType="application/pkcs7-signature"),
        *(
            a.DataObjectReference(
                d.DigestMethod(Algorithm=SHA256_URI),
                d.DigestValue(_b64(hashlib.sha256(data).digest())),
                URI=quote(name),
                MimeType=_mime(name),
            )
            for name, data in files.items()
        ),
    )
    return _xml(manifest)


def asic_e_cades(files: dict[str, bytes], party: Party) -> bytes:
    """ASiC-E with CAdES: the files, META-INF/ASiCManifest.xml listing each with its SHA-256 and
    META-INF/signature.p7s, a detached CAdES over the manifest's bytes."""
    manifest = asic_manifest(files)
    return _zip(
        MIMETYPE_ASIC_E,
        {
            **files,
            "META-INF/ASiCManifest.xml": manifest,
            "META-INF/signature.p7s": cades(manifest, party, detached=True),
        },
    )


BOMB_SIZE = 1025 * 1024 * 1024  # inflates to just over 1 GiB


@functools.cache
def zip_bomb(inflated_size: int = BOMB_SIZE) -> bytes:
    """An ASiC-E shaped zip (mimetype first, a data member, META-INF/signatures.xml) whose data member
    `dane.bin` inflates to `inflated_size` zeros (default > 1 GiB) from about 5 MB; the sizes in the zip
    are true. Streamed (1 MiB at a time, deflate level 1): about 1.5 s, little memory; cached."""
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(
            zipfile.ZipInfo("mimetype"), MIMETYPE_ASIC_E.encode("ascii"), compress_type=zipfile.ZIP_STORED
        )
        chunk = bytes(1024 * 1024)
        with z.open("dane.bin", "w", force_zip64=True) as member:
            left = inflated_size
            while left > 0:
                member.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
        z.writestr(
            "META-INF/signatures.xml",
            _xml(etree.Element(f"{{{ASIC_NS}}}XAdESSignatures", nsmap={"asic": ASIC_NS})),
        )
    return out.getvalue()


# ---------------------------------------------------------------- attack material
FORGED_PREFIX = "SFAŁSZOWANO: "


def _falsify(element: etree._Element) -> None:
    """Change the text a reader sees: the Tresc element's text if any, else the first text-only element
    outside the signature."""
    leaves = [
        e
        for e in element.iter()
        if isinstance(e.tag, str)
        and len(e) == 0
        and (e.text or "").strip()
        and not any(a.tag == f"{{{DS_NS}}}Signature" for a in e.iterancestors())
    ]
    target = next(
        (e for e in leaves if etree.QName(e).localname == "Tresc"), leaves[0] if leaves else element
    )
    target.text = FORGED_PREFIX + (target.text or "")


def _without_signatures(element: etree._Element) -> etree._Element:
    copy = deepcopy(element)
    for signature in copy.findall(".//ds:Signature", NS):
        signature.getparent().remove(signature)
    return copy


def wrapped_variants(signed_xml: bytes) -> dict[str, bytes]:
    """XML signature wrapping variants of an enveloped, Id-referenced signature (the first Reference of
    the first ds:Signature must be "#<Id>"). In each, a reader of the document sees forged content
    (`FORGED_PREFIX` added to its text) while the signature may still verify cryptographically:

    - `object_wrap`: the signed element moved into a new ds:Object of the signature; the forged element
      (no Id) put in its place, carrying the signature (with the enveloped-signature transform the
      digest no longer matches: the transform drops the whole ds:Signature, the moved element with it);
    - `object_wrap_same_id`: the same, the forged element keeping the Id (duplicate Ids);
    - `hidden_in_forged`: the forged element (no Id) carrying the signature, the signed element (without
      the signature) appended as its last child: the reference resolves to the hidden original and the
      signature VERIFIES; only a verifier that checks what was signed (the document element, not a
      descendant) catches it;
    - `forged_sibling_before`: a new root holding a forged copy with the same Id, then the original;
    - `duplicate_id_in_object`: the document unchanged but a forged copy with the same Id in a new
      ds:Object of the signature (not covered by the signature).
    """
    variants: dict[str, bytes] = {}
    original = etree.fromstring(signed_xml, parser=_safe_parser())
    signature = original.find(".//ds:Signature", NS)
    uri = signature.find("ds:SignedInfo/ds:Reference", NS).get("URI", "")
    if not uri.startswith("#"):
        raise ValueError("wrapped_variants needs a signature whose first Reference is '#<Id>'")
    ref_id = uri[1:]

    def fresh() -> tuple[etree._Element, etree._Element]:
        doc = deepcopy(original)
        (target,) = doc.xpath("//*[@Id=$id]", id=ref_id)
        return doc, target

    def object_wrap(keep_id: bool) -> bytes:
        doc, target = fresh()
        signed = _without_signatures(target)
        forged = deepcopy(target)
        _falsify(forged)
        if not keep_id:
            del forged.attrib["Id"]
        obj = etree.SubElement(forged.find(".//ds:Signature", NS), f"{{{DS_NS}}}Object")
        obj.append(signed)
        if target is doc:
            return _xml(forged)
        target.getparent().replace(target, forged)
        return _xml(doc)

    variants["object_wrap"] = object_wrap(keep_id=False)
    variants["object_wrap_same_id"] = object_wrap(keep_id=True)

    doc, target = fresh()
    forged = deepcopy(target)
    _falsify(forged)
    del forged.attrib["Id"]
    forged.append(_without_signatures(target))
    if target is doc:
        variants["hidden_in_forged"] = _xml(forged)
    else:
        target.getparent().replace(target, forged)
        variants["hidden_in_forged"] = _xml(doc)

    doc, target = fresh()
    forged = _without_signatures(target)
    _falsify(forged)
    if target is doc:
        wrapper = etree.Element("{urn:test:koperta}Koperta", nsmap={None: "urn:test:koperta"})
        wrapper.extend([forged, doc])
        variants["forged_sibling_before"] = _xml(wrapper)
    else:
        target.addprevious(forged)
        variants["forged_sibling_before"] = _xml(doc)

    doc, target = fresh()
    forged = _without_signatures(target)
    _falsify(forged)
    etree.SubElement(doc.find(".//ds:Signature", NS), f"{{{DS_NS}}}Object").append(forged)
    variants["duplicate_id_in_object"] = _xml(doc)
    return variants


def _root_name(xml: bytes) -> tuple[etree._Element, str]:
    root = etree.fromstring(xml, parser=_safe_parser())
    qname = etree.QName(root)
    return root, f"{root.prefix}:{qname.localname}" if root.prefix else qname.localname


def _with_entity(xml: bytes, doctype: str, entity: str | None) -> bytes:
    root, _ = _root_name(xml)
    if entity:
        leaves = [e for e in root.iter() if isinstance(e.tag, str) and len(e) == 0]
        (leaves[0] if leaves else root).append(etree.Entity(entity))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", doctype=doctype)


def with_doctype(xml: bytes) -> dict[str, bytes]:
    """`xml` with a DOCTYPE, in three variants (the entity referenced in the first text-only element):

    - `xxe`: an external entity `file:///etc/passwd`;
    - `billion_laughs`: ten levels of entities, each ten times the previous (10^9 "lol"s expanded);
    - `external_dtd`: an external DTD (SYSTEM "file:///etc/passwd"), no entity.
    """
    _, name = _root_name(xml)
    lol = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return {
        "xxe": _with_entity(xml, f'<!DOCTYPE {name} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "xxe"),
        "billion_laughs": _with_entity(xml, f"<!DOCTYPE {name} [{''.join(lol)}]>", "lol9"),
        "external_dtd": _with_entity(xml, f'<!DOCTYPE {name} SYSTEM "file:///etc/passwd">', None),
    }


def deeply_nested(n: int = 100000) -> bytes:
    """A well-formed Wniosek nesting `n` elements (a parser without a depth limit recurses n deep)."""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><Wniosek xmlns="urn:test:wniosek" Id="Wniosek-1">'
        + b"<a>" * n
        + b"</a>" * n
        + b"</Wniosek>"
    )
