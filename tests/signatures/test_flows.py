"""Signatures in the flows: an attachment is checked once the request is stored, the result is kept with it,
the clerk's case page shows each signature's verdict and flags a signer who is not the applicant (by PESEL),
the applicant sees the verdict on the request page, the clerk downloads the report as PDF, and another
office's clerk gets 404. A check that fails never loses the request; a sweep repeats it."""

from __future__ import annotations

import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from layers.models import Parcel
from services.cases.models import Case
from services.forms import signing
from services.forms.actions import submission_file
from services.forms.models import Attachment, ServiceDefinition
from services.offices.actions import staff_add
from services.offices.models import Office, OfficeUnit
from services.signatures import trust

from . import pki as testpki

pytestmark = pytest.mark.django_db
APPLICANT = {
    "applicant_name": "Jan Kowalski",
    "email": "jan@example.pl",
    "pesel": testpki.PERSON_PESEL,
    "postal_code": "05-500",
    "locality": "Piaseczno",
}


@pytest.fixture
def pki(settings, tmp_path):
    made = testpki.make_pki(tmp_path / "trust")
    pz = made.dir / "pz"
    pz.mkdir(exist_ok=True)
    (pz / "ministry.pem").write_bytes(made.ministry.cert.public_bytes(serialization.Encoding.PEM))
    settings.GISPORTAL_TRUST_DIR = made.dir
    trust.forget()
    yield made
    trust.forget()


@pytest.fixture
def county():
    return Office.objects.get(code="sp-piaseczno")


@pytest.fixture
def county_clerk(make_user, county):
    user = make_user("ewa.geodetka", "clerk", first_name="Ewa", last_name="Geodetka")
    staff_add(user, county, OfficeUnit.objects.get(office=county, code="GK"))
    return user


@pytest.fixture
def gmina_clerk(make_user):
    gmina = Office.objects.get(code="um-piaseczno")
    user = make_user("anna.nowak", "clerk", first_name="Anna", last_name="Nowak")
    staff_add(user, gmina, OfficeUnit.objects.get(office=gmina, code="UiA"))
    return user


@pytest.fixture
def citizen(make_user):
    return make_user("jan.k", "citizen", first_name="Jan", last_name="Kowalski")


@pytest.fixture
def rural(demo_data):
    return (
        Parcel.objects.current().filter(precinct__unit__unit_id="141804_5").order_by("parcel_id")[3].parcel_id
    )


def _file(citizen, parcel, files, **data):
    service = ServiceDefinition.objects.get(code="wypis-wyrys-egib", active=True)
    form = {**APPLICANT, "parcels": [parcel], "variant": "wyrys", "form": "electronic", **data}
    form["legal_interest"] = "Jestem właścicielem działki (akt notarialny Rep. A 123/2020)."
    return submission_file(service, form, user=citizen, files=files, idempotency_key=str(uuid.uuid4()))


def logged(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _upload(name: str, data: bytes, mime: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=mime)


def test_attachments_are_checked_when_filed_and_the_clerk_sees_who_signed(pki, citizen, rural, county_clerk):
    by_applicant = testpki.pz_xades(testpki.sample_xml(), pki)  # Profil Zaufany: Jan Kowalski, his PESEL
    by_someone_else = testpki.pades(testpki.sample_pdf("Pełnomocnictwo"), pki.person_legacy)  # Anna Nowak
    plain = testpki.sample_pdf("Mapa")
    sub = _file(
        citizen,
        rural,
        [
            _upload("wniosek.xml", by_applicant, "application/xml"),
            _upload("pelnomocnictwo.pdf", by_someone_else, "application/pdf"),
            _upload("mapa.pdf", plain, "application/pdf"),
        ],
    )
    checks = {a.name: a.signature_check for a in sub.attachments.all()}
    assert checks["mapa.pdf"] == {"status": "unsigned"}
    pz = checks["wniosek.xml"]["report"]
    assert pz["indication"] == "TOTAL_PASSED", pz
    assert pz["signatures"][0]["profil_zaufany"] is True
    assert pz["signatures"][0]["signer"]["identifier"] == testpki.PERSON_PESEL
    other = checks["pelnomocnictwo.pdf"]["report"]
    assert other["indication"] == "TOTAL_PASSED", other
    assert other["signatures"][0]["signer"]["identifier"] == testpki.LEGACY_PESEL

    case = Case.objects.get(submission=sub)
    page = logged(county_clerk).get(f"/urzad/sprawy/{case.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-testid="attachment-signature"') == 2
    assert html.count('data-testid="signer-not-applicant"') == 1  # Anna Nowak's power of attorney
    assert html.count('data-testid="signer-is-applicant"') == 1
    assert 'data-testid="signature-none"' in html
    assert testpki.LEGACY_PESEL in html and "Anna Nowak" in html

    own = sub.attachments.get(name="pelnomocnictwo.pdf")
    pdf = logged(county_clerk).get(f"/urzad/sprawy/{case.pk}/zalaczniki/{own.pk}/podpis.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    unsigned = sub.attachments.get(name="mapa.pdf")
    assert (
        logged(county_clerk).get(f"/urzad/sprawy/{case.pk}/zalaczniki/{unsigned.pk}/podpis.pdf").status_code
        == 404
    )


def test_the_applicant_sees_the_verdict_on_the_request_page(pki, citizen, rural):
    tampered = testpki.pz_xades(testpki.sample_xml(), pki).replace(b"Kowalski</", b"Kowalsky</", 1)
    sub = _file(citizen, rural, [_upload("wniosek.xml", tampered, "application/xml")])
    report = sub.attachments.get().signature_check["report"]
    assert report["indication"] == "TOTAL_FAILED"
    html = logged(citizen).get(f"/wnioski/{sub.id}/").content.decode()
    assert 'data-testid="submission-attachments"' in html
    assert 'data-indication="TOTAL_FAILED"' in html


def test_another_office_and_the_applicant_get_no_clerk_report(pki, citizen, rural, gmina_clerk):
    signed = testpki.pades(testpki.sample_pdf("Pełnomocnictwo"), pki.person)
    sub = _file(citizen, rural, [_upload("p.pdf", signed, "application/pdf")])
    case = Case.objects.get(submission=sub)
    att = sub.attachments.get()
    url = f"/urzad/sprawy/{case.pk}/zalaczniki/{att.pk}/podpis.pdf"
    assert logged(gmina_clerk).get(url).status_code == 404  # the case is the county's
    assert logged(citizen).get(url).status_code in (302, 403, 404)


def test_a_detached_p7s_is_checked_against_the_file_it_names(pki, citizen, rural):
    data = testpki.sample_pdf("Operat")
    sig = testpki.cades(data, pki.person, detached=True)
    sub = _file(
        citizen,
        rural,
        [
            _upload("operat.pdf", data, "application/pdf"),
            _upload("operat.pdf.p7s", sig, "application/pkcs7-signature"),
        ],
    )
    check = sub.attachments.get(name="operat.pdf.p7s").signature_check
    assert check["status"] == "verified" and check["signed_file"] == "operat.pdf"
    assert check["report"]["indication"] == "TOTAL_PASSED", check


def test_a_failed_check_loses_nothing_and_the_sweep_repeats_it(pki, citizen, rural, monkeypatch):
    signed = testpki.pades(testpki.sample_pdf("Pełnomocnictwo"), pki.person)

    def broken(*a, **k):
        raise RuntimeError("verifier down")

    monkeypatch.setattr(signing, "verify_file", broken)
    sub = _file(citizen, rural, [_upload("p.pdf", signed, "application/pdf")])
    att = sub.attachments.get()
    assert att.signature_check is None  # stored, receipted, its case opened; the check is pending
    assert Case.objects.filter(submission=sub).exists()
    monkeypatch.undo()
    assert signing.signatures_sweep() >= 1
    assert Attachment.objects.get(pk=att.pk).signature_check["report"]["indication"] == "TOTAL_PASSED"
    assert signing.attachments_verify(sub) == 0  # checked once: repeating changes nothing
