"""Reads of the e-forms: active services, the page model of a form, drafts, JSON views."""

from __future__ import annotations

import json

from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gisportal.core.errors import GisportalError
from layers.models import AddressPoint
from services.offices.models import Office
from services.payments.selectors import payment_json, payment_of_submission

from .grounds import legal_ground_detail, legal_ground_of
from .models import Draft, ServiceDefinition, Submission
from .validation import locate_parcels, route


def services_active() -> list[ServiceDefinition]:
    return list(ServiceDefinition.objects.filter(active=True).order_by("code"))


def may_file(user, service: ServiceDefinition) -> bool:
    return bool(user.is_authenticated and user.has_perm("gisportal." + service.capability))


def services_for(user) -> list[ServiceDefinition]:
    """The services this user may file. A visitor who is not logged in sees those every applicant may
    file once logged in; services restricted to a role (a surveyor's notification) only its holders."""
    services = services_active()
    if not user.is_authenticated:
        return [s for s in services if not s.restricted]
    return [s for s in services if may_file(user, s)]


def who_may_file(service: ServiceDefinition) -> list[str]:
    """The kinds of account that may file the service (role names, for the page that says so)."""
    from gisportal.core.models import Role
    from gisportal.core.roles import ROLE_CAPABILITIES

    return [
        str(Role(role).label)
        for role, capabilities in ROLE_CAPABILITIES.items()
        if service.capability in capabilities and role != Role.OFFICE_SYSTEM
    ]


def service_active(code: str) -> ServiceDefinition | None:
    if not isinstance(code, str) or len(code) > 60:
        return None
    return ServiceDefinition.objects.filter(code=code, active=True).first()


def _text(value: dict | str | None) -> str:
    if isinstance(value, dict):
        return value.get("en" if (get_language() or "pl").startswith("en") else "pl") or value.get("pl", "")
    return value or ""


def verified_fields(service: ServiceDefinition, user) -> dict[str, str]:
    """The applicant's fields login.gov.pl vouched for (name and PESEL of an account with a verified identity):
    filled in, read-only, and whatever is sent, the account's (services.forms.validation.prepare)."""
    if user is None or not user.is_authenticated or not getattr(user, "identity_verified", False):
        return {}
    props = service.schema["properties"]
    values = {"applicant_name": user.get_full_name(), "pesel": user.pesel}
    return {name: value for name, value in values.items() if name in props and value}


def initial_data(service: ServiceDefinition, user, params, pending: dict | None = None) -> dict:
    """What was typed before logging in (`pending`), else a saved draft of this user, else defaults;
    `?parcels=` prefills parcels (from the map or a parcel page); values that come from the account
    (a surveyor's licence number) always from the account."""
    data: dict = {}
    if pending is not None:
        data = dict(pending)
    elif user.is_authenticated:
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
        data.setdefault("email", user.email or "")
    for name, prop in service.schema["properties"].items():
        source = prop.get("x-from-account")
        if source:
            data[name] = (getattr(user, source, "") or "") if user.is_authenticated else ""
    data.update(verified_fields(service, user))
    return data


def render_sections(
    service: ServiceDefinition, data: dict, errors: dict, locked: frozenset[str] | set[str] = frozenset()
) -> list[dict]:
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
            ticked = [str(v) for v in value] if isinstance(value, list) else []
            if isinstance(value, list):
                value = "\n".join(str(v) for v in value)
            options = f.get("choices", {})
            order = [k for k in f.get("order", []) if k in options] or list(options)
            choices = [(k, _text(options[k])) for k in order]
            fields.append(
                {
                    "name": name,
                    "id": f"id_{name}",
                    "widget": f["widget"],
                    "label": _text(f["label"]),
                    "help": _text(f.get("help")),
                    "value": value,
                    "ticked": ticked,  # checkboxes: the chosen values
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
                    "readonly": bool(
                        f.get("readonly") or props.get(name, {}).get("x-from-account") or name in locked
                    ),
                    # shown only for some choices: the page hides it (static JS), the server ignores it
                    "show_if": json.dumps(f["show_if"]) if f.get("show_if") else "",
                }
            )
        out.append(
            {
                "title": _text(section["title"]),
                "help": _text(section.get("help")),
                "show_if": json.dumps(section["show_if"]) if section.get("show_if") else "",
                "fields": fields,
            }
        )
    return out


def choice_label(service: ServiceDefinition, name: str, value) -> str:
    """The label of a choice as the service's own version words it (old submissions keep theirs)."""
    for section in service.layout["sections"]:
        for f in section["fields"]:
            if f["name"] == name:
                if isinstance(value, list):  # ticked boxes
                    return ", ".join(_text(f.get("choices", {}).get(str(v))) or str(v) for v in value)
                return _text(f.get("choices", {}).get(str(value))) or str(value)
    return str(value)


def delivery_of(data: dict) -> dict | None:
    """How the document answering a request is to reach the applicant, from the submission's data
    (key `delivery`; the delivery of documents reads it here): method `portal` (the portal inbox),
    `ade` (e-Doręczenia, with `ade_address`), `post` (with the `postal_address` typed in the form) or
    `office` (collected in person). None for forms without a delivery choice (older versions)."""
    method = data.get("delivery")
    if method not in ("portal", "ade", "post", "office"):
        return None
    out: dict = {"method": method}
    if method == "ade":
        out["ade_address"] = str(data.get("delivery_ade", ""))
    if method == "post":
        street = " ".join(str(data.get(k, "")) for k in ("street", "house_no") if data.get(k)).strip()
        town = " ".join(str(data.get(k, "")) for k in ("postal_code", "locality") if data.get(k)).strip()
        out["postal_address"] = ", ".join(p for p in (street, town) if p)
    return out


def submission_facts(sub: Submission) -> list[tuple[str, str]]:
    """What the receipt page shows of the request's own choices besides parcels: licence number,
    ground for personal data, delivery."""
    data, service = sub.data, sub.service
    rows: list[tuple[str, str]] = []
    if data.get("licence_no"):
        rows.append((_("Licence number"), str(data["licence_no"])))
    ground = legal_ground_of(data)
    if ground:
        text = (
            choice_label(service, "legal_ground", ground) if data.get("legal_ground") else _("Legal interest")
        )
        detail = legal_ground_detail(data)
        rows.append((_("Ground for personal data"), f"{text}: {detail}" if detail else text))
    delivery = delivery_of(data)
    if delivery is not None:
        text = choice_label(service, "delivery", delivery["method"])
        where = {
            "ade": delivery.get("ade_address", ""),
            "post": delivery.get("postal_address", ""),
            "office": f"{sub.office.name}, {sub.office.address}",
        }.get(delivery["method"], "")
        rows.append((_("Delivery of the document"), f"{text}: {where}" if where else text))
    return rows


AREA_MAP_WIDTH = 600


def work_area_of(sub: Submission) -> dict | None:
    """The work area of a request for the receipt page: its size, and a map (our WMS image of the
    parcels under an outline of the area, as SVG coordinates)."""
    from django.contrib.gis.geos import GEOSGeometry

    names = [n for n, p in sub.service.schema["properties"].items() if p.get("x-geometry") == "polygon"]
    if not names or not sub.data.get(names[0]):
        return None
    try:
        area = GEOSGeometry(sub.data[names[0]], srid=2180)
    except (ValueError, TypeError):
        return None
    x0, y0, x1, y1 = area.extent
    margin = max((x1 - x0), (y1 - y0), 50.0) * 0.15
    x0, y0, x1, y1 = x0 - margin, y0 - margin, x1 + margin, y1 + margin
    width = AREA_MAP_WIDTH
    height = round(min(max(width * (y1 - y0) / (x1 - x0), 240), 600))
    # the box grown to the picture's proportions, so the outline is not distorted
    sx, sy = (x1 - x0) / width, (y1 - y0) / height
    scale = max(sx, sy)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x0, x1 = cx - scale * width / 2, cx + scale * width / 2
    y0, y1 = cy - scale * height / 2, cy + scale * height / 2
    rings = [area.exterior_ring, *list(area)[1:]] if area.geom_type == "Polygon" else []
    path = " ".join(
        "M " + " L ".join(f"{(x - x0) / scale:.1f} {(y1 - y) / scale:.1f}" for x, y in ring.coords) + " Z"
        for ring in rings
    )
    return {
        "ha": f"{area.area / 10000:.4f}",
        "m2": f"{area.area:.0f}",
        "wkt": sub.data[names[0]],
        "width": width,
        "height": height,
        "path": path,
        "image": "/ows?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&LAYERS=dzialki,budynki&STYLES=&SRS=EPSG:2180"
        f"&BBOX={x0:.2f},{y0:.2f},{x1:.2f},{y1:.2f}&WIDTH={width}&HEIGHT={height}&FORMAT=image/png",
    }


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
        "deadline_kind": s.deadline_kind,
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
