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

    case_ids = list(cases_qs.values_list("pk", flat=True))
    remove_payments(case_ids)
    remove_documents(case_ids)
    cases_qs.delete()
    with connection.cursor() as cur:
        cur.execute("""UPDATE cases_casecounter k SET last = coalesce((
            SELECT max(c.number) FROM cases_case c JOIN offices_officeunit u ON u.id = c.unit_id
            WHERE c.office_id = k.office_id AND u.code = k.unit_code AND c.jrwa = k.jrwa AND c.year = k.year), 0)""")


def remove_payments(case_ids: list[int]) -> None:
    """Delete committed test payments of these cases (fee documents are immutable: their trigger is
    switched off for this clean-up only)."""
    from django.db import connection

    if not case_ids:
        return
    from services.payments.models import (
        Attempt,
        Discrepancy,
        Event,
        FeeDocument,
        Payment,
        Refund,
        SandboxTransaction,
    )

    payments = Payment.objects.filter(document__case_id__in=case_ids)
    ids = list(payments.values_list("pk", flat=True))
    SandboxTransaction.objects.filter(payment_id__in=ids).delete()
    Discrepancy.objects.filter(payment_id__in=ids).delete()
    Event.objects.filter(attempt__payment_id__in=ids).delete()
    Refund.objects.filter(payment_id__in=ids).delete()
    Attempt.objects.filter(payment_id__in=ids).delete()
    payments.delete()
    with connection.cursor() as cur:
        cur.execute("ALTER TABLE payments_feedocument DISABLE TRIGGER USER")
        try:
            FeeDocument.objects.filter(case_id__in=case_ids).delete()
        finally:
            cur.execute("ALTER TABLE payments_feedocument ENABLE TRIGGER USER")


def remove_documents(case_ids: list[int]) -> None:
    """Delete committed test document jobs and issued documents of these cases (issued documents are
    immutable: their trigger is switched off for this clean-up only)."""
    from django.db import connection

    from services.documents.models import DocumentJob, IssuedDocument

    if not case_ids:
        return
    DocumentJob.objects.filter(case_id__in=case_ids).delete()
    with connection.cursor() as cur:
        cur.execute("ALTER TABLE documents_issueddocument DISABLE TRIGGER USER")
        try:  # corrections first (a correction PROTECTs the document it replaces)
            for doc in IssuedDocument.objects.filter(case_id__in=case_ids).order_by("-issued_at"):
                doc.delete()
        finally:
            cur.execute("ALTER TABLE documents_issueddocument ENABLE TRIGGER USER")
