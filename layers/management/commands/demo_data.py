"""gisportal demo-data --parcels N --seed S: deterministic synthetic registry data for gmina Piaseczno."""

from django.core.management.base import BaseCommand, CommandError

from gisportal.core.errors import GisportalError
from layers.demo.loader import (
    MAX_PARCELS,
    MIN_PARCELS,
    check_postgis,
    load_demo,
    registry_is_empty,
    validate_size,
)


class Command(BaseCommand):
    help = "Generate and load synthetic EGiB, address, zoning and boundary data for gmina Piaseczno (one transaction)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--parcels", type=int, default=20_000, help=f"number of parcels ({MIN_PARCELS}–{MAX_PARCELS})"
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed: the same seed gives the same data"
        )
        parser.add_argument(
            "--replace", action="store_true", help="replace registry data already in the database"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when registry data is already loaded"
        )

    def handle(self, *args, parcels, seed, replace, if_empty, **options):
        try:
            validate_size(parcels)
            check_postgis()
            if if_empty and not registry_is_empty():
                self.stdout.write("Dane rejestrów są już w bazie – pomijam (registry data already loaded).")
                return
            verbose = options["verbosity"] >= 1
            counts = load_demo(
                parcels, seed, replace=replace, progress=(lambda m: self.stdout.write(m)) if verbose else None
            )
        except GisportalError as e:
            raise CommandError(e.message) from None
        except ValueError as e:
            raise CommandError(str(e)) from None
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS("Załadowano dane demonstracyjne / demo data loaded:"))
            for k, v in counts.items():
                self.stdout.write(f"  {k}: {v}")
