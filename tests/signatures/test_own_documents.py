"""Our own sealed documents verify as the office's: the UPP receipt (XAdES) and an issued PDF (PAdES B-T),
with the office as the signer and its seal as the trust anchor; an edited copy does not."""

from __future__ import annotations

import hashlib
import uuid

import pytest
import weasyprint
from django.utils import timezone

from services.documents.pades import seal_pdf
from services.offices.models import Office
from services.receipts.actions import receipt_issue
from services.signatures import trust
from services.signatures.verify import verify_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_trust():
    trust.forget()
    yield
    trust.forget()


def _receipt(office):
    return receipt_issue(
        document_id=str(uuid.uuid4()),
        document_sha256=hashlib.sha256(b"x").hexdigest(),
        office=office,
        sender_name="Jan Kowalski",
        sender_identifier="jan",
        received_at=timezone.now(),
        service="Wniosek testowy",
    )


def test_our_receipt_verifies_as_the_office():
    office = Office.objects.get(code="um-piaseczno")
    report = verify_file(bytes(_receipt(office).xml), "upp.xml")
    data = report.as_dict()
    assert data["format"] == "XAdES"
    assert data["indication"] == "TOTAL_PASSED", data
    sig = data["signatures"][0]
    assert sig["signer"]["organisation"] == office.name[:64]
    assert sig["trust_anchor"] == f"office:{office.code}"
    assert sig["whole_document"] is True
    if office.nip:
        assert sig["signer"]["identifier_kind"] == "NIP" and sig["signer"]["identifier"] == office.nip


def test_an_edited_receipt_fails():
    office = Office.objects.get(code="um-piaseczno")
    xml = bytes(_receipt(office).xml).replace(b"Jan Kowalski", b"Jan Kowalsky")
    data = verify_file(xml, "upp.xml").as_dict()
    assert data["indication"] == "TOTAL_FAILED"
    assert data["sub_indication"] == "HASH_FAILURE"


def test_our_sealed_pdf_verifies_with_its_timestamp():
    office = Office.objects.get(code="um-piaseczno")
    pdf = seal_pdf(
        weasyprint.HTML(string="<p>Wypis</p>").write_pdf(), office, reason="Wypis", location="Piaseczno"
    )
    data = verify_file(pdf, "wypis.pdf").as_dict()
    assert data["format"] == "PAdES"
    assert data["indication"] == "TOTAL_PASSED", data
    sig = data["signatures"][0]
    assert sig["format"] == "PAdES-B-T"
    assert sig["timestamp"]["trusted"] is True
    assert sig["trust_anchor"] == f"office:{office.code}"
    assert sig["whole_document"] is True


def test_a_seal_of_an_office_whose_certificate_is_not_trusted_is_indeterminate(settings, tmp_path):
    office = Office.objects.get(code="um-piaseczno")
    xml = bytes(_receipt(office).xml)
    settings.GISPORTAL_SEAL_DIR = tmp_path / "elsewhere"  # the office's certificates are not known here
    trust.forget()
    data = verify_file(xml, "upp.xml").as_dict()
    assert data["indication"] == "INDETERMINATE"
    assert data["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"
