"""Offices, their organisational units and staff. An office's jurisdiction is an administrative
unit identified by TERYT; its geometry comes from `layers.AdministrativeUnit`."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OfficeKind(models.TextChoices):
    GMINA = "gmina", _("gmina office")
    COUNTY = "county", _("county office (starostwo)")
    VOIVODESHIP_GEODESIST = "voivodeship_geodesist", _("voivodeship geodesist")


class ServiceKind(models.TextChoices):
    """Kinds of matter; each is settled by one kind of office (DOMAIN.md §2)."""

    EGIB_EXTRACT = "egib_extract", _("EGiB register or map extract")
    PZGIK_MATERIAL = "pzgik_material", _("geodetic and cartographic resource material")
    SURVEY_WORK = "survey_work", _("surveyor's work notification")
    ZONING_EXTRACT = "zoning_extract", _("zoning plan extract")
    ZONING_CERTIFICATE = "zoning_certificate", _("zoning certificate")
    HOUSE_NUMBER = "house_number", _("house numbering")
    GENERAL_LETTER = "general_letter", _("general letter to the gmina")
    REGIONAL_DATA = "regional_data", _("regional spatial data")


SERVICE_OFFICE_KIND: dict[str, str] = {
    ServiceKind.EGIB_EXTRACT: OfficeKind.COUNTY,
    ServiceKind.PZGIK_MATERIAL: OfficeKind.COUNTY,
    ServiceKind.SURVEY_WORK: OfficeKind.COUNTY,
    ServiceKind.ZONING_EXTRACT: OfficeKind.GMINA,
    ServiceKind.ZONING_CERTIFICATE: OfficeKind.GMINA,
    ServiceKind.HOUSE_NUMBER: OfficeKind.GMINA,
    ServiceKind.GENERAL_LETTER: OfficeKind.GMINA,
    ServiceKind.REGIONAL_DATA: OfficeKind.VOIVODESHIP_GEODESIST,
}

OFFICE_KIND_LEVEL = {
    OfficeKind.GMINA: "gmina",
    OfficeKind.COUNTY: "county",
    OfficeKind.VOIVODESHIP_GEODESIST: "voivodeship",
}


class Office(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=OfficeKind.choices)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    jurisdiction_teryt = models.CharField(
        _("jurisdiction (TERYT)"), max_length=7, validators=[RegexValidator(r"^\d{2}(\d{2}(\d{3})?)?$")]
    )
    street = models.CharField(_("street and number"), max_length=200)
    postcode = models.CharField(_("postal code"), max_length=6, validators=[RegexValidator(r"^\d{2}-\d{3}$")])
    city = models.CharField(_("city"), max_length=100)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    nip = models.CharField("NIP", max_length=10, blank=True, validators=[RegexValidator(r"^\d{10}$")])
    regon = models.CharField(
        "REGON", max_length=14, blank=True, validators=[RegexValidator(r"^(\d{9}|\d{14})$")]
    )
    stamp_duty_account = models.CharField(_("stamp-duty bank account (IBAN)"), max_length=34, blank=True)
    fee_account = models.CharField(
        _("bank account for fees of fee calculation documents (IBAN)"), max_length=34, blank=True
    )
    ade_address = models.CharField(_("e-delivery address (ADE)"), max_length=40, blank=True)
    epuap_box = models.CharField(_("ePUAP box"), max_length=100, blank=True)
    active = models.BooleanField(_("served by this portal"), default=True)

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "jurisdiction_teryt"], name="office_one_per_kind_and_area"
            ),
            models.CheckConstraint(
                condition=(Q(kind="gmina") & Q(jurisdiction_teryt__regex=r"^\d{7}$"))
                | (Q(kind="county") & Q(jurisdiction_teryt__regex=r"^\d{4}$"))
                | (Q(kind="voivodeship_geodesist") & Q(jurisdiction_teryt__regex=r"^\d{2}$")),
                name="office_jurisdiction_level",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}"


class OfficeUnit(models.Model):
    """Organisational unit (wydział) of an office; its code starts case signs (DOMAIN.md §8)."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="units")
    code = models.CharField(
        _("unit code"), max_length=20, validators=[RegexValidator(r"^[A-Za-z]+(-[A-Za-z]+)?$")]
    )
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("office unit")
        verbose_name_plural = _("office units")
        constraints = [models.UniqueConstraint(fields=["office", "code"], name="officeunit_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class StaffMembership(models.Model):
    """A clerk (or the geodesist's staff) works for one office, optionally in one unit."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="staff")
    unit = models.ForeignKey(
        OfficeUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    position = models.CharField(_("position"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.office}"
