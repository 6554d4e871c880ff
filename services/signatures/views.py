"""The public signature check (/podpis/): upload a signed file (and the signed file of a detached signature),
read the verdict in words, download the report as PDF. Nothing of the file is stored: the report (plain
values, Report.as_dict()) is kept in the cache for an hour under a random token, for the PDF only.

Each client address has a budget of checks (every attempt counts). The upload is limited before it is
read: a body larger than two files' limit is refused unread, and a file passing the limit stops the upload
(so the view is CSRF-exempt outside and CSRF-protected inside: the upload handler has to be in place before
anything reads the body, and the CSRF check reads it)."""

from __future__ import annotations

import re
import secrets

from django.core.cache import cache
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from gisportal.core.downloads import harden
from gisportal.core.errors import GisportalError

from .api import over_budget
from .pdf import report_pdf
from .report import with_words
from .verify import MAX_FILE, FileTooLarge, verify_file

REPORT_SECONDS = 3600  # how long the report of a check can be downloaded as PDF
MAX_BODY = 2 * MAX_FILE + 256 * 1024  # the signature, the signed file and the form's few fields
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class _Limit(FileUploadHandler):
    """First of the upload handlers: stops the upload as soon as one file passes MAX_FILE."""

    def __init__(self, request=None):
        super().__init__(request)
        self.size = 0
        self.too_large = False

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.size = 0

    def receive_data_chunk(self, raw_data, start):
        self.size += len(raw_data)
        if self.size > MAX_FILE:
            self.too_large = True
            raise StopUpload(connection_reset=False)  # the rest is read and dropped, never kept
        return raw_data

    def file_complete(self, file_size):
        return None


def _client(request) -> str:
    return request.META.get("REMOTE_ADDR", "?")


def _too_large_text() -> str:
    return _("The file is too large to check (at most %(n)s MB).") % {"n": MAX_FILE // 1024**2}


def _name(upload) -> str:
    return (upload.name or "").replace("\x00", "")[-200:]


def _key(token: str) -> str:
    return f"gisportal:signature-report:{token}"


@csrf_exempt
@require_http_methods(["GET", "POST"])
def signature_check(request):
    if request.method != "POST":
        return _page(request)
    if over_budget(_client(request)):  # one budget with the API's checks
        return _page(request, error=_("Too many checks. Try again in a few minutes."), status=429)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return _page(request, error=_too_large_text(), status=413)
    limit = _Limit(request)
    request.upload_handlers.insert(0, limit)
    return _check(request, limit)


@csrf_protect
def _check(request, limit: _Limit):
    files = request.FILES  # already read by the CSRF check; reading it runs the upload handlers
    if limit.too_large:
        return _page(request, error=_too_large_text(), status=413)
    upload = files.get("file")
    if upload is None:
        return _page(request, error=_("Choose the signed file to check."), status=400)
    other = files.get("detached")
    try:
        if upload.size > MAX_FILE or (other is not None and other.size > MAX_FILE):
            raise FileTooLarge(_too_large_text())
        report = verify_file(
            upload.read(),
            _name(upload),
            detached=other.read() if other is not None else None,
            detached_name=_name(other) if other is not None else "",
        ).as_dict()
    except GisportalError as e:
        return _page(request, error=str(e.message), status=e.status)
    token = secrets.token_urlsafe(24)
    cache.set(_key(token), report, timeout=REPORT_SECONDS)
    return _page(request, report=with_words(report), token=token)


def mark_own(report: dict, user) -> dict:
    """Each signature marked `you` when its signer's PESEL is the one login.gov.pl confirmed for `user`."""
    pesel = getattr(user, "pesel", None) if getattr(user, "identity_verified", False) else None
    for sig in report.get("signatures", []):
        signer = sig.get("signer") or {}
        sig["you"] = (
            bool(pesel) and signer.get("identifier_kind") == "PESEL" and signer.get("identifier") == pesel
        )
    return report


def _page(request, *, error: str = "", status: int = 200, report: dict | None = None, token: str = ""):
    if report is not None:
        report = mark_own(report, request.user)
    response = render(
        request,
        "signatures/verify.html",
        {"error": error, "report": report, "token": token},
        status=status,
    )
    if report is not None:
        response["Cache-Control"] = "no-store"  # the signer's data: not kept by the browser or a proxy
    return response


@require_GET
def signature_report_pdf(request, token: str):
    """The report of a check made in the last hour, as PDF in the reader's language (a download)."""
    report = cache.get(_key(token)) if _TOKEN.match(token) else None
    if not isinstance(report, dict):
        raise Http404(_("This report is no longer available: check the file again."))
    language = get_language() or "pl"
    pdf_key = f"{_key(token)}:pdf:{language}"
    data = cache.get(pdf_key)
    if data is None:
        data = report_pdf(report, language=language)
        cache.set(pdf_key, data, timeout=REPORT_SECONDS)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="raport-podpisu.pdf"'
    response["Cache-Control"] = "no-store"
    return harden(response)
