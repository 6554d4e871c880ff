"""Reads of the e-forms: active services, the page model of a form, drafts, JSON views."""

from __future__ import annotations

from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gisportal.core.errors import GisportalError
from layers.models import AddressPoint
from services.offices.models import Office
from services.payments.selectors import payment_json, payment_of_submission

from .models import Draft, ServiceDefinition, Submission
from .validation import locate_parcels, route


def services_active() -> list[ServiceDefinition]:
    return list(ServiceDefinition.objects.filter(active=True).order_by("code"))


def service_active(code: str) -> ServiceDefinition | None:
    if not isinstance(code, str) or len(code) > 60:
        return None
    return ServiceDefinition.objects.filter(code=code, active=True).first()


def _text(value: dict | str | None) -> str:
    if isinstance(value, dict):
        return value.get("en" if (get_language() or "pl").startswith("en") else "pl") or value.get("pl", "")
    return value or ""


def initial_data(service: ServiceDefinition, user, params) -> dict:
    """A saved draft of this user, else defaults; `?parcels=` prefills parcels (from the map or a parcel page)."""
    data: dict = {}
    if user.is_authenticated:
        draft = Draft.objects.filter(user=user, service_code=service.code).first()
        if draft is not None:
            data = dict(draft.data)
    for section in service.layout["sections"]:
        for f in section["fields"]:
            if "default" in f and f["name"] not in data:
                data[f["name"]] = f["default"]
    if "parcels" in service.schema["properties"] and params.get("parcels") and not data.get("parcels"):
        data["parcels"] = [p.strip() for p in params.get("parcels", "").split(",") if p.strip()][:20]
    if user.is_authenticated and not data.get("applicant_name"):
        data.setdefault("applicant_name", user.get_full_name())
        data.setdefault("email", user.email)
    return data


def render_sections(service: ServiceDefinition, data: dict, errors: dict) -> list[dict]:
    """The page model: sections of fields with their label, help, current value, choices and errors,
    in the current language. Templates render it; they make no decisions."""
    required = set(service.schema.get("required", []))
    props = service.schema["properties"]
    out = []
    for section in service.layout["sections"]:
        fields = []
        for f in section["fields"]:
            name = f["name"]
            value = data.get(name, "")
            if isinstance(value, list):
                value = "\n".join(str(v) for v in value)
            choices = [(k, _text(v)) for k, v in f.get("choices", {}).items()]
            fields.append(
                {
                    "name": name,
                    "id": f"id_{name}",
                    "widget": f["widget"],
                    "label": _text(f["label"]),
                    "help": _text(f.get("help")),
                    "value": value,
                    "required": name in required,
                    "choices": choices,
                    "errors": errors.get(name, []),
                    "autocomplete": f.get("autocomplete", ""),
                    "inputmode": f.get("inputmode", ""),
                    "suggest": f.get("suggest", ""),
                    "rows": f.get("rows", 4),
                    "maxlength": props.get(name, {}).get("maxLength"),
                    "min": props.get(name, {}).get("minimum"),
                    "max": props.get(name, {}).get("maximum"),
                }
            )
        out.append({"title": _text(section["title"]), "fields": fields})
    return out


def address_suggestions() -> dict[str, list[str]]:
    """Localities and streets from our address points, for the address fields' suggestion lists."""
    cached = cache.get("gisportal:form-address-suggestions")
    if cached is None:
        qs = AddressPoint.objects.current()
        cached = {
            "localities": sorted(set(qs.values_list("locality", flat=True)))[:500],
            "streets": sorted(set(s for s in qs.values_list("street", flat=True) if s))[:2000],
        }
        cache.set("gisportal:form-address-suggestions", cached, timeout=3600)
    return cached


def service_json(s: ServiceDefinition) -> dict:
    return {
        "code": s.code,
        "version": s.version,
        "title": {"pl": s.title_pl, "en": s.title_en},
        "description": {"pl": s.description_pl, "en": s.description_en},
        "legal_basis": s.legal_basis,
        "service_kind": s.service_kind,
        "jrwa": s.jrwa,
        "fee": {"rule": s.fee_rule, "pl": s.fee_note_pl, "en": s.fee_note_en},
        "deadline_days": s.deadline_days,
        "schema": s.schema,
        "layout": s.layout,
        "form_url": reverse("service_form", args=[s.code]),
    }


def submission_json(sub: Submission, receipt) -> dict:
    from services.documents.selectors import document_json, documents_of_submission

    payment = payment_of_submission(sub.id)
    return {
        "documents": [document_json(d) for d in documents_of_submission(sub.id)],
        "payment": None
        if payment is None
        else {
            k: v
            for k, v in payment_json(payment).items()
            if k in ("id", "status", "amount", "currency", "title", "account", "pay_url")
        },
        "id": str(sub.id),
        "service": sub.service.code,
        "version": sub.service.version,
        "office": sub.office.code,
        "office_name": sub.office.name,
        "received": sub.submitted_at.isoformat(),
        "sha256": sub.sha256,
        "parcels": sub.parcels,
        "receipt": {
            "verification_code": receipt.verification_code,
            "issued": receipt.issued_at.isoformat(),
            "verify_url": reverse("receipt_verify_code", args=[receipt.verification_code]),
        },
    }


def fee_office(service: ServiceDefinition, parcel_ids: list[str]) -> Office | None:
    """The office a quoted fee goes to (the competent one), or None when it cannot be told yet."""
    try:
        return route(service, locate_parcels(parcel_ids) if parcel_ids else [])
    except GisportalError:
        return None


def fee_payee(office: Office | None, quote) -> dict | None:
    """Who is paid a fee: the competent office, for stamp duty into its stamp-duty account (DOMAIN.md
    §6); the county's PZGiK fees into the account its fee calculation document (DOO) gives."""
    if office is None or quote.kind == "none" or quote.total_max == 0:
        return None
    account = office.stamp_duty_account if quote.kind == "stamp_duty" else ""
    return {
        "office": office.name,
        "account": account or None,
        "how": _("a transfer to this account, titled with the matter and the applicant's name")
        if account
        else _("the office gives the account and the amount in its fee calculation document (DOO)"),
    }
