"""Routing to the competent office by location and kind of matter (DOMAIN.md §2)."""

import pytest
from django.contrib.gis.geos import Point, Polygon

from layers.models import AdministrativeUnit, Precinct
from services.offices.models import Office, ServiceKind
from services.offices.selectors import AmbiguousLocation, NoCompetentOffice, competent_office, find_competence

pytestmark = pytest.mark.django_db


def inside(teryt: str) -> Point:
    return AdministrativeUnit.objects.get(teryt=teryt).geom.point_on_surface


def test_three_offices_exist():
    assert set(Office.objects.values_list("code", "jurisdiction_teryt")) >= {
        ("um-piaseczno", "1418043"),
        ("sp-piaseczno", "1418"),
        ("wgik-mazowsze", "14"),
    }


def test_town_centre(demo_data):
    centre = Point(638_881, 469_553, srid=2180)  # Piaseczno town centre, DOMAIN.md §12
    assert Precinct.objects.filter(unit__unit_id="141804_4", geom__contains=centre).exists()
    assert competent_office(ServiceKind.EGIB_EXTRACT, centre).code == "sp-piaseczno"
    assert competent_office(ServiceKind.ZONING_EXTRACT, centre).code == "um-piaseczno"
    assert competent_office(ServiceKind.HOUSE_NUMBER, centre).code == "um-piaseczno"
    assert competent_office(ServiceKind.SURVEY_WORK, centre).code == "sp-piaseczno"
    assert competent_office(ServiceKind.REGIONAL_DATA, centre).code == "wgik-mazowsze"


def test_rural_area(demo_data):
    rural = Precinct.objects.filter(unit__unit_id="141804_5").first().geom.point_on_surface
    assert competent_office(ServiceKind.EGIB_EXTRACT, rural).code == "sp-piaseczno"
    assert competent_office(ServiceKind.ZONING_CERTIFICATE, rural).code == "um-piaseczno"


def test_other_gmina_of_the_county(demo_data):
    p = inside("1418032")  # Lesznowola
    assert competent_office(ServiceKind.EGIB_EXTRACT, p).code == "sp-piaseczno"
    with pytest.raises(NoCompetentOffice) as e:
        competent_office(ServiceKind.ZONING_EXTRACT, p)
    assert "Lesznowola" in e.value.message
    assert e.value.unit.teryt == "1418032"


def test_outside_the_county(demo_data):
    p = inside("1465011")  # Warszawa
    with pytest.raises(NoCompetentOffice):
        competent_office(ServiceKind.EGIB_EXTRACT, p)
    with pytest.raises(NoCompetentOffice):
        competent_office(ServiceKind.HOUSE_NUMBER, p)
    assert competent_office(ServiceKind.REGIONAL_DATA, p).code == "wgik-mazowsze"


def test_outside_everything(demo_data):
    far = Point(200_000, 300_000, srid=2180)
    with pytest.raises(NoCompetentOffice):
        competent_office(ServiceKind.EGIB_EXTRACT, far)


def test_area_across_two_gminy_is_ambiguous_for_the_gmina(demo_data):
    a = inside("1418043")
    b = inside("1418032")
    box = Polygon.from_bbox((min(a.x, b.x), min(a.y, b.y), max(a.x, b.x) + 1, max(a.y, b.y) + 1))
    box.srid = 2180
    with pytest.raises(AmbiguousLocation) as e:
        competent_office(ServiceKind.ZONING_EXTRACT, box)
    assert {u.teryt for u in e.value.units} >= {"1418043", "1418032"}
    # both gminy lie in the county: the starosta is competent for EGiB matters
    assert find_competence(ServiceKind.EGIB_EXTRACT, box).office.code == "sp-piaseczno"


def test_point_in_another_crs_is_transformed(demo_data):
    centre_4326 = Point(21.0271, 52.0747, srid=4326)
    assert competent_office(ServiceKind.ZONING_EXTRACT, centre_4326).code == "um-piaseczno"


def test_unknown_kind_is_rejected(demo_data):
    from gisportal.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        competent_office("nonsense", Point(638_881, 469_553, srid=2180))
