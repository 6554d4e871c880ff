"""Pages of issued documents: the download for its owner and the office, the original behind a public
verification code (documents without personal data), the check of an uploaded copy, and the clerk's
preview and issuing from the case page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gisportal.core.downloads import harden
from gisportal.core.errors import GisportalError
from services.offices.sealing import format_code

from . import actions, selectors
from .models import IssuedDocument


def _pdf(data: bytes, name: str) -> HttpResponse:
    resp = HttpResponse(bytes(data), content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return harden(resp)


@require_GET
def document_download(request, document_id):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    doc = IssuedDocument.objects.filter(pk=document_id).first()
    if doc is None or not selectors.may_download(doc, request.user):
        raise Http404(_("There is no such document."))
    wait = selectors.held_back(doc, request.user)
    if wait:  # delivered through the inbox: it opens once its receipt is confirmed
        return redirect(wait)
    return _pdf(doc.pdf, doc.number.replace("/", "-"))


@require_GET
def document_original(request, code: str):
    doc = selectors.document_by_code(code)
    if doc is None or selectors.personal(doc):
        raise Http404(_("There is no such document."))
    return _pdf(doc.pdf, doc.number.replace("/", "-"))


@require_POST
def document_check_copy(request, code: str):
    doc = selectors.document_by_code(code)
    if doc is None:
        raise Http404(_("There is no such document."))
    upload = request.FILES.get("file")
    result = selectors.check_copy(doc, upload.read(selectors.MAX_COPY + 1)) if upload else None
    return render(
        request,
        "documents/check_copy.html",
        {"doc": doc, "result": result, "code": format_code(doc.verification_code)},
        status=200 if upload else 400,
    )


@login_required
@require_POST
def document_correction(request, document_id):
    """A clerk starts a correction of an issued document (a new document naming the one it replaces)."""
    try:
        job = actions.document_correct(document_id, actor=request.user)
    except GisportalError as e:
        raise Http404(str(e.message)) from None
    messages.success(request, _("A correction is prepared: review it and issue it."))
    return redirect("case_page", case_id=job.case_id) if job.case_id else redirect("case_inbox")


@login_required
@require_GET
def job_preview(request, job_id):
    try:
        job = actions.job_for_clerk(job_id, request.user)
        data = actions.preview_pdf(job, actor=request.user)
    except GisportalError as e:
        raise Http404(str(e.message)) from None
    return _pdf(data, f"projekt-{job.kind}")


@login_required
@require_http_methods(["POST"])
def job_issue(request, job_id):
    try:
        job = actions.job_for_clerk(job_id, request.user)
    except GisportalError as e:
        raise Http404(str(e.message)) from None
    try:
        if job.kind == "egib_wypis_full" and request.POST.get("legal_basis", "").strip():
            from .models import DocumentJob

            params = {**job.params, "legal_basis": request.POST["legal_basis"].strip()[:500]}
            DocumentJob.objects.filter(pk=job.pk).update(params=params)
        actions.document_issue(job.pk, actor=request.user, free_text=request.POST.get("free_text"))
        messages.success(request, _("The document is issued."))
    except GisportalError as e:
        messages.error(request, str(e.message))
    return redirect("case_page", case_id=job.case_id) if job.case_id else redirect("case_inbox")
