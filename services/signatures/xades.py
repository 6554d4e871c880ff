"""XAdES (and plain XML-DSig) verification on signxml: enveloped, enveloping and detached; BES and T.

signxml checks the signature value, every reference's digest and the XAdES SigningCertificate digest, and
returns only what was signed; the certificate is judged by `judge.py` (chain, revocation, time), and the
signer's identity is read only from the verified SignedProperties (Profil Zaufany) or the certificate.
Against signature wrapping: a document with two elements carrying the same identifier is refused, and a
reference resolving ambiguously fails inside signxml; the report lists exactly what each reference covers."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

from . import identity
from .judge import judge_certificate, judge_timestamp, proven_time
from .report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED, SignatureReport
from .trust import TrustStore
from .xmlsafe import parse_xml

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = ("http://uri.etsi.org/01903/v1.3.2#", "http://uri.etsi.org/01903/v1.4.1#")
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
C14N_INCLUSIVE = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
Resolver = Callable[[str], bytes | None]
log = logging.getLogger(__name__)


def top_signatures(root: etree._Element) -> list[etree._Element]:
    """The document's ds:Signature elements that are not inside another signature (countersignatures and
    signatures over signatures are reported by their parent's check)."""
    if root.tag == f"{{{DS}}}Signature":
        return [root]
    out = []
    for sig in root.iter(f"{{{DS}}}Signature"):
        if not any(a.tag == f"{{{DS}}}Signature" for a in sig.iterancestors()):
            out.append(sig)
    return out


def duplicate_ids(root: etree._Element) -> set[str]:
    seen: set[str] = set()
    dupes: set[str] = set()
    for el in root.iter():
        for name, value in el.attrib.items():
            if etree.QName(name).localname in ("Id", "ID", "id"):
                (dupes if value in seen else seen).add(value)
    return dupes


def _index_verifier(base: type, index: int):
    class Verifier(base):
        def _get_signature(self, root):
            sigs = top_signatures(root)
            if index >= len(sigs):
                raise InvalidInput("signature not found")
            return sigs[index]

    return Verifier()


def _certificates(sig: etree._Element) -> list[x509.Certificate]:
    certs = []
    for el in sig.iterfind(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate"):
        try:
            certs.append(x509.load_der_x509_certificate(base64.b64decode("".join((el.text or "").split()))))
        except (ValueError, binascii.Error):
            raise InvalidInput("unreadable X509Certificate") from None
    return certs


def _qualifying(sig: etree._Element) -> etree._Element | None:
    for ns in XADES_NS:
        qp = sig.find(f"{{{DS}}}Object/{{{ns}}}QualifyingProperties")
        if qp is not None:
            return qp
    return None


def _claimed_signing_cert(qp: etree._Element, certs: list[x509.Certificate]) -> x509.Certificate | None:
    """The embedded certificate the (not yet verified) SigningCertificate digest names; signxml checks it."""
    from cryptography.hazmat.primitives import hashes

    algos = {
        "http://www.w3.org/2001/04/xmlenc#sha256": hashes.SHA256(),
        "http://www.w3.org/2001/04/xmldsig-more#sha384": hashes.SHA384(),
        "http://www.w3.org/2001/04/xmlenc#sha512": hashes.SHA512(),
        "http://www.w3.org/2000/09/xmldsig#sha1": hashes.SHA1(),  # noqa: S303 - matching only, never trusted
    }
    for cert_el in qp.iter(*(f"{{{ns}}}Cert" for ns in XADES_NS)):
        method = cert_el.find(f".//{{{DS}}}DigestMethod")
        value = cert_el.find(f".//{{{DS}}}DigestValue")
        if method is None or value is None or method.get("Algorithm") not in algos:
            continue
        try:
            want = base64.b64decode("".join((value.text or "").split()))
        except (ValueError, binascii.Error):
            continue
        for c in certs:
            if c.fingerprint(algos[method.get("Algorithm")]) == want:
                return c
        break
    return None


def _inside_validity(cert: x509.Certificate) -> datetime:
    """A moment the certificate is valid at, for signxml's own validity check only: time is judged with
    proof of existence by judge.py, which would otherwise be pre-empted for an expired certificate."""
    from django.utils import timezone

    now = timezone.now()
    nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
    return min(max(now, nb + timedelta(seconds=1)), na - timedelta(seconds=1))


def _references(sig: etree._Element, root: etree._Element) -> tuple[list[dict], bool]:
    """What each reference of the signature covers, and whether the signed data is the whole document
    (URI "" or the root's identifier), the whole enveloped content, or every detached file."""
    covers, whole = [], False
    for ref in sig.iterfind(f"{{{DS}}}SignedInfo/{{{DS}}}Reference"):
        uri = ref.get("URI")
        kind = "element"
        method = ref.find(f"{{{DS}}}DigestMethod")
        entry = {
            "uri": uri,
            "type": ref.get("Type") or "",
            "digest_algorithm": method.get("Algorithm") if method is not None else "",
        }
        if ref.get("Type") == SIGNED_PROPERTIES_TYPE:
            kind = "signed_properties"
        elif uri == "":
            kind, whole = "document", True
        elif uri and uri.startswith("#"):
            target = next(
                (
                    el
                    for el in root.iter()
                    if any(
                        etree.QName(k).localname in ("Id", "ID", "id") and v == uri[1:]
                        for k, v in el.attrib.items()
                    )
                ),
                None,
            )
            if target is not None:
                entry["element"] = etree.QName(target).localname
                if target is root or target.tag == f"{{{DS}}}Object":
                    whole = whole or target is root or root.tag == f"{{{DS}}}Signature"
                if target.tag == f"{{{DS}}}KeyInfo":
                    kind = "certificate"
        elif uri:
            kind = "file"
            whole = True
        entry["kind"] = kind
        covers.append(entry)
    return covers, whole


def _signing_time(props: etree._Element | None) -> datetime | None:
    if props is None:
        return None
    el = next(props.iter(*(f"{{{ns}}}SigningTime" for ns in XADES_NS)), None)
    if el is None or not (el.text or "").strip():
        return None
    try:
        moment = datetime.fromisoformat((el.text or "").strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment


def _signature_timestamp(sig: etree._Element, qp: etree._Element, store: TrustStore) -> dict | None:
    """The XAdES-T signature timestamp: an RFC 3161 token over the canonical ds:SignatureValue."""
    for ns in XADES_NS:
        ts_el = qp.find(
            f"{{{ns}}}UnsignedProperties/{{{ns}}}UnsignedSignatureProperties/{{{ns}}}SignatureTimeStamp"
        )
        if ts_el is not None:
            break
    else:
        return None
    enc = ts_el.find(f"{{{ns}}}EncapsulatedTimeStamp")
    value = sig.find(f"{{{DS}}}SignatureValue")
    if enc is None or value is None:
        return {
            "time": None,
            "tsa": "",
            "intact": False,
            "valid": False,
            "trusted": False,
            "problem": "missing",
        }
    method_el = ts_el.find(f"{{{DS}}}CanonicalizationMethod")
    method = method_el.get("Algorithm") if method_el is not None else C14N_INCLUSIVE
    exclusive = "exc-c14n" in (method or "")
    comments = (method or "").endswith("#WithComments")
    covered = etree.tostring(value, method="c14n", exclusive=exclusive, with_comments=comments)
    try:
        token = base64.b64decode("".join((enc.text or "").split()))
    except (ValueError, binascii.Error):
        return {
            "time": None,
            "tsa": "",
            "intact": False,
            "valid": False,
            "trusted": False,
            "problem": "base64",
        }
    from .judge import digest

    return judge_timestamp(token, lambda algo: digest(algo, covered), store)


def verify_xml(
    data: bytes, store: TrustStore, *, resolve: Resolver | None = None
) -> tuple[str, list[SignatureReport]]:
    """("XAdES" or "XMLDSig", one report per signature). Raises xmlsafe.UnsafeXml for XML that is not
    well-formed or has a DOCTYPE, LookupError when it carries no signature."""
    root = parse_xml(data)
    sigs = top_signatures(root)
    if not sigs:
        raise LookupError("no signature")
    dupes = duplicate_ids(root)
    reports = []
    for i, sig in enumerate(sigs):
        qp = _qualifying(sig)
        report = SignatureReport(
            id=sig.get("Id") or f"S{i + 1}",
            format="XAdES-BES" if qp is not None else "XMLDSig",
            indication=TOTAL_PASSED,
        )
        try:
            _verify_one(data, root, i, sig, qp, report, store, resolve, dupes)
        except Exception as e:  # a signature signxml or we could not process: damaged, never a 500
            log.info("XML signature %s not processed: %r", i, e)
            report.fail(TOTAL_FAILED, "FORMAT_FAILURE", f"{e.__class__.__name__}: {e}")
        reports.append(report)
    fmt = "XAdES" if any(r.format.startswith("XAdES") for r in reports) else "XMLDSig"
    return fmt, reports


def _verify_one(data, root, index, sig, qp, report: SignatureReport, store, resolve, dupes) -> None:
    report.covers, report.whole_document = _references(sig, root)
    if dupes:
        report.fail(
            TOTAL_FAILED,
            "FORMAT_FAILURE",
            "several elements carry the same identifier: " + ", ".join(sorted(dupes))[:200],
        )
        return
    certs = _certificates(sig)
    if not certs:
        report.fail(INDETERMINATE, "NO_SIGNING_CERTIFICATE_FOUND", "no X509Certificate in KeyInfo")
        return
    signing = (_claimed_signing_cert(qp, certs) if qp is not None else None) or certs[0]
    der = signing.public_bytes(Encoding.DER)
    cert = asn1_x509.Certificate.load(der)
    report.signer = identity.signer_of(cert)  # who the certificate names, shown even when the check fails
    report.certificate = identity.certificate_facts(cert)
    config = XAdESSignatureConfiguration(expect_references=True, verification_time=_inside_validity(signing))
    verifier = _index_verifier(XAdESVerifier if qp is not None else XMLVerifier, index)
    resolver = (lambda uri: resolve(uri)) if resolve is not None else None
    try:
        results = verifier.verify(data, x509_cert=signing, uri_resolver=resolver, expect_config=config)
    except InvalidDigest as e:
        if "certificate digest" in str(e):
            report.fail(INDETERMINATE, "NO_SIGNING_CERTIFICATE_FOUND", str(e))
        else:
            report.fail(TOTAL_FAILED, "HASH_FAILURE", str(e))
        return
    except InvalidSignature as e:
        report.fail(TOTAL_FAILED, "SIG_CRYPTO_FAILURE", str(e))
        return
    except InvalidCertificate as e:
        report.fail(INDETERMINATE, "CERTIFICATE_CHAIN_GENERAL_FAILURE", str(e))
        return
    except InvalidInput as e:
        text = str(e)
        if "resolve reference URI" in text or "External URI dereferencing" in text:
            report.fail(INDETERMINATE, "SIGNED_DATA_NOT_FOUND", text)
        else:
            report.fail(TOTAL_FAILED, "FORMAT_FAILURE", text)
        return
    results = results if isinstance(results, list) else [results]
    if not report.whole_document:  # valid over an element, but not the document as it is read (wrapping)
        report.fail(
            INDETERMINATE, "SIG_CONSTRAINTS_FAILURE", "the signature covers only part of the document"
        )
    props = next(
        (
            getattr(r, "signed_properties", None)
            for r in results
            if getattr(r, "signed_properties", None) is not None
        ),
        None,
    )
    claimed = _signing_time(props)
    report.signing_time = claimed.isoformat() if claimed else None
    if qp is not None:
        report.timestamp = _signature_timestamp(sig, qp, store)
        if report.timestamp is not None:
            report.format = "XAdES-T"
            if not (report.timestamp["intact"] and report.timestamp["valid"]):
                report.fail(
                    TOTAL_FAILED, "HASH_FAILURE", "the signature timestamp does not match the signature"
                )
    others = [
        asn1_x509.Certificate.load(c.public_bytes(Encoding.DER))
        for c in certs
        if c.public_bytes(Encoding.DER) != der
    ]
    pz = identity.profil_zaufany(props)
    if pz is not None and der in store.pz_certificates:
        report.profil_zaufany = True
        report.signer = pz
    elif pz is not None:  # a PodpisZP signed by someone other than the Profil Zaufany service
        report.fail(
            INDETERMINATE,
            "SIG_CONSTRAINTS_FAILURE",
            "Profil Zaufany data signed by a certificate that is not the service's seal",
        )
    judge_certificate(
        report, cert, others, store, claimed_time=claimed, proven_time=proven_time(report.timestamp)
    )
