"""Issued documents in a real browser (Debian's Chromium via Playwright, desktop 1366×900, pl-PL).

1. A citizen orders a cadastral map extract (wyrys, electronic, one small parcel), pays on the sandbox
   gateway; the request page says the document is being prepared; the recorded job runs (as the Celery
   worker would); the page then lists the sealed PDF, which the citizen downloads through the page.
2. Anyone checks the printed code at /verify/<code>, downloads the original, and checks copies: the
   downloaded file is genuine, the same file with one byte changed is altered, a PDF made on the spot is
   unknown.
3. A gmina clerk reviews a zoning certificate prepared for a fee-exempt request (housing construction),
   previews the draft, types a text and issues it; the citizen sees it; the clerk issues a correction,
   and the public check of the first says which document replaces it.

axe-core (WCAG 2.1 A/AA) runs on the request page with a document, the public check of a document, the
copy-check result and the clerk's case page with a prepared job. Everything committed is removed
afterwards and every table holds as many rows as before. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import expect

from .helpers import ARTIFACTS, CHROMIUM, committed, remove_cases, remove_user_and_filings

PASSWORD = "x-Documents-2026!"
CITIZEN = "e2e.wnioskodawca"
CLERK = "e2e.urbanistka"
COUNTY = "sp-piaseczno"
GMINA = "um-piaseczno"
FEE_ACCOUNT = "PL61109010140000071219812874"
A4_AT_1000_M = (150.0, 180.0)  # a parcel's bbox under this may fit A4 at 1:1000 (frame 182 × 203 mm)
DESKTOP = {"width": 1366, "height": 900}
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


# ------------------------------------------------------------------ helpers


def _pl(msgid: str, **values) -> str:
    """What a Polish page shows for msgid (the msgid itself while its translation is missing)."""
    from django.utils import translation

    with translation.override("pl"):
        text = translation.gettext(msgid)
    return text % values if values else text


def _label(choice) -> str:
    """A model choice's label as a Polish page shows it."""
    from django.utils import translation

    with translation.override("pl"):
        return str(choice.label)


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


def _small_parcel() -> str:
    """A parcel whose map extract fits A4 at 1:1000 (as services.documents.mapextract plans it): of unit
    141804_5 if one does; the demo's rural parcels are strips 35–150 m wide and 680 m or more long, so
    in practice one of the town (141804_4). The bbox in EPSG:2180 sifts the candidates first."""
    from layers.models import Parcel
    from services.documents import mapextract

    for unit in ("141804_5", "141804_4"):
        parcels = Parcel.objects.current().filter(precinct__unit__unit_id=unit).order_by("parcel_id")
        for parcel in parcels.only("parcel_id", "geom").iterator():
            x0, y0, x1, y1 = parcel.geom.extent
            if x1 - x0 < A4_AT_1000_M[0] and y1 - y0 < A4_AT_1000_M[1]:
                layout = mapextract.plan(mapextract.MapExtractRequest((parcel.parcel_id,)))
                if layout.sheet.paper == "A4" and layout.scale <= 1000:
                    return parcel.parcel_id
    raise AssertionError("no parcel fits A4 at 1:1000")


def _file(page, live_url: str, service: str, parcel_id: str, fill) -> str:
    """An e-form filed through the browser (the parcel prefilled from ?parcels= and kept by the map
    picker); returns the request page's URL."""
    page.goto(f"{live_url}/uslugi/{service}/?parcels={parcel_id}")
    page.wait_for_function(f"() => document.getElementById('id_parcels').value.includes('{parcel_id}')")
    fill(page)
    page.fill("#id_pesel", "44051401359")
    page.fill("#id_postal_code", "05-500")
    page.fill("#id_locality", "Piaseczno")
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_url("**/wnioski/**")
    return page.url


def _pay_on_sandbox(page) -> None:
    """From the request page: pay, choose the sandbox, succeed, come back paid."""
    page.get_by_test_id("go-pay").click()
    page.wait_for_url("**/platnosci/*/")
    page.check("input[name=provider][value=sandbox]")
    page.get_by_test_id("pay").click()
    page.wait_for_url("**/platnosci/sandbox/*/?s=*")
    page.get_by_test_id("sandbox-success").click()
    page.wait_for_url("**/platnosci/*/powrot/?a=*")


def _altered(pdf: bytes) -> bytes:
    """The PDF with one byte changed near its middle, inside a content stream (the file still parses,
    so the check finds the seal and sees the signed bytes changed)."""
    middle = len(pdf) // 2
    spans = [(m.end(), pdf.index(b"endstream", m.end())) for m in re.finditer(rb"[^d]stream\r?\n", pdf)]
    around = [s for s in spans if s[0] <= middle < s[1] - 2] or [s for s in spans if s[0] > middle]
    assert around, "no content stream in the second half"
    start, end = around[0]
    i = max(middle, start + 1)
    assert i < end - 1
    edited = bytearray(pdf)
    edited[i] ^= 0x01
    return bytes(edited)


def _foreign_pdf() -> bytes:
    """A PDF made here and now with WeasyPrint: looks like a document, carries no seal of ours."""
    import weasyprint

    html = "<h1>Wyrys z mapy ewidencyjnej</h1><p>Dokument wystawiony przez Starostwo Powiatowe.</p>"
    return weasyprint.HTML(string=html).write_pdf()


def _check_copy(page, live_url: str, code: str, name: str, data: bytes) -> str:
    """Upload a file in the copy form of /verify/<code> and return the verdict the page states."""
    page.goto(f"{live_url}/verify/{code}")
    page.set_input_files("#id_copy", files=[{"name": name, "mimeType": "application/pdf", "buffer": data}])
    page.locator('form[action$="/kopia"] button[type=submit]').click()
    page.wait_for_url(f"**/verify/{code}/kopia")
    return page.get_by_test_id("copy-verdict").get_attribute("data-verdict")


def _pdf_page_mm(data: bytes) -> tuple[int, int]:
    """The first page's size in whole millimetres."""
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        return round(float(page.width) * 25.4 / 72), round(float(page.height) * 25.4 / 72)


def _pdf_text(data: bytes) -> str:
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in pdf.pages))


# ------------------------------------------------------------------ fixtures


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
def offices_kept(live_url, nothing_left, settings):
    """The county needs an account for fees (set, committed, restored afterwards); the counters of
    both offices (cases, fee documents, issued documents) are put back as they were. The sandbox
    gateway is on."""
    from services.cases.models import CaseCounter
    from services.documents.models import DocumentCounter
    from services.offices.models import Office
    from services.payments.models import FeeDocumentCounter

    settings.GISPORTAL_PAYMENT_PROVIDERS = ("sandbox",)
    counter_models = (CaseCounter, DocumentCounter, FeeDocumentCounter)

    def setup():
        offices = list(Office.objects.filter(code__in=[COUNTY, GMINA]))
        saved = {
            m: dict(m.objects.filter(office__in=offices).values_list("pk", "last")) for m in counter_models
        }
        county = next(o for o in offices if o.code == COUNTY)
        old = county.fee_account
        Office.objects.filter(pk=county.pk).update(fee_account=FEE_ACCOUNT)
        return offices, county, old, saved

    offices, county, old, saved = committed(setup)
    yield

    def restore():
        """After the users' clean-up (remove_cases has given the case numbers back)."""
        Office.objects.filter(pk=county.pk).update(fee_account=old)
        for model, lasts in saved.items():
            for pk in model.objects.filter(office__in=offices).values_list("pk", flat=True):
                if pk in lasts:
                    model.objects.filter(pk=pk).update(last=lasts[pk])
                else:
                    model.objects.filter(pk=pk).delete()

    committed(restore)


def _remove_cases_of(username: str) -> None:
    """The committed cases of this citizen with their payments and documents (documents name the
    clerk who issued them: this runs before the clerk is removed too)."""
    from services.cases.models import Case
    from services.documents.models import DocumentJob, IssuedDocument

    cases = Case.objects.filter(submission__user__username=username)
    # corrections first: an issued document's `replaces` is PROTECT, which remove_cases (one delete of
    # all the documents of the cases) trips over
    DocumentJob.objects.filter(case_id__in=cases.values("pk")).delete()
    corrections = IssuedDocument.objects.filter(case_id__in=cases.values("pk"), replaces__isnull=False)
    with connection.cursor() as cur:
        cur.execute("ALTER TABLE documents_issueddocument DISABLE TRIGGER USER")
        try:
            for doc in corrections.order_by("-issued_at"):
                doc.delete()
        finally:
            cur.execute("ALTER TABLE documents_issueddocument ENABLE TRIGGER USER")
    remove_cases(cases)


@pytest.fixture
def citizen(live_url, offices_kept):
    """A committed citizen, removed afterwards with everything filed, paid and issued (the
    immutability triggers are switched off for that clean-up only)."""
    from gisportal.core.models import User

    user = committed(
        lambda: User.objects.create_user(
            username=CITIZEN,
            email="e2e.wnioskodawca@example.pl",
            password=PASSWORD,
            role="citizen",
            first_name="Jan",
            last_name="Dokumentowy",
        )
    )
    yield user
    committed(lambda: _remove_citizen(user))


def _remove_citizen(user) -> None:
    _remove_cases_of(user.username)
    remove_user_and_filings(user)


@pytest.fixture
def clerk(live_url, offices_kept):
    """A committed clerk of the gmina's planning unit (UiA), removed afterwards."""
    from gisportal.core.models import User
    from services.offices.actions import staff_add
    from services.offices.models import Office, OfficeUnit

    def make():
        user = User.objects.create_user(
            username=CLERK,
            email="e2e.urbanistka@example.pl",
            password=PASSWORD,
            role="clerk",
            first_name="Ewa",
            last_name="Urbanistka",
        )
        office = Office.objects.get(code=GMINA)
        staff_add(user, office, OfficeUnit.objects.get(office=office, code="UiA"))
        return user

    user = committed(make)
    yield user

    def remove():
        from axes.models import AccessLog

        from services.offices.models import StaffMembership

        _remove_cases_of(CITIZEN)
        StaffMembership.objects.filter(user=user).delete()
        User.objects.filter(pk=user.pk).delete()
        AccessLog.objects.filter(username=user.username).delete()

    committed(remove)


# ------------------------------------------------------------------ the journeys


def test_a_paid_map_extract_is_issued_downloaded_and_checked_by_anyone(
    browser, live_url, offices_kept, citizen, document_jobs_queued
):
    from services.documents.actions import job_run
    from services.documents.models import DocumentJob, IssuedDocument

    violations: dict[str, list[dict]] = {}
    parcel = _small_parcel()
    page = browser.new_context(viewport=DESKTOP, locale="pl-PL").new_page()
    _login(page, live_url, CITIZEN)

    def wyrys(p):
        p.check("input[name=variant][value=wyrys]")
        p.check("input[name=form][value=electronic]")

    request_url = _file(page, live_url, "wypis-wyrys-egib", parcel, wyrys)
    _pay_on_sandbox(page)

    # paid: the map extract is being prepared (its job queued, recorded here instead of sent to Celery)
    job = DocumentJob.objects.get(owner=citizen)
    assert job.kind == "egib_wyrys" and job.automatic and job.status == "queued"
    assert document_jobs_queued == [str(job.pk)]
    page.goto(request_url)
    listed = _text(page.get_by_test_id("submission-documents"))
    assert _pl("being prepared (%(p)s %%)", p=0) in listed
    assert page.get_by_test_id("document-link").count() == 0
    _shot(page, "documents-request-preparing")

    # the worker's run, then the page lists the sealed document
    assert committed(lambda: job_run(str(job.pk))) == "issued"
    page.goto(request_url)
    doc = IssuedDocument.objects.get(owner=citizen)
    pdf = bytes(doc.pdf)
    assert (
        doc.kind == "egib_wyrys" and doc.issued_by is None and hashlib.sha256(pdf).hexdigest() == doc.sha256
    )
    assert sorted(_pdf_page_mm(pdf)) == [210, 297]  # A4: the parcel was chosen to fit it
    link = page.get_by_test_id("document-link")
    expect(link).to_have_count(1)
    assert _text(link) == doc.title and doc.number in _text(page.get_by_test_id("submission-documents"))
    assert page.locator("head meta[http-equiv=refresh]").count() == 0  # nothing left to wait for
    violations["request_with_document"] = _axe(page)
    _shot(page, "documents-request-issued")

    # following the link with the citizen's session: Chromium shows the PDF in its viewer (inline), so
    # the bytes are taken as they pass through the page's request
    got: list = []

    def through(route):
        response = route.fetch()
        got.append((response.status, response.headers.get("content-type"), response.body()))
        route.fulfill(response=response)

    href = link.get_attribute("href")
    page.route(live_url + href, through)
    link.click()
    page.wait_for_url(live_url + href)
    page.unroute(live_url + href)
    assert [(status, kind) for status, kind, _body in got] == [(200, "application/pdf")]
    downloaded = got[0][2]
    assert downloaded.startswith(b"%PDF") and downloaded == pdf

    # anyone: the public check of the code, the original, copies
    anon_context = browser.new_context(viewport=DESKTOP, locale="pl-PL")
    anon = anon_context.new_page()
    assert anon.request.get(f"{live_url}/dokumenty/{doc.pk}.pdf", max_redirects=0).status == 302  # to login
    anon.goto(f"{live_url}/verify/{doc.verification_code}")
    shown = anon.get_by_test_id("issued-document")
    expect(shown).to_be_visible()
    assert doc.number in _text(shown) and doc.sha256 in _text(shown) and doc.office.name in _text(shown)
    violations["verify"] = _axe(anon)
    _shot(anon, "documents-verify")
    original = anon.request.get(live_url + shown.locator("a[href$='/oryginal.pdf']").get_attribute("href"))
    assert original.ok and original.headers["content-type"] == "application/pdf" and original.body() == pdf

    assert _check_copy(anon, live_url, doc.verification_code, "wyrys.pdf", downloaded) == "genuine"
    assert _pl("The copy is the original document") in _text(anon.get_by_test_id("copy-verdict"))
    violations["copy_genuine"] = _axe(anon)
    _shot(anon, "documents-copy-genuine")
    changed = _altered(downloaded)
    assert changed != downloaded and len(changed) == len(downloaded)
    assert _check_copy(anon, live_url, doc.verification_code, "wyrys-zmieniony.pdf", changed) == "altered"
    violations["copy_altered"] = _axe(anon)
    _shot(anon, "documents-copy-altered")
    assert _check_copy(anon, live_url, doc.verification_code, "cudzy.pdf", _foreign_pdf()) == "unknown"
    _shot(anon, "documents-copy-unknown")

    # a code nobody was given
    wrong = "A" * 24 if doc.verification_code != "A" * 24 else "B" * 24
    assert anon.goto(f"{live_url}/verify/{wrong}").status == 404
    assert anon.get_by_test_id("issued-document").count() == 0
    anon_context.close()

    bad = {name: found for name, found in violations.items() if found}
    assert bad == {}, json.dumps(bad, ensure_ascii=False, indent=1)


def test_a_clerk_issues_a_certificate_and_its_correction(
    browser, live_url, offices_kept, citizen, clerk, document_jobs_queued
):
    from services.cases.models import Case
    from services.documents.actions import job_run
    from services.documents.models import DocumentJob, IssuedDocument

    violations: dict[str, list[dict]] = {}
    parcel = _small_parcel()
    page = browser.new_context(viewport=DESKTOP, locale="pl-PL").new_page()
    _login(page, live_url, CITIZEN)

    def exempt_certificate(p):
        p.fill("#id_purpose", "Budowa domu jednorodzinnego")
        p.check("#id_housing_exemption")

    request_url = _file(page, live_url, "zaswiadczenie-mpzp", parcel, exempt_certificate)

    # nothing to pay: the certificate's job exists from the filing, and is prepared for a clerk
    case = Case.objects.select_related("office").get(submission__user=citizen)
    assert case.office.code == GMINA and page.get_by_test_id("go-pay").count() == 0
    job = DocumentJob.objects.get(owner=citizen)
    assert job.kind == "zoning_certificate" and not job.automatic and document_jobs_queued == [str(job.pk)]
    assert committed(lambda: job_run(str(job.pk))) == "prepared"
    page.goto(request_url)
    assert _pl("prepared; the office is reviewing it") in _text(page.get_by_test_id("submission-documents"))

    # the clerk: the prepared job, its draft, a text, issue
    staff = browser.new_context(viewport=DESKTOP, locale="pl-PL").new_page()
    case_path = f"/urzad/sprawy/{case.pk}/"
    _login(staff, live_url, CLERK, case_path)
    staff.wait_for_url(f"**{case_path}")
    jobs = staff.get_by_test_id("case-jobs")
    assert _text(jobs.get_by_test_id("job-status")) == _label(DocumentJob.Status.PREPARED)
    violations["case_prepared_job"] = _axe(staff)
    _shot(staff, "documents-case-prepared")
    preview = staff.request.get(
        live_url + jobs.locator(f"a[href$='/{job.pk}/podglad.pdf']").get_attribute("href")
    )
    assert preview.ok and preview.headers["content-type"] == "application/pdf"
    assert preview.body().startswith(b"%PDF")
    assert not IssuedDocument.objects.filter(owner=citizen).exists()  # a preview issues nothing

    words = "Zaświadczenie wydaje się na potrzeby budowy domu."
    jobs.locator(f"#ft_{job.pk}").fill(words)
    jobs.locator("button[data-action=issue]").click()
    staff.wait_for_url(f"**{case_path}")
    first = IssuedDocument.objects.get(owner=citizen)
    assert first.kind == "zoning_certificate" and first.issued_by_id == clerk.pk
    assert words in _pdf_text(bytes(first.pdf))
    assert _text(jobs.get_by_test_id("job-status")) == _label(DocumentJob.Status.ISSUED)
    assert first.number in _text(jobs)
    _shot(staff, "documents-case-issued")

    # the citizen's request page lists it
    page.goto(request_url)
    expect(page.get_by_test_id("document-link")).to_have_count(1)
    assert first.number in _text(page.get_by_test_id("submission-documents"))

    # a correction: prepared for the clerk, issued, naming the first
    jobs.get_by_role("button", name=_pl("Issue a correction")).click()
    staff.wait_for_url(f"**{case_path}")
    correction = DocumentJob.objects.get(replaces=first)
    assert correction.status == "prepared"
    assert _pl("a correction of %(number)s", number=first.number) in _text(jobs)
    jobs.locator(f"#ft_{correction.pk}").fill("Korekta: poprawiony cel wydania.")
    jobs.locator("button[data-action=issue]").click()
    staff.wait_for_url(f"**{case_path}")
    second = IssuedDocument.objects.get(replaces=first)
    assert second.number != first.number and second.issued_by_id == clerk.pk
    assert [_text(s) for s in jobs.get_by_test_id("job-status").all()] == [
        _label(DocumentJob.Status.ISSUED)
    ] * 2
    _shot(staff, "documents-case-corrected")
    page.goto(request_url)
    expect(page.get_by_test_id("document-link")).to_have_count(2)

    # the public check of the first names the one replacing it, and the second the one it replaces
    anon_context = browser.new_context(viewport=DESKTOP, locale="pl-PL")
    anon = anon_context.new_page()
    anon.goto(f"{live_url}/verify/{first.verification_code}")
    facts = _text(anon.get_by_test_id("issued-document"))
    assert f"{_pl('Replaced by')} {second.number}" in facts
    _shot(anon, "documents-verify-replaced")
    anon.goto(f"{live_url}/verify/{second.verification_code}")
    facts = _text(anon.get_by_test_id("issued-document"))
    assert f"{_pl('Replaces')} {first.number}" in facts and _pl("Replaced by") not in facts
    anon_context.close()

    bad = {name: found for name, found in violations.items() if found}
    assert bad == {}, json.dumps(bad, ensure_ascii=False, indent=1)
