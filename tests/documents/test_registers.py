"""Register extracts (EGiB wypis) and zoning-plan documents as PDFs: what they state, what the public
variant must never state, and that every read of personal data is logged once per parcel."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pdfplumber
import pytest
from django.db.models import Exists, OuterRef

from gisportal.core.errors import Forbidden, InvalidInput
from layers.models import (
    Parcel,
    RestrictedAccessLog,
    RestrictedLandRegisterEntry,
    RestrictedShare,
    ZoningArea,
)
from layers.selectors import access_log_verify, parcel_zoning
from services.documents import registers, zoning
from services.documents.kinds import TitleBlock

pytestmark = pytest.mark.django_db

CODE = "ABCDEFGHJKLMNPQRSTUVWXYZ"
CASE = "GK.6640.12.2026"
BASIS = "art. 24 ust. 2 pkt 3 PGiK – interes prawny wykazany wnioskiem z 2 marca 2026 r."


def _title(code: str = CODE) -> TitleBlock:
    return TitleBlock(
        office_name="Starostwo Powiatowe w Piasecznie",
        office_address="ul. Chyliczkowska 14, 05-500 Piaseczno",
        kind_label="wypis z rejestru gruntów",
        number="GK.6640.1.2026/W/1",
        case_sign=CASE,
        issued_at=datetime(2026, 3, 2, 10, 15, tzinfo=ZoneInfo("Europe/Warsaw")),
        issued_by="",
        verification_code=code,
        verify_url=f"http://127.0.0.1:8000/verify/{code}" if code else "",
    )


def _text(pdf: bytes) -> str:
    """The PDF's text as pdfplumber reads it, whitespace collapsed (table cells wrap)."""
    assert pdf.startswith(b"%PDF")
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = " ".join(page.extract_text() or "" for page in doc.pages)
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


def _no_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _flat(pdf: bytes) -> str:
    """The PDF's characters in the order they are drawn (WeasyPrint draws in document order, so a
    table cell's wrapped lines stay together, unlike in the position-sorted text), without spaces."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return _no_space("".join(c["text"] for page in doc.pages for c in page.chars).replace("\u00a0", " "))


@pytest.fixture
def owned(demo_data):
    """A current parcel with a KW number and owners with a PESEL in the demo data, and those values."""
    entry = (
        RestrictedLandRegisterEntry.objects.filter(parcel__end_object__isnull=True)
        .filter(
            Exists(
                RestrictedShare.objects.filter(
                    registration_unit=OuterRef("parcel__registration_unit")
                ).exclude(subject__pesel="")
            )
        )
        .select_related("parcel")
        .order_by("parcel__parcel_id")
        .first()
    )
    assert entry is not None, "the demo data holds parcels with KW numbers and owners with a PESEL"
    parcel = entry.parcel
    shares = RestrictedShare.objects.filter(registration_unit=parcel.registration_unit).select_related(
        "subject"
    )
    assert any(s.subject.pesel for s in shares) and any(s.subject.surname for s in shares)
    return {
        "parcel": parcel,
        "kw": [entry.kw_number],
        "names": [s.subject.name for s in shares],
        "surnames": [s.subject.surname for s in shares if s.subject.surname],
        "pesels": [s.subject.pesel for s in shares if s.subject.pesel],
    }


@pytest.fixture
def other_owned(owned):
    """A second current parcel with a KW number (another registration unit)."""
    entry = (
        RestrictedLandRegisterEntry.objects.filter(parcel__end_object__isnull=True)
        .exclude(parcel__registration_unit=owned["parcel"].registration_unit)
        .select_related("parcel")
        .order_by("parcel__parcel_id")
        .first()
    )
    return entry.parcel


@pytest.fixture
def clerk(make_user):
    return make_user("registers_clerk", "clerk", first_name="Anna", last_name="Nowak")


def _zoned_parcel() -> Parcel:
    return (
        Parcel.objects.current()
        .filter(Exists(ZoningArea.objects.filter(geom__intersects=OuterRef("geom"))))
        .order_by("parcel_id")
        .first()
    )


def _unzoned_parcel() -> Parcel:
    return (
        Parcel.objects.current()
        .filter(~Exists(ZoningArea.objects.filter(geom__intersects=OuterRef("geom"))))
        .order_by("parcel_id")
        .first()
    )


# ---------------------------------------------------------------- EGiB wypis
def test_public_wypis_states_the_register_and_no_personal_data(owned):
    parcel = owned["parcel"]
    before = RestrictedAccessLog.objects.count()
    data = registers.wypis_data([parcel.parcel_id], with_personal_data=False)
    pdf = registers.wypis_pdf(data, _title())
    text, flat = _text(pdf), _flat(pdf)

    assert "Wypis z rejestru gruntów" in text and "bez danych osobowych" in text
    assert parcel.parcel_id in text
    area = registers.format_decimal(parcel.area_ha, 4).replace("\u00a0", " ")
    assert f"{area} ha" in text
    for lu in parcel.land_uses.all():
        assert lu.label in text, lu.label
    assert parcel.registration_unit in text
    assert "ABCD EFGH JKLM NPQR STUV WXYZ" in text and CASE in text
    assert re.search(r"strona 1 z \d", text)

    page = registers.wypis_html(data, _title())
    for secret in owned["kw"] + owned["pesels"]:
        assert secret not in flat and secret not in _no_space(text) and secret not in page
    for name in owned["names"] + owned["surnames"]:
        assert _no_space(name) not in flat and name not in text and name not in page
    assert "personal" not in data["parcels"][0]
    assert RestrictedAccessLog.objects.count() == before  # nothing personal was read


def test_public_wypis_data_holds_area_classes_and_buildings(demo_data):
    parcel = Parcel.objects.current().exclude(buildings=None).order_by("parcel_id").first()
    entry = registers.wypis_data(parcel.parcel_id, with_personal_data=False)["parcels"][0]
    assert entry["parcel_id"] == parcel.parcel_id
    assert entry["unit"]["id"] == parcel.precinct.unit.unit_id
    assert entry["precinct"]["id"] == parcel.precinct.precinct_id
    assert entry["area_ha"] == str(parcel.area_ha)
    assert entry["area_m2"] == round(parcel.area_ha * 10000)
    assert sum(float(lu["area_ha"]) for lu in entry["land_uses"]) == pytest.approx(float(parcel.area_ha))
    ids = {b.building_id for b in parcel.buildings.current()}
    assert ids and {b["id"] for b in entry["buildings"]} == ids
    flat = _flat(registers.wypis_pdf({"with_personal_data": False, "parcels": [entry]}, _title()))
    for b in entry["buildings"]:
        assert b["id"] in flat
    for lu in entry["land_uses"]:
        assert _no_space(registers.format_decimal(lu["area_ha"], 4)) in flat


def test_full_wypis_states_owners_and_kw_and_logs_each_parcel_once(owned, other_owned, clerk):
    parcel = owned["parcel"]
    last = RestrictedAccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    data = registers.wypis_data(
        [parcel.parcel_id, other_owned.parcel_id, parcel.parcel_id],  # a repeat is one read
        with_personal_data=True,
        user=clerk,
        case_sign=CASE,
        legal_basis=BASIS,
    )
    pdf = registers.wypis_pdf(data, _title())
    text, flat = _text(pdf), _flat(pdf)

    assert "Wypis z rejestru gruntów" in text and "bez danych osobowych" not in text
    for kw in owned["kw"]:
        assert kw in flat
    for name in owned["names"]:
        assert _no_space(name) in flat
    assert _no_space(BASIS) in flat

    entries = list(RestrictedAccessLog.objects.filter(id__gt=last).order_by("id"))
    assert [e.object_ids for e in entries] == [[parcel.parcel_id], [other_owned.parcel_id]]
    for e in entries:
        assert e.legal_basis == BASIS and e.case_sign == CASE
        assert e.user_id == clerk.pk and e.object_kind == "parcel"
    assert access_log_verify()


def test_full_wypis_refused_without_role_or_basis_leaves_no_log(owned, make_user, clerk):
    pid = owned["parcel"].parcel_id
    citizen = make_user("registers_citizen", "citizen")
    before = RestrictedAccessLog.objects.count()
    with pytest.raises(Forbidden):
        registers.wypis_data([pid], with_personal_data=True, user=citizen, legal_basis=BASIS)
    with pytest.raises(Forbidden):
        registers.wypis_data([pid], with_personal_data=True, user=None, legal_basis=BASIS)
    with pytest.raises(InvalidInput):
        registers.wypis_data([pid], with_personal_data=True, user=clerk, legal_basis="  ")
    with pytest.raises(InvalidInput):  # one unknown parcel: nothing is read, not even the known one
        registers.wypis_data(
            [pid, "141804_5.0001.99999"], with_personal_data=True, user=clerk, legal_basis=BASIS
        )
    assert RestrictedAccessLog.objects.count() == before


@pytest.mark.parametrize(
    "ids",
    [
        ["141804_5.0001.99999"],  # well-formed, not in the register
        ["141804_4.9999.1"],
        ["not a parcel"],
        ["141804_3.0001.1"],  # unit kind _3 never names a parcel
        [],
        [""],
    ],
)
def test_unknown_or_malformed_parcel_is_invalid_input(demo_data, ids):
    with pytest.raises(InvalidInput):
        registers.wypis_data(ids, with_personal_data=False)
    with pytest.raises(InvalidInput):
        zoning.zoning_data(ids)


def test_retired_parcel_is_invalid_input(demo_data):
    from django.utils import timezone

    parcel = Parcel.objects.current().order_by("parcel_id").first()
    Parcel.objects.filter(pk=parcel.pk).update(end_object=timezone.now())
    with pytest.raises(InvalidInput) as err:
        registers.wypis_data([parcel.parcel_id], with_personal_data=False)
    assert parcel.parcel_id in str(err.value.message)


def test_too_many_parcels_is_invalid_input(demo_data):
    ids = list(Parcel.objects.current().order_by("parcel_id").values_list("parcel_id", flat=True)[:51])
    with pytest.raises(InvalidInput):
        registers.wypis_data(ids, with_personal_data=False)


def test_wypis_html_is_accessible_self_contained_and_escapes(owned):
    data = registers.wypis_data([owned["parcel"].parcel_id], with_personal_data=False)
    data["parcels"][0]["registration_unit"] = '<img src="http://127.0.0.1:1/x">'
    page = registers.wypis_html(data, _title())
    assert '<html lang="pl">' in page and "<h1>" in page and "<h2>" in page and "<title>" in page
    assert '<th scope="col"' in page and '<th scope="row"' in page
    assert "&lt;img" in page and '<img src="http://' not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched from outside
    assert "{%" not in page and "{{" not in page


def test_footer_cannot_break_out_of_the_stylesheet():
    css = registers.css_string('nr 1"; } body { display: none } </style><script>')
    assert '"' not in css[1:-1] and "<" not in css and "}" in css  # only the quotes that delimit it
    data = {"with_personal_data": False, "parcels": []}
    title = dataclasses.replace(_title(), number='1"}</style><h1>x')
    page = registers.wypis_html(data, title)
    assert "</style><h1>x" not in page


def test_draft_without_code_has_no_qr_and_says_so(owned):
    data = registers.wypis_data([owned["parcel"].parcel_id], with_personal_data=False)
    page = registers.wypis_html(data, _title(code=""))
    assert "data:image/svg+xml" not in page
    assert "projekt" in _text(registers.wypis_pdf(data, _title(code="")))


# ---------------------------------------------------------------- zoning
def test_zoning_data_matches_the_layer_selector(demo_data):
    parcel = _zoned_parcel()
    data = zoning.zoning_data([parcel.parcel_id])
    entry = data["parcels"][0]
    assert entry["covered"] and entry["designations"]
    expected = {(z["label"], z["share"]) for z in parcel_zoning(parcel)}
    got = {(d["label"], float(d["share"])) for d in entry["designations"]}
    assert got == expected
    plan_ids = {d["plan_id"] for d in entry["designations"]}
    assert {p["plan_id"] for p in data["plans"]} == plan_ids
    total = sum(float(d["share"]) for d in entry["designations"]) + float(entry["uncovered"])
    assert total == pytest.approx(100, abs=0.5)


def test_zoning_extract_states_designations_and_the_statement_for_an_unplanned_parcel(demo_data):
    zoned, unzoned = _zoned_parcel(), _unzoned_parcel()
    data = zoning.zoning_data([zoned.parcel_id, unzoned.parcel_id])
    unplanned = data["parcels"][1]
    assert (unplanned["covered"], unplanned["designations"], unplanned["uncovered"]) == (False, [], "100.0")

    png = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (300, 200), (200, 230, 200)).save(png, "PNG")
    pdf = zoning.extract_pdf(data, _title(), map_png=png.getvalue(), free_text="Ustalenia: <b>dach</b>")
    text, flat = _text(pdf), _flat(pdf)
    assert "Wypis z miejscowego planu zagospodarowania przestrzennego" in text
    assert "wyrys" in text
    for d in data["parcels"][0]["designations"]:
        assert _no_space(d["label"] + d["name"]) in flat
    plan = data["plans"][0]
    assert plan["resolution_no"] in flat and _no_space(plan["name"]) in flat
    assert zoned.parcel_id in text and unzoned.parcel_id in text
    assert "Działka nie jest objęta miejscowym planem zagospodarowania przestrzennego" in text
    assert "Ustalenia: <b>dach</b>" in text  # printed as typed, not as markup
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        assert sum(len(page.images) for page in doc.pages) >= 1  # the wyrys

    without_map = _text(zoning.extract_pdf(data, _title()))
    assert "Wyrys z rysunku planu" not in without_map


def test_zoning_extract_refuses_a_map_that_is_not_png(demo_data):
    data = zoning.zoning_data([_zoned_parcel().parcel_id])
    with pytest.raises(InvalidInput):
        zoning.extract_pdf(data, _title(), map_png=b"<svg onload=alert(1)>")


def test_certificate_names_purpose_legal_basis_and_designations(demo_data):
    zoned = _zoned_parcel()
    data = zoning.zoning_data([zoned.parcel_id])
    purpose = "sprzedaż nieruchomości przed notariuszem"
    pdf = zoning.certificate_pdf(data, _title(), purpose=purpose)
    text, flat = _text(pdf), _flat(pdf)
    assert "Zaświadczenie o przeznaczeniu terenu w miejscowym planie zagospodarowania przestrzennego" in text
    assert purpose in text
    assert "art. 217" in text and "o planowaniu i zagospodarowaniu przestrzennym" in text
    for d in data["parcels"][0]["designations"]:
        assert _no_space(d["label"] + d["name"]) in flat


@pytest.mark.parametrize("purpose", ["", "   ", "x" * 501, "cel\x00"])
def test_certificate_without_a_sane_purpose_is_invalid_input(demo_data, purpose):
    data = zoning.zoning_data([_zoned_parcel().parcel_id])
    with pytest.raises(InvalidInput):
        zoning.certificate_pdf(data, _title(), purpose=purpose)


def test_certificate_for_an_unplanned_parcel_says_so(demo_data):
    data = zoning.zoning_data([_unzoned_parcel().parcel_id])
    assert data["plans"] == []
    text = _text(zoning.certificate_pdf(data, _title(), purpose="kredyt hipoteczny"))
    assert "Żadna z działek nie jest objęta miejscowym planem" in text
    assert "Działka nie jest objęta miejscowym planem" in text
