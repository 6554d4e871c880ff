"""What a search text asks for, parsed once at the edge into a frozen `SearchQuery` (no database here).

People type a parcel, an address or a place in many spellings: a full or partial identifier
(`141804_5.0001.100/1`, `141804_5 0001 100/1`), a precinct number and a parcel number (`0001 100/1`,
`obręb 0001 dz. 100/1`), a parcel number alone (`100/1`, `dz. 100/1`), a place and a number
(`Piaseczno 100/1`, `Józefosław I 12`), a street and a house number with or without `ul.` and with the
locality before or after it (`ul. Kościuszki 5 Piaseczno`, `Piaseczno, Kościuszki 5`), or just a name.
The parser keeps every reading that fits; `layers.selectors.search_registry` matches them all in SQL
(accents and case folded there, typos forgiven by trigram similarity) and ranks the hits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_CHARS = 100
MIN_CHARS = 2

# words that only say what follows (folded: lower case, no diacritics, no dot)
STREET_WORDS = frozenset(
    {"ul", "ulica", "al", "aleja", "aleje", "os", "osiedle", "pl", "plac", "skwer", "rondo"}
)
PARCEL_WORDS = frozenset({"dz", "dzialka", "dzialki", "nr", "numer", "ew", "ewid", "ewidencyjna"})
PRECINCT_WORDS = frozenset({"obr", "obreb", "obrebie"})
SHEET_WORDS = frozenset({"ark", "arkusz", "ar", "am"})
FILLER = STREET_WORDS | PARCEL_WORDS | PRECINCT_WORDS | SHEET_WORDS

UNIT_START = re.compile(r"^[0-9]{6}_[0-9]")
ID_CHARS = re.compile(r"^[0-9A-Za-z_./ ]+$")
PARCEL_ID = re.compile(r"^[0-9]{6}_[1-589]\.[0-9]{4}\.(AR_[0-9]{1,4}\.)?[0-9]{1,6}(/[0-9]{1,4})?$")
PRECINCT_ID = re.compile(r"^[0-9]{6}_[1-589]\.[0-9]{4}$")
PARCEL_NO = re.compile(r"^[0-9]{1,6}(/[0-9]{1,4})?$")
HOUSE_NO = re.compile(r"^[0-9]{1,6}(/[0-9]{1,4})?[a-z]?$", re.IGNORECASE)
PRECINCT_NO = re.compile(r"^[0-9]{1,4}$")
SHEET_TOKEN = re.compile(r"^ar_?([0-9]{1,4})$", re.IGNORECASE)


def fold(word: str) -> str:
    """Lower case without diacritics (ł → l too) and without trailing dots: only to recognise the words
    above; names go to the database as typed and are folded there by `gis_unaccent`."""
    word = word.lower().replace("ł", "l").rstrip(".")
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@dataclass(frozen=True)
class SearchQuery:
    text: str  # the text as searched: whitespace collapsed, at most MAX_CHARS
    parcel_id: str = ""  # a complete parcel identifier
    id_prefix: str = ""  # the start of parcel identifiers (digits, `_`, `.`, `/`, `AR_` only)
    precinct_id: str = ""  # a complete precinct identifier
    precinct_no: str = ""  # a precinct number (4 digits) given with a parcel number, or alone
    number: str = ""  # a parcel number (NDZ)
    house_numbers: tuple[str, ...] = ()  # house numbers to try, lower case, best first
    sheet: int | None = None  # map sheet (AR_n) given with a parcel number
    place: str = ""  # the words before the number: a precinct, unit or locality (or a street)
    words: str = ""  # every word except the number: street and locality, in any order
    name: str = ""  # the whole text without filler words: a precinct, street or locality name

    @property
    def empty(self) -> bool:
        return not (
            self.parcel_id
            or self.id_prefix
            or self.precinct_id
            or self.precinct_no
            or self.number
            or self.name
        )


def _normalise(text: str) -> str:
    """NFKC (composed letters, ASCII digits for full-width ones), no control characters, single spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    text = " ".join(text.split())[:MAX_CHARS]
    return re.sub(r"\s*/\s*", "/", text).strip()


def _identifier(text: str) -> SearchQuery | None:
    """`141804_5.0001.100/1` with dots or spaces between the parts (`AR 1`, `AR_1`, `ark. 1` for a sheet);
    a complete precinct id; else the start of identifiers."""
    if not UNIT_START.match(text) or not ID_CHARS.match(text):
        return None
    canon = re.sub(r"[\s.]+", ".", text.strip(" ."))
    canon = re.sub(r"\.(?:ar|ark|arkusz)[._]?(?=[0-9])", ".AR_", canon, flags=re.IGNORECASE)
    canon = re.sub(r"\.AR_\.", ".AR_", canon)
    if PARCEL_ID.match(canon):
        return SearchQuery(text=text, parcel_id=canon, id_prefix=canon)
    if PRECINCT_ID.match(canon):
        return SearchQuery(text=text, precinct_id=canon, id_prefix=canon + ".")
    if re.fullmatch(r"[0-9]{6}_[0-9](\.[0-9A-Z_/]*)*\.?", canon):
        return SearchQuery(text=text, id_prefix=canon)
    return None


def parse(text: str) -> SearchQuery:
    """Every reading of `text` that fits (see the module's docstring). Short or empty text: `empty`."""
    text = _normalise(text)
    if len(text) < MIN_CHARS:
        return SearchQuery(text=text)
    ident = _identifier(text)
    if ident is not None:
        return ident
    # words without punctuation around them; commas and semicolons only separate
    raw = [t.strip(",;:()\"'") for t in re.split(r"[\s,;]+", text)]
    tokens: list[str] = []
    sheet: int | None = None
    after_sheet_word = precinct_word = False
    for tok in raw:
        if not tok:
            continue
        folded = fold(tok)
        if after_sheet_word and PRECINCT_NO.match(tok):
            sheet, after_sheet_word = int(tok), False
            continue
        after_sheet_word = False
        if SHEET_TOKEN.match(tok):
            sheet = int(SHEET_TOKEN.match(tok).group(1))
            continue
        if folded in SHEET_WORDS:
            after_sheet_word = True
            continue
        precinct_word = precinct_word or folded in PRECINCT_WORDS
        if folded in FILLER or not folded.strip("."):
            continue
        tokens.append(tok)
    if not tokens:
        return SearchQuery(text=text)
    name = " ".join(tokens)
    numeric = [t for t in tokens if PARCEL_NO.match(t)]
    if len(numeric) == len(tokens):  # digits only: numbers of precincts and parcels
        if len(tokens) == 1:
            tok = tokens[0]
            if precinct_word and PRECINCT_NO.match(tok):  # "obręb 1"
                return SearchQuery(text=text, precinct_no=tok.zfill(4))
            return SearchQuery(
                text=text,
                number=tok,
                precinct_no=tok if len(tok) == 4 and sheet is None else "",  # "0001"
                id_prefix=tok if len(tok) >= 6 else "",
                sheet=sheet,
            )
        if len(tokens) == 2 and PRECINCT_NO.match(tokens[0]):
            return SearchQuery(text=text, precinct_no=tokens[0].zfill(4), number=tokens[1], sheet=sheet)
        return SearchQuery(text=text, number=tokens[-1], sheet=sheet)
    # a name with a number: the last token that can be a house or parcel number
    at = max((i for i, t in enumerate(tokens) if HOUSE_NO.match(t)), default=None)
    if at is None:
        return SearchQuery(text=text, name=name, words=name)
    no = tokens[at].lower()
    before, after = tokens[:at], tokens[at + 1 :]
    words = " ".join(before + after)
    houses = [no]
    if "/" in no:  # "5/7": house 5, flat 7
        houses.append(no.split("/", 1)[0])
    elif not no[-1].isdigit():  # "5a" where the register has only 5
        houses.append(no[:-1])
    return SearchQuery(
        text=text,
        number=no if PARCEL_NO.match(no) else "",
        house_numbers=tuple(houses) if words else (),
        sheet=sheet,
        place=" ".join(before),
        words=words,
        name=name,
    )
