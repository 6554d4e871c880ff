"""Exchange between two offices of this hub: a gmina clerk forwards a case to the county (KPA art. 65) →
the county has a new case with the request's files and the gmina's sign in its timeline; the envelope is
sealed by the gmina and checked by the signature verifier; a repeat is a duplicate (processed once); an
envelope sealed by another office than the one it names, or changed after sealing, is refused."""

from __future__ import annotations

import base64
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from services.cases.actions import case_transition
from services.cases.models import Case, State
from services.exchange import actions as exchange
from services.exchange import envelope as env_format
from services.exchange.models import Direction, Envelope, Status
from services.forms.actions import submission_file
from services.forms.models import ServiceDefinition
from services.offices.actions import staff_add
from services.offices.models import Office, OfficeUnit
from services.signatures import trust

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n% zalacznik\n"


@pytest.fixture(autouse=True)
def _fresh_trust():
    trust.forget()
    yield
    trust.forget()


@pytest.fixture
def gmina():
    return Office.objects.get(code="um-piaseczno")


@pytest.fixture
def county():
    return Office.objects.get(code="sp-piaseczno")


@pytest.fixture
def clerk(make_user, gmina):
    user = make_user("anna.nowak", "clerk")
    staff_add(user, gmina, OfficeUnit.objects.get(office=gmina, code="KAN"))
    return user


@pytest.fixture
def letter(make_user):
    citizen = make_user("jan.k", "citizen")
    sub = submission_file(
        ServiceDefinition.objects.get(code="pismo-ogolne", active=True),
        {
            "applicant_name": "Jan Kowalski",
            "email": "jan@example.pl",
            "postal_code": "05-500",
            "locality": "Piaseczno",
            "subject": "Mapa do celów projektowych",
            "content": "Proszę o mapę do celów projektowych działki 12/3.",
        },
        user=citizen,
        files=[SimpleUploadedFile("szkic.pdf", PDF, content_type="application/pdf")],
        idempotency_key=str(uuid.uuid4()),
    )
    return Case.objects.get(submission=sub)


def test_a_case_forwarded_to_the_county_opens_there_with_its_files(
    letter, clerk, county, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(
            letter.pk, "forward", actor=clerk, forwarded_to=f"office:{county.code}", note="Właściwy starosta."
        )
    sent = Envelope.objects.get(direction=Direction.OUT, case_id=letter.pk)
    assert sent.status == Status.PENDING  # delivered by Celery after the commit (here: by hand)
    with django_capture_on_commit_callbacks(execute=True):
        sent = exchange.outbox_deliver(sent.pk)
    assert sent.status == Status.ACKNOWLEDGED and sent.receipt["status"] == "accepted"
    assert sent.receipt["verified"] is True  # the county's sealed receipt verifies
    assert Case.objects.get(pk=letter.pk).state == State.FORWARDED
    assert Case.objects.get(pk=letter.pk).forwarded_to == county.name

    got = Envelope.objects.get(direction=Direction.IN, envelope_id=sent.envelope_id)
    assert got.status == Status.PROCESSED and got.office == county
    assert got.signer["identifier_kind"] == "NIP"
    new = Case.objects.get(pk=got.case_id)
    assert new.office == county and new.channel == "exchange" and new.applicant_name == "Jan Kowalski"
    assert new.applicant_user == letter.applicant_user  # the same hub: the applicant follows it
    assert [d.name for d in new.documents.filter(direction="in")] == ["szkic.pdf"]
    assert new.timeline.filter(action="exchange_received", data__sign=letter.sign).exists()

    # the same envelope again: the same receipt, nothing processed twice
    again = exchange.inbox_receive(bytes(sent.body), bytes(sent.seal))
    assert again["status"] == "duplicate" and again["envelope_id"] == str(sent.envelope_id)
    assert Case.objects.filter(office=county, channel="exchange").count() == 1


def test_a_changed_or_forged_envelope_is_refused(
    letter, clerk, county, gmina, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        case_transition(letter.pk, "forward", actor=clerk, forwarded_to=f"office:{county.code}")
    sent = Envelope.objects.get(direction=Direction.OUT, case_id=letter.pk)
    body = bytes(sent.body)
    env = env_format.parse(body)

    changed = env_format.canonical({**env, "subject": env["subject"] + " (zmienione)"})
    with pytest.raises(exchange.Refused):
        exchange.inbox_receive(changed, bytes(sent.seal))

    # sealed by the county itself but claiming to come from the gmina: refused
    claimed = env_format.canonical({**env, "id": str(uuid.uuid4())})
    with pytest.raises(exchange.Refused):
        exchange.inbox_receive(claimed, env_format.seal(claimed, Office.objects.get(code="wgik-mazowsze")))

    # the same id with other content (a replay with changes): a conflict
    exchange.inbox_receive(body, bytes(sent.seal))
    other = env_format.canonical({**env, "subject": "inne"})
    with pytest.raises(exchange.Conflict):
        exchange.inbox_receive(other, env_format.seal(other, gmina))
    assert Envelope.objects.filter(direction=Direction.IN).count() == 1

    with pytest.raises(exchange.Refused):
        exchange.inbox_receive(b"not json", base64.b64decode(b"AAAA"))


def test_an_office_without_a_nip_is_known_by_the_name_its_seal_carries(
    county, gmina, django_capture_on_commit_callbacks
):
    assert not county.nip  # the seeded county office has none in our register
    with django_capture_on_commit_callbacks(execute=True):
        sent = exchange.envelope_send(
            office=county,
            to_office=gmina.code,
            kind="request",
            subject="Prośba o plan",
            body={"text": "Proszę o plan."},
        )
    sent = exchange.outbox_deliver(sent.pk)
    assert sent.status == Status.ACKNOWLEDGED
    got = Envelope.objects.get(direction=Direction.IN, envelope_id=sent.envelope_id)
    assert got.signer["organisation"] == county.name[:64]
    # a seal of another office under the county's name and no NIP: refused
    env = env_format.parse(bytes(sent.body))
    forged = env_format.canonical({**env, "id": str(uuid.uuid4())})
    with pytest.raises(exchange.Refused):
        exchange.inbox_receive(forged, env_format.seal(forged, gmina))


def test_the_clerk_forwards_through_the_case_page_and_its_confirmation(
    letter, clerk, county, django_capture_on_commit_callbacks
):
    from django.test import Client

    c = Client()
    c.force_login(clerk)
    page = c.get(f"/urzad/sprawy/{letter.pk}/").content.decode()
    assert f'<option value="{county.code}">' in page  # the offices the hub reaches
    r = c.post(
        f"/urzad/sprawy/{letter.pk}/",
        {"action": "forward", "forward_office": county.code, "note": "Właściwość"},
    )
    assert (
        r.status_code == 200 and 'name="forward_office"' in r.content.decode()
    )  # the confirmation carries it
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(
            f"/urzad/sprawy/{letter.pk}/",
            {"action": "forward", "forward_office": county.code, "note": "Właściwość", "confirm": "1"},
        )
    assert r.status_code == 302
    assert Case.objects.get(pk=letter.pk).state == State.FORWARDED
    assert (
        Envelope.objects.filter(direction=Direction.OUT, case_id=letter.pk, peer_office=county.code).count()
        == 1
    )
