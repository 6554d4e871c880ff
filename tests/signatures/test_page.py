"""The public signature check /podpis/ with Django's test client on the real database and cache: the form,
the verdicts in words for our own sealed receipt and PDF, an edited receipt, a detached CAdES signature of an
untrusted signer, the errors as form errors with their 4xx status, the report as PDF by its token, the budget
of checks per address, the upload limit and the CSRF check; `report_pdf` and `_report.html` on their own."""

from __future__ import annotations

import datetime
import hashlib
import io
import itertools
import uuid

import pdfplumber
import pytest
import weasyprint
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from services.documents.pades import seal_pdf
from services.offices.models import Office
from services.receipts.actions import receipt_issue
from services.signatures import api as signatures_api
from services.signatures import trust, views
from services.signatures.pdf import report_pdf
from services.signatures.report import with_words
from services.signatures.verify import verify_file

pytestmark = pytest.mark.django_db
URL = "/podpis/"
_addresses = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_trust():
    trust.forget()
    yield
    trust.forget()


@pytest.fixture
def client():
    """A client of an address of its own: each test has the whole budget of checks."""
    n = next(_addresses)
    return Client(REMOTE_ADDR=f"10.77.{n // 250}.{n % 250 + 1}")


@pytest.fixture
def office():
    return Office.objects.get(code="um-piaseczno")


def _receipt_xml(office) -> bytes:
    receipt = receipt_issue(
        document_id=str(uuid.uuid4()),
        document_sha256=hashlib.sha256(b"x").hexdigest(),
        office=office,
        sender_name="Jan Kowalski",
        sender_identifier="jan",
        received_at=timezone.now(),
        service="Wniosek testowy",
    )
    return bytes(receipt.xml)


def _post(client, data: bytes, name: str, detached: tuple[bytes, str] | None = None):
    form = {"file": SimpleUploadedFile(name, data)}
    if detached is not None:
        form["detached"] = SimpleUploadedFile(detached[1], detached[0])
    return client.post(URL, form)


def _pl(msgid: str) -> str:
    """The words the Polish page shows for this msgid (the msgid itself until the catalogue has it)."""
    with translation.override("pl"):
        return gettext(msgid)


def _pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_the_form_is_labelled_and_works_without_javascript(client):
    resp = client.get(URL)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert reverse("signature_check") == URL
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html
    assert '<label for="id_file">' in html and 'id="id_file" name="file"' in html
    assert '<label for="id_detached">' in html and 'id="id_detached" name="detached"' in html
    assert _pl("Check an electronic signature") in html
    assert "<script" not in html.split("</head>")[1]  # nothing inline, no script of the page's own


def test_our_sealed_receipt_is_valid_and_its_report_downloads_as_pdf(client, office):
    resp = _post(client, _receipt_xml(office), "upp.xml")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'data-indication="TOTAL_PASSED"' in html
    assert _pl("Signature valid") in html
    assert office.name[:64] in html  # the office is the signer
    assert "<details" in html and _pl("Technical details") in html
    assert resp["Cache-Control"] == "no-store"
    token = resp.context["token"]
    assert reverse("signature_report_pdf", args=[token]) in html

    pdf = client.get(reverse("signature_report_pdf", args=[token]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "attachment" in pdf["Content-Disposition"]
    assert pdf.content.startswith(b"%PDF-")
    text = _pdf_text(pdf.content)
    assert office.name[:30] in text
    assert "upp.xml" in text and resp.context["report"]["file"]["sha256"] in text.replace("\n", "")
    assert client.get(reverse("signature_report_pdf", args=[token])).content == pdf.content  # kept rendered


def test_an_unknown_or_malformed_token_is_404(client):
    assert client.get(reverse("signature_report_pdf", args=["A" * 32])).status_code == 404
    assert client.get("/podpis/raport/..%2f.pdf").status_code == 404
    assert client.get("/podpis/raport/x.pdf").status_code == 404


def test_an_expired_report_is_404(client, office):
    resp = _post(client, _receipt_xml(office), "upp.xml")
    token = resp.context["token"]
    cache.delete(views._key(token))
    assert client.get(reverse("signature_report_pdf", args=[token])).status_code == 404


def test_our_sealed_pdf_is_valid_with_its_timestamp(client, office):
    pdf = seal_pdf(
        weasyprint.HTML(string="<p>Wypis</p>").write_pdf(), office, reason="Wypis", location="Piaseczno"
    )
    resp = _post(client, pdf, "wypis.pdf")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'data-indication="TOTAL_PASSED"' in html and "PAdES-B-T" in html
    assert _pl("the whole PDF file") in html or _pl("the PDF file as it was when signed") in html


def test_an_edited_receipt_is_invalid(client, office):
    xml = _receipt_xml(office).replace(b"Jan Kowalski", b"Jan Kowalsky")
    resp = _post(client, xml, "upp.xml")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'data-indication="TOTAL_FAILED"' in html
    assert _pl("Signature invalid") in html  # "Podpis nieważny" once the catalogue has it
    assert _pl("The signed content was changed after signing.") in html
    assert "HASH_FAILURE" in html


def _self_signed():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Anna Testowa"),
            x509.NameAttribute(NameOID.GIVEN_NAME, "Anna"),
            x509.NameAttribute(NameOID.SURNAME, "Testowa"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "PNOPL-44051401359"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def test_a_detached_signature_of_an_untrusted_signer_cannot_be_confirmed(client):
    key, cert = _self_signed()
    document = b"%PDF-1.4 wniosek\n"
    p7s = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(document)
        .add_signer(cert, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )
    resp = _post(client, p7s, "wniosek.pdf.p7s", detached=(document, "wniosek.pdf"))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'data-indication="INDETERMINATE"' in html
    assert _pl("Cannot be confirmed") in html
    assert "Anna Testowa" in html and "44051401359" in html  # who signed, with the PESEL
    assert "wniosek.pdf" in html  # the signed file given with the signature


def test_an_unsigned_pdf_is_422_with_the_message(client):
    resp = _post(client, weasyprint.HTML(string="<p>Bez podpisu</p>").write_pdf(), "zwykly.pdf")
    assert resp.status_code == 422
    html = resp.content.decode()
    assert 'role="alert"' in html
    assert _pl("The file carries no electronic signature.") in html
    assert "signature-report" not in html


@pytest.mark.parametrize(
    "data,name",
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "program.exe"),
        (bytes(range(256)) * 4, "x.bin"),
    ],
    ids=["exe", "random"],
)
def test_a_file_of_another_kind_is_415(client, data, name):
    resp = _post(client, data, name)
    assert resp.status_code == 415
    assert 'role="alert"' in resp.content.decode()


def test_an_xml_with_a_doctype_is_422(client):
    xml = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<x>&e;</x>'
    resp = _post(client, xml, "atak.xml")
    assert resp.status_code == 422
    html = resp.content.decode()
    assert "DOCTYPE" in html
    assert "root:" not in html


def test_no_file_is_400(client):
    assert client.post(URL, {}).status_code == 400


def test_too_many_checks_are_429(client, monkeypatch):
    monkeypatch.setattr(signatures_api, "CHECKS_PER_WINDOW", 2)
    for _ in range(2):
        assert _post(client, b"nothing", "a.bin").status_code == 415
    resp = _post(client, b"nothing", "a.bin")
    assert resp.status_code == 429
    assert _pl("Too many checks. Try again in a few minutes.") in resp.content.decode()
    other = Client(REMOTE_ADDR="10.78.0.1")  # another address has its own budget
    assert _post(other, b"nothing", "a.bin").status_code == 415


def test_a_file_over_the_limit_is_413_without_being_read_whole(client, monkeypatch):
    stopped = []

    class Stop(views.StopUpload):
        def __init__(self, *args, **kwargs):
            stopped.append(True)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(views, "MAX_FILE", 4096)
    monkeypatch.setattr(views, "StopUpload", Stop)
    resp = _post(client, b"<x/>" * 2000, "duzy.xml")  # 8000 bytes: the upload stops at 4096
    assert resp.status_code == 413
    assert stopped  # by the upload handler, before the file was kept whole
    assert _pl("The file is too large to check (at most %(n)s MB).").split("(")[0] in resp.content.decode()
    monkeypatch.setattr(views, "MAX_BODY", 1000)  # a body this large is not read at all
    assert _post(client, b"<x/>" * 500, "duzy.xml").status_code == 413


def test_the_check_needs_the_csrf_token():
    strict = Client(enforce_csrf_checks=True, REMOTE_ADDR="10.79.0.1")
    resp = strict.post(URL, {"file": SimpleUploadedFile("a.xml", b"<x/>")})
    assert resp.status_code == 403
    page = strict.get(URL)
    token = page.cookies["csrftoken"].value
    resp = strict.post(URL, {"csrfmiddlewaretoken": token, "file": SimpleUploadedFile("a.xml", b"<x/>")})
    assert resp.status_code == 422  # checked: an XML without a signature


def test_report_pdf_and_the_block_for_a_stored_report(office):
    """For the case pages: a stored report (as_dict, no words) gives a Polish PDF and the HTML block."""
    stored = verify_file(_receipt_xml(office), "upp.xml").as_dict()
    data = report_pdf(stored)
    assert data.startswith(b"%PDF-")
    text = _pdf_text(data)
    assert office.name[:30] in text and stored["file"]["sha256"] in text.replace("\n", "")
    with translation.override("pl"):
        html = render_to_string("signatures/_report.html", {"report": with_words(stored)})
    assert 'data-indication="TOTAL_PASSED"' in html and "<h3" in html and "<h4" in html
    assert ' id="' not in html  # may appear several times on one page
