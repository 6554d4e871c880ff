"""The case register's side of the exchange between offices (services/exchange does not know cases).

- Forwarding (KPA art. 65): a clerk forwards a case to the competent office chosen from the offices the hub
  can reach; the case's request, its attachments and incoming documents travel in one sealed envelope written
  with the step, and the applicant is told (the transition's own e-mail).
- An envelope that arrives: a forwarded case is registered at the receiving office as a new case (channel
  "from another office", its files as incoming documents, the sending office and its sign in the timeline);
  an answer to this office's request goes into the timeline of the case the request came from."""

from __future__ import annotations

from django.utils import timezone

from services.exchange import actions as exchange
from services.exchange.models import Envelope, Kind

from .models import Case, DeadlineKind

MAX_FILES_BYTES = 6 * 1024 * 1024  # what fits an envelope (services/exchange/envelope.py)


def case_files(case: Case) -> list[tuple[str, str, bytes]]:
    """The files that travel with a forwarded case: the request's attachments, then incoming documents."""
    out, total = [], 0
    sources = []
    if case.submission_id is not None:
        sources += [(a.name, a.content_type, a.file) for a in case.submission.attachments.order_by("id")]
    sources += [
        (d.name, d.content_type, d.file) for d in case.documents.filter(direction="in").order_by("added_at")
    ]
    for name, mime, f in sources:
        with f.open("rb") as fh:
            content = fh.read()
        if total + len(content) > MAX_FILES_BYTES:
            break
        total += len(content)
        out.append((name, mime, content))
    return out


def case_forward_send(case: Case, to_office: str, *, note: str) -> Envelope:
    """The envelope of a forwarded case (in the caller's transaction)."""
    sub = case.submission
    body = {
        "case": {
            "sign": case.sign,
            "subject": case.subject,
            "received_on": case.received_on.isoformat(),
            "channel": case.channel,
            "jrwa": case.jrwa,
            "deadline_kind": case.deadline_kind,
            "parcels": list(case.parcels or []),
        },
        "applicant": {
            "name": case.applicant_name,
            "email": case.applicant_email,
            "address": case.applicant_address,
            "account": case.applicant_user.get_username() if case.applicant_user_id else "",
        },
        "request": {"service": sub.service.code, "version": sub.service.version, "data": sub.data}
        if sub
        else None,
        "note": note,
    }
    return exchange.envelope_send(
        office=case.office,
        to_office=to_office,
        kind=Kind.CASE_FORWARD,
        subject=f"{case.sign}: {case.subject}"[:300],
        body=body,
        files=case_files(case),
        case_id=case.pk,
    )


def case_from_envelope(row: Envelope, env: dict) -> int | None:
    """Exchange's callback (registered at start-up) for an envelope that arrived."""
    from .actions import _entry, case_document_add, case_register

    if row.kind == Kind.ANSWER and row.in_reply_to:
        request = Envelope.objects.filter(
            envelope_id=row.in_reply_to, direction="out", office=row.office
        ).first()
        case = (  # the requesting office's own case only (a clerk typed its number into the request)
            Case.objects.filter(pk=request.case_id, office=row.office).first()
            if request and request.case_id
            else None
        )
        if case is not None:
            _entry(
                case,
                "exchange_answer",
                actor=None,
                before=case.state,
                public=False,
                data={
                    "office": row.peer_office_name,
                    "subject": row.subject,
                    "envelope": str(row.envelope_id),
                },
            )
        return case.pk if case is not None else None
    if row.kind != Kind.CASE_FORWARD:
        return None
    body = env.get("body") or {}
    info, applicant = body.get("case") or {}, body.get("applicant") or {}
    office = row.office
    units = office.units.order_by("id")
    unit = units.filter(code="KAN").first() or units.first()
    kind = (
        info.get("deadline_kind")
        if info.get("deadline_kind") in DeadlineKind.values
        else DeadlineKind.ONE_MONTH
    )
    account = None
    if not row.peer_hub and applicant.get("account"):  # the same hub: the applicant's own account follows it
        from django.contrib.auth import get_user_model

        account = get_user_model().objects.filter(username=applicant["account"]).first()
    case, _access = case_register(
        office=office,
        unit=unit,
        jrwa=str(info.get("jrwa") or "0123")[:10],
        subject=str(info.get("subject") or row.subject)[:300],
        channel="exchange",
        applicant_name=str(applicant.get("name") or "—")[:200],
        applicant_email=str(applicant.get("email") or "")[:254],
        applicant_address=str(applicant.get("address") or "")[:300],
        applicant_user=account,
        received_on=timezone.localdate(),
        deadline_kind=kind,
        parcels=[str(p) for p in info.get("parcels") or []][:50],
    )
    for name, mime, content in exchange.envelope_files(row):
        case_document_add(case, name=name, content_type=mime, content=content, direction="in", kind="scan")
    _entry(
        case,
        "exchange_received",
        actor=None,
        before=case.state,
        public=True,
        data={
            "office": row.peer_office_name,
            "sign": str(info.get("sign", ""))[:60],
            "date": str(info.get("received_on", ""))[:10],
            "envelope": str(row.envelope_id),
        },
    )
    return case.pk


def case_signs(office, case_ids: list[int]) -> dict[int, str]:
    """Exchange's lookup (registered at start-up): the signs of these cases of the office (others left out)."""
    return dict(Case.objects.filter(office=office, pk__in=case_ids).values_list("pk", "sign"))
