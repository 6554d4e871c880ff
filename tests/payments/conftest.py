"""Fixtures of the payment tests: a request filed for an EGiB extract (a fixed fee: table 11) by a
citizen, so that a fee document and its payment exist; the gateways on."""

from __future__ import annotations

import uuid

import pytest

from layers.models import Parcel
from services.forms.actions import submission_file
from services.forms.models import ServiceDefinition
from services.offices.models import Office

APPLICANT = {
    "applicant_name": "Jan Kowalski",
    "email": "jan@example.pl",
    "pesel": "44051401359",
    "postal_code": "05-500",
    "locality": "Piaseczno",
    "nip": "123-456-32-18",
}
FEE_ACCOUNT = "PL61109010140000071219812874"


@pytest.fixture
def gateways(settings):
    settings.GISPORTAL_PAYMENT_PROVIDERS = ("sandbox",)
    return settings


@pytest.fixture
def county(db):
    office = Office.objects.get(code="sp-piaseczno")
    office.fee_account = FEE_ACCOUNT
    office.save(update_fields=["fee_account"])
    return office


@pytest.fixture
def rural_parcel(demo_data, django_db_blocker):
    with django_db_blocker.unblock():
        return (
            Parcel.objects.current()
            .filter(precinct__unit__unit_id="141804_5")
            .order_by("parcel_id")[3]
            .parcel_id
        )


@pytest.fixture
def citizen(make_user):
    return make_user("jan", "citizen", first_name="Jan", last_name="Kowalski")


@pytest.fixture
def clerk(make_user, county):
    from services.offices.models import StaffMembership

    user = make_user("geodeta", "clerk", first_name="Anna", last_name="Nowak")
    StaffMembership.objects.create(user=user, office=county, unit=county.units.get(code="GK"))
    return user


@pytest.fixture
def filed(gateways, county, citizen, rural_parcel):
    """A filed EGiB request (wypis + wyrys, electronic: 140 zł per registration unit)."""
    service = ServiceDefinition.objects.get(code="wypis-wyrys-egib", active=True)
    return submission_file(
        service,
        {
            **APPLICANT,
            "parcels": [rural_parcel],
            "variant": "wypis_wyrys",
            "form": "electronic",
            "legal_interest": "Jestem właścicielem działki.",
        },
        user=citizen,
        idempotency_key=str(uuid.uuid4()),
    )
