"""Payment pages for people (usable without JavaScript): the payer's page with the fee document and
the ways to pay, the page the payer comes back to, the sandbox gateway's hosted page, the documents,
and the clerks' payments page. Thin: parse, call one action or selector, render."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gisportal.core.downloads import harden
from gisportal.core.errors import GisportalError
from services.offices.sealing import format_code
from services.offices.selectors import office_of

from . import actions, document, selectors
from .inputs import parse_amount, parse_day
from .models import Attempt, Discrepancy, Payment, ReconciliationRun
from .providers import gateways_enabled

PROVIDER_LABELS = {"sandbox": "Sandbox (płatność testowa)", "przelewy24": "Przelewy24"}


def _own(request, payment_id) -> Payment:
    payment = selectors.payment_get(payment_id)
    if payment is None or payment.document.applicant_user_id != request.user.pk:
        raise Http404(_("There is no such payment."))
    return payment


def _context(payment: Payment, **extra) -> dict:
    doc = payment.document
    return {
        "payment": payment,
        "doc": doc,
        "code": format_code(doc.verification_code),
        "account": document.format_iban(doc.account),
        "overdue": selectors.payment_overdue(payment),
        "providers": [(p, PROVIDER_LABELS.get(p, p)) for p in gateways_enabled()],
        "payable": payment.status in (Payment.Status.DUE, Payment.Status.FAILED, Payment.Status.PENDING),
        **extra,
    }


@require_http_methods(["GET", "POST"])
def payment_page(request, payment_id):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    payment = _own(request, payment_id)
    if request.method == "GET":
        return render(request, "payments/payment.html", _context(payment))
    try:
        url = actions.payment_start(payment.pk, request.POST.get("provider", ""), user=request.user)
    except GisportalError as e:
        payment = _own(request, payment_id)
        return render(
            request, "payments/payment.html", _context(payment, error=str(e.message)), status=e.status
        )
    return redirect(url)


@require_GET
def payment_return(request, payment_id):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    payment = _own(request, payment_id)
    attempt = (
        payment.attempts.filter(pk=_uuid(request.GET.get("a"))).first() if request.GET.get("a") else None
    )
    if attempt is not None and attempt.status == Attempt.Status.PENDING:
        actions.attempt_refresh(attempt)  # the notification may not have come yet: ask the gateway
        payment = _own(request, payment_id)
        attempt.refresh_from_db()
    return render(request, "payments/return.html", _context(payment, attempt=attempt))


def _uuid(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@require_GET
def payment_document(request, payment_id, fmt: str):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    payment = selectors.payment_get(payment_id)
    if payment is None or not selectors.may_see_payment(payment, request.user) or fmt not in ("pdf", "xml"):
        raise Http404(_("There is no such payment."))
    doc = payment.document
    name = doc.number.replace("/", "-")
    if fmt == "xml":
        resp = HttpResponse(bytes(doc.xml), content_type="application/xml")
        resp["Content-Disposition"] = f'attachment; filename="{name}.xml"'
    else:
        resp = HttpResponse(document.pdf(selectors.fee_document_data(doc)), content_type="application/pdf")
        resp["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return harden(resp)


@require_http_methods(["GET", "POST"])
def payment_sandbox(request, payment_id):
    """The sandbox gateway's hosted page (it stands for the gateway's own site)."""
    if "sandbox" not in gateways_enabled():
        raise Http404(_("There is no such payment gateway."))
    from .models import SandboxTransaction

    session = (request.POST.get("s") or request.GET.get("s") or "")[:100]
    if "\x00" in session:  # PostgreSQL cannot even compare a NUL
        raise Http404(_("There is no such payment."))
    tx = SandboxTransaction.objects.filter(payment_id=payment_id, session_id=session).first()
    if tx is None:
        raise Http404(_("There is no such payment."))
    if request.method == "POST":
        try:
            url = actions.sandbox_choose(payment_id, session, request.POST.get("outcome", ""))
        except GisportalError as e:
            raise Http404(str(e.message)) from None
        return redirect(url)
    return render(request, "payments/sandbox.html", {"tx": tx, "amount": Decimal(tx.amount) / 100})


# ------------------------------------------------------------------ clerks


def _clerk_office(request):
    if not request.user.has_perm("gisportal.handle_payments"):
        raise PermissionDenied(_("Only office staff may handle payments."))
    office = office_of(request.user)
    if office is None:
        raise PermissionDenied(_("Your account is not attached to an office."))
    return office


@login_required
@require_http_methods(["GET", "POST"])
def office_payments(request):
    office = _clerk_office(request)
    if request.method == "POST":
        try:
            actions.discrepancy_resolve(
                int(request.POST.get("discrepancy", "0") or 0),
                actor=request.user,
                resolution=request.POST.get("resolution", ""),
            )
            messages.success(request, _("The difference is marked as resolved."))
        except (GisportalError, ValueError) as e:
            messages.error(request, str(getattr(e, "message", _("Invalid input."))))
        return redirect("office_payments")
    status = request.GET.get("status", "")
    qs = (
        Payment.objects.select_related("document")
        .filter(document__office=office)
        .order_by("-document__issued_at")
    )
    if status in Payment.Status.values:
        qs = qs.filter(status=status)
    today = timezone.localdate()
    return render(
        request,
        "payments/office.html",
        {
            "office": office,
            "rows": [(p, selectors.payment_overdue(p, today)) for p in qs[:300]],
            "statuses": Payment.Status.choices,
            "status": status,
            "open": Discrepancy.objects.filter(office=office, resolved_at__isnull=True).select_related(
                "payment__document"
            ),
            "resolved": Discrepancy.objects.filter(office=office, resolved_at__isnull=False)[:20],
            "runs": ReconciliationRun.objects.all()[:10],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def office_payment(request, payment_id):
    office = _clerk_office(request)
    payment = selectors.payment_get(payment_id)
    if payment is None or payment.document.office_id != office.pk:
        raise Http404(_("There is no such payment."))
    status = 200
    if request.method == "POST":
        p = request.POST
        try:
            action = p.get("action")
            if action == "transfer":
                outcome = actions.payment_transfer_book(
                    payment.pk,
                    actor=request.user,
                    amount=parse_amount(p.get("amount")),
                    booked_on=parse_day(p.get("booked_on")),
                    statement=p.get("statement", ""),
                )
                if outcome == "mismatch":
                    messages.warning(
                        request,
                        _("The amount differs from the fee document: recorded for review, not settled."),
                    )
                else:
                    messages.success(request, _("The transfer is booked."))
            elif action == "refund":
                actions.payment_refund(
                    payment.pk,
                    actor=request.user,
                    amount=parse_amount(p.get("amount")),
                    reason=p.get("reason", ""),
                    attempt_id=_uuid(p.get("attempt")) if p.get("attempt") else None,
                )
                messages.success(request, _("The refund is recorded."))
            elif action == "cancel":
                actions.payment_cancel(payment.pk, actor=request.user, reason=p.get("reason", ""))
                messages.success(request, _("The fee document is cancelled."))
            else:
                raise GisportalError(_("Unknown action."))
            return redirect("office_payment", payment_id=payment.pk)
        except GisportalError as e:
            messages.error(request, str(e.message))
            status = e.status if 400 <= e.status < 500 else 400
        payment = selectors.payment_get(payment_id)
    return render(
        request,
        "payments/office_payment.html",
        {
            **_context(payment),
            "attempts": payment.attempts.all(),
            "events": [e for a in payment.attempts.all() for e in a.events.all()],
            "refunds": payment.refunds.all(),
            "discrepancies": payment.discrepancies.all(),
            "today": timezone.localdate(),
        },
        status=status,
    )
