"""The applicant's pages: my cases, one case ("my case": its stage in plain words, documents, payments,
deadlines and what the applicant can do now), the public status page and re-issuing an access code.

Thin views: each parses the request, calls one selector or action and renders. Another person's case
answers 404, the same as a case that does not exist."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gisportal.core.downloads import uploaded_file_response
from gisportal.core.errors import GisportalError
from gisportal.core.nul import has_nul, without_nul
from services.delivery.selectors import deliveries_of_case

from . import selectors
from .actions import case_access_code_reissue, case_supplement_answer, case_withdraw_by_applicant
from .delivering import held_back
from .models import State
from .states import ACTIVE, TRANSITIONS


@login_required
@require_GET
def my_cases(request):
    return render(
        request,
        "cases/my_cases.html",
        {
            "cases": selectors.applicant_cases(request.user),
            "pending": selectors.applicant_submissions_without_case(request.user),
        },
    )


def _case_or_404(request, case_id: int):
    case = selectors.applicant_case(request.user, case_id)
    if case is None:
        raise Http404(_("There is no such case."))
    return case


# More of "My case" from services the case register does not import (the surveyor's materials package and
# results): each callable (case, user) -> a dict added to the page's context; registered at start-up.
MY_CASE_PANELS: list = []


@login_required
@require_http_methods(["GET", "POST"])
def my_case(request, case_id: int):
    case = _case_or_404(request, case_id)
    if request.method == "POST":
        return _my_case_action(request, case)
    docs = selectors.applicant_documents(case)
    return render(
        request,
        "cases/my_case.html",
        {
            "case": case,
            "active": case.state in ACTIVE,
            "timeline": selectors.public_timeline(case),
            "access_code": selectors.access_code_current(case),
            "may_answer": case.state == State.WAITING_APPLICANT,
            "may_withdraw": case.state in TRANSITIONS["withdraw"].sources,
            "to_pay": [p for p in docs["payments"] if p.status in ("due", "failed", "pending")],
            "status_url": settings.GISPORTAL_PUBLIC_URL + reverse("case_status"),
            "deliveries": deliveries_of_case(case.pk),
            **docs,
            **{k: v for panel in MY_CASE_PANELS for k, v in panel(case, request.user).items()},
        },
    )


def _my_case_action(request, case):
    action = request.POST.get("action", "")
    if has_nul(request.POST):  # a multipart body is not checked by the middleware
        messages.error(request, _("The value holds a NUL character."))
        return redirect("my_case", case_id=case.pk)
    try:
        if action == "answer":
            case_supplement_answer(
                case.pk,
                user=request.user,
                text=request.POST.get("text", ""),
                files=request.FILES.getlist("files"),
            )
            messages.success(request, _("Your answer has been delivered to the office."))
        elif action == "withdraw":
            if request.POST.get("confirm") != "1":  # the confirmation page first (no JavaScript needed)
                return render(request, "cases/my_case_withdraw.html", {"case": case})
            case_withdraw_by_applicant(case.pk, user=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("Your request has been withdrawn."))
        elif action == "access_code":
            access = case_access_code_reissue(case.pk, actor=request.user)
            if case.applicant_email:
                text = _(
                    "A new access code has been sent to %(email)s. The previous one no longer works."
                ) % {"email": case.applicant_email}
            else:  # no address to send it to: shown once, here
                text = _("Your new access code is %(code)s. Note it down: it is not shown again.") % {
                    "code": access
                }
            messages.success(request, text)
        else:
            messages.error(request, _("Unknown action."))
    except GisportalError as e:
        errors = getattr(e, "errors", None)
        if isinstance(errors, dict):  # a bad attachment: the e-forms' messages, each said
            for problems in errors.values():
                for p in problems:
                    messages.error(request, str(p))
        else:
            messages.error(request, str(e.message))
    return redirect("my_case", case_id=case.pk)


@login_required
@require_GET
def my_case_document(request, case_id: int, doc_id):
    case = _case_or_404(request, case_id)
    doc = selectors.applicant_document(case, doc_id)
    if doc is None:
        raise Http404(_("There is no such document."))
    wait = held_back(f"case:{doc.pk}", request.user)
    if wait:  # delivered through the inbox: it opens once its receipt is confirmed
        return redirect(wait)
    return uploaded_file_response(doc.file.open("rb"), content_type=doc.content_type, filename=doc.name)


def _client(request) -> str:
    return request.META.get("REMOTE_ADDR", "?")


@require_http_methods(["GET", "POST"])
def status_page(request):
    """The status for a sign or tracking code and its access code; also the form that sends a new access
    code to the e-mail address given in the request (the same answer whether it matched or not)."""
    status, error, code, sent = None, "", 200, False
    reference = without_nul(request.POST.get("reference", "") or request.GET.get("ref", ""))[:60]
    if request.method == "POST":
        if selectors.throttled(_client(request)):
            error, code = _("Too many attempts. Try again in a few minutes."), 429
        elif has_nul(request.POST):
            error, code = _("The value holds a NUL character."), 400
        elif request.POST.get("action") == "reissue":
            case = selectors.reissue_lookup(reference, request.POST.get("email", ""))
            if case is not None:
                try:
                    case_access_code_reissue(case.pk)
                except GisportalError:
                    pass  # the daily limit: the answer stays the same
            sent = True
        else:
            case = selectors.status_lookup(reference, request.POST.get("access_code", ""))
            if case is None:
                error = _("No case matches this sign or tracking code and access code.")
            else:
                status = selectors.public_status(case)
    return render(
        request,
        "cases/status.html",
        {"status": status, "error": error, "reference": reference, "sent": sent},
        status=code,
    )
