"""Official fees (DOMAIN.md §6): the tables and rules as data, counts from the registries (parcels,
registration units, local plans), the quote API with its errors, and the fee on the filed request's page."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from gisportal.core.errors import InvalidInput
from layers.models import Parcel
from services.forms.models import ServiceDefinition
from services.payments.fees import TABLE_11, FeeRequest, quote

D = Decimal


# ------------------------------------------------------------------ the rules, without the database
@pytest.mark.parametrize(
    "variant, form, per_unit",
    [
        ("wypis_uproszczony", "electronic", "15.00"),
        ("wypis_uproszczony", "paper", "15.00"),
        ("wypis_z_danymi", "electronic", "40.00"),
        ("wypis_z_danymi", "paper", "50.00"),
        ("wypis_bez_danych", "electronic", "24.00"),
        ("wypis_bez_danych", "paper", "30.00"),
        ("wyrys", "electronic", "105.00"),
        ("wyrys", "paper", "110.00"),
        ("wypis_wyrys", "electronic", "140.00"),
        ("wypis_wyrys", "paper", "150.00"),
    ],
)
def test_table_11_per_parcel_or_registration_unit(variant, form, per_unit):
    q = quote(FeeRequest("pgik_table_11", variant=variant, form=form, parcels=5, registration_units=2))
    n = 5 if variant == "wypis_uproszczony" else 2
    assert q.final and q.total == D(per_unit) * n and q.lines[0].quantity == n and q.kind == "pgik"
    other = TABLE_11[variant].paper if form == "electronic" else TABLE_11[variant].electronic
    assert q.other_form_total == other * n


def test_the_paper_price_mentions_the_cheaper_electronic_one():
    with translation.override("pl"):
        q = quote(
            FeeRequest("pgik_table_11", variant="wypis_wyrys", form="paper", parcels=3, registration_units=1)
        )
    assert q.total == D("150.00") and any("140,00 zł" in n and "elektroniczny" in n for n in q.notes)


def test_zoning_extract_worked_example_of_domain():
    """A 7-page wypis and a 3-part wyrys: 50 + 60 = 110 zł; two plans in one request: two fees."""
    q = quote(FeeRequest("stamp_duty_zoning_extract", product="wypis_wyrys", plans=1, pages=7, parts=3))
    assert q.final and q.total == D("110.00") and q.kind == "stamp_duty"
    assert quote(
        FeeRequest("stamp_duty_zoning_extract", product="wypis_wyrys", plans=2, pages=7, parts=3)
    ).total == D("220.00")
    assert quote(FeeRequest("stamp_duty_zoning_extract", product="wypis", plans=1, pages=5)).total == D(
        "30.00"
    )
    assert quote(FeeRequest("stamp_duty_zoning_extract", product="wypis", plans=1, pages=6)).total == D(
        "50.00"
    )


def test_zoning_extract_caps_and_copies():
    assert quote(FeeRequest("stamp_duty_zoning_extract", product="wyrys", plans=1, parts=12)).total == D(
        "200.00"
    )
    assert quote(
        FeeRequest("stamp_duty_zoning_extract", product="wypis_wyrys", plans=1, pages=9, parts=12)
    ).total == D("250.00")
    assert quote(
        FeeRequest("stamp_duty_zoning_extract", product="wyrys", plans=1, parts=2, copies=3)
    ).total == D("120.00")


def test_zoning_extract_is_a_range_until_the_office_knows_the_pages():
    q = quote(FeeRequest("stamp_duty_zoning_extract", product="wypis_wyrys", plans=2))
    assert not q.final and (q.total, q.total_max) == (D("100.00"), D("500.00"))
    q = quote(FeeRequest("stamp_duty_zoning_extract", product="wypis", plans=0))
    assert (q.total, q.total_max) == (D("30.00"), D("50.00")) and len(
        q.notes
    ) == 3  # one document, no plan found, a range


def test_certificate_free_and_doo_rules():
    assert quote(FeeRequest("stamp_duty_certificate")).total == D("17.00")
    exempt = quote(FeeRequest("stamp_duty_certificate", housing_exemption=True))
    assert exempt.total == 0 and exempt.final and not exempt.lines
    assert quote(FeeRequest("free")).total == 0
    doo = quote(FeeRequest("pgik_materials"))
    assert doo.total is None and not doo.final and "DOO" in doo.notes[0]


@pytest.mark.parametrize(
    "req",
    [
        FeeRequest("pgik_table_11", variant="wypis_kopia", parcels=1, registration_units=1),
        FeeRequest("pgik_table_11", variant="wyrys", form="fax", parcels=1, registration_units=1),
        FeeRequest("pgik_table_11", variant="wyrys", parcels=0, registration_units=0),
        FeeRequest("stamp_duty_zoning_extract", product="mapa"),
        FeeRequest("stamp_duty_zoning_extract", product="wypis", copies=0),
        FeeRequest("stamp_duty_zoning_extract", product="wypis", pages=-1),
        FeeRequest("stamp_duty_zoning_extract", product="wypis", parts=10**9),
        FeeRequest("opłata_za_nic"),
    ],
)
def test_what_no_request_can_be_is_refused(req):
    with pytest.raises(InvalidInput):
        quote(req)


@given(variant=st.sampled_from(sorted(TABLE_11)), parcels=st.integers(1, 20), units=st.integers(1, 20))
def test_table_11_totals_add_up_and_electronic_is_never_dearer(variant, parcels, units):
    e = quote(
        FeeRequest(
            "pgik_table_11", variant=variant, form="electronic", parcels=parcels, registration_units=units
        )
    )
    p = quote(
        FeeRequest("pgik_table_11", variant=variant, form="paper", parcels=parcels, registration_units=units)
    )
    assert e.total == sum(li.amount for li in e.lines) and e.total <= p.total == e.other_form_total
    assert e.total.as_tuple().exponent == -2  # grosze-exact


@given(
    product=st.sampled_from(["wypis", "wyrys", "wypis_wyrys"]),
    plans=st.integers(0, 5),
    copies=st.integers(1, 5),
    pages=st.none() | st.integers(0, 40),
    parts=st.none() | st.integers(0, 40),
)
def test_zoning_extract_stays_within_its_range(product, plans, copies, pages, parts):
    q = quote(
        FeeRequest(
            "stamp_duty_zoning_extract", product=product, plans=plans, copies=copies, pages=pages, parts=parts
        )
    )
    documents = max(plans, 1) * copies
    assert D("20.00") * documents <= q.total <= q.total_max <= D("250.00") * documents
    unbounded = quote(FeeRequest("stamp_duty_zoning_extract", product=product, plans=plans, copies=copies))
    assert unbounded.total <= q.total <= q.total_max <= unbounded.total_max


# ------------------------------------------------------------------ the API over the registries
@pytest.fixture(scope="module")
def town(demo_data, django_db_blocker):
    """Parcels of the town: two units with several parcels each, and three parcels of other units."""
    from django.db.models import Count

    with django_db_blocker.unblock():
        current = (
            Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").exclude(registration_unit="")
        )
        shared = list(
            current.values("registration_unit")
            .annotate(n=Count("id"))
            .filter(n__gte=2)
            .order_by("registration_unit")
            .values_list("registration_unit", flat=True)[:2]
        )
        rows = list(
            current.filter(registration_unit__in=shared)
            .order_by("parcel_id")
            .values_list("parcel_id", "registration_unit")[:6]
        )
        rows += list(
            current.exclude(registration_unit__in=shared)
            .order_by("parcel_id")
            .values_list("parcel_id", "registration_unit")[:3]
        )
    return rows


def _quote(client, **params):
    return client.get("/api/fees/quote", params, HTTP_ACCEPT_LANGUAGE=params.pop("lang", "pl"))


@pytest.mark.django_db
def test_quote_counts_registration_units_from_the_register(client, town):
    ids = [pid for pid, _u in town]
    units = {u or pid for pid, u in town}
    assert len(units) < len(ids)  # the demo data puts several parcels in one unit: counted once
    r = _quote(
        client, service="wypis-wyrys-egib", variant="wypis_wyrys", form="electronic", parcels=",".join(ids)
    )
    body = r.json()
    assert (
        r.status_code == 200
        and body["total"] == f"{140 * len(units)}.00"
        and body["lines"][0]["quantity"] == len(units)
    )
    assert body["other_form_total"] == f"{150 * len(units)}.00" and body["final"] is True
    assert body["payee"]["office"].startswith("Starostwo") and body["payee"]["account"] is None
    assert "jednost" in body["lines"][0]["label"]  # Polish first
    simple = _quote(
        client, service="wypis-wyrys-egib", variant="wypis_uproszczony", form="paper", parcels=",".join(ids)
    ).json()
    assert simple["total"] == f"{15 * len(ids)}.00"


@pytest.mark.django_db
def test_quote_of_stamp_duty_names_the_gminas_account(client, town):
    r = _quote(
        client,
        service="wypis-wyrys-mpzp",
        product="wypis_wyrys",
        copies="1",
        pages="7",
        parts="3",
        parcels=town[0][0],
    )
    body = r.json()
    assert r.status_code == 200 and body["kind"] == "stamp_duty"
    documents = body["lines"][0]["quantity"]
    assert body["total"] == f"{110 * documents}.00"
    assert body["payee"]["account"] == "PL05124069731111001086706226"
    cert = _quote(client, service="zaswiadczenie-mpzp", parcels=town[0][0], lang="en").json()
    assert cert["total"] == "17.00" and cert["lines"][0]["label"] == "stamp duty on a certificate"
    exempt = _quote(client, service="zaswiadczenie-mpzp", parcels=town[0][0], housing_exemption="true").json()
    assert exempt["total"] == "0.00" and exempt["payee"] is None
    assert _quote(client, service="numer-porzadkowy").json()["total"] == "0.00"
    assert _quote(client, service="zgloszenie-prac", parcels=town[0][0]).json()["total"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, status, code",
    [
        ({"service": "nie-ma-takiej"}, 404, "not_found"),
        (
            {"service": "wypis-wyrys-egib", "variant": "wyrys", "parcels": "141804_4.0001.999999"},
            400,
            "parcel_unknown",
        ),
        (
            {"service": "wypis-wyrys-egib", "variant": "wyrys", "parcels": "1' OR '1'='1"},
            400,
            "parcel_unknown",
        ),
        ({"service": "wypis-wyrys-egib", "variant": "wyrys"}, 400, "invalid_input"),
        ({"service": "wypis-wyrys-egib", "variant": "<script>", "parcels": "P0"}, 400, None),
        ({"service": "wypis-wyrys-mpzp", "product": "wypis", "copies": "dwa"}, 400, "invalid_input"),
        ({"service": "wypis-wyrys-mpzp", "product": "wypis", "copies": "9" * 40}, 400, "invalid_input"),
        ({"service": "wypis-wyrys-mpzp", "product": "wypis", "pages": "-3"}, 400, "invalid_input"),
        (
            {"service": "wypis-wyrys-mpzp", "parcels": ",".join(f"141804_4.0001.{i}" for i in range(1, 30))},
            400,
            "invalid_input",
        ),
        ({"service": "wypis-wyrys-mpzp", "product": "wypis", "debug": "1"}, 400, "bad_request"),
    ],
)
def test_bad_quote_requests_are_clear_4xx(client, town, params, status, code):
    if params.get("parcels") == "P0":
        params["parcels"] = town[0][0]
    r = _quote(client, **params)
    assert r.status_code == status and r["Content-Type"] == "application/problem+json"
    body = r.json()
    assert body["detail"] and "Traceback" not in r.content.decode() and "SELECT" not in r.content.decode()
    if code:
        assert body["type"].endswith(code)


@pytest.mark.django_db
def test_filed_request_page_shows_its_fee(client, make_user, town):
    from services.forms.actions import submission_file

    user = make_user("anna", "citizen", first_name="Anna", last_name="Nowak")
    service = ServiceDefinition.objects.get(code="wypis-wyrys-egib", active=True)
    data = {
        "applicant_name": "Anna Nowak",
        "email": "anna@example.pl",
        "postal_code": "05-500",
        "locality": "Piaseczno",
        "parcels": [town[0][0]],
        "variant": "wypis_bez_danych",
        "form": "electronic",
    }
    sub = submission_file(service, data, user=user, idempotency_key=str(uuid.uuid4()))
    client.force_login(user)
    page = client.get(f"/wnioski/{sub.id}/").content.decode()
    assert "Opłata" in page and "24,00 zł" in page and "DOO" in page
