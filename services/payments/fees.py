"""Official fees of the e-services (DOMAIN.md §6) as data, and their calculation. No I/O: the counts
a fee depends on (parcels, registration units, zoning plans) come in a typed request (selectors.py
reads them from the registries).

Rules, named by the services' definitions (`fee_rule`):
- `pgik_table_11`: EGiB documents, table 11 of the annex to the Geodetic and Cartographic Law; per
  parcel or per registration unit (JRG), cheaper as an electronic document;
- `stamp_duty_zoning_extract`: the gmina's stamp duty on a wypis (30 zł up to 5 pages, 50 zł above)
  and a wyrys (20 zł per started A4 part, at most 200 zł) from a local plan, per plan and copy; a
  wypis with a wyrys at most 250 zł (DOMAIN.md: unverified);
- `stamp_duty_certificate`: stamp duty on a certificate, 17 zł (housing construction exempt);
- `pgik_materials`: the resource materials for a surveyor's work notification (art. 40b, 40d Pgik): per
  material chosen, the county's base rate × units (started hectares of the work area, parcels in it, or
  the work) × its coefficients, each amount rounded to 10 gr as in a DOO; without the county's rates for
  every material chosen, the starosta sets it in a fee calculation document (DOO) after the request;
- `free`.
Until the office prepares the document, page and part counts are unknown: the quote is then a range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gisportal.core.errors import InvalidInput

ZL = Decimal("1.00")
TEN_GROSZE = Decimal("0.10")
HECTARE_M2 = Decimal(10000)
MATERIALS = ("egib", "warstwy", "mapa", "punkty")  # the work notification's choices, in its order


def round_10_grosze(value: Decimal) -> Decimal:
    """DOO amounts are rounded to 10 gr: < 5 gr down, ≥ 5 gr up (12.34 → 12.30, 12.35 → 12.40)."""
    return ((Decimal(value) / TEN_GROSZE).quantize(Decimal(1), rounding=ROUND_HALF_UP) * TEN_GROSZE).quantize(
        ZL
    )


def zl(value: int | str) -> Decimal:
    return Decimal(value).quantize(ZL)


@dataclass(frozen=True)
class Product:
    label: object  # lazy text
    per: str  # parcel | registration_unit
    electronic: Decimal
    paper: Decimal


# table 11 of the annex to the Geodetic and Cartographic Law, by the EGiB form's `variant`
TABLE_11: dict[str, Product] = {
    "wypis_uproszczony": Product(
        gettext_lazy("simplified land-register extract (informational)"), "parcel", zl(15), zl(15)
    ),
    "wypis_z_danymi": Product(
        gettext_lazy("land-register extract with the land-register (KW) clause"),
        "registration_unit",
        zl(40),
        zl(50),
    ),
    "wypis_bez_danych": Product(
        gettext_lazy("land-register extract without personal data"), "registration_unit", zl(24), zl(30)
    ),
    "wyrys": Product(
        gettext_lazy("cadastral-map extract with the KW clause"), "registration_unit", zl(105), zl(110)
    ),
    "wypis_wyrys": Product(
        gettext_lazy("land-register and cadastral-map extract with the KW clause"),
        "registration_unit",
        zl(140),
        zl(150),
    ),
}
ZONING_WYPIS_SHORT, ZONING_WYPIS_LONG, ZONING_WYPIS_SHORT_PAGES = zl(30), zl(50), 5
ZONING_WYRYS_PART, ZONING_WYRYS_MAX = zl(20), zl(200)
ZONING_BOTH_MAX = zl(250)
CERTIFICATE = zl(17)
MAX_COUNT = (
    1000  # parcels, units, plans, copies, pages or parts in one request: beyond this it is not a request
)
RULES = ("free", "pgik_table_11", "stamp_duty_zoning_extract", "stamp_duty_certificate", "pgik_materials")


@dataclass(frozen=True)
class Rate:
    """A county's rate for one resource material (payments.MaterialRate)."""

    material: str
    label: str
    unit: str  # ha | parcel | work
    base_rate: Decimal
    coefficient: Decimal = Decimal(1)
    legal_basis: str = "art. 40b, 40d Pgik"


@dataclass(frozen=True)
class FeeRequest:
    """What a fee depends on, from the form's data and the registries."""

    rule: str
    variant: str = ""  # pgik_table_11: the EGiB product
    form: str = "electronic"  # pgik_table_11: electronic | paper
    parcels: int = 0
    registration_units: int = 0
    product: str = ""  # stamp_duty_zoning_extract: wypis | wyrys | wypis_wyrys
    plans: int = 0  # local plans covering the parcels
    copies: int = 1
    pages: int | None = None  # of the wypis, when the office knows it
    parts: int | None = None  # started A4 parts of the wyrys, when the office knows it
    housing_exemption: bool = False
    area_m2: Decimal | None = None  # pgik_materials: the work area
    materials: tuple[str, ...] = ()  # pgik_materials: the materials chosen
    rates: tuple[Rate, ...] = ()  # pgik_materials: the competent county's rates in force


@dataclass(frozen=True)
class FeeLine:
    label: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    amount_max: Decimal


@dataclass(frozen=True)
class Quote:
    rule: str
    kind: str  # pgik (the county's PZGiK account) | stamp_duty (the gmina's account) | none
    lines: tuple[FeeLine, ...]
    total: Decimal | None  # None: set by the office in a fee calculation document (DOO)
    total_max: Decimal | None
    notes: tuple[str, ...] = ()
    other_form_total: Decimal | None = None  # pgik_table_11: the same documents on paper (or electronically)
    legal_basis: str = ""

    @property
    def final(self) -> bool:
        return self.total is not None and self.total == self.total_max


def _count(name: str, value: int | None, low: int = 0) -> None:
    if value is not None and not low <= value <= MAX_COUNT:
        raise InvalidInput(
            _("%(name)s must be a whole number from %(low)s to %(high)s.")
            % {"name": name, "low": low, "high": MAX_COUNT}
        )


def quote(req: FeeRequest) -> Quote:
    """The fee of one request (raises InvalidInput for what no request can be)."""
    for name in ("parcels", "registration_units", "plans", "pages", "parts"):
        _count(name, getattr(req, name))
    _count("copies", req.copies, low=1)
    if req.rule == "free":
        return Quote(req.rule, "none", (), zl(0), zl(0), (_("Free of charge."),))
    if req.rule == "pgik_materials":
        return _materials(req)
    if req.rule == "pgik_table_11":
        return _table_11(req)
    if req.rule == "stamp_duty_zoning_extract":
        return _zoning_extract(req)
    if req.rule == "stamp_duty_certificate":
        if req.housing_exemption:
            return Quote(
                req.rule,
                "stamp_duty",
                (),
                zl(0),
                zl(0),
                (_("Exempt from stamp duty: a certificate in a housing construction matter."),),
                legal_basis="ustawa o opłacie skarbowej, art. 2 ust. 1 pkt 2",
            )
        line = FeeLine(_("stamp duty on a certificate"), 1, CERTIFICATE, CERTIFICATE, CERTIFICATE)
        return Quote(
            req.rule,
            "stamp_duty",
            (line,),
            CERTIFICATE,
            CERTIFICATE,
            legal_basis="ustawa o opłacie skarbowej, zał. cz. II",
        )
    raise InvalidInput(_("This service has no fee rule we know."))


def _table_11(req: FeeRequest) -> Quote:
    product = TABLE_11.get(req.variant)
    if product is None:
        raise InvalidInput(_("Choose one of the document variants: %(v)s.") % {"v": ", ".join(TABLE_11)})
    if req.form not in ("electronic", "paper"):
        raise InvalidInput(_("The document is either electronic or paper."))
    quantity = req.parcels if product.per == "parcel" else req.registration_units
    if quantity < 1:
        raise InvalidInput(_("Give the parcels concerned."))
    price, other = (
        (product.electronic, product.paper)
        if req.form == "electronic"
        else (product.paper, product.electronic)
    )
    per = _("per parcel") if product.per == "parcel" else _("per registration unit")
    line = FeeLine(f"{product.label} ({per})", quantity, price, price * quantity, price * quantity)
    notes = []
    if product.per == "registration_unit":
        notes.append(
            ngettext(
                "The parcels belong to %(n)s registration unit of the land register.",
                "The parcels belong to %(n)s registration units of the land register.",
                quantity,
            )
            % {"n": quantity}
        )
    if req.form == "paper" and other < price:
        notes.append(
            _("As an electronic document it costs %(amount)s zł.") % {"amount": _money(other * quantity)}
        )
    return Quote(
        req.rule,
        "pgik",
        (line,),
        line.amount,
        line.amount,
        tuple(notes),
        other_form_total=other * quantity,
        legal_basis="Pgik, zał. tabela 11",
    )


def _zoning_extract(req: FeeRequest) -> Quote:
    if req.product not in ("wypis", "wyrys", "wypis_wyrys"):
        raise InvalidInput(_("Choose a wypis, a wyrys or both."))
    documents = max(req.plans, 1) * req.copies
    wypis_lo, wypis_hi = ZONING_WYPIS_SHORT, ZONING_WYPIS_LONG
    if req.pages is not None:
        wypis_lo = wypis_hi = (
            ZONING_WYPIS_SHORT if req.pages <= ZONING_WYPIS_SHORT_PAGES else ZONING_WYPIS_LONG
        )
    wyrys_lo, wyrys_hi = ZONING_WYRYS_PART, ZONING_WYRYS_MAX
    if req.parts is not None:
        wyrys_lo = wyrys_hi = min(ZONING_WYRYS_PART * max(req.parts, 1), ZONING_WYRYS_MAX)
    lo, hi = {
        "wypis": (wypis_lo, wypis_hi),
        "wyrys": (wyrys_lo, wyrys_hi),
        "wypis_wyrys": (min(wypis_lo + wyrys_lo, ZONING_BOTH_MAX), min(wypis_hi + wyrys_hi, ZONING_BOTH_MAX)),
    }[req.product]
    label = {
        "wypis": _("stamp duty on a wypis from the local plan"),
        "wyrys": _("stamp duty on a wyrys from the local plan"),
        "wypis_wyrys": _("stamp duty on a wypis and wyrys from the local plan"),
    }[req.product]
    line = FeeLine(label, documents, lo, lo * documents, hi * documents)
    notes = [
        ngettext(
            "One fee per plan and copy: %(n)s document.",
            "One fee per plan and copy: %(n)s documents.",
            documents,
        )
        % {"n": documents}
    ]
    if req.plans == 0:
        notes.append(
            _("We found no local plan over these parcels; the office will confirm what it can issue.")
        )
    if lo != hi:
        notes.append(
            _(
                "The amount depends on the number of pages of the wypis (30 zł up to 5 pages, 50 zł above) and the "
                "started A4 parts of the wyrys (20 zł each, at most 200 zł); the office states it when it issues "
                "the document."
            )
        )
    return Quote(
        req.rule,
        "stamp_duty",
        (line,),
        line.amount,
        line.amount_max,
        tuple(notes),
        legal_basis="ustawa o opłacie skarbowej, zał. cz. I pkt 2",
    )


def _money(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def _materials(req: FeeRequest) -> Quote:
    """Base rate × units × coefficients per material chosen (each amount rounded to 10 gr); set by the
    starosta when the area or a rate for a chosen material is not known."""
    rates = {r.material: r for r in req.rates}
    chosen = [m for m in MATERIALS if m in req.materials]
    if req.area_m2 is None or not chosen or any(m not in rates for m in chosen):
        return Quote(
            req.rule,
            "pgik",
            (),
            None,
            None,
            (
                _(
                    "The fee for the resource materials is set by the starosta in a fee calculation document (DOO) "
                    "after the notification; you pay it then."
                ),
            ),
            legal_basis="art. 40b, 40d Pgik",
        )
    hectares = max(1, math.ceil(Decimal(req.area_m2) / HECTARE_M2))
    lines = []
    for m in chosen:
        r = rates[m]
        units = {"ha": hectares, "parcel": req.parcels, "work": 1}.get(r.unit)
        if units is None:
            raise InvalidInput(_("This service has no fee rule we know."))
        if units == 0:
            continue
        price = (r.base_rate * r.coefficient).quantize(ZL, rounding=ROUND_HALF_UP)
        amount = round_10_grosze(r.base_rate * r.coefficient * units)
        lines.append(FeeLine(r.label, units, price, amount, amount))
    total = sum((li.amount for li in lines), zl(0))
    unit_names = {"ha": _("started hectares"), "parcel": _("parcels"), "work": _("works")}
    used = sorted({rates[m].unit for m in chosen})
    note = _(
        "Computed from the county's rates: base rate × coefficients × units (%(units)s); each amount "
        "rounded to 10 gr. The work area measures %(ha)s ha."
    ) % {
        "units": ", ".join(str(unit_names[u]) for u in used),
        "ha": f"{Decimal(req.area_m2) / HECTARE_M2:.4f}".replace(".", ","),
    }
    return Quote(
        req.rule,
        "pgik",
        tuple(lines),
        total,
        total,
        (note,),
        legal_basis=rates[chosen[0]].legal_basis or "art. 40b, 40d Pgik",
    )
