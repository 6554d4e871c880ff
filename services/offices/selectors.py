"""Reads: which office is competent for a matter at a place."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from gisportal.core.errors import InvalidInput, NotFound
from layers.importing.scope import ImportScope
from layers.models import AdministrativeUnit

from .models import OFFICE_KIND_LEVEL, SERVICE_OFFICE_KIND, Office, ServiceKind


class NoCompetentOffice(NotFound):
    """The place lies in an administrative unit that no office of this portal serves."""

    code = "no_competent_office"

    def __init__(self, message: str, unit: AdministrativeUnit | None = None):
        super().__init__(message)
        self.unit = unit


class AmbiguousLocation(InvalidInput):
    """The geometry lies in more than one unit of the competent level (e.g. two gminy)."""

    code = "ambiguous_location"

    def __init__(self, message: str, units: list[AdministrativeUnit]):
        super().__init__(message)
        self.units = units


@dataclass(frozen=True)
class Competence:
    office: Office
    unit: AdministrativeUnit


def competent_office(service_kind: str, geometry: GEOSGeometry) -> Office:
    return find_competence(service_kind, geometry).office


def find_competence(service_kind: str, geometry: GEOSGeometry) -> Competence:
    """The office competent for `service_kind` at `geometry` (EPSG:2180 unless it carries an SRID).

    EGiB matters go to the county (starosta), zoning and house numbering to the gmina, regional data
    to the voivodeship geodesist (DOMAIN.md §2). Raises NoCompetentOffice when the place lies outside
    every unit we serve, AmbiguousLocation when it spans two units of the competent level.
    """
    if service_kind not in ServiceKind.values:
        raise InvalidInput(_("Unknown kind of matter: %(kind)s") % {"kind": str(service_kind)[:40]})
    if geometry is None or geometry.empty:
        raise InvalidInput(_("The location is empty."))
    if not geometry.srid:
        geometry = GEOSGeometry(geometry.wkb, srid=2180)
    office_kind = SERVICE_OFFICE_KIND[service_kind]
    level = OFFICE_KIND_LEVEL[office_kind]
    units = list(AdministrativeUnit.objects.filter(level=level, geom__intersects=geometry).order_by("teryt"))
    if len(units) > 1:
        # a polygon touching a neighbour only along the boundary stays with the unit holding most of it
        inside = [u for u in units if u.geom.intersection(geometry).area > 0.01 * max(geometry.area, 1e-9)]
        if geometry.dims == 2 and len(inside) == 1:
            units = inside
        else:
            raise AmbiguousLocation(
                _("The location lies in more than one unit: %(units)s. File a separate request for each.")
                % {"units": ", ".join(u.name for u in units)},
                units,
            )
    if not units:
        raise NoCompetentOffice(_("The location lies outside the area served by this portal."))
    unit = units[0]
    office = Office.objects.filter(kind=office_kind, jurisdiction_teryt=unit.teryt, active=True).first()
    if office is None:
        raise NoCompetentOffice(
            _("%(unit)s is not served by this portal; please contact its own office.") % {"unit": unit.name},
            unit,
        )
    return Competence(office=office, unit=unit)


def office_of(user) -> Office | None:
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    return membership.office if membership else None


def import_scope_of(user) -> ImportScope | None:
    """The part of the registries the user's office keeps and may import (layers/importing/scope.py).
    None for the superuser (unrestricted); raises PermissionDenied for staff without an office."""
    if user.is_superuser:
        return None
    office = office_of(user)
    if office is None or not office.active:
        raise PermissionDenied(
            _("Your account is not assigned to an office, so it cannot import registry data.")
        )
    return ImportScope(
        keeper=OFFICE_KIND_LEVEL[office.kind], teryt=office.jurisdiction_teryt, office=office.name
    )
