"""Model constraints hold in the database itself, not only in forms."""

from decimal import Decimal

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from gisportal.core.models import User
from layers import catalogue
from layers.models import AdministrativeUnit, CadastralUnit, Parcel, Precinct, RestrictedAccessLog

pytestmark = pytest.mark.django_db

SQUARE = MultiPolygon(
    Polygon(((638000, 469000), (638100, 469000), (638100, 469100), (638000, 469100), (638000, 469000))),
    srid=2180,
)


@pytest.fixture
def precinct():
    gmina = AdministrativeUnit.objects.create(teryt="1499993", level="gmina", name="Test", geom=SQUARE)
    unit = CadastralUnit.objects.create(
        local_id="u1", namespace="PL.TEST", unit_id="149999_4", name="Test", gmina=gmina, geom=SQUARE
    )
    return Precinct.objects.create(
        local_id="p1",
        namespace="PL.TEST",
        precinct_id="149999_4.0001",
        number="0001",
        name="Test",
        unit=unit,
        geom=SQUARE,
    )


def parcel(precinct, pid, **kw):
    defaults = {
        "local_id": pid,
        "namespace": "PL.TEST",
        "parcel_id": pid,
        "number": pid.rsplit(".", 1)[-1],
        "precinct": precinct,
        "area_ha": Decimal("1.0000"),
        "geom": SQUARE,
    }
    defaults.update(kw)
    return Parcel.objects.create(**defaults)


def test_valid_parcel_is_stored(precinct):
    p = parcel(precinct, "149999_4.0001.12/3")
    assert Parcel.objects.current().filter(pk=p.pk).exists()


@pytest.mark.parametrize("pid", ["149999_3.0001.1", "149999_4.1.1", "149999_4.0001.", "x"])
def test_bad_parcel_ids_rejected_by_database(precinct, pid):
    with pytest.raises(IntegrityError), transaction.atomic():
        parcel(precinct, pid, local_id="bad-" + pid)


def test_area_must_be_positive(precinct):
    with pytest.raises(IntegrityError), transaction.atomic():
        parcel(precinct, "149999_4.0001.5", area_ha=Decimal("0"))


def test_current_parcel_id_unique_but_history_allowed(precinct):
    old = parcel(precinct, "149999_4.0001.7", local_id="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        parcel(precinct, "149999_4.0001.7", local_id="b")
    old.end_object = timezone.now()
    old.save()
    parcel(precinct, "149999_4.0001.7", local_id="b")  # the retired one stays as history
    assert Parcel.objects.filter(parcel_id="149999_4.0001.7").count() == 2
    assert Parcel.objects.current().filter(parcel_id="149999_4.0001.7").count() == 1


def test_iip_identity_unique(precinct):
    parcel(precinct, "149999_4.0001.8", local_id="same")
    with pytest.raises(IntegrityError), transaction.atomic():
        parcel(precinct, "149999_4.0001.9", local_id="same")


def test_registration_group_range(precinct):
    with pytest.raises(IntegrityError), transaction.atomic():
        parcel(precinct, "149999_4.0001.10", registration_group=17)


def test_admin_unit_level_must_match_teryt():
    with pytest.raises(IntegrityError), transaction.atomic():
        AdministrativeUnit.objects.create(teryt="1418", level="gmina", name="x", geom=SQUARE)


def test_surveyor_needs_licence():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="g", email="g@example.pl", password="x", role="surveyor")


def test_access_log_is_append_only(make_user):
    from layers.selectors import access_log_append

    entry = access_log_append(
        make_user("c1", "clerk"), legal_basis="art. 24 ust. 2 PGiK", object_kind="parcel", object_ids=["x"]
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        RestrictedAccessLog.objects.filter(pk=entry.pk).update(legal_basis="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        RestrictedAccessLog.objects.filter(pk=entry.pk).delete()


def test_catalogue_is_consistent():
    assert catalogue.validate_catalogue() == []
    assert set(catalogue.layer_names()) == {
        "dzialki",
        "budynki",
        "numery_dzialek",
        "obreby",
        "jednostki_ewidencyjne",
        "uzytki",
        "kontury_klasyfikacyjne",
        "adresy",
        "mpzp",
        "granice",
        "CP.CadastralParcel",
        "CP.CadastralZoning",
        "CP.CadastralBoundary",
        "AD.Address",
        "BU.Building",
    }


def test_catalogue_never_publishes_personal_data():
    for layer in catalogue.LAYERS:
        for attr in layer.public_attributes:
            assert "kw" not in attr.name.lower() and "kw" not in attr.source.lower()
            assert not attr.source.startswith(("restricted", "owner"))
