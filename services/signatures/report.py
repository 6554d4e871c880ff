"""The verification report: the vocabulary of ETSI EN 319 102-1 (as EU DSS reports it; DOMAIN.md §9), one
entry per signature, plain values only, so that it is stored as JSON with a submission and rendered in the
reader's language later (the words come from `indication_text` and `sub_indication_text`, never stored).

Indications: TOTAL_PASSED (valid), INDETERMINATE (the clerk decides; not a rejection), TOTAL_FAILED
(invalid, with the reason). The whole file gets the worst indication of its signatures."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

TOTAL_PASSED, INDETERMINATE, TOTAL_FAILED = "TOTAL_PASSED", "INDETERMINATE", "TOTAL_FAILED"
INDICATIONS = (TOTAL_PASSED, INDETERMINATE, TOTAL_FAILED)
_RANK = {TOTAL_PASSED: 0, INDETERMINATE: 1, TOTAL_FAILED: 2}
URN = {
    TOTAL_PASSED: "urn:etsi:019102:mainindication:total-passed",
    INDETERMINATE: "urn:etsi:019102:mainindication:indeterminate",
    TOTAL_FAILED: "urn:etsi:019102:mainindication:total-failed",
}

INDICATION_TEXTS = {
    TOTAL_PASSED: gettext_lazy("The signature is valid."),
    INDETERMINATE: gettext_lazy(
        "The signature could not be confirmed: it is not invalid, but the office has to assess it."
    ),
    TOTAL_FAILED: gettext_lazy("The signature is invalid."),
}
SUB_INDICATION_TEXTS = {
    "FORMAT_FAILURE": gettext_lazy("The signature is damaged or not in a format that can be read."),
    "HASH_FAILURE": gettext_lazy("The signed content was changed after signing."),
    "SIG_CRYPTO_FAILURE": gettext_lazy("The signature value does not match the signer's certificate."),
    "REVOKED": gettext_lazy("The signer's certificate had been revoked before the document was signed."),
    "REVOKED_NO_POE": gettext_lazy(
        "The signer's certificate has been revoked and nothing proves the document was signed before that."
    ),
    "REVOKED_CA_NO_POE": gettext_lazy(
        "The certificate of the authority that issued the signer's has been revoked."
    ),
    "EXPIRED": gettext_lazy("The signer's certificate had expired when the document was signed."),
    "NOT_YET_VALID": gettext_lazy("The signer's certificate was not yet valid when the document was signed."),
    "OUT_OF_BOUNDS_NO_POE": gettext_lazy(
        "The signer's certificate is not valid now (expired or not yet valid) and no timestamp proves when the "
        "document was signed."
    ),
    "OUT_OF_BOUNDS_NOT_REVOKED": gettext_lazy(
        "The signer's certificate has expired; it was not revoked, but no timestamp proves when the document "
        "was signed."
    ),
    "NO_CERTIFICATE_CHAIN_FOUND": gettext_lazy(
        "The signer's certificate does not come from an authority this office trusts."
    ),
    "NO_SIGNING_CERTIFICATE_FOUND": gettext_lazy("The signature does not carry the signer's certificate."),
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": gettext_lazy("The signer's certificate chain could not be checked."),
    "CHAIN_CONSTRAINTS_FAILURE": gettext_lazy("The signer's certificate may not be used for this signature."),
    "SIG_CONSTRAINTS_FAILURE": gettext_lazy(
        "The signature does not cover the document as it is now: part of it was added or changed after "
        "signing, only a part of it was signed, or the signer may not vouch for what it claims."
    ),
    "CRYPTO_CONSTRAINTS_FAILURE": gettext_lazy("The signature uses an algorithm that is no longer secure."),
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": gettext_lazy(
        "The signature uses an algorithm that is no longer secure and nothing proves when it was made."
    ),
    "SIGNED_DATA_NOT_FOUND": gettext_lazy(
        "The signed file was not given: add it to check a detached signature."
    ),
    "TRY_LATER": gettext_lazy("The certificate's revocation status is not available now; try again later."),
    "NO_POE": gettext_lazy("Nothing proves when the document was signed."),
    "TIMESTAMP_ORDER_FAILURE": gettext_lazy("The signature's timestamps are in the wrong order."),
    "POLICY_PROCESSING_ERROR": gettext_lazy("The signature's policy could not be processed."),
    "GENERIC": gettext_lazy("The signature could not be checked."),
}


def worst(indications: list[str]) -> str:
    return max(indications, key=lambda i: _RANK[i]) if indications else TOTAL_FAILED


def indication_text(indication: str) -> str:
    return str(INDICATION_TEXTS.get(indication, indication))


def sub_indication_text(sub: str | None) -> str:
    return str(SUB_INDICATION_TEXTS.get(sub or "", "")) if sub else ""


@dataclass
class Signer:
    """Who signed, as the certificate (or the signed Profil Zaufany data) says."""

    name: str = ""
    given_name: str = ""
    surname: str = ""
    organisation: str = ""
    country: str = ""
    identifier_kind: str = ""  # PESEL | NIP | KRS | ID (another PNO/TIN) | fingerprint
    identifier: str = ""
    source: str = "certificate"  # certificate | profil_zaufany
    epuap_account: str = ""


@dataclass
class SignatureReport:
    id: str
    format: str  # XAdES-BES, XAdES-T, XMLDSig, PAdES-B-B, PAdES-B-T, CAdES-BES, CAdES-T
    indication: str
    sub_indication: str | None = None
    signer: Signer = field(default_factory=Signer)
    signing_time: str | None = None  # claimed by the signer (ISO 8601)
    timestamp: dict | None = None  # {"time", "tsa", "intact", "trusted"}
    best_signature_time: str | None = None  # the moment the certificate was judged at
    covers: list[dict] = field(default_factory=list)  # what exactly is signed
    whole_document: bool | None = None  # the signature covers the whole file (or every referenced file)
    certificate: dict = field(default_factory=dict)
    chain: list[dict] = field(default_factory=list)
    trust_anchor: str | None = None  # where the root is trusted from (config, tsl, office:<code>, tsa)
    qualified: bool | None = None
    profil_zaufany: bool = False
    errors: list[str] = field(default_factory=list)  # technical details, for the clerk and the logs

    def fail(self, indication: str, sub: str, error: str = "") -> SignatureReport:
        """Lower the verdict (never raise it) and note why."""
        if _RANK[indication] >= _RANK[self.indication]:
            self.indication, self.sub_indication = indication, sub
        if error:
            self.errors.append(error[:500])
        return self


@dataclass
class Report:
    file: dict  # {"name", "sha256", "size"}
    format: str  # XAdES | XMLDSig | PAdES | CAdES | ASiC-S | ASiC-E
    signatures: list[SignatureReport]
    verified_at: str
    detached: dict | None = None  # the detached file given with the signature
    trust: dict = field(default_factory=dict)

    @property
    def indication(self) -> str:
        return worst([s.indication for s in self.signatures])

    @property
    def sub_indication(self) -> str | None:
        for s in self.signatures:
            if s.indication == self.indication and s.indication != TOTAL_PASSED:
                return s.sub_indication
        return None

    def as_dict(self) -> dict[str, Any]:
        """The stored form (no words: those come from the reader's language when shown)."""
        out = asdict(self)
        out["indication"] = self.indication
        out["sub_indication"] = self.sub_indication
        out["signatures_count"] = len(self.signatures)
        return out


def with_words(report: dict) -> dict:
    """A stored report with its verdicts in words, in the active language (for the API and the pages)."""
    out = dict(report)
    out["message"] = _verdict(report.get("indication"), report.get("sub_indication"))
    out["signatures"] = [
        {**s, "message": _verdict(s.get("indication"), s.get("sub_indication"))}
        for s in report.get("signatures", [])
    ]
    return out


def _verdict(indication: str | None, sub: str | None) -> str:
    main = indication_text(indication or "")
    reason = sub_indication_text(sub)
    return f"{main} {reason}".strip() if indication != TOTAL_PASSED else main


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def no_signature_text() -> str:
    return _("The file carries no electronic signature.")
