"""Paying a fee in a real browser (Debian's Chromium via Playwright, desktop 1366×900): a citizen files
the EGiB extract e-form (wypis + wyrys, electronic: 140 zł), follows "pay" from the request page, pays on
the sandbox gateway and comes back to a paid fee; a county clerk then sees the fee document paid and the
case moved on to "w toku". The same without JavaScript (forms post, redirects, a meta refresh while the
gateway has not answered), and axe-core (WCAG 2.1 A/AA) on every payment page. Screenshots go to
tests/artifacts/.

Words are asserted through the Polish catalogue (`_pl`): the page shows what the catalogue says in
Polish, or the English msgid while a translation is still missing."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import expect

from .helpers import ARTIFACTS, CHROMIUM, committed, remove_user_and_filings

PASSWORD = "x-Payment-2026!"
CITIZEN = "e2e.platnik"
CLERK = "e2e.geodeta"
COUNTY = "sp-piaseczno"
FEE_ACCOUNT = "PL61109010140000071219812874"
FEE = "140,00 zł"  # wypis + wyrys, electronic, one registration unit (PGiK table 11)
DESKTOP = {"width": 1366, "height": 900}
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


# ------------------------------------------------------------------ helpers


def _pl(msgid: str) -> str:
    """What a Polish page shows for msgid (the msgid itself while its translation is missing)."""
    from django.utils import translation

    with translation.override("pl"):
        return translation.gettext(msgid)


def _paid_label() -> str:
    from django.utils import translation

    from services.payments.models import Payment

    with translation.override("pl"):
        return str(Payment.Status.PAID.label)


def _text(locator) -> str:
    """Visible text with runs of white space as one space (templates wrap lines freely)."""
    return re.sub(r"\s+", " ", locator.inner_text()).strip()


def _login(page, live_url: str, username: str, next_path: str = "") -> None:
    """Through the login page, as a person does."""
    suffix = f"?next={next_path}" if next_path else ""
    page.goto(f"{live_url}/konto/logowanie/{suffix}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/konto/logowanie/" not in page.url, f"{username} was not logged in"


def _axe(page) -> list[dict]:
    """Violations of the WCAG 2.1 A/AA rules on the page as it is now (any impact)."""
    page.evaluate(AXE.read_text())  # not add_script_tag: an inline <script> the page's CSP refuses
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        WCAG,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "nodes": [{"target": n["target"], "html": n["html"][:160]} for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _rural_parcel() -> str:
    from layers.models import Parcel

    return (
        Parcel.objects.current().filter(precinct__unit__unit_id="141804_5").order_by("parcel_id")[3].parcel_id
    )


def _fill_egib_form(page, parcel_id: str, *, javascript: bool) -> None:
    """The EGiB extract form: wypis + wyrys, electronic, one parcel, a valid applicant (the name and the
    e-mail come from the account)."""
    if javascript:  # prefilled from ?parcels= and kept by the map picker
        page.wait_for_function(f"() => document.getElementById('id_parcels').value.includes('{parcel_id}')")
    else:
        page.fill("#id_parcels", parcel_id)
    page.check("input[name=variant][value=wypis_wyrys]")
    page.check("input[name=form][value=electronic]")
    page.check("input[name=legal_ground][value=legal_interest]")  # form v2: the ground for personal data
    page.fill("#id_legal_interest", "Jestem właścicielem działki.")
    page.fill("#id_pesel", "44051401359")
    page.fill("#id_postal_code", "05-500")
    page.fill("#id_locality", "Piaseczno")
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_url("**/wnioski/**")


def _payment_of(user):
    """The one payment of what this user filed (read on the test's connection: committed rows)."""
    from services.payments.models import Payment

    return Payment.objects.select_related("document", "document__office").get(document__applicant_user=user)


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def sandbox_on(settings, monkeypatch):
    """The sandbox gateway on. Its repeated notification (a Celery task sent after the commit) is
    recorded instead of queued: no worker runs here; the test delivers it itself."""
    from services.payments import tasks

    settings.GISPORTAL_PAYMENT_PROVIDERS = ("sandbox",)
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.sandbox_notify, "apply_async", lambda args, **kw: sent.append(tuple(args)))
    return sent


def _row_counts() -> dict[str, int]:
    with connection.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [t for (t,) in cur.fetchall()]
        counts = {}
        for t in tables:
            cur.execute(f"SELECT count(*) FROM {connection.ops.quote_name(t)}")  # noqa: S608 (catalogue names)
            counts[t] = cur.fetchone()[0]
    return counts


@pytest.fixture
def nothing_left(live_url):
    """Every table holds as many rows after the test's clean-up as before it (the sessions of the
    test's log-ins are removed here)."""
    from django.contrib.sessions.models import Session

    before = committed(_row_counts)
    sessions = set(committed(lambda: list(Session.objects.values_list("pk", flat=True))))
    yield

    def after():
        Session.objects.exclude(pk__in=sessions).delete()
        return _row_counts()

    left = {t: (before.get(t), n) for t, n in committed(after).items() if before.get(t) != n}
    assert left == {}, f"rows left behind (before, after): {left}"


@pytest.fixture
def county_account(live_url, nothing_left):
    """The county office needs an account for fees: set (committed), restored afterwards; the fee
    document counters are put back too."""
    from services.cases.models import CaseCounter
    from services.offices.models import Office
    from services.payments.models import FeeDocumentCounter

    def setup():
        office = Office.objects.get(code=COUNTY)
        counters = {c.pk: c.last for c in FeeDocumentCounter.objects.filter(office=office)}
        case_counters = set(CaseCounter.objects.filter(office=office).values_list("pk", flat=True))
        old = office.fee_account
        office.fee_account = FEE_ACCOUNT
        office.save(update_fields=["fee_account"])
        return office, old, counters, case_counters

    office, old, counters, case_counters = committed(setup)
    yield office

    def restore():
        """After the users' clean-up (remove_cases has given the case numbers back)."""
        Office.objects.filter(pk=office.pk).update(fee_account=old)
        for counter in FeeDocumentCounter.objects.filter(office=office):
            if counter.pk in counters:
                FeeDocumentCounter.objects.filter(pk=counter.pk).update(last=counters[counter.pk])
            else:
                counter.delete()
        CaseCounter.objects.filter(office=office, last=0).exclude(pk__in=case_counters).delete()

    committed(restore)


@pytest.fixture
def citizen(live_url, county_account):
    """A committed citizen, removed afterwards with everything filed and paid (the immutability
    triggers are switched off for that clean-up only)."""
    from gisportal.core.models import User

    user = committed(
        lambda: User.objects.create_user(
            username=CITIZEN,
            email="e2e.platnik@example.pl",
            password=PASSWORD,
            role="citizen",
            first_name="Jan",
            last_name="Płatnik",
        )
    )
    yield user
    committed(lambda: _remove_citizen(user))


def _remove_citizen(user) -> None:
    remove_user_and_filings(user)


@pytest.fixture
def clerk(live_url, county_account):
    """A committed clerk of the county's geodesy unit (GK), removed afterwards."""
    from gisportal.core.models import User
    from services.offices.models import OfficeUnit, StaffMembership

    def make():
        user = User.objects.create_user(
            username=CLERK,
            email="e2e.geodeta@example.pl",
            password=PASSWORD,
            role="clerk",
            first_name="Anna",
            last_name="Geodetka",
        )
        StaffMembership.objects.create(
            user=user, office=county_account, unit=OfficeUnit.objects.get(office=county_account, code="GK")
        )
        return user

    user = committed(make)
    yield user

    def remove():
        from axes.models import AccessLog

        StaffMembership.objects.filter(user=user).delete()
        User.objects.filter(pk=user.pk).delete()
        AccessLog.objects.filter(username=user.username).delete()

    committed(remove)


# ------------------------------------------------------------------ the journey


def test_citizen_pays_on_the_sandbox_and_the_clerk_sees_it_paid(
    browser, live_url, sandbox_on, county_account, citizen, clerk
):
    violations: dict[str, list[dict]] = {}
    parcel = _rural_parcel()
    page = browser.new_context(viewport=DESKTOP, locale="pl-PL").new_page()
    _login(page, live_url, CITIZEN)
    page.goto(f"{live_url}/uslugi/wypis-wyrys-egib/?parcels={parcel}")
    _fill_egib_form(page, parcel, javascript=True)
    request_url = page.url

    # the request page: the fee and the way to pay it
    payment = _payment_of(citizen)
    doc = payment.document
    assert doc.office.code == COUNTY and payment.amount == Decimal("140.00") and payment.status == "due"
    assert FEE in _text(page.locator("main"))
    assert _text(page.get_by_test_id("submission-payment-status")) == str(payment.get_status_display())
    _shot(page, "payment-request-page")
    page.get_by_test_id("go-pay").click()

    # the payment page: amount, account and title; the sandbox chosen
    page.wait_for_url(f"**/platnosci/{payment.pk}/")
    main = _text(page.locator("main"))
    assert _text(page.get_by_test_id("payment-amount")) == FEE
    assert "PL61 1090 1014 0000 0712 1981 2874" in main and doc.title in main and doc.number in main
    violations["payment"] = _axe(page)
    _shot(page, "payment-page")
    page.check("input[name=provider][value=sandbox]")
    page.get_by_test_id("pay").click()

    # the sandbox gateway's page
    page.wait_for_url(f"**/platnosci/sandbox/{payment.pk}/?s=*")
    assert "140,00" in _text(page.locator("main")) and doc.title in _text(page.locator("main"))
    violations["sandbox"] = _axe(page)
    _shot(page, "payment-sandbox")
    page.get_by_test_id("sandbox-success").click()

    # back on the portal: paid
    page.wait_for_url(f"**/platnosci/{payment.pk}/powrot/?a=*")
    assert _pl("Thank you: the fee has been paid.") in _text(page.get_by_test_id("payment-outcome"))
    assert _text(page.get_by_test_id("payment-status")).startswith(_paid_label())
    violations["return"] = _axe(page)
    _shot(page, "payment-return-paid")
    payment.refresh_from_db()
    assert payment.status == "paid" and payment.paid_via == "sandbox"

    # the gateway's repeated notification over HTTP changes nothing: settled once
    assert len(sandbox_on) == 1
    from services.payments.tasks import sandbox_notify

    assert json.loads(sandbox_notify.run(*sandbox_on[0]))  # delivered to the live notification URL
    assert payment.attempts.filter(status="paid").count() == 1

    page.goto(request_url)
    assert _text(page.get_by_test_id("submission-payment-status")) == _paid_label()
    assert page.get_by_test_id("go-pay").count() == 0
    _shot(page, "payment-request-paid")

    # the county clerk: the fee document paid, the case moved on
    staff = browser.new_context(viewport=DESKTOP, locale="pl-PL").new_page()
    _login(staff, live_url, CLERK, "/urzad/platnosci/")
    staff.wait_for_url("**/urzad/platnosci/")
    row = staff.locator("main tr", has=staff.locator(f"a[href='/urzad/platnosci/{payment.pk}/']"))
    assert row.count() == 1
    cells = [_text(c) for c in row.locator("td").all()]
    assert cells[0] == doc.number and cells[3] == FEE and cells[5] == _paid_label()
    violations["office"] = _axe(staff)
    _shot(staff, "payment-office-list")

    row.locator("a").first.click()
    staff.wait_for_url(f"**/urzad/platnosci/{payment.pk}/")
    assert _text(staff.get_by_test_id("payment-status")).startswith(_paid_label())
    assert _text(staff.get_by_test_id("payment-amount")) == FEE
    violations["office_payment"] = _axe(staff)
    _shot(staff, "payment-office-detail")

    # the payer's own pages are the payer's; the clerks' list is not the citizen's
    assert staff.request.get(f"{live_url}/platnosci/{payment.pk}/").status == 404
    assert page.request.get(f"{live_url}/urzad/platnosci/").status == 403

    staff.locator(f"main a[href='/urzad/sprawy/{doc.case_id}/']").first.click()
    staff.wait_for_url(f"**/urzad/sprawy/{doc.case_id}/")
    assert _text(staff.get_by_test_id("case-state")) == _pl("in progress")
    listed = _text(staff.get_by_test_id("case-payments"))
    assert doc.number in listed and FEE in listed and _paid_label() in listed
    _shot(staff, "payment-case-page")

    page.context.close()  # before the clean-up: an open request page refreshes itself (and re-issues its receipt)
    staff.context.close()
    bad = {name: found for name, found in violations.items() if found}
    assert bad == {}, json.dumps(bad, ensure_ascii=False, indent=1)


def test_payment_journey_without_javascript(browser, live_url, sandbox_on, county_account, citizen):
    """Forms post and redirects lead the way; while the gateway has not answered, the return page
    reloads itself with a meta refresh, and shows the payment paid once the payer pays."""
    parcel = _rural_parcel()
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP, locale="pl-PL")
    page = context.new_page()
    _login(page, live_url, CITIZEN)
    page.goto(f"{live_url}/uslugi/wypis-wyrys-egib/")
    _fill_egib_form(page, parcel, javascript=False)
    payment = _payment_of(citizen)
    assert FEE in _text(page.locator("main"))
    page.get_by_test_id("go-pay").click()
    page.wait_for_url(f"**/platnosci/{payment.pk}/")
    assert _text(page.get_by_test_id("payment-amount")) == FEE
    page.check("input[name=provider][value=sandbox]")
    page.get_by_test_id("pay").click()
    page.wait_for_url(f"**/platnosci/sandbox/{payment.pk}/?s=*")
    _shot(page, "payment-sandbox-no-js")
    gateway_url = page.url

    forged = page.request.get(f"{live_url}/platnosci/sandbox/{payment.pk}/?s=GP-{'0' * 32}")
    assert forged.status == 404  # another session id: no such transaction

    # back before the gateway has decided: pending, and the page reloads itself (no JavaScript)
    from services.payments.models import SandboxTransaction

    tx = SandboxTransaction.objects.get(payment_id=payment.pk)
    waiting = context.new_page()
    waiting.goto(tx.return_url)
    assert waiting.locator("head meta[http-equiv=refresh]").count() == 1
    assert _pl(
        "We are waiting for the payment system to confirm the payment. This page refreshes by itself."
    ) in _text(waiting.get_by_test_id("payment-outcome"))
    _shot(waiting, "payment-return-pending-no-js")

    # the payer pays on the gateway's page (a form post, then a redirect back)
    page.goto(gateway_url)
    page.get_by_test_id("sandbox-success").click()
    page.wait_for_url(f"**/platnosci/{payment.pk}/powrot/?a=*")
    assert _text(page.get_by_test_id("payment-status")).startswith(_paid_label())
    assert _pl("Thank you: the fee has been paid.") in _text(page.get_by_test_id("payment-outcome"))
    _shot(page, "payment-return-paid-no-js")

    # the waiting page has refreshed by itself meanwhile (content="3"): paid, and no refresh any more
    expect(waiting.locator("[data-testid=payment-status].status-paid")).to_be_visible(timeout=10000)
    assert waiting.locator("head meta[http-equiv=refresh]").count() == 0

    # paying again is refused: the sandbox page now says it has been decided
    page.goto(gateway_url)
    assert page.get_by_test_id("sandbox-success").count() == 0
    context.close()


def test_the_axe_check_can_fail(browser, live_url):
    """The WCAG check above reports what it should: an image without a text alternative and an
    unlabelled field put into a page are found."""
    page = browser.new_page(locale="pl-PL")
    page.goto(f"{live_url}/status/")
    page.evaluate(
        "() => document.querySelector('main').insertAdjacentHTML('beforeend',"
        ' \'<img src="/static/none.png"><input type="text" name="x">\')'
    )
    found = {v["id"] for v in _axe(page)}
    assert {"image-alt", "label"} <= found, found
    page.close()
