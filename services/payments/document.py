"""The document that tells a citizen what to pay: the county's fee calculation document ("Dokument
Obliczenia Opłaty", DOO, DOMAIN.md §6) or the gmina's request to pay stamp duty ("Wezwanie do zapłaty
opłaty skarbowej"). Like our receipts (services/receipts/upp.py) it is an XML document in our own
namespace sealed with the office's XAdES seal, with a 24-character verification code and a PDF
rendering of it.

No database I/O: plain values in (`FeeDocumentData`), bytes out. Building the XML is apart from
sealing it, so that a test or a verification page can rebuild and compare. `genuine` checks the seal
AND what the sealed XML states (code, total, id), so an edited amount is never genuine even where an
attacker re-seals the file with some other key.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

from services.offices import sealing
from services.offices.seals import Seal

NS = "https://gisportal.piaseczno.eu/schemas/oplata/1.0"
KINDS = ("doo", "stamp_duty")
CURRENCY = "PLN"
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")  # what amount_in_words can say; far above any fee
_IBAN_PL = re.compile(r"^PL\d{26}$")
_ABSOLUTE_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


# ---------------------------------------------------------------- the data
@dataclass(frozen=True)
class FeeDocumentLine:
    """One position of the fee. `amount` is stated, not derived: a capped fee (a wyrys at most 200 zł)
    is not quantity × unit price."""

    label: str
    quantity: int
    unit_price: Decimal
    amount: Decimal

    def __post_init__(self) -> None:
        if not self.label.strip():
            raise ValueError("a fee line needs a label")
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity < 1:
            raise ValueError("a fee line's quantity is a whole number of at least 1")
        _check_money("unit_price", self.unit_price)
        _check_money("amount", self.amount)


@dataclass(frozen=True)
class FeeDocumentData:
    """Everything the document states. Checked on creation: an official document that does not add
    up, has an invalid account or a malformed code must not be sealed at all."""

    document_id: str  # uuid
    kind: str  # doo | stamp_duty
    number: str
    verification_code: str  # 24 characters, sealing.CODE_ALPHABET
    issuer_name: str
    issuer_address: str
    issuer_nip: str
    issuer_teryt: str
    payer_name: str
    payer_address: str
    case_sign: str
    subject: str
    lines: tuple[FeeDocumentLine, ...]
    total: Decimal  # the sum of the lines' amounts, 2 places
    currency: str
    legal_basis: str
    account: str  # IBAN, "PL" + 26 digits, no spaces
    title: str  # of the bank transfer
    due_date: date
    issued_at: datetime  # aware
    issued_by: str  # the clerk's name; "" = issued automatically
    verify_url: str  # absolute
    pay_url: str  # absolute

    def __post_init__(self) -> None:
        for problem in _problems(self):
            raise ValueError(problem)


def _check_money(name: str, value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name} must be a finite Decimal")
    if value < 0 or value > MAX_AMOUNT or value != value.quantize(CENT):
        raise ValueError(f"{name} must be from 0.00 to {MAX_AMOUNT} with at most 2 decimal places")


def _problems(d: FeeDocumentData):
    """What is wrong with the data, first problem first (a generator: stops at the first raise)."""
    try:
        uuid.UUID(d.document_id)
    except (ValueError, TypeError, AttributeError):
        yield "document_id must be a UUID"
    if d.kind not in KINDS:
        yield f"kind must be one of {KINDS}"
    if not sealing.code_well_formed(d.verification_code):
        yield "verification_code must be 24 characters A-Z, 0-9"
    if not d.lines or not all(isinstance(line, FeeDocumentLine) for line in d.lines):
        yield "a fee document has at least one FeeDocumentLine"
    _check_money("total", d.total)
    if d.total != sum((line.amount for line in d.lines), Decimal("0.00")):
        yield "total must be the sum of the lines' amounts"
    if d.currency != CURRENCY:
        yield f"currency must be {CURRENCY}"
    if not iban_valid(d.account):
        yield "account must be a valid Polish IBAN (PL + 26 digits, no spaces)"
    if not isinstance(d.due_date, date) or isinstance(d.due_date, datetime):
        yield "due_date must be a date"
    if not isinstance(d.issued_at, datetime) or d.issued_at.utcoffset() is None:
        yield "issued_at must be an aware datetime"
    for name in ("verify_url", "pay_url"):
        if not _ABSOLUTE_URL.match(getattr(d, name) or ""):
            yield f"{name} must be an absolute http(s) URL"
    for name in ("number", "issuer_name", "payer_name", "subject", "title", "legal_basis"):
        if not (getattr(d, name) or "").strip():
            yield f"{name} must not be empty"


def iban_valid(iban: str) -> bool:
    """A Polish IBAN in compact form whose ISO 13616 check digits hold (mod 97 = 1): a mistyped
    account on a payment request sends a citizen's money nowhere."""
    if not isinstance(iban, str) or not _IBAN_PL.match(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def format_iban(iban: str) -> str:
    """Groups of four, as banks print it: "PL05 1240 6973 1111 0010 8670 6226"."""
    compact = re.sub(r"\s", "", iban or "").upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def money(value: Decimal) -> str:
    """The amount as the XML states it: "150.00"."""
    return format(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP), "f")


def format_amount(value: Decimal) -> str:
    """The amount as a Polish document prints it: "1 200,00 zł" (non-breaking space between thousands,
    so a line never breaks inside an amount)."""
    whole, cents = money(value).split(".")
    groups = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    return "\u00a0".join([whole, *groups]) + f",{cents}\u00a0zł"


# ---------------------------------------------------------------- amount in words
_UNITS = ("", "jeden", "dwa", "trzy", "cztery", "pięć", "sześć", "siedem", "osiem", "dziewięć")
_TEENS = (
    "dziesięć",
    "jedenaście",
    "dwanaście",
    "trzynaście",
    "czternaście",
    "piętnaście",
    "szesnaście",
    "siedemnaście",
    "osiemnaście",
    "dziewiętnaście",
)
_TENS = (
    "",
    "",
    "dwadzieścia",
    "trzydzieści",
    "czterdzieści",
    "pięćdziesiąt",
    "sześćdziesiąt",
    "siedemdziesiąt",
    "osiemdziesiąt",
    "dziewięćdziesiąt",
)
_HUNDREDS = (
    "",
    "sto",
    "dwieście",
    "trzysta",
    "czterysta",
    "pięćset",
    "sześćset",
    "siedemset",
    "osiemset",
    "dziewięćset",
)
# (one, few, many): 1 złoty, 2-4 złote (not 12-14), otherwise złotych
_ZLOTY = ("złoty", "złote", "złotych")
_SCALES = ((10**6, ("milion", "miliony", "milionów")), (10**3, ("tysiąc", "tysiące", "tysięcy")))


def _plural(n: int, forms: tuple[str, str, str]) -> str:
    if n == 1:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def _below_thousand(n: int) -> list[str]:
    words = [_HUNDREDS[n // 100]]
    tens, units = divmod(n % 100, 10)
    if tens == 1:
        words.append(_TEENS[units])
    else:
        words += [_TENS[tens], _UNITS[units]]
    return [w for w in words if w]


def _whole_in_words(n: int) -> list[str]:
    if n == 0:
        return ["zero"]
    words: list[str] = []
    for scale, forms in _SCALES:
        group, n = divmod(n, scale)
        if group == 1:
            words.append(forms[0])  # "tysiąc", not "jeden tysiąc"
        elif group:
            words += [*_below_thousand(group), _plural(group, forms)]
    return words + _below_thousand(n)


def amount_in_words(value: Decimal) -> str:
    """The amount in Polish words with the grosze as a fraction, as fee documents print it beside the
    figures: "sto czterdzieści złotych 00/100", "jeden złoty 50/100", "dwa złote 00/100"."""
    try:
        amount = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError("not an amount") from None
    if not amount.is_finite() or not 0 <= amount <= MAX_AMOUNT:
        raise ValueError(f"the amount must be from 0.00 to {MAX_AMOUNT}")
    grosze = int(amount * 100)
    whole, cents = divmod(grosze, 100)
    return " ".join([*_whole_in_words(whole), _plural(whole, _ZLOTY), f"{cents:02d}/100"])


# ---------------------------------------------------------------- XML and seal
def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{NS}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def build(d: FeeDocumentData) -> etree._Element:
    """The unsealed document (root DokumentOplaty in NS). Amounts are "150.00"; dates ISO 8601."""
    root = etree.Element(f"{{{NS}}}DokumentOplaty", nsmap={"opl": NS})
    _el(root, "Rodzaj", d.kind)
    _el(root, "Numer", d.number)
    _el(root, "KodWeryfikacyjny", d.verification_code)
    _el(root, "IdentyfikatorDokumentu", d.document_id)
    issuer = _el(root, "Wystawca")
    _el(issuer, "Nazwa", d.issuer_name)
    _el(issuer, "Adres", d.issuer_address)
    _el(issuer, "NIP", d.issuer_nip)
    _el(issuer, "TERYT", d.issuer_teryt)
    payer = _el(root, "Zobowiazany")
    _el(payer, "Nazwa", d.payer_name)
    _el(payer, "Adres", d.payer_address)
    _el(root, "ZnakSprawy", d.case_sign)
    _el(root, "Przedmiot", d.subject)
    lines = _el(root, "Pozycje")
    for line in d.lines:
        item = _el(lines, "Pozycja")
        _el(item, "Opis", line.label)
        _el(item, "Ilosc", str(line.quantity))
        _el(item, "CenaJednostkowa", money(line.unit_price))
        _el(item, "Kwota", money(line.amount))
    _el(root, "Razem", money(d.total), waluta=d.currency)
    _el(root, "PodstawaPrawna", d.legal_basis)
    _el(root, "RachunekBankowy", d.account)
    _el(root, "TytulPrzelewu", d.title)
    _el(root, "TerminPlatnosci", d.due_date.isoformat())
    _el(root, "DataWystawienia", d.issued_at.isoformat())
    if d.issued_by:
        _el(root, "Wystawil", d.issued_by)
    else:
        _el(root, "Wystawil", "", automatycznie="true")
    _el(root, "AdresWeryfikacji", d.verify_url)
    _el(root, "AdresPlatnosci", d.pay_url)
    return root


def seal(d: FeeDocumentData, seal: Seal) -> bytes:
    """The document sealed with the office's seal (XAdES-BES, enveloped), as UTF-8 XML bytes."""
    return sealing.sign(build(d), seal)


def genuine(
    xml: bytes,
    office,
    *,
    at: datetime,
    verification_code: str,
    total: Decimal,
    document_id: str,
) -> bool:
    """The XML carries a valid seal of this office (`sealing.sealed_by`: one of its own certificates,
    valid at `at`, when the document was issued) AND the sealed content states this verification
    code, this total in PLN and this document id. Read from the signed element that verified, never
    from the raw file (a signature wrapped around other content proves nothing about it)."""
    signed = sealing.sealed_by(xml, office, at=at)
    if signed is None:
        return False
    try:
        expected_total = money(total)
    except (InvalidOperation, TypeError, ValueError):
        return False
    razem = signed.find(f"{{{NS}}}Razem")
    return (
        signed.tag == f"{{{NS}}}DokumentOplaty"
        and signed.findtext(f"{{{NS}}}KodWeryfikacyjny") == verification_code
        and signed.findtext(f"{{{NS}}}IdentyfikatorDokumentu") == document_id
        and razem is not None
        and razem.text == expected_total
        and razem.get("waluta") == CURRENCY
    )


# ---------------------------------------------------------------- PDF
def _context(d: FeeDocumentData) -> dict[str, object]:
    import segno

    return {
        "d": d,
        "code": sealing.format_code(d.verification_code),
        "qr": segno.make(d.verify_url, error="m").svg_data_uri(scale=3),
        "account": format_iban(d.account),
        "total": format_amount(d.total),
        "total_words": amount_in_words(d.total),
        "lines": [
            {"line": line, "unit_price": format_amount(line.unit_price), "amount": format_amount(line.amount)}
            for line in d.lines
        ],
    }


def html(d: FeeDocumentData) -> str:
    """The document as HTML, always in Polish: it is an official document of a Polish office,
    whatever language the citizen browses in."""
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("pl"):
        return render_to_string("payments/fee_document_pdf.html", _context(d))


def render(d: FeeDocumentData):
    """The laid-out WeasyPrint document (pages and boxes): what `pdf` writes, and what tests read."""
    import weasyprint  # heavy: loaded on first use
    from django.conf import settings

    return weasyprint.HTML(string=html(d), base_url=str(settings.BASE_DIR)).render()


def pdf(d: FeeDocumentData) -> bytes:
    """The PDF (A4) of the document: amount in figures and words, account, title, due date, legal
    basis, the lines, the issuer, the verification code and a QR code of the verification page. Tagged
    (headings, table structure, language) so that a screen reader reads it as the HTML it came from."""
    return render(d).write_pdf(pdf_tags=True)
