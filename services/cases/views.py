"""Pages of the case register for clerks: the workspace (/urzad/sprawy/), paper intake, the case page; and
the public deadline calculator (their JSON API: api.py). The applicant's pages are in applicant.py."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from gisportal.core import calendar
from gisportal.core.downloads import uploaded_file_response
from gisportal.core.errors import GisportalError, InvalidInput
from gisportal.core.nul import has_nul
from services.delivery.selectors import deliveries_of_case
from services.documents.selectors import jobs_of_case
from services.exchange.actions import reachable_offices
from services.forms.actions import check_attachments
from services.forms.models import ServiceDefinition
from services.forms.validation import FormInvalid
from services.offices.models import OfficeUnit, StaffMembership
from services.offices.selectors import office_of
from services.payments.inputs import parse_amount, parse_day
from services.payments.selectors import payments_of_case
from services.signatures.pdf import report_pdf

from . import selectors
from .actions import (
    PROOF_TYPES,
    Delivery,
    case_access_code_reissue,
    case_document_add,
    case_fee_issue,
    case_note_add,
    case_outgoing_document_add,
    case_register,
    case_transfer_book,
    case_transition,
    case_transition_check,
)
from .api import parse_deadline_query
from .models import DeadlineKind, DocumentKind, State, TimelineEntry
from .states import (
    DELIVERY_METHODS,
    REISSUE_CODE,
    REISSUE_CONSEQUENCE,
    REISSUE_LABEL,
    SETTLING_KINDS,
    TEXT_VERSION,
    TRANSITIONS,
    allowed,
    entry_text,
    needs_confirmation,
)


def _clerk_office(request):
    if not request.user.has_perm("gisportal.work_cases"):
        raise PermissionDenied(_("Only office staff may work on cases."))
    office = office_of(request.user)
    if office is None:
        raise PermissionDenied(_("Your account is not attached to an office."))
    return office


@login_required
@require_GET
def inbox(request):
    office = _clerk_office(request)
    p = request.GET
    units = list(OfficeUnit.objects.filter(office=office).order_by("code"))
    unit = next((u for u in units if u.code == p.get("unit")), None)
    cases = list(
        selectors.inbox(
            office,
            unit=unit,
            flt=p.get("f", ""),
            state=p.get("state", ""),
            service=p.get("service", ""),
            q=p.get("q", ""),
            user=request.user,
        )[:300]
    )
    today = timezone.localdate()
    return render(
        request,
        "cases/inbox.html",
        {
            "office": office,
            "rows": [(c, selectors.flag(c, today)) for c in cases],
            "states": State.choices,
            "units": units,
            "services": ServiceDefinition.objects.filter(active=True).order_by("code"),
            "params": p,
            "today": today,
        },
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return super().clean(data, initial)


class PaperIntakeForm(forms.Form):
    received_on = forms.DateField(
        label=gettext_lazy("Received on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    applicant_name = forms.CharField(label=gettext_lazy("Sender (applicant)"), max_length=200)
    applicant_address = forms.CharField(
        label=gettext_lazy("Sender's address"), max_length=300, required=False
    )
    applicant_email = forms.EmailField(
        label=gettext_lazy("Sender's e-mail (for notifications)"), required=False
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=300)
    unit = forms.ModelChoiceField(label=gettext_lazy("Unit"), queryset=OfficeUnit.objects.none())
    jrwa = forms.RegexField(label=gettext_lazy("JRWA class"), regex=r"^\d{3,6}$", max_length=6)
    deadline_kind = forms.ChoiceField(
        label=gettext_lazy("Time to settle"), choices=DeadlineKind.choices, initial=DeadlineKind.ONE_MONTH
    )
    parcels = forms.CharField(
        label=gettext_lazy("Parcels concerned (identifiers, one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    scans = MultipleFileField(label=gettext_lazy("Scans (PDF, JPEG, PNG)"), required=False)

    def __init__(self, *args, office=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OfficeUnit.objects.filter(office=office)

    def clean_received_on(self):
        d = self.cleaned_data["received_on"]
        if d > timezone.localdate():
            raise forms.ValidationError(_("The date of receipt cannot be in the future."))
        return d


@login_required
@require_http_methods(["GET", "POST"])
def paper_intake(request):
    office = _clerk_office(request)
    if not request.user.has_perm("gisportal.register_paper_mail"):
        raise PermissionDenied(_("You may not register incoming mail."))
    form = PaperIntakeForm(
        request.POST or None,
        request.FILES or None,
        office=office,
        initial={"received_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            scans = check_attachments({"max_files": 20}, request.FILES.getlist("scans"))
        except FormInvalid as e:
            form.add_error("scans", " ".join(e.errors.get("attachments", [])))
        else:
            parcels = [x.strip() for x in d["parcels"].split() if x.strip()]
            case, access = case_register(
                office=office,
                unit=d["unit"],
                jrwa=d["jrwa"],
                subject=d["subject"],
                channel="paper",
                applicant_name=d["applicant_name"],
                applicant_address=d["applicant_address"],
                applicant_email=d["applicant_email"],
                received_on=d["received_on"],
                deadline_kind=d["deadline_kind"],
                parcels=parcels,
                actor=request.user,
            )
            for name, mime, content in scans:
                case_document_add(
                    case,
                    name=name,
                    content_type=mime,
                    content=content,
                    direction="in",
                    actor=request.user,
                    kind="scan",
                )
            request.session[f"case-access-{case.pk}"] = access  # shown once, on the printed confirmation
            return redirect("case_intake_confirmation", case_id=case.pk)
    return render(
        request,
        "cases/paper_intake.html",
        {"form": form, "office": office},
        status=422 if form.errors else 200,
    )


@login_required
@require_GET
def intake_confirmation(request, case_id: int):
    office = _clerk_office(request)
    case = selectors.office_case(office, case_id)
    if case is None:
        raise Http404(_("There is no such case."))
    access = request.session.pop(f"case-access-{case.pk}", None)
    return render(
        request,
        "cases/intake_confirmation.html",
        {
            "case": case,
            "access": access,
            "status_url": settings.GISPORTAL_PUBLIC_URL
            + reverse("case_status")
            + "?"
            + urlencode({"ref": case.tracking_code}),
        },
    )


# the inputs of a transition a confirmation page carries over (hidden fields) to the confirmed POST
CARRIED = (
    "note",
    "assignee",
    "due_days",
    "forwarded_to",
    "forward_office",
    "new_date",
    "document",
    "method",
    "delivered_on",
    "tracking_no",
)


@login_required
@require_http_methods(["GET", "POST"])
def case_page(request, case_id: int):
    office = _clerk_office(request)
    case = selectors.office_case(office, case_id)
    if case is None:
        raise Http404(_("There is no such case."))
    if request.method == "POST":
        if has_nul(request.POST):  # a multipart body is not checked by the middleware; a NUL is never stored
            messages.error(request, _("The value holds a NUL character."))
            return redirect("case_page", case_id=case.pk)
        try:
            return _case_post(request, office, case)
        except FormInvalid as e:
            error = " ".join(m for ms in e.errors.values() for m in ms) or str(e.message)
            return _case_view(request, case, error=error, status=e.status)
        except GisportalError as e:
            status = e.status if 400 <= e.status < 500 else 400
            return _case_view(request, case, error=str(e.message), status=status)
    return _case_view(request, case)


def _case_post(request, office, case):
    """One step on the case; destructive ones (states.needs_confirmation) first answer with a
    confirmation page and act only on a POST carrying confirm=1 (no JavaScript needed)."""
    p, user = request.POST, request.user
    action = p.get("action", "")
    confirmed = p.get("confirm") == "1"
    if action == "fee":
        case_fee_issue(
            case.pk,
            actor=user,
            key=p.get("key", "")[:80],
            pages=_int(p.get("pages")),
            parts=_int(p.get("parts")),
            lines=_fee_lines(p),
            legal_basis=p.get("legal_basis", "")[:300],
        )
    elif action == "note":
        case_note_add(case.pk, actor=user, note=p.get("note", ""), public=bool(p.get("public")))
    elif action == "transfer":
        outcome = case_transfer_book(
            case.pk,
            _uuid(p.get("payment")),
            actor=user,
            amount=parse_amount(p.get("amount")),
            booked_on=parse_day(p.get("booked_on")),
            reference=p.get("reference", ""),
        )
        if outcome == "mismatch":
            messages.warning(
                request, _("The amount differs from the fee document: recorded for review, not settled.")
            )
            return redirect("case_page", case_id=case.pk)
    elif action == "document":
        name, mime, content = _one_file(request, "file", required=True)
        case_outgoing_document_add(
            case.pk, actor=user, kind=p.get("kind", ""), name=name, content_type=mime, content=content
        )
    elif action == REISSUE_CODE:
        if not confirmed:
            return _confirm(request, case, action, label=REISSUE_LABEL, consequence=REISSUE_CONSEQUENCE)
        access = case_access_code_reissue(case.pk, actor=user)
        request.session[f"case-access-{case.pk}"] = access  # shown once, on the printable confirmation
        return redirect("case_intake_confirmation", case_id=case.pk)
    else:
        inputs = _transition_inputs(request, office)
        if needs_confirmation(action) and not confirmed:
            facts = case_transition_check(case.pk, action, actor=user, **inputs)
            t = TRANSITIONS[action]
            return _confirm(request, case, action, label=t.label, consequence=t.consequence, facts=facts)
        case_transition(case.pk, action, actor=user, **inputs)
    messages.success(request, _("Done."))
    return redirect("case_page", case_id=case.pk)


def _transition_inputs(request, office) -> dict:
    p = request.POST
    assignee = None
    if p.get("assignee"):
        m = (
            StaffMembership.objects.filter(office=office, user_id=_pk(p.get("assignee")))
            .select_related("user")
            .first()
        )
        assignee = m.user if m else None
    delivery = None
    if p.get("action") == "deliver":
        proof = _one_file(request, "proof") if request.FILES.getlist("proof") else None
        delivery = Delivery(
            method=p.get("method", ""),
            delivered_on=_date(p.get("delivered_on")),
            tracking_no=p.get("tracking_no", "")[:40],
            proof=proof,
        )
    return {
        "note": p.get("note", "")[:2000],
        "assignee": assignee,
        "due_days": _int(p.get("due_days")),
        # an office the hub can reach gets the case electronically ("office:<code>"); another is named in words
        "forwarded_to": (
            f"office:{p['forward_office'][:60]}" if p.get("forward_office") else p.get("forwarded_to", "")
        )[:200],
        "new_date": _date(p.get("new_date")),
        "document": p.get("document", "")[:80] or None,
        "delivery": delivery,
    }


def _one_file(request, field: str, *, required: bool = False) -> tuple[str, str, bytes]:
    """The one uploaded file of `field` (PDF, JPEG or PNG, content checked), or an error."""
    files = check_attachments({"max_files": 1, "required": required}, request.FILES.getlist(field))
    if not files:
        raise InvalidInput(_("Attach the file."))
    name, mime, content = files[0]
    if mime not in PROOF_TYPES:
        raise InvalidInput(_("Attach a PDF, JPEG or PNG file."))
    return name, mime, content


def _confirm(request, case, action: str, *, label, consequence, facts: dict | None = None):
    """The confirmation page: what will happen, what will be recorded, Confirm (POST confirm=1) or Cancel."""
    p = request.POST
    record = ""
    if facts is not None:
        t = TRANSITIONS[action]
        entry = TimelineEntry(case=case, action=action, public=t.public, data={"v": TEXT_VERSION, **facts})
        entry.data["note"] = p.get("note", "").strip()
        record = entry_text(entry)
    method = p.get("method", "") if action == "deliver" else ""
    return render(
        request,
        "cases/confirm.html",
        {
            "case": case,
            "action": action,
            "label": label,
            "consequence": consequence,
            "record": record,
            "carried": [(k, p[k]) for k in CARRIED if p.get(k)],
            "proof": method in DELIVERY_METHODS and method != "portal",
            "proof_required": selectors.delivery_proof_needed(method),
        },
    )


def _case_view(request, case, *, error: str = "", status: int = 200):
    office = case.office
    staff = StaffMembership.objects.filter(office=office).select_related("user").order_by("user__last_name")
    payments = payments_of_case(case.pk)
    may_pay = request.user.has_perm("gisportal.handle_payments")
    return render(
        request,
        "cases/case.html",
        {
            "case": case,
            "error": error,
            "flag": selectors.flag(case),
            "actions": allowed(case.state),
            "staff": staff,
            "timeline": selectors.clerk_timeline(case),
            "documents": case.documents.order_by("added_at"),
            "pauses": case.pauses.all(),
            "bbox": _bbox(case),
            "payments": payments,
            "payable": [p for p in payments if p.status in ("due", "pending", "failed")] if may_pay else [],
            "today": timezone.localdate(),
            "jobs": jobs_of_case(case.pk),
            "form_sections": selectors.form_sections(case),
            "receipt": selectors.case_receipt(case),
            "attachments": selectors.case_attachment_views(case),
            "deliveries": deliveries_of_case(case.pk),
            "reachable": reachable_offices(case.office),
            "settling": selectors.settling_documents(case) if case.state == State.IN_PROGRESS else [],
            "product": selectors.product_case(case),
            "methods": [(k, v[0]) for k, v in DELIVERY_METHODS.items()],
            "settling_kinds": [(k, DocumentKind(k).label) for k in SETTLING_KINDS],
            "reissue": REISSUE_CODE,
            "fee_form": may_pay
            and case.state in (State.REGISTERED, State.ASSIGNED, State.IN_PROGRESS)
            and not any(p.status in ("due", "pending", "failed") for p in payments)
            and bool(case.service and case.service.fee_rule and case.service.fee_rule != "free"),
            "fee_rule": case.service.fee_rule if case.service else "",
            "fee_key": uuid.uuid4().hex,
        },
        status=status,
    )


def _int(value) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 5:
        raise GisportalError(_("Give a whole number."))
    return int(value)


def _fee_lines(post) -> list[dict] | None:
    """Lines the clerk computed (materials: base rate × units × coefficients), or None."""
    lines = []
    for n in (1, 2, 3):
        label = post.get(f"line_label_{n}", "").strip()
        if not label:
            continue
        try:
            quantity = int(post.get(f"line_qty_{n}", "1") or "1")
            price = Decimal(post.get(f"line_price_{n}", "").replace(",", ".").strip())
        except (ValueError, InvalidOperation):
            raise GisportalError(
                _("Give the quantity as a whole number and the unit price in złoty.")
            ) from None
        if not (1 <= quantity <= 100000) or not price.is_finite() or price <= 0 or price > 100000:
            raise GisportalError(_("Give the quantity as a whole number and the unit price in złoty."))
        lines.append(
            {"label": label[:200], "quantity": quantity, "unit_price": price, "amount": price * quantity}
        )
    return lines or None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _pk(value) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 12 else None


def _uuid(value):
    try:
        return uuid.UUID(str(value or ""))
    except ValueError:
        raise GisportalError(_("Choose a fee document of this case.")) from None


@login_required
@require_GET
def case_document(request, case_id: int, doc_id):
    office = _clerk_office(request)
    case = selectors.office_case(office, case_id)
    doc = case.documents.filter(id=doc_id).first() if case else None
    if doc is None:
        raise Http404(_("There is no such document."))
    # never a page of our origin: a download unless PDF/PNG/JPEG, always nosniff and a sandbox CSP
    return uploaded_file_response(doc.file.open("rb"), content_type=doc.content_type, filename=doc.name)


@login_required
@require_GET
def case_attachment(request, case_id: int, attachment_id: int):
    """A file attached to the case's filed form, for the clerks of the case's office only."""
    office = _clerk_office(request)
    case = selectors.office_case(office, case_id)
    att = selectors.case_attachment(case, attachment_id) if case else None
    if att is None:
        raise Http404(_("There is no such document."))
    return uploaded_file_response(att.file.open("rb"), content_type=att.content_type, filename=att.name)


@require_GET
def case_attachment_signature_pdf(request, case_id: int, attachment_id: int):
    """The report on an attachment's signatures as PDF, for the case file (the case's office only)."""
    office = _clerk_office(request)
    case = selectors.office_case(office, case_id)
    att = selectors.case_attachment(case, attachment_id) if case else None
    check = (att.signature_check or {}) if att is not None else {}
    if check.get("status") != "verified":
        raise Http404(_("There is no such document."))
    resp = HttpResponse(report_pdf(check["report"]), content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="podpis-{att.sha256[:12]}.pdf"'
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


def _bbox(case) -> str:
    if case.location is None:
        return ""
    x0, y0, x1, y1 = case.location.extent
    pad = max(x1 - x0, y1 - y0, 60) * 0.6
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return f"{cx - pad * 1.5:.1f},{cy - pad:.1f},{cx + pad * 1.5:.1f},{cy + pad:.1f}"


@require_GET
def deadline_page(request):
    result, error = None, ""
    if request.GET.get("start"):
        try:
            start, amount, unit = parse_deadline_query(request.GET)
            result = calendar.explain(start, amount, unit)
        except GisportalError as e:
            error = str(e.message)
    return render(
        request,
        "cases/deadline.html",
        {"result": result, "error": error, "params": request.GET},
        status=400 if error else 200,
    )
