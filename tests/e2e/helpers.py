"""Shared by the browser tests: Debian's Chromium through Playwright, and committing test data on a
connection of its own (the live server cannot see the test's transaction)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def committed(fn):
    """Run fn on a connection of its own (autocommit) and return its result."""
    from django.db import connections

    def run():
        try:
            return fn()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as ex:
        return ex.submit(run).result()


def remove_cases(cases_qs) -> None:
    """Delete committed test cases and give their numbers back (counters = highest number left)."""
    from django.db import connection

    cases_qs.delete()
    with connection.cursor() as cur:
        cur.execute("""UPDATE cases_casecounter k SET last = coalesce((
            SELECT max(c.number) FROM cases_case c JOIN offices_officeunit u ON u.id = c.unit_id
            WHERE c.office_id = k.office_id AND u.code = k.unit_code AND c.jrwa = k.jrwa AND c.year = k.year), 0)""")
