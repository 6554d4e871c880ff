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
    from services.delivery.models import Delivery, DeliveryEvent
    from services.exchange.models import Envelope

    DeliveryEvent.objects.filter(delivery__case_id__in=case_ids).delete()
    Delivery.objects.filter(case_id__in=case_ids).delete()
    Envelope.objects.filter(case_id__in=case_ids).delete()
    from services.cases.models import CaseDocument

    CaseDocument.objects.filter(case_id__in=case_ids).delete()
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


# ---- what every journey checks on every page ---------------------------------------------------------
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def axe_violations(page) -> list[dict]:
    """Violations of the WCAG 2.1 A/AA rules on the page as it is now (any impact)."""
    page.evaluate(AXE.read_text())  # not add_script_tag: an inline <script> the page's CSP refuses
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        WCAG,
    )
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]


def sideways(page) -> int:
    """How many pixels the page scrolls sideways (0 on a page that fits its viewport)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def page_ok(page, name: str) -> None:
    """The checks of a journey's step: no sideways scrolling, no axe violation; a screenshot kept."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert sideways(page) <= 0, f"{name}: the page scrolls sideways by {sideways(page)} px"
    assert axe_violations(page) == [], f"{name}: {axe_violations(page)}"


def login(page, live_url: str, username: str, password: str, next_path: str = "") -> None:
    """Through the login page, as a person does."""
    suffix = f"?next={next_path}" if next_path else ""
    page.goto(f"{live_url}/konto/logowanie/{suffix}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/konto/logowanie/" not in page.url, f"{username} was not logged in"


def remove_user_and_filings(user) -> None:
    """Delete a committed test user with every request filed, its case, receipts, attachments and log-in records
    (submissions, attachments and receipts are immutable: their triggers are off for this clean-up only).
    Receipts go before and after their submissions: a page still open (a request page refreshes itself while a
    document is prepared) may issue a receipt again while its submission still exists."""
    from django.db import connection

    from services.cases.models import Case
    from services.forms.models import Submission

    remove_cases(Case.objects.filter(submission__user=user))
    ids = [str(pk) for pk in Submission.objects.filter(user=user).values_list("pk", flat=True)]
    with connection.cursor() as cur:
        cur.execute(
            "ALTER TABLE forms_submission DISABLE TRIGGER USER; ALTER TABLE forms_attachment DISABLE TRIGGER USER; "
            "ALTER TABLE receipts_receipt DISABLE TRIGGER USER"
        )
        try:
            cur.execute("DELETE FROM receipts_receipt WHERE document_id = ANY(%s)", [ids])
            cur.execute(
                "DELETE FROM forms_attachmentcheck WHERE attachment_id IN (SELECT a.id FROM forms_attachment a "
                "JOIN forms_submission s ON s.id = a.submission_id WHERE s.user_id = %s)",
                [user.pk],
            )
            cur.execute(
                "DELETE FROM delivery_deliveryevent WHERE delivery_id IN "
                "(SELECT id FROM delivery_delivery WHERE addressee_user_id = %s)",
                [user.pk],
            )
            cur.execute("DELETE FROM delivery_delivery WHERE addressee_user_id = %s", [user.pk])
            cur.execute(
                "DELETE FROM forms_attachment WHERE submission_id IN "
                "(SELECT id FROM forms_submission WHERE user_id = %s)",
                [user.pk],
            )
            cur.execute("DELETE FROM forms_submission WHERE user_id = %s", [user.pk])
            cur.execute("DELETE FROM receipts_receipt WHERE document_id = ANY(%s)", [ids])
            cur.execute("DELETE FROM forms_draft WHERE user_id = %s", [user.pk])
            cur.execute("DELETE FROM core_user WHERE id = %s", [user.pk])
            cur.execute("DELETE FROM axes_accesslog WHERE username = %s", [user.username])
            cur.execute("DELETE FROM axes_accessattempt WHERE username = %s", [user.username])
        finally:
            cur.execute(
                "ALTER TABLE forms_submission ENABLE TRIGGER USER; ALTER TABLE forms_attachment ENABLE TRIGGER USER; "
                "ALTER TABLE receipts_receipt ENABLE TRIGGER USER"
            )
