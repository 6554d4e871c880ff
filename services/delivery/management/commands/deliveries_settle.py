"""`gisportal deliveries-settle [--at YYYY-MM-DD[THH:MM]]`: run the daily delivery job now, or as if it were
`--at` (deemed deliveries, e-delivery proofs, reminders, retries). Idempotent."""

from __future__ import annotations

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from services.delivery.actions import deliveries_settle


class Command(BaseCommand):
    help = "Settle deliveries: deemed deliveries, e-delivery proofs, reminders, retries (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--at", help="act as if it were this day or moment (YYYY-MM-DD or ISO 8601)")

    def handle(self, *args, **options):
        now = None
        if options.get("at"):
            try:
                value = datetime.fromisoformat(options["at"])
            except ValueError as e:
                raise CommandError("--at: give YYYY-MM-DD or an ISO 8601 moment") from e
            if len(options["at"]) == 10:
                value = datetime.combine(value.date(), time(0, 5))
            now = value if timezone.is_aware(value) else timezone.make_aware(value)
        counts = deliveries_settle(now=now)
        self.stdout.write(
            "deemed delivered: {deemed}, e-delivery proofs: {evidences}, reminders: {reminders}, "
            "sends retried: {retried}".format(**counts)
        )
