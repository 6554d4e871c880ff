"""Signature verification for anyone (django-ninja router, mounted at /api/ by gisportal/api.py):
`POST /api/signatures/verify` with a multipart `file` (and `detached`, the signed file of a detached
signature) → the report. Nothing is stored; each client address has a budget of checks."""

from __future__ import annotations

from django.core.cache import cache
from ninja import File, Router, Schema
from ninja.files import UploadedFile
from ninja.throttling import BaseThrottle

from .report import with_words
from .verify import MAX_FILE, FileTooLarge, verify_file

router = Router(tags=["signatures"])
CHECKS_PER_WINDOW = 30
WINDOW_SECONDS = 600


def over_budget(client: str) -> bool:
    """True when this client address has used up its checks for the window (every attempt counts; the
    API and the /podpis/ page share the budget)."""
    key = f"gisportal:signature-checks:{client}"
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        n = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        n = 1
    return n > CHECKS_PER_WINDOW


class CheckThrottle(BaseThrottle):
    def allow_request(self, request) -> bool:
        return not over_budget(request.META.get("REMOTE_ADDR", "?"))

    def wait(self) -> None:
        return None


class SignerOut(Schema):
    name: str
    given_name: str
    surname: str
    organisation: str
    country: str
    identifier_kind: str  # PESEL | NIP | KRS | ID | fingerprint | "" (Profil Zaufany without PESEL)
    identifier: str
    source: str  # certificate | profil_zaufany
    epuap_account: str


class SignatureOut(Schema):
    id: str
    format: str
    indication: str
    sub_indication: str | None
    message: str
    signer: SignerOut
    signing_time: str | None
    timestamp: dict | None
    best_signature_time: str | None
    covers: list[dict]
    whole_document: bool | None
    certificate: dict
    chain: list[dict]
    trust_anchor: str | None
    qualified: bool | None
    profil_zaufany: bool
    errors: list[str]


class ReportOut(Schema):
    indication: str
    sub_indication: str | None
    message: str
    format: str
    file: dict
    detached: dict | None
    signatures_count: int
    signatures: list[SignatureOut]
    verified_at: str
    trust: dict


def read_upload(upload: UploadedFile | None) -> tuple[bytes | None, str]:
    if upload is None:
        return None, ""
    if upload.size is not None and upload.size > MAX_FILE:
        raise FileTooLarge(verify_too_large_text())
    data = upload.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise FileTooLarge(verify_too_large_text())
    return data, (upload.name or "")[-200:]


def verify_too_large_text() -> str:
    from django.utils.translation import gettext as _

    return _("The file is too large to check (at most %(n)s MB).") % {"n": MAX_FILE // 1024**2}


@router.post(
    "/signatures/verify",
    response=ReportOut,
    auth=None,
    throttle=CheckThrottle(),
    url_name="api_signature_verify",
    summary="Verify the electronic signatures of a file (XAdES, PAdES, CAdES .p7s, ASiC) and say who signed",
    description=(
        "Multipart `file`: the signed file; `detached` (optional): the file a detached signature covers. "
        "`indication` is TOTAL_PASSED, INDETERMINATE or TOTAL_FAILED (ETSI EN 319 102-1), the worst of the "
        "file's signatures; `sub_indication` says why; `signer` names the person or the entity (PESEL, NIP, "
        "KRS from a qualified certificate or the signed Profil Zaufany data). Nothing is stored."
    ),
    openapi_extra={
        "responses": {
            413: {"description": "the file is larger than 20 MB"},
            415: {"description": "not a signed XML, PDF, .p7s or ASiC file"},
            422: {
                "description": "no signature in the file, or the file is damaged or not allowed (a DOCTYPE)"
            },
            429: {"description": "too many checks from this address; try later"},
        }
    },
)
def verify(request, file: File[UploadedFile], detached: File[UploadedFile | None] = None):
    data, name = read_upload(file)
    other, other_name = read_upload(detached)
    report = verify_file(data or b"", name, detached=other, detached_name=other_name)
    return with_words(report.as_dict())
