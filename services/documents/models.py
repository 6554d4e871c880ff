"""Issued documents (map and register extracts, zoning extracts, certificates) and the jobs that
prepare them. A document is issued once, sealed (PAdES), and never changed or deleted (trigger in
migration 0002); a correction is a new document naming the one it replaces. The case a document belongs
to is named by id and sign only (documents does not import cases, ARCHITECTURE §4)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from services.offices.models import Office

from .kinds import KINDS

KIND_CHOICES = [(k, v[0]) for k, v in KINDS.items()]


class IssuedDocument(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=30, choices=KIND_CHOICES)
    number = models.CharField(_("number"), max_length=60)
    title = models.CharField(_("title"), max_length=300)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="issued_documents")
    case_id = models.IntegerField(null=True, blank=True, db_index=True)
    case_sign = models.CharField(_("case sign"), max_length=60, blank=True)
    submission_id = models.UUIDField(null=True, blank=True, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="issued_documents",
    )
    params = models.JSONField(default=dict)  # what it was made of (parcels, scale, variant), for the record
    verification_code = models.CharField(_("verification code"), max_length=24, unique=True)
    pdf = models.BinaryField(_("sealed PDF (PAdES)"))
    sha256 = models.CharField(max_length=64)
    issued_at = models.DateTimeField(_("issued"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(fields=["office", "number"], name="issueddocument_number_unique")
        ]

    def __str__(self) -> str:
        return self.number


class DocumentCounter(models.Model):
    office = models.ForeignKey(Office, on_delete=models.PROTECT)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["office", "year"], name="documentcounter_key")]

    def __str__(self) -> str:
        return f"{self.office_id} {self.year}: {self.last}"


class DocumentJob(models.Model):
    """A document being prepared: generated and issued by itself (automatic kinds, once paid), or
    prepared for a clerk who reviews it, edits its free text and issues it from the case page."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("being prepared")
        PREPARED = "prepared", _("prepared, waiting for a clerk")
        ISSUED = "issued", _("issued")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=150, unique=True)  # idempotency
    kind = models.CharField(_("kind"), max_length=30, choices=KIND_CHOICES)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+")
    case_id = models.IntegerField(null=True, blank=True, db_index=True)
    case_sign = models.CharField(max_length=60, blank=True)
    submission_id = models.UUIDField(null=True, blank=True, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    params = models.JSONField(default=dict)
    automatic = models.BooleanField(default=False)
    free_text = models.TextField(_("free text"), blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    document = models.ForeignKey(
        IssuedDocument, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    replaces = models.ForeignKey(  # a correction: the issued document this one replaces
        IssuedDocument, null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"
