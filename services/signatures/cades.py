"""CAdES (.p7s, attached or detached) and PAdES verification on pyHanko: the integrity of each signature
and its timestamp by pyHanko's CMS and PDF validators, the certificate by `judge.py`."""

from __future__ import annotations

import logging
from io import BytesIO

from asn1crypto import cms, pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature, async_validate_pdf_signature
from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel

from . import identity
from .judge import SIGNER_USAGE, judge_certificate, proven_time, run, timestamp_facts
from .report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED, SignatureReport, iso
from .trust import TrustStore

log = logging.getLogger(__name__)
ALLOWED_LATER_CHANGES = {
    ModificationLevel.NONE,
    ModificationLevel.LTA_UPDATES,
    ModificationLevel.FORM_FILLING,
}


class NotCms(ValueError):
    pass


def load_signed_data(data: bytes) -> cms.SignedData:
    if pem.detect(data):
        _type, _headers, data = pem.unarmor(data)
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            raise NotCms("not SignedData")
        signed = info["content"]
        signed["signer_infos"].native  # noqa: B018 - parse now: broken structure is not a signature
        return signed
    except NotCms:
        raise
    except Exception as e:
        raise NotCms(str(e)[:200]) from e


def _embedded_certs(signed: cms.SignedData) -> list[asn1_x509.Certificate]:
    return [c.chosen for c in signed["certificates"] or () if isinstance(c.chosen, asn1_x509.Certificate)]


def _failure(report: SignatureReport, e: SignatureValidationError) -> None:
    sub = getattr(e, "ades_subindication", None)
    name = sub.name if sub is not None else "FORMAT_FAILURE"
    indication = TOTAL_FAILED if sub is None or sub.__class__.__name__ == "AdESFailure" else INDETERMINATE
    report.fail(indication, name, f"{e.__class__.__name__}: {e}"[:300])


def verify_cms(
    data: bytes, store: TrustStore, *, detached: bytes | None = None, name: str = ""
) -> list[SignatureReport]:
    """One report per signer of a CMS SignedData (.p7s). The signed content is the encapsulated one, or
    `detached` for a detached signature (INDETERMINATE/SIGNED_DATA_NOT_FOUND without it)."""
    signed = load_signed_data(data)
    try:  # asn1crypto parses lazily: a damaged certificate or content shows only here
        content = signed["encap_content_info"]["content"]
        attached = content.native if content is not None and content.native is not None else None
        certs = _embedded_certs(signed)
    except (ValueError, TypeError, KeyError) as e:
        raise NotCms(str(e)[:200]) from e
    payload = attached if attached is not None else detached
    reports = []
    for i, signer_info in enumerate(signed["signer_infos"]):
        report = SignatureReport(id=f"S{i + 1}", format="CAdES-BES", indication=TOTAL_PASSED)
        report.covers = [
            {
                "kind": "content" if attached is not None else "file",
                "name": name or "",
                "attached": attached is not None,
            }
        ]
        report.whole_document = payload is not None
        try:
            _one(_only(signed, signer_info, attached is not None), payload, certs, report, store)
        except Exception as e:
            log.info("CMS signature %s not processed: %r", i, e)
            report.fail(TOTAL_FAILED, "FORMAT_FAILURE", f"{e.__class__.__name__}: {e}"[:300])
        reports.append(report)
    return reports


def _only(signed: cms.SignedData, signer_info: cms.SignerInfo, attached: bool) -> cms.SignedData:
    """A copy of `signed` with this signer only (pyHanko reads the first), untagged (`signed` came out of a
    ContentInfo with its explicit [0] tag, which dump() keeps and SignedData.load refuses), and without the
    encapsulated content, which is then given to pyHanko as the detached data (it refuses both at once)."""
    one = cms.SignedData.load(signed.untag().dump())
    one["signer_infos"] = cms.SignerInfos([signer_info])
    if attached:
        one["encap_content_info"] = cms.ContentInfo(
            {"content_type": signed["encap_content_info"]["content_type"]}
        )
    return one


def _signer_cert(signed: cms.SignedData, certs: list[asn1_x509.Certificate]) -> asn1_x509.Certificate | None:
    sid = signed["signer_infos"][0]["sid"]
    for c in certs:
        if sid.name == "issuer_and_serial_number":
            if c.issuer == sid.chosen["issuer"] and c.serial_number == sid.chosen["serial_number"].native:
                return c
        elif c.key_identifier == sid.chosen.native:
            return c
    return None


def _one(signed, payload, certs, report: SignatureReport, store: TrustStore) -> None:
    cert = _signer_cert(signed, certs)
    if cert is None:
        report.fail(
            INDETERMINATE, "NO_SIGNING_CERTIFICATE_FOUND", "the signer's certificate is not in the file"
        )
        return
    report.signer = identity.signer_of(cert)  # who the certificate names, shown even when the check fails
    report.certificate = identity.certificate_facts(cert)
    if payload is None:
        report.fail(INDETERMINATE, "SIGNED_DATA_NOT_FOUND", "detached signature without its file")
        return
    try:
        status = run(
            lambda: async_validate_detached_cms(
                payload,
                signed,
                signer_validation_context=store.context(fetch=False),  # the chain is judged by judge.py
                ts_validation_context=store.context(),
                key_usage_settings=SIGNER_USAGE,
            )
        )
    except SignatureValidationError as e:
        _failure(report, e)
        return
    report.signing_time = iso(status.signer_reported_dt)
    report.timestamp = timestamp_facts(status.timestamp_validity)
    if report.timestamp is not None:
        report.format = "CAdES-T"
    if not status.intact:
        report.fail(TOTAL_FAILED, "HASH_FAILURE", "the content does not match the signed digest")
        return
    if not status.valid:
        report.fail(TOTAL_FAILED, "SIG_CRYPTO_FAILURE", "the signature value does not verify")
        return
    if report.timestamp is not None and not (report.timestamp["intact"] and report.timestamp["valid"]):
        report.fail(TOTAL_FAILED, "HASH_FAILURE", "the signature timestamp does not match the signature")
    judge_certificate(
        report,
        cert,
        [c for c in certs if c.dump() != cert.dump()],
        store,
        claimed_time=status.signer_reported_dt,
        proven_time=proven_time(report.timestamp),
    )


# ---------------------------------------------------------------- PDF
def verify_pdf(data: bytes, store: TrustStore) -> list[SignatureReport]:
    """One report per signature field of a PDF (document timestamps are not signatures). Raises NotCms for
    a file that is not a readable PDF, LookupError when it has no signature."""
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = reader.embedded_regular_signatures
    except Exception as e:
        raise NotCms(f"not a readable PDF: {e.__class__.__name__}") from e
    if not signatures:
        raise LookupError("no signature")
    reports = []
    for i, sig in enumerate(signatures):
        report = SignatureReport(
            id=sig.field_name or f"S{i + 1}", format="PAdES-B-B", indication=TOTAL_PASSED
        )
        try:
            _pdf_one(sig, report, store)
        except Exception as e:
            log.info("PDF signature %s not processed: %r", i, e)
            report.fail(TOTAL_FAILED, "FORMAT_FAILURE", f"{e.__class__.__name__}: {e}"[:300])
        reports.append(report)
    return reports


def _pdf_one(sig: EmbeddedPdfSignature, report: SignatureReport, store: TrustStore) -> None:
    try:
        byte_range = [int(x) for x in sig.sig_object.get("/ByteRange", [])]
    except (TypeError, ValueError):
        byte_range = []
    report.covers = [{"kind": "byte_range", "byte_range": byte_range}]
    try:
        cert = sig.signer_cert
    except Exception:
        cert = None
    if cert is None:
        report.fail(
            INDETERMINATE, "NO_SIGNING_CERTIFICATE_FOUND", "the signer's certificate is not in the file"
        )
        return
    report.signer = identity.signer_of(cert)
    report.certificate = identity.certificate_facts(cert)
    try:
        status = run(
            lambda: async_validate_pdf_signature(
                sig,
                signer_validation_context=store.context(fetch=False),  # the chain is judged by judge.py
                ts_validation_context=store.context(),
                key_usage_settings=SIGNER_USAGE,
            )
        )
    except SignatureValidationError as e:
        _failure(report, e)
        return
    report.signing_time = iso(status.signer_reported_dt)
    report.timestamp = timestamp_facts(status.timestamp_validity)
    if report.timestamp is not None:
        report.format = "PAdES-B-T"
    coverage = status.coverage
    level = status.modification_level
    report.covers[0]["coverage"] = coverage.name if coverage is not None else None
    report.covers[0]["later_changes"] = level.name if level is not None else None
    report.whole_document = coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        coverage == SignatureCoverageLevel.ENTIRE_REVISION and level in ALLOWED_LATER_CHANGES
    )
    if not status.intact:
        report.fail(TOTAL_FAILED, "HASH_FAILURE", "the document does not match the signed digest")
        return
    if not status.valid:
        report.fail(TOTAL_FAILED, "SIG_CRYPTO_FAILURE", "the signature value does not verify")
        return
    if not report.whole_document:
        report.fail(TOTAL_FAILED, "SIG_CONSTRAINTS_FAILURE", f"changed after signing ({report.covers[0]})")
    if report.timestamp is not None and not (report.timestamp["intact"] and report.timestamp["valid"]):
        report.fail(TOTAL_FAILED, "HASH_FAILURE", "the signature timestamp does not match the signature")
    others = [c for c in sig.other_embedded_certs if c.dump() != cert.dump()]
    judge_certificate(
        report,
        cert,
        others,
        store,
        claimed_time=status.signer_reported_dt,
        proven_time=proven_time(report.timestamp),
    )
