"""The fee calculation document (DOO) and the stamp-duty payment request: the XML states what the
citizen pays, the office's seal makes it genuine, and any edit (amount, code, id) or another office's
seal makes it not genuine; the amount in Polish words and the PDF a citizen prints."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from lxml import etree

from services.offices.models import Office
from services.offices.sealing import verification_code_new
from services.offices.seals import Seal, generate_pair, seal_for
from services.payments import document as fee_doc
from services.payments.document import (
    NS,
    FeeDocumentData,
    FeeDocumentLine,
    amount_in_words,
    format_iban,
    genuine,
)

GMINA_ACCOUNT = "PL05124069731111001086706226"


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _data(**overrides) -> FeeDocumentData:
    lines = (
        FeeDocumentLine(
            "wypis i wyrys z ewidencji gruntów (za JRG)", 1, Decimal("140.00"), Decimal("140.00")
        ),
        FeeDocumentLine("wypis z ewidencji uproszczony (za działkę)", 2, Decimal("15.00"), Decimal("30.00")),
    )
    values = {
        "document_id": str(uuid.uuid4()),
        "kind": "doo",
        "number": "DOO/GK/2026/000017",
        "verification_code": verification_code_new(),
        "issuer_name": "Starostwo Powiatowe w Piasecznie",
        "issuer_address": "ul. Czajewicza 20, 05-500 Piaseczno",
        "issuer_nip": "1231210962",
        "issuer_teryt": "1418",
        "payer_name": "Jan Kowalski",
        "payer_address": "ul. Puławska 1, 05-500 Piaseczno",
        "case_sign": "GK.6640.4.14.2026",
        "subject": "Udostępnienie materiałów PZGiK",
        "lines": lines,
        "total": Decimal("170.00"),
        "currency": "PLN",
        "legal_basis": "art. 40b, 40d ustawy Prawo geodezyjne i kartograficzne",
        "account": GMINA_ACCOUNT,
        "title": "DOO/GK/2026/000017 opłata PZGiK",
        "due_date": date(2026, 5, 15),
        "issued_at": timezone.now().replace(microsecond=0),
        "issued_by": "",
        "verify_url": "https://gisportal.piaseczno.eu/weryfikacja/",
        "pay_url": "https://gisportal.piaseczno.eu/oplaty/zaplac/",
    }
    values.update(overrides)
    return FeeDocumentData(**values)


# ---------------------------------------------------------------- data and XML
def test_build_states_everything_in_polish_element_names():
    d = _data(issued_by="Anna Nowak")
    root = fee_doc.build(d)
    assert root.tag == _q("DokumentOplaty")
    assert root.findtext(_q("Rodzaj")) == "doo"
    assert root.findtext(_q("KodWeryfikacyjny")) == d.verification_code
    assert root.findtext(_q("IdentyfikatorDokumentu")) == d.document_id
    assert root.findtext(f"{_q('Wystawca')}/{_q('NIP')}") == "1231210962"
    assert root.findtext(f"{_q('Wystawca')}/{_q('TERYT')}") == "1418"
    assert root.findtext(f"{_q('Zobowiazany')}/{_q('Nazwa')}") == "Jan Kowalski"
    items = root.findall(f"{_q('Pozycje')}/{_q('Pozycja')}")
    assert [
        (i.findtext(_q("Ilosc")), i.findtext(_q("CenaJednostkowa")), i.findtext(_q("Kwota"))) for i in items
    ] == [
        ("1", "140.00", "140.00"),
        ("2", "15.00", "30.00"),
    ]
    razem = root.find(_q("Razem"))
    assert (razem.text, razem.get("waluta")) == ("170.00", "PLN")
    assert root.findtext(_q("RachunekBankowy")) == GMINA_ACCOUNT
    assert root.findtext(_q("TerminPlatnosci")) == "2026-05-15"
    assert datetime.fromisoformat(root.findtext(_q("DataWystawienia"))) == d.issued_at
    assert root.findtext(_q("Wystawil")) == "Anna Nowak"
    assert root.findtext(_q("AdresPlatnosci")) == d.pay_url
    auto = fee_doc.build(_data()).find(_q("Wystawil"))
    assert auto.get("automatycznie") == "true" and not auto.text


@pytest.mark.parametrize(
    "overrides",
    [
        {"total": Decimal("169.99")},  # does not add up
        {"total": Decimal("170.001")},
        {"account": "PL06124069731111001086706226"},  # check digits wrong
        {"account": "PL05 1240 6973 1111 0010 8670 6226"},  # not compact
        {"account": "DE89370400440532013000"},
        {"verification_code": "SHORT"},
        {"kind": "invoice"},
        {"document_id": "not-a-uuid"},
        {"currency": "EUR"},
        {"issued_at": datetime(2026, 5, 1, 12, 0)},  # naive
        {"verify_url": "/weryfikacja/"},
        {"pay_url": "javascript:alert(1)"},
        {"lines": ()},
        {"payer_name": " "},
    ],
)
def test_data_that_an_official_document_must_not_state_is_refused(overrides):
    with pytest.raises(ValueError):
        _data(**overrides)


def test_lines_are_checked():
    with pytest.raises(ValueError):
        FeeDocumentLine("x", 0, Decimal("1.00"), Decimal("0.00"))
    with pytest.raises(ValueError):
        FeeDocumentLine("x", 1, Decimal("-1.00"), Decimal("-1.00"))
    with pytest.raises(ValueError):
        FeeDocumentLine("x", 1, 15.0, Decimal("15.00"))  # float: never money
    # a capped fee is stated, not derived: 12 parts of a wyrys at 20 zł, at most 200 zł
    assert FeeDocumentLine("wyrys", 12, Decimal("20.00"), Decimal("200.00")).amount == Decimal("200.00")


def test_format_iban():
    assert format_iban(GMINA_ACCOUNT) == "PL05 1240 6973 1111 0010 8670 6226"
    assert format_iban("pl05 1240 69731111001086706226") == "PL05 1240 6973 1111 0010 8670 6226"
    assert fee_doc.iban_valid(GMINA_ACCOUNT) and not fee_doc.iban_valid("PL05124069731111001086706227")


@pytest.mark.parametrize(
    "value, words",
    [
        ("0.05", "zero złotych 05/100"),
        ("1", "jeden złoty 00/100"),
        ("1.50", "jeden złoty 50/100"),
        ("2", "dwa złote 00/100"),
        ("5", "pięć złotych 00/100"),
        ("12", "dwanaście złotych 00/100"),
        ("14", "czternaście złotych 00/100"),
        ("22", "dwadzieścia dwa złote 00/100"),
        ("100", "sto złotych 00/100"),
        ("122", "sto dwadzieścia dwa złote 00/100"),
        ("140", "sto czterdzieści złotych 00/100"),
        ("150.50", "sto pięćdziesiąt złotych 50/100"),
        ("212", "dwieście dwanaście złotych 00/100"),
        ("1000", "tysiąc złotych 00/100"),
        ("1001", "tysiąc jeden złotych 00/100"),
        ("1200", "tysiąc dwieście złotych 00/100"),
        ("2000", "dwa tysiące złotych 00/100"),
        ("5000", "pięć tysięcy złotych 00/100"),
        ("12000", "dwanaście tysięcy złotych 00/100"),
        ("21000", "dwadzieścia jeden tysięcy złotych 00/100"),
        ("22000", "dwadzieścia dwa tysiące złotych 00/100"),
        ("1000000", "milion złotych 00/100"),
        ("2500000", "dwa miliony pięćset tysięcy złotych 00/100"),
        (
            "999999999.99",
            "dziewięćset dziewięćdziesiąt dziewięć milionów dziewięćset dziewięćdziesiąt "
            "dziewięć tysięcy dziewięćset dziewięćdziesiąt dziewięć złotych 99/100",
        ),
    ],
)
def test_amount_in_words(value, words):
    assert amount_in_words(Decimal(value)) == words


@pytest.mark.parametrize("value", ["-1", "1000000000", "NaN", "Infinity"])
def test_amount_in_words_refuses_what_no_fee_is(value):
    with pytest.raises(ValueError):
        amount_in_words(Decimal(value))


# ---------------------------------------------------------------- seal
@pytest.fixture
def county():
    return Office.objects.get(code="sp-piaseczno")


@pytest.fixture
def gmina():
    return Office.objects.get(code="um-piaseczno")


def _genuine(xml: bytes, office, d: FeeDocumentData, **overrides) -> bool:
    kwargs = {
        "at": d.issued_at,
        "verification_code": d.verification_code,
        "total": d.total,
        "document_id": d.document_id,
    }
    kwargs.update(overrides)
    return genuine(xml, office, **kwargs)


@pytest.mark.django_db
def test_sealed_document_is_genuine_and_states_what_it_was_built_from(county):
    d = _data()
    xml = fee_doc.seal(d, seal_for(county))
    assert xml.startswith(b"<?xml") and b"Signature" in xml
    assert _genuine(xml, county, d)
    assert _genuine(xml, county, d, total=Decimal("170"))  # the same amount, written differently
    assert etree.fromstring(xml).findtext(_q("Razem")) == "170.00"


@pytest.mark.django_db
def test_edited_documents_are_not_genuine(county):
    d = _data()
    xml = fee_doc.seal(d, seal_for(county))
    edits = {
        "total": (b'waluta="PLN">170.00<', b'waluta="PLN">17.00<'),
        "line amount": (b">140.00</opl:Kwota>", b">14.00</opl:Kwota>"),
        "code": (d.verification_code.encode(), verification_code_new().encode()),
        "id": (d.document_id.encode(), str(uuid.uuid4()).encode()),
        "account": (GMINA_ACCOUNT.encode(), b"PL61109010140000071219812874"),
    }
    for name, (old, new) in edits.items():
        assert xml.count(old) == 1, name
        assert not _genuine(xml.replace(old, new), county, d), name
    assert not _genuine(xml[:-40], county, d)
    assert not _genuine(b"", county, d)


@pytest.mark.django_db
def test_genuine_requires_the_stated_code_total_and_id(county):
    d = _data()
    xml = fee_doc.seal(d, seal_for(county))
    assert not _genuine(xml, county, d, total=Decimal("169.99"))
    assert not _genuine(xml, county, d, total=Decimal("1700.00"))
    assert not _genuine(xml, county, d, verification_code=verification_code_new())
    assert not _genuine(xml, county, d, document_id=str(uuid.uuid4()))
    assert not _genuine(xml, county, d, total="not an amount")


@pytest.mark.django_db
def test_another_offices_seal_or_a_lookalike_key_is_not_genuine(county, gmina):
    d = _data()
    by_gmina = fee_doc.seal(d, seal_for(gmina))
    assert _genuine(by_gmina, gmina, d)
    assert not _genuine(by_gmina, county, d)
    # a key with the county's name on it that the county never had
    key_pem, cert_pem = generate_pair(county)
    forged = fee_doc.seal(d, Seal(county.code, key_pem, cert_pem))
    assert not _genuine(forged, county, d)


@pytest.mark.django_db
def test_a_document_issued_outside_the_certificates_validity_is_not_genuine(county):
    d = _data()
    xml = fee_doc.seal(d, seal_for(county))
    assert not _genuine(xml, county, d, at=timezone.now() - timedelta(days=400))


# ---------------------------------------------------------------- PDF
def _pdf_text(d: FeeDocumentData) -> str:
    """The text WeasyPrint laid out on the pages (no pdftotext or pypdf here), whitespace collapsed."""
    from weasyprint.formatting_structure.boxes import TextBox

    parts = [
        box.text
        for page in fee_doc.render(d).pages
        for box in page._page_box.descendants()
        if isinstance(box, TextBox)
    ]
    return re.sub(r"\s+", " ", " ".join(parts).replace("\u00a0", " "))


def test_pdf_of_a_doo_states_code_amount_account_and_how_to_pay():
    d = _data()
    data = fee_doc.pdf(d)
    assert data.startswith(b"%PDF")
    text = _pdf_text(d)
    code = " ".join(d.verification_code[i : i + 4] for i in range(0, 24, 4))
    for expected in (
        "Dokument Obliczenia Opłaty",
        d.number,
        code,
        "170,00 zł",
        "140,00 zł",
        "sto siedemdziesiąt złotych 00/100",
        "PL05 1240 6973 1111 0010 8670 6226",
        d.title,
        "15 maja 2026",
        d.legal_basis,
        "Dokument wystawiony automatycznie",
        "Starostwo Powiatowe w Piasecznie",
        "Jan Kowalski",
        d.case_sign,
    ):
        assert expected in text, expected
    assert d.pay_url in text.replace(" ", "") and d.verify_url in text.replace(" ", "")


def test_pdf_of_a_stamp_duty_request_names_the_clerk_and_stays_polish():
    from django.utils import translation

    line = FeeDocumentLine(
        "opłata skarbowa od wypisu z planu miejscowego", 1, Decimal("1200.00"), Decimal("1200.00")
    )
    d = _data(kind="stamp_duty", lines=(line,), total=Decimal("1200.00"), issued_by="Anna Nowak")
    with translation.override("en"):  # a citizen browsing in English still gets the office's document
        text = _pdf_text(d)
    assert "Wezwanie do zapłaty opłaty skarbowej" in text
    assert "1 200,00 zł" in text and "tysiąc dwieście złotych 00/100" in text
    assert "Anna Nowak" in text and "Dokument wystawiony automatycznie" not in text
    assert "Dokument Obliczenia Opłaty" not in text


def test_pdf_html_is_accessible_and_self_contained():
    page = fee_doc.html(_data())
    assert '<html lang="pl">' in page and "<h1>" in page and "<h2>" in page
    assert '<th scope="col">' in page and "<title>" in page
    assert 'alt="' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched from outside
    assert "{%" not in page and "{{" not in page


def test_pdf_escapes_what_the_citizen_typed():
    d = _data(payer_name='<img src="http://127.0.0.1:1/x">Jan')
    page = fee_doc.html(d)
    assert "&lt;img" in page and '<img src="http://' not in page


def test_fee_document_data_is_immutable():
    d = _data()
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.total = Decimal("0.00")  # type: ignore[misc]
