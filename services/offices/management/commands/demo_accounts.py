from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from gisportal.core.actions import api_key_ensure
from services.offices.actions import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_accounts_ensure

# the demo office system's API key, published like the demo password (demo accounts only): the demo
# works with a key that is known in advance. Real keys: `gisportal api-key create`.
DEMO_API_KEY_USER = "system.lesznowola"
DEMO_API_KEY = "gp_demo-lesznowola-klucz-api-2026-tylko-do-demo"


class Command(BaseCommand):
    help = "Create or reset the demo accounts (one per role) and the demo system's API key; --list only prints them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--list", action="store_true", help="print the accounts without touching the database"
        )

    def handle(self, *args, list=False, **options):
        if list:
            for username, _e, first, last, role, office, _u, _l in DEMO_ACCOUNTS:
                self.stdout.write(
                    f"{username:<20} {role.label!s:<28} {first} {last}{' – ' + office if office else ''}"
                )
            self.stdout.write(f"{'admin':<20} {'administrator':<28} superuser, /admin/")
            self.stdout.write(f"{DEMO_API_KEY_USER} API key (Authorization: Bearer): {DEMO_API_KEY}")
            return
        rows = demo_accounts_ensure()
        api_key_ensure(get_user_model().objects.get(username=DEMO_API_KEY_USER), "demo", DEMO_API_KEY)
        if options["verbosity"] >= 1:
            self.stdout.write(f"Demo accounts ready ({len(rows)}), password: {DEMO_PASSWORD}")
            self.stdout.write(f"API key of {DEMO_API_KEY_USER}: {DEMO_API_KEY}")
