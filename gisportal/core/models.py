"""The user account. Roles are a closed set; what each role may do is in roles.py."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITIZEN = "citizen", _("citizen or business")
    CLERK = "clerk", _("clerk")
    SURVEYOR = "surveyor", _("licensed surveyor")
    GEODESIST = "geodesist", _("voivodeship geodesist")
    OFFICE_SYSTEM = "office_system", _("office system (API client)")


class User(AbstractUser):
    email = models.EmailField(_("e-mail address"), unique=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CITIZEN)
    # surveyors: number of the professional licence (uprawnienia zawodowe)
    licence_no = models.CharField(_("surveyor licence number"), max_length=20, blank=True)

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
