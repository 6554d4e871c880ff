"""Deliveries of outgoing documents (KPA art. 39-46, the e-delivery act) and what happened to each.

A delivery is stored first (with its own copy of the document, so that what was delivered never changes),
then handed to its channel; it ends delivered (opened, collected, signed for, or deemed delivered by law)
or returned. Every step is an event; reaching the case register goes through `actions.DELIVERY_HOOKS`."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from services.offices.models import Office


class Channel(models.TextChoices):
    PORTAL = "portal", _("the portal inbox")
    EDORECZENIA = "edoreczenia", _("e-Doręczenia (e-delivery)")
    PAPER = "paper", _("registered post")


class Status(models.TextChoices):
    PREPARED = "prepared", _("prepared")  # stored; not yet handed to the channel
    SENT = "sent", _("sent")  # handed over (posted, sent to the provider); not yet in the addressee's box
    AWAITING = "awaiting", _("awaiting receipt")  # in the inbox or the e-delivery box, or held at the post
    DELIVERED = "delivered", _("delivered")
    RETURNED = "returned", _("returned undelivered")


class How(models.TextChoices):
    OPENED = "opened", _("received by the addressee")  # acknowledged in the inbox, opened in the box
    SIGNED = "signed", _("signed for on the return receipt")
    DEEMED = "deemed", _("deemed delivered (not collected)")


class Kind(models.TextChoices):
    """What is delivered: it decides the period that delivery starts (appeal, complaint)."""

    DECISION = "decision", _("decision")
    ORDER = "order", _("procedural order (postanowienie)")
    CERTIFICATE = "certificate", _("certificate")
    LETTER = "letter", _("letter")
    CALL = "call", _("call to supplement the request")
    EXTRACT = "extract", _("extract or copy from a register")


class Delivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="deliveries")
    case_id = models.IntegerField(null=True, blank=True, db_index=True)  # a plain reference: see the module
    case_sign = models.CharField(_("case sign"), max_length=60, blank=True)
    source = models.CharField(
        max_length=80
    )  # what is delivered, e.g. "issued:<uuid>", "case_document:<uuid>"
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    file = models.FileField(upload_to="deliveries/%Y/%m/")
    file_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, default="application/pdf")
    sha256 = models.CharField(max_length=64)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    addressee_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    addressee_name = models.CharField(_("addressee"), max_length=200)
    addressee_email = models.EmailField(blank=True)
    ade_address = models.CharField(_("e-delivery address"), max_length=60, blank=True)
    postal_address = models.CharField(_("postal address"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PREPARED)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True)  # in the box / inbox
    first_notice_on = models.DateField(_("first notice"), null=True, blank=True)  # paper (art. 44 § 1)
    second_notice_on = models.DateField(_("second notice"), null=True, blank=True)
    tracking_no = models.CharField(_("postal tracking number"), max_length=40, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)  # the e-delivery provider's message id
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    delivered_how = models.CharField(max_length=10, choices=How.choices, blank=True)
    returned_on = models.DateField(null=True, blank=True)
    period_days = models.PositiveSmallIntegerField(null=True, blank=True)  # appeal (14) or complaint (7)
    period_ends = models.DateField(_("period ends"), null=True, blank=True)
    reminders = models.JSONField(default=list)  # days after arrival on which a reminder went out
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    proof_code = models.CharField(_("verification code"), max_length=24, blank=True)
    proof_xml = models.BinaryField(_("proof of delivery (XAdES)"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "channel"], name="delivery_once_per_document_channel"),
            models.CheckConstraint(
                condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"), name="delivery_sha256_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.title}"


class DeliveryEvent(models.Model):
    """One step of a delivery (sent, arrived, reminded, opened, notice, signed, deemed, returned, a refused
    look by somebody else), for the record and the clerk's page."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"
