"""Writes of fees and payments. Money rules (DOMAIN.md §10, issue "Online fee payment"):

- a fee document is issued once per key (idempotent) with its number taken under a row lock, sealed,
  and never changed; its payment starts `due`;
- a payment is started with one gateway at a time; an interrupted attempt is resumed (its redirect
  again) instead of registering a second transaction, and an open attempt with another gateway is
  asked for its status first, so nobody is charged twice for one document;
- a notification counts only when its signature verifies over the raw body, its amount and currency
  are the document's, and the gateway confirms it (Przelewy24's verify call); then one settlement under
  a row lock, whatever duplicates arrive, in whatever order, in parallel; money that arrives after the
  settlement or after a cancellation is recorded and flagged for a refund, never lost;
- everything odd is a Discrepancy for a clerk, never settled or changed by itself;
- each change reaches the case register through PAYMENT_HOOKS after the commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from gisportal.core.errors import Forbidden, GisportalError, InvalidInput, NotFound
from services.offices.sealing import verification_code_new
from services.offices.seals import seal_for
from services.offices.selectors import office_of

from . import document
from .adapters import InvalidNotification, Notification, ProviderError, StartRequest
from .fees import round_10_grosze
from .models import (
    Attempt,
    Discrepancy,
    Event,
    FeeDocument,
    MaterialRate,
    Payment,
    ReconciliationRun,
    Refund,
)
from .providers import gateway, gateways_enabled

log = logging.getLogger(__name__)
RESUME_WITHIN = timedelta(hours=1)  # a pending attempt younger than this is resumed, not replaced
STARTING_GRACE = timedelta(seconds=60)  # an attempt being registered: a second start waits
MAX_NOTIFICATION = 64 * 1024
MAX_AMOUNT = Decimal("1000000.00")  # no fee document states more


def _text(value: str, what: str) -> str:
    """A clerk's text (a reason, a statement line): required, without NUL, trimmed."""
    value = (value or "").strip()
    if not value or "\x00" in value:
        raise InvalidInput(what)
    return value


def _checked_amount(amount: Decimal) -> Decimal:
    if (
        not amount.is_finite()
        or amount <= 0
        or amount > MAX_AMOUNT
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise InvalidInput(_("Give the amount in złoty with at most two decimals."))
    return amount


class Conflict(GisportalError):
    code = "conflict"
    status = 409


class GatewayUnavailable(GisportalError):
    code = "gateway_unavailable"
    status = 503


class UnknownTransaction(GisportalError):
    code = "unknown_transaction"
    status = 400


@dataclass(frozen=True)
class PaymentChange:
    """What the case register hears about a payment (after the commit)."""

    payment_id: str
    case_id: int | None
    event: str  # started | paid | failed | refunded | cancelled | flagged
    status: str  # the payment's status now
    note: str  # Polish, for the case timeline
    public: bool
    actor_id: int | None = None


PAYMENT_HOOKS: list[Callable[[PaymentChange], object]] = []  # registered at start-up (services.cases)


def _emit(payment: Payment, event: str, note: str, *, public: bool = True, actor=None) -> None:
    change = PaymentChange(
        str(payment.pk),
        payment.document.case_id,
        event,
        payment.status,
        note,
        public,
        getattr(actor, "pk", None),
    )

    def run():
        for hook in PAYMENT_HOOKS:
            try:
                hook(change)
            except Exception:  # the case register catches up with its sweep (cases.payments_sweep)
                log.exception("payment hook failed for %s (%s)", change.payment_id, event)

    transaction.on_commit(run)


def _money(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


# ------------------------------------------------------------------ fee documents


def _number_next(office, kind: str, year: int) -> int:
    """The next number of the office's register of fee documents: one statement that creates or
    increments the counter row and keeps it locked to the end of the transaction (gapless: a rolled
    back issue gives its number back)."""
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO payments_feedocumentcounter (office_id, kind, year, last) VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (office_id, kind, year) DO UPDATE SET last = payments_feedocumentcounter.last + 1 "
            "RETURNING last",
            [office.pk, kind, year],
        )
        return cur.fetchone()[0]


def account_for(office, kind: str) -> str:
    """The office's own account: stamp duty into the gmina's stamp-duty account, county fees into the
    account for PZGiK fees (DOMAIN.md §6)."""
    return (office.stamp_duty_account if kind == FeeDocument.Kind.STAMP_DUTY else office.fee_account) or ""


def fee_document_issue(
    *,
    key: str,
    kind: str,
    office,
    lines: list[dict],
    legal_basis: str,
    subject: str,
    payer_name: str,
    due_date: date,
    case_id: int | None = None,
    case_sign: str = "",
    submission_id=None,
    applicant_user=None,
    payer_address: str = "",
    payer_email: str = "",
    issued_by=None,
) -> Payment:
    """Issue a sealed fee document and its payment (or return the one issued before under this key).
    `lines`: {label, quantity, unit_price, amount} with Decimal amounts; the total is their sum (DOO:
    each amount rounded to 10 gr, DOMAIN.md §6)."""
    earlier = Payment.objects.select_related("document").filter(document__key=key).first()
    if earlier is not None:
        return earlier
    if kind not in FeeDocument.Kind.values:
        raise InvalidInput(_("Unknown kind of fee document."))
    if kind == FeeDocument.Kind.DOO:  # each computed amount rounded to 10 gr, so the total is too
        lines = [{**li, "amount": round_10_grosze(Decimal(li["amount"]))} for li in lines]
    total = sum((Decimal(li["amount"]) for li in lines), Decimal("0.00")).quantize(Decimal("0.01"))
    if total <= 0:
        raise InvalidInput(_("There is nothing to pay: the fee is zero."))
    if total > Decimal("1000000"):
        raise InvalidInput(_("The fee is larger than any fee document can state."))
    account = account_for(office, kind)
    if not account:
        raise InvalidInput(
            _("%(office)s has no bank account for these fees configured; ask the administrator.")
            % {"office": office.name},
            code="account_missing",
        )
    issued_at = timezone.now()
    code = verification_code_new()
    doc_id = uuid.uuid4()
    payment_id = uuid.uuid4()
    try:
        with transaction.atomic():
            number_n = _number_next(office, kind, issued_at.year)
            number = f"{'DOO' if kind == FeeDocument.Kind.DOO else 'OS'}/{number_n}/{issued_at.year}"
            title = f"{number} {case_sign}".strip()[:140]
            data = document.FeeDocumentData(
                document_id=str(doc_id),
                kind=kind,
                number=number,
                verification_code=code,
                issuer_name=office.name,
                issuer_address=f"{office.street}, {office.postcode} {office.city}",
                issuer_nip=office.nip,
                issuer_teryt=office.jurisdiction_teryt,
                payer_name=payer_name[:200],
                payer_address=payer_address[:300],
                case_sign=case_sign,
                subject=subject[:300],
                lines=tuple(
                    document.FeeDocumentLine(
                        str(li["label"]),
                        int(li["quantity"]),
                        Decimal(li["unit_price"]),
                        Decimal(li["amount"]),
                    )
                    for li in lines
                ),
                total=total,
                currency="PLN",
                legal_basis=legal_basis,
                account=account,
                title=title,
                due_date=due_date,
                issued_at=issued_at,
                issued_by=(issued_by.get_full_name() or issued_by.get_username()) if issued_by else "",
                verify_url=settings.GISPORTAL_PUBLIC_URL + reverse("receipt_verify_code", args=[code]),
                pay_url=settings.GISPORTAL_PUBLIC_URL + reverse("payment_page", args=[payment_id]),
            )
            doc = FeeDocument.objects.create(
                id=doc_id,
                kind=kind,
                number=number,
                key=key,
                office=office,
                case_id=case_id,
                case_sign=case_sign,
                submission_id=submission_id,
                applicant_user=applicant_user,
                payer_name=payer_name[:200],
                payer_address=payer_address[:300],
                payer_email=payer_email,
                subject=subject[:300],
                lines=[
                    {
                        "label": str(li["label"]),
                        "quantity": int(li["quantity"]),
                        "unit_price": f"{Decimal(li['unit_price']):.2f}",
                        "amount": f"{Decimal(li['amount']):.2f}",
                    }
                    for li in lines
                ],
                amount=total,
                legal_basis=legal_basis,
                account=account,
                title=title,
                due_date=due_date,
                issued_at=issued_at,
                issued_by=issued_by,
                verification_code=code,
                xml=document.seal(data, seal_for(office)),
            )
            return Payment.objects.create(id=payment_id, document=doc, amount=total, currency="PLN")
    except IntegrityError:
        earlier = Payment.objects.select_related("document").filter(document__key=key).first()
        if earlier is None:
            raise
        return earlier


# ------------------------------------------------------------------ paying


def _owned(payment_id, user) -> Payment:
    payment = Payment.objects.select_related("document", "document__office").filter(pk=payment_id).first()
    if (
        payment is None
        or user is None
        or not user.is_authenticated
        or payment.document.applicant_user_id != user.pk
    ):
        raise NotFound(_("There is no such payment."))
    return payment


def _urls(payment: Payment, attempt: Attempt) -> tuple[str, str]:
    base = settings.GISPORTAL_PUBLIC_URL
    ret = base + reverse("payment_return", args=[payment.pk]) + f"?a={attempt.pk}"
    notify = base + reverse("api:payments_notify", args=[attempt.provider])
    return ret, notify


def payment_start(payment_id, provider: str, *, user) -> str:
    """Start (or resume) paying with a gateway; returns where to send the payer's browser."""
    if provider not in gateways_enabled():
        raise InvalidInput(_("This way of paying is not available."), code="provider_unavailable")
    payment = _owned(payment_id, user)
    # an open attempt with another gateway may have been paid meanwhile: ask before starting anew
    for other in payment.attempts.filter(status=Attempt.Status.PENDING).exclude(provider=provider):
        attempt_refresh(other)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status in (Payment.Status.PAID, Payment.Status.REFUNDED):
            raise Conflict(_("This fee has already been paid."), code="already_paid")
        if payment.status == Payment.Status.CANCELLED:
            raise Conflict(_("This fee document has been cancelled."), code="cancelled")
        now = timezone.now()
        for open_attempt in payment.attempts.filter(
            status__in=[Attempt.Status.STARTED, Attempt.Status.PENDING]
        ):
            young = now - open_attempt.created_at
            if open_attempt.status == Attempt.Status.STARTED and young < STARTING_GRACE:
                raise Conflict(_("The payment is being started; try again in a moment."), code="starting")
            if (
                open_attempt.provider == provider
                and open_attempt.status == Attempt.Status.PENDING
                and open_attempt.redirect_url
                and young < RESUME_WITHIN
            ):
                return open_attempt.redirect_url  # resumed: the same transaction, no second charge
        attempt = Attempt.objects.create(
            payment=payment,
            provider=provider,
            session_id=f"GP-{uuid.uuid4().hex}",
            amount=payment.grosze,
            currency=payment.currency,
        )
    ret, notify = _urls(payment, attempt)
    doc = payment.document
    try:
        started = gateway(provider).start(
            StartRequest(
                session_id=attempt.session_id,
                amount=attempt.amount,
                currency=attempt.currency,
                description=doc.title,
                email=doc.payer_email or getattr(user, "email", "") or "",
                return_url=ret,
                notify_url=notify,
                language="en" if (getattr(user, "language", "") or "").startswith("en") else "pl",
                payer_name=doc.payer_name,
                payment_id=str(payment.pk),
            )
        )
    except ProviderError as e:
        log.warning("payment %s: %s refused to start: %s", payment.pk, provider, e)
        Attempt.objects.filter(pk=attempt.pk).update(status=Attempt.Status.FAILED)
        raise GatewayUnavailable(
            _("The payment system does not answer now. Nothing has been charged; try again later.")
        ) from None
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("document").get(pk=payment.pk)
        Attempt.objects.filter(pk=attempt.pk).update(
            status=Attempt.Status.PENDING,
            redirect_url=started.redirect_url,
            provider_ref=started.provider_ref[:200],
        )
        # older open attempts are left behind: a late payment of one of them is flagged for a refund
        payment.attempts.filter(status__in=[Attempt.Status.STARTED, Attempt.Status.PENDING]).exclude(
            pk=attempt.pk
        ).update(status=Attempt.Status.ABANDONED)
        if payment.status in (Payment.Status.DUE, Payment.Status.FAILED, Payment.Status.PENDING):
            payment.status = Payment.Status.PENDING
            payment.save(update_fields=["status", "updated_at"])
            with override("pl"):
                _emit(payment, "started", _("Payment started (%(provider)s).") % {"provider": provider})
    return started.redirect_url


def notification_receive(
    provider: str, body: bytes, headers: Mapping[str, str], *, remote_addr: str = ""
) -> str:
    """A gateway's notification, as received over HTTP (or from the sandbox). Returns the outcome;
    raises InvalidNotification (forged, malformed: logged), UnknownTransaction, GatewayUnavailable
    (the gateway did not confirm: it will notify again)."""
    if provider not in gateways_enabled():
        raise NotFound(_("There is no such payment gateway."))
    raw = body[:MAX_NOTIFICATION].decode("utf-8", "replace")
    try:
        n = gateway(provider).parse_notification(body, headers)
    except InvalidNotification as e:
        log.warning("payment notification from %s refused (%s), from %s", provider, e, remote_addr)
        Event.objects.create(
            provider=provider,
            outcome=Event.Outcome.REJECTED,
            body=raw,
            note=str(e)[:500],
            remote_addr=remote_addr,
        )
        raise
    attempt = Attempt.objects.filter(provider=provider, session_id=n.session_id).first()
    if attempt is None:
        Event.objects.create(
            provider=provider,
            event_id=n.event_id[:200],
            outcome=Event.Outcome.UNKNOWN,
            body=raw,
            remote_addr=remote_addr,
        )
        raise UnknownTransaction(_("There is no such transaction."))
    return _apply(attempt, n, raw=raw, remote_addr=remote_addr)


def _apply(attempt: Attempt, n: Notification, *, raw: str = "", remote_addr: str = "") -> str:
    def event(outcome: str, note: str = "") -> None:
        Event.objects.create(
            provider=attempt.provider,
            event_id=n.event_id[:200],
            attempt=attempt,
            outcome=outcome,
            body=raw,
            note=note[:500],
            remote_addr=remote_addr,
        )

    if attempt.status == Attempt.Status.PAID and attempt.order_id == n.order_id:
        event(Event.Outcome.DUPLICATE)
        return Event.Outcome.DUPLICATE
    if n.outcome == "failed":
        return _fail(attempt, n, event)
    if n.amount != attempt.amount or n.currency != attempt.currency:
        with transaction.atomic():
            event(Event.Outcome.MISMATCH, f"{n.amount} {n.currency} != {attempt.amount} {attempt.currency}")
            _flag(
                f"amount:{attempt.provider}:{n.event_id}",
                Discrepancy.Kind.AMOUNT,
                attempt,
                _(
                    "The gateway reports %(got)s %(cur)s, the fee document asks for %(want)s %(wcur)s; not settled."
                )
                % {
                    "got": _money(Decimal(n.amount) / 100),
                    "cur": n.currency,
                    "want": _money(Decimal(attempt.amount) / 100),
                    "wcur": attempt.currency,
                },
                source="notification",
            )
        return Event.Outcome.MISMATCH
    try:
        gateway(attempt.provider).confirm(n)
    except ProviderError as e:
        event(Event.Outcome.VERIFY_FAILED, str(e))
        raise GatewayUnavailable(
            _("The payment could not be confirmed with the gateway; it will be retried.")
        ) from None
    return _settle(attempt.pk, order_id=n.order_id, event=event)


def _fail(attempt: Attempt, n: Notification, event) -> str:
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        payment = Payment.objects.select_for_update().select_related("document").get(pk=attempt.payment_id)
        event(Event.Outcome.FAILED)
        if attempt.status in (Attempt.Status.STARTED, Attempt.Status.PENDING):
            attempt.status = Attempt.Status.FAILED
            attempt.order_id = n.order_id[:100]
            attempt.save(update_fields=["status", "order_id"])
            still_open = payment.attempts.filter(status=Attempt.Status.PENDING).exists()
            if payment.status == Payment.Status.PENDING and not still_open:
                payment.status = Payment.Status.FAILED
                payment.save(update_fields=["status", "updated_at"])
                with override("pl"):
                    _emit(payment, "failed", _("The payment did not go through; it can be tried again."))
    return Event.Outcome.FAILED


def _settle(attempt_id, *, order_id: str, event, actor=None, statement: str = "") -> str:
    """One settlement under row locks (payment, then attempt: the same order everywhere)."""
    with transaction.atomic():
        payment_id = Attempt.objects.values_list("payment_id", flat=True).get(pk=attempt_id)
        payment = Payment.objects.select_for_update().select_related("document").get(pk=payment_id)
        attempt = Attempt.objects.select_for_update().get(pk=attempt_id)
        if attempt.status in (Attempt.Status.PAID, Attempt.Status.OVERPAID):
            event(Event.Outcome.DUPLICATE)
            return Event.Outcome.DUPLICATE
        now = timezone.now()
        attempt.order_id = order_id[:100]
        attempt.settled_at = now
        if payment.status in (Payment.Status.PAID, Payment.Status.REFUNDED, Payment.Status.CANCELLED):
            attempt.status = Attempt.Status.OVERPAID
            attempt.save(update_fields=["status", "order_id", "settled_at"])
            event(Event.Outcome.LATE)
            cancelled = payment.status == Payment.Status.CANCELLED
            _flag(
                f"late:{attempt.pk}",
                Discrepancy.Kind.PAID_CANCELLED if cancelled else Discrepancy.Kind.PAID_TWICE,
                attempt,
                (
                    _("Paid %(amount)s zł after the fee document was cancelled: refund it.")
                    if cancelled
                    else _("Paid %(amount)s zł again for a fee already paid: refund it.")
                )
                % {"amount": _money(Decimal(attempt.amount) / 100)},
                source="notification",
            )
            return Event.Outcome.LATE
        attempt.status = Attempt.Status.PAID
        attempt.save(update_fields=["status", "order_id", "settled_at"])
        event(Event.Outcome.SETTLED)
        payment.status = Payment.Status.PAID
        payment.paid_at = now
        payment.paid_via = attempt.provider
        payment.save(update_fields=["status", "paid_at", "paid_via", "updated_at"])
        payment.attempts.filter(status__in=[Attempt.Status.STARTED, Attempt.Status.PENDING]).update(
            status=Attempt.Status.ABANDONED
        )
        with override("pl"):
            how = _("bank transfer") if attempt.provider == "transfer" else attempt.provider
            _emit(
                payment,
                "paid",
                _("Fee of %(amount)s zł paid (%(how)s, %(number)s).")
                % {"amount": _money(payment.amount), "how": how, "number": payment.document.number},
                actor=actor,
            )
    return Event.Outcome.SETTLED


def _flag(key: str, kind: str, attempt: Attempt | None, detail: str, *, source: str, payment=None) -> None:
    payment = payment or (attempt.payment if attempt else None)
    _discrepancy, created = Discrepancy.objects.get_or_create(
        key=key[:200],
        defaults={
            "kind": kind,
            "payment": payment,
            "attempt": attempt,
            "office_id": payment.document.office_id if payment else None,
            "detail": detail[:500],
            "source": source,
        },
    )
    if created and payment is not None:
        with override("pl"):
            _emit(
                payment, "flagged", _("Payment difference for a clerk: %(d)s") % {"d": detail}, public=False
            )


def attempt_refresh(attempt: Attempt) -> str:
    """Ask the gateway about an open attempt (the payer came back, or the notification is late or
    lost) and settle it if it was paid. Returns the attempt's status afterwards."""
    if attempt.status != Attempt.Status.PENDING or attempt.provider == "transfer":
        return attempt.status
    try:
        remote = gateway(attempt.provider).status(attempt.session_id)
    except ProviderError as e:
        log.info("status of %s at %s unavailable: %s", attempt.session_id, attempt.provider, e)
        return attempt.status
    if remote is None or remote.status not in ("paid", "advance"):
        return attempt.status
    n = Notification(
        attempt.session_id,
        remote.order_id,
        remote.amount,
        remote.currency,
        "paid",
        f"poll:{attempt.session_id}",
    )
    try:
        _apply(attempt, n, raw="(status query)")
    except GisportalError:
        pass
    attempt.refresh_from_db()
    return attempt.status


# ------------------------------------------------------------------ clerks


def _check_clerk(payment: Payment, actor) -> None:
    if actor is None or not actor.has_perm("gisportal.handle_payments"):
        raise Forbidden(_("You may not handle payments."))
    office = office_of(actor)
    if office is None or office.pk != payment.document.office_id:
        raise Forbidden(_("This payment belongs to another office."))


def payment_transfer_book(payment_id, *, actor, amount: Decimal, booked_on: date, statement: str) -> str:
    """A bank transfer quoting the fee document, booked by a clerk from the bank statement line."""
    payment = Payment.objects.select_related("document").filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(_("There is no such payment."))
    _check_clerk(payment, actor)
    statement = _text(statement, _("Copy the bank statement line (date, payer, title, amount)."))
    amount = _checked_amount(amount)
    if booked_on > timezone.localdate():
        raise InvalidInput(_("The booking date cannot be in the future."))
    attempt = Attempt.objects.create(
        payment=payment,
        provider="transfer",
        session_id=f"TR-{uuid.uuid4().hex}",
        status=Attempt.Status.PENDING,
        amount=int(amount * 100),
        currency="PLN",
        statement=f"{booked_on.isoformat()}: {statement.strip()}"[:2000],
        booked_by=actor,
    )

    def event(outcome: str, note: str = "") -> None:
        Event.objects.create(
            provider="transfer",
            event_id=f"transfer:{attempt.pk}",
            attempt=attempt,
            outcome=outcome,
            note=note,
        )

    if amount != payment.amount:
        with transaction.atomic():
            Attempt.objects.filter(pk=attempt.pk).update(status=Attempt.Status.FAILED)
            event(Event.Outcome.MISMATCH)
            _flag(
                f"transfer:{attempt.pk}",
                Discrepancy.Kind.TRANSFER,
                attempt,
                _(
                    "A transfer of %(got)s zł was booked against %(number)s, which asks for %(want)s zł; not settled."
                )
                % {"got": _money(amount), "number": payment.document.number, "want": _money(payment.amount)},
                source="transfer",
            )
        return Event.Outcome.MISMATCH
    return _settle(attempt.pk, order_id=attempt.session_id, event=event, actor=actor)


def payment_refund(payment_id, *, actor, amount: Decimal, reason: str, attempt_id=None) -> Refund:
    """Refund (part of) what was paid: the settling attempt, or an overpaid one when given."""
    payment = Payment.objects.select_related("document").filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(_("There is no such payment."))
    _check_clerk(payment, actor)
    reason = _text(reason, _("Give the reason for the refund."))
    if not amount.is_finite():
        raise InvalidInput(_("Give the amount in złoty with at most two decimals."))
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("document").get(pk=payment.pk)
        paid = payment.attempts.filter(status__in=[Attempt.Status.PAID, Attempt.Status.OVERPAID])
        attempt = (
            paid.filter(pk=attempt_id).first()
            if attempt_id
            else paid.filter(status=Attempt.Status.PAID).first()
        )
        if attempt is None:
            raise InvalidInput(_("Nothing has been paid that could be refunded."))
        done = sum((r.amount for r in attempt.refunds.exclude(status=Refund.Status.FAILED)), Decimal("0.00"))
        left = Decimal(attempt.amount) / 100 - done
        if amount <= 0 or amount > left or amount != amount.quantize(Decimal("0.01")):
            raise InvalidInput(_("Refund between 0,01 zł and %(left)s zł.") % {"left": _money(left)})
        refund = Refund.objects.create(
            payment=payment, attempt=attempt, amount=amount, reason=reason.strip()[:300], created_by=actor
        )
    if attempt.provider == "transfer":
        ref, status = "", Refund.Status.DONE  # paid back by the office's own transfer, recorded here
    else:
        try:
            ref = gateway(attempt.provider).refund(
                session_id=attempt.session_id,
                order_id=attempt.order_id,
                amount=int(amount * 100),
                description=payment.document.number[:35],
                request_id=str(refund.pk),
            )
            status = Refund.Status.DONE
        except ProviderError as e:
            log.warning("refund %s refused by %s: %s", refund.pk, attempt.provider, e)
            ref, status = str(e)[:200], Refund.Status.FAILED
    failed = False
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("document").get(pk=payment.pk)
        Refund.objects.filter(pk=refund.pk).update(status=status, provider_ref=ref[:200])
        refund.status, refund.provider_ref = status, ref
        if status == Refund.Status.FAILED:
            failed = True
        elif attempt.status == Attempt.Status.PAID:
            payment.refunded_amount += amount
            if payment.refunded_amount >= payment.amount:
                payment.status = Payment.Status.REFUNDED
            payment.save(update_fields=["refunded_amount", "status", "updated_at"])
        if not failed:
            with override("pl"):
                _emit(
                    payment,
                    "refunded",
                    _("%(amount)s zł refunded: %(reason)s")
                    % {"amount": _money(amount), "reason": refund.reason},
                    actor=actor,
                )
    if failed:  # recorded as failed (committed above), then told
        raise GatewayUnavailable(_("The gateway refused the refund: %(e)s") % {"e": refund.provider_ref})
    return refund


def payment_cancel(payment_id, *, actor, reason: str) -> Payment:
    payment = Payment.objects.select_related("document").filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(_("There is no such payment."))
    _check_clerk(payment, actor)
    reason = _text(reason, _("Give the reason for the cancellation."))
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("document").get(pk=payment.pk)
        if payment.status not in (Payment.Status.DUE, Payment.Status.PENDING, Payment.Status.FAILED):
            raise Conflict(_("Only an unpaid fee document can be cancelled."), code="not_cancellable")
        payment.status = Payment.Status.CANCELLED
        payment.cancel_reason = reason.strip()[:300]
        payment.save(update_fields=["status", "cancel_reason", "updated_at"])
        payment.attempts.filter(status__in=[Attempt.Status.STARTED, Attempt.Status.PENDING]).update(
            status=Attempt.Status.ABANDONED
        )
        with override("pl"):
            _emit(
                payment,
                "cancelled",
                _("Fee document %(number)s cancelled: %(reason)s")
                % {"number": payment.document.number, "reason": payment.cancel_reason},
                actor=actor,
            )
    return payment


def discrepancy_resolve(discrepancy_id: int, *, actor, resolution: str) -> Discrepancy:
    d = Discrepancy.objects.filter(pk=discrepancy_id).first()
    office = office_of(actor) if actor is not None else None
    if d is None or office is None or (d.office_id not in (None, office.pk)):
        raise NotFound(_("There is no such difference."))
    if not actor.has_perm("gisportal.handle_payments"):
        raise Forbidden(_("You may not handle payments."))
    resolution = _text(resolution, _("Say how the difference was resolved."))
    Discrepancy.objects.filter(pk=d.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=actor, resolution=resolution.strip()[:500]
    )
    d.refresh_from_db()
    return d


# ------------------------------------------------------------------ sweeps


def payments_reconcile(day: date | None = None) -> list[ReconciliationRun]:
    """Compare our books of one day (yesterday by default) with each gateway's report; every
    difference becomes a Discrepancy (recorded once) on the clerks' payments page."""
    day = day or timezone.localdate() - timedelta(days=1)
    runs = []
    for name in gateways_enabled():
        run = ReconciliationRun(provider=name, day=day)
        try:
            remote = {r.session_id: r for r in gateway(name).report(day)}
        except (ProviderError, ValueError) as e:  # unreachable, or misconfigured (recorded, not raised)
            run.error = str(e)[:500]
            run.save()
            runs.append(run)
            continue
        ours = {
            a.session_id: a
            for a in Attempt.objects.filter(provider=name, created_at__date=day).select_related(
                "payment__document"
            )
        }
        ours.update(
            {
                a.session_id: a
                for a in Attempt.objects.filter(provider=name, session_id__in=list(remote)).select_related(
                    "payment__document"
                )
            }
        )
        found = 0
        for sid, r in remote.items():
            a = ours.get(sid)
            paid_here = a is not None and a.status in (Attempt.Status.PAID, Attempt.Status.OVERPAID)
            if r.status in ("paid", "advance", "refunded") and not paid_here:
                found += _recon_flag(
                    name,
                    day,
                    sid,
                    Discrepancy.Kind.MISSING_HERE,
                    a,
                    _("%(provider)s reports %(sid)s paid (%(amount)s zł); it is not settled here.")
                    % {"provider": name, "sid": sid, "amount": _money(Decimal(r.amount) / 100)},
                )
            elif paid_here and (r.amount != a.amount or r.currency != a.currency):
                found += _recon_flag(
                    name,
                    day,
                    sid,
                    Discrepancy.Kind.AMOUNT,
                    a,
                    _("%(provider)s reports %(amount)s %(cur)s for %(sid)s; we settled %(ours)s zł.")
                    % {
                        "provider": name,
                        "amount": _money(Decimal(r.amount) / 100),
                        "cur": r.currency,
                        "sid": sid,
                        "ours": _money(Decimal(a.amount) / 100),
                    },
                )
        for sid, a in ours.items():
            if a.status in (Attempt.Status.PAID, Attempt.Status.OVERPAID) and (
                sid not in remote or remote[sid].status not in ("paid", "advance", "refunded")
            ):
                found += _recon_flag(
                    name,
                    day,
                    sid,
                    Discrepancy.Kind.MISSING_THERE,
                    a,
                    _("%(sid)s is settled here but %(provider)s does not report it paid.")
                    % {"sid": sid, "provider": name},
                )
        run.checked = len(set(remote) | set(ours))
        run.differences = found
        run.save()
        runs.append(run)
    return runs


def _recon_flag(provider: str, day: date, sid: str, kind: str, attempt: Attempt | None, detail: str) -> int:
    before = Discrepancy.objects.filter(key=f"recon:{provider}:{sid}:{kind}").exists()
    _flag(
        f"recon:{provider}:{sid}:{kind}",
        kind,
        attempt,
        f"{day.isoformat()}: {detail}",
        source="reconciliation",
    )
    return 0 if before else 1


def payments_pending_poll(older_than: timedelta = timedelta(minutes=10)) -> int:
    """Ask the gateways about attempts whose notification has not come (reconcile by polling)."""
    n = 0
    cutoff = timezone.now() - older_than
    for attempt in Attempt.objects.filter(
        status=Attempt.Status.PENDING, created_at__lt=cutoff, created_at__gt=cutoff - timedelta(days=7)
    ).exclude(provider="transfer")[:200]:
        if attempt.provider in gateways_enabled() and attempt_refresh(attempt) == Attempt.Status.PAID:
            n += 1
    return n


def sandbox_choose(payment_id, session_id: str, outcome: str) -> str:
    """The sandbox gateway's hosted page: record the payer's choice there, notify us at once (before the
    browser returns) and once more a little later over HTTP, as gateways do. Returns where the payer's
    browser goes next."""
    from .adapters import sandbox
    from .tasks import sandbox_notify

    if "sandbox" not in gateways_enabled():
        raise NotFound(_("There is no such payment gateway."))
    try:
        tx, body = sandbox.complete(str(payment_id), session_id, outcome)
    except ProviderError:
        raise NotFound(_("There is no such payment.")) from None
    if body is not None:
        sig = sandbox.signature(body)
        try:
            notification_receive("sandbox", body, {sandbox.HEADER: sig}, remote_addr="sandbox")
        except GisportalError as e:  # the repeated notification (and the poll) will try again
            log.warning("sandbox notification for %s not accepted now: %s", session_id, e)
        transaction.on_commit(lambda: sandbox_notify.apply_async((body.decode(), sig), countdown=3))
    return tx.return_url


# ------------------------------------------------------------------ the county's rates for materials

# Demo only: illustrative rates for the demo county, so that a work notification gets its DOO at once.
# They are not the statutory base rates (which the minister announces each year): an office enters its
# own with `gisportal fee_rates set` or in the admin.
DEMO_MATERIAL_RATES = (
    ("egib", "ha", "45.00", "dane EGiB obszaru prac (GML)"),
    ("warstwy", "ha", "20.00", "warstwy publiczne obszaru prac (GeoPackage)"),
    ("mapa", "work", "30.00", "mapa obszaru prac (PDF)"),
    ("punkty", "parcel", "3.00", "wykaz punktów granicznych"),
)


def material_rate_set(
    *,
    office,
    material: str,
    unit: str,
    base_rate: Decimal,
    valid_from: date,
    label: str,
    coefficient: Decimal = Decimal(1),
    legal_basis: str = "art. 40b, 40d Pgik",
) -> MaterialRate:
    """Enter (or correct, for the same day) a county's rate for a resource material from a day on."""
    from .fees import MATERIALS

    if office.kind != "county":
        raise InvalidInput(_("Only a county office (starostwo) has rates for resource materials."))
    if material not in MATERIALS:
        raise InvalidInput(_("Unknown material: %(m)s.") % {"m": material[:20]})
    if unit not in MaterialRate.Unit.values:
        raise InvalidInput(_("Unknown unit: %(u)s.") % {"u": unit[:10]})
    if not (Decimal(0) < base_rate <= Decimal(100000)) or not (Decimal(0) < coefficient <= Decimal(100)):
        raise InvalidInput(_("Give a base rate above 0 zł and coefficients above 0."))
    if not label.strip():
        raise InvalidInput(_("Give the label the fee document shows."))
    rate, _created = MaterialRate.objects.update_or_create(
        office=office,
        material=material,
        valid_from=valid_from,
        defaults={
            "unit": unit,
            "base_rate": base_rate.quantize(Decimal("0.01")),
            "coefficient": coefficient.quantize(Decimal("0.001")),
            "label": label.strip()[:200],
            "legal_basis": legal_basis.strip()[:200],
        },
    )
    return rate


def material_rates_demo_ensure() -> int:
    """Give every county office without rates the demo rates (from 1 January of this year). Idempotent."""
    from services.offices.models import Office

    n = 0
    start = date(timezone.localdate().year, 1, 1)
    for office in Office.objects.filter(kind="county").exclude(material_rates__isnull=False):
        for material, unit, rate, label in DEMO_MATERIAL_RATES:
            material_rate_set(
                office=office,
                material=material,
                unit=unit,
                base_rate=Decimal(rate),
                valid_from=start,
                label=label,
            )
            n += 1
    return n
