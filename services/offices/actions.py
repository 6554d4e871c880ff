"""Writes for offices and staff."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from gisportal.core.models import Role

from .models import Office, OfficeUnit, StaffMembership

DEMO_PASSWORD = "demo-haslo-2026"  # noqa: S105 - documented demo password, demo accounts only

# (username, e-mail, first name, surname, role, office code, unit code, licence)
DEMO_ACCOUNTS = [
    ("obywatel", "jan.kowalski@example.pl", "Jan", "Kowalski", Role.CITIZEN, None, None, ""),
    (
        "urzednik.gmina",
        "anna.nowak@piaseczno.example.pl",
        "Anna",
        "Nowak",
        Role.CLERK,
        "um-piaseczno",
        "UiA",
        "",
    ),
    (
        "urzednik.powiat",
        "piotr.wisniewski@powiat.example.pl",
        "Piotr",
        "Wiśniewski",
        Role.CLERK,
        "sp-piaseczno",
        "GK",
        "",
    ),
    (
        "geodeta",
        "marek.zielinski@geodezja.example.pl",
        "Marek",
        "Zieliński",
        Role.SURVEYOR,
        None,
        None,
        "12345",
    ),
    (
        "wgik",
        "ewa.lewandowska@mazovia.example.pl",
        "Ewa",
        "Lewandowska",
        Role.GEODESIST,
        "wgik-mazowsze",
        "GKK",
        "",
    ),
    (
        "system.lesznowola",
        "system@lesznowola.example.pl",
        "System",
        "UG Lesznowola",
        Role.OFFICE_SYSTEM,
        None,
        None,
        "",
    ),
]


# the county's account for PZGiK fees is not published (DOMAIN.md §6: it comes from the DOO or the
# configuration); the demo uses a well-formed example IBAN, never a real office's
DEMO_FEE_ACCOUNT = "PL61109010140000071219812874"


@transaction.atomic
def demo_accounts_ensure(password: str = DEMO_PASSWORD) -> list[tuple[str, str, str]]:
    """Create (or reset) the demo accounts, and give the demo county an account for fees and every office
    an e-delivery address if it has none. Idempotent. Returns (username, role, office) rows."""
    User = get_user_model()
    Office.objects.filter(kind="county", fee_account="").update(fee_account=DEMO_FEE_ACCOUNT)
    # demo e-delivery addresses (the local fake provider knows them), so e-Doręczenia deliveries go out
    for i, office in enumerate(Office.objects.filter(ade_address="").order_by("code")):
        office.ade_address = f"AE:PL-{10001 + i:05d}-{20001 + i:05d}-DEMO{chr(65 + i % 26)}-{11 + i % 80:02d}"
        office.save(update_fields=["ade_address"])
    rows = []
    for username, email, first, last, role, office_code, unit_code, licence in DEMO_ACCOUNTS:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "email": email,
                "first_name": first,
                "last_name": last,
                "role": role,
                "licence_no": licence,
                "is_active": True,
            },
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        office_name = ""
        if office_code:
            office = Office.objects.get(code=office_code)
            unit = OfficeUnit.objects.filter(office=office, code=unit_code).first()
            StaffMembership.objects.update_or_create(user=user, defaults={"office": office, "unit": unit})
            office_name = office.name
        rows.append((username, role.label, office_name))
    admin, _ = User.objects.update_or_create(
        username="admin",
        defaults={
            "email": "admin@piaseczno.example.pl",
            "is_staff": True,
            "is_superuser": True,
            "role": Role.CLERK,
        },
    )
    admin.set_password(password)
    admin.save(update_fields=["password"])
    rows.append(("admin", "administrator", ""))
    return rows


def staff_add(user, office: Office, unit: OfficeUnit | None = None, position: str = "") -> StaffMembership:
    membership, _ = StaffMembership.objects.update_or_create(
        user=user, defaults={"office": office, "unit": unit, "position": position}
    )
    return membership
