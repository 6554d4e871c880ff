"""The surveyor's cycle around a work notification (its case's sign is the KERG identifier): the materials
package prepared once the fee is paid, and the results handed in for the county's review."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from services.offices.models import Office


class Package(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("being prepared")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case_id = models.IntegerField(unique=True)
    kerg = models.CharField(_("KERG identifier"), max_length=60, db_index=True)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="survey_packages")
    surveyor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="survey_packages"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="surveys/%Y/%m/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    contents = models.JSONField(default=dict)  # what the package holds (files, counts, notes)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("materials package")
        verbose_name_plural = _("materials packages")

    def __str__(self) -> str:
        return f"{self.kerg} ({self.get_status_display()})"


class Results(models.Model):
    """The results of a surveyor's work handed in for the county's review: the changed EGiB data (GML), the
    operat's signed files and what checking them found; accepted, they are imported into the registry."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("handed in")
        CHECKING = "checking", _("being checked")
        CHECKED = "checked", _("checked, awaiting review")
        APPLYING = "applying", _("accepted, being entered into the register")
        RETURNED = "returned", _("returned for corrections")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("refused")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case_id = models.IntegerField(db_index=True)
    kerg = models.CharField(_("KERG identifier"), max_length=60, db_index=True)
    surveyor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="survey_results"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    gml = models.FileField(upload_to="surveys/results/%Y/%m/", blank=True)
    gml_sha256 = models.CharField(max_length=64, blank=True)
    files = models.JSONField(default=list)  # the operat's files: name, sha256, size, path
    report = models.JSONField(default=dict)  # the dry run: new/changed/retired per kind, problems
    signature_reports = models.JSONField(default=list)  # one per file of the operat
    remarks = models.TextField(_("remarks"), blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_results_decided",
    )

    class Meta:
        verbose_name = _("survey results")
        verbose_name_plural = _("survey results")
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"{self.kerg} ({self.get_status_display()})"
