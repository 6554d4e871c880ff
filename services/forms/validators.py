"""Validators of Polish identifiers used by the e-forms (DOMAIN.md §3 and §5).

Pure functions: no database, no network, no models. Each ``check_<x>(value)`` first removes harmless
formatting (spaces, case, NIP hyphens / ``PL`` prefix, ...), then validates and returns the normalised
value or a small frozen dataclass. On failure it raises ``InvalidInput`` with the code ``<x>_format``,
``<x>_checksum`` (or a more specific one: ``pesel_date``, ``iban_country``, ``parcel_id_unit_kind``) and a
translatable message that names the problem and echoes at most 40 characters of the input.
``is_<x>(value)`` is the boolean twin. ``VALIDATORS`` maps the names used in form definitions (JSON)
to the ``check_`` functions.

Only ASCII digits and letters count: ``str.isdigit`` / ``re``'s ``\\d`` would accept '١٢٣' or full-width
digits, so every pattern here spells out ``[0-9]`` / ``[A-Z]`` and uses ``fullmatch``.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from django.utils.translation import gettext as _

from gisportal.core.errors import InvalidInput
from gisportal.core.identifiers import ParcelId, is_kw_number, kw_check_digit, parse_parcel_id

__all__ = [
    "VALIDATORS",
    "Pesel",
    "check_ade_address",
    "is_ade_address",
    "check_id_card",
    "check_iban",
    "check_kw",
    "check_nip",
    "check_parcel_id",
    "check_pesel",
    "check_postal_code",
    "check_regon",
    "format_iban",
    "is_id_card",
    "is_iban",
    "is_kw",
    "is_kw_number",
    "is_nip",
    "is_parcel_id",
    "is_pesel",
    "is_postal_code",
    "is_regon",
]

# Longer input is refused before any other work (and never echoed in full).
MAX_INPUT_LENGTH = 64
# At most this many characters of the input appear in a message.
ECHO_LIMIT = 40

PESEL_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
REGON9_WEIGHTS = (8, 9, 2, 3, 4, 5, 6, 7)
REGON14_WEIGHTS = (2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8)
ID_CARD_WEIGHTS = (7, 3, 1, 9, 7, 3, 1, 7, 3)  # over all 9 characters; the 4th is the check digit
# PESEL month code // 20 → century (month +80 → 1800s, +0 → 1900s, +20 → 2000s, +40 → 2100s, +60 → 2200s)
PESEL_CENTURIES = {4: 1800, 0: 1900, 1: 2000, 2: 2100, 3: 2200}

_DIGITS_RE = re.compile(r"[0-9]+")
_ID_CARD_RE = re.compile(r"[A-Z]{3}[0-9]{6}")
_IBAN_PL_RE = re.compile(r"PL[0-9]{26}")
_POSTAL_CODE_RE = re.compile(r"[0-9]{2}-[0-9]{3}")
_KW_RE = re.compile(r"[A-Z]{2}[0-9][A-Z]/[0-9]{8}/[0-9]")
_KW_LETTERS = frozenset("ABCDEFGHIJKLMNOPRSTUWXYZ")  # no Q, V (X is the value 10)


@dataclass(frozen=True)
class Pesel:
    number: str
    birth_date: datetime.date
    sex: Literal["M", "F"]

    def __str__(self) -> str:
        return self.number


# -- helpers -------------------------------------------------------------------------------------


def _excerpt(value: str) -> str:
    """At most ECHO_LIMIT characters of the input, control/format characters replaced."""
    shown = "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in value[:ECHO_LIMIT])
    return shown + "…" if len(value) > ECHO_LIMIT else shown


def _text(value: object, name: str, code: str) -> str:
    """The input as a non-empty, not over-long string with surrounding whitespace removed."""
    if not isinstance(value, str):
        raise InvalidInput(_("%(name)s: a text value is required.") % {"name": name}, code=code)
    if len(value) > MAX_INPUT_LENGTH:
        raise InvalidInput(
            _("%(name)s: the value is too long (%(count)d characters).")
            % {"name": name, "count": len(value)},
            code=code,
        )
    value = value.strip()
    if not value:
        raise InvalidInput(_("%(name)s: the value is empty.") % {"name": name}, code=code)
    return value


def _compact(value: str) -> str:
    """Remove every whitespace character (spaces, tabs, no-break spaces, ...)."""
    return "".join(value.split())


def _require_digits(
    value: str, original: str, name: str, code: str, lengths: tuple[int, ...], expected: str
) -> None:
    if not _DIGITS_RE.fullmatch(value):
        raise InvalidInput(
            _("%(name)s: “%(value)s” may contain only the digits 0–9.")
            % {"name": name, "value": _excerpt(original)},
            code=code,
        )
    if len(value) not in lengths:
        raise InvalidInput(
            _("%(name)s: expected %(expected)s digits, got %(count)d.")
            % {"name": name, "expected": expected, "count": len(value)},
            code=code,
        )


def _weighted_sum(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True))


def _checksum_error(name: str, code: str) -> InvalidInput:
    return InvalidInput(
        _("%(name)s: the check digit does not match; please look for a mistyped digit.") % {"name": name},
        code=code,
    )


# -- PESEL ---------------------------------------------------------------------------------------


def check_pesel(value: str, *, today: datetime.date | None = None) -> Pesel:
    """11 digits, check = (10 − Σ mod 10) mod 10, an existing date of birth not after ``today``
    (default: the current date; a PESEL is issued only after birth)."""
    name = _("PESEL number")
    original = _text(value, name, "pesel_format")
    number = _compact(original)
    _require_digits(number, original, name, "pesel_format", (11,), "11")
    if (10 - _weighted_sum(number[:10], PESEL_WEIGHTS) % 10) % 10 != int(number[10]):
        raise _checksum_error(name, "pesel_checksum")
    yy, mm, dd = int(number[0:2]), int(number[2:4]), int(number[4:6])
    century, month = PESEL_CENTURIES.get(mm // 20), mm % 20
    if century is None or not 1 <= month <= 12:
        raise InvalidInput(
            _("PESEL number: the month code %(code)s does not encode any month.") % {"code": number[2:4]},
            code="pesel_date",
        )
    try:
        birth_date = datetime.date(century + yy, month, dd)
    except ValueError:
        raise InvalidInput(
            _("PESEL number: the encoded date of birth %(year)04d-%(month)02d-%(day)02d does not exist.")
            % {"year": century + yy, "month": month, "day": dd},
            code="pesel_date",
        ) from None
    if birth_date > (today or datetime.date.today()):
        raise InvalidInput(
            _("PESEL number: the encoded date of birth %(date)s is in the future.")
            % {"date": birth_date.isoformat()},
            code="pesel_date",
        )
    return Pesel(number=number, birth_date=birth_date, sex="M" if int(number[9]) % 2 else "F")


def is_pesel(value: str, *, today: datetime.date | None = None) -> bool:
    try:
        check_pesel(value, today=today)
    except InvalidInput:
        return False
    return True


# -- NIP -----------------------------------------------------------------------------------------


def check_nip(value: str) -> str:
    """10 digits (hyphens between digits and a ``PL`` prefix allowed), check = Σ mod 11, 10 never valid.
    Returns the 10 digits."""
    name = _("NIP")
    original = _text(value, name, "nip_format")
    number = _compact(original)
    if number[:2] in ("PL", "pl", "Pl", "pL"):
        number = number[2:]
    if number.startswith("-") or number.endswith("-") or "--" in number:
        raise InvalidInput(
            _("%(name)s: “%(value)s” may contain only the digits 0–9.")
            % {"name": name, "value": _excerpt(original)},
            code="nip_format",
        )
    number = number.replace("-", "")
    _require_digits(number, original, name, "nip_format", (10,), "10")
    remainder = _weighted_sum(number[:9], NIP_WEIGHTS) % 11
    if remainder == 10 or remainder != int(number[9]):
        raise _checksum_error(name, "nip_checksum")
    return number


def is_nip(value: str) -> bool:
    try:
        check_nip(value)
    except InvalidInput:
        return False
    return True


# -- REGON ---------------------------------------------------------------------------------------


def _regon_ok(number: str, weights: tuple[int, ...]) -> bool:
    return _weighted_sum(number[:-1], weights) % 11 % 10 == int(number[-1])


def check_regon(value: str) -> str:
    """9 or 14 digits, check = (Σ mod 11) mod 10; a REGON-14 also starts with a valid REGON-9.
    Returns the digits."""
    name = _("REGON")
    original = _text(value, name, "regon_format")
    number = _compact(original)
    _require_digits(number, original, name, "regon_format", (9, 14), _("9 or 14"))
    if not _regon_ok(number[:9], REGON9_WEIGHTS):
        if len(number) == 14:
            raise InvalidInput(
                _("REGON: the first 9 digits (the REGON of the parent unit) have a wrong check digit."),
                code="regon_checksum",
            )
        raise _checksum_error(name, "regon_checksum")
    if len(number) == 14 and not _regon_ok(number, REGON14_WEIGHTS):
        raise _checksum_error(name, "regon_checksum")
    return number


def is_regon(value: str) -> bool:
    try:
        check_regon(value)
    except InvalidInput:
        return False
    return True


# -- ID card (dowód osobisty) -------------------------------------------------------------------


def _alnum_value(char: str) -> int:
    """0–9 for digits, A=10 … Z=35 (ASCII only, the caller has checked)."""
    return int(char, 36)


def check_id_card(value: str) -> str:
    """Three letters and six digits (``ABS123456``); weights 7 3 1 9 7 3 1 7 3 over all nine characters
    (A=10 … Z=35, the 4th character is the check digit), Σ mod 10 = 0. Returns it in upper case."""
    name = _("ID card number")
    original = _text(value, name, "id_card_format")
    number = _compact(original)
    if not number.isascii() or not _ID_CARD_RE.fullmatch(number.upper()):
        raise InvalidInput(
            _("%(name)s: “%(value)s” is not three letters followed by six digits (e.g. ABS123456).")
            % {"name": name, "value": _excerpt(original)},
            code="id_card_format",
        )
    number = number.upper()
    if sum(_alnum_value(c) * w for c, w in zip(number, ID_CARD_WEIGHTS, strict=True)) % 10:
        raise _checksum_error(name, "id_card_checksum")
    return number


def is_id_card(value: str) -> bool:
    try:
        check_id_card(value)
    except InvalidInput:
        return False
    return True


# -- IBAN (Polish accounts only) ----------------------------------------------------------------


def check_iban(value: str) -> str:
    """``PL`` + 26 digits (spaces and lower case allowed; 26 digits alone are read as a Polish NRB),
    ISO 13616 mod 97 = 1. Returns the compact form ``PL61109010140000071219812874``."""
    name = _("Account number (IBAN)")
    original = _text(value, name, "iban_format")
    number = _compact(original)
    if not number.isascii():
        raise InvalidInput(
            _("%(name)s: “%(value)s” may contain only letters and the digits 0–9.")
            % {"name": name, "value": _excerpt(original)},
            code="iban_format",
        )
    number = number.upper()
    if len(number) == 26 and _DIGITS_RE.fullmatch(number):
        number = "PL" + number  # the domestic NRB is the IBAN without the country code
    if len(number) >= 2 and number[:2].isalpha() and number[:2] != "PL":
        raise InvalidInput(
            _("%(name)s: only Polish accounts (PL followed by 26 digits) are accepted, not %(country)s.")
            % {"name": name, "country": number[:2]},
            code="iban_country",
        )
    if not _IBAN_PL_RE.fullmatch(number):
        digits = number[2:] if number.startswith("PL") else number
        if _DIGITS_RE.fullmatch(digits):
            message = _("%(name)s: expected PL followed by 26 digits, got %(count)d digits.") % {
                "name": name,
                "count": len(digits),
            }
        else:
            message = _("%(name)s: “%(value)s” is not PL followed by 26 digits.") % {
                "name": name,
                "value": _excerpt(original),
            }
        raise InvalidInput(message, code="iban_format")
    # move the first four characters to the end; P = 25, L = 21
    if int(number[4:] + "2521" + number[2:4]) % 97 != 1:
        raise InvalidInput(
            _("%(name)s: the check digits do not match; please look for a mistyped digit.") % {"name": name},
            code="iban_checksum",
        )
    return number


def format_iban(value: str) -> str:
    """The validated IBAN in groups of four: ``PL61 1090 1014 0000 0712 1981 2874``."""
    number = check_iban(value)
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def is_iban(value: str) -> bool:
    try:
        check_iban(value)
    except InvalidInput:
        return False
    return True


# -- postal code ---------------------------------------------------------------------------------


def check_postal_code(value: str) -> str:
    """Exactly ``NN-NNN`` (surrounding whitespace ignored, nothing else normalised)."""
    name = _("Postal code")
    code = _text(value, name, "postal_code_format")
    if not _POSTAL_CODE_RE.fullmatch(code):
        raise InvalidInput(
            _("%(name)s: “%(value)s” is not of the form NN-NNN (e.g. 05-500).")
            % {"name": name, "value": _excerpt(code)},
            code="postal_code_format",
        )
    return code


def is_postal_code(value: str) -> bool:
    try:
        check_postal_code(value)
    except InvalidInput:
        return False
    return True


# -- KW (land register number) -------------------------------------------------------------------


def check_kw(value: str) -> str:
    """``CCCC/NNNNNNNN/K`` (spaces and lower case allowed), check digit as in
    ``gisportal.core.identifiers.kw_check_digit``. Returns it in upper case."""
    name = _("Land register (KW) number")
    original = _text(value, name, "kw_format")
    number = _compact(original)
    if not number.isascii() or not _KW_RE.fullmatch(number.upper()):
        raise InvalidInput(
            _("%(name)s: “%(value)s” is not of the form CCCC/NNNNNNNN/K (e.g. WA1I/00012345/7).")
            % {"name": name, "value": _excerpt(original)},
            code="kw_format",
        )
    number = number.upper()
    court, body, check = number.split("/")
    if not set(court[:2] + court[3]) <= _KW_LETTERS:
        raise InvalidInput(
            _("%(name)s: the court code %(court)s uses a letter that never occurs in court codes (Q or V).")
            % {"name": name, "court": court},
            code="kw_format",
        )
    if kw_check_digit(court, body) != int(check):
        raise _checksum_error(name, "kw_checksum")
    return number


def is_kw(value: str) -> bool:
    """Like ``is_kw_number`` but never raises (also for non-ASCII digits) and allows inner spaces."""
    try:
        check_kw(value)
    except InvalidInput:
        return False
    return True


# -- parcel identifier ---------------------------------------------------------------------------


def check_parcel_id(value: str) -> ParcelId:
    """Format only (``WWPPGG_R.XXXX[.AR_n].NDZ``, DOMAIN.md §3.1); whether the parcel exists is
    checked elsewhere."""
    name = _("Parcel identifier")
    text = _text(value, name, "parcel_id_format")
    format_error = InvalidInput(
        _("%(name)s: “%(value)s” is not of the form WWPPGG_R.XXXX.NDZ (e.g. 141804_4.0001.123/4).")
        % {"name": name, "value": _excerpt(text)},
        code="parcel_id_format",
    )
    if not text.isascii():  # parse_parcel_id's \d would accept other scripts' digits
        raise format_error
    try:
        return parse_parcel_id(text)
    except InvalidInput as error:
        if error.code == "parcel_id_format":  # its own message may echo up to 80 characters
            raise format_error from None
        raise


def is_parcel_id(value: str) -> bool:
    try:
        check_parcel_id(value)
    except InvalidInput:
        return False
    return True


# -- e-delivery address (ADE) --------------------------------------------------------------------

_ADE_RE = re.compile(r"AE:PL-[0-9]{5}-[0-9]{5}-[A-Z]{5}-[0-9]{2}")


def check_ade_address(value: str) -> str:
    """An address for e-delivery (adres do doręczeń elektronicznych, DOMAIN.md §1):
    ``AE:PL-XXXXX-XXXXX-YYYYY-ZZ`` (X and Z digits, Y letters). Spaces are removed and letters put in
    upper case; there is no published check digit, so only the shape is checked."""
    name = _("E-delivery address")
    original = _text(value, name, "ade_address_format")
    address = _compact(original).upper()
    if not address.isascii() or not _ADE_RE.fullmatch(address):
        raise InvalidInput(
            _("%(name)s: “%(value)s” is not of the form AE:PL-12345-67890-ABCDE-12.")
            % {"name": name, "value": _excerpt(original)},
            code="ade_address_format",
        )
    return address


def is_ade_address(value: str) -> bool:
    try:
        check_ade_address(value)
    except InvalidInput:
        return False
    return True


# -- registry for form definitions ----------------------------------------------------------------

VALIDATORS: dict[str, Callable[[str], object]] = {
    "pesel": check_pesel,
    "nip": check_nip,
    "regon": check_regon,
    "id_card": check_id_card,
    "iban": check_iban,
    "postal_code": check_postal_code,
    "kw": check_kw,
    "parcel_id": check_parcel_id,
    "ade_address": check_ade_address,
}
