import pytest

from gisportal.core.errors import InvalidInput
from gisportal.core.identifiers import (
    is_building_id,
    is_kw_number,
    is_parcel_id,
    kw_check_digit,
    parse_parcel_id,
    teryt_level,
)


@pytest.mark.parametrize(
    "value, ok",
    [
        ("141804_4.0001.123/4", True),
        ("141804_5.0012.7", True),
        ("306401_1.0039.AR_22.13/24", True),
        ("141804_3.0001.15", False),  # _3 = whole gmina, never in parcel ids
        ("141804_4.1.123", False),  # precinct needs 4 digits
        ("141804_6.0001.1", False),
        ("", False),
        ("141804_4.0001.1; DROP TABLE x", False),
    ],
)
def test_parcel_id_formats(value, ok):
    assert is_parcel_id(value) is ok


def test_parse_parcel_id_parts():
    p = parse_parcel_id("306401_1.0039.AR_22.13/24")
    assert (p.unit, p.precinct, p.sheet, p.number) == ("306401_1", "0039", 22, "13/24")
    assert str(p) == "306401_1.0039.AR_22.13/24"
    assert p.precinct_id == "306401_1.0039"


def test_parse_parcel_id_message_is_clear():
    with pytest.raises(InvalidInput) as e:
        parse_parcel_id("141804_3.0001.15")
    assert e.value.code == "parcel_id_unit_kind"


@pytest.mark.parametrize(
    "court, number, digit",
    [
        ("WA1I", "00012345", 7),
        ("LU1B", "00012345", 8),
        ("GD1W", "00090409", 1),
        ("WA5M", "00012345", 9),
        ("KZ1O", "00012345", 9),
    ],
)
def test_kw_check_digit_worked_examples(court, number, digit):
    assert kw_check_digit(court, number) == digit
    assert is_kw_number(f"{court}/{number}/{digit}")
    assert not is_kw_number(f"{court}/{number}/{(digit + 1) % 10}")


def test_building_id():
    assert is_building_id("120617_2.0018.64/2.1_BUD")
    assert not is_building_id("120617_2.0018.64/2")
    assert not is_building_id("141804_3.0001.1.1_BUD")


def test_teryt_level():
    assert teryt_level("14") == "voivodeship"
    assert teryt_level("1418") == "county"
    assert teryt_level("1418043") == "gmina"
    with pytest.raises(InvalidInput):
        teryt_level("141")
