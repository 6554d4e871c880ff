"""Fees and payments: fee documents (DOO and stamp-duty payment requests), the payment each one asks
for, the attempts to pay it through a gateway or by transfer, every notification received, refunds,
and the differences found for a clerk (DOMAIN.md §6, §10).

A fee document is issued once and never changed (trigger in migration 0001, like receipts): the fee is
stored when computed, never recomputed when shown. The case a document belongs to is named by its id
and sign only (payments does not import cases, ARCHITECTURE §4); the case register follows payments
through the callbacks in `actions.PAYMENT_HOOKS`.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from services.offices.models import Office


class FeeDocument(models.Model):
    class Kind(models.TextChoices):
        DOO = "doo", _("fee calculation document (DOO)")
        STAMP_DUTY = "stamp_duty", _("stamp duty payment request")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    number = models.CharField(_("number"), max_length=40)
    key = models.CharField(max_length=120, unique=True)  # idempotency: "filing:<submission>" or "clerk:<key>"
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="fee_documents")
    case_id = models.IntegerField(_("case"), null=True, blank=True, db_index=True)
    case_sign = models.CharField(_("case sign"), max_length=60, blank=True)
    submission_id = models.UUIDField(null=True, blank=True, db_index=True)
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fee_documents",
    )
    payer_name = models.CharField(_("payer"), max_length=200)
    payer_address = models.CharField(_("payer's address"), max_length=300, blank=True)
    payer_email = models.EmailField(_("payer's e-mail"), blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    lines = models.JSONField(_("lines"), default=list)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="PLN")
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    account = models.CharField(_("account (IBAN)"), max_length=34)
    title = models.CharField(_("transfer title"), max_length=140)
    due_date = models.DateField(_("pay by"))
    issued_at = models.DateTimeField(_("issued"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verification_code = models.CharField(_("verification code"), max_length=24, unique=True)
    xml = models.BinaryField(_("sealed document (XAdES)"))

    class Meta:
        verbose_name = _("fee document")
        verbose_name_plural = _("fee documents")
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(fields=["office", "number"], name="feedocument_number_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="feedocument_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.number


class FeeDocumentCounter(models.Model):
    """The last number used per office, kind and year (row-locked while numbering, as case signs)."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT)
    kind = models.CharField(max_length=12)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["office", "kind", "year"], name="feedocumentcounter_key")
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.kind} {self.year}: {self.last}"


class Payment(models.Model):
    """What a fee document asks for, and whether it has been paid."""

    class Status(models.TextChoices):
        DUE = "due", _("due")
        PENDING = "pending", _("payment in progress")
        PAID = "paid", _("paid")
        FAILED = "failed", _("payment failed")
        REFUNDED = "refunded", _("refunded")
        CANCELLED = "cancelled", _("cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    document = models.OneToOneField(FeeDocument, on_delete=models.PROTECT, related_name="payment")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DUE)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="PLN")
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    paid_via = models.CharField(_("paid via"), max_length=20, blank=True)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    cancel_reason = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.document.number} {self.status}"

    @property
    def grosze(self) -> int:
        return int(self.amount * 100)


class Attempt(models.Model):
    """One try to pay: a transaction registered with a gateway (or a transfer booked by a clerk)."""

    class Status(models.TextChoices):
        STARTED = "started", _("being registered")
        PENDING = "pending", _("waiting for the gateway")
        PAID = "paid", _("paid")
        FAILED = "failed", _("failed")
        ABANDONED = "abandoned", _("abandoned")
        OVERPAID = "overpaid", _("paid again: to refund")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="attempts")
    provider = models.CharField(max_length=20)  # sandbox | przelewy24 | transfer
    session_id = models.CharField(max_length=100, unique=True)
    provider_ref = models.CharField(max_length=200, blank=True)  # Przelewy24: token
    order_id = models.CharField(max_length=100, blank=True)  # the gateway's transaction id
    redirect_url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STARTED)
    amount = models.PositiveBigIntegerField()  # grosze
    currency = models.CharField(max_length=3, default="PLN")
    statement = models.TextField(_("bank statement line"), blank=True)  # transfers
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # one settlement per payment, whatever races: a second paid attempt is a "paid twice" difference
            models.UniqueConstraint(
                fields=["payment"], condition=Q(status="paid"), name="attempt_one_settlement_per_payment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.session_id} {self.status}"

    @property
    def amount_zl(self) -> Decimal:
        return Decimal(self.amount) / 100


class Event(models.Model):
    """Every notification that reached us, valid or not (the forged ones too), and what we did."""

    class Outcome(models.TextChoices):
        SETTLED = "settled", pgettext_lazy("payment", "settled")
        DUPLICATE = "duplicate", _("duplicate")
        FAILED = "failed", _("payment failed")
        MISMATCH = "mismatch", _("amount or currency differs: for a clerk")
        REJECTED = "rejected", _("refused: signature or form invalid")
        UNKNOWN = "unknown", _("no such transaction of ours")
        VERIFY_FAILED = "verify_failed", _("the gateway did not confirm it")
        LATE = "late", _("paid after settlement or cancellation: for a clerk")

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=200, blank=True)
    attempt = models.ForeignKey(
        Attempt, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    outcome = models.CharField(max_length=15, choices=Outcome.choices)
    body = models.TextField(blank=True)  # the first 64 KiB as received
    note = models.CharField(max_length=500, blank=True)
    remote_addr = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], condition=Q(outcome="settled"), name="event_settled_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id} {self.outcome}"


class Refund(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    attempt = models.ForeignKey(Attempt, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    provider_ref = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} {self.status}"


class Discrepancy(models.Model):
    """Something about money that a clerk must look at: never settled or changed by itself."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("amount or currency differs from the fee document")
        PAID_TWICE = "paid_twice", _("paid twice: refund one")
        PAID_CANCELLED = "paid_cancelled", _("paid after the fee document was cancelled")
        MISSING_HERE = "missing_here", _("paid at the gateway, not settled here")
        MISSING_THERE = "missing_there", _("settled here, not paid at the gateway")
        STATUS = "status", _("the gateway's status differs from ours")
        TRANSFER = "transfer", _("bank transfer does not match the fee document")

    key = models.CharField(max_length=200, unique=True)  # the same difference is recorded once
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="discrepancies"
    )
    attempt = models.ForeignKey(Attempt, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    office = models.ForeignKey(Office, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    detail = models.CharField(_("detail"), max_length=500)
    source = models.CharField(max_length=20)  # notification | reconciliation | transfer
    found_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(pgettext_lazy("payment", "resolution"), max_length=500, blank=True)

    class Meta:
        ordering = ["-found_at"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


class ReconciliationRun(models.Model):
    provider = models.CharField(max_length=20)
    day = models.DateField()
    checked = models.PositiveIntegerField(default=0)
    differences = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    ran_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"{self.provider} {self.day}: {self.differences}"


class SandboxTransaction(models.Model):
    """The sandbox gateway's own book (it stands for the gateway's side; our books are the models
    above). Reconciliation compares the two as it would with a real gateway's report."""

    session_id = models.CharField(max_length=100, unique=True)
    order_id = models.BigAutoField(primary_key=True)
    payment_id = models.UUIDField()
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=200)
    return_url = models.URLField(max_length=500)
    status = models.CharField(max_length=10, default="new")  # new | paid | failed | abandoned | refunded
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.session_id} {self.status}"


class MaterialRate(models.Model):
    """A county's rate for one resource material given to surveyors with a work notification (art. 40b,
    40d Pgik: base rate × units × coefficients, DOMAIN.md §6). Configured per office, because the base
    rates change each year (the minister's announcement) and counties apply their coefficients; a new
    rate is a new row from its date, so a fee computed before keeps the rate it was computed with."""

    class Unit(models.TextChoices):
        HECTARE = "ha", _("each started hectare of the work area")
        PARCEL = "parcel", _("each parcel in the work area")
        WORK = "work", _("each work notification")

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="material_rates")
    material = models.CharField(_("material"), max_length=20)  # the notification's choice: egib, mapa, ...
    label = models.CharField(_("label in the fee document"), max_length=200)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    base_rate = models.DecimalField(_("base rate (zł)"), max_digits=10, decimal_places=2)
    coefficient = models.DecimalField(
        _("coefficients (product)"), max_digits=6, decimal_places=3, default=Decimal("1.000")
    )
    valid_from = models.DateField(_("valid from"))
    legal_basis = models.CharField(_("legal basis"), max_length=200, default="art. 40b, 40d Pgik")

    class Meta:
        verbose_name = _("rate for resource materials")
        verbose_name_plural = _("rates for resource materials")
        ordering = ["office", "material", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["office", "material", "valid_from"], name="material_rate_once"),
            models.CheckConstraint(
                condition=Q(base_rate__gt=0) & Q(base_rate__lte=100000), name="material_rate_base_positive"
            ),
            models.CheckConstraint(
                condition=Q(coefficient__gt=0) & Q(coefficient__lte=100),
                name="material_rate_coefficient_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office} · {self.material} · {self.base_rate} zł / {self.unit} × {self.coefficient}"
