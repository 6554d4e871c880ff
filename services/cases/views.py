"""Pages of the case register: the clerk workspace (/urzad/sprawy/), paper intake, the applicant's
cases, the public status page and the deadline calculator (their JSON API: api.py)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from gisportal.core.downloads import uploaded_file_response
from gisportal.core.errors import GisportalError
from gisportal.core.nul import has_nul, without_nul
from services.documents.selectors import jobs_of_case
from services.forms.actions import check_attachments
from services.forms.models import ServiceDefinition
from services.forms.validation import FormInvalid
from services.offices.models import OfficeUnit, StaffMembership
from services.offices.selectors import office_of
from services.payments.selectors import payments_of_case

from . import calendar, selectors
from .actions import case_document_add, case_fee_issue, case_note_add, case_register, case_transition
from .api import parse_deadline_query
from .models import DeadlineKind, State
from .states import allowed


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
                    case, name=name, content_type=mime, content=content, direction="in", actor=request.user
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
    return render(request, "cases/intake_confirmation.html", {"case": case, "access": access})


@login_required
@require_http_methods(["GET", "POST"])
def case_page(request, case_id: int):
    office = _clerk_office(request)
    case = selectors.office_case(office, case_id)
    if case is None:
        raise Http404(_("There is no such case."))
    if request.method == "POST":
        action = request.POST.get("action", "")
        if has_nul(request.POST):  # a multipart body is not checked by the middleware; a NUL is never stored
            messages.error(request, _("The value holds a NUL character."))
            return redirect("case_page", case_id=case.pk)
        try:
            if action == "fee":
                case_fee_issue(
                    case.pk,
                    actor=request.user,
                    key=request.POST.get("key", "")[:80],
                    pages=_int(request.POST.get("pages")),
                    parts=_int(request.POST.get("parts")),
                    lines=_fee_lines(request.POST),
                    legal_basis=request.POST.get("legal_basis", "")[:300],
                )
            elif action == "note":
                case_note_add(
                    case.pk,
                    actor=request.user,
                    note=request.POST.get("note", ""),
                    public=bool(request.POST.get("public")),
                )
            else:
                assignee = None
                if request.POST.get("assignee"):
                    m = (
                        StaffMembership.objects.filter(office=office, user_id=request.POST["assignee"])
                        .select_related("user")
                        .first()
                    )
                    assignee = m.user if m else None
                due = request.POST.get("due_days")
                case_transition(
                    case.pk,
                    action,
                    actor=request.user,
                    note=request.POST.get("note", ""),
                    assignee=assignee,
                    due_days=int(due) if due and due.isdigit() else None,
                    forwarded_to=request.POST.get("forwarded_to", ""),
                    new_date=_date(request.POST.get("new_date")),
                )
            messages.success(request, _("Done."))
        except GisportalError as e:
            messages.error(request, str(e.message))
        return redirect("case_page", case_id=case.pk)
    staff = StaffMembership.objects.filter(office=office).select_related("user").order_by("user__last_name")
    payments = payments_of_case(case.pk)
    return render(
        request,
        "cases/case.html",
        {
            "case": case,
            "flag": selectors.flag(case),
            "actions": allowed(case.state),
            "staff": staff,
            "timeline": case.timeline.select_related("actor"),
            "documents": case.documents.all(),
            "pauses": case.pauses.all(),
            "bbox": _bbox(case),
            "payments": payments,
            "jobs": jobs_of_case(case.pk),
            "fee_form": request.user.has_perm("gisportal.handle_payments")
            and case.state in (State.REGISTERED, State.ASSIGNED, State.IN_PROGRESS)
            and not any(p.status in ("due", "pending", "failed") for p in payments)
            and bool(case.service and case.service.fee_rule and case.service.fee_rule != "free"),
            "fee_rule": case.service.fee_rule if case.service else "",
            "fee_key": uuid.uuid4().hex,
        },
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


def _bbox(case) -> str:
    if case.location is None:
        return ""
    x0, y0, x1, y1 = case.location.extent
    pad = max(x1 - x0, y1 - y0, 60) * 0.6
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return f"{cx - pad * 1.5:.1f},{cy - pad:.1f},{cx + pad * 1.5:.1f},{cy + pad:.1f}"


@login_required
@require_GET
def my_cases(request):
    return render(request, "cases/my_cases.html", {"cases": selectors.applicant_cases(request.user)})


def _client(request) -> str:
    return request.META.get("REMOTE_ADDR", "?")


@require_http_methods(["GET", "POST"])
def status_page(request):
    status, error, code = None, "", 200
    if request.method == "POST":
        if selectors.throttled(_client(request)):
            error, code = _("Too many attempts. Try again in a few minutes."), 429
        elif has_nul(request.POST):
            error, code = _("The value holds a NUL character."), 400
        else:
            case = selectors.status_lookup(
                request.POST.get("reference", ""), request.POST.get("access_code", "")
            )
            if case is None:
                error = _("No case matches this sign or tracking code and access code.")
            else:
                status = selectors.public_status(case)
    return render(
        request,
        "cases/status.html",
        {"status": status, "error": error, "reference": without_nul(request.POST.get("reference", ""))[:60]},
        status=code,
    )


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
