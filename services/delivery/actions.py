"""Writes of deliveries. Order of work, so that nothing is lost and every step may be repeated:

1. `delivery_create` stores the delivery with its own copy of the document (once per document and channel);
   one for the portal inbox arrives there at once (the inbox is ours);
2. `delivery_send` hands an e-Doręczenia delivery to the provider after the commit (Celery; retried with
   back-off by the daily job); paper waits for the clerk to post it;
3. it ends in `_deliver` (acknowledged in the inbox, opened in the e-delivery box, signed for, or deemed
   delivered by `deliveries_settle`, the daily job), which seals the proof of delivery (UPD) and tells the
   case register through DELIVERY_HOOKS after the commit.

Every write takes the delivery's row lock and checks its status first, so a repeated call, two workers or
a job run late change nothing twice. `now` is injectable everywhere for the time-controlled tests."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from gisportal.core.errors import InvalidInput, NotFound
from services.offices.sealing import verification_code_new

from . import adapters, proof, rules
from .models import Channel, Delivery, DeliveryEvent, How, Status

log = logging.getLogger(__name__)
RETRY_BASE = timedelta(minutes=2)
RETRY_MAX = timedelta(hours=6)


@dataclass(frozen=True)
class DeliveryDone:
    """What the case register hears when a delivery ends."""

    delivery_id: str
    case_id: int | None
    source: str
    channel: str
    how: str  # opened | signed | deemed | returned
    delivered_on: date | None
    period_ends: date | None
    kind: str
    title: str
    actor_id: int | None = None


DELIVERY_HOOKS: list[Callable[[DeliveryDone], object]] = []  # registered at start-up (services.cases)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def _event(d: Delivery, kind: str, at: datetime, *, actor=None, **data) -> None:
    DeliveryEvent.objects.create(delivery=d, at=at, kind=kind, actor=actor, data=data)


def _enqueue(delivery_id) -> None:
    from .tasks import delivery_send_task

    try:
        delivery_send_task.delay(str(delivery_id))
    except Exception:  # the broker is down: the daily job (and the sweep) sends it (the delivery is stored)
        log.warning("delivery %s not queued", delivery_id, exc_info=True)


# ---------------------------------------------------------------- creating and sending
def delivery_create(
    *,
    office,
    source: str,
    kind: str,
    title: str,
    content: bytes,
    file_name: str,
    channel: str,
    addressee_name: str,
    addressee_user=None,
    addressee_email: str = "",
    ade_address: str = "",
    postal_address: str = "",
    case_id: int | None = None,
    case_sign: str = "",
    content_type: str = "application/pdf",
    period_days: int | None = None,
    send: bool = True,
) -> Delivery:
    """Store a delivery (the one made before for this document and channel when there is one) and, after
    the commit, send it. Checks what the channel needs before storing anything. `period_days`: the days the
    addressee has from delivery (a call to supplement names its own); by default the kind's (rules.py)."""
    if channel not in Channel.values:
        raise InvalidInput(_("Unknown delivery channel."))
    if channel == Channel.PORTAL and addressee_user is None:
        raise InvalidInput(_("Delivery through the portal needs the addressee's account."))
    if channel == Channel.EDORECZENIA and not ade_address:
        raise InvalidInput(_("Delivery by e-Doręczenia needs the addressee's e-delivery address."))
    if channel == Channel.PAPER and not postal_address:
        raise InvalidInput(_("Delivery by post needs the addressee's postal address."))
    existing = Delivery.objects.filter(source=source, channel=channel).first()
    if existing is not None:
        return existing
    sha = hashlib.sha256(content).hexdigest()
    try:
        with transaction.atomic():
            d = Delivery.objects.create(
                office=office,
                case_id=case_id,
                case_sign=case_sign[:60],
                source=source[:80],
                kind=kind,
                title=title[:300],
                file=ContentFile(content, name=sha),
                file_name=file_name[:200],
                content_type=content_type,
                sha256=sha,
                channel=channel,
                addressee_user=addressee_user,
                addressee_name=addressee_name[:200],
                addressee_email=addressee_email or (addressee_user.email if addressee_user else ""),
                ade_address=ade_address,
                postal_address=postal_address[:300],
                period_days=period_days if period_days is not None else rules.period_days(kind),
            )
            now = timezone.now()
            _event(d, "created", now, channel=channel)
            if send and channel == Channel.PORTAL:  # the inbox is ours: it arrives at once
                _arrive_in_inbox(d, now)
            elif send and channel == Channel.EDORECZENIA:
                transaction.on_commit(lambda: _enqueue(d.pk))
    except IntegrityError:  # the same document and channel filed concurrently: the first one stands
        return Delivery.objects.get(source=source, channel=channel)
    return d


def delivery_send(delivery_id, *, now: datetime | None = None) -> Delivery:
    """Hand a stored delivery to its channel (nothing for one already on its way). Safe to repeat."""
    now = _now(now)
    with transaction.atomic():
        d = Delivery.objects.select_for_update().get(pk=delivery_id)
        if d.status != Status.PREPARED or d.channel == Channel.PAPER:
            return d  # paper goes out when the clerk posts it (delivery_paper_event "posted")
        if d.channel == Channel.PORTAL:
            _arrive_in_inbox(d, now)
            return d
    return _send_edoreczenia(delivery_id, now)


def _arrive_in_inbox(d: Delivery, now: datetime) -> None:
    d.status, d.sent_at, d.arrived_at = Status.AWAITING, now, now
    d.save(update_fields=["status", "sent_at", "arrived_at"])
    _event(d, "arrived", now)
    transaction.on_commit(lambda: _mail_arrived(d.pk))


def _send_edoreczenia(delivery_id, now: datetime) -> Delivery:
    d = Delivery.objects.get(pk=delivery_id)
    message = adapters.Message(
        delivery_id=str(d.pk),
        sender_ade=d.office.ade_address or "",
        recipient_ade=d.ade_address,
        subject=d.title,
        file_name=d.file_name,
        content=_content(d),
        content_type=d.content_type,
    )
    try:
        result = adapters.provider().send(message)
    except adapters.ProviderError as e:
        with transaction.atomic():
            d = Delivery.objects.select_for_update().get(pk=delivery_id)
            if d.status != Status.PREPARED:
                return d
            d.attempts += 1
            d.last_error = str(e)[:300]
            # refused for good (a bad address): no next attempt, the clerk sees last_error
            d.next_attempt_at = (
                now + min(RETRY_BASE * (2 ** min(d.attempts - 1, 12)), RETRY_MAX) if e.retry else None
            )
            d.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            _event(d, "send_failed", now, error=d.last_error, retry=e.retry)
        return d
    with transaction.atomic():
        d = Delivery.objects.select_for_update().get(pk=delivery_id)
        if d.status == Status.PREPARED:
            d.status, d.sent_at, d.provider_id = Status.SENT, now, result.message_id[:100]
            d.attempts += 1
            d.last_error, d.next_attempt_at = "", None
            d.save(
                update_fields=[
                    "status",
                    "sent_at",
                    "provider_id",
                    "attempts",
                    "last_error",
                    "next_attempt_at",
                ]
            )
            _event(d, "sent", now, provider_id=d.provider_id)
    for evidence in result.evidences:
        delivery_evidence(delivery_id, evidence)
    return Delivery.objects.get(pk=delivery_id)


def delivery_evidence(delivery_id, evidence: adapters.Evidence) -> Delivery:
    """An e-Doręczenia proof: acceptance (the message is in the addressee's box) or receipt (opened, or
    deemed by the provider). Each is recorded once."""
    with transaction.atomic():
        d = Delivery.objects.select_for_update().get(pk=delivery_id)
        if d.events.filter(kind=f"evidence_{evidence.kind}").exists():
            return d
        _event(
            d,
            f"evidence_{evidence.kind}",
            evidence.at,
            deemed=evidence.deemed,
            xml=evidence.xml.decode("utf-8", "replace")[:20000],
        )
        if evidence.kind == "acceptance" and d.status in (Status.PREPARED, Status.SENT):
            d.status, d.arrived_at = Status.AWAITING, evidence.at
            d.save(update_fields=["status", "arrived_at"])
        elif evidence.kind == "receipt" and d.status != Status.DELIVERED:
            if d.arrived_at is None:
                d.arrived_at = evidence.at
            if evidence.deemed:  # the provider's own count; ours decides the day (rules.deemed_on)
                day = rules.deemed_on(
                    d.channel, arrived_on=timezone.localdate(d.arrived_at), first_notice_on=None
                )
                _deliver(d, How.DEEMED, _local_midnight(day) if day else evidence.at)
            else:
                _deliver(d, How.OPENED, evidence.at)
    return d


# ---------------------------------------------------------------- the addressee
def delivery_acknowledge(delivery_id, user, *, now: datetime | None = None) -> Delivery:
    """The addressee confirms receipt in the portal inbox: delivered now (or already, when it was deemed
    delivered before): the document opens. Anyone else: NotFound, and the attempt is logged."""
    now = _now(now)
    addressee = Delivery.objects.filter(pk=delivery_id).values_list("addressee_user_id", flat=True).first()
    if addressee is not None and addressee != getattr(user, "pk", None):
        delivery_access_refused(delivery_id, user)  # outside the transaction below: NotFound rolls it back
        raise NotFound(_("There is no such delivery."))
    with transaction.atomic():
        d = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if d is None or d.channel != Channel.PORTAL or d.addressee_user_id != getattr(user, "pk", None):
            raise NotFound(_("There is no such delivery."))
        if d.status == Status.DELIVERED:
            return d
        if d.status != Status.AWAITING:
            raise InvalidInput(_("This delivery has not arrived yet."))
        _event(d, "acknowledged", now, actor=user)
        _deliver(d, How.OPENED, now, actor=user)
    return d


def delivery_access_refused(delivery_id, user) -> None:
    """Record that somebody who is not the addressee asked for a delivery (the page answers 404)."""
    d = Delivery.objects.filter(pk=delivery_id).first()
    if d is not None:
        _event(d, "access_refused", timezone.now(), actor=user if getattr(user, "pk", None) else None)


# ---------------------------------------------------------------- paper (the clerk records what the post did)
PAPER_EVENTS = ("posted", "signed", "first_notice", "second_notice", "returned")


def delivery_paper_event(
    delivery_id, event: str, *, on: date, actor, tracking_no: str = "", now: datetime | None = None
) -> Delivery:
    """posted (with the tracking number), signed (the return receipt came back signed on `on`),
    first_notice / second_notice (the post left a notice on `on`), returned (came back uncollected or
    undeliverable). Checked against what happened before; the same event twice changes nothing."""
    now = _now(now)
    if event not in PAPER_EVENTS:
        raise InvalidInput(_("Unknown event."))
    if on > timezone.localdate(now):
        raise InvalidInput(_("The date cannot be in the future."))
    with transaction.atomic():
        d = Delivery.objects.select_for_update().get(pk=delivery_id)
        if d.channel != Channel.PAPER:
            raise InvalidInput(_("This is not a delivery by post."))
        if d.status in (Status.DELIVERED, Status.RETURNED) and event != "returned":
            return d
        if event == "posted":
            tracking = (tracking_no or "").strip()
            if not tracking:
                raise InvalidInput(_("Give the postal tracking number."))
            if d.status != Status.PREPARED:
                return d
            d.status, d.sent_at, d.tracking_no = Status.AWAITING, _local_midnight(on), tracking[:40]
            d.arrived_at = d.sent_at
            d.save(update_fields=["status", "sent_at", "tracking_no", "arrived_at"])
        elif d.status == Status.PREPARED:
            raise InvalidInput(_("Record the posting (with its tracking number) first."))
        elif d.sent_at and on < timezone.localdate(d.sent_at):
            raise InvalidInput(_("The date cannot be earlier than the posting."))
        elif event == "signed":
            _event(d, event, now, actor=actor, on=on.isoformat())
            _deliver(d, How.SIGNED, _local_midnight(on), actor=actor)
            return d
        elif event == "first_notice":
            if d.first_notice_on is not None:
                return d
            d.first_notice_on = on
            d.save(update_fields=["first_notice_on"])
        elif event == "second_notice":
            if d.first_notice_on is None:
                raise InvalidInput(_("Record the first notice first."))
            if d.second_notice_on is not None:
                return d
            d.second_notice_on = on
            d.save(update_fields=["second_notice_on"])
        elif event == "returned":
            if d.status == Status.DELIVERED:
                # an uncollected letter comes back after it was deemed delivered: that stands (art. 44 § 4)
                _event(d, event, now, actor=actor, on=on.isoformat(), after_delivery=True)
                d.returned_on = on
                d.save(update_fields=["returned_on"])
                return d
            if d.first_notice_on is not None:
                _event(d, event, now, actor=actor, on=on.isoformat())
                d.returned_on = on
                d.save(update_fields=["returned_on"])
                return d  # deemed delivered on its day by the daily job, whenever the letter comes back
            d.status, d.returned_on = Status.RETURNED, on
            d.save(update_fields=["status", "returned_on"])
            _event(d, event, now, actor=actor, on=on.isoformat())
            transaction.on_commit(lambda: _tell(d, "returned", None, actor))
            return d
        _event(d, event, now, actor=actor, on=on.isoformat(), tracking_no=d.tracking_no)
    return d


# ---------------------------------------------------------------- delivered
def _deliver(d: Delivery, how: str, at: datetime, *, actor=None) -> None:
    """Mark delivered (the caller holds the row lock), seal the proof, tell the case after the commit."""
    if d.status == Status.DELIVERED:
        return
    day = timezone.localdate(at)
    d.status, d.delivered_at, d.delivered_how = Status.DELIVERED, at, how
    d.period_ends = rules.period_end_days(day, d.period_days)
    d.proof_code = d.proof_code or verification_code_new()
    d.proof_xml = proof.sealed(d)
    d.save(
        update_fields=["status", "delivered_at", "delivered_how", "period_ends", "proof_code", "proof_xml"]
    )
    _event(
        d,
        "delivered",
        at,
        actor=actor,
        how=how,
        period_ends=d.period_ends.isoformat() if d.period_ends else None,
    )
    transaction.on_commit(lambda: _tell(d, how, day, actor))


def _tell(d: Delivery, how: str, day: date | None, actor) -> None:
    change = DeliveryDone(
        delivery_id=str(d.pk),
        case_id=d.case_id,
        source=d.source,
        channel=d.channel,
        how=how,
        delivered_on=day,
        period_ends=d.period_ends,
        kind=d.kind,
        title=d.title,
        actor_id=getattr(actor, "pk", None),
    )
    for hook in DELIVERY_HOOKS:
        try:
            hook(change)
        except Exception:
            log.exception("after-delivery step failed for %s", d.pk)


# ---------------------------------------------------------------- the daily job
def deliveries_settle(*, now: datetime | None = None) -> dict[str, int]:
    """What the law and the providers decided since the last run: e-delivery proofs fetched, unopened
    deliveries deemed delivered on their day, reminders sent, failed sends retried. Idempotent: safe to run
    twice, late, or after days without a run (each delivery is judged against `now`)."""
    now = _now(now)
    today = timezone.localdate(now)
    counts = {"evidences": 0, "deemed": 0, "reminders": 0, "retried": 0}
    for d in Delivery.objects.filter(
        channel=Channel.EDORECZENIA, status__in=(Status.SENT, Status.AWAITING)
    ).exclude(provider_id=""):
        try:
            found = adapters.provider().evidences(d.provider_id)
        except adapters.ProviderError as e:
            log.warning("e-delivery proofs of %s not fetched: %s", d.pk, e)
            continue
        for evidence in found:
            before = d.events.count()
            delivery_evidence(d.pk, evidence)
            counts["evidences"] += int(Delivery.objects.get(pk=d.pk).events.count() > before)
    unsent = Delivery.objects.filter(
        status=Status.PREPARED, channel__in=(Channel.EDORECZENIA, Channel.PORTAL)
    ).filter(
        Q(next_attempt_at__lte=now)
        | Q(next_attempt_at__isnull=True, attempts=0, created_at__lte=now - timedelta(minutes=10))
    )
    for d in unsent:
        delivery_send(d.pk, now=now)
        counts["retried"] += 1
    for d in Delivery.objects.filter(status=Status.AWAITING):
        day = rules.deemed_on(
            d.channel,
            arrived_on=timezone.localdate(d.arrived_at) if d.arrived_at else None,
            first_notice_on=d.first_notice_on,
        )
        if day is not None and day <= today:
            with transaction.atomic():
                locked = Delivery.objects.select_for_update().get(pk=d.pk)
                if locked.status == Status.AWAITING:
                    _deliver(locked, How.DEEMED, _local_midnight(day))
                    counts["deemed"] += 1
            continue
        if d.channel in (Channel.PORTAL, Channel.EDORECZENIA) and d.arrived_at:
            counts["reminders"] += _remind(d, today)
    return counts


def _remind(d: Delivery, today: date) -> int:
    days = tuple(settings.GISPORTAL_DELIVERY_REMINDER_DAYS)
    due = rules.reminders_due(timezone.localdate(d.arrived_at), today, days, list(d.reminders or []))
    if not due or not d.addressee_email:
        return 0
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=d.pk)
        due = rules.reminders_due(
            timezone.localdate(locked.arrived_at), today, days, list(locked.reminders or [])
        )
        if not due or locked.status != Status.AWAITING:
            return 0
        locked.reminders = sorted({*(locked.reminders or []), *due})
        locked.save(update_fields=["reminders"])
        _event(locked, "reminded", timezone.now(), days=due)
        transaction.on_commit(lambda: _mail_arrived(locked.pk, reminder=True))
    return 1


# ---------------------------------------------------------------- e-mail and files
def _content(d: Delivery) -> bytes:
    with d.file.open("rb") as f:
        return f.read()


def inbox_url(d: Delivery) -> str:
    return settings.GISPORTAL_PUBLIC_URL + reverse("delivery_detail", args=[d.pk])


def _mail_arrived(delivery_id, *, reminder: bool = False) -> None:
    """Tell the addressee by e-mail that a document awaits (a notice: its failure is logged, never raised)."""
    try:
        _send_arrived(delivery_id, reminder=reminder)
    except Exception:
        log.exception("notice of delivery %s not sent", delivery_id)


def _send_arrived(delivery_id, *, reminder: bool) -> None:
    d = Delivery.objects.select_related("office").get(pk=delivery_id)
    if not d.addressee_email or d.status != Status.AWAITING:
        return
    deemed = rules.deemed_on(d.channel, arrived_on=timezone.localdate(d.arrived_at), first_notice_on=None)
    with override("pl"):
        when = date_format(deemed, "j E Y") if deemed else ""
        if d.channel == Channel.PORTAL:
            where = _("Open it in your inbox on the portal: %(url)s") % {"url": inbox_url(d)}
        else:
            where = _("It is in your e-Doręczenia box (%(address)s).") % {"address": d.ade_address}
        lines = [
            _("Hello,"),
            (
                _("Reminder: %(office)s sent you a document: %(title)s.")
                if reminder
                else _("%(office)s sent you a document: %(title)s.")
            )
            % {"office": d.office.name, "title": d.title},
            where,
            _(
                "If you do not confirm its receipt, it will be deemed delivered on %(day)s (the law counts 14 days "
                "from its arrival), and any period it starts will run from then."
            )
            % {"day": when},
        ]
        subject = _("A document from %(office)s awaits you") % {"office": d.office.name}
    send_mail(subject, "\n\n".join(lines), settings.DEFAULT_FROM_EMAIL, [d.addressee_email])
