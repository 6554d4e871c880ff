"""Sealing issued PDF documents with the office's seal as PAdES B-T, and checking a copy anyone brings.

- `seal_pdf`: an approval signature (subfilter ETSI.CAdES.detached, SHA-256, the office's EC or RSA key
  from services/offices/seals.py, its certificate embedded) in an invisible field, with an RFC 3161
  signature timestamp from `tsa.timestamper()`. The document prints its own seal block, so the
  signature needs no appearance; it certifies nothing (no DocMDP): a later change shows up as not
  covered by the signature, which `check_pdf` calls altered anyway.
- `check_pdf`: "genuine" only when the latest signature made with one of the given offices' own
  certificates (byte for byte: the one in use or an archived one, see `certificates_for`) verifies,
  covers the whole file and carries a timestamp from a trusted TSA; "altered" when such a signature
  does not verify or the file was changed after it; "unknown" for everything else (no signature,
  somebody else's signature, a look-alike certificate, unreadable input). Nothing is fetched from the
  network (no CRL, no OCSP): the office certificate itself is the trust root. Checking never raises.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from typing import Any, Literal, TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.utils.translation import gettext as _
from pyhanko.keys import load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from services.offices.seals import certificates_for, seal_for

from .tsa import timestamper, trusted_tsa_certificates

log = logging.getLogger(__name__)

MAX_CHECK_BYTES = 20 * 1024 * 1024  # larger uploads are not read at all
DIGEST = "sha256"
VerdictName = Literal["genuine", "altered", "unknown"]
T = TypeVar("T")
# what a damaged signature, token or byte range raises while pyHanko validates it
_BROKEN = (
    SignatureValidationError,
    PdfReadError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
)


@dataclass(frozen=True)
class Verdict:
    """What a copy is. `reason` explains the verdict to whoever brought the copy (translated);
    `details` keeps the technical findings (JSON-serialisable) for the clerk and the logs; `signed_by`
    and `office_code` are set only for a signature made with an office's own certificate."""

    verdict: VerdictName
    signed_by: str
    signed_at: datetime | None
    timestamp_at: datetime | None
    office_code: str | None
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- sealing
def _signer(office) -> SimpleSigner:
    seal = seal_for(office)  # raises SealUnavailable: never seal with anything else
    cert = asn1_x509.Certificate.load(seal.certificate.public_bytes(Encoding.DER))
    return SimpleSigner(
        signing_cert=cert,
        signing_key=load_private_key_from_pemder_data(seal.key_pem, passphrase=None),
        cert_registry=SimpleCertificateStore(),  # the signing certificate is embedded once anyway
    )


def seal_pdf(pdf: bytes, office, *, reason: str, location: str, field_name: str = "Pieczec") -> bytes:
    """The PDF with the office's PAdES B-T seal appended as an incremental update. Raises
    SealUnavailable without a usable seal, TSAUnavailable or pyHanko's TimestampRequestError without a
    timestamp (a seal without its timestamp is never issued), PdfReadError for input that is no PDF."""
    meta = PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        name=office.name,
        md_algorithm=DIGEST,
        subfilter=SigSeedSubFilter.PADES,
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    out = BytesIO()
    _off_loop(PdfSigner(meta, _signer(office), timestamper=timestamper()).sign_pdf, writer, output=out)
    return out.getvalue()


# ---------------------------------------------------------------- checking
def _unknown(problem: str, reason: str, **details: Any) -> Verdict:
    return Verdict("unknown", "", None, None, None, reason, {"problem": problem, **details})


def _not_ours() -> str:
    return _("This document does not carry a valid electronic seal of any of our offices.")


def _own_certificates(offices: Iterable) -> dict[bytes, tuple[Any, asn1_x509.Certificate]]:
    """DER of every certificate the offices have sealed with → (office, certificate)."""
    own: dict[bytes, tuple[Any, asn1_x509.Certificate]] = {}
    for office in offices:
        for cert in certificates_for(office):
            der = cert.public_bytes(Encoding.DER)
            own.setdefault(der, (office, asn1_x509.Certificate.load(der)))
    return own


def _signer_der(sig: EmbeddedPdfSignature) -> bytes | None:
    try:
        return sig.signer_cert.dump()
    except Exception:  # a signature whose CMS names no readable certificate is nobody's
        return None


def _claimed_timestamp_time(sig: EmbeddedPdfSignature) -> datetime | None:
    """The time in the signature's timestamp token, unverified: only the moment the office certificate
    is checked at; the token itself is verified afterwards and the verdict depends on it."""
    for attr in sig.signer_info["unsigned_attrs"] or ():
        if attr["type"].native != "signature_time_stamp_token":
            continue
        for token in attr["values"]:
            content = token["content"]["encap_content_info"]["content"]
            return content.parsed["gen_time"].native
    return None


def _off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call one of pyHanko's synchronous wrappers (each runs asyncio.run) from sync or async code alike:
    inside a running event loop (an async view) it runs in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def _validate(
    sig: EmbeddedPdfSignature, cert: asn1_x509.Certificate, tsa_roots: list[asn1_x509.Certificate]
) -> PdfSignatureStatus:
    signer_context = ValidationContext(
        trust_roots=[cert],
        moment=_claimed_timestamp_time(sig),
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    # without any trusted TSA the office's own certificate stands in: no timestamp is then trusted
    ts_context = ValidationContext(
        trust_roots=tsa_roots or [cert], allow_fetching=False, revocation_mode="soft-fail"
    )
    return _off_loop(validate_pdf_signature, sig, signer_context, ts_validation_context=ts_context)


def _tsa_roots() -> list[asn1_x509.Certificate]:
    try:
        return [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in trusted_tsa_certificates()]
    except Exception:  # an unreadable TSA folder: no timestamp is trusted (never genuine), logged
        log.exception("trusted TSA certificates unreadable")
        return []


def _facts(sig: EmbeddedPdfSignature, status: PdfSignatureStatus | None, cert: asn1_x509.Certificate) -> dict:
    facts: dict[str, Any] = {
        "field": sig.field_name,
        "certificate_sha256": hashlib.sha256(cert.dump()).hexdigest(),
        "certificate_subject": cert.subject.human_friendly,
        "signature_reason": str(sig.sig_object.get("/Reason", "")),
        "signature_location": str(sig.sig_object.get("/Location", "")),
    }
    if status is not None:
        ts = status.timestamp_validity
        facts |= {
            "intact": status.intact,
            "valid": status.valid,
            "trusted": status.trusted,
            "coverage": status.coverage.name if status.coverage is not None else None,
            "modification_level": status.modification_level.name if status.modification_level else None,
            "timestamp": None
            if ts is None
            else {
                "intact": ts.intact,
                "valid": ts.valid,
                "trusted": ts.trusted,
                "at": ts.timestamp.isoformat(),
            },
        }
    return facts


def _judge(
    sig: EmbeddedPdfSignature, office, cert: asn1_x509.Certificate, tsa_roots: list[asn1_x509.Certificate]
) -> Verdict:
    """The verdict on a signature made with one of the office's own certificates."""

    def verdict(name: VerdictName, problem: str | None, reason: str, status=None) -> Verdict:
        ts = status.timestamp_validity if status is not None else None
        return Verdict(
            name,
            office.name,
            status.signer_reported_dt if status is not None else None,
            ts.timestamp if ts is not None else None,
            office.code,
            reason,
            {"problem": problem, **_facts(sig, status, cert)},
        )

    try:
        status = _validate(sig, cert, tsa_roots)
    except _BROKEN as e:  # a broken CMS, token or byte range under our certificate: not what we issued
        log.info("office seal of %s does not verify: %r", office.code, e)
        return verdict("altered", "unverifiable", _("The document's seal is damaged: the file was changed."))
    if not (status.intact and status.valid):
        return verdict(
            "altered", "signature", _("The seal does not match the content: the file was changed."), status
        )
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return verdict(
            "altered",
            "changed_after_sealing",
            _("The file was changed after the office sealed it (content was added to the sealed document)."),
            status,
        )
    ts = status.timestamp_validity
    if ts is None:
        return verdict(
            "unknown", "no_timestamp", _("The seal carries no timestamp, so it cannot be confirmed."), status
        )
    if not (ts.intact and ts.valid):
        return verdict(
            "altered", "timestamp", _("The seal's timestamp does not match: the file was changed."), status
        )
    if not ts.trusted:
        return verdict(
            "unknown",
            "timestamp_untrusted",
            _("The seal's timestamp comes from an unknown authority."),
            status,
        )
    if not status.trusted:
        return verdict(
            "unknown",
            "certificate",
            _("The office's certificate was not valid when the document was sealed."),
            status,
        )
    return verdict(
        "genuine", None, _("The document is genuine: sealed by %(office)s.") % {"office": office.name}, status
    )


def check_pdf(data: bytes, offices: Iterable) -> Verdict:
    """Genuine, altered or unknown (see the module docstring); never raises."""
    if not data:
        return _unknown("empty", _("The file is empty."))
    if len(data) > MAX_CHECK_BYTES:
        return _unknown("too_large", _("The file is too large to check."), size=len(data))
    try:
        own = _own_certificates(offices)
    except Exception:
        log.exception("office certificates unreadable")
        return _unknown("no_certificates", _not_ours())
    try:
        signatures = PdfFileReader(BytesIO(data), strict=False).embedded_regular_signatures
    except Exception as e:  # anything that is not a readable PDF (pyHanko, asn1crypto, recursion...)
        return _unknown("not_pdf", _("The file is not a readable PDF document."), error=e.__class__.__name__)
    foreign: list[str] = []
    for sig in reversed(signatures):  # the latest signature of ours covers every earlier revision
        der = _signer_der(sig)
        if der is not None and der in own:
            office, cert = own[der]
            try:
                return _judge(sig, office, cert, _tsa_roots())
            except Exception:  # our own failure, not the file's: say so rather than guess
                log.exception("checking a copy sealed by %s failed", office.code)
                return _unknown("check_failed", _("The document could not be checked now. Try again later."))
        foreign.append(_claimed_subject(sig))
    if not signatures:
        return _unknown("no_signature", _not_ours())
    return _unknown("foreign_signature", _not_ours(), claimed_signers=foreign)


def _claimed_subject(sig: EmbeddedPdfSignature) -> str:
    """Whom a foreign signature claims to be (never shown as the signer: anyone can claim a name)."""
    try:
        return sig.signer_cert.subject.human_friendly
    except Exception:
        return ""
