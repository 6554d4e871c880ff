"""`gisportal fee_rates`: the county's rates for resource materials given with a work notification."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from gisportal.core.errors import GisportalError
from services.offices.models import Office
from services.payments.actions import material_rate_set, material_rates_demo_ensure
from services.payments.models import MaterialRate


class Command(BaseCommand):
    help = (
        "List the counties' rates for resource materials (base rate × units × coefficients, art. 40b, 40d Pgik), "
        "set one from a day on (`set`), or give counties without rates the demo rates (`demo`)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb")
        sub.add_parser("list")
        sub.add_parser("demo")
        s = sub.add_parser("set")
        s.add_argument("--office", required=True, help="the county office's code")
        s.add_argument("--material", required=True, choices=["egib", "warstwy", "mapa", "punkty"])
        s.add_argument("--unit", required=True, choices=MaterialRate.Unit.values)
        s.add_argument("--rate", required=True, help="base rate in zł, e.g. 45.00")
        s.add_argument("--coefficient", default="1", help="product of the coefficients, e.g. 0.8")
        s.add_argument("--from", dest="valid_from", required=True, help="valid from (YYYY-MM-DD)")
        s.add_argument("--label", required=True, help="the line's label in the fee document")

    def handle(self, *args, verb=None, **o):
        if verb == "demo":
            n = material_rates_demo_ensure()
            self.stdout.write(f"demo rates entered: {n}")
            return
        if verb == "set":
            office = Office.objects.filter(code=o["office"]).first()
            if office is None:
                raise CommandError(f"no office {o['office']!r}")
            try:
                rate, coefficient = (
                    Decimal(o["rate"].replace(",", ".")),
                    Decimal(o["coefficient"].replace(",", ".")),
                )
                valid_from = date.fromisoformat(o["valid_from"])
            except (InvalidOperation, ValueError) as e:
                raise CommandError(f"bad value: {e}") from None
            try:
                r = material_rate_set(
                    office=office,
                    material=o["material"],
                    unit=o["unit"],
                    base_rate=rate,
                    coefficient=coefficient,
                    valid_from=valid_from,
                    label=o["label"],
                )
            except GisportalError as e:
                raise CommandError(str(e.message)) from None
            self.stdout.write(str(r))
            return
        for r in MaterialRate.objects.select_related("office").order_by(
            "office__code", "material", "-valid_from"
        ):
            self.stdout.write(
                f"{r.office.code:<12} {r.material:<8} {r.unit:<6} {r.base_rate:>9} zł × {r.coefficient:<6} "
                f"od {r.valid_from}  {r.label}"
            )
