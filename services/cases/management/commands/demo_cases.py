from django.core.management.base import BaseCommand

from services.cases.demo import demo_cases_ensure


class Command(BaseCommand):
    help = "Give the demo citizen (obywatel) a case to answer and a fee to pay, once (after demo_accounts)."

    def handle(self, *args, **options):
        cases = demo_cases_ensure()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Demo cases of the citizen: {', '.join(c.sign for c in cases) or 'none'}")
