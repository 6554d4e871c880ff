"""The office that runs the OGC services, as every capabilities document names it: WMS
ContactInformation, WFS/OWS ServiceProvider and the INSPIRE MetadataPointOfContact. One declaration,
so the services cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceContact:
    organisation: str
    person: str
    # the responsible party's role, an ISO 19115 CI_RoleCode: WMS ContactPosition, OWS PositionName
    # (INSPIRE TG for view services; the validator's at26 accepts only code list values)
    position: str
    address: str
    city: str
    region: str
    postcode: str
    country: str
    phone: str
    email: str


SERVICE_CONTACT = ServiceContact(
    organisation="Urząd Miasta i Gminy Piaseczno",
    person="Administrator geoportalu",
    position="pointOfContact",
    address="ul. Kościuszki 5",
    city="Piaseczno",
    region="mazowieckie",
    postcode="05-500",
    country="Polska",
    phone="+48 22 70 17 500",
    email="urzad@piaseczno.eu",
)
