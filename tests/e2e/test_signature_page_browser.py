"""The public signature check /podpis/ in a real browser (Debian's Chromium via Playwright), on a desktop
(1366×900) and a phone (390×844): the form reached with the keyboard, an office's sealed receipt (UPP)
uploaded and checked → the verdict in words → the technical details opened → the report downloaded as PDF;
then the receipt edited after sealing → invalid; then a file that is not a signature → the error in the
form. Each page: no sideways scrolling, axe-core (WCAG 2.1 A/AA) clean; screenshots in tests/artifacts/."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from .helpers import CHROMIUM, DESKTOP, PHONE, page_ok

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


@pytest.fixture
def receipt_file(tmp_path):
    """A receipt sealed by the office (only its XML is used: the check stores nothing)."""
    from django.utils import timezone

    from services.offices.models import Office
    from services.receipts.actions import receipt_issue
    from services.signatures import trust

    office = Office.objects.get(code="um-piaseczno")
    receipt = receipt_issue(
        document_id=str(uuid.uuid4()),
        document_sha256=hashlib.sha256(b"e2e").hexdigest(),
        office=office,
        sender_name="Jan Kowalski",
        sender_identifier="jan",
        received_at=timezone.now(),
        service="Wniosek testowy",
    )
    path = tmp_path / "upp.xml"
    path.write_bytes(bytes(receipt.xml))
    trust.forget()  # the live server (this process) trusts the office's seal even if made just now
    return path, office


def _pl(msgid: str) -> str:
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override("pl"):
        return gettext(msgid)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_sealed_receipt_is_checked_and_its_report_downloaded(
    browser, live_url, receipt_file, viewport, tmp_path
):
    receipt, office = receipt_file
    size = "desktop" if viewport == DESKTOP else "phone"
    context = browser.new_context(locale="pl-PL", viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_url}/podpis/")
    assert page.get_by_label(_pl("Signed file"), exact=True).count() == 1
    page_ok(page, f"signature-form-{size}")

    # the form with the keyboard: the file chosen, then Tab to the button and Enter
    page.set_input_files("#id_file", str(receipt))
    page.focus("#id_file")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_detached"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.testid") == "signature-check"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    report = page.get_by_test_id("signature-report")
    assert report.get_attribute("data-indication") == "TOTAL_PASSED"
    assert _pl("Signature valid") in page.get_by_test_id("report-verdict").inner_text()
    assert office.name[:40] in page.get_by_test_id("report-signer").inner_text()
    page_ok(page, f"signature-valid-{size}")

    details = page.get_by_test_id("report-signature-details").first
    assert not details.locator("dd").first.is_visible()  # folded
    details.locator("summary").focus()
    page.keyboard.press("Enter")
    assert details.get_attribute("open") is not None
    assert "XAdES" in details.inner_text()
    assert "TOTAL_PASSED" in details.inner_text()
    page_ok(page, f"signature-details-{size}")

    with page.expect_download() as download:
        page.get_by_test_id("report-pdf").click()
    saved = tmp_path / "raport.pdf"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(".pdf")
    assert saved.read_bytes().startswith(b"%PDF-")

    # the receipt edited after sealing: invalid, in words
    edited = tmp_path / "upp-zmieniony.xml"
    edited.write_bytes(receipt.read_bytes().replace(b"Jan Kowalski", b"Jan Kowalsky"))
    page.set_input_files("#id_file", str(edited))
    with page.expect_navigation():
        page.get_by_test_id("signature-check").click()
    assert page.get_by_test_id("signature-report").get_attribute("data-indication") == "TOTAL_FAILED"
    assert _pl("Signature invalid") in page.get_by_test_id("report-verdict").inner_text()
    page_ok(page, f"signature-invalid-{size}")

    # a file that is no signature: the error in the form, the form again
    junk = tmp_path / "program.exe"
    junk.write_bytes(b"MZ" + bytes(range(256)) * 4)
    page.set_input_files("#id_file", str(junk))
    with page.expect_navigation():
        page.get_by_test_id("signature-check").click()
    error = page.get_by_test_id("signature-error")
    assert error.is_visible() and error.get_attribute("role") == "alert"
    assert not page.get_by_test_id("signature-report").count()
    page_ok(page, f"signature-error-{size}")
    context.close()
