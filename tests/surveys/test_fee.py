"""The fee of a work notification (issue 26): per material chosen, the county's base rate × units (started
hectares of the work area, parcels in it, or the work) × coefficients, each amount rounded to 10 gr; the
DOO issued at filing when the county has rates for every material chosen, by the clerk otherwise; the
package holds only what was chosen (and paid for)."""

from __future__ import annotations

import uuid
import zipfile
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from gisportal.core.errors import InvalidInput
from services.cases.actions import case_fee_issue
from services.cases.models import Case
from services.forms.actions import submission_file
from services.forms.models import ServiceDefinition, Submission
from services.offices.models import Office
from services.payments.actions import material_rate_set
from services.payments.fees import FeeRequest, Rate, quote
from services.payments.models import MaterialRate, Payment
from services.surveys import package

from .test_package import APPLICANT, county, county_clerk, few_parcels, queued, surveyor  # noqa: F401

pytestmark = pytest.mark.django_db
D = Decimal
RATES = (
    Rate("egib", "dane EGiB", "ha", D("45.00")),
    Rate("warstwy", "warstwy", "ha", D("20.00"), D("0.8")),
    Rate("mapa", "mapa", "work", D("30.00")),
    Rate("punkty", "punkty", "parcel", D("3.33")),
)


def _q(area_m2, materials, rates=RATES, parcels=7):
    return quote(
        FeeRequest(
            rule="pgik_materials",
            area_m2=None if area_m2 is None else D(area_m2),
            materials=tuple(materials),
            rates=tuple(rates),
            parcels=parcels,
        )
    )


# ------------------------------------------------------------------ the computation
def test_rate_times_units_times_coefficients_per_material():
    q = _q("23000", ["egib", "warstwy", "mapa", "punkty"])  # 2.3 ha: 3 started hectares
    assert q.final and q.kind == "pgik"
    got = [(li.label, li.quantity, li.unit_price, li.amount) for li in q.lines]
    assert got == [
        ("dane EGiB", 3, D("45.00"), D("135.00")),
        ("warstwy", 3, D("16.00"), D("48.00")),  # 20 zł × 0.8
        ("mapa", 1, D("30.00"), D("30.00")),
        ("punkty", 7, D("3.33"), D("23.30")),  # 23.31 rounded to 10 gr
    ]
    assert q.total == D("236.30") and "2,3000 ha" in q.notes[0]


@pytest.mark.parametrize(
    ("area", "hectares"), [("1", 1), ("10000", 1), ("10000.01", 2), ("19999", 2), ("500000", 50)]
)
def test_started_hectares(area, hectares):
    assert _q(area, ["egib"]).lines[0].quantity == hectares


def test_rounding_to_10_grosze_half_up():
    assert _q("10000", ["egib"], rates=[Rate("egib", "e", "ha", D("12.35"))]).total == D("12.40")
    assert _q("10000", ["egib"], rates=[Rate("egib", "e", "ha", D("12.34"))]).total == D("12.30")


def test_only_the_materials_chosen_are_priced():
    q = _q("5000", ["mapa"])
    assert [li.label for li in q.lines] == ["mapa"] and q.total == D("30.00")


def test_without_a_rate_for_a_chosen_material_or_the_area_the_starosta_sets_it():
    assert not _q("5000", ["egib", "mapa"], rates=RATES[:1]).final  # no rate for the map
    assert _q("5000", ["egib", "mapa"], rates=RATES[:1]).total is None
    assert not _q(None, ["egib"]).final
    assert not _q("5000", ["egib"], rates=()).final


# ------------------------------------------------------------------ filing
@pytest.fixture
def rates(county):  # noqa: F811
    start = timezone.localdate() - timedelta(days=30)
    for material, unit, rate in (("egib", "ha", "45"), ("warstwy", "ha", "20"), ("mapa", "work", "30")):
        material_rate_set(
            office=county,
            material=material,
            unit=unit,
            base_rate=D(rate),
            valid_from=start,
            label=f"{material}",
        )
    # next year's rate is not in force yet
    material_rate_set(
        office=county,
        material="egib",
        unit="ha",
        base_rate=D("99"),
        valid_from=timezone.localdate() + timedelta(days=1),
        label="egib 2",
    )
    return county


def _file(surveyor, few_parcels, materials, key=None):  # noqa: F811
    service = ServiceDefinition.objects.get(code="zgloszenie-prac", active=True)
    data = {
        **APPLICANT,
        "parcels": few_parcels["ids"],
        "licence_no": "12345",
        "purpose": "podzial",
        "materials": materials,
        "end_date": "2027-03-01",
        "work_area": few_parcels["area"].wkt,
    }
    sub = submission_file(service, data, user=surveyor, idempotency_key=key or str(uuid.uuid4()))
    return Case.objects.get(submission=sub)


def test_the_doo_is_issued_at_filing_from_the_county_rates(rates, surveyor, few_parcels):  # noqa: F811
    case = _file(surveyor, few_parcels, ["egib", "mapa"])
    payment = Payment.objects.get(document__case_id=case.pk)
    doc = payment.document
    hectares = -(-int(few_parcels["area"].area) // 10000) or 1
    assert doc.kind == "doo" and doc.office.code == "sp-piaseczno"
    assert [(li["label"], li["quantity"]) for li in doc.lines] == [("egib", hectares), ("mapa", 1)]
    assert payment.amount == D(45 * hectares + 30)  # today's egib rate, not next year's
    case.refresh_from_db()
    assert case.state == "payment_due"


def test_without_rates_nothing_is_issued_and_the_clerk_gets_a_clear_refusal(
    county,  # noqa: F811
    county_clerk,  # noqa: F811
    surveyor,  # noqa: F811
    few_parcels,  # noqa: F811
):
    case = _file(surveyor, few_parcels, ["egib"])
    assert not Payment.objects.filter(document__case_id=case.pk).exists()
    with translation.override("en"), pytest.raises(InvalidInput, match="no rates"):
        case_fee_issue(case.pk, actor=county_clerk, key="x")
    assert not Payment.objects.filter(document__case_id=case.pk).exists()


def test_a_chosen_material_without_a_rate_leaves_the_doo_to_the_clerk(rates, surveyor, few_parcels):  # noqa: F811
    case = _file(surveyor, few_parcels, ["egib", "punkty"])  # no rate for the points in this county
    assert not Payment.objects.filter(document__case_id=case.pk).exists()


def test_an_unknown_material_is_refused_and_nothing_is_stored(rates, surveyor, few_parcels):  # noqa: F811
    from services.forms.validation import FormInvalid

    before = Submission.objects.count()
    with pytest.raises(FormInvalid):
        _file(surveyor, few_parcels, ["egib", "../../etc"])
    with pytest.raises(FormInvalid):
        _file(surveyor, few_parcels, [])
    assert Submission.objects.count() == before


def test_the_receipt_page_shows_the_computed_fee(client, rates, surveyor, few_parcels):  # noqa: F811
    case = _file(surveyor, few_parcels, ["mapa"])
    client.force_login(surveyor)
    page = client.get(f"/wnioski/{case.submission_id}/")
    assert page.status_code == 200
    assert "30,00" in page.content.decode()


# ------------------------------------------------------------------ the form page
def test_the_form_offers_the_materials_as_ticked_boxes(client, surveyor):  # noqa: F811
    client.force_login(surveyor)
    html = client.get("/uslugi/zgloszenie-prac/").content.decode()
    for m in ("egib", "warstwy", "mapa", "punkty"):
        assert f'type="checkbox" name="materials" value="{m}"' in html
    assert html.count('name="materials"') == 4 and html.count("checked") >= 4


def test_the_form_post_keeps_each_ticked_box(client, rates, surveyor, few_parcels):  # noqa: F811
    client.force_login(surveyor)
    service = ServiceDefinition.objects.get(code="zgloszenie-prac", active=True)
    r = client.post(
        "/uslugi/zgloszenie-prac/",
        {
            "version": service.version,
            "idempotency_key": str(uuid.uuid4()),
            "action": "submit",
            **APPLICANT,
            "parcels": "\n".join(few_parcels["ids"]),
            "purpose": "podzial",
            "materials": ["warstwy", "mapa"],
            "end_date": "2027-03-01",
            "work_area": few_parcels["area"].wkt,
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    sub = Submission.objects.filter(user=surveyor).latest("submitted_at")
    assert sub.data["materials"] == ["warstwy", "mapa"]


# ------------------------------------------------------------------ the package follows the choice
def test_the_package_holds_only_the_materials_chosen(rates, surveyor, few_parcels, settings, tmp_path):  # noqa: F811
    case = _file(surveyor, few_parcels, ["mapa"])
    case = Case.objects.select_related("submission", "office").get(pk=case.pk)
    assert package.materials_of(case) == ("mapa",)
    from services.surveys.actions import _title

    out, contents = package.build(
        tmp_path, case=case, surveyor=surveyor, title=_title(case, timezone.now()), progress=lambda n: None
    )
    names = set(zipfile.ZipFile(out).namelist()) - {
        "mimetype",
        "META-INF/ASiCManifest.xml",
        "META-INF/signature.p7s",
    }
    assert names == {"mapa.pdf", "dzialki.csv"} and contents["materials"] == ["mapa"]


def test_older_notifications_without_a_choice_get_everything():
    from types import SimpleNamespace

    older = SimpleNamespace(submission_id=1, submission=SimpleNamespace(data={"purpose": "podzial"}))
    assert package.materials_of(older) == ("egib", "warstwy", "mapa", "punkty")
    assert package.materials_of(SimpleNamespace(submission_id=None)) == ("egib", "warstwy", "mapa", "punkty")


# ------------------------------------------------------------------ configuration
def test_rates_only_for_a_county_and_sane(county):  # noqa: F811
    gmina = Office.objects.exclude(kind="county").first()
    day = timezone.localdate()
    with translation.override("en"), pytest.raises(InvalidInput, match="county"):
        material_rate_set(office=gmina, material="egib", unit="ha", base_rate=D(1), valid_from=day, label="x")
    for bad in (
        {"material": "wszystko"},
        {"unit": "km"},
        {"base_rate": D(0)},
        {"coefficient": D("-1")},
        {"label": " "},
    ):
        kw = {"material": "egib", "unit": "ha", "base_rate": D(1), "label": "x", **bad}
        with pytest.raises(InvalidInput):
            material_rate_set(office=county, valid_from=day, **kw)
    assert not MaterialRate.objects.exists()


def test_the_command_sets_lists_and_seeds_demo_rates(county):  # noqa: F811
    out = StringIO()
    call_command(
        "fee_rates",
        "set",
        "--office=sp-piaseczno",
        "--material=egib",
        "--unit=ha",
        "--rate=120,34",
        "--from=2027-01-01",
        "--label=dane EGiB",
        stdout=out,
    )
    assert "120.34" in out.getvalue()
    with pytest.raises(CommandError):
        call_command(
            "fee_rates",
            "set",
            "--office=nie-ma",
            "--material=egib",
            "--unit=ha",
            "--rate=1",
            "--from=2027-01-01",
            "--label=x",
        )
    call_command("fee_rates", "demo", stdout=StringIO())  # the county has a rate already: left alone
    assert MaterialRate.objects.filter(office=county).count() == 1
    MaterialRate.objects.all().delete()
    call_command("fee_rates", "demo", stdout=StringIO())
    call_command("fee_rates", "demo", stdout=StringIO())  # idempotent
    assert MaterialRate.objects.filter(office=county).count() == 4
    out = StringIO()
    call_command("fee_rates", "list", stdout=out)
    assert "sp-piaseczno" in out.getvalue() and "punkty" in out.getvalue()
