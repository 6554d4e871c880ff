"""Judging a signer's certificate and a timestamp token with pyhanko-certvalidator, in the terms of
ETSI EN 319 102-1, shared by every format.

The certificate is first judged now (the best signature time without proof of existence). When that fails
only because of time (expired, or revoked since) and a timestamp from a trusted authority proves the
signature existed earlier, it is judged again at the timestamp's time. A certificate revoked before the
time the signer claims is TOTAL_FAILED/REVOKED (EN 319 102-1 5.2.6); otherwise the certificate problems are
INDETERMINATE with pyHanko's sub-indication."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation.generic_cms import validate_cert_usage, validate_tst_signed_data
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import RevocationDetails, TimestampSignatureStatus
from pyhanko_certvalidator.path import ValidationPath

from .identity import certificate_facts
from .report import INDETERMINATE, TOTAL_FAILED, SignatureReport, iso
from .trust import TrustStore

log = logging.getLogger(__name__)
T = TypeVar("T")
# what a signing certificate may be used for: a signature (digitalSignature) or a seal/e-signature
# committing to the content (nonRepudiation); either is enough
SIGNER_USAGE = KeyUsageConstraints(
    key_usage={"non_repudiation", "digital_signature"}, match_all_key_usages=False
)
NEEDS_POE = {"OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED", "REVOKED_NO_POE", "NO_POE"}


def run(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine from sync code or from inside a running loop (an async view): then in a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


@dataclass
class ChainResult:
    path: ValidationPath | None
    sub_indication: str | None
    revocation: RevocationDetails | None
    moment: datetime | None


def _validate(
    cert: asn1_x509.Certificate, others: list[asn1_x509.Certificate], store: TrustStore, moment
) -> ChainResult:
    vc = store.context(moment=moment, other_certs=others)

    async def check():
        paths = vc.path_builder.async_build_paths_lazy(cert)
        return await validate_cert_usage(cert, vc, key_usage_settings=SIGNER_USAGE, paths=paths)

    try:
        res = run(check)
    except Exception as e:  # certvalidator's own failure on odd input: not a verdict of validity
        log.info("certificate validation failed: %r", e)
        return ChainResult(None, "CERTIFICATE_CHAIN_GENERAL_FAILURE", None, moment)
    sub = res.error_subindic.name if res.error_subindic is not None else None
    return ChainResult(res.success_result or res.error_path, sub, res.revo_details, moment)


def judge_certificate(
    report: SignatureReport,
    cert: asn1_x509.Certificate,
    others: Iterable[asn1_x509.Certificate],
    store: TrustStore,
    *,
    claimed_time: datetime | None,
    proven_time: datetime | None,
) -> ChainResult:
    """Judge the signer's certificate and write the chain, anchor, qualification and verdict into the report."""
    others = list(others)
    result = _validate(cert, others, store, None)
    if result.sub_indication in NEEDS_POE and proven_time is not None:
        earlier = _validate(cert, others, store, proven_time)
        if earlier.sub_indication is None:
            result = earlier
    report.best_signature_time = iso(result.moment) if result.moment else iso(_now())
    report.certificate = certificate_facts(cert)
    if result.path is not None:
        report.chain = [certificate_facts(c) for c in _path_certs(result.path)]
        anchor = _path_root(result.path)
        report.trust_anchor = store.source_of(anchor) if anchor is not None else None
    if result.sub_indication is None:
        report.qualified = store.qualified(result.path, result.moment or _now())
        return result
    sub = result.sub_indication
    if sub == "CHAIN_CONSTRAINTS_FAILURE" and cert.self_signed != "no" and store.source_of(cert) is None:
        sub = "NO_CERTIFICATE_CHAIN_FOUND"  # a self-made certificate nobody here trusts (as DSS says it)
    if sub in ("REVOKED_NO_POE",) and result.revocation is not None and claimed_time is not None:
        if result.revocation.revocation_date <= claimed_time:
            report.fail(TOTAL_FAILED, "REVOKED", "revoked before the claimed signing time")
            return result
    report.fail(INDETERMINATE, sub, f"certificate: {sub}")
    return result


def _path_certs(path: ValidationPath) -> list[asn1_x509.Certificate]:
    """The path from the signer's certificate up to the root."""
    try:
        return list(reversed(list(path.iter_certs(include_root=True))))
    except Exception:  # a path without certificates (a bare trust anchor): nothing to list
        log.info("path not listed", exc_info=True)
        return []


def _path_root(path: ValidationPath) -> asn1_x509.Certificate | None:
    try:
        root = path.trust_anchor.authority
        return getattr(root, "certificate", None)
    except Exception:
        return None


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()


# ---------------------------------------------------------------- timestamps
def judge_timestamp(token: bytes, imprint_of: Callable[[str], bytes], store: TrustStore) -> dict[str, Any]:
    """An RFC 3161 token over something (`imprint_of(hash algorithm)` gives the expected imprint):
    {"time", "tsa", "intact", "valid", "trusted", "problem"}; `trusted` only for a matching, valid token
    from a trusted authority."""
    try:
        info = cms.ContentInfo.load(token)
        signed = info["content"]
        tst = signed["encap_content_info"]["content"].parsed
        claimed = tst["gen_time"].native
    except Exception as e:
        return {
            "time": None,
            "tsa": "",
            "intact": False,
            "valid": False,
            "trusted": False,
            "problem": repr(e)[:200],
        }

    async def check():
        kwargs = await validate_tst_signed_data(signed, store.context(), imprint_of)
        return TimestampSignatureStatus(**kwargs)

    try:
        status = run(check)
    except Exception as e:
        log.info("timestamp does not verify: %r", e)
        return {
            "time": iso(claimed),
            "tsa": "",
            "intact": False,
            "valid": False,
            "trusted": False,
            "problem": e.__class__.__name__,
        }
    return timestamp_facts(status)


def timestamp_facts(status: TimestampSignatureStatus | None) -> dict[str, Any] | None:
    if status is None:
        return None
    try:
        tsa = status.signing_cert.subject.human_friendly
    except Exception:
        tsa = ""
    return {
        "time": iso(status.timestamp),
        "tsa": tsa,
        "intact": bool(status.intact),
        "valid": bool(status.valid),
        "trusted": bool(status.intact and status.valid and status.trust_problem_indic is None),
        "problem": status.trust_problem_indic.name if status.trust_problem_indic is not None else None,
    }


def proven_time(ts: dict | None) -> datetime | None:
    if ts and ts.get("trusted") and ts.get("time"):
        return datetime.fromisoformat(ts["time"])
    return None


def digest(algorithm: str, data: bytes) -> bytes:
    return hashlib.new(algorithm.replace("sha2_", "sha").replace("-", ""), data).digest()
