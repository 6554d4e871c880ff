"""The clerks' exchange register on one hub, through the pages (Django test client): the gmina asks the county
for documents (from a case page: ?case=<id>) → the county sees the request in its register, opens it,
downloads its file and answers → the gmina sees the answer, and the answer is in the case's timeline. Only
the office's own staff reach its envelopes; bad input is refused with 400 and stores nothing."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from services.cases.models import Case
from services.exchange import actions as exchange
from services.exchange.models import Direction, Envelope, Kind, Status
from services.forms.actions import submission_file
from services.forms.models import ServiceDefinition
from services.offices import seals
from services.offices.actions import staff_add
from services.offices.models import Office, OfficeUnit
from services.signatures import trust

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n% wypis z rejestru\n"
XML = b'<?xml version="1.0" encoding="UTF-8"?><dane/>'
COUNTY_NIP = "1234563218"  # the county's NIP is not in the seed (DOMAIN.md leaves it blank): a valid test one


@pytest.fixture(autouse=True)
def _own_seals(settings, tmp_path):
    """Fresh seals for this test (the county's must carry the NIP it is given below), trusted afresh.
    The loaded seals are forgotten too: seals.seal_for keys its cache by the files' stat taken before it
    generates a pair, (None, None), which a fresh empty folder matches."""
    settings.GISPORTAL_SEAL_DIR = tmp_path / "seals"
    seals._cache.clear()
    trust.forget()
    yield
    seals._cache.clear()
    trust.forget()


@pytest.fixture
def gmina():
    return Office.objects.get(code="um-piaseczno")


@pytest.fixture
def county():
    office = Office.objects.get(code="sp-piaseczno")
    office.nip = COUNTY_NIP
    office.save(update_fields=["nip"])
    return office


def _clerk(make_user, name, office, unit):
    user = make_user(name, "clerk")
    staff_add(user, office, OfficeUnit.objects.get(office=office, code=unit))
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def gmina_clerk(make_user, gmina):
    return _clerk(make_user, "anna.nowak", gmina, "KAN")


@pytest.fixture
def county_clerk(make_user, county):
    return _clerk(make_user, "piotr.geodeta", county, "GK")


@pytest.fixture
def other_clerk(make_user):
    return _clerk(make_user, "ewa.wgik", Office.objects.get(code="wgik-mazowsze"), "GKK")


@pytest.fixture
def citizen(make_user):
    c = Client()
    c.force_login(make_user("jan.k", "citizen"))
    return c


@pytest.fixture
def case(make_user, gmina):
    sub = submission_file(
        ServiceDefinition.objects.get(code="pismo-ogolne", active=True),
        {
            "applicant_name": "Jan Kowalski",
            "email": "jan@example.pl",
            "postal_code": "05-500",
            "locality": "Piaseczno",
            "subject": "Podział działki 12/3",
            "content": "Proszę o podział działki 12/3.",
        },
        user=make_user("jan.kowalski", "citizen"),
        idempotency_key=str(uuid.uuid4()),
    )
    found = Case.objects.get(submission=sub)
    assert found.office == gmina
    return found


def _deliver(pk, capture):
    with capture(execute=True):  # the receiving side processes the envelope after its commit
        return exchange.outbox_deliver(pk)


def _pk(response) -> int:
    assert response.status_code == 302, response.content[:2000]
    return int(re.fullmatch(r"/urzad/wymiana/(\d+)/", response["Location"]).group(1))


def _send(client, **fields):
    data = {"to_office": "sp-piaseczno", "subject": "Wypis z rejestru gruntów", "text": "Prosimy o wypis."}
    data.update(fields)
    return client.post("/urzad/wymiana/nowa/", data)


def test_a_request_and_its_answer_through_the_register(
    gmina_clerk, county_clerk, case, county, gmina, django_capture_on_commit_callbacks
):
    page = gmina_clerk.get(f"/urzad/wymiana/nowa/?case={case.pk}")
    assert page.status_code == 200
    assert f'name="case" value="{case.pk}"'.encode() in page.content
    assert b'value="sp-piaseczno"' in page.content and b'value="um-piaseczno"' not in page.content

    sent_pk = _pk(
        _send(
            gmina_clerk,
            case=str(case.pk),
            text="Prosimy o wypis z rejestru gruntów dla działki 12/3.\nZ poważaniem",
            files=[SimpleUploadedFile("wniosek.pdf", PDF, content_type="application/pdf")],
        )
    )
    sent = Envelope.objects.get(pk=sent_pk)
    assert (sent.direction, sent.kind, sent.office, sent.peer_office) == (
        "out",
        "request",
        gmina,
        county.code,
    )
    assert sent.case_id == case.pk and sent.status == Status.PENDING
    assert gmina_clerk.get(f"/urzad/wymiana/{sent_pk}/").status_code == 200

    sent = _deliver(sent_pk, django_capture_on_commit_callbacks)
    assert sent.status == Status.ACKNOWLEDGED and sent.receipt["verified"] is True

    # the county: the request in its register, processed, with the gmina named
    got = Envelope.objects.get(direction=Direction.IN, envelope_id=sent.envelope_id)
    assert got.office == county and got.status == Status.PROCESSED
    register = county_clerk.get("/urzad/wymiana/").content.decode()
    assert f'href="/urzad/wymiana/{got.pk}/"' in register and "Wypis z rejestru gruntów" in register
    assert gmina.name in register
    assert f"/urzad/sprawy/{case.pk}/" not in register  # the gmina's case is not the county's

    page = county_clerk.get(f"/urzad/wymiana/{got.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "działki 12/3.<br>Z poważaniem" in html  # the text, with its line break, escaped
    assert gmina.nip in html  # who sealed it, as the verifier said
    assert f'href="/urzad/wymiana/{got.pk}/pliki/1"' in html and 'name="text"' in html

    download = county_clerk.get(f"/urzad/wymiana/{got.pk}/pliki/1")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert (
        download["Content-Disposition"].startswith("attachment")
        and "wniosek.pdf" in download["Content-Disposition"]
    )
    assert (
        download["X-Content-Type-Options"] == "nosniff" and download["Content-Security-Policy"] == "sandbox"
    )
    assert download["Content-Type"] == "application/pdf"
    for n in (0, 2, 99):
        assert county_clerk.get(f"/urzad/wymiana/{got.pk}/pliki/{n}").status_code == 404

    # the county answers with a file
    answered = county_clerk.post(
        f"/urzad/wymiana/{got.pk}/",
        {"text": "W załączeniu wypis.", "files": [SimpleUploadedFile("wypis.xml", XML)]},
    )
    answer_pk = _pk(answered)
    answer = Envelope.objects.get(pk=answer_pk)
    assert (answer.direction, answer.kind, answer.office, answer.peer_office) == (
        "out",
        "answer",
        county,
        gmina.code,
    )
    assert answer.in_reply_to == got.envelope_id and answer.subject == "Re: Wypis z rejestru gruntów"
    page = county_clerk.get(f"/urzad/wymiana/{answer_pk}/")
    assert "W załączeniu wypis." in page.content.decode() and 'name="text"' not in page.content.decode()
    assert (
        f'href="/urzad/wymiana/{answer_pk}/"'
        in county_clerk.get(f"/urzad/wymiana/{got.pk}/").content.decode()
    )

    answer = _deliver(answer_pk, django_capture_on_commit_callbacks)
    assert answer.status == Status.ACKNOWLEDGED and answer.receipt["verified"] is True

    # the gmina: the answer in its register and in the case's timeline
    came = Envelope.objects.get(direction=Direction.IN, envelope_id=answer.envelope_id)
    assert came.office == gmina and came.status == Status.PROCESSED and came.case_id == case.pk
    entry = case.timeline.get(action="exchange_answer")
    assert entry.data["envelope"] == str(answer.envelope_id) and entry.data["subject"] == answer.subject
    register = gmina_clerk.get("/urzad/wymiana/").content.decode()
    assert f'href="/urzad/wymiana/{came.pk}/"' in register and f'href="/urzad/wymiana/{sent_pk}/"' in register
    assert f'href="/urzad/sprawy/{case.pk}/"' in register
    assert register.index(f"/urzad/wymiana/{came.pk}/") < register.index(
        f"/urzad/wymiana/{sent_pk}/"
    )  # newest first

    html = gmina_clerk.get(f"/urzad/wymiana/{came.pk}/").content.decode()
    assert (
        "W załączeniu wypis." in html and f'href="/urzad/wymiana/{sent_pk}/"' in html
    )  # the request it answers
    assert 'name="text"' not in html  # an answer is not answered
    download = gmina_clerk.get(f"/urzad/wymiana/{came.pk}/pliki/1")
    assert b"".join(download.streaming_content) == XML and download["Content-Type"] == "application/xml"
    assert download["Content-Disposition"].startswith("attachment")

    html = gmina_clerk.get(f"/urzad/wymiana/{sent_pk}/").content.decode()
    assert 'data-testid="receipt"' in html and county.name in html  # received by the county, receipt sealed
    assert f'href="/urzad/wymiana/{came.pk}/"' in html  # the answer it got


def test_only_the_office_s_own_staff_reach_its_envelopes(
    gmina_clerk, county_clerk, other_clerk, citizen, county, django_capture_on_commit_callbacks
):
    sent_pk = _pk(_send(gmina_clerk, files=[SimpleUploadedFile("a.pdf", PDF)]))
    sent = _deliver(sent_pk, django_capture_on_commit_callbacks)
    got = Envelope.objects.get(direction=Direction.IN, envelope_id=sent.envelope_id)

    for pk in (sent_pk, got.pk):
        for url in (f"/urzad/wymiana/{pk}/", f"/urzad/wymiana/{pk}/pliki/1"):
            assert other_clerk.get(url).status_code == 404
            assert citizen.get(url).status_code == 403
            assert Client().get(url).status_code == 302  # to the login page
        assert other_clerk.post(f"/urzad/wymiana/{pk}/", {"text": "x"}).status_code == 404
        assert citizen.post(f"/urzad/wymiana/{pk}/", {"text": "x"}).status_code == 403
    # each office sees the other's envelope as 404
    assert gmina_clerk.get(f"/urzad/wymiana/{got.pk}/").status_code == 404
    assert county_clerk.get(f"/urzad/wymiana/{sent_pk}/").status_code == 404
    # the sender cannot "answer" its own outgoing request
    assert gmina_clerk.post(f"/urzad/wymiana/{sent_pk}/", {"text": "x"}).status_code == 404

    for url in ("/urzad/wymiana/", "/urzad/wymiana/nowa/"):
        assert citizen.get(url).status_code == 403
        assert Client().get(url).status_code == 302
    assert (
        citizen.post(
            "/urzad/wymiana/nowa/", {"to_office": "sp-piaseczno", "subject": "x", "text": "x"}
        ).status_code
        == 403
    )
    register = other_clerk.get("/urzad/wymiana/")
    assert register.status_code == 200 and b"/urzad/wymiana/%d/" % got.pk not in register.content
    assert b"/urzad/wymiana/%d/" % sent_pk not in register.content
    assert Envelope.objects.count() == 2

    # the menu shows the register to clerks only
    assert b'href="/urzad/wymiana/"' in gmina_clerk.get("/urzad/wymiana/").content
    assert b'href="/urzad/wymiana/"' not in citizen.get("/konto/").content


def test_bad_input_is_refused_and_nothing_is_stored(
    gmina_clerk, county_clerk, county, django_capture_on_commit_callbacks
):
    exe = b"MZ\x90\x00" + b"\x00" * 60
    bad = [
        {"text": ""},
        {"text": "   "},
        {"subject": ""},
        {"to_office": "nie-ma-takiego"},
        {"to_office": "um-piaseczno"},  # itself
        {"to_office": ""},
        {"text": "x" * 10_001},
        {"files": [SimpleUploadedFile("program.exe", exe)]},
        {"files": [SimpleUploadedFile("udaje.pdf", exe)]},  # the content is not a PDF
        {"files": [SimpleUploadedFile("notatka.txt", b"zwykly tekst")]},  # allowed in forms, not here
        {"files": [SimpleUploadedFile(f"s{i}.pdf", PDF) for i in range(6)]},
        {"text": "a\x00b"},
    ]
    for fields in bad:
        r = _send(gmina_clerk, **fields)
        assert r.status_code == 400, fields
        assert b'class="error-summary"' in r.content
    assert not Envelope.objects.exists()
    # the form keeps what was typed
    r = _send(gmina_clerk, text="Mój tekst", to_office="nie-ma-takiego")
    assert "Mój tekst" in r.content.decode()
    # ?case= with no number is ignored; a number is carried as a hidden field only
    assert b'name="case"' not in gmina_clerk.get("/urzad/wymiana/nowa/?case=abc").content
    assert gmina_clerk.get("/urzad/wymiana/nowa/?case=99999999999999").status_code == 200

    sent = _deliver(_pk(_send(gmina_clerk)), django_capture_on_commit_callbacks)
    got = Envelope.objects.get(direction=Direction.IN, envelope_id=sent.envelope_id)
    for fields in (
        {"text": ""},
        {"text": "ok", "files": [SimpleUploadedFile("program.exe", exe)]},
        {"text": "ok\x00"},
    ):
        r = county_clerk.post(f"/urzad/wymiana/{got.pk}/", fields)
        assert r.status_code == 400, fields
        assert b'class="error-summary"' in r.content
    assert not Envelope.objects.filter(kind=Kind.ANSWER).exists()


def test_the_register_filters_and_pages(
    gmina_clerk, county_clerk, gmina, county, django_capture_on_commit_callbacks
):
    def send(office, to, subject, kind=Kind.REQUEST):
        row = exchange.envelope_send(
            office=office, to_office=to.code, kind=kind, subject=subject, body={"text": "t"}
        )
        return _deliver(row.pk, django_capture_on_commit_callbacks)

    send(gmina, county, "Prośba A")
    send(county, gmina, "Prośba B")
    send(county, gmina, "Odpowiedź C", kind=Kind.ANSWER)

    def subjects(client, query=""):
        html = client.get("/urzad/wymiana/" + query).content.decode()
        return {s for s in ("Prośba A", "Prośba B", "Odpowiedź C") if s in html}

    assert subjects(gmina_clerk) == {"Prośba A", "Prośba B", "Odpowiedź C"}
    assert subjects(gmina_clerk, "?direction=out") == {"Prośba A"}
    assert subjects(gmina_clerk, "?direction=in") == {"Prośba B", "Odpowiedź C"}
    assert subjects(gmina_clerk, "?kind=answer") == {"Odpowiedź C"}
    assert subjects(gmina_clerk, "?direction=in&kind=request") == {"Prośba B"}
    assert subjects(gmina_clerk, "?direction=%3Cx%3E&kind='") == {"Prośba A", "Prośba B", "Odpowiedź C"}
    assert subjects(county_clerk, "?direction=out") == {"Prośba B", "Odpowiedź C"}

    # a pending one shows its attempts and last error
    failing = exchange.envelope_send(
        office=gmina, to_office=county.code, kind=Kind.REQUEST, subject="Wisi", body={}
    )
    Envelope.objects.filter(pk=failing.pk).update(attempts=3, last_error="hub-b unreachable: ConnectTimeout")
    assert (
        "hub-b unreachable: ConnectTimeout"
        in gmina_clerk.get("/urzad/wymiana/?direction=out").content.decode()
    )

    # paging: 50 a page, newest first; a page out of range shows the last one
    for i in range(50):
        exchange.envelope_send(
            office=gmina, to_office=county.code, kind=Kind.REQUEST, subject=f"Seria {i:02d}", body={}
        )
    first = gmina_clerk.get("/urzad/wymiana/?direction=out").content.decode()
    assert first.count('data-testid="envelope"') == 50 and "Seria 49" in first and "Prośba A" not in first
    assert "direction=out&amp;page=2" in first
    second = gmina_clerk.get("/urzad/wymiana/?direction=out&page=2").content.decode()
    assert second.count('data-testid="envelope"') == 2 and "Prośba A" in second and "Wisi" in second
    assert gmina_clerk.get("/urzad/wymiana/?page=999").status_code == 200
    assert gmina_clerk.get("/urzad/wymiana/?page=x").status_code == 200


def test_a_forwarded_case_reads_in_the_register(
    gmina_clerk, county_clerk, case, county, django_capture_on_commit_callbacks
):
    from services.cases.actions import case_transition

    clerk = gmina_clerk.get("/konto/").wsgi_request.user
    with django_capture_on_commit_callbacks(execute=False):
        case_transition(
            case.pk, "forward", actor=clerk, forwarded_to=f"office:{county.code}", note="Właściwy starosta."
        )
    sent = Envelope.objects.get(direction=Direction.OUT, case_id=case.pk)
    sent = _deliver(sent.pk, django_capture_on_commit_callbacks)
    got = Envelope.objects.get(direction=Direction.IN, envelope_id=sent.envelope_id)

    for client, row, case_id in ((gmina_clerk, sent, case.pk), (county_clerk, got, got.case_id)):
        html = client.get(f"/urzad/wymiana/{row.pk}/").content.decode()
        assert case.sign in html and "Jan Kowalski" in html and "Właściwy starosta." in html
        assert "<dt>content</dt><dd>Proszę o podział działki 12/3.</dd>" in html  # the request's data
        assert f'href="/urzad/sprawy/{case_id}/"' in html and 'name="text"' not in html
    assert got.case_id != case.pk
