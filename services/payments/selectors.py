"""Reads for fees: the counts a fee depends on, from the registries, and the quote of a request."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.gis.db.models import Union
from django.contrib.gis.db.models.functions import Area, Intersection
from django.contrib.gis.measure import Area as AreaMeasure
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gisportal.core.errors import InvalidInput
from layers.models import Parcel, ZoningArea
from services.offices.sealing import code_well_formed, normalise_code
from services.offices.selectors import office_of

from . import document
from .fees import MATERIALS, RULES, FeeRequest, Quote, Rate, quote
from .models import FeeDocument, MaterialRate, Payment
from .providers import gateways_enabled

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


def material_rates(office, on=None) -> tuple[Rate, ...]:
    """The office's rates for resource materials in force on a day (today): per material, the row with
    the latest `valid_from` not after it."""
    if office is None:
        return ()
    on = on or timezone.localdate()
    rows = MaterialRate.objects.filter(office=office, valid_from__lte=on).order_by("material", "-valid_from")
    latest: dict[str, MaterialRate] = {}
    for r in rows:
        latest.setdefault(r.material, r)
    return tuple(
        Rate(r.material, r.label, r.unit, r.base_rate, r.coefficient, r.legal_basis) for r in latest.values()
    )


def _work_area(data: dict):
    """The work area of a notification's data (WKT, EPSG:2180, as the form stores it), or None."""
    from django.contrib.gis.geos import GEOSException, GEOSGeometry

    wkt = data.get("work_area")
    if not isinstance(wkt, str) or not wkt.strip():
        return None
    try:
        area = GEOSGeometry(wkt, srid=2180)
    except (GEOSException, ValueError, TypeError):
        return None
    return area if area.geom_type in ("Polygon", "MultiPolygon") and area.valid else None


def _materials_request(rule: str, data: dict, office) -> FeeRequest:
    """A work notification's fee request: the work area, the materials chosen (all of them in the
    versions of the form that had no choice) and the competent county's rates."""
    area = _work_area(data)
    chosen = data.get("materials")
    if not isinstance(chosen, list) or not chosen:
        chosen = list(MATERIALS)
    parcels = Parcel.objects.current().filter(geom__intersects=area).count() if area is not None else 0
    return FeeRequest(
        rule=rule,
        parcels=parcels,
        area_m2=Decimal(str(round(area.area, 2))) if area is not None else None,
        materials=tuple(str(m) for m in chosen),
        rates=material_rates(office),
    )


def fee_request(rule: str, data: dict, office=None) -> FeeRequest:
    """The typed fee request of a form's data (the fields the services' schemas name: variant, form,
    product, copies, housing_exemption, parcels; pages and parts when the office knows them; a work
    notification's area and materials, priced with the rates of `office`, the competent one)."""
    if rule not in RULES:
        raise InvalidInput(_("This service has no fee rule we know."))
    if rule == "pgik_materials":
        return _materials_request(rule, data, office)
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


def fee_quote(rule: str, data: dict, office=None) -> Quote:
    return quote(fee_request(rule, data, office))


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


# ------------------------------------------------------------------ payments


def payment_get(payment_id):
    return Payment.objects.select_related("document", "document__office").filter(pk=payment_id).first()


def payment_of_submission(submission_id):
    """The latest payment asked for a filed request (None: nothing to pay, or not yet)."""
    return (
        Payment.objects.select_related("document", "document__office")
        .filter(document__submission_id=submission_id)
        .order_by("-document__issued_at")
        .first()
    )


def payments_of_case(case_id: int) -> list:
    return list(
        Payment.objects.select_related("document")
        .filter(document__case_id=case_id)
        .order_by("document__issued_at")
    )


def may_see_payment(payment, user) -> bool:
    """The applicant, or a clerk of the issuing office who handles payments or works on cases."""
    if user is None or not user.is_authenticated:
        return False
    if payment.document.applicant_user_id == user.pk:
        return True
    office = office_of(user)
    return (
        office is not None
        and office.pk == payment.document.office_id
        and (user.has_perm("gisportal.handle_payments") or user.has_perm("gisportal.work_cases"))
    )


def payment_json(payment) -> dict:
    doc = payment.document
    return {
        "id": str(payment.pk),
        "status": payment.status,
        "amount": f"{payment.amount:.2f}",
        "currency": payment.currency,
        "title": doc.title,
        "account": doc.account,
        "pay_url": reverse("payment_page", args=[payment.pk]),
        "due_date": doc.due_date.isoformat(),
        "paid_at": payment.paid_at.isoformat() if payment.paid_at else None,
        "refunded_amount": f"{payment.refunded_amount:.2f}",
        "providers": list(gateways_enabled()),
        "case_sign": doc.case_sign,
        "document": {
            "kind": doc.kind,
            "number": doc.number,
            "issued": doc.issued_at.isoformat(),
            "legal_basis": doc.legal_basis,
            "verification_code": doc.verification_code,
            "verify_url": reverse("receipt_verify_code", args=[doc.verification_code]),
            "pdf_url": reverse("payment_document", args=[payment.pk, "pdf"]),
            "lines": doc.lines,
        },
    }


def payment_overdue(payment, today=None) -> bool:

    today = today or timezone.localdate()
    return payment.status in (Payment.Status.DUE, Payment.Status.FAILED, Payment.Status.PENDING) and (
        payment.document.due_date < today
    )


def fee_document_by_code(code: str):
    code = normalise_code(code)
    if not code_well_formed(code):
        return None
    return FeeDocument.objects.select_related("office", "payment").filter(verification_code=code).first()


def fee_document_genuine(doc) -> bool:
    return document.genuine(
        bytes(doc.xml),
        doc.office,
        at=doc.issued_at,
        verification_code=doc.verification_code,
        total=doc.amount,
        document_id=str(doc.pk),
    )


def fee_document_data(doc):
    """The document's data as issued (for its PDF), from the stored row: nothing is recomputed."""
    office = doc.office
    return document.FeeDocumentData(
        document_id=str(doc.pk),
        kind=doc.kind,
        number=doc.number,
        verification_code=doc.verification_code,
        issuer_name=office.name,
        issuer_address=f"{office.street}, {office.postcode} {office.city}",
        issuer_nip=office.nip,
        issuer_teryt=office.jurisdiction_teryt,
        payer_name=doc.payer_name,
        payer_address=doc.payer_address,
        case_sign=doc.case_sign,
        subject=doc.subject,
        lines=tuple(
            document.FeeDocumentLine(
                li["label"], int(li["quantity"]), Decimal(li["unit_price"]), Decimal(li["amount"])
            )
            for li in doc.lines
        ),
        total=doc.amount,
        currency=doc.currency,
        legal_basis=doc.legal_basis,
        account=doc.account,
        title=doc.title,
        due_date=doc.due_date,
        issued_at=doc.issued_at,
        issued_by=(doc.issued_by.get_full_name() or doc.issued_by.get_username()) if doc.issued_by else "",
        verify_url=settings.GISPORTAL_PUBLIC_URL
        + reverse("receipt_verify_code", args=[doc.verification_code]),
        pay_url=settings.GISPORTAL_PUBLIC_URL + reverse("payment_page", args=[doc.payment.pk]),
    )
