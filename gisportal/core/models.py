"""The user account. Roles are a closed set; what each role may do is in roles.py."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

LOA_NAMES = {  # eIDAS levels of assurance, as a person reads them
    "low": pgettext_lazy("assurance", "low"),
    "substantial": pgettext_lazy("assurance", "substantial"),
    "high": pgettext_lazy("assurance", "high"),
}


class Role(models.TextChoices):
    CITIZEN = "citizen", _("citizen or business")
    CLERK = "clerk", _("clerk")
    SURVEYOR = "surveyor", _("licensed surveyor")
    GEODESIST = "geodesist", _("voivodeship geodesist")
    OFFICE_SYSTEM = "office_system", _("office system (API client)")


class User(AbstractUser):
    # an account made by signing in with login.gov.pl has no e-mail until its owner gives one
    email = models.EmailField(_("e-mail address"), unique=True, null=True, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CITIZEN)
    # surveyors: number of the professional licence (uprawnienia zawodowe)
    licence_no = models.CharField(_("surveyor licence number"), max_length=20, blank=True)
    # the identity login.gov.pl vouched for (services/logingov): set only from a verified assertion, never typed
    pesel = models.CharField(_("PESEL"), max_length=11, unique=True, null=True, blank=True, editable=False)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True, editable=False)
    identity_loa = models.CharField(_("level of assurance"), max_length=12, blank=True, editable=False)
    identity_verified_at = models.DateTimeField(_("identity verified"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="user_role_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(role="surveyor") | ~models.Q(licence_no=""),
                name="surveyor_has_licence",
            ),
        ]

    @property
    def is_clerk(self) -> bool:
        return self.role == Role.CLERK

    @property
    def identity_loa_name(self) -> str:
        return str(LOA_NAMES.get(self.identity_loa, self.identity_loa))

    @property
    def identity_verified(self) -> bool:
        """Whether login.gov.pl vouched for this account's person (name and PESEL are then theirs)."""
        return bool(self.pesel and self.identity_verified_at)


class ApiKey(models.Model):
    """A key with which an office's system calls the JSON API as `user`. Only the SHA-256 of the key is
    stored: the key is 32 random bytes, so a fast hash is enough (nothing to guess from the hash), and
    the raw key is shown once, when created (gisportal.core.actions.api_key_create)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("user"))
    name = models.CharField(
        _("name"), max_length=100, help_text=_("what the key is for, e.g. the calling system")
    )
    prefix = models.CharField(
        _("prefix"),
        max_length=8,
        unique=True,
        editable=False,
        help_text=_("the first characters of the key after gp_, to recognise it"),
    )
    key_sha256 = models.CharField(_("SHA-256 of the key"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(key_sha256__regex=r"^[0-9a-f]{64}$"), name="api_key_sha256_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"gp_{self.prefix}… ({self.name})"


class FailedTask(models.Model):
    """A background task that failed for good (its retries, if any, used up): the dead letter a clerk sees
    at /urzad/zadania/ and may send again. The work itself is stored elsewhere first (submissions, jobs,
    deliveries, envelopes), so a failed task loses nothing: sending it again, or the next sweep, finishes it."""

    task_id = models.CharField(max_length=64, unique=True)
    task_name = models.CharField(_("task"), max_length=200)
    args = models.TextField(_("arguments"), blank=True)  # repr, shortened: ids, never documents
    error = models.CharField(_("error"), max_length=500)
    traceback = models.TextField(blank=True)
    failed_at = models.DateTimeField(_("failed at"), auto_now_add=True, db_index=True)
    retried_at = models.DateTimeField(_("sent again at"), null=True, blank=True)
    retried_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("failed background task")
        verbose_name_plural = _("failed background tasks")
        ordering = ["-failed_at"]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.failed_at:%Y-%m-%d %H:%M})"
