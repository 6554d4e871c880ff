"""The case register in a real browser (Debian's Chromium via Playwright): a clerk registers paper
mail → the applicant follows it on the status page with the printed codes → the clerk moves the
case → the status and the e-mail follow. Screenshots go to tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import mail

from .helpers import ARTIFACTS, CHROMIUM, committed, remove_cases

PASSWORD = "x-Clerk-2026!"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


@pytest.fixture
def clerk(live_url):
    from gisportal.core.models import User
    from services.offices.actions import staff_add
    from services.offices.models import Office, OfficeUnit

    def make():
        user = User.objects.create_user(
            username="e2e.urzednik",
            email="u@example.pl",
            password=PASSWORD,
            role="clerk",
            first_name="Urszula",
            last_name="Urzędniczka",
        )
        office = Office.objects.get(code="um-piaseczno")
        staff_add(user, office, OfficeUnit.objects.get(office=office, code="UiA"))
        return user

    user = committed(make)
    yield user

    def remove():
        from services.cases.models import Case

        remove_cases(Case.objects.filter(applicant_name="Jan Przeglądarka"))
        user.membership.delete()
        user.delete()

    committed(remove)


def test_paper_intake_status_and_clerk_action(browser, live_url, clerk, mailoutbox):
    staff = browser.new_page(locale="pl-PL")
    staff.goto(f"{live_url}/konto/logowanie/?next=/urzad/sprawy/nowa/")
    staff.fill("input[name=username]", "e2e.urzednik")
    staff.fill("input[name=password]", PASSWORD)
    staff.locator("main form button[type=submit]").first.click()
    staff.wait_for_url("**/urzad/sprawy/nowa/")
    staff.fill("#id_applicant_name", "Jan Przeglądarka")
    staff.fill("#id_applicant_email", "jan.przegladarka@example.pl")
    staff.fill("#id_subject", "Wypis z planu miejscowego")
    staff.select_option("#id_unit", label="UiA – Wydział Urbanistyki i Architektury")
    staff.fill("#id_jrwa", "6727")
    staff.locator("main form button[type=submit]").click()
    staff.wait_for_url("**/potwierdzenie/")
    tracking = staff.get_by_test_id("tracking-code").inner_text().strip()
    access = staff.get_by_test_id("access-code").inner_text().strip()
    staff.screenshot(path=str(ARTIFACTS / "case-intake-confirmation.png"), full_page=True)
    assert len(tracking) == 10 and len(access) == 10

    applicant = browser.new_context(locale="pl-PL").new_page()
    applicant.goto(f"{live_url}/status/")
    applicant.fill("#id_reference", tracking)
    applicant.fill("#id_access_code", access)
    applicant.locator("main form button[type=submit]").first.click()
    state = applicant.get_by_test_id("status-state")
    assert state.inner_text().strip() == "zarejestrowana"

    staff.locator("text=Otwórz sprawę").click()
    staff.locator("button[data-action=start]").click()
    staff.wait_for_load_state()
    assert staff.get_by_test_id("case-state").inner_text().strip() == "w toku"
    staff.screenshot(path=str(ARTIFACTS / "case-clerk-page.png"), full_page=True)

    applicant.goto(f"{live_url}/status/")
    applicant.fill("#id_reference", tracking)
    applicant.fill("#id_access_code", access)
    applicant.locator("main form button[type=submit]").first.click()
    assert applicant.get_by_test_id("status-state").inner_text().strip() == "w toku"
    applicant.screenshot(path=str(ARTIFACTS / "case-status-applicant.png"), full_page=True)
    assert [m.to for m in mail.outbox] == [["jan.przegladarka@example.pl"]] * 2
