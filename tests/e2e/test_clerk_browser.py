"""The clerk workspace in a real browser (Debian's Chromium via Playwright, pl-PL), on a desktop
(1366×900) and a phone (390×844): a county clerk books a bank transfer paying a fee document with its
amount, date and reference from the case page, and the case moves on; settling a case without an outgoing
document is refused with a clear message; a withdrawal asks for a confirmation first (Cancel changes
nothing, Confirm acts). Every page visited has no WCAG 2.1 A/AA violation (axe-core) and does not scroll
sideways. Everything committed is removed afterwards. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from .helpers import ARTIFACTS, CHROMIUM, DESKTOP, PHONE, axe_violations, committed, remove_cases

PASSWORD = "x-Clerk-Workspace-2026!"
CLERK = "e2e.kancelaria"
COUNTY = "sp-piaseczno"
APPLICANT = "Jan Okienkowy"
FEE_ACCOUNT = "PL61109010140000071219812874"
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


def _pl(msgid: str, **values) -> str:
    from django.utils import translation

    with translation.override("pl"):
        text = translation.gettext(msgid)
    return text % values if values else text


def _text(locator) -> str:
    return re.sub(r"\s+", " ", locator.inner_text()).strip()


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def workspace(live_url):
    """A committed county clerk and two paper cases of the county: one with an unpaid fee document, one
    in progress with no outgoing document; removed afterwards (the fee account and counters restored)."""
    from django.utils import timezone

    from gisportal.core.models import User
    from services.cases.actions import case_fee_issue, case_register, case_transition
    from services.offices.actions import staff_add
    from services.offices.models import Office, OfficeUnit
    from services.payments.models import FeeDocumentCounter

    def make():
        office = Office.objects.get(code=COUNTY)
        old_account = office.fee_account
        counters = {c.pk: c.last for c in FeeDocumentCounter.objects.filter(office=office)}
        office.fee_account = FEE_ACCOUNT
        office.save(update_fields=["fee_account"])
        user = User.objects.create_user(
            username=CLERK,
            email="e2e.kancelaria@example.pl",
            password=PASSWORD,
            role="clerk",
            first_name="Kamila",
            last_name="Kancelaryjna",
        )
        unit = OfficeUnit.objects.get(office=office, code="GK")
        staff_add(user, office, unit)

        def case(subject):
            c, _access = case_register(
                office=office,
                unit=unit,
                jrwa="6640",
                subject=subject,
                channel="paper",
                applicant_name=APPLICANT,
                received_on=timezone.localdate(),
                deadline_kind="one_month",
            )
            return c

        fee_case = case("Udostępnienie materiałów zasobu")
        case_transition(fee_case.pk, "start", actor=user)
        line = {
            "label": "mapa zasadnicza",
            "quantity": 1,
            "unit_price": Decimal("40.00"),
            "amount": Decimal("40"),
        }
        payment = case_fee_issue(fee_case.pk, actor=user, key="e2e", lines=[line])
        plain = case("Pismo w sprawie granic")
        case_transition(plain.pk, "start", actor=user)
        return user, fee_case, plain, payment, old_account, counters

    user, fee_case, plain, payment, old_account, counters = committed(make)
    yield {"clerk": user, "fee_case": fee_case, "plain": plain, "payment": payment}

    def remove():
        from axes.models import AccessLog

        from services.cases.models import Case
        from services.offices.models import StaffMembership

        remove_cases(Case.objects.filter(applicant_name=APPLICANT))
        StaffMembership.objects.filter(user=user).delete()
        User.objects.filter(pk=user.pk).delete()
        AccessLog.objects.filter(username=CLERK).delete()
        office = Office.objects.get(code=COUNTY)
        Office.objects.filter(pk=office.pk).update(fee_account=old_account)
        for counter in FeeDocumentCounter.objects.filter(office=office):
            if counter.pk in counters:
                FeeDocumentCounter.objects.filter(pk=counter.pk).update(last=counters[counter.pk])
            else:
                counter.delete()

    committed(remove)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_clerk_books_a_transfer_is_refused_settling_without_a_document_and_confirms_a_withdrawal(
    browser, live_url, workspace, device
):
    from services.cases.models import Case
    from services.payments.models import Payment

    fee_case, plain, payment = workspace["fee_case"], workspace["plain"], workspace["payment"]
    violations: dict[str, list[dict]] = {}
    wide: list[str] = []
    context = browser.new_context(viewport=VIEWPORTS[device], locale="pl-PL")
    page = context.new_page()

    def visited(name: str) -> None:
        page.wait_for_load_state()
        violations[name] = axe_violations(page)
        if not _fits(page):
            wide.append(name)
        page.screenshot(path=str(ARTIFACTS / f"clerk-{name}-{device}.png"), full_page=True)

    page.goto(f"{live_url}/konto/logowanie/?next=/urzad/sprawy/{fee_case.pk}/")
    page.fill("input[name=username]", CLERK)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(f"**/urzad/sprawy/{fee_case.pk}/")
    assert _text(page.get_by_test_id("case-state")) == _pl("waiting for payment")
    visited("case-fee-due")

    # the transfer: amount, booking date and the statement's reference, from the case page
    form = page.get_by_test_id("transfer-form")
    assert form.locator("input[name=amount]").input_value() == "40,00"
    form.locator("input[name=amount]").fill("40,00")
    form.locator("input[name=reference]").fill("PKO BP wyciąg 12/2026, Jan Okienkowy")
    form.locator("button[data-action=transfer]").click()
    page.wait_for_url(f"**/urzad/sprawy/{fee_case.pk}/")
    assert _text(page.get_by_test_id("case-state")) == _pl("in progress")
    paid = Payment.objects.get(pk=payment.pk)
    assert paid.status == "paid" and paid.paid_via == "transfer"
    assert "PKO BP wyciąg 12/2026" in _text(page.get_by_test_id("case-timeline"))
    assert page.get_by_test_id("transfer-form").count() == 0
    visited("case-fee-paid")

    # settling without an outgoing document: refused, with the reason, nothing changes
    page.goto(f"{live_url}/urzad/sprawy/{plain.pk}/")
    page.locator("button[data-action=settle]").click()
    page.wait_for_load_state()
    error = _text(page.get_by_test_id("case-error"))
    assert error == _pl(
        "The case cannot be settled without an outgoing document: add the decision or letter first."
    )
    assert _text(page.get_by_test_id("case-state")) == _pl("in progress")
    assert Case.objects.get(pk=plain.pk).state == "in_progress"
    visited("case-settle-refused")

    # a withdrawal: the confirmation page first; Cancel changes nothing, Confirm acts
    page.goto(f"{live_url}/urzad/sprawy/{plain.pk}/")
    page.locator("#note_withdraw").fill("pismo strony z dnia 2 marca")
    page.locator("button[data-action=withdraw]").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("confirm-page").count() == 1
    assert "pismo strony z dnia 2 marca" in _text(page.get_by_test_id("confirm-record"))
    visited("confirm-withdraw")
    page.get_by_test_id("cancel").click()
    page.wait_for_url(f"**/urzad/sprawy/{plain.pk}/")
    assert Case.objects.get(pk=plain.pk).state == "in_progress"
    page.locator("button[data-action=withdraw]").click()
    page.wait_for_load_state()
    page.get_by_test_id("confirm").click()
    page.wait_for_url(f"**/urzad/sprawy/{plain.pk}/")
    assert Case.objects.get(pk=plain.pk).state == "withdrawn"
    assert _text(page.get_by_test_id("case-state")) == _pl("withdrawn")
    visited("case-withdrawn")

    # a new access code (confirmed), shown once on a confirmation that prints without the site around it
    page.locator("button[data-action=reissue_code]").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("confirm-page").count() == 1
    page.get_by_test_id("confirm").click()
    page.wait_for_url(f"**/urzad/sprawy/{plain.pk}/potwierdzenie/")
    code = _text(page.get_by_test_id("access-code"))
    assert len(code) == 10
    from services.cases.selectors import status_lookup

    assert status_lookup(plain.tracking_code, code).pk == plain.pk
    assert page.get_by_test_id("status-url").get_attribute("href") == (
        f"{live_url}/status/?ref={plain.tracking_code}"
    )
    visited("intake-confirmation")
    page.emulate_media(media="print")
    assert page.locator("header.site-header").is_hidden() and page.locator("footer.site-footer").is_hidden()
    assert page.locator("[data-print]").is_hidden()
    assert (
        page.get_by_test_id("intake-confirmation").is_visible()
        and page.get_by_test_id("access-code").is_visible()
    )
    page.screenshot(path=str(ARTIFACTS / f"clerk-intake-confirmation-print-{device}.png"), full_page=True)
    page.emulate_media(media="screen")
    page.reload()
    assert code not in _text(page.locator("main"))  # shown once

    page.goto(f"{live_url}/urzad/sprawy/")
    visited("inbox")
    context.close()
    assert wide == [], f"pages wider than the {device} screen: {wide}"
    bad = {name: found for name, found in violations.items() if found}
    assert bad == {}, json.dumps(bad, ensure_ascii=False, indent=1)
