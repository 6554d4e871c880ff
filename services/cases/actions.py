"""Writes of the case register. Each action is one transaction; e-mails leave after the commit.

Numbering: the counter row of (office, unit, JRWA class, year) is locked while a number is taken,
so concurrent filings get distinct consecutive numbers and a rolled-back filing leaves no gap.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from gisportal.core.errors import Forbidden, GisportalError, InvalidInput
from services.forms.models import Submission
from services.offices.models import Office, OfficeUnit
from services.offices.selectors import office_of

from . import calendar
from .models import Case, CaseDocument, DeadlineKind, Pause, State, TimelineEntry
from .states import TRANSITIONS

log = logging.getLogger(__name__)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
UNIT_FOR_KIND = {
    "general_letter": "KAN"
}  # the registry office (kancelaria); otherwise the office's first unit


def access_code_hash(code: str) -> str:
    """Access codes are random (50 bits); a keyed hash is enough and keeps lookups fast."""
    return hmac.new(settings.SECRET_KEY.encode(), code.strip().upper().encode(), hashlib.sha256).hexdigest()


def _code(n: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(n))


def case_number_next(office: Office, unit_code: str, jrwa: str, year: int) -> int:
    """The next number of the register (call inside a transaction): one statement creates or
    increments the counter row, which stays locked until the transaction ends."""
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO cases_casecounter (office_id, unit_code, jrwa, year, last) VALUES (%s, %s, %s, %s, 1) "
            "ON CONFLICT (office_id, unit_code, jrwa, year) DO UPDATE SET last = cases_casecounter.last + 1 "
            "RETURNING last",
            [office.pk, unit_code, jrwa, year],
        )
        return cur.fetchone()[0]


def deadline_kind_for(days: int | None) -> str:
    if days is None:
        return DeadlineKind.ONE_MONTH
    if days <= 7:
        return DeadlineKind.CERTIFICATE
    return DeadlineKind.ONE_MONTH if days <= 31 else DeadlineKind.TWO_MONTHS


def _deadline(case: Case, today: date | None = None) -> date:
    """Settle-by date: KPA art. 35/217 from the start, pauses not counted (an open pause up to today)."""
    today = today or timezone.localdate()
    pauses = [(p.started_on, p.ended_on or today) for p in case.pauses.all()]
    computed = calendar.settlement_deadline(case.started_on, case.deadline_kind, pauses)
    return max(computed, case.deadline_notified) if case.deadline_notified else computed


@transaction.atomic
def case_register(
    *,
    office: Office,
    unit: OfficeUnit,
    jrwa: str,
    subject: str,
    channel: str,
    applicant_name: str,
    received_on: date,
    deadline_kind: str,
    applicant_email: str = "",
    applicant_address: str = "",
    applicant_user=None,
    service=None,
    submission: Submission | None = None,
    parcels=(),
    location=None,
    actor=None,
) -> tuple[Case, str]:
    """A new case with its sign; returns it with the access code (shown once, only its hash is kept)."""
    if unit.office_id != office.pk:
        raise InvalidInput(_("The unit does not belong to the office."))
    year = received_on.year
    number = case_number_next(office, unit.code, jrwa, year)
    access = _code(10)
    case = Case(
        office=office,
        unit=unit,
        jrwa=jrwa,
        number=number,
        year=year,
        sign=f"{unit.code}.{jrwa}.{number}.{year}",
        subject=subject[:300],
        service=service,
        submission=submission,
        channel=channel,
        applicant_name=applicant_name[:200],
        applicant_email=applicant_email,
        applicant_address=applicant_address[:300],
        applicant_user=applicant_user,
        parcels=list(parcels),
        location=location,
        received_on=received_on,
        started_on=received_on,
        deadline_kind=deadline_kind,
        deadline=received_on,
        tracking_code=_code(10),
        access_code_hash=access_code_hash(access),
    )
    case.deadline = calendar.settlement_deadline(case.started_on, deadline_kind, [])
    case.save()
    TimelineEntry.objects.create(
        case=case,
        actor=actor,
        action="register",
        to_state=State.REGISTERED,
        note=_("Request received (%(channel)s).") % {"channel": case.get_channel_display()},
    )
    _notify_after_commit(case, _("Your request has been registered as case %(sign)s.") % {"sign": case.sign})
    return case, access


def case_from_submission(sub: Submission) -> Case:
    """The case of an e-filed form (idempotent): it starts on the day of receipt (KPA art. 61 § 3a)."""
    existing = Case.objects.filter(submission=sub).first()
    if existing is not None:
        return existing
    data = sub.data
    address = " ".join(
        str(data.get(k, "")) for k in ("street", "house_no", "postal_code", "locality") if data.get(k)
    ).strip()
    units = sub.office.units.order_by("id")
    unit = units.filter(code=UNIT_FOR_KIND.get(sub.service.service_kind, "")).first() or units.first()
    try:
        case, _access = case_register(
            office=sub.office,
            unit=unit,
            jrwa=sub.service.jrwa,
            subject=sub.service.title_pl,
            channel=sub.channel,
            applicant_name=str(data.get("applicant_name") or (sub.user.get_full_name() if sub.user else "")),
            applicant_email=str(data.get("email") or ""),
            applicant_address=address,
            applicant_user=sub.user,
            received_on=timezone.localdate(sub.submitted_at),
            deadline_kind=deadline_kind_for(sub.service.deadline_days),
            service=sub.service,
            submission=sub,
            parcels=sub.parcels,
            location=sub.location,
        )
    except IntegrityError:
        existing = Case.objects.filter(submission=sub).first()  # registered concurrently (OneToOne)
        if existing is None:
            raise
        return existing
    try:
        case_fee_at_filing(case.pk, known=case)
    except GisportalError:
        log.exception("fee document at filing failed for case %s (the sweep retries)", case.sign)
    return case


def cases_from_submissions_sweep() -> int:
    """Cases for submissions stored without one (the hook after filing failed)."""
    n = 0
    for sub in Submission.objects.filter(case__isnull=True).select_related("service", "office", "user")[:500]:
        case_from_submission(sub)
        n += 1
    return n


def _check_staff(case: Case, actor) -> None:
    if actor is None or not actor.has_perm("gisportal.work_cases"):
        raise Forbidden(_("You may not work on cases."))
    office = office_of(actor)
    if office is None or office.pk != case.office_id:
        raise Forbidden(_("This case belongs to another office."))


@transaction.atomic
def case_transition(
    case_id: int,
    action: str,
    *,
    actor,
    note: str = "",
    assignee=None,
    due_days: int | None = None,
    forwarded_to: str = "",
    new_date: date | None = None,
) -> Case:
    """Carry out one transition of the table (states.TRANSITIONS), with its timeline entry."""
    case = Case.objects.select_for_update().get(pk=case_id)
    _check_staff(case, actor)
    t = TRANSITIONS.get(action)
    if t is None or not t.manual or case.state not in t.sources:
        raise InvalidInput(_("This action is not possible in the case's present state."))
    today = timezone.localdate()
    before, old_deadline = case.state, case.deadline
    extra = ""
    if action == "assign":
        if assignee is None or office_of(assignee) is None or office_of(assignee).pk != case.office_id:
            raise InvalidInput(_("Choose a clerk of this office."))
        case.assigned_to = assignee
        if case.state == State.REGISTERED:
            case.state = State.ASSIGNED
        extra = assignee.get_full_name() or assignee.get_username()
    if action == "mark_complicated":
        case.deadline_kind = DeadlineKind.TWO_MONTHS
    if t.pause:
        Pause.objects.create(case=case, started_on=today, reason=t.pause)
    if t.pause and "due_days" in t.inputs:
        days = due_days if due_days is not None else 7
        if not 1 <= days <= 90:
            raise InvalidInput(_("Give the time to answer in days (1–90)."))
        case.supplement_due = calendar.add_days(today, days)
        extra = _("answer by %(date)s") % {"date": case.supplement_due.isoformat()}
    if t.resume:
        case.pauses.filter(ended_on__isnull=True).update(ended_on=today)
        case.supplement_due = None
    if action == "forward":
        if not forwarded_to.strip():
            raise InvalidInput(_("Name the office the case is forwarded to."))
        case.forwarded_to = forwarded_to.strip()[:200]
        extra = case.forwarded_to
    if action == "notify_delay":
        if new_date is None or new_date <= today or new_date <= case.deadline:
            raise InvalidInput(_("Give a new date later than the present deadline."))
        if not note.strip():
            raise InvalidInput(_("Give the reasons of the delay."))
        case.deadline_notified = new_date
        extra = _("new date: %(date)s") % {"date": new_date.isoformat()}
    if t.target is not None:
        case.state = t.target
    case.deadline = _deadline(case, today)
    case.save()
    text = str(t.label) + (f" ({extra})" if extra else "") + (f": {note.strip()}" if note.strip() else "")
    TimelineEntry.objects.create(
        case=case,
        actor=actor,
        action=action,
        from_state=before,
        to_state=case.state,
        note=text[:2000],
        public=t.public,
    )
    if t.public:
        _notify_after_commit(case, text)
    if action == "notify_delay":
        _delay_notice(case, actor, reasons=note.strip(), old_deadline=old_deadline, new_date=new_date)
    return case


def _system_transition(
    case: Case, action: str, *, note: str = "", due: date | None = None, actor=None
) -> bool:
    """A transition the system carries out (the fee): same table, same timeline; False when the case is
    no longer in a state it applies to (a repeated or late callback changes nothing)."""
    t = TRANSITIONS[action]
    if case.state not in t.sources:
        return False
    today = timezone.localdate()
    before = case.state
    if t.pause:
        Pause.objects.create(case=case, started_on=today, reason=t.pause)
        case.supplement_due = due
    if t.resume:
        case.pauses.filter(ended_on__isnull=True).update(ended_on=today)
        case.supplement_due = None
    if t.target is not None:
        case.state = t.target
    case.deadline = _deadline(case, today)
    case.save()
    text = str(t.label) + (f": {note}" if note else "")
    TimelineEntry.objects.create(
        case=case,
        actor=actor,
        action=action,
        from_state=before,
        to_state=case.state,
        note=text[:2000],
        public=t.public,
    )
    _notify_after_commit(case, text)
    return True


def _fee_lines(quote) -> list[dict]:
    return [
        {"label": str(li.label), "quantity": li.quantity, "unit_price": li.unit_price, "amount": li.amount}
        for li in quote.lines
    ]


def _fee_due(kind: str, today: date) -> date:
    days = settings.GISPORTAL_STAMP_DUTY_DUE_DAYS if kind == "stamp_duty" else settings.GISPORTAL_DOO_DUE_DAYS
    return calendar.add_days(today, days)


def _issue_for_case(case: Case, *, key: str, quote, actor=None, lines: list[dict] | None = None):
    from services.payments.actions import fee_document_issue

    kind = "stamp_duty" if quote.kind == "stamp_duty" else "doo"
    with override("pl"):
        payment = fee_document_issue(
            key=key,
            kind=kind,
            office=case.office,
            lines=lines if lines is not None else _fee_lines(quote),
            legal_basis=quote.legal_basis or "",
            subject=case.subject,
            payer_name=case.applicant_name,
            payer_address=case.applicant_address,
            payer_email=case.applicant_email,
            due_date=_fee_due(kind, timezone.localdate()),
            case_id=case.pk,
            case_sign=case.sign,
            submission_id=case.submission_id,
            applicant_user=case.applicant_user,
            issued_by=actor,
        )
        doc = payment.document
        _system_transition(
            case,
            "request_payment",
            note=_("%(number)s, %(amount)s zł, pay by %(due)s")
            % {
                "number": doc.number,
                "amount": f"{doc.amount:.2f}".replace(".", ","),
                "due": doc.due_date.isoformat(),
            },
            due=doc.due_date,
            actor=actor,
        )
    return payment


@transaction.atomic
def case_fee_at_filing(case_id: int, *, known: Case | None = None):
    """The fee document of an e-filed request whose fee is fixed by the tables (computed now, from the
    data as filed, and stored: never recomputed). Idempotent (the document's key is the submission);
    None when nothing is to be paid now (free, exempt, or the office must first state pages or
    coefficients). `known`: the case as just registered, to spare reading it again."""
    from services.payments.selectors import fee_quote

    state = Case.objects.select_for_update().filter(pk=case_id).values_list("state", flat=True).first()
    case = known or Case.objects.select_related("service", "submission", "office").get(pk=case_id)
    case.state = state
    if case.submission is None or case.service is None or not case.service.fee_rule:
        return None
    if case.state not in (State.REGISTERED, State.ASSIGNED, State.IN_PROGRESS):
        return None
    try:
        quote = fee_quote(case.service.fee_rule, case.submission.data)
    except GisportalError:
        return None  # the registries changed since: the clerk issues the document
    if quote.final and not quote.total:  # nothing to pay (free, exempt): the documents can be prepared
        case_documents_prepare(case)
        return None
    if not quote.final:
        return None
    return _issue_for_case(case, key=f"filing:{case.submission_id}", quote=quote)


@transaction.atomic
def case_fee_issue(
    case_id: int,
    *,
    actor,
    key: str,
    pages: int | None = None,
    parts: int | None = None,
    lines: list[dict] | None = None,
    legal_basis: str = "",
):
    """A clerk issues the fee document from the case page: with the pages and parts the office now
    knows (zoning extracts), or with the lines the starosta computed (materials: base rate × units ×
    coefficients, art. 40d Pgik; rounded to 10 gr)."""
    from services.payments.fees import Quote
    from services.payments.selectors import fee_quote, payments_of_case

    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("service", "submission", "office")
        .get(pk=case_id)
    )
    _check_staff(case, actor)
    if not actor.has_perm("gisportal.handle_payments"):
        raise Forbidden(_("You may not issue fee documents."))
    if case.state not in (State.REGISTERED, State.ASSIGNED, State.IN_PROGRESS):
        raise InvalidInput(_("This action is not possible in the case's present state."))
    if any(p.status in ("due", "pending", "failed") for p in payments_of_case(case.pk)):
        raise InvalidInput(_("A fee document of this case is still unpaid."))
    rule = case.service.fee_rule if case.service else ""
    if lines:
        quote = Quote(
            rule or "pgik_materials",
            "stamp_duty" if rule.startswith("stamp_duty") else "pgik",
            (),
            None,
            None,
            legal_basis=legal_basis or "art. 40b, 40d Pgik",
        )
    else:
        data = dict(case.submission.data) if case.submission else {"parcels": case.parcels}
        data.update({k: v for k, v in (("pages", pages), ("parts", parts)) if v is not None})
        quote = fee_quote(rule or "free", data)
        if not quote.final:
            raise InvalidInput(_("Give the number of pages and parts: the fee depends on them."))
        if not quote.total:
            raise InvalidInput(_("There is nothing to pay: the fee is zero."))
    return _issue_for_case(case, key=f"clerk:{case.pk}:{key[:80]}", quote=quote, actor=actor, lines=lines)


def case_documents_prepare(case: Case) -> list:
    """The documents the request ends in, prepared now that the case may be issued (paid, or nothing to
    pay): automatic kinds are generated and issued by a Celery job; the others wait for a clerk. Idempotent
    (one job per case and kind)."""
    from services.documents.actions import job_create

    from .issuing import documents_for

    if case.submission_id is None or case.service is None:
        return []
    sub = case.submission
    return [
        job_create(
            key=f"case:{case.pk}:{kind}",
            kind=kind,
            office=case.office,
            params=params,
            case_id=case.pk,
            case_sign=case.sign,
            submission_id=case.submission_id,
            owner=case.applicant_user,
        )
        for kind, params in documents_for(case.service.code, sub.data, list(sub.parcels))
    ]


def case_document_issued(change) -> None:
    """Documents' callback (registered at start-up): the issued document is in the timeline; when every
    document of the case is issued, the case is settled (the issuing step closes)."""
    from services.documents.selectors import jobs_of_case

    if change.case_id is None:
        return
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=change.case_id).first()
        if case is None:
            return
        TimelineEntry.objects.create(
            case=case,
            actor_id=change.actor_id,
            action="document_issued",
            from_state=case.state,
            to_state=case.state,
            note=change.note[:2000],
            public=True,
        )
        _notify_after_commit(case, change.note)
        if all(j.status == "issued" for j in jobs_of_case(case.pk)) and case.state == State.IN_PROGRESS:
            _system_transition(case, "settle")


def case_payment_changed(change) -> None:
    """Payments' callback (registered at start-up): every change of a case's payment is in its
    timeline; a paid fee moves the case on, a cancelled one takes it back to work."""
    if change.case_id is None:
        return
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=change.case_id).first()
        if case is None:
            return
        moved = False
        if change.event == "paid":
            moved = _payments_settled(case) and _system_transition(case, "payment_received", note=change.note)
            if moved:
                case_documents_prepare(case)
        elif change.event == "cancelled":
            moved = _payments_settled(case) and _system_transition(
                case, "payment_cancelled", note=change.note
            )
        if not moved:
            TimelineEntry.objects.create(
                case=case,
                actor_id=change.actor_id,
                action=f"payment_{change.event}",
                from_state=case.state,
                to_state=case.state,
                note=change.note[:2000],
                public=change.public,
            )


def _payments_settled(case: Case) -> bool:
    from services.payments.selectors import payments_of_case

    return not any(p.status in ("due", "pending", "failed") for p in payments_of_case(case.pk))


def cases_payments_sweep() -> int:
    """Catch up where a callback was lost: fee documents for fixed fees of requests filed in the last
    days, and paid cases still waiting for payment."""
    from django.db.models import Exists, OuterRef

    from services.payments.models import FeeDocument
    from services.payments.selectors import payments_of_case

    n = 0
    recent = Case.objects.filter(
        state=State.REGISTERED,
        submission__isnull=False,
        received_on__gte=timezone.localdate() - timedelta(days=3),
        service__fee_rule__in=["pgik_table_11", "stamp_duty_certificate", "stamp_duty_zoning_extract"],
    ).exclude(Exists(FeeDocument.objects.filter(case_id=OuterRef("pk"))))
    for case_id in recent.values_list("pk", flat=True)[:200]:
        if case_fee_at_filing(case_id) is not None:
            n += 1
    for case in Case.objects.filter(state=State.PAYMENT_DUE)[:500]:
        with transaction.atomic():
            locked = Case.objects.select_for_update().get(pk=case.pk)
            payments = payments_of_case(locked.pk)
            if locked.state != State.PAYMENT_DUE or not payments or not _payments_settled(locked):
                continue  # no fee document (a case from before payments): the clerk decides
            paid = any(p.status in ("paid", "refunded") for p in payments)
            _system_transition(locked, "payment_received" if paid else "payment_cancelled")
            if paid:
                case_documents_prepare(locked)
            n += 1
    return n


def _delay_notice(case: Case, actor, *, reasons: str, old_deadline: date, new_date: date) -> CaseDocument:
    """The art. 36 § 1 KPA notice as a PDF kept with the case (outgoing document)."""
    import weasyprint
    from django.template.loader import render_to_string

    with override("pl"):
        html = render_to_string(
            "cases/notice_art36.html",
            {
                "case": case,
                "reasons": reasons,
                "old_deadline": old_deadline,
                "new_date": new_date,
                "today": timezone.localdate(),
                "clerk": actor,
            },
        )
    pdf = weasyprint.HTML(string=html).write_pdf()
    return case_document_add(
        case,
        name=f"zawiadomienie-art36-{case.sign}.pdf",
        content_type="application/pdf",
        content=pdf,
        direction="out",
        actor=actor,
    )


@transaction.atomic
def case_note_add(case_id: int, *, actor, note: str, public: bool = False) -> TimelineEntry:
    case = Case.objects.get(pk=case_id)
    _check_staff(case, actor)
    if not note.strip():
        raise InvalidInput(_("The note is empty."))
    entry = TimelineEntry.objects.create(
        case=case, actor=actor, action="note", note=note.strip()[:2000], public=public
    )
    if public:
        _notify_after_commit(case, note.strip())
    return entry


def case_document_add(
    case: Case, *, name: str, content_type: str, content: bytes, direction: str, actor=None
) -> CaseDocument:
    from django.core.files.base import ContentFile

    digest = hashlib.sha256(content).hexdigest()
    return CaseDocument.objects.create(
        case=case,
        direction=direction,
        name=name[:200],
        content_type=content_type,
        sha256=digest,
        file=ContentFile(content, name=digest),
        added_by=actor,
    )


def _notify_after_commit(case: Case, text: str) -> None:
    """E-mail the applicant about a stage change, in Polish, after the transaction commits."""
    if not case.applicant_email:
        return
    email, sign, state = case.applicant_email, case.sign, case.state
    url = settings.GISPORTAL_PUBLIC_URL + reverse("case_status")

    def send():
        with override("pl"):
            subject = _("Case %(sign)s: %(state)s") % {"sign": sign, "state": State(state).label}
            body = _("%(text)s\n\nFollow the case at %(url)s (case sign %(sign)s).\n\n%(office)s") % {
                "text": text,
                "url": url,
                "sign": sign,
                "office": case.office.name,
            }
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        except Exception:
            log.exception("case notification to the applicant failed (%s)", sign)

    transaction.on_commit(send)
