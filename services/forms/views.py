"""E-form pages (server-rendered, usable without JavaScript); their JSON API is api.py. Thin: parse,
call one action or selector, render."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gisportal.core.downloads import harden
from gisportal.core.errors import GisportalError
from gisportal.core.nul import has_nul, without_nul
from services.documents.selectors import (
    document_by_code,
    documents_of_submission,
    jobs_of_submission,
    verify_json,
)
from services.payments.selectors import (
    fee_document_by_code,
    fee_document_genuine,
    fee_quote,
    payment_of_submission,
    payment_overdue,
)
from services.receipts.pdf import receipt_pdf
from services.receipts.selectors import format_code, receipt_by_code, receipt_genuine

from . import selectors
from .actions import draft_save, submission_file, submission_receipt
from .codes import case_codes
from .models import Submission
from .pending import pending_drop, pending_get, pending_keep
from .signing import signature_views
from .validation import FORM_ERROR, FormInvalid, area_upload, from_post

# fees that depend on what is chosen in the form: the page shows the quote as the choices change
QUOTED_RULES = {"pgik_table_11", "stamp_duty_zoning_extract", "stamp_duty_certificate"}


@require_GET
def service_list(request):
    return render(request, "forms/service_list.html", {"services": selectors.services_for(request.user)})


@require_http_methods(["GET", "POST"])
def service_form(request, code: str):
    service = selectors.service_active(code)
    if service is None:
        raise Http404(_("There is no such e-service."))
    if not selectors.may_file(request.user, service) and (
        request.user.is_authenticated or service.restricted
    ):
        return _forbidden_page(request, service)  # who may file it, instead of a form they cannot send
    errors: dict[str, list[str]] = {}
    if request.method == "GET":
        pending = pending_get(request.session, service.code) if request.user.is_authenticated else None
        if pending is not None:
            messages.info(
                request, _("The form holds what you entered before logging in. Check it and send it.")
            )
            if pending.get("files"):
                messages.warning(request, _("Attachments are not kept across the log-in: add them again."))
        data = selectors.initial_data(
            service, request.user, request.GET, pending=pending["data"] if pending else None
        )
        return _form_page(request, service, data, errors, key=str(uuid.uuid4()))
    if not request.user.is_authenticated:
        return _keep_and_log_in(request, service)
    data = from_post(service, request.POST)  # the multipart body is read only now, after the log-in check
    if has_nul(request.POST):  # the middleware leaves multipart bodies to us; a NUL is never stored
        return _form_page(
            request,
            service,
            without_nul(data),
            {FORM_ERROR: [_("The value holds a NUL character.")]},
            key=str(uuid.uuid4()),
            status=400,
        )
    key = request.POST.get("idempotency_key", "")[:100]
    if str(request.POST.get("version")) != str(service.version):
        errors[FORM_ERROR] = [
            _(
                "This version of the form is no longer in use. The current version is shown; check "
                "your data and send it again."
            )
        ]
        return _form_page(request, service, data, errors, key=str(uuid.uuid4()), status=409)
    if request.POST.get("action") == "draft":
        draft_save(request.user, service, data)
        pending_drop(request.session, service.code)
        messages.success(request, _("The draft has been saved. You can come back to it later."))
        return _form_page(request, service, data, errors, key=key)
    try:
        data = area_upload(service, data, request.FILES.get("work_area_file"))
        sub = submission_file(
            service, data, user=request.user, files=request.FILES.getlist("attachments"), idempotency_key=key
        )
    except FormInvalid as e:
        return _form_page(request, service, data, e.errors, key=key, status=422)
    except GisportalError as e:
        if e.status == 403:
            raise PermissionDenied(str(e.message)) from None
        return _form_page(request, service, data, {FORM_ERROR: [str(e.message)]}, key=key, status=e.status)
    pending_drop(request.session, service.code)
    return redirect("submission_detail", submission_id=sub.id)


def _keep_and_log_in(request, service):
    """A form sent before logging in: what was typed (never files) is kept in the session, and the
    form opens filled in again after the log-in, to be checked and sent; nothing is filed now."""
    data = without_nul(from_post(service, request.POST))
    if pending_keep(request.session, service.code, data, had_files=bool(request.FILES)):
        messages.info(
            request,
            _(
                "Log in to send the form. What you entered is kept: the form opens filled in again after you log in."
            ),
        )
    else:
        messages.warning(request, _("Log in to send the form. What you entered was too long to keep."))
    return redirect_to_login(reverse("service_form", args=[service.code]))


def _forbidden_page(request, service):
    return render(
        request,
        "forms/service_forbidden.html",
        {
            "service": service,
            "who": selectors.who_may_file(service),
            "form_login_url": reverse("login")
            + "?"
            + urlencode({"next": reverse("service_form", args=[service.code])}),
        },
        status=403,
    )


def _form_page(request, service, data: dict, errors: dict, *, key: str, status: int = 200):
    ctx = {
        "service": service,
        "sections": selectors.render_sections(
            service, data, errors, locked=set(selectors.verified_fields(service, request.user))
        ),
        "errors": errors,
        "form_errors": errors.get(FORM_ERROR, []),
        "idempotency_key": key,
        "attachment_errors": errors.get("attachments", []),
        "attachments": service.layout.get("attachments", {}),
        "suggestions": selectors.address_suggestions(),
        "has_area": any(f["widget"] == "area" for s in service.layout["sections"] for f in s["fields"]),
        "quote": service.fee_rule in QUOTED_RULES,
        "form_login_url": reverse("login")
        + "?"
        + urlencode({"next": reverse("service_form", args=[service.code])}),
    }
    return render(request, "forms/service_form.html", ctx, status=status)


def _own_submission(request, submission_id) -> Submission:
    sub = get_object_or_404(Submission.objects.select_related("service", "office"), id=submission_id)
    if not request.user.is_authenticated or sub.user_id != request.user.id:
        raise Http404(_("There is no such submission."))
    return sub


@require_GET
def submission_detail(request, submission_id):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    sub = _own_submission(request, submission_id)
    receipt = submission_receipt(sub)
    return render(
        request,
        "forms/submission_detail.html",
        {
            "sub": sub,
            "receipt": receipt,
            "code": format_code(receipt.verification_code),
            "case_codes": case_codes(sub.id),
            "fee": _submission_fee(sub),
            "payment": (payment := payment_of_submission(sub.id)),
            "payment_overdue": payment is not None and payment_overdue(payment),
            "documents": documents_of_submission(sub.id),
            "facts": selectors.submission_facts(sub),
            "attachments": signature_views(list(sub.attachments.order_by("id")), sub.data or {}),
            "work_area": selectors.work_area_of(sub),
            "jobs": (jobs := jobs_of_submission(sub.id)),
            "preparing": any(j.status in ("queued", "running") and j.automatic for j in jobs),
        },
    )


def _submission_fee(sub: Submission) -> dict | None:
    """The fee of a filed request as the registries stand now (None when it can no longer be quoted)."""
    try:
        quote = fee_quote(sub.service.fee_rule, sub.data, sub.office)
    except GisportalError:
        return None
    return {"quote": quote, "payee": selectors.fee_payee(sub.office, quote)}


@require_GET
def submission_receipt_file(request, submission_id, fmt: str):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    sub = _own_submission(request, submission_id)
    receipt = submission_receipt(sub)
    if fmt == "xml":
        resp = HttpResponse(bytes(receipt.xml), content_type="application/xml")
        resp["Content-Disposition"] = f'attachment; filename="UPP-{receipt.verification_code}.xml"'
        return harden(resp)
    access = case_codes(sub.id)[1] if receipt.summary.get("tracking_code") else ""  # the owner's copy only
    resp = HttpResponse(
        receipt_pdf(receipt, title=sub.service.title, access_code=access), content_type="application/pdf"
    )
    resp["Content-Disposition"] = f'inline; filename="UPP-{receipt.verification_code}.pdf"'
    return harden(resp)  # nosniff and a sandbox CSP, as on every file (gisportal/core/downloads.py)


@require_GET
def receipt_verify(request, code: str | None = None):
    """The public check of anything we sealed with a verification code: a receipt or a fee document."""
    code = code or request.GET.get("code", "")
    receipt = receipt_by_code(code) if code else None
    fee_doc = fee_document_by_code(code) if code and receipt is None else None
    issued_doc = document_by_code(code) if code and not (receipt or fee_doc) else None
    found = receipt or fee_doc or issued_doc
    ctx = {
        "asked": bool(code),
        "receipt": receipt,
        "fee_doc": fee_doc,
        "issued_doc": issued_doc,
        "issued": verify_json(issued_doc) if issued_doc else None,
        "genuine": (receipt is not None and receipt_genuine(receipt))
        or (fee_doc is not None and fee_document_genuine(fee_doc)),
        "code": format_code(found.verification_code) if found else "",
    }
    return render(request, "forms/receipt_verify.html", ctx, status=200 if found or not code else 404)
