"""Writes of the case register. Each action is one transaction; e-mails leave after the commit.

Numbering: the counter row of (office, unit, JRWA class, year) is locked while a number is taken,
so concurrent filings get distinct consecutive numbers and a rolled-back filing leaves no gap.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from gisportal.core import calendar
from gisportal.core.errors import Forbidden, GisportalError, InvalidInput
from services.forms.codes import case_codes
from services.forms.models import Submission
from services.offices.models import Office, OfficeUnit
from services.offices.selectors import office_of

from .models import Case, CaseDocument, DeadlineKind, Pause, State, TimelineEntry
from .states import TRANSITIONS, Facts

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
    codes: tuple[str, str] | None = None,
) -> tuple[Case, str]:
    """A new case with its sign; returns it with the access code (shown once, only its hash is kept).
    `codes`: the (tracking, access) codes an e-filed request already carries on its receipt."""
    if unit.office_id != office.pk:
        raise InvalidInput(_("The unit does not belong to the office."))
    year = received_on.year
    number = case_number_next(office, unit.code, jrwa, year)
    tracking, access = codes or (_code(10), _code(10))
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
        tracking_code=tracking,
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
    _notify_after_commit(
        case,
        _(
            "Your request has been registered as case %(sign)s. To follow it without logging in, use the "
            "tracking code %(tracking)s and the access code %(access)s; keep them safe."
        )
        % {"sign": case.sign, "tracking": case.tracking_code, "access": access},
    )
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
            # the term the service list and the form show (services/forms/deadlines.py)
            deadline_kind=sub.service.deadline_kind or deadline_kind_for(sub.service.deadline_days),
            service=sub.service,
            submission=sub,
            parcels=sub.parcels,
            location=sub.location,
            codes=case_codes(sub.id),
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


@dataclass(frozen=True)
class Delivery:
    """How a settled case's document reached the applicant (states.DELIVERY_METHODS): the date, for post
    the tracking number, and for post or in person the proof (name, type, content of the scan of the
    return receipt or of the signed confirmation)."""

    method: str
    delivered_on: date | None
    tracking_no: str = ""
    proof: tuple[str, str, bytes] | None = None


PROOF_TYPES = ("application/pdf", "image/jpeg", "image/png")
_TRACKING = re.compile(r"^[A-Za-z0-9() -]{5,40}$")


def _entry(
    case: Case, action: str, *, actor=None, actor_id=None, before: str, public: bool, data: dict
) -> TimelineEntry:
    """A timeline entry with its facts; `note` keeps the entry in plain Polish words (status page, API)."""
    from .states import TEXT_VERSION, entry_text

    entry = TimelineEntry(
        case=case,
        actor=actor,
        actor_id=getattr(actor, "pk", actor_id),
        action=action,
        from_state=before,
        to_state=case.state,
        public=public,
        data={"v": TEXT_VERSION, **{k: v for k, v in data.items() if v not in (None, "")}},
    )
    with override("pl"):
        entry.note = entry_text(entry)[:2000]
    entry.save()
    return entry


def _settled_on(case: Case) -> date:
    last = case.timeline.filter(action="settle").order_by("-at").values_list("at", flat=True).first()
    return timezone.localdate(last) if last else case.received_on


def _transition_facts(
    case: Case,
    action: str,
    *,
    today: date,
    note: str,
    assignee,
    due_days: int | None,
    forwarded_to: str,
    new_date: date | None,
    document: str | None,
    delivery: Delivery | None,
    proof_pending: bool = False,
) -> dict:
    """Every check of a transition's inputs, before anything is written; the facts the step records.
    `proof_pending`: checking before the confirmation page, where the proof of delivery is attached."""
    from .selectors import product_case, settling_documents

    facts: dict = {}
    if action == "assign":
        office = office_of(assignee) if assignee is not None else None
        if office is None or office.pk != case.office_id:
            raise InvalidInput(_("Choose a clerk of this office."))
        facts.update(assignee=assignee.get_full_name() or assignee.get_username(), assignee_id=assignee.pk)
    elif action == "request_supplement":
        days = due_days if due_days is not None else 7
        if not 1 <= days <= 90:
            raise InvalidInput(_("Give the time to answer in days (1–90)."))
        facts["date"] = calendar.add_days(today, days).isoformat()
    elif action == "forward":
        if not forwarded_to.strip():
            raise InvalidInput(_("Name the office the case is forwarded to."))
        if forwarded_to.startswith("office:"):  # sent electronically through the exchange
            from services.exchange.actions import route

            code = forwarded_to[len("office:") :]
            if code == case.office.code:
                raise InvalidInput(_("Choose another office than this one."))
            facts.update(forwarded_to=route(code)["name"][:200], forward_office=code)
        else:
            facts["forwarded_to"] = forwarded_to.strip()[:200]
    elif action == "notify_delay":
        if new_date is None or new_date <= today or new_date <= case.deadline:
            raise InvalidInput(_("Give a new date later than the present deadline."))
        if not note.strip():
            raise InvalidInput(_("Give the reasons of the delay."))
        facts["date"] = new_date.isoformat()
    elif action == "settle":
        eligible = settling_documents(case)
        if not eligible:
            raise InvalidInput(
                _("The case cannot be settled without its document: issue the document first.")
                if product_case(case)
                else _(
                    "The case cannot be settled without an outgoing document: add the decision or letter first."
                )
            )
        chosen = [d for d in eligible if d.key == document] if document else eligible
        if not chosen:
            raise InvalidInput(_("Choose one of the case's outgoing documents."))
        facts.update(documents=", ".join(d.label for d in chosen), document_keys=[d.key for d in chosen])
    elif action == "deliver":
        facts.update(_delivery_facts(case, delivery, today=today, proof_pending=proof_pending))
    elif action == "close" and case.state == State.DELIVERED and product_case(case):
        if not settling_documents(case):
            raise InvalidInput(_("The case cannot be closed without its document: issue the document first."))
    return facts


def _delivery_facts(case: Case, delivery: Delivery | None, *, today: date, proof_pending: bool) -> dict:
    from .states import DELIVERY_METHODS

    if delivery is None or delivery.method not in DELIVERY_METHODS:
        raise InvalidInput(_("Choose how the document was delivered."))
    _label, _phrase, needs_tracking, needs_proof = DELIVERY_METHODS[delivery.method]
    if delivery.delivered_on is None:
        raise InvalidInput(_("Give the date of delivery."))
    if delivery.delivered_on > today:
        raise InvalidInput(_("The date of delivery cannot be in the future."))
    if delivery.delivered_on < _settled_on(case):
        raise InvalidInput(_("The date of delivery cannot be earlier than the day the case was settled."))
    facts = {"method": delivery.method, "date": delivery.delivered_on.isoformat()}
    tracking = (delivery.tracking_no or "").strip()
    if needs_tracking and not _TRACKING.match(tracking):
        raise InvalidInput(_("Give the tracking number of the registered letter (5–40 letters and digits)."))
    if tracking and needs_tracking:
        facts["tracking_no"] = tracking
    if delivery.proof is not None and delivery.proof[1] not in PROOF_TYPES:
        raise InvalidInput(_("Attach the proof as a PDF, JPEG or PNG file."))
    if needs_proof and delivery.proof is None and not proof_pending:
        raise InvalidInput(
            _("Attach the proof of delivery: the scan of the return receipt or of the signed confirmation.")
        )
    return facts


def case_transition_check(
    case_id: int,
    action: str,
    *,
    actor,
    note: str = "",
    assignee=None,
    due_days: int | None = None,
    forwarded_to: str = "",
    new_date: date | None = None,
    document: str | None = None,
    delivery: Delivery | None = None,
) -> dict:
    """The checks of `case_transition` without doing anything (for the confirmation page): the facts the
    step would record, or the same error it would raise. The proof of delivery may still be missing."""
    case = Case.objects.get(pk=case_id)
    _check_staff(case, actor)
    t = TRANSITIONS.get(action)
    if t is None or not t.manual or case.state not in t.sources:
        raise InvalidInput(_("This action is not possible in the case's present state."))
    return _transition_facts(
        case,
        action,
        today=timezone.localdate(),
        note=note,
        assignee=assignee,
        due_days=due_days,
        forwarded_to=forwarded_to,
        new_date=new_date,
        document=document,
        delivery=delivery,
        proof_pending=True,
    )


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
    document: str | None = None,
    delivery: Delivery | None = None,
) -> Case:
    """Carry out one transition of the table (states.TRANSITIONS), with its timeline entry and its facts.
    Every input is checked before anything is written. `document`: the key of the outgoing document that
    settles the case (selectors.settling_documents; None: all of them); `delivery`: how it was delivered."""
    case = Case.objects.select_for_update().get(pk=case_id)
    _check_staff(case, actor)
    t = TRANSITIONS.get(action)
    if t is None or not t.manual or case.state not in t.sources:
        raise InvalidInput(_("This action is not possible in the case's present state."))
    today = timezone.localdate()
    note = note.strip()[:2000]
    facts = _transition_facts(
        case,
        action,
        today=today,
        note=note,
        assignee=assignee,
        due_days=due_days,
        forwarded_to=forwarded_to,
        new_date=new_date,
        document=document,
        delivery=delivery,
    )
    before, old_deadline = case.state, case.deadline
    if action == "assign":
        case.assigned_to = assignee
        if case.state == State.REGISTERED:
            case.state = State.ASSIGNED
    if action == "mark_complicated":
        case.deadline_kind = DeadlineKind.TWO_MONTHS
    if t.pause:
        Pause.objects.create(case=case, started_on=today, reason=t.pause)
    if action == "request_supplement":
        case.supplement_due = date.fromisoformat(facts["date"])
    if t.resume:
        case.pauses.filter(ended_on__isnull=True).update(ended_on=today)
        case.supplement_due = None
    if action == "forward":
        case.forwarded_to = facts["forwarded_to"]
    if action == "notify_delay":
        case.deadline_notified = new_date
    if action == "deliver" and delivery is not None and delivery.proof is not None:
        name, mime, content = delivery.proof
        proof = case_document_add(
            case,
            name=name,
            content_type=mime,
            content=content,
            direction="in",
            actor=actor,
            kind="delivery_proof",
        )
        facts.update(proof=str(proof.pk), proof_name=proof.name)
    if t.target is not None:
        case.state = t.target
    case.deadline = _deadline(case, today)
    case.save()
    _entry(case, action, actor=actor, before=before, public=t.public, data={**facts, "note": note})
    if t.public:
        _notify_after_commit(case, t.mail, {**facts, "deadline": case.deadline.isoformat()}, note=note)
    if action == "forward" and facts.get("forward_office"):
        from .forwarding import case_forward_send

        sent = case_forward_send(case, facts["forward_office"], note=note)
        _entry(
            case,
            "exchange_sent",
            actor=actor,
            before=case.state,
            public=False,
            data={"office": facts["forwarded_to"], "envelope": str(sent.envelope_id)},
        )
    if action == "settle":
        from .delivering import case_deliveries_start

        case_deliveries_start(case, facts.get("document_keys", []))
    if action == "notify_delay":
        notice = _delay_notice(case, actor, reasons=note, old_deadline=old_deadline, new_date=new_date)
        from .delivering import case_deliveries_start

        case_deliveries_start(case, [f"case:{notice.pk}"])
    if action == "request_supplement":
        call = _supplement_call(case, actor, request=note, due=case.supplement_due, today=today)
        from .delivering import case_deliveries_start

        case_deliveries_start(case, [f"case:{call.pk}"], period_days=(case.supplement_due - today).days)
    return case


def _system_transition(
    case: Case,
    action: str,
    *,
    note: str = "",
    due: date | None = None,
    actor=None,
    data: dict | None = None,
) -> bool:
    """A transition the system carries out (the fee; the applicant's own steps): same table, same timeline;
    False when the case is no longer in a state it applies to (a repeated or late callback changes
    nothing). `data`: the facts the step records (fee document number, amount, dates)."""
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
    note = (note or "").strip()[:2000]
    facts = dict(data or {})
    _entry(case, action, actor=actor, before=before, public=t.public, data={**facts, "note": note})
    if t.public:
        # the applicant's own words (a withdrawal's reason) are not sent back as the office's note
        own = actor is not None and actor.pk == case.applicant_user_id
        _notify_after_commit(
            case, t.mail, {**facts, "deadline": case.deadline.isoformat()}, note="" if own else note
        )
    return True


def _money(value) -> str:
    return f"{value:.2f}".replace(".", ",")


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
            data={
                "number": doc.number,
                "amount": _money(doc.amount),
                "due": doc.due_date.isoformat(),
                "payment_id": str(payment.pk),
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
        quote = fee_quote(case.service.fee_rule, case.submission.data, case.office)
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
        quote = fee_quote(rule or "free", data, case.office)
        if not quote.final and rule == "pgik_materials":
            raise InvalidInput(
                _("The county has no rates for the materials asked for: give the lines of the fee (DOO).")
            )
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
    from services.documents.selectors import documents_of_case, jobs_of_case

    if change.case_id is None:
        return
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=change.case_id).first()
        if case is None:
            return
        facts = {"document_id": change.document_id, "number": change.number, "kind": change.kind}
        replaced = next(
            (d.replaces for d in documents_of_case(case.pk) if str(d.pk) == change.document_id), None
        )
        if replaced is not None:
            facts["replaces"] = replaced.number
        _entry(case, "document_issued", actor_id=change.actor_id, before=case.state, public=True, data=facts)
        _notify_after_commit(
            case,
            gettext_lazy("A document has been issued in your case %(sign)s: %(number)s."),
            facts,
        )
        if all(j.status == "issued" for j in jobs_of_case(case.pk)) and case.state == State.IN_PROGRESS:
            issued = documents_of_case(case.pk)
            keys = [f"issued:{d.pk}" for d in issued]
            if _system_transition(
                case, "settle", data={"documents": ", ".join(d.number for d in issued), "document_keys": keys}
            ):
                from .delivering import case_deliveries_start

                case_deliveries_start(case, keys)


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
        facts = _payment_facts(change)
        # the payments' own words only where they give a reason (refund, cancellation, difference)
        note = change.note if change.event in ("refunded", "cancelled", "flagged") else ""
        if change.event == "paid":
            moved = _payments_settled(case) and _system_transition(
                case, "payment_received", data=facts, actor=None
            )
            if moved:
                case_documents_prepare(case)
        elif change.event == "cancelled":
            moved = _payments_settled(case) and _system_transition(
                case, "payment_cancelled", note=note, data=facts
            )
        if not moved:
            _entry(
                case,
                f"payment_{change.event}",
                actor_id=change.actor_id,
                before=case.state,
                public=change.public,
                data={**facts, "note": note[:2000]},
            )


def _payment_facts(change) -> dict:
    """The facts of a payment's change for the timeline: fee document, amount, how it was paid and, for a
    bank transfer booked by a clerk, the booking date and the statement's reference."""
    from services.payments.selectors import payment_get

    payment = payment_get(change.payment_id)
    if payment is None:
        return {"payment_id": change.payment_id}
    facts = {
        "payment_id": str(payment.pk),
        "number": payment.document.number,
        "amount": _money(payment.amount),
    }
    attempt = payment.attempts.filter(status="paid").first() if change.event == "paid" else None
    if change.event == "started":
        attempt = payment.attempts.order_by("-created_at").first()
    if attempt is not None:
        facts["how"] = attempt.provider
        facts["amount"] = _money(attempt.amount_zl)
        booked, sep, reference = (attempt.statement or "").partition(": ")
        if attempt.provider == "transfer" and sep:
            facts.update(booked_on=booked, reference=reference[:200])
    return facts


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
        kind="notice_art36",
    )


def _supplement_call(case: Case, actor, *, request: str, due: date, today: date) -> CaseDocument:
    """The call to supplement the request (art. 64 § 2 KPA) as a PDF kept with the case (outgoing document),
    delivered to the applicant like any letter; the time to answer runs from its delivery."""
    import weasyprint
    from django.template.loader import render_to_string

    with override("pl"):
        html = render_to_string(
            "cases/call_art64.html",
            {
                "case": case,
                "request": request,
                "days": (due - today).days,
                "due": due,
                "today": today,
                "clerk": actor,
            },
        )
    return case_document_add(
        case,
        name=f"wezwanie-art64-{case.sign}.pdf".replace("/", "-"),
        content_type="application/pdf",
        content=weasyprint.HTML(string=html).write_pdf(),
        direction="out",
        actor=actor,
        kind="call_art64",
    )


@transaction.atomic
def case_note_add(case_id: int, *, actor, note: str, public: bool = False) -> TimelineEntry:
    case = Case.objects.get(pk=case_id)
    _check_staff(case, actor)
    note = note.strip()[:2000]
    if not note:
        raise InvalidInput(_("The note is empty."))
    entry = _entry(case, "note", actor=actor, before=case.state, public=public, data={"note": note})
    if public:
        _notify_after_commit(
            case, gettext_lazy("%(office)s has added a note to your case %(sign)s: %(note)s"), {"note": note}
        )
    return entry


def case_document_add(
    case: Case, *, name: str, content_type: str, content: bytes, direction: str, actor=None, kind: str = ""
) -> CaseDocument:
    from django.core.files.base import ContentFile

    digest = hashlib.sha256(content).hexdigest()
    return CaseDocument.objects.create(
        case=case,
        direction=direction,
        kind=kind,
        name=name[:200],
        content_type=content_type,
        sha256=digest,
        file=ContentFile(content, name=digest),
        added_by=actor,
    )


@transaction.atomic
def case_outgoing_document_add(
    case_id: int, *, actor, kind: str, name: str, content_type: str, content: bytes
) -> CaseDocument:
    """A clerk files the office's outgoing document (a decision, or a letter or certificate) with the case:
    the document a case without a product of the portal is settled by. PDF, JPEG or PNG only."""
    from .states import SETTLING_KINDS

    case = Case.objects.select_for_update().get(pk=case_id)
    _check_staff(case, actor)
    if kind not in SETTLING_KINDS:
        raise InvalidInput(_("Choose what the document is: a decision, or a letter or certificate."))
    if content_type not in PROOF_TYPES or not content:
        raise InvalidInput(_("Attach the document as a PDF, JPEG or PNG file."))
    doc = case_document_add(
        case, name=name, content_type=content_type, content=content, direction="out", actor=actor, kind=kind
    )
    _entry(
        case,
        "document_added",
        actor=actor,
        before=case.state,
        public=False,
        data={"document_id": str(doc.pk), "name": doc.name, "kind": kind},
    )
    return doc


def case_transfer_book(case_id: int, payment_id, *, actor, amount, booked_on: date, reference: str) -> str:
    """A clerk books the bank transfer paying one of the case's fee documents (amount, booking date and
    the statement's reference), from the case page: the payments' own booking, which settles the fee
    (and through its callback moves the case on) or flags a difference. 'settled' | 'mismatch' | ..."""
    from services.payments.actions import payment_transfer_book
    from services.payments.selectors import payments_of_case

    case = Case.objects.get(pk=case_id)
    _check_staff(case, actor)
    if not any(str(p.pk) == str(payment_id) for p in payments_of_case(case.pk)):
        raise InvalidInput(_("Choose a fee document of this case."))
    return payment_transfer_book(
        payment_id, actor=actor, amount=amount, booked_on=booked_on, statement=reference
    )


def case_url(case: Case) -> str:
    """The absolute address where the applicant follows the case: "my case" for an applicant with an
    account, else the public status page with the tracking code filled in."""
    if case.applicant_user_id:
        try:
            path = reverse("my_case", args=[case.pk])
        except NoReverseMatch:
            path = f"/moje-sprawy/{case.pk}/"
    else:
        path = reverse("case_status") + "?" + urlencode({"ref": case.tracking_code})
    return settings.GISPORTAL_PUBLIC_URL + path


def _notify_after_commit(case: Case, text, params: dict | None = None, *, note: str = "") -> None:
    """E-mail the applicant about a step in the case, in Polish, after the transaction commits: `text` is a
    whole sentence (a lazy msgid worded with `params` and the case's %(sign)s and %(office)s in Polish at
    sending time, or a sentence already worded); `note`: the clerk's words for the applicant, if any.
    The link is absolute (GISPORTAL_PUBLIC_URL)."""
    if not case.applicant_email:
        return
    email, sign, state, office = case.applicant_email, case.sign, case.state, case.office.name
    url = case_url(case)
    values = Facts({**(params or {}), "sign": sign, "office": office})

    def send():
        from .states import delivery_phrase, local_date

        with override("pl"):
            for key, value in values.items():  # days as people read them: "21 grudnia 2026"
                values[key] = local_date(value)
            if "method" in values:
                values["method"] = delivery_phrase(values["method"])
            sentence = str(text) % values if params is not None else str(text)
            subject = _("Case %(sign)s: %(state)s") % {"sign": sign, "state": State(state).label}
            parts = [_("Hello,"), sentence]
            if note:
                parts.append(_("The office's note: %(note)s") % {"note": note})
            parts.append(
                _("You can follow the case at %(url)s (case sign %(sign)s).") % {"url": url, "sign": sign}
            )
            parts.append(office)
            body = "\n\n".join(parts)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        except Exception:
            log.exception("case notification to the applicant failed (%s)", sign)

    transaction.on_commit(send)


# ---- the applicant's side (my case page, access codes) ------------------------------------------------
REISSUE_WINDOW = 24 * 3600
REISSUE_LIMIT = 3  # new access codes per case per day


@transaction.atomic
def case_access_code_reissue(case_id: int, *, actor=None) -> str:
    """A new random access code for the case (the old one stops working); returns it in plain text once.
    A clerk of the case's office, the applicant's own account, or the applicant's e-mail address (actor=None,
    the public form: the code then goes only to that address) may ask; at most REISSUE_LIMIT a day."""
    case = Case.objects.select_for_update().select_related("office").get(pk=case_id)
    staff = actor is not None and actor.has_perm("gisportal.work_cases")
    if staff:
        _check_staff(case, actor)
    elif actor is not None and case.applicant_user_id != actor.pk:
        raise Forbidden(_("This is not your case."))
    key = f"gisportal:access-reissue:{case.pk}"
    n = cache.get_or_set(key, 0, timeout=REISSUE_WINDOW)
    if n >= REISSUE_LIMIT:
        raise InvalidInput(_("A new access code was already issued several times today. Try again tomorrow."))
    cache.incr(key)
    access = _code(10)
    case.access_code_hash = access_code_hash(access)
    case.save(update_fields=["access_code_hash", "updated_at"])
    TimelineEntry.objects.create(case=case, actor=actor, action="access_reissued", public=False)
    if case.applicant_email:
        _notify_after_commit(
            case,
            _(
                "A new access code was issued for case %(sign)s: %(access)s (tracking code %(tracking)s). "
                "The previous access code no longer works."
            )
            % {"sign": case.sign, "access": access, "tracking": case.tracking_code},
        )
    return access


def _own_case(case_id: int, user) -> Case:
    """The case, row-locked, if `user` is its applicant (the same answer for another's case and none)."""
    case = Case.objects.select_for_update().select_related("office").filter(pk=case_id).first()
    if case is None or user is None or not user.is_authenticated or case.applicant_user_id != user.pk:
        raise Forbidden(_("This is not your case."))
    return case


@transaction.atomic
def case_supplement_answer(case_id: int, *, user, text: str, files=()) -> Case:
    """The applicant answers a call to supplement the request (text and/or attachments). Everything is stored
    with the case first; the pause of the deadline ends on the day of the answer (art. 35 § 5 KPA) and the
    case goes back to the clerk. Attachments pass the e-forms' allow-list (PDF, JPEG, PNG, XML, text)."""
    from services.forms.actions import check_attachments

    case = _own_case(case_id, user)
    if case.state != State.WAITING_APPLICANT:
        raise InvalidInput(_("The office is not waiting for a supplement in this case."))
    text = (text or "").strip()
    if "\x00" in text:
        raise InvalidInput(_("The value holds a NUL character."))
    uploads = check_attachments({"max_files": 5}, list(files))  # FormInvalid (a GisportalError) on a bad file
    if not text and not uploads:
        raise InvalidInput(_("Write your answer or attach at least one file."))
    if len(text) > 10000:
        raise InvalidInput(_("The answer is longer than 10,000 characters; attach it as a file instead."))
    if text:
        case_document_add(
            case,
            name=_("Supplement %(date)s.txt") % {"date": timezone.localdate().isoformat()},
            content_type="text/plain",
            content=text.encode(),
            direction="in",
            actor=user,
        )
    for name, mime, content in uploads:
        case_document_add(case, name=name, content_type=mime, content=content, direction="in", actor=user)
    note = _("Answer to the call to supplement received (%(n)s file(s)).") % {
        "n": len(uploads) + (1 if text else 0)
    }
    _system_transition(case, "supplement_received", note=note, actor=user)
    return case


@transaction.atomic
def case_withdraw_by_applicant(case_id: int, *, user, reason: str = "") -> Case:
    """The applicant withdraws the request (art. 105 § 2 KPA: the office then discontinues the proceedings)."""
    case = _own_case(case_id, user)
    if case.state not in TRANSITIONS["withdraw"].sources:
        raise InvalidInput(
            _("The request can no longer be withdrawn: the case is %(state)s.")
            % {"state": State(case.state).label}
        )
    reason = (reason or "").strip().replace("\x00", "")[:1000]
    _system_transition(case, "withdraw", note=reason, actor=user)
    return case
