"""Checking a filled form: JSON Schema, named validators of Polish identifiers, parcels against our
registry (ULDK for parcels outside our data) and routing to the competent office. Nothing is
written here; every problem becomes a localised message attached to its field."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker

from gisportal.core.errors import GisportalError, InvalidInput
from layers.models import AddressPoint, CadastralUnit, Parcel
from layers.registries.uldk import get_locator
from services.offices.models import SERVICE_OFFICE_KIND, Office
from services.offices.selectors import AmbiguousLocation, NoCompetentOffice, find_competence

from .area import MAX_UPLOAD, AreaInvalid, area_from_text, area_from_upload, to_wkt
from .models import ServiceDefinition
from .validators import VALIDATORS, Pesel

FORM_ERROR = "__all__"
# hooks run on valid data: (service, data, user) -> {field: [messages]}; the signatures issue adds
# the check of the applicant's identity against the signer of a signed document
IDENTITY_CHECKS: list[Callable[[ServiceDefinition, dict, object], dict[str, list[str]]]] = []


class FormInvalid(InvalidInput):
    code = "form_invalid"
    status = 422

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(_("The form has errors."))
        self.errors = errors


@dataclass
class CheckedParcel:
    parcel_id: str
    geometry: GEOSGeometry
    source: str  # registry | uldk


@dataclass
class Checked:
    data: dict
    office: Office
    parcels: list[CheckedParcel] = field(default_factory=list)
    area: GEOSGeometry | None = None  # a drawn or uploaded area (the surveyor's work area), EPSG:2180

    @property
    def location(self) -> GEOSGeometry | None:
        """Where the matter is: the area when the form has one, else the parcels."""
        if self.area is not None:
            return MultiPolygon([self.area], srid=2180)
        if not self.parcels:
            return None
        polys = []
        for p in self.parcels:
            g = p.geometry
            polys += list(g) if isinstance(g, MultiPolygon) else [g] if isinstance(g, Polygon) else []
        return MultiPolygon(polys, srid=2180) if polys else None


def _own_text(texts) -> str | None:
    """A definition's own message (`x-message`: {"pl": ..., "en": ...}) in the user's language."""
    if not isinstance(texts, dict):
        return None
    return texts.get("en" if (get_language() or "pl").startswith("en") else "pl") or texts.get("pl")


def _messages(error) -> list[tuple[str, str]]:
    """(field, message) pairs of one JSON Schema error, in the user's language; a rule of the
    definition may word its own message (`x-message` beside the failing keyword)."""
    path = list(error.absolute_path)
    name = str(path[0]) if path else FORM_ERROR
    v, arg = error.validator, error.validator_value
    own = _own_text(error.schema.get("x-message")) if isinstance(error.schema, dict) else None
    if v == "required":
        missing = [r for r in arg if r not in (error.instance or {})] or [FORM_ERROR]
        return [(m, own or _("This field is required.")) for m in missing]
    if own:
        return [(name, own)]
    if v == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return [(FORM_ERROR, _("Unknown fields: %(f)s.") % {"f": ", ".join(str(x)[:30] for x in extra[:5])})]
    return [_message(error, name, v, arg)]


def _message(error, name: str, v: str, arg) -> tuple[str, str]:
    messages = {
        "minLength": _("Enter at least %(n)s characters.") % {"n": arg},
        "maxLength": _("Enter at most %(n)s characters.") % {"n": arg},
        "enum": _("Choose one of the options."),
        "minimum": _("Enter a number not smaller than %(n)s.") % {"n": arg},
        "maximum": _("Enter a number not greater than %(n)s.") % {"n": arg},
        "minItems": _("Give at least %(n)s.") % {"n": arg},
        "maxItems": _("Give at most %(n)s.") % {"n": arg},
        "uniqueItems": _("Give each value only once."),
        "pattern": _("The value has the wrong form."),
        "type": _("Enter a valid value."),
    }
    if v == "format":
        return name, {
            "email": _("Enter a valid e-mail address."),
            "date": _("Enter a date as YYYY-MM-DD."),
        }.get(arg, _("Enter a valid value."))
    return name, messages.get(v, _("Enter a valid value."))


def _add(errors: dict[str, list[str]], name: str, message: str) -> None:
    errors.setdefault(name, [])
    if message not in errors[name]:
        errors[name].append(message)


def _normalised(result) -> str:
    """A validator's result as the stored value: the normalised text (Pesel → its number)."""
    if isinstance(result, Pesel):
        return result.number
    return str(result)


def shown(field_or_section: dict, data: dict) -> bool:
    """Whether a field (or section) applies to these data: each `show_if` {field: [values]} holds."""
    return all(data.get(other) in values for other, values in field_or_section.get("show_if", {}).items())


def prepare(service: ServiceDefinition, data: dict, *, user=None) -> tuple[dict, dict[str, list[str]]]:
    """The data as the definition reads them, before any check: values that come from the account
    (`x-from-account`: a surveyor's licence number, whatever was sent), the delivery an electronic
    request gets unless another is chosen, a value implied by an older client's field
    (`x-implied-by`), and fields that do not apply to the choices made (`show_if`) left out."""
    data, errors = dict(data), {}
    props = service.schema["properties"]
    for name, prop in props.items():
        source = prop.get("x-from-account")
        if source and user is not None:
            value = (getattr(user, source, "") or "").strip() if user.is_authenticated else ""
            if value:
                data[name] = value
            else:
                data.pop(name, None)
                errors[name] = [
                    _(
                        "Your account has no surveyor licence number; ask the office to add it to your account."
                    )
                ]
    if user is not None:  # the name and PESEL login.gov.pl vouched for, whatever was sent
        from .selectors import verified_fields

        data.update(verified_fields(service, user))
    for name, prop in props.items():  # an API client may send the area as a GeoJSON object
        if prop.get("x-geometry") and isinstance(data.get(name), dict):
            data[name] = json.dumps(data[name])
    if "delivery" in props and not data.get("delivery") and data.get("form", "electronic") == "electronic":
        data["delivery"] = "portal"
    for name, prop in props.items():
        for other, value in prop.get("x-implied-by", {}).items():
            if name not in data and data.get(other):
                data[name] = value
    for section in service.layout["sections"]:
        for f in section["fields"]:
            if f["name"] in data and not (shown(section, data) and shown(f, data)):
                del data[f["name"]]
    return data, errors


def check(service: ServiceDefinition, data: dict, *, user=None, locator=None) -> Checked:
    """The data normalised, the parcels (and the area) located and the competent office; raises FormInvalid."""
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        raise FormInvalid({FORM_ERROR: [_("The form data must be an object.")]})
    nul = [k for k, v in data.items() if "\x00" in str(v) or "\x00" in str(k)]
    if nul:  # PostgreSQL cannot store a NUL character; nothing legitimate holds one
        raise FormInvalid({str(nul[0]).replace("\x00", ""): [_("The value holds a NUL character.")]})
    data, errors = prepare(service, data, user=user)
    said = set(errors)  # a field whose value comes from the account is explained once
    validator = Draft202012Validator(service.schema, format_checker=FormatChecker())
    for error in validator.iter_errors(data):
        for name, message in _messages(error):
            if name not in said:
                _add(errors, name, message)
    data = dict(data)
    props = service.schema["properties"]
    for name, prop in props.items():
        if name in errors or name not in data:
            continue
        check_fn = VALIDATORS.get(prop.get("x-validator", ""))
        item_fn = VALIDATORS.get(prop.get("items", {}).get("x-validator", ""))
        try:
            if check_fn and data[name] != "":
                data[name] = _normalised(check_fn(data[name]))
            if item_fn:
                data[name] = [_normalised(item_fn(v)) for v in data[name]]
        except InvalidInput as e:
            _add(errors, name, str(e.message))
    area = None
    for name in (n for n, p in props.items() if p.get("x-geometry") == "polygon"):
        if name not in errors and data.get(name):
            try:
                polygon = area_from_text(data[name])
            except AreaInvalid as e:
                _add(errors, name, str(e.message))
                continue
            data[name] = to_wkt(polygon)
            area = GEOSGeometry(data[name], srid=2180)
    parcels: list[CheckedParcel] = []
    registry_fields = [n for n, p in props.items() if p.get("x-registry") == "parcel"]
    for name in registry_fields:
        if name not in errors and data.get(name):
            try:
                parcels += locate_parcels(data[name], locator=locator)
            except InvalidInput as e:
                _add(errors, name, str(e.message))
            except GisportalError as e:  # ULDK unavailable and the like
                _add(errors, name, str(e.message))
    for name in (n for n, p in props.items() if p.get("x-registry") == "address_near_parcels"):
        if name not in errors and data.get(name) and parcels:
            try:
                check_address_near(data[name], parcels)
            except InvalidInput as e:
                _add(errors, name, str(e.message))
    office = None
    if not errors and area is not None:
        area_field = next(n for n, p in props.items() if p.get("x-geometry") == "polygon")
        try:
            office = route_area(service, area, parcels)
        except (NoCompetentOffice, AmbiguousLocation, InvalidInput) as e:
            _add(errors, area_field, str(e.message))
    elif not errors:
        try:
            office = route(service, parcels)
        except (NoCompetentOffice, AmbiguousLocation, InvalidInput) as e:
            _add(errors, registry_fields[0] if registry_fields else FORM_ERROR, str(e.message))
    if not errors:
        for hook in IDENTITY_CHECKS:
            for name, messages in hook(service, data, user).items():
                for m in messages:
                    _add(errors, name, m)
    if errors:
        raise FormInvalid(errors)
    return Checked(data=data, office=office, parcels=parcels, area=area)


def locate_parcels(ids: list[str], *, locator=None) -> list[CheckedParcel]:
    """Each parcel from our registry (current version) or, when its cadastral unit is not ours, from
    ULDK. A parcel of our units that is not in the register is an error: a forged or retired id."""
    found = dict(Parcel.objects.current().filter(parcel_id__in=ids).values_list("parcel_id", "geom"))
    our_units = set(CadastralUnit.objects.current().values_list("unit_id", flat=True))
    out, missing = [], []
    for pid in ids:
        if pid in found:
            out.append(CheckedParcel(pid, found[pid], "registry"))
        elif pid.split(".", 1)[0] in our_units:
            missing.append(pid)
        else:
            locator = locator or get_locator()
            hit = locator.parcel_by_id(pid) if locator is not None else None
            if hit is None:
                missing.append(pid)
            else:
                out.append(CheckedParcel(pid, hit.geometry, "uldk"))
    if missing:
        raise InvalidInput(
            _("No such current parcel in the land register: %(ids)s.")
            % {"ids": ", ".join(m[:40] for m in missing[:5])},
            code="parcel_unknown",
        )
    return out


ADDRESS_DISTANCE_M = 30.0
_ADDRESS = re.compile(
    r"^\s*(?:ul\.\s*)?(?P<name>[^\d,]+?)[\s,]+(?P<number>\d+[A-Za-z]?(?:/\d+[A-Za-z]?)?)\s*$"
)


def check_address_near(text: str, parcels: list[CheckedParcel]) -> None:
    """The address (street or locality, and number) exists in our address register and lies on or
    within 30 m of one of the parcels."""
    m = _ADDRESS.match(text or "")
    if not m:
        raise InvalidInput(_("Give the street (or locality) and the number, e.g. Kościuszki 5."))
    name, number = m.group("name").strip(), m.group("number").split("/")[0].upper()
    points = list(
        AddressPoint.objects.current()
        .filter(Q(street__iexact=name) | Q(street="", locality__iexact=name), number__iexact=number)
        .values_list("geom", flat=True)[:20]
    )
    if not points:
        raise InvalidInput(_("There is no address %(a)s in the address register.") % {"a": text.strip()[:60]})
    if not any(p.geometry.distance(pt) <= ADDRESS_DISTANCE_M for p in parcels for pt in points):
        raise InvalidInput(
            _("The address %(a)s does not lie at the given parcels.") % {"a": text.strip()[:60]}
        )


def route(service: ServiceDefinition, parcels: list[CheckedParcel]) -> Office:
    """The competent office: from the parcels' location, or for a matter without a place the only
    office of the competent kind."""
    if parcels:
        geom = Checked(data={}, office=None, parcels=parcels).location
        return find_competence(service.service_kind, geom).office
    offices = list(Office.objects.filter(kind=SERVICE_OFFICE_KIND[service.service_kind], active=True)[:2])
    if len(offices) != 1:
        raise InvalidInput(_("Give the parcels concerned so that the competent office can be found."))
    return offices[0]


OUTSIDE_TOLERANCE_M2 = 1.0  # drawing on a map may cross a boundary by a hair


def route_area(service: ServiceDefinition, area: GEOSGeometry, parcels: list[CheckedParcel]) -> Office:
    """The competent office for an area, which must lie wholly in that office's unit (the county),
    with the parcels given, if any, in it."""
    competence = find_competence(service.service_kind, area)
    outside = area.difference(competence.unit.geom).area
    if outside > OUTSIDE_TOLERANCE_M2:
        raise InvalidInput(
            _("The work area reaches outside %(unit)s (%(m2)s m² outside it); it must lie wholly within it.")
            % {"unit": competence.unit.name, "m2": f"{outside:,.0f}".replace(",", " ")}
        )
    away = [
        p.parcel_id
        for p in parcels
        if not p.geometry.intersects(area) or p.geometry.intersection(area).area < 0.01
    ]
    if away:
        raise InvalidInput(
            _("These parcels do not lie in the work area: %(ids)s.") % {"ids": ", ".join(away[:5])}
        )
    return competence.office


def area_upload(service: ServiceDefinition, data: dict, upload) -> dict:
    """The data with the area read from an uploaded file (GeoJSON, GML, a zipped Shapefile) in place of
    the typed one; FormInvalid when the file cannot be read. Nothing is stored."""
    names = [n for n, p in service.schema["properties"].items() if p.get("x-geometry") == "polygon"]
    if upload is None or not names:
        return data
    if getattr(upload, "size", 0) and upload.size > MAX_UPLOAD:
        raise FormInvalid(
            {names[0]: [_("The work area file is larger than %(n)s MB.") % {"n": MAX_UPLOAD // 1024**2}]}
        )
    try:
        polygon = area_from_upload(getattr(upload, "name", "") or "", upload.read(MAX_UPLOAD + 1))
    except AreaInvalid as e:
        raise FormInvalid({names[0]: [str(e.message)]}) from None
    return {**data, names[0]: to_wkt(polygon)}


def from_post(service: ServiceDefinition, post) -> dict:
    """HTML form fields (strings) → data of the schema's types. Empty fields are left out; invalid
    numbers stay strings so that the schema reports them."""
    data: dict = {}
    for name, prop in service.schema["properties"].items():
        kind = prop.get("type")
        if kind == "boolean":
            if post.get(name):
                data[name] = True
            continue
        if kind == "array" and "enum" in prop.get("items", {}):  # ticked boxes: one value per box
            ticked = [
                v.strip()
                for raw in post.getlist(name)
                for v in raw.replace("\n", ",").split(",")
                if v.strip()
            ]
            if ticked:
                data[name] = list(dict.fromkeys(ticked))
            continue
        raw = post.get(name, "")
        if kind == "array":
            items = [v.strip() for line in raw.splitlines() for v in line.split(",") if v.strip()]
            if items:
                data[name] = items
            continue
        raw = raw.strip()
        if raw == "":
            continue
        if kind == "integer":
            try:
                data[name] = int(raw)
            except ValueError:
                data[name] = raw
            continue
        data[name] = raw
    return data
