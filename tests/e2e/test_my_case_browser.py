"""The applicant follows and answers a case in a real browser (Debian's Chromium via Playwright), on a
desktop (1366×900) and a phone (390×844): My cases → the case → its history, documents and codes → an
answer to the office's call to supplement, with a file → the case is back with the clerk; then a
withdrawal, confirmed first. Each page: no sideways scrolling, axe-core (WCAG 2.1 A/AA) clean; the
screenshots go to tests/artifacts/."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from .helpers import CHROMIUM, DESKTOP, PHONE, committed, login, page_ok, remove_user_and_filings

PASSWORD = "x-MyCase-2026!"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


@pytest.fixture
def waiting_case(live_url):
    """A citizen's e-filed letter, started by a clerk who asked for a supplement (all committed)."""
    from gisportal.core.models import User
    from services.cases.actions import case_transition
    from services.cases.models import Case
    from services.forms.actions import submission_file
    from services.forms.models import ServiceDefinition
    from services.offices.actions import staff_add
    from services.offices.models import Office, OfficeUnit

    def make():
        citizen = User.objects.create_user(
            username="e2e.wnioskodawca",
            email="w@example.pl",
            password=PASSWORD,
            role="citizen",
            first_name="Wiktor",
            last_name="Wnioskodawca",
        )
        clerk = User.objects.create_user(
            username="e2e.kancelaria",
            email="k@example.pl",
            password=PASSWORD,
            role="clerk",
            first_name="Krystyna",
            last_name="Kancelaryjna",
        )
        office = Office.objects.get(code="um-piaseczno")
        staff_add(clerk, office, OfficeUnit.objects.get(office=office, code="KAN"))
        sub = submission_file(
            ServiceDefinition.objects.get(code="pismo-ogolne", active=True),
            {
                "applicant_name": "Wiktor Wnioskodawca",
                "email": "w@example.pl",
                "subject": "Pytanie o drogę",
                "content": "Proszę o informację o drodze gminnej.",
            },
            user=citizen,
            idempotency_key=str(uuid.uuid4()),
        )
        case = Case.objects.get(submission=sub)
        case_transition(case.pk, "start", actor=clerk)
        case_transition(case.pk, "request_supplement", actor=clerk, due_days=7, note="Proszę podać adres.")
        return citizen, clerk, case

    citizen, clerk, case = committed(make)
    yield case

    def remove():
        clerk.membership.delete()
        clerk.delete()
        remove_user_and_filings(citizen)

    committed(remove)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_applicant_follows_answers_and_withdraws(browser, live_url, waiting_case, viewport, tmp_path):
    from services.cases.models import Case, State

    size = "desktop" if viewport == DESKTOP else "phone"
    context = browser.new_context(locale="pl-PL", viewport=viewport)
    page = context.new_page()
    login(page, live_url, "e2e.wnioskodawca", PASSWORD, "/moje-sprawy/")
    assert page.url.endswith("/moje-sprawy/")
    page_ok(page, f"my-cases-{size}")

    page.get_by_test_id("my-case-link").first.click()
    page.wait_for_url(f"**/moje-sprawy/{waiting_case.pk}/")
    assert waiting_case.sign in page.inner_text("main")
    assert page.get_by_test_id("my-case-tracking").inner_text().strip() == waiting_case.tracking_code
    assert page.locator("#answer").is_visible()
    page_ok(page, f"my-case-waiting-{size}")

    scan = tmp_path / "adres.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    page.fill("#id_text", "Adres: ul. Kościuszki 5, 05-500 Piaseczno.")
    page.set_input_files("#id_files", str(scan))
    page.get_by_test_id("answer-send").click()
    page.wait_for_load_state()
    assert not page.locator("#answer").count()  # nothing more to answer
    assert "adres.png" in page.get_by_test_id("my-case-documents").inner_text()
    page_ok(page, f"my-case-answered-{size}")
    assert committed(lambda: Case.objects.get(pk=waiting_case.pk).state) == State.IN_PROGRESS

    page.get_by_test_id("withdraw").click()
    page.wait_for_load_state()
    page_ok(page, f"my-case-withdraw-confirm-{size}")
    assert committed(lambda: Case.objects.get(pk=waiting_case.pk).state) == State.IN_PROGRESS
    page.get_by_test_id("confirm-withdraw").click()
    page.wait_for_url(f"**/moje-sprawy/{waiting_case.pk}/")
    assert committed(lambda: Case.objects.get(pk=waiting_case.pk).state) == State.WITHDRAWN
    page_ok(page, f"my-case-withdrawn-{size}")
    context.close()
