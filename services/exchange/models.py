"""Envelopes exchanged between offices, on this hub or another (KPA art. 65 forwarding, requests for
documents or data, answers). One table for both directions: an outgoing envelope is the outbox row written in
the same transaction as the step that sends it (and retried until the peer acknowledges it); an incoming one
is stored once by its id (a repeat is a duplicate, never processed twice). The envelope itself is kept as the
canonical JSON that was sealed, with its seal."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from services.offices.models import Office


class Direction(models.TextChoices):
    OUT = "out", _("sent")
    IN = "in", pgettext_lazy("exchange direction", "received")


class Kind(models.TextChoices):
    CASE_FORWARD = "case_forward", _("case forwarded to the competent office (art. 65 KPA)")
    REQUEST = "request", _("request for documents or data")
    ANSWER = "answer", _("answer")


class Status(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    ACKNOWLEDGED = (
        "acknowledged",
        pgettext_lazy("exchange status", "received by the addressee"),
    )  # receipt back
    FAILED = "failed", _("refused by the addressee")  # out: a refusal that retrying cannot change
    RECEIVED = "received", pgettext_lazy("exchange status", "received")  # in: stored, verified
    PROCESSED = "processed", _("processed")  # in: the case opened / the request registered


class Envelope(models.Model):
    envelope_id = models.UUIDField(default=uuid.uuid4, editable=False)  # the same on both sides
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="envelopes")  # ours
    peer_office = models.CharField(_("other office"), max_length=60)  # its code
    peer_office_name = models.CharField(max_length=200)
    peer_hub = models.CharField(max_length=60, blank=True)  # "" on this hub
    subject = models.CharField(_("subject"), max_length=300)
    in_reply_to = models.UUIDField(null=True, blank=True)
    case_id = models.IntegerField(null=True, blank=True, db_index=True)  # the case it came from / opened
    body = models.BinaryField()  # the canonical JSON that was sealed
    seal = models.BinaryField()  # detached CMS over `body`, by the sending office
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    receipt = models.JSONField(null=True, blank=True)  # out: the peer's receipt; in: the one we gave
    signer = models.JSONField(null=True, blank=True)  # in: who sealed it, as the verifier said

    class Meta:
        verbose_name = _("envelope")
        verbose_name_plural = _("envelopes")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["envelope_id", "direction"], name="envelope_once_per_direction")
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.get_kind_display()}: {self.subject}"
