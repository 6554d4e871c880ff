"""The whole path of a decision in a real browser (Debian's Chromium via Playwright): a clerk files the
decision answering an e-filed letter and settles the case on the case page → the applicant finds it in the
portal inbox from the menu → confirms receipt → the clerk's case page shows the case delivered, the proof
of delivery and the end of the appeal period. Each page: no sideways scrolling, no WCAG 2.1 A/AA violation.
Everything committed is removed afterwards."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from .helpers import CHROMIUM, DESKTOP, committed, login, page_ok, remove_cases, remove_user_and_filings

PASSWORD = "x-Delivery-Path-2026!"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


@pytest.fixture
def filed(live_url, tmp_path):
    """A citizen's e-filed general letter in the gmina's registry, and a clerk of that unit (committed)."""
    from gisportal.core.models import User
    from services.cases.models import Case
    from services.forms.actions import submission_file
    from services.forms.models import ServiceDefinition
    from services.offices.actions import staff_add
    from services.offices.models import Office, OfficeUnit

    def make():
        citizen = User.objects.create_user(
            username="e2e.wnioskodawca", email="wn@example.pl", password=PASSWORD, role="citizen"
        )
        clerk = User.objects.create_user(
            username="e2e.kancelaria.gminy", email="kg@example.pl", password=PASSWORD, role="clerk"
        )
        gmina = Office.objects.get(code="um-piaseczno")
        staff_add(clerk, gmina, OfficeUnit.objects.get(office=gmina, code="KAN"))
        sub = submission_file(
            ServiceDefinition.objects.get(code="pismo-ogolne", active=True),
            {
                "applicant_name": "Wanda Wnioskodawczyni",
                "email": "wn@example.pl",
                "postal_code": "05-500",
                "locality": "Piaseczno",
                "subject": "Zajęcie pasa drogowego",
                "content": "Proszę o zezwolenie na zajęcie pasa drogowego ul. Kościuszki.",
                "delivery": "portal",
            },
            user=citizen,
            idempotency_key=str(uuid.uuid4()),
        )
        return citizen, clerk, Case.objects.get(submission=sub)

    citizen, clerk, case = committed(make)
    decision = tmp_path / "decyzja.pdf"
    decision.write_bytes(PDF)
    yield citizen, clerk, case, decision

    def remove():
        from services.cases.models import Case
        from services.delivery.models import Delivery, DeliveryEvent

        DeliveryEvent.objects.filter(delivery__case_id=case.pk).delete()
        Delivery.objects.filter(case_id=case.pk).delete()
        remove_cases(Case.objects.filter(pk=case.pk))
        from services.offices.models import StaffMembership

        remove_user_and_filings(citizen)
        StaffMembership.objects.filter(user=clerk).delete()
        remove_user_and_filings(clerk)

    committed(remove)


def test_a_decision_reaches_the_applicant_and_the_clerk_sees_the_proof(browser, live_url, filed):
    from services.cases.models import Case, State
    from services.delivery.models import Delivery, Status

    citizen, clerk, case, decision = filed
    office_ctx = browser.new_context(viewport=DESKTOP, locale="pl-PL")
    home_ctx = browser.new_context(viewport=DESKTOP, locale="pl-PL")
    try:
        # the clerk: start, file the decision, settle (confirmed)
        page = office_ctx.new_page()
        login(page, live_url, clerk.username, PASSWORD, f"/urzad/sprawy/{case.pk}/")
        with page.expect_navigation():
            page.locator("button[data-action=start]").click()
        page.select_option("#doc_kind", "decision")
        page.set_input_files("#doc_file", str(decision))
        with page.expect_navigation():
            page.locator("button[data-action=document]").click()
        with page.expect_navigation():
            page.locator("button[data-action=settle]").click()
        with page.expect_navigation():
            page.get_by_test_id("confirm").click()
        page_ok(page, "delivery-path-clerk-settled")
        assert page.get_by_test_id("delivery").first.get_attribute("data-status") == "awaiting"
        d = committed(lambda: Delivery.objects.get(case_id=case.pk))
        assert (d.channel, d.status) == ("portal", Status.AWAITING)

        # the applicant: the menu's inbox → the delivery → confirm receipt with the keyboard
        home = home_ctx.new_page()
        login(home, live_url, citizen.username, PASSWORD)
        with home.expect_navigation():
            home.locator("a[href='/skrzynka/']").first.click()
        page_ok(home, "delivery-path-inbox")
        with home.expect_navigation():
            home.locator(f"a[href='/skrzynka/{d.pk}/']").first.click()
        page_ok(home, "delivery-path-before")
        home.get_by_test_id("acknowledge").focus()
        with home.expect_navigation():  # the POST and its redirect back to the page
            home.keyboard.press("Enter")
        page_ok(home, "delivery-path-after")
        assert home.get_by_test_id("delivery-period").count() == 1
        with home.expect_download() as got:
            home.get_by_test_id("delivery-download").click()
        assert Path(got.value.path()).read_bytes() == PDF

        # the clerk again: delivered, with the proof and the end of the appeal period
        page.reload()
        page.wait_for_load_state()
        page_ok(page, "delivery-path-clerk-delivered")
        d = committed(lambda: Delivery.objects.get(case_id=case.pk))
        assert d.status == Status.DELIVERED and d.delivered_how == "opened" and d.period_ends is not None
        assert committed(lambda: Case.objects.get(pk=case.pk).state) == State.DELIVERED
        assert page.get_by_test_id("delivery-proof-xml").count() == 1
        period = page.get_by_test_id("delivery-period").inner_text()
        assert str(d.period_ends.year) in period
        proof = page.request.get(f"{live_url}/urzad/doreczenia/{d.pk}/upd.xml")
        assert proof.status == 200 and b"UPD" in proof.body()
    finally:
        office_ctx.close()
        home_ctx.close()
