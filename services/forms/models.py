"""E-form definitions (versioned data: JSON Schema + page layout) and submissions.

A submission is stored once and never changed: the database refuses UPDATE of its content and its
digest (trigger in migration 0001), and DELETE of the row. Everything later (receipt, case) refers
to it.
"""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from services.offices.models import Office, ServiceKind

from .deadlines import deadline_text


class ServiceDefinition(models.Model):
    """One version of an e-service. New versions are added, old ones deactivated, never edited."""

    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    title_pl = models.CharField(_("title (Polish)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    description_pl = models.TextField(_("description (Polish)"))
    description_en = models.TextField(_("description (English)"))
    legal_basis = models.TextField(_("legal basis"))
    service_kind = models.CharField(_("kind of matter"), max_length=30, choices=ServiceKind.choices)
    jrwa = models.CharField(_("JRWA class"), max_length=10)
    fee_rule = models.CharField(_("fee rule"), max_length=60, blank=True)
    fee_note_pl = models.CharField(_("fee note (Polish)"), max_length=300, blank=True)
    fee_note_en = models.CharField(_("fee note (English)"), max_length=300, blank=True)
    deadline_days = models.PositiveIntegerField(_("statutory deadline in days"), null=True, blank=True)
    # the kind of term (deadlines.DEADLINES): the service list, the form and the case's deadline read it
    deadline_kind = models.CharField(_("statutory deadline"), max_length=20, blank=True, default="")
    capability = models.CharField(_("capability needed to file"), max_length=40, default="submit_forms")
    schema = models.JSONField(_("data schema (JSON Schema)"))
    layout = models.JSONField(_("page layout"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("e-service")
        verbose_name_plural = _("e-services")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="servicedef_code_version_unique"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(active=True), name="servicedef_one_active_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def title(self) -> str:
        return self.title_en if (get_language() or "pl").startswith("en") else self.title_pl

    @property
    def description(self) -> str:
        return self.description_en if (get_language() or "pl").startswith("en") else self.description_pl

    @property
    def fee_note(self) -> str:
        return self.fee_note_en if (get_language() or "pl").startswith("en") else self.fee_note_pl

    @property
    def deadline_text(self) -> str:
        return deadline_text(self.deadline_kind)

    @property
    def restricted(self) -> bool:
        """Filed only by some roles (surveyors' notifications), not by every applicant."""
        return self.capability != "submit_forms"


class Submission(models.Model):
    """A filed form: the document as submitted (canonical JSON), its SHA-256, its attachments."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(ServiceDefinition, on_delete=models.PROTECT, related_name="submissions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="submissions")
    data = models.JSONField(_("form data"))
    parcels = models.JSONField(_("parcel identifiers"), default=list)
    location = models.GeometryField(_("location"), srid=2180, null=True, blank=True)
    document = models.BinaryField(_("submitted document (canonical JSON)"))
    sha256 = models.CharField(_("SHA-256 of the document"), max_length=64)
    request_sha256 = models.CharField(
        max_length=64
    )  # of the data as sent: tells a replay from a different filing
    idempotency_key = models.CharField(max_length=100, blank=True)
    channel = models.CharField(_("channel"), max_length=20, default="portal")
    submitted_at = models.DateTimeField(_("received"))

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="submission_idempotency_unique",
            ),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="submission_sha256_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.code} {self.id}"


class Attachment(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="attachments")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to="submissions/%Y/%m/")

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    @property
    def signature_check(self) -> dict | None:
        """The check of the file's signatures (None until checked)."""
        try:
            return self.signature_check_row.result
        except AttachmentCheck.DoesNotExist:
            return None


class AttachmentCheck(models.Model):
    """The check of an attachment's electronic signatures after filing (services/forms/signing.py), kept
    beside the attachment (attachments are immutable): {"status": "verified", "report": {...}} |
    {"status": "unsigned"} | {"status": "unreadable", "code": ...}. Written once: what the office saw."""

    attachment = models.OneToOneField(
        Attachment, primary_key=True, on_delete=models.PROTECT, related_name="signature_check_row"
    )
    result = models.JSONField(_("signature check"))
    checked_at = models.DateTimeField(_("checked"), auto_now_add=True)

    class Meta:
        verbose_name = _("signature check")
        verbose_name_plural = _("signature checks")


class Draft(models.Model):
    """Form data saved by a logged-in user before filing; one per user and service."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="form_drafts")
    service_code = models.SlugField(max_length=60)
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "service_code"], name="draft_one_per_service")]
