"""The three offices this deployment serves (DOMAIN.md §2). Values marked unverified in DOMAIN.md
are left blank rather than invented; clerks complete them in the admin."""

from django.db import migrations

OFFICES = [
    {
        "code": "um-piaseczno",
        "kind": "gmina",
        "name": "Urząd Miasta i Gminy Piaseczno",
        "name_en": "Piaseczno Town and Gmina Office",
        "jurisdiction_teryt": "1418043",
        "street": "ul. Kościuszki 5",
        "postcode": "05-500",
        "city": "Piaseczno",
        "phone": "+48 22 70 17 500",
        "email": "urzad@piaseczno.eu",
        "nip": "1231210962",
        "regon": "015891289",
        "stamp_duty_account": "PL05124069731111001086706226",
        "units": [
            ("UiA", "Wydział Urbanistyki i Architektury"),
            ("GN", "Wydział Gospodarki Nieruchomościami"),
            ("KAN", "Kancelaria"),
        ],
    },
    {
        "code": "sp-piaseczno",
        "kind": "county",
        "name": "Starostwo Powiatowe w Piasecznie",
        "name_en": "Piaseczno County Office",
        "jurisdiction_teryt": "1418",
        "street": "ul. Czajewicza 20",
        "postcode": "05-500",
        "city": "Piaseczno",
        "units": [
            ("GK", "Wydział Geodezji, Kartografii i Katastru"),
            ("KAN", "Kancelaria"),
        ],
    },
    {
        "code": "wgik-mazowsze",
        "kind": "voivodeship_geodesist",
        "name": "Geodeta Województwa Mazowieckiego",
        "name_en": "Geodesist of the Mazowieckie Voivodeship",
        "jurisdiction_teryt": "14",
        "street": "ul. Jagiellońska 26",
        "postcode": "03-719",
        "city": "Warszawa",
        "units": [("GKK", "Departament Geodezji i Kartografii")],
    },
]


def create(apps, schema_editor):
    Office = apps.get_model("offices", "Office")
    OfficeUnit = apps.get_model("offices", "OfficeUnit")
    for data in OFFICES:
        data = dict(data)
        units = data.pop("units")
        office, _ = Office.objects.update_or_create(code=data["code"], defaults=data)
        for code, name in units:
            OfficeUnit.objects.update_or_create(office=office, code=code, defaults={"name": name})


def remove(apps, schema_editor):
    apps.get_model("offices", "Office").objects.filter(code__in=[o["code"] for o in OFFICES]).delete()


class Migration(migrations.Migration):
    dependencies = [("offices", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
