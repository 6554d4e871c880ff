"""Receipts: the office's signed confirmation that a document arrived (UPP modelled on DOMAIN.md §8,
our own namespace). A receipt is issued once per document and never changed (trigger in 0001)."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from services.offices.models import Office


class Receipt(models.Model):
    class Kind(models.TextChoices):
        SUBMISSION = "UPP", _("confirmation of submission (UPP)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.SUBMISSION)
    verification_code = models.CharField(_("verification code"), max_length=24, unique=True)
    document_id = models.CharField(_("document identifier"), max_length=64)
    document_sha256 = models.CharField(_("SHA-256 of the document"), max_length=64)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="receipts")
    sender_name = models.CharField(_("sender"), max_length=200)
    sender_identifier = models.CharField(_("sender identifier"), max_length=100)
    received_at = models.DateTimeField(_("received"))
    issued_at = models.DateTimeField(_("issued"))
    summary = models.JSONField(_("summary"), default=dict)
    xml = models.BinaryField(_("signed receipt (XAdES)"))

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [
            models.UniqueConstraint(fields=["kind", "document_id"], name="receipt_one_per_document"),
            models.CheckConstraint(
                condition=models.Q(document_sha256__regex=r"^[0-9a-f]{64}$"), name="receipt_sha256_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.verification_code}"
