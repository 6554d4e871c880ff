"""Official identifier formats (DOMAIN.md §3): parse and validate, no database access."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .errors import InvalidInput

# ASCII digits only ([0-9], not \d), whole string (\Z: no trailing newline), bounded lengths
UNIT_RE = re.compile(r"^[0-9]{6}_[1-589]\Z")
PRECINCT_RE = re.compile(r"^[0-9]{6}_[1-589]\.[0-9]{4}\Z")
PARCEL_RE = re.compile(r"^[0-9]{6}_[1-589]\.[0-9]{4}\.(AR_[0-9]{1,4}\.)?[0-9]{1,6}(/[0-9]{1,4})?\Z")
BUILDING_RE = re.compile(
    r"^[0-9]{6}_[1-589]\.[0-9]{4}\.(AR_[0-9]{1,4}\.)?[0-9]{1,6}(/[0-9]{1,4})?\.[0-9]{1,4}_BUD\Z"
)
TERYT_RE = re.compile(r"^[0-9]{2}([0-9]{2}([0-9]{3})?)?\Z")
POSTCODE_RE = re.compile(r"^[0-9]{2}-[0-9]{3}\Z")
# kinds of cadastral unit (the digit after the underscore)
UNIT_KINDS = {
    "1": _("urban gmina"),
    "2": _("rural gmina"),
    "3": _("urban-rural gmina (whole)"),
    "4": _("town of an urban-rural gmina"),
    "5": _("rural area of an urban-rural gmina"),
    "8": _("district of Warsaw"),
    "9": _("district of another city"),
}


@dataclass(frozen=True)
class ParcelId:
    unit: str  # WWPPGG_R
    precinct: str  # XXXX
    sheet: int | None  # AR_n
    number: str  # NDZ, may hold "/"

    @property
    def precinct_id(self) -> str:
        return f"{self.unit}.{self.precinct}"

    def __str__(self) -> str:
        sheet = f"AR_{self.sheet}." if self.sheet is not None else ""
        return f"{self.unit}.{self.precinct}.{sheet}{self.number}"


def parse_parcel_id(value: str) -> ParcelId:
    """Parse `WWPPGG_R.XXXX[.AR_n].NDZ`. Raises InvalidInput with a localised message."""
    value = (value or "").strip()
    if not PARCEL_RE.match(value):
        raise InvalidInput(
            _(
                "“%(value)s” is not a parcel identifier of the form WWPPGG_R.XXXX.NDZ (e.g. 141804_4.0001.123/4)."
            )
            % {"value": value[:40]},
            code="parcel_id_format",
        )
    unit, precinct, rest = value.split(".", 2)
    if unit.endswith("_3"):
        # DOMAIN.md §3.1: parcel ids never carry _3 (that code is the whole urban-rural gmina)
        raise InvalidInput(
            _(
                "Parcel identifiers never use unit kind _3 (the whole urban-rural gmina); use _4 (town) or _5 (rural area)."
            ),
            code="parcel_id_unit_kind",
        )
    sheet = None
    if rest.startswith("AR_"):
        sheet_part, rest = rest.split(".", 1)
        sheet = int(sheet_part[3:])
    return ParcelId(unit=unit, precinct=precinct, sheet=sheet, number=rest)


def is_parcel_id(value: str) -> bool:
    try:
        parse_parcel_id(value)
    except InvalidInput:
        return False
    return True


def building_id(parcel_id: str, n: int) -> str:
    return f"{parcel_id}.{n}_BUD"


def is_building_id(value: str) -> bool:
    return bool(BUILDING_RE.match(value or "")) and not value.split(".", 1)[0].endswith("_3")


def is_precinct_id(value: str) -> bool:
    return bool(PRECINCT_RE.match(value or ""))


def is_unit_id(value: str) -> bool:
    return bool(UNIT_RE.match(value or ""))


def teryt_level(code: str) -> str:
    """'voivodeship' (2 digits), 'county' (4) or 'gmina' (7, with the type digit)."""
    if not TERYT_RE.match(code or ""):
        raise InvalidInput(_("“%(value)s” is not a TERYT code.") % {"value": (code or "")[:20]}, code="teryt")
    return {2: "voivodeship", 4: "county", 7: "gmina"}[len(code)]


_KW_VALUES = {
    **{str(d): d for d in range(10)},
    "X": 10,
    **{c: 11 + i for i, c in enumerate("ABCDEFGHIJKLMNOPRSTUWYZ")},
}
KW_RE = re.compile(r"^[A-Z]{2}[0-9][A-Z]/[0-9]{8}/[0-9]\Z")


def kw_check_digit(court: str, number: str) -> int:
    """Check digit of a land-register (KW) number: weights 1 3 7 over the 12 characters, Σ mod 10."""
    chars = (court + number).upper()
    try:
        v = [_KW_VALUES[c] for c in chars]
    except KeyError:
        v = []
    if len(v) != 12:
        raise InvalidInput(
            _("“%(value)s” is not a land register number.") % {"value": f"{court}/{number}"[:30]},
            code="kw_format",
        )
    return (sum(v[0::3]) + 3 * sum(v[1::3]) + 7 * sum(v[2::3])) % 10  # weights 1 3 7 1 3 7 …


def is_kw_number(value: str) -> bool:
    """True for a well-formed land-register number with the right check digit; False for anything
    else (never raises: one odd number in an imported file must not stop the import)."""
    if not isinstance(value, str):
        return False
    value = value.strip()
    if not value.isascii():  # "ı".upper() == "I": compare ASCII only
        return False
    value = value.upper()
    if not KW_RE.match(value):
        return False
    court, number, check = value.split("/")
    if any(c not in _KW_VALUES for c in court):  # Q and V never occur in court codes and have no value
        return False
    return kw_check_digit(court, number) == int(check)
