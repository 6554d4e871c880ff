"""Validators of Polish identifiers for the e-forms (services/forms/validators.py; DOMAIN.md §3, §5).

Pure functions: no database. The property tests compare against small reference implementations
written here in a different style (brute force over the check digit, the "official" formulations,
digit-by-digit mod 97) rather than re-using the module's arithmetic.
"""

from __future__ import annotations

import datetime
import string

import pytest
from django.utils import translation
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gisportal.core import identifiers
from gisportal.core.errors import InvalidInput
from services.forms import validators as v
from services.forms.validators import (
    VALIDATORS,
    Pesel,
    check_iban,
    check_id_card,
    check_kw,
    check_nip,
    check_parcel_id,
    check_pesel,
    check_postal_code,
    check_regon,
    format_iban,
    is_iban,
    is_id_card,
    is_kw,
    is_nip,
    is_parcel_id,
    is_pesel,
    is_postal_code,
    is_regon,
)


@pytest.fixture(scope="session", autouse=True)
def _close_foreign_connections():
    """Overrides the conftest fixture of this name (which needs the test database): nothing here
    touches a database, so none is created for this module."""
    yield


# No example database in the working tree, no deadline (first calls load translations).
PROPERTY = settings(database=None, deadline=None, max_examples=150)
FAR_FUTURE = datetime.date(2299, 12, 31)  # lets every encodable PESEL date count as "already born"

IS = {
    "pesel": is_pesel,
    "nip": is_nip,
    "regon": is_regon,
    "id_card": is_id_card,
    "iban": is_iban,
    "postal_code": is_postal_code,
    "kw": is_kw,
    "parcel_id": is_parcel_id,
    "ade_address": v.is_ade_address,
}


def raises_code(func, value, code):
    with pytest.raises(InvalidInput) as info:
        func(value)
    assert info.value.code == code, (value, info.value.code, str(info.value))
    assert info.value.field is None
    return info.value


def single_digit_changes(number: str, positions):
    """Every number that differs from ``number`` in exactly one of ``positions`` (digit → other digit)."""
    for i in positions:
        for d in "0123456789":
            if d != number[i]:
                yield i, number[:i] + d + number[i + 1 :]


# -- reference implementations (independent of the module) ---------------------------------------


def ref_pesel_check(body: str) -> int:
    # verification form: weights 1 3 7 9 1 3 7 9 1 3 1 over all 11 digits, total divisible by 10
    weights = [1, 3, 7, 9] * 2 + [1, 3, 1]
    return next(
        d for d in range(10) if sum(int(c) * w for c, w in zip(body + str(d), weights, strict=True)) % 10 == 0
    )


def ref_pesel_body(day: datetime.date, serial: str, sex_digit: int) -> str:
    offset = {18: 80, 19: 0, 20: 20, 21: 40, 22: 60}[day.year // 100]
    return f"{day.year % 100:02d}{day.month + offset:02d}{day.day:02d}{serial}{sex_digit}"


def ref_nip_check(body: str) -> int | None:
    # the check digit d satisfies Σ ≡ d (mod 11); None when no digit does (remainder 10)
    total = 6 * int(body[0]) + 5 * int(body[1]) + 7 * int(body[2]) + 2 * int(body[3]) + 3 * int(body[4])
    total += 4 * int(body[5]) + 5 * int(body[6]) + 6 * int(body[7]) + 7 * int(body[8])
    candidates = [d for d in range(10) if (total - d) % 11 == 0]
    return candidates[0] if candidates else None


REF_REGON9 = [8, 9, 2, 3, 4, 5, 6, 7]
REF_REGON14 = [2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8]


def ref_regon_remainder(body: str, weights) -> int:
    return sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11


def ref_regon_check(body: str, weights) -> int:
    remainder = ref_regon_remainder(body, weights)
    return 0 if remainder == 10 else remainder


def ref_letter(c: str) -> int:
    return 10 + string.ascii_uppercase.index(c) if c.isalpha() else int(c)


def ref_id_card_check(letters: str, digits5: str) -> int:
    # the usual formulation: weights 7 3 1 on the letters, 7 3 1 7 3 on the five digits after the check digit
    total = sum(ref_letter(c) * w for c, w in zip(letters, (7, 3, 1), strict=True))
    total += sum(int(c) * w for c, w in zip(digits5, (7, 3, 1, 7, 3), strict=True))
    return total % 10


def ref_mod97(text: str) -> int:
    remainder = 0
    for ch in text:
        for digit in str(ref_letter(ch)):
            remainder = (remainder * 10 + int(digit)) % 97
    return remainder


def ref_iban(bban: str) -> str:
    check = 98 - ref_mod97(bban + "PL00")
    return f"PL{check:02d}{bban}"


# DOMAIN.md §5 table, written out: X=10, then the alphabet without Q, V, X from 11
REF_KW_VALUES = dict(zip("0123456789XABCDEFGHIJKLMNOPRSTUWYZ", range(34), strict=True))


def ref_kw_check(court: str, number: str) -> int:
    chars = court + number
    return sum(REF_KW_VALUES[c] * (1, 3, 7)[i % 3] for i, c in enumerate(chars)) % 10


def test_reference_implementations_agree_with_domain_examples():
    assert ref_pesel_check("4405140135") == 9
    assert ref_pesel_check("0221130758") == 9
    assert [ref_nip_check(n[:9]) for n in ("1234563218", "1231210962", "1230031105")] == [8, 2, 5]
    assert ref_regon_check("12345678", REF_REGON9) == 5
    assert ref_regon_check("01589128", REF_REGON9) == 9
    assert ref_regon_check("1234567851234", REF_REGON14) == 7
    assert ref_id_card_check("ABS", "23456") == 1
    assert ref_id_card_check("ABA", "00000") == 3
    assert ref_iban("109010140000071219812874") == "PL61109010140000071219812874"
    assert ref_iban("124069731111001086706226") == "PL05124069731111001086706226"
    assert [ref_kw_check(*kw.split("/")) for kw in ("WA1I/00012345", "LU1B/00012345", "GD1W/00090409")] == [
        7,
        8,
        1,
    ]


# -- worked examples of DOMAIN.md §5 --------------------------------------------------------------


def test_pesel_worked_examples():
    assert check_pesel("44051401359") == Pesel("44051401359", datetime.date(1944, 5, 14), "M")
    assert check_pesel("02211307589") == Pesel("02211307589", datetime.date(2002, 1, 13), "F")
    raises_code(check_pesel, "44051401358", "pesel_checksum")
    assert is_pesel("44051401359") and not is_pesel("44051401358")


@pytest.mark.parametrize("nip", ["1234563218", "1231210962", "1230031105"])
def test_nip_worked_examples(nip):
    assert check_nip(nip) == nip
    assert is_nip(nip)


@pytest.mark.parametrize("regon", ["123456785", "015891289", "12345678512347"])
def test_regon_worked_examples(regon):
    assert check_regon(regon) == regon
    assert is_regon(regon)


@pytest.mark.parametrize("iban", ["PL61109010140000071219812874", "PL05124069731111001086706226"])
def test_iban_worked_examples(iban):
    assert check_iban(iban) == iban
    assert is_iban(iban)


@pytest.mark.parametrize("number, ok", [("ABA300000", True), ("ABS123456", True), ("ABS523456", False)])
def test_id_card_worked_examples(number, ok):
    assert is_id_card(number) is ok
    if ok:
        assert check_id_card(number) == number
    else:
        raises_code(check_id_card, number, "id_card_checksum")


@pytest.mark.parametrize(
    "kw", ["WA1I/00012345/7", "LU1B/00012345/8", "GD1W/00090409/1", "WA5M/00012345/9", "KZ1O/00012345/9"]
)
def test_kw_worked_examples(kw):
    assert check_kw(kw) == kw
    assert is_kw(kw) and v.is_kw_number(kw)
    court, number, digit = kw.split("/")
    for wrong in set("0123456789") - {digit}:
        raises_code(check_kw, f"{court}/{number}/{wrong}", "kw_checksum")


def test_kw_sample_file_digit_is_wrong():
    # DOMAIN.md §4.1: the training GML carries KZ1O/00012345/6; the correct digit is 9
    raises_code(check_kw, "KZ1O/00012345/6", "kw_checksum")


def test_is_kw_number_is_the_core_function():
    assert v.is_kw_number is identifiers.is_kw_number


def test_piaseczno_office_numbers_as_printed():
    # DOMAIN.md §2: NIP "123 12 10 962" / "123 003 11 05", REGON, stamp-duty account without PL
    assert check_nip("123 12 10 962") == "1231210962"
    assert check_nip("123 003 11 05") == "1230031105"
    assert check_regon("015891289") == "015891289"
    assert check_iban("05 1240 6973 1111 0010 8670 6226") == "PL05124069731111001086706226"


# -- formatting variants ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [" 44051401359 ", "440 514 013 59", "44051401359\n", "44 05 14\u00a001359"])
def test_pesel_spaces(value):
    assert check_pesel(value).number == "44051401359"


@pytest.mark.parametrize(
    "value",
    ["123-456-32-18", "123-45-63-218", "PL1234563218", "pl1234563218", "PL 123-456-32-18", " 123 456 32 18 "],
)
def test_nip_formatting(value):
    assert check_nip(value) == "1234563218"


@pytest.mark.parametrize(
    "value", ["123--456-32-18", "-1234563218", "1234563218-", "DE1234563218", "PL-1234563218"]
)
def test_nip_bad_formatting(value):
    raises_code(check_nip, value, "nip_format")


@pytest.mark.parametrize(
    "value",
    [
        "PL61 1090 1014 0000 0712 1981 2874",
        "pl61109010140000071219812874",
        " Pl61 1090 1014 0000 0712 1981 2874",
    ],
)
def test_iban_formatting(value):
    assert check_iban(value) == "PL61109010140000071219812874"


def test_iban_nrb_without_country_code():
    assert check_iban("61 1090 1014 0000 0712 1981 2874") == "PL61109010140000071219812874"


def test_format_iban():
    assert format_iban("pl61109010140000071219812874") == "PL61 1090 1014 0000 0712 1981 2874"
    assert format_iban("05 1240 6973 1111 0010 8670 6226") == "PL05 1240 6973 1111 0010 8670 6226"
    raises_code(format_iban, "PL62109010140000071219812874", "iban_checksum")


@pytest.mark.parametrize("value", ["abs123456", "ABS 123456", " aba300000 ", "Abs123456"])
def test_id_card_formatting(value):
    assert check_id_card(value) in {"ABS123456", "ABA300000"}


def test_regon_spaces():
    assert check_regon(" 015 891 289 ") == "015891289"


@pytest.mark.parametrize("value", ["wa1i/00012345/7", "WA1I / 00012345 / 7", " WA1I/00012345/7\t"])
def test_kw_formatting(value):
    assert check_kw(value) == "WA1I/00012345/7"


@pytest.mark.parametrize(
    "value, expected", [("05-500", "05-500"), (" 05-509 ", "05-509"), ("00-001", "00-001")]
)
def test_postal_code_valid(value, expected):
    assert check_postal_code(value) == expected
    assert is_postal_code(value)


@pytest.mark.parametrize(
    "value",
    [
        "05500",
        "05 500",
        "5-500",
        "05-5000",
        "055-00",
        "05\u2013500",
        "05-50a",
        "٠٥-٥٠٠",
        "０５-５００",
        "05-500-",
    ],
)
def test_postal_code_invalid(value):
    raises_code(check_postal_code, value, "postal_code_format")
    assert not is_postal_code(value)


def test_parcel_id():
    parcel = check_parcel_id(" 141804_4.0001.123/4 ")
    assert isinstance(parcel, identifiers.ParcelId)
    assert str(parcel) == "141804_4.0001.123/4"
    assert str(check_parcel_id("306401_1.0039.AR_22.13/24")) == "306401_1.0039.AR_22.13/24"
    raises_code(check_parcel_id, "141804_3.0001.15", "parcel_id_unit_kind")
    raises_code(check_parcel_id, "141804_4.1.123", "parcel_id_format")
    raises_code(check_parcel_id, "141804_4.0001.١٢٣", "parcel_id_format")  # core regex's \d would accept it
    assert is_parcel_id("141804_5.0012.7") and not is_parcel_id("141804_6.0001.1")


# -- wrong lengths, characters, check digits ---------------------------------------------------------


@pytest.mark.parametrize(
    "func, value, code",
    [
        (check_pesel, "4405140135", "pesel_format"),
        (check_pesel, "440514013590", "pesel_format"),
        (check_pesel, "4405140135X", "pesel_format"),
        (check_pesel, "44-05-14-01359", "pesel_format"),
        (check_nip, "123456321", "nip_format"),
        (check_nip, "12345632181", "nip_format"),
        (check_nip, "1234563219", "nip_checksum"),
        (check_nip, "123456321O", "nip_format"),
        (check_regon, "12345678", "regon_format"),
        (check_regon, "1234567851", "regon_format"),
        (check_regon, "123456784", "regon_checksum"),
        (check_regon, "12345678512348", "regon_checksum"),
        (check_regon, "12345678A", "regon_format"),
        (check_id_card, "AB1234567", "id_card_format"),
        (check_id_card, "ABSD23456", "id_card_format"),
        (check_id_card, "ABS12345", "id_card_format"),
        (check_id_card, "ABS1234567", "id_card_format"),
        (check_id_card, "ĄBS123456", "id_card_format"),
        (check_iban, "PL6110901014000007121981287", "iban_format"),
        (check_iban, "PL611090101400000712198128745", "iban_format"),
        (check_iban, "PL61 1090 1014 0000 0712 1981 287A", "iban_format"),
        (check_iban, "PL62109010140000071219812874", "iban_checksum"),
        (check_iban, "PL61109010140000071219812875", "iban_checksum"),
        (check_iban, "DE89370400440532013000", "iban_country"),
        (check_iban, "GB82WEST12345698765432", "iban_country"),
        (check_kw, "WA1I/0001234/7", "kw_format"),
        (check_kw, "WA1I-00012345-7", "kw_format"),
        (check_kw, "WAII/00012345/7", "kw_format"),
        (check_kw, "WQ1I/00012345/7", "kw_format"),  # no Q or V in court codes
        (check_kw, "WA1I/00012345/8", "kw_checksum"),
    ],
)
def test_rejected_values(func, value, code):
    raises_code(func, value, code)


def test_nip_remainder_ten_is_never_valid():
    # 6+10+21+8+15+24+35+48+63 = 230, 230 mod 11 = 10: no check digit can make this body valid
    for d in "0123456789":
        raises_code(check_nip, "123456789" + d, "nip_checksum")


def test_regon14_needs_a_valid_regon9_prefix():
    body = "123456784" + "1234"  # the 9-digit prefix has a wrong check digit (5 would be right)
    number = body + str(ref_regon_check(body, REF_REGON14))
    with translation.override("en"):  # the message is translated when raised
        error = raises_code(check_regon, number, "regon_checksum")
        assert "first 9 digits" in str(error.message)


def test_messages_name_the_problem():
    with translation.override("en"):
        assert "11 digits" in str(raises_code(check_pesel, "4405140135", "pesel_format").message)
        assert "check digit" in str(raises_code(check_pesel, "44051401358", "pesel_checksum").message)
        assert "0–9" in str(raises_code(check_nip, "12345X3218", "nip_format").message)
        assert "9 or 14" in str(raises_code(check_regon, "1234", "regon_format").message)
        assert "does not exist" in str(raises_code(check_pesel, pesel("9902301234"), "pesel_date").message)
        assert "Polish" in str(raises_code(check_iban, "DE89370400440532013000", "iban_country").message)


# -- PESEL dates ----------------------------------------------------------------------------------


def pesel(body10: str) -> str:
    return body10 + str(ref_pesel_check(body10))


@pytest.mark.parametrize(
    "body, why",
    [
        ("9902301234", "30 February 1999"),
        ("0002291234", "29 February 1900 (not a leap year)"),
        ("0082291234", "29 February 1800 (not a leap year)"),
        ("9913011234", "month 13"),
        ("9900011234", "month code 00"),
        ("9920011234", "month code 20 (2000s, month 0)"),
        ("9933011234", "month code 33 (2000s, month 13)"),
        ("9953011234", "month code 53"),
        ("9973011234", "month code 73"),
        ("9993011234", "month code 93"),
        ("9901001234", "day 00"),
        ("9901321234", "day 32"),
        ("9904311234", "31 April"),
        ("0042291234", "29 February 2100 (not a leap year)"),
        ("0062291234", "29 February 2200 (not a leap year)"),
    ],
)
def test_pesel_impossible_dates(body, why):
    number = pesel(body)
    with pytest.raises(InvalidInput) as info:
        check_pesel(number, today=FAR_FUTURE)
    assert info.value.code == "pesel_date", why
    assert not is_pesel(number, today=FAR_FUTURE)


@pytest.mark.parametrize(
    "body, birth_date",
    [
        ("0022291234", datetime.date(2000, 2, 29)),
        ("9981311234", datetime.date(1899, 1, 31)),
        ("0081011234", datetime.date(1800, 1, 1)),
        ("9912311234", datetime.date(1999, 12, 31)),
        ("0442291234", datetime.date(2104, 2, 29)),
        ("9972311234", datetime.date(2299, 12, 31)),
    ],
)
def test_pesel_century_encodings(body, birth_date):
    assert check_pesel(pesel(body), today=FAR_FUTURE).birth_date == birth_date


def test_pesel_birth_date_in_the_future_is_rejected():
    # 2100s and 2200s encode dates nobody alive has: rejected against the real clock
    raises_code(check_pesel, pesel("0041011234"), "pesel_date")
    raises_code(check_pesel, pesel("0061011234"), "pesel_date")
    birthday = datetime.date(2031, 6, 16)
    number = pesel(ref_pesel_body(birthday, "123", 4))
    assert is_pesel(number, today=birthday)
    assert not is_pesel(number, today=birthday - datetime.timedelta(days=1))


# -- hostile input --------------------------------------------------------------------------------

HOSTILE = [
    "",
    "   ",
    "\t\n",
    "1" * 10_000,
    "PL" + "1" * 100_000,
    "١٢٣",
    "٤٤٠٥١٤٠١٣٥٩",  # PESEL 44051401359 in Arabic-Indic digits
    "４４０５１４０１３５９",  # … and in full-width digits
    "۱۲۳۴۵۶۳۲۱۸",  # NIP in Persian digits
    "PL６１１０９０１０１４００００７１２１９８１２８７４",
    "ＡＢＳ１２３４５６",
    "ABS12345٦",
    "ǅAS123456",
    "WA1ı/00012345/7",  # dotless i upper-cases to I
    "WA1I/0001234٥/7",
    "0٥-500",
    "141804_4.0001.١٢٣",
    "44051401359\x00",
    "\x00",
    "\u200b44051401359",
    "\ud800",
    "'; DROP TABLE forms_submission; --",
    "1' OR '1'='1",
    "<script>alert(1)</script>",
    "{{ settings.SECRET_KEY }}",
    "%(name)s %s %d {0}",
    "../../etc/passwd",
    "NaN",
    "-1",
    "1e10",
    "0x1F",
    "𝟒𝟒𝟎𝟓𝟏𝟒𝟎𝟏𝟑𝟓𝟗",  # mathematical bold digits
]


@pytest.mark.parametrize("name", sorted(VALIDATORS))
@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_strings_raise_invalid_input(name, value):
    with pytest.raises(InvalidInput) as info:
        VALIDATORS[name](value)
    assert info.value.code.startswith(name)
    assert len(str(info.value.message)) < 250
    assert IS[name](value) is False


@pytest.mark.parametrize("name", sorted(VALIDATORS))
@pytest.mark.parametrize("value", [None, 44051401359, 12.5, b"44051401359", ["44051401359"]])
def test_non_text_raises_invalid_input(name, value):
    with pytest.raises(InvalidInput):
        VALIDATORS[name](value)
    assert IS[name](value) is False


@pytest.mark.parametrize("name", sorted(VALIDATORS))
def test_messages_echo_at_most_40_characters(name):
    # 60 characters with no repeated 41-character window
    value = "".join(string.ascii_letters[i % 52] + "<" for i in range(30))
    with pytest.raises(InvalidInput) as info:
        VALIDATORS[name](value)
    message = str(info.value.message)
    assert not any(value[k : k + 41] in message for k in range(len(value) - 40))


@pytest.mark.parametrize("name", sorted(VALIDATORS))
@PROPERTY
@given(value=st.text(max_size=80))
def test_any_text_either_passes_or_raises_invalid_input(name, value):
    try:
        VALIDATORS[name](value)
    except InvalidInput as error:
        assert error.code.startswith(name)
        assert IS[name](value) is False
    else:
        assert IS[name](value) is True


@pytest.mark.parametrize("name", sorted(VALIDATORS))
@PROPERTY
@given(value=st.text(alphabet="0123456789 -/_.PLplABSWIKX", max_size=32))
def test_near_miss_text_either_passes_or_raises_invalid_input(name, value):
    try:
        VALIDATORS[name](value)
    except InvalidInput as error:
        assert error.code.startswith(name)


def test_registry():
    assert set(VALIDATORS) == {
        "pesel",
        "nip",
        "regon",
        "id_card",
        "iban",
        "postal_code",
        "kw",
        "parcel_id",
        "ade_address",
    }  # ade_address: the e-delivery address of the forms' delivery block (tests/test_forms_journeys.py)
    examples = {
        "pesel": "44051401359",
        "nip": "1234563218",
        "regon": "015891289",
        "id_card": "ABS123456",
        "iban": "PL61109010140000071219812874",
        "postal_code": "05-500",
        "kw": "WA1I/00012345/7",
        "parcel_id": "141804_4.0001.123/4",
    }
    for name, example in examples.items():
        assert VALIDATORS[name](example) is not None
        assert IS[name](example) is True


# -- property tests against the references ---------------------------------------------------------

DIGITS = "0123456789"


def digits(n: int):
    return st.text(alphabet=DIGITS, min_size=n, max_size=n)


@PROPERTY
@given(
    day=st.dates(min_value=datetime.date(1800, 1, 1), max_value=FAR_FUTURE),
    serial=digits(3),
    sex_digit=st.integers(0, 9),
)
def test_pesel_property(day, serial, sex_digit):
    body = ref_pesel_body(day, serial, sex_digit)
    number = body + str(ref_pesel_check(body))
    assert check_pesel(number, today=FAR_FUTURE) == Pesel(number, day, "M" if sex_digit % 2 else "F")
    # weights 1 3 7 9 (and 1 for the check digit) are all coprime to 10: every single change is caught
    for _i, changed in single_digit_changes(number, range(11)):
        assert not is_pesel(changed, today=FAR_FUTURE), changed


@PROPERTY
@given(body=digits(9))
def test_nip_property(body):
    check = ref_nip_check(body)
    # excluded: bodies whose weighted sum leaves remainder 10 have no valid NIP at all
    assume(check is not None)
    number = body + str(check)
    assert check_nip(number) == number
    assert check_nip(f"PL{number[:3]}-{number[3:6]}-{number[6:8]}-{number[8:]}") == number
    # 11 is prime and every weight is 1..10, so any single change moves the remainder: always caught
    for _i, changed in single_digit_changes(number, range(10)):
        assert not is_nip(changed), changed


def regon_change_blind(weights, old_body: str, new_body: str) -> bool:
    """(Σ mod 11) mod 10 misses a change of body digits only when Σ mod 11 stays the same (the changed
    position has weight 0) or moves between 0 and 10 (both give check digit 0)."""
    before, after = ref_regon_remainder(old_body, weights), ref_regon_remainder(new_body, weights)
    return before == after or {before, after} == {0, 10}


@PROPERTY
@given(body=digits(8))
def test_regon9_property(body):
    number = body + str(ref_regon_check(body, REF_REGON9))
    assert check_regon(number) == number
    for i, changed in single_digit_changes(number, range(9)):
        # excluded explicitly: a body change that moves the remainder between 0 and 10 is undetectable
        blind = i < 8 and regon_change_blind(REF_REGON9, body, changed[:8])
        assert is_regon(changed) is blind, (number, changed)


@PROPERTY
@given(body9=digits(8), tail=digits(4))
def test_regon14_property(body9, tail):
    regon9 = body9 + str(ref_regon_check(body9, REF_REGON9))
    body = regon9 + tail
    number = body + str(ref_regon_check(body, REF_REGON14))
    assert check_regon(number) == number
    for i, changed in single_digit_changes(number, range(14)):
        # Position 5 (index 4) has weight 0 in REGON-14, so only the REGON-9 prefix rule can see it;
        # otherwise a change is missed only where both sums move between remainders 0 and 10.
        # Index 8 (the prefix's check digit) and index 13 (the check digit) are always caught.
        blind9 = i >= 9 or (i < 8 and regon_change_blind(REF_REGON9, regon9[:8], changed[:8]))
        blind14 = i < 13 and regon_change_blind(REF_REGON14, body, changed[:13])
        assert is_regon(changed) is (blind9 and blind14), (number, changed)


def test_regon14_weight_zero_position_is_caught_by_the_prefix():
    number = "12345678512347"
    for d in "012346789":
        changed = number[:4] + d + number[5:]
        assert ref_regon_check(changed[:13], REF_REGON14) == 7  # the 14-digit sum cannot see it
        raises_code(check_regon, changed, "regon_checksum")


@PROPERTY
@given(letters=st.text(alphabet=string.ascii_uppercase, min_size=3, max_size=3), tail=digits(5))
def test_id_card_property(letters, tail):
    number = letters + str(ref_id_card_check(letters, tail)) + tail
    assert check_id_card(number) == number
    assert check_id_card(number.lower()) == number
    # digit positions carry weights 9 7 3 1 7 3, all coprime to 10: every single digit change is caught
    for _i, changed in single_digit_changes(number, range(3, 9)):
        assert not is_id_card(changed), changed
    # letters (weights 7 3 1) are caught unless the values differ by a multiple of 10 (A/K/U, B/L/V, ...)
    for i in range(3):
        for other in string.ascii_uppercase:
            if other != number[i]:
                changed = number[:i] + other + number[i + 1 :]
                same_mod_10 = (ref_letter(other) - ref_letter(number[i])) % 10 == 0
                assert is_id_card(changed) is same_mod_10, changed


@PROPERTY
@given(bban=digits(24))
def test_iban_property(bban):
    number = ref_iban(bban)
    assert check_iban(number) == number
    assert format_iban(number).replace(" ", "") == number
    # mod 97 (prime, coprime to 10) catches every single substitution, check digits included
    for _i, changed in single_digit_changes(number, range(2, 28)):
        assert not is_iban(changed), changed


@PROPERTY
@given(
    court=st.tuples(
        st.sampled_from(sorted(set(REF_KW_VALUES) - set(DIGITS))),
        st.sampled_from(sorted(set(REF_KW_VALUES) - set(DIGITS))),
        st.sampled_from(DIGITS),
        st.sampled_from(sorted(set(REF_KW_VALUES) - set(DIGITS))),
    ).map("".join),
    body=digits(8),
)
def test_kw_property(court, body):
    number = f"{court}/{body}/{ref_kw_check(court, body)}"
    assert check_kw(number) == number
    assert identifiers.is_kw_number(number)
    # weights 1 3 7 are coprime to 10: every digit change (court digit, number, check digit) is caught;
    # letters are not tested here: values 10 apart (X/J, A/K, ...) are indistinguishable by design
    digit_positions = [2, *range(5, 13), 14]
    for _i, changed in single_digit_changes(number, digit_positions):
        assert not is_kw(changed), changed
