"""Checking a filled form: JSON Schema, named validators of Polish identifiers, parcels against our
registry (ULDK for parcels outside our data) and routing to the competent office. Nothing is
written here; every problem becomes a localised message attached to its field."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from django.db.models import Q
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker

from gisportal.core.errors import GisportalError, InvalidInput
from layers.models import AddressPoint, CadastralUnit, Parcel
from layers.registries.uldk import get_locator
from services.offices.models import SERVICE_OFFICE_KIND, Office
from services.offices.selectors import AmbiguousLocation, NoCompetentOffice, find_competence

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

    @property
    def location(self) -> GEOSGeometry | None:
        if not self.parcels:
            return None
        polys = []
        for p in self.parcels:
            g = p.geometry
            polys += list(g) if isinstance(g, MultiPolygon) else [g] if isinstance(g, Polygon) else []
        return MultiPolygon(polys, srid=2180) if polys else None


def _messages(error) -> list[tuple[str, str]]:
    """(field, message) pairs of one JSON Schema error, in the user's language."""
    path = list(error.absolute_path)
    name = str(path[0]) if path else FORM_ERROR
    v, arg = error.validator, error.validator_value
    if v == "required":
        missing = [r for r in arg if r not in (error.instance or {})] or [FORM_ERROR]
        return [(m, _("This field is required.")) for m in missing]
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


def check(service: ServiceDefinition, data: dict, *, user=None, locator=None) -> Checked:
    """The data normalised, the parcels located and the competent office; raises FormInvalid."""
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        raise FormInvalid({FORM_ERROR: [_("The form data must be an object.")]})
    nul = [k for k, v in data.items() if "\x00" in str(v) or "\x00" in str(k)]
    if nul:  # PostgreSQL cannot store a NUL character; nothing legitimate holds one
        raise FormInvalid({str(nul[0]).replace("\x00", ""): [_("The value holds a NUL character.")]})
    validator = Draft202012Validator(service.schema, format_checker=FormatChecker())
    for error in validator.iter_errors(data):
        for name, message in _messages(error):
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
    if not errors:
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
    return Checked(data=data, office=office, parcels=parcels)


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
