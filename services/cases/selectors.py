"""Reads of the case register: the clerk's inbox, the applicant's view, status lookups (throttled)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gisportal.core import calendar
from services.forms.signing import signature_views

from .actions import access_code_hash
from .models import Case, State
from .states import ACTIVE

STATUS_ATTEMPTS = 10  # per client address and 10 minutes
STATUS_WINDOW = 600
FILTERS = ("overdue", "this_week", "mine")


def inbox(office, *, unit=None, flt: str = "", state: str = "", service: str = "", q: str = "", user=None):
    today = timezone.localdate()
    qs = Case.objects.filter(office=office).select_related("unit", "service", "assigned_to")
    if unit is not None:
        qs = qs.filter(unit=unit)
    if flt == "overdue":
        qs = qs.filter(state__in=ACTIVE, deadline__lt=today)
    elif flt == "this_week":
        qs = qs.filter(state__in=ACTIVE, deadline__gte=today, deadline__lte=today + timedelta(days=7))
    elif flt == "mine" and user is not None:
        qs = qs.filter(assigned_to=user)
    if state in State.values:
        qs = qs.filter(state=state)
    if service:
        qs = qs.filter(service__code=service)
    q = (q or "").strip()[:100]
    if q:
        qs = qs.filter(
            Q(sign__icontains=q)
            | Q(applicant_name__icontains=q)
            | Q(subject__icontains=q)
            | Q(parcels__icontains=q)
            | Q(tracking_code=q.upper())
        )
    return qs.order_by("deadline", "id")


def flag(case: Case, today=None) -> str:
    """overdue | due_soon | ok for active cases, '' for others."""
    if case.state not in ACTIVE:
        return ""
    return calendar.status(case.deadline, today or timezone.localdate())


def office_case(office, case_id: int) -> Case | None:
    """A case of this office only: another office's case is as good as missing (no leak)."""
    return (
        Case.objects.filter(office=office, pk=case_id)
        .select_related("office", "unit", "service", "assigned_to", "submission")
        .first()
    )


# ---- the clerk's case page -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SettlingDocument:
    """An outgoing document a case can be settled by: key "issued:<id>" (a document the portal issued and
    sealed) or "case:<id>" (a decision or letter filed with the case); label: its number or file name."""

    key: str
    label: str


def product_case(case: Case) -> bool:
    """The case's e-service ends in a document the portal issues (services/cases/issuing.py)."""
    from .issuing import documents_for

    if case.service_id is None or case.submission_id is None:
        return False
    sub = case.submission
    return bool(documents_for(case.service.code, sub.data, list(sub.parcels)))


def settling_documents(case: Case) -> list[SettlingDocument]:
    """The outgoing documents that can settle the case: every document issued in it, and the decisions and
    letters filed with it; for a case whose e-service issues a document, besides that document only a
    decision (a refusal), never a mere letter."""
    from services.documents.selectors import documents_of_case

    from .states import SETTLING_KINDS

    kinds = ("decision",) if product_case(case) else SETTLING_KINDS
    issued = [SettlingDocument(f"issued:{d.pk}", d.number) for d in documents_of_case(case.pk)]
    filed = case.documents.filter(direction="out", kind__in=kinds).order_by("added_at")
    return issued + [SettlingDocument(f"case:{d.pk}", d.name) for d in filed]


def _choice_text(value, choices: dict) -> str:
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(_choice_text(v, choices) for v in value)
    return str(choices.get(str(value), value))


def form_sections(case: Case) -> list[dict]:
    """The filed form's data as the form showed it: sections of labelled fields in the current language,
    a choice by its label, a yes/no for a tick box, parcels as a list of identifiers (the page links them);
    data the form's layout does not name (older versions) last, under its key."""
    from services.forms.selectors import render_sections

    sub = case.submission
    if sub is None:
        return []
    data = sub.data or {}
    out, named = [], set()
    for section in render_sections(sub.service, data, {}):
        fields = []
        for f in section["fields"]:
            named.add(f["name"])
            raw = data.get(f["name"])
            if raw in (None, "", []) or (raw is False and f["widget"] != "checkbox"):
                continue
            if f["widget"] == "parcels":
                ids = raw if isinstance(raw, list) else str(raw).split()
                fields.append({"label": f["label"], "parcels": [str(p) for p in ids]})
            else:
                fields.append({"label": f["label"], "text": _choice_text(raw, dict(f["choices"]))})
        if fields:
            out.append({"title": section["title"], "fields": fields})
    rest = [
        {"label": k, "text": _choice_text(v, {})}
        for k, v in sorted(data.items())
        if k not in named and v not in (None, "", [])
    ]
    if rest:
        out.append({"title": _("Other data"), "fields": rest})
    return out


def case_receipt(case: Case):
    """The signed receipt (UPP) of an e-filed case's request, or None (paper: the intake confirmation)."""
    from services.receipts.models import Receipt

    if case.submission_id is None:
        return None
    return Receipt.objects.filter(kind=Receipt.Kind.SUBMISSION, document_id=str(case.submission_id)).first()


def case_attachments(case: Case) -> list:
    """The files attached to the filed form."""
    if case.submission_id is None:
        return []
    return list(case.submission.attachments.order_by("id"))


def case_attachment_views(case: Case) -> list[dict]:
    """The attached files with the check of their signatures, each signer compared with the applicant."""
    if case.submission_id is None:
        return []
    return signature_views(case_attachments(case), case.submission.data or {})


def case_attachment(case: Case, attachment_id: int):
    if case.submission_id is None:
        return None
    return case.submission.attachments.filter(pk=attachment_id).first()


def clerk_timeline(case: Case) -> list[dict]:
    """Every entry of the case for its clerks, in plain words: when, what (states.entry_text), who (left
    out when the words already name that person, e.g. a clerk who took the case themselves)."""
    from .states import entry_text

    rows = []
    for e in case.timeline.select_related("actor", "case").order_by("at", "id"):
        text = entry_text(e)
        by = (e.actor.get_full_name() or e.actor.get_username()) if e.actor else ""
        rows.append({"at": e.at, "text": text, "by": "" if by and by in text else by, "public": e.public})
    return rows


def delivery_proof_needed(method: str) -> bool:
    from .states import DELIVERY_METHODS

    return bool(DELIVERY_METHODS.get(method, (None, None, False, False))[3])


@dataclass(frozen=True)
class PublicStatus:
    sign: str
    subject: str
    office: str
    state: str
    state_label: str
    received_on: str
    deadline: str | None
    supplement_due: str | None
    timeline: list[dict]
    payment: dict | None = None


def public_status(case: Case) -> PublicStatus:
    active = case.state in ACTIVE
    return PublicStatus(
        sign=case.sign,
        subject=case.service.title if case.service else case.subject,
        office=case.office.name,
        state=case.state,
        state_label=str(State(case.state).label),
        received_on=case.received_on.isoformat(),
        deadline=case.deadline.isoformat() if active else None,
        supplement_due=case.supplement_due.isoformat() if case.supplement_due and active else None,
        timeline=[
            {"at": e["at"].isoformat(timespec="minutes"), "note": e["text"], "at_local": e["at"]}
            for e in public_timeline(case)
        ],
        payment=_public_payment(case),
    )


def _public_payment(case: Case) -> dict | None:
    """The latest fee of the case as the status page shows it (amount, account, title, status)."""
    from services.payments.selectors import payments_of_case

    payments = payments_of_case(case.pk)
    if not payments:
        return None
    p = payments[-1]
    return {
        "status": p.status,
        "status_label": str(p.get_status_display()),
        "amount": f"{p.amount:.2f}",
        "currency": p.currency,
        "number": p.document.number,
        "account": p.document.account,
        "title": p.document.title,
        "due_date": p.document.due_date.isoformat(),
    }


def throttled(client: str) -> bool:
    """True when this client has used up its status lookups for the window (counts every attempt)."""
    key = f"gisportal:status-attempts:{client}"
    n = cache.get_or_set(key, 0, timeout=STATUS_WINDOW)
    try:
        n = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=STATUS_WINDOW)
        n = 1
    return n > STATUS_ATTEMPTS


STATUS_CANDIDATES = 20  # cases sharing one sign: one per office at most (signs are unique per office)


def status_lookup(reference: str, access_code: str) -> Case | None:
    """The case with this sign or tracking code whose access code matches; None for any mismatch
    (the same answer whether the case exists or not).

    A sign is unique only within its office (DOMAIN.md §8): two offices both have a KAN unit, so
    "KAN.1510.1.2026" may name a case in each. The access code (random, per case) says which one:
    every candidate's code is compared, and only the case whose code matches is returned, never
    another office's case of the same sign."""
    reference = (reference or "").strip()[:60]
    if not reference or not access_code or "\x00" in reference:  # PostgreSQL cannot even compare a NUL
        return None
    candidates = list(
        Case.objects.filter(Q(sign__iexact=reference) | Q(tracking_code=reference.upper()))
        .select_related("office")
        .order_by("pk")[:STATUS_CANDIDATES]
    )
    given = access_code_hash(access_code)
    if not candidates:  # the same work whether a case of that reference exists or not
        hmac.compare_digest(access_code_hash("-"), given)
    matching = [case for case in candidates if hmac.compare_digest(case.access_code_hash, given)]
    return matching[0] if matching else None


def applicant_cases(user):
    return (
        Case.objects.filter(applicant_user=user)
        .select_related("office", "service")
        .order_by("-received_on", "-id")
    )


# ---- the applicant's "my case" page -------------------------------------------------------------------
def applicant_case(user, case_id: int) -> Case | None:
    """The case if `user` is its applicant; None for another's case and for none (the same 404)."""
    if user is None or not user.is_authenticated:
        return None
    return (
        Case.objects.filter(pk=case_id, applicant_user=user)
        .select_related("office", "service", "submission")
        .first()
    )


def applicant_submissions_without_case(user):
    """Requests the user filed whose case is not open yet (the register opens it right after filing; a
    failed step is retried by the sweep): listed so that nothing filed is invisible."""
    from services.forms.models import Submission

    return Submission.objects.filter(user=user, case__isnull=True).select_related("service", "office")


def public_timeline(case: Case) -> list[dict]:
    """The entries the applicant sees, in plain words, oldest first."""
    from .states import entry_text

    return [
        {"at": timezone.localtime(e.at), "text": entry_text(e)}
        for e in case.timeline.filter(public=True).order_by("at", "id")
    ]


def access_code_current(case: Case) -> str:
    """The access code printed on an e-filed request's receipt, while it is still the case's code ("" once a
    new one was issued: that one went only to the applicant's e-mail)."""
    if case.submission_id is None:
        return ""
    from services.forms.codes import case_codes

    _tracking, access = case_codes(case.submission_id)
    return access if hmac.compare_digest(access_code_hash(access), case.access_code_hash) else ""


def applicant_documents(case: Case) -> dict:
    """What the applicant may open: the receipt, fee documents with their payments, documents issued in the
    case, the office's letters (outgoing documents) and the applicant's own answers."""
    from services.documents.selectors import documents_of_case, jobs_of_case
    from services.payments.selectors import payments_of_case

    return {
        "payments": payments_of_case(case.pk),
        "issued": documents_of_case(case.pk),
        "jobs": [j for j in jobs_of_case(case.pk) if not j.document_id],
        "letters": list(case.documents.filter(direction="out").order_by("added_at")),
        "answers": list(
            case.documents.filter(direction="in", added_by=case.applicant_user_id).order_by("added_at")
        )
        if case.applicant_user_id
        else [],
    }


def applicant_document(case: Case, doc_id):
    """One document of the case the applicant may download (outgoing, or added by the applicant)."""
    docs = case.documents.filter(id=doc_id)
    return docs.filter(Q(direction="out") | Q(direction="in", added_by=case.applicant_user_id)).first()


def reissue_lookup(reference: str, email: str) -> Case | None:
    """The case with this sign or tracking code whose applicant gave this e-mail address (compared without
    case), for sending a new access code to that address only; None for any mismatch."""
    reference, email = (reference or "").strip()[:60], (email or "").strip()[:254]
    if not reference or "@" not in email or "\x00" in reference + email:
        return None
    return (
        Case.objects.filter(Q(sign__iexact=reference) | Q(tracking_code=reference.upper()))
        .filter(applicant_email__iexact=email)
        .order_by("pk")
        .first()
    )
