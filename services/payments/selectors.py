"""Reads for fees: the counts a fee depends on, from the registries, and the quote of a request."""

from __future__ import annotations

from django.contrib.gis.db.models import Union
from django.contrib.gis.db.models.functions import Area, Intersection
from django.contrib.gis.measure import Area as AreaMeasure
from django.db.models import Count
from django.utils.translation import gettext as _

from gisportal.core.errors import InvalidInput
from layers.models import Parcel, ZoningArea

from .fees import RULES, FeeRequest, Quote, quote

MAX_PARCELS = 20  # as the forms allow
MIN_SHARED_M2 = 1.0


def _parcel_counts(ids: list[str], *, plans: bool) -> tuple[int, int, int]:
    """(parcels, registration units, local plans if asked) of current parcels of our register; an id
    that is not one of them is an error (a fee is quoted only for what the office can issue)."""
    current = Parcel.objects.current().filter(parcel_id__in=ids)
    rows = list(current.values_list("parcel_id", "registration_unit"))
    missing = sorted(set(ids) - {pid for pid, _u in rows})
    if missing:
        raise InvalidInput(
            _("No such current parcel in the land register: %(ids)s.")
            % {"ids": ", ".join(m[:40] for m in missing[:5])},
            code="parcel_unknown",
        )
    units = {unit or f"parcel:{pid}" for pid, unit in rows}  # a parcel without a unit is a unit of its own
    if not plans:
        return len(rows), len(units), 0
    area = current.aggregate(u=Union("geom"))["u"]
    # a plan counts when it covers some of the parcels, not when it only touches their boundary
    n = (
        ZoningArea.objects.filter(geom__intersects=area)
        .annotate(part=Area(Intersection("geom", area)))
        .filter(part__gt=AreaMeasure(sq_m=MIN_SHARED_M2))
        .aggregate(n=Count("plan", distinct=True))["n"]
        or 0
    )
    return len(rows), len(units), n


def fee_request(rule: str, data: dict) -> FeeRequest:
    """The typed fee request of a form's data (the fields the services' schemas name: variant, form,
    product, copies, housing_exemption, parcels; pages and parts when the office knows them)."""
    if rule not in RULES:
        raise InvalidInput(_("This service has no fee rule we know."))
    ids = data.get("parcels") or []
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(ids) > MAX_PARCELS:
        raise InvalidInput(_("Give at most %(n)s parcel identifiers.") % {"n": MAX_PARCELS})
    parcels = units = plans = 0
    if rule in ("pgik_table_11", "stamp_duty_zoning_extract") and ids:
        parcels, units, plans = _parcel_counts(
            list(dict.fromkeys(i.strip() for i in ids)), plans=rule == "stamp_duty_zoning_extract"
        )
    return FeeRequest(
        rule=rule,
        variant=str(data.get("variant", "")),
        form=str(data.get("form", "electronic") or "electronic"),
        parcels=parcels,
        registration_units=units,
        product=str(data.get("product", "")),
        plans=plans,
        copies=_default(_int(data.get("copies"), "copies"), 1),
        pages=_int(data.get("pages"), "pages"),
        parts=_int(data.get("parts"), "parts"),
        housing_exemption=data.get("housing_exemption") in (True, "true", "1", "on"),
    )


def _int(value, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput(_("%(name)s must be a whole number.") % {"name": name})
    try:
        return int(str(value).strip(), 10)
    except ValueError:
        raise InvalidInput(_("%(name)s must be a whole number.") % {"name": name}) from None


def _default(value: int | None, default: int) -> int:
    return default if value is None else value


def fee_quote(rule: str, data: dict) -> Quote:
    return quote(fee_request(rule, data))


def _amount(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def quote_json(q: Quote) -> dict:
    return {
        "rule": q.rule,
        "kind": q.kind,
        "currency": "PLN",
        "total": _amount(q.total),
        "total_max": _amount(q.total_max),
        "final": q.final,
        "other_form_total": _amount(q.other_form_total),
        "legal_basis": q.legal_basis,
        "lines": [
            {
                "label": str(li.label),
                "quantity": li.quantity,
                "unit_price": _amount(li.unit_price),
                "amount": _amount(li.amount),
                "amount_max": _amount(li.amount_max),
            }
            for li in q.lines
        ],
        "notes": [str(n) for n in q.notes],
    }
