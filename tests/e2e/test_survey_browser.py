"""The surveyor's cycle in a real browser (issue 26; Debian's Chromium via Playwright, pl-PL, 1366×900): a
licensed surveyor files a work notification with its area typed as WKT (the text path beside the drawing
map) → the county clerk issues the fee document (DOO) on the case page and records the bank transfer
paying it → the materials package is built (called here: Celery does not run in tests) → the surveyor
downloads it from "My case" (the ASiC-E passes the portal's verifier) and hands in a changed GML with one
parcel divided ("being checked" until the check job, called here, has run) → the county clerk's review
shows one retired and two new parcels and accepts them (entered by the apply job, called here) → the
live server's WFS serves the new parcels. Each page: no sideways scrolling, no WCAG 2.1 A/AA violation.

Everything committed is removed afterwards: the users, case, fee document, payment, package, results,
the access log's entry of the package; the accepted import changed the shared demo registry, so it is
loaded again (load_demo(..., replace=True), as the session's demo_data fixture does) and the registry
history the import wrote is deleted."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .helpers import CHROMIUM, DESKTOP, committed, login, page_ok, remove_user_and_filings

PASSWORD = "x-Survey-Cycle-2026!"
SURVEYOR = "e2e.geodeta.cykl"
CLERK = "e2e.powiat.gk.cykl"
COUNTY = "sp-piaseczno"
FEE_ACCOUNT = "PL61109010140000071219812874"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


@pytest.fixture(scope="module")
def site(demo_data, django_db_blocker):
    """A one-part parcel without holes well inside the county, and a work area around it."""
    import shapely

    from layers.models import AdministrativeUnit, Parcel

    with django_db_blocker.unblock():
        county = AdministrativeUnit.objects.get(teryt="1418").geom
        for p in (
            Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[30:400]
        ):
            shape = shapely.from_wkb(bytes(p.geom.wkb))
            if len(shape.geoms) != 1 or len(shape.geoms[0].interiors) or shape.area < 400:
                continue
            area = p.geom.envelope.buffer(3).envelope
            area.srid = 2180
            if county.contains(area.buffer(200)):
                return {"parcel": p.parcel_id, "local_id": p.local_id, "area": area, "shape": shape.geoms[0]}
    raise AssertionError("no suitable parcel")


@pytest.fixture
def people(live_url, settings, tmp_path, monkeypatch):
    """A committed surveyor (licence number) and county clerk (GK unit); the county's fee account set. The
    package's build and the results' check and import are not queued (no Celery here: the test runs those
    jobs); files go to a temporary MEDIA_ROOT.
    Afterwards everything is removed and the demo registry loaded again."""
    from django.utils import timezone

    from gisportal.core.models import User
    from services.offices.actions import staff_add
    from services.offices.models import Office, OfficeUnit
    from services.payments.models import FeeDocumentCounter
    from services.surveys import actions, results

    settings.MEDIA_ROOT = str(tmp_path / "media")
    queued: list[str] = []
    monkeypatch.setattr(actions, "_enqueue", lambda pk: queued.append(str(pk)))
    monkeypatch.setattr(results, "_enqueue_check", lambda pk: queued.append(f"check {pk}"))
    monkeypatch.setattr(results, "_enqueue_apply", lambda pk: queued.append(f"apply {pk}"))
    started = timezone.now()

    def make():
        office = Office.objects.get(code=COUNTY)
        old_account = office.fee_account
        counters = {c.pk: c.last for c in FeeDocumentCounter.objects.filter(office=office)}
        Office.objects.filter(pk=office.pk).update(fee_account=FEE_ACCOUNT)
        surveyor = User.objects.create_user(
            username=SURVEYOR,
            email="geodeta.cykl@example.pl",
            password=PASSWORD,
            role="surveyor",
            first_name="Ewa",
            last_name="Mierniczy",
            licence_no="24680",
        )
        clerk = User.objects.create_user(
            username=CLERK,
            email="gk.cykl@example.pl",
            password=PASSWORD,
            role="clerk",
            first_name="Anna",
            last_name="Geodetka",
        )
        staff_add(clerk, office, OfficeUnit.objects.get(office=office, code="GK"))
        return surveyor, clerk, old_account, counters

    surveyor, clerk, old_account, counters = committed(make)
    yield {"surveyor": surveyor, "clerk": clerk, "queued": queued, "tmp": tmp_path}

    def remove():
        from django.db import connection

        from layers.models import ImportJob, RegistryHistory
        from services.cases.models import Case
        from services.offices.models import StaffMembership
        from services.surveys.models import Package, Results
        from tests.conftest import DEMO_PARCELS, DEMO_SEED

        cases = list(Case.objects.filter(submission__user=surveyor).values_list("pk", "sign"))
        case_ids, signs = [pk for pk, _s in cases], [s for _pk, s in cases]
        accepted = Results.objects.filter(case_id__in=case_ids, status="accepted").exists()
        Results.objects.filter(case_id__in=case_ids).delete()
        Package.objects.filter(case_id__in=case_ids).delete()
        with connection.cursor() as cur:  # the access log is append-only: its trigger off for this only
            cur.execute("ALTER TABLE layers_restrictedaccesslog DISABLE TRIGGER USER")
            try:
                cur.execute("DELETE FROM layers_restrictedaccesslog WHERE case_sign = ANY(%s)", [signs])
            finally:
                cur.execute("ALTER TABLE layers_restrictedaccesslog ENABLE TRIGGER USER")
        remove_user_and_filings(surveyor)
        StaffMembership.objects.filter(user=clerk).delete()
        remove_user_and_filings(clerk)
        office = Office.objects.get(code=COUNTY)
        Office.objects.filter(pk=office.pk).update(fee_account=old_account)
        for counter in FeeDocumentCounter.objects.filter(office=office):
            if counter.pk in counters:
                FeeDocumentCounter.objects.filter(pk=counter.pk).update(last=counters[counter.pk])
            else:
                counter.delete()
        if accepted:  # the registry as the session's demo_data fixture left it
            from layers.demo.loader import load_demo

            RegistryHistory.objects.filter(recorded_at__gte=started).delete()
            ImportJob.objects.filter(created_at__gte=started).delete()
            load_demo(DEMO_PARCELS, DEMO_SEED, replace=True)

    committed(remove)


def _wfs_ids(live_url: str, area) -> set[str]:
    x0, y0, x1, y1 = area.extent
    query = urllib.parse.urlencode(
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "TYPENAMES": "dzialki",
            "BBOX": f"{y0},{x0},{y1},{x1},urn:ogc:def:crs:EPSG::2180",  # northing first
        }
    )
    with urllib.request.urlopen(f"{live_url}/ows?{query}", timeout=30) as r:  # noqa: S310 (loopback)
        assert r.status == 200
        text = r.read().decode()
    return set(re.findall(r">(\d{6}_\d\.\d{4}\.[\d/]+)<", text))


def test_the_surveyors_cycle_from_notification_to_the_register(browser, live_url, people, site):
    from services.cases.models import Case
    from services.payments.models import Payment
    from services.signatures import trust
    from services.signatures.verify import verify_file
    from services.surveys import actions
    from services.surveys.models import Package, Results
    from services.surveys.results import results_apply, results_check
    from tests.surveys.test_results import changed_gml

    surveyor, clerk = people["surveyor"], people["clerk"]
    home_ctx = browser.new_context(viewport=DESKTOP, locale="pl-PL", accept_downloads=True)
    office_ctx = browser.new_context(viewport=DESKTOP, locale="pl-PL")
    try:
        # the surveyor files the notification; the work area typed as WKT (EPSG:2180)
        home = home_ctx.new_page()
        login(home, live_url, surveyor.username, PASSWORD, "/uslugi/zgloszenie-prac/")
        assert home.input_value("#id_licence_no") == "24680"
        home.select_option("#id_purpose", "podzial")
        home.fill("#id_end_date", "2027-06-30")
        for field, value in (("#id_postal_code", "05-500"), ("#id_locality", "Piaseczno")):
            if home.locator(field).count() and not home.input_value(field):
                home.fill(field, value)
        home.fill("#id_work_area", site["area"].wkt)
        page_ok(home, "survey-notification-form")
        with home.expect_navigation():
            home.locator("button[name=action][value=submit]").click()
        assert "/wnioski/" in home.url, home.locator(".error-summary").all_text_contents()
        page_ok(home, "survey-notification-filed")
        case = committed(lambda: Case.objects.get(submission__user=surveyor))
        assert re.fullmatch(r"GK\.6640\.\d+\.\d{4}", case.sign) and case.location.covers(
            site["area"].centroid
        )

        # the county clerk: the DOO on the case page, then the bank transfer paying it
        office = office_ctx.new_page()
        login(office, live_url, clerk.username, PASSWORD, f"/urzad/sprawy/{case.pk}/")
        office.fill("#ll1", "udostępnienie materiałów zasobu (art. 40a Pgik)")
        office.fill("#lq1", "1")
        office.fill("#lp1", "50,00")
        with office.expect_navigation():
            office.locator("button[data-action=fee]").click()
        assert office.get_by_test_id("case-error").count() == 0, office.get_by_test_id(
            "case-error"
        ).inner_text()
        form = office.get_by_test_id("transfer-form")
        form.locator("input[name=reference]").fill("PKO BP wyciąg 3/2026, Ewa Mierniczy")
        page_ok(office, "survey-case-fee-issued")
        with office.expect_navigation():
            form.locator("button[data-action=transfer]").click()
        page_ok(office, "survey-case-fee-paid")
        payment = committed(lambda: Payment.objects.get(document__case_id=case.pk))
        assert payment.status == "paid" and payment.paid_via == "transfer"

        # the payment hook asked for the package (queued once); the build, as the Celery task does it
        pkg = committed(lambda: Package.objects.get(case_id=case.pk))
        assert people["queued"] == [str(pkg.pk)] and pkg.kerg == case.sign
        assert committed(lambda: actions.package_build(pkg.pk)) == "ready"

        # the surveyor: "My case" → the package downloaded, checked by the portal's verifier
        home.goto(f"{live_url}/moje-sprawy/{case.pk}/")
        panel = home.get_by_test_id("survey-package")
        assert panel.get_attribute("data-state") == "ready"
        page_ok(home, "survey-my-case-package")
        with home.expect_download() as got:
            home.get_by_test_id("survey-package-download").click()
        assert got.value.suggested_filename == f"{case.sign}.asice"
        data = Path(got.value.path()).read_bytes()
        trust.forget()
        try:
            report = committed(lambda: verify_file(data, f"{case.sign}.asice").as_dict())
        finally:
            trust.forget()
        assert report["format"] == "ASiC-E" and report["indication"] == "TOTAL_PASSED", report

        # the surveyor hands in the changed GML (the parcel divided in two) from "My case"
        gml = people["tmp"] / "wyniki.gml"
        gml.write_bytes(committed(lambda: changed_gml(people["tmp"], site)))
        home.set_input_files("#id_results_gml", str(gml))
        with home.expect_navigation():
            home.get_by_test_id("results-form").locator("button[type=submit]").click()
        assert home.url.endswith(f"/moje-sprawy/{case.pk}/")
        assert home.get_by_test_id("results-status").get_attribute("data-status") == "checking"
        assert home.get_by_test_id("results-busy").count() == 1
        res_pk = committed(lambda: Results.objects.get(case_id=case.pk).pk)
        assert people["queued"][-1] == f"check {res_pk}"
        assert committed(lambda: results_check(res_pk)) == "checked"  # the job, as Celery runs it
        home.reload()
        assert home.get_by_test_id("results-status").get_attribute("data-status") == "checked"
        page_ok(home, "survey-my-case-results")

        # the county clerk reviews: one parcel retired, two new; accepts
        office.goto(f"{live_url}/urzad/prace/{case.sign}/")
        retired = office.get_by_test_id("diff-retired").locator("tbody tr")
        new = office.get_by_test_id("diff-new").locator("tbody tr")
        assert retired.count() == 1 and site["parcel"] in retired.first.inner_text()
        new_ids = sorted(row.locator("td.mono").inner_text().strip() for row in new.all())
        assert len(new_ids) == 2 and [i.rsplit("/", 1)[1] for i in new_ids] == ["91", "92"], new_ids
        assert office.get_by_test_id("map-before").count() == office.get_by_test_id("map-after").count() == 1
        page_ok(office, "survey-review")
        with office.expect_navigation():
            office.get_by_test_id("review-accept").locator("button[type=submit]").click()
        assert office.get_by_test_id("review-status").get_attribute("data-status") == "applying"
        assert people["queued"][-1] == f"apply {res_pk}"
        assert committed(lambda: results_apply(res_pk)) == "accepted"  # the job, as Celery runs it
        office.reload()
        assert office.get_by_test_id("review-status").get_attribute("data-status") == "accepted"
        page_ok(office, "survey-review-accepted")
        assert committed(lambda: Results.objects.get(case_id=case.pk, status="accepted").decided_by_id) == (
            clerk.pk
        )

        # the live server's WFS: the two new parcels served, the divided one not
        served = _wfs_ids(live_url, site["area"])
        assert set(new_ids) <= served and site["parcel"] not in served, served
    finally:
        home_ctx.close()
        office_ctx.close()
