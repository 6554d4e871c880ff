"""Registry models. Every geometry is stored in EPSG:2180 with x = easting (DOMAIN.md §12).

Each registry object keeps its official identifier and its IIP identity (lokalnyId, przestrzenNazw,
wersjaId) with version dates. A row whose `end_object` is set has been retired (it disappeared from a
newer export); public reads see only current rows (`RegistryQuerySet.current()`).

Personal data (owners, shares, KW numbers) lives only in the `Restricted*` models at the bottom; no
public model has a field holding it, so no public read can join it in by accident.
"""

from __future__ import annotations

from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gisportal.core import identifiers

SRID = 2180


class RegistryQuerySet(models.QuerySet):
    def current(self):
        return self.filter(end_object__isnull=True)


class RegistryObject(models.Model):
    """IIP identity and life-cycle dates shared by all registry objects."""

    local_id = models.CharField(_("lokalnyId"), max_length=100)
    namespace = models.CharField(_("przestrzenNazw"), max_length=100)
    version_id = models.CharField(_("wersjaId"), max_length=40, blank=True)
    start_object = models.DateTimeField(_("startObiekt"), null=True, blank=True)
    start_version = models.DateTimeField(_("startWersjaObiekt"), null=True, blank=True)
    end_version = models.DateTimeField(_("koniecWersjaObiekt"), null=True, blank=True)
    end_object = models.DateTimeField(_("koniecObiekt"), null=True, blank=True)

    objects = RegistryQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def iip_constraints(cls, prefix: str) -> list:
        return [
            models.UniqueConstraint(fields=["namespace", "local_id"], name=f"{prefix}_iip_unique"),
            models.CheckConstraint(
                condition=Q(end_object__isnull=True)
                | Q(start_object__isnull=True)
                | Q(end_object__gte=models.F("start_object")),
                name=f"{prefix}_dates_ordered",
            ),
        ]


class AdministrativeUnit(models.Model):
    """PRG administrative unit: voivodeship (2 digits), county (4) or gmina (7, with type digit)."""

    class Level(models.TextChoices):
        VOIVODESHIP = "voivodeship", _("voivodeship")
        COUNTY = "county", _("county")
        GMINA = "gmina", _("gmina")

    teryt = models.CharField(
        _("TERYT code"), max_length=7, unique=True, validators=[RegexValidator(identifiers.TERYT_RE)]
    )
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    geom = models.MultiPolygonField(srid=SRID)

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        constraints = [
            models.CheckConstraint(
                condition=(Q(level="voivodeship") & Q(teryt__regex=r"^\d{2}$"))
                | (Q(level="county") & Q(teryt__regex=r"^\d{4}$"))
                | (Q(level="gmina") & Q(teryt__regex=r"^\d{7}$")),
                name="adminunit_level_matches_teryt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.teryt})"


class CadastralUnit(RegistryObject):
    """Jednostka ewidencyjna, e.g. 141804_4 (town of Piaseczno) and 141804_5 (its rural area)."""

    unit_id = models.CharField(
        _("idJednostkiEwid"), max_length=8, validators=[RegexValidator(identifiers.UNIT_RE)]
    )
    name = models.CharField(_("name"), max_length=100)
    gmina = models.ForeignKey(
        AdministrativeUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    geom = models.MultiPolygonField(srid=SRID)

    class Meta:
        verbose_name = _("cadastral unit")
        verbose_name_plural = _("cadastral units")
        constraints = [
            *RegistryObject.iip_constraints("cadunit"),
            models.UniqueConstraint(
                fields=["unit_id"], condition=Q(end_object__isnull=True), name="cadunit_id_current_unique"
            ),
            models.CheckConstraint(
                condition=Q(unit_id__regex=identifiers.UNIT_RE.pattern), name="cadunit_id_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.name}"


class Precinct(RegistryObject):
    """Obręb ewidencyjny `WWPPGG_R.XXXX`."""

    precinct_id = models.CharField(
        _("idObrebu"), max_length=13, validators=[RegexValidator(identifiers.PRECINCT_RE)]
    )
    number = models.CharField(_("precinct number"), max_length=4)
    name = models.CharField(_("nazwaWlasna"), max_length=100)
    unit = models.ForeignKey(CadastralUnit, on_delete=models.PROTECT, related_name="precincts")
    geom = models.MultiPolygonField(srid=SRID)

    class Meta:
        verbose_name = _("precinct")
        verbose_name_plural = _("precincts")
        constraints = [
            *RegistryObject.iip_constraints("precinct"),
            models.UniqueConstraint(
                fields=["precinct_id"],
                condition=Q(end_object__isnull=True),
                name="precinct_id_current_unique",
            ),
            models.CheckConstraint(
                condition=Q(precinct_id__regex=identifiers.PRECINCT_RE.pattern), name="precinct_id_format"
            ),
        ]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.precinct_id} {self.name}"


class Parcel(RegistryObject):
    """Działka ewidencyjna. `area_ha` is the registered area (poleEwidencyjne) in hectares."""

    parcel_id = models.CharField(_("idDzialki"), max_length=60)
    number = models.CharField(_("parcel number"), max_length=30)
    sheet = models.PositiveIntegerField(_("map sheet (AR)"), null=True, blank=True)
    precinct = models.ForeignKey(Precinct, on_delete=models.PROTECT, related_name="parcels")
    area_ha = models.DecimalField(_("registered area [ha]"), max_digits=12, decimal_places=4)
    area_accuracy = models.PositiveSmallIntegerField(
        _("dokladnoscReprezentacjiPola"), default=1, validators=[MinValueValidator(1), MaxValueValidator(2)]
    )
    registration_unit = models.CharField(_("registration unit (JRG)"), max_length=60, blank=True)
    registration_group = models.PositiveSmallIntegerField(
        _("registration group"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(16)],
    )
    geom = models.MultiPolygonField(srid=SRID)

    class Meta:
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        constraints = [
            *RegistryObject.iip_constraints("parcel"),
            models.UniqueConstraint(
                fields=["parcel_id"], condition=Q(end_object__isnull=True), name="parcel_id_current_unique"
            ),
            models.CheckConstraint(
                condition=Q(parcel_id__regex=identifiers.PARCEL_RE.pattern), name="parcel_id_format"
            ),
            models.CheckConstraint(
                condition=~Q(parcel_id__regex=r"^\d{6}_3\."), name="parcel_id_not_unit_kind_3"
            ),
            models.CheckConstraint(condition=Q(area_ha__gt=0), name="parcel_area_positive"),
            models.CheckConstraint(condition=Q(area_accuracy__in=[1, 2]), name="parcel_area_accuracy"),
            models.CheckConstraint(
                condition=Q(registration_group__isnull=True)
                | Q(registration_group__gte=1, registration_group__lte=16),
                name="parcel_registration_group_range",
            ),
        ]
        indexes = [models.Index(fields=["precinct", "number"])]

    def __str__(self) -> str:
        return self.parcel_id


class LandUseCode(models.TextChoices):
    """OFU, the 25 codes of the XSD (DOMAIN.md §4.2)."""

    R = "R", _("arable land")
    L = "Ł", _("meadow")
    PS = "Ps", _("pasture")
    S = "S", _("orchard")
    BR = "Br", _("built-up farmland")
    LZR = "Lzr", _("trees on farmland")
    WSR = "Wsr", _("ponds")
    W = "W", _("ditches")
    N = "N", _("wasteland")
    LS = "Ls", _("forest")
    LZ = "Lz", _("trees and shrubs")
    B = "B", _("residential land")
    BA = "Ba", _("industrial land")
    BI = "Bi", _("other built-up land")
    BP = "Bp", _("urbanised undeveloped land")
    BZ = "Bz", _("recreation and leisure land")
    K = "K", _("mining land")
    DR = "dr", _("roads")
    TK = "Tk", _("railways")
    TI = "Ti", _("other transport land")
    TP = "Tp", _("roads and railways under construction")
    WM = "Wm", _("internal sea waters")
    WP = "Wp", _("flowing waters")
    WS = "Ws", _("standing waters")
    TR = "Tr", _("miscellaneous land")


class SoilUseCode(models.TextChoices):
    """OZU."""

    R = "R", _("arable land")
    L = "Ł", _("meadow")
    PS = "Ps", _("pasture")
    LS = "Ls", _("forest")
    LZ = "Lz", _("trees and shrubs")
    N = "N", _("wasteland")


class SoilClass(models.TextChoices):
    """OZK."""

    I = "I", "I"  # noqa: E741
    II = "II", "II"
    III = "III", "III"
    IIIA = "IIIa", "IIIa"
    IIIB = "IIIb", "IIIb"
    IV = "IV", "IV"
    IVA = "IVa", "IVa"
    IVB = "IVb", "IVb"
    V = "V", "V"
    VI = "VI", "VI"
    VIZ = "VIz", "VIz"


class ParcelLandUse(models.Model):
    """One land-use class of a parcel (klasouzytek) with its area; the areas add up to the parcel's."""

    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="land_uses")
    ofu = models.CharField("OFU", max_length=3, choices=LandUseCode.choices)
    ozu = models.CharField("OZU", max_length=2, choices=SoilUseCode.choices, blank=True)
    ozk = models.CharField("OZK", max_length=4, choices=SoilClass.choices, blank=True)
    area_ha = models.DecimalField(_("area [ha]"), max_digits=12, decimal_places=4)

    class Meta:
        verbose_name = _("parcel land-use class")
        verbose_name_plural = _("parcel land-use classes")
        constraints = [
            models.CheckConstraint(condition=Q(area_ha__gt=0), name="parcellanduse_area_positive"),
            models.CheckConstraint(condition=Q(ofu__in=LandUseCode.values), name="parcellanduse_ofu_valid"),
            models.CheckConstraint(
                condition=Q(ozu="") | Q(ozu__in=SoilUseCode.values), name="parcellanduse_ozu_valid"
            ),
            models.CheckConstraint(
                condition=Q(ozk="") | Q(ozk__in=SoilClass.values), name="parcellanduse_ozk_valid"
            ),
        ]

    @property
    def label(self) -> str:
        """`R IVa`, `B`, `Ł-RIII` style label."""
        if self.ozu and self.ozu != self.ofu:
            return f"{self.ofu}-{self.ozu}{self.ozk}"
        return f"{self.ofu}{self.ozk}"


class KstType(models.TextChoices):
    """rodzajWgKST: the XSD enumeration (EGB_RodzajWgKSTType) with its KŚT class numbers."""

    M = "m", _("residential (110)")
    G = "g", _("production, service and farm buildings for agriculture (108)")
    T = "t", _("transport and communication (102)")
    K = "k", _("education, science, culture and sport (107)")
    Z = "z", _("hospitals and other health care (106)")
    B = "b", _("office (105)")
    H = "h", _("commercial and services (103)")
    P = "p", _("industrial (101)")
    S = "s", _("tanks, silos and storage buildings (104)")
    I = "i", _("other non-residential (109)")  # noqa: E741


KST_CODES = {
    "m": 110,
    "g": 108,
    "t": 102,
    "k": 107,
    "z": 106,
    "b": 105,
    "h": 103,
    "p": 101,
    "s": 104,
    "i": 109,
}


class Building(RegistryObject):
    building_id = models.CharField(_("idBudynku"), max_length=80)
    kst_type = models.CharField(_("rodzajWgKST"), max_length=1, choices=KstType.choices)
    storeys_above = models.PositiveSmallIntegerField(_("storeys above ground"))
    storeys_below = models.PositiveSmallIntegerField(_("storeys below ground"), default=0)
    built_up_area_m2 = models.DecimalField(_("built-up area [m²]"), max_digits=12, decimal_places=2)
    parcels = models.ManyToManyField(Parcel, related_name="buildings", verbose_name=_("parcels built on"))
    geom = models.MultiPolygonField(srid=SRID, null=True, blank=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [
            *RegistryObject.iip_constraints("building"),
            models.UniqueConstraint(
                fields=["building_id"],
                condition=Q(end_object__isnull=True),
                name="building_id_current_unique",
            ),
            models.CheckConstraint(condition=Q(kst_type__in=KstType.values), name="building_kst_valid"),
            models.CheckConstraint(condition=Q(built_up_area_m2__gt=0), name="building_area_positive"),
            models.CheckConstraint(
                condition=Q(storeys_above__lte=200) & Q(storeys_below__lte=20), name="building_storeys_range"
            ),
        ]

    @property
    def kst_code(self) -> int:
        return KST_CODES[self.kst_type]

    def __str__(self) -> str:
        return self.building_id


class AddressPoint(RegistryObject):
    """Punkt adresowy (PRG/EMUiA) with its TERYT ids (SIMC locality, ULIC street)."""

    teryt_gmina = models.CharField(_("TERC of the gmina"), max_length=7)
    simc = models.CharField(
        _("SIMC locality id"), max_length=7, blank=True, validators=[RegexValidator(r"^\d{7}$")]
    )
    locality = models.CharField(_("locality"), max_length=100)
    ulic = models.CharField(
        _("ULIC street id"), max_length=5, blank=True, validators=[RegexValidator(r"^\d{5}$")]
    )
    street = models.CharField(_("street"), max_length=150, blank=True)
    number = models.CharField(_("house number"), max_length=20)
    postcode = models.CharField(
        _("postal code"), max_length=6, blank=True, validators=[RegexValidator(identifiers.POSTCODE_RE)]
    )
    status = models.CharField(_("status"), max_length=20, default="istniejacy")
    geom = models.PointField(srid=SRID)

    class Meta:
        verbose_name = _("address point")
        verbose_name_plural = _("address points")
        constraints = [
            *RegistryObject.iip_constraints("address"),
            models.CheckConstraint(
                condition=Q(postcode="") | Q(postcode__regex=r"^\d{2}-\d{3}$"), name="address_postcode_format"
            ),
            models.CheckConstraint(
                condition=Q(simc="") | Q(simc__regex=r"^\d{7}$"), name="address_simc_format"
            ),
            models.CheckConstraint(
                condition=Q(ulic="") | Q(ulic__regex=r"^\d{5}$"), name="address_ulic_format"
            ),
        ]
        indexes = [models.Index(fields=["locality", "street", "number"])]

    @property
    def label(self) -> str:
        return f"{self.street or self.locality} {self.number}"

    def __str__(self) -> str:
        return f"{self.label}, {self.postcode} {self.locality}"


class LandUseContour(RegistryObject):
    contour_id = models.CharField(_("idUzytku"), max_length=60)
    ofu = models.CharField("OFU", max_length=3, choices=LandUseCode.choices)
    geom = models.MultiPolygonField(srid=SRID)

    class Meta:
        verbose_name = _("land-use contour")
        verbose_name_plural = _("land-use contours")
        constraints = [
            *RegistryObject.iip_constraints("landuse"),
            models.UniqueConstraint(
                fields=["contour_id"], condition=Q(end_object__isnull=True), name="landuse_id_current_unique"
            ),
            models.CheckConstraint(condition=Q(ofu__in=LandUseCode.values), name="landuse_ofu_valid"),
        ]


class SoilClassContour(RegistryObject):
    contour_id = models.CharField(_("idKonturu"), max_length=60)
    ozu = models.CharField("OZU", max_length=2, choices=SoilUseCode.choices)
    ozk = models.CharField("OZK", max_length=4, choices=SoilClass.choices, blank=True)
    geom = models.MultiPolygonField(srid=SRID)

    class Meta:
        verbose_name = _("soil-class contour")
        verbose_name_plural = _("soil-class contours")
        constraints = [
            *RegistryObject.iip_constraints("soilclass"),
            models.UniqueConstraint(
                fields=["contour_id"],
                condition=Q(end_object__isnull=True),
                name="soilclass_id_current_unique",
            ),
            models.CheckConstraint(condition=Q(ozu__in=SoilUseCode.values), name="soilclass_ozu_valid"),
            models.CheckConstraint(
                condition=Q(ozk="") | Q(ozk__in=SoilClass.values), name="soilclass_ozk_valid"
            ),
        ]


class ZoningPlan(models.Model):
    """Miejscowy plan zagospodarowania przestrzennego (MPZP)."""

    plan_id = models.CharField(_("plan identifier"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=300)
    teryt_gmina = models.CharField(_("TERC of the gmina"), max_length=7)
    resolution_no = models.CharField(_("resolution number"), max_length=60)
    resolution_date = models.DateField(_("resolution date"))
    in_force_from = models.DateField(_("in force from"), null=True, blank=True)
    geom = models.MultiPolygonField(srid=SRID)

    class Meta:
        verbose_name = _("zoning plan")
        verbose_name_plural = _("zoning plans")

    def __str__(self) -> str:
        return self.name


class ZoningArea(models.Model):
    """One zone of a plan: designation symbol (MN, MW, U, ZL, R, KD...) with its description."""

    plan = models.ForeignKey(ZoningPlan, on_delete=models.CASCADE, related_name="areas")
    label = models.CharField(_("label on the plan"), max_length=30)  # e.g. 12MN
    symbol = models.CharField(_("designation symbol"), max_length=10)  # e.g. MN
    description = models.CharField(_("designation"), max_length=300)
    geom = models.MultiPolygonField(srid=SRID)

    class Meta:
        verbose_name = _("zoning area")
        verbose_name_plural = _("zoning areas")
        constraints = [models.UniqueConstraint(fields=["plan", "label"], name="zoningarea_label_unique")]


# ----------------------------------------------------------------------------- restricted data
# Personal data (DOMAIN.md §11): only through layers.selectors.restricted_*, which writes the
# access log. Never referenced by the layer catalogue's public attributes.


class RestrictedLandRegisterEntry(models.Model):
    """KW number of a parcel or building (personal data per UODO)."""

    parcel = models.ForeignKey(Parcel, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    building = models.ForeignKey(Building, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kw_number = models.CharField(
        _("land register (KW) number"), max_length=20, validators=[RegexValidator(r"^[A-Z0-9]{4}/\d{8}/\d$")]
    )

    class Meta:
        verbose_name = _("land register entry (restricted)")
        verbose_name_plural = _("land register entries (restricted)")
        constraints = [
            models.CheckConstraint(
                condition=Q(parcel__isnull=False) | Q(building__isnull=False), name="kw_has_object"
            ),
            models.CheckConstraint(condition=Q(kw_number__regex=r"^[A-Z0-9]{4}/\d{8}/\d$"), name="kw_format"),
        ]


class RestrictedSubject(RegistryObject):
    """Podmiot: a person, a married couple, an institution or a group (owners and holders)."""

    class Kind(models.TextChoices):
        PERSON = "person", _("natural person")
        MARRIAGE = "marriage", _("married couple")
        INSTITUTION = "institution", _("institution")
        GROUP = "group", _("group of subjects")
        COMMUNITY = "community", _("land community")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=300)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    surname = models.CharField(_("surname"), max_length=150, blank=True)
    pesel = models.CharField("PESEL", max_length=11, blank=True)
    regon = models.CharField("REGON", max_length=14, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("subject (restricted)")
        verbose_name_plural = _("subjects (restricted)")
        constraints = [*RegistryObject.iip_constraints("subject")]


class RestrictedShare(models.Model):
    """Udział we własności / we władaniu of a subject in a registration unit (JRG)."""

    class Kind(models.TextChoices):
        OWNERSHIP = "ownership", _("ownership")
        POSSESSION = "possession", _("possession")

    subject = models.ForeignKey(RestrictedSubject, on_delete=models.CASCADE, related_name="shares")
    registration_unit = models.CharField(_("registration unit (JRG)"), max_length=60, db_index=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.OWNERSHIP)
    right = models.CharField(_("right"), max_length=60, blank=True)
    numerator = models.PositiveIntegerField(_("share numerator"), default=1)
    denominator = models.PositiveIntegerField(_("share denominator"), default=1)

    class Meta:
        verbose_name = _("share (restricted)")
        verbose_name_plural = _("shares (restricted)")
        constraints = [
            models.CheckConstraint(
                condition=Q(numerator__gte=1)
                & Q(denominator__gte=1)
                & Q(numerator__lte=models.F("denominator")),
                name="share_fraction_valid",
            ),
        ]


class RestrictedAccessLog(models.Model):
    """Append-only, hash-chained log of every read of restricted data (DOMAIN.md §11)."""

    at = models.DateTimeField(_("when"), auto_now_add=True)
    user_id = models.BigIntegerField(_("user id"), null=True)
    username = models.CharField(_("user"), max_length=150)
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    case_sign = models.CharField(_("case sign"), max_length=60, blank=True)
    object_kind = models.CharField(_("object kind"), max_length=40)
    object_ids = models.JSONField(_("object identifiers"))
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("restricted data access")
        verbose_name_plural = _("restricted data accesses")
        ordering = ["id"]


class RegistryHistory(models.Model):
    """Earlier versions of registry objects (from a file holding several versions of one lokalnyId,
    or replaced by a newer import). Attributes as JSON, geometry as it was."""

    kind = models.CharField(_("object kind"), max_length=40)
    namespace = models.CharField(_("przestrzenNazw"), max_length=100)
    local_id = models.CharField(_("lokalnyId"), max_length=100)
    version_id = models.CharField(_("wersjaId"), max_length=40, blank=True)
    start_version = models.DateTimeField(_("startWersjaObiekt"), null=True, blank=True)
    end_version = models.DateTimeField(_("koniecWersjaObiekt"), null=True, blank=True)
    official_id = models.CharField(_("official identifier"), max_length=80, blank=True)
    data = models.JSONField(_("attributes"), default=dict)
    geom = models.GeometryField(srid=SRID, null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    job = models.ForeignKey("ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("registry object version")
        verbose_name_plural = _("registry object versions")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "namespace", "local_id", "version_id"], name="history_version_unique"
            ),
        ]
        indexes = [models.Index(fields=["kind", "official_id"])]


class ImportJob(models.Model):
    """One import of one file: stored first, then processed (CLI or Celery) with visible progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    class Policy(models.TextChoices):
        REJECT = "reject", _("reject invalid objects")
        REPAIR = "repair", _("repair what can be repaired")
        STRICT = "strict", _("reject the whole file on any error")

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_name = models.CharField(_("file name"), max_length=255)
    path = models.CharField(_("stored file"), max_length=500)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(_("size [bytes]"), default=0)
    format = models.CharField(_("format"), max_length=20, default="auto")
    options = models.JSONField(_("options"), default=dict)
    policy = models.CharField(_("policy"), max_length=10, choices=Policy.choices, default=Policy.REJECT)
    # the importing office's scope (importing/scope.py: keeper, teryt, office); empty: the server's operator
    scope = models.JSONField(_("office scope"), default=dict, blank=True)
    dry_run = models.BooleanField(_("check only (nothing is written)"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    read = models.BigIntegerField(_("objects read"), default=0)
    written = models.BigIntegerField(_("objects written"), default=0)
    rejected = models.BigIntegerField(_("objects rejected"), default=0)
    phase = models.CharField(_("phase"), max_length=40, blank=True)
    report = models.JSONField(_("report"), default=dict)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="importjob_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_name} ({self.get_status_display()})"


class RemoteSource(models.Model):
    """A remote OGC service (WMS, WFS or OGC API – Features) registered by staff: its normalised URL (never
    with credentials), what its capabilities said when last read, and the layers staff chose to use.
    Fetching lives in layers/sources/ (one outbound client); this model makes no network calls."""

    class Kind(models.TextChoices):
        WMS = "wms", "WMS"
        WFS = "wfs", "WFS"
        OGCAPI = "ogcapi", "OGC API – Features"

    class Status(models.TextChoices):
        OK = "ok", _("ok")
        FAILED = "failed", _("failed")

    class Axis(models.TextChoices):
        NONE = "none", _("as declared")
        XY = "xy", _("always x, y (easting first)")
        YX = "yx", _("always y, x (northing first)")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    url = models.URLField(_("address"), max_length=500)
    title = models.CharField(_("title"), max_length=300, blank=True)
    added_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)
    office_code = models.CharField(_("office"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OK)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # service title and version; layers / feature types / collections with name, title, crs, bbox
    capabilities = models.JSONField(_("capabilities read"), default=dict, blank=True)
    axis_override = models.CharField(
        _("axis order override"), max_length=4, choices=Axis.choices, default=Axis.NONE
    )
    chosen = models.JSONField(_("chosen layers"), default=list, blank=True)

    class Meta:
        verbose_name = _("remote source")
        verbose_name_plural = _("remote sources")
        ordering = ["-added_at"]
        constraints = [
            models.UniqueConstraint(fields=["url", "kind"], name="remotesource_url_kind_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=["wms", "wfs", "ogcapi"]), name="remotesource_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["ok", "failed"]), name="remotesource_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(axis_override__in=["none", "xy", "yx"]), name="remotesource_axis_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title or self.url} ({self.get_kind_display()})"


class HarvestedLayer(models.Model):
    """A local layer filled from a remote source's feature type (WFS) or collection (OGC API): published
    in the catalogue under `name` like any other layer (layers/sources/harvested.py), its rows in
    `HarvestedFeature`. Its attributes are those the first harvest found (plain identifiers)."""

    name = models.SlugField(_("layer name"), max_length=60, unique=True)
    source = models.ForeignKey(RemoteSource, on_delete=models.PROTECT, related_name="harvested_layers")
    remote_name = models.CharField(_("remote feature type or collection"), max_length=200)
    title_pl = models.CharField(_("title (Polish)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    abstract_pl = models.TextField(_("abstract (Polish)"), blank=True)
    abstract_en = models.TextField(_("abstract (English)"), blank=True)
    geometry_type = models.CharField(_("geometry type"), max_length=20, blank=True)
    # [{"name": ..., "type": string|integer|decimal|date|datetime, "remote": the remote property name}]
    attributes = models.JSONField(_("attributes"), default=list, blank=True)
    id_property = models.CharField(_("identifier property"), max_length=100, blank=True)  # "" = feature id
    interval_hours = models.PositiveIntegerField(_("harvest every (hours, 0 = on demand)"), default=0)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    harvested_at = models.DateTimeField(_("last harvested"), null=True, blank=True)

    class Meta:
        verbose_name = _("harvested layer")
        verbose_name_plural = _("harvested layers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "remote_name"], name="harvestedlayer_source_remote_unique"
            ),
            models.CheckConstraint(
                condition=Q(name__regex=r"^[a-z][a-z0-9_]{1,59}$"), name="harvestedlayer_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class HarvestedFeature(models.Model):
    """One version of a harvested feature: a changed feature retires its row (end_object) and gets a new
    one, a feature gone from the source is retired; rows are never deleted (the history stays)."""

    layer = models.ForeignKey(HarvestedLayer, on_delete=models.PROTECT, related_name="features")
    fid = models.CharField(_("identifier"), max_length=200)
    properties = models.JSONField(default=dict)
    geom = models.GeometryField(srid=SRID, null=True)
    digest = models.CharField(max_length=64)  # sha256 of the properties and the geometry at 1 mm
    start_version = models.DateTimeField(_("harvested"))
    end_object = models.DateTimeField(_("retired"), null=True, blank=True)

    objects = RegistryQuerySet.as_manager()

    class Meta:
        verbose_name = _("harvested feature")
        verbose_name_plural = _("harvested features")
        constraints = [
            models.UniqueConstraint(
                fields=["layer", "fid"],
                condition=Q(end_object__isnull=True),
                name="harvestedfeature_current_once",
            ),
        ]
        indexes = [models.Index(fields=["layer", "end_object"], name="harvestedfeature_layer_current")]


class HarvestRun(models.Model):
    """One harvest of a layer: what was read, what changed, what went wrong."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    layer = models.ForeignKey(HarvestedLayer, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(_("started by"), max_length=20, default="manual")  # manual | schedule | cli
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    read = models.PositiveIntegerField(_("features read"), default=0)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    new = models.PositiveIntegerField(_("new"), default=0)
    changed = models.PositiveIntegerField(_("changed"), default=0)
    retired = models.PositiveIntegerField(_("retired"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    error = models.TextField(_("error"), blank=True)
    report = models.JSONField(default=dict, blank=True)  # warnings, skipped features, timings, requests

    class Meta:
        verbose_name = _("harvest run")
        verbose_name_plural = _("harvest runs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.layer} {self.created_at:%Y-%m-%d %H:%M} ({self.status})"


class DatasetMetadata(models.Model):
    """Dataset metadata a member of staff edits for a published layer (any catalogue entry, by name):
    published as ISO 19139 (ogc/metadata.py), through the CSW and as OGC API – Records. Empty fields fall
    back to what the catalogue says."""

    class Frequency(models.TextChoices):  # ISO 19115 MD_MaintenanceFrequencyCode
        CONTINUAL = "continual", _("continually")
        DAILY = "daily", _("daily")
        WEEKLY = "weekly", _("weekly")
        MONTHLY = "monthly", _("monthly")
        QUARTERLY = "quarterly", _("quarterly")
        ANNUALLY = "annually", _("annually")
        AS_NEEDED = "asNeeded", _("as needed")
        IRREGULAR = "irregular", _("irregularly")
        UNKNOWN = "unknown", _("unknown")

    layer_name = models.CharField(_("layer"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    abstract = models.TextField(_("abstract"), blank=True)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    lineage = models.TextField(_("lineage"), blank=True)
    licence = models.CharField(pgettext_lazy("conditions of use", "licence"), max_length=300, blank=True)
    contact_name = models.CharField(_("contact (organisation)"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    update_frequency = models.CharField(
        _("update frequency"), max_length=12, choices=Frequency.choices, default=Frequency.AS_NEEDED
    )
    inspire_theme = models.CharField(_("INSPIRE theme"), max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("dataset metadata")
        verbose_name_plural = _("dataset metadata")
        ordering = ["layer_name"]

    def __str__(self) -> str:
        return self.layer_name


class DataVersion(models.Model):
    """The registry's data version: one row whose number changes (from a sequence: never twice the same, even
    after a rolled-back transaction) in the same transaction as the data it versions. Caches key on it
    (layers/selectors.py `data_version`); held here, not in Redis, so a cache outage loses no bump and a read
    replica answers the version that goes with its own data."""

    version = models.BigIntegerField()

    class Meta:
        db_table = "layers_dataversion"
