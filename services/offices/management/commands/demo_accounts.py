from django.core.management.base import BaseCommand

from services.offices.actions import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_accounts_ensure


class Command(BaseCommand):
    help = "Create or reset the demo accounts (one per role); --list only prints them."

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="print the accounts without touching the database")

    def handle(self, *args, list=False, **options):  # noqa: A002
        if list:
            for username, _e, first, last, role, office, _u, _l in DEMO_ACCOUNTS:
                self.stdout.write(f"{username:<20} {role.label!s:<28} {first} {last}{' – ' + office if office else ''}")
            self.stdout.write(f"{'admin':<20} {'administrator':<28} superuser, /admin/")
            return
        rows = demo_accounts_ensure()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Demo accounts ready ({len(rows)}), password: {DEMO_PASSWORD}")
