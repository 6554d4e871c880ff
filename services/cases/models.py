"""The case register: cases (sprawy) per office with gapless signs, their timeline, pauses of the
statutory deadline and documents. States and transitions are one table in `states.py`."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from services.forms.models import ServiceDefinition, Submission
from services.offices.models import Office, OfficeUnit


class State(models.TextChoices):
    REGISTERED = "registered", _("registered")
    ASSIGNED = "assigned", _("assigned")
    IN_PROGRESS = "in_progress", _("in progress")
    WAITING_APPLICANT = "waiting_applicant", _("waiting for the applicant")
    PAYMENT_DUE = "payment_due", _("waiting for payment")
    SUSPENDED = "suspended", _("suspended")
    SETTLED = "settled", _("settled")
    DELIVERED = "delivered", _("delivered")
    CLOSED = "closed", _("closed")
    WITHDRAWN = "withdrawn", _("withdrawn")
    LEFT_UNCONSIDERED = "left_unconsidered", _("left without consideration")
    FORWARDED = "forwarded", _("forwarded to the competent office")


class DeadlineKind(models.TextChoices):
    IMMEDIATE = "immediate", _("without delay (art. 35 § 2 KPA)")
    ONE_MONTH = "one_month", _("one month (art. 35 § 3 KPA)")
    TWO_MONTHS = "two_months", _("two months, complicated matter (art. 35 § 3 KPA)")
    CERTIFICATE = "certificate_7_days", _("7 days, certificate (art. 217 § 3 KPA)")
    WORKING_DAYS_10 = "working_days_10", _("10 working days, surveying work notification (art. 12 Pgik)")


class CaseCounter(models.Model):
    """The last number used per office unit, JRWA class and year (row-locked while numbering)."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT)
    unit_code = models.CharField(max_length=20)
    jrwa = models.CharField(max_length=10)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["office", "unit_code", "jrwa", "year"], name="casecounter_key")
        ]


class Case(models.Model):
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="cases")
    unit = models.ForeignKey(OfficeUnit, on_delete=models.PROTECT, related_name="cases")
    jrwa = models.CharField(_("JRWA class"), max_length=10)
    number = models.PositiveIntegerField(_("number"))
    year = models.PositiveIntegerField(_("year"))
    sign = models.CharField(
        _("case sign"), max_length=60
    )  # unique within its office (DOMAIN.md §8), not system-wide
    subject = models.CharField(_("subject"), max_length=300)
    service = models.ForeignKey(
        ServiceDefinition, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    submission = models.OneToOneField(
        Submission, null=True, blank=True, on_delete=models.PROTECT, related_name="case"
    )
    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=[
            ("portal", _("e-form")),
            ("api", "API"),
            ("paper", _("paper")),
            ("exchange", _("from another office")),
        ],
    )
    applicant_name = models.CharField(_("applicant"), max_length=200)
    applicant_address = models.CharField(_("applicant's address"), max_length=300, blank=True)
    applicant_email = models.EmailField(_("applicant's e-mail"), blank=True)
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    parcels = models.JSONField(_("parcels"), default=list, blank=True)
    location = models.GeometryField(_("location"), srid=2180, null=True, blank=True)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.REGISTERED)
    received_on = models.DateField(_("received on"))
    started_on = models.DateField(_("case started on"))
    deadline_kind = models.CharField(_("deadline"), max_length=20, choices=DeadlineKind.choices)
    deadline = models.DateField(_("settle by"))
    deadline_notified = models.DateField(_("new date given in an art. 36 notice"), null=True, blank=True)
    supplement_due = models.DateField(_("supplement due"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    tracking_code = models.CharField(_("tracking code"), max_length=12, unique=True)
    access_code_hash = models.CharField(max_length=128)
    forwarded_to = models.CharField(_("forwarded to"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["deadline", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "unit", "jrwa", "year", "number"], name="case_number_unique"
            ),
            models.UniqueConstraint(fields=["office", "sign"], name="case_sign_unique_per_office"),
            models.CheckConstraint(condition=Q(number__gte=1), name="case_number_positive"),
        ]
        indexes = [models.Index(fields=["office", "state", "deadline"])]

    def __str__(self) -> str:
        return self.sign


class TimelineEntry(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=30)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)  # the entry in plain Polish words, as written (status page, API)
    public = models.BooleanField(default=True)
    # the facts of the step (assignee, dates, delivery method and proof, documents, the clerk's own note),
    # from which states.entry_text words the entry in the reader's language; {} on rows written before
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]


class Pause(models.Model):
    """A period that does not count towards the deadline (art. 35 § 5 KPA): waiting for the
    applicant's supplement, suspension. Open while `ended_on` is empty."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pauses")
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=30)


class DocumentKind(models.TextChoices):
    SCAN = "scan", _("scan of a paper letter")
    DECISION = "decision", _("decision")
    LETTER = "letter", _("letter or certificate")
    NOTICE_ART36 = "notice_art36", _("notice of a delay (art. 36 KPA)")
    CALL_ART64 = "call_art64", _("call to supplement the request (art. 64 § 2 KPA)")
    DELIVERY_PROOF = "delivery_proof", _("proof of delivery")


class CaseDocument(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents")
    direction = models.CharField(max_length=10, choices=[("in", _("incoming")), ("out", _("outgoing"))])
    kind = models.CharField(max_length=20, choices=DocumentKind.choices, blank=True)  # "" on older rows
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to="cases/%Y/%m/")
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
