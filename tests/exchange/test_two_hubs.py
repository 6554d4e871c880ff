"""Two hubs in one test run (issue 25): hub A is this test process (its test database), hub B a gunicorn
process with its own database (tests/exchange/hub.py), reached through a proxy that plays the network.

A gmina case forwarded to the county on hub B arrives there once, with its documents, and A keeps B's sealed
receipt, although the first attempts fail (B down, a 500, an answer lost after B stored the envelope, an
answer that stops half-way); later sweeps send nothing, and a repeat by hand is a duplicate. Envelopes
changed after sealing, sealed by an office B does not trust, sealed by another office than the one they
name, or replayed with other content under a used id are refused; so is a caller without an API key or
without the right to exchange messages."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from datetime import timedelta

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from services.cases.actions import case_transition
from services.cases.models import Case, State
from services.exchange import actions as exchange
from services.exchange import envelope as env_format
from services.exchange.models import Direction, Envelope, Kind, Status
from services.forms.actions import submission_file
from services.forms.models import ServiceDefinition
from services.offices.actions import staff_add
from services.offices.models import Office, OfficeUnit
from services.offices.seals import generate_pair, seal_for
from services.signatures import trust

from .hub import GUNICORN, HubUnavailable, Proxy, start_hub

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed: hub B cannot be started"),
]
PDF = b"%PDF-1.4\n% zalacznik z gminy\n"
COUNTY = "sp-piaseczno"
TIMEOUT = 2.0


@pytest.fixture(scope="module")
def hub_b(django_db_setup, django_db_blocker, tmp_path_factory):
    """Hub B running, A and B trusting each other's office seals, A's peer configuration pointing at the
    proxy in front of B. Yields (hub, proxy); B stops and its database is dropped at the end."""
    from django.conf import settings
    from django.db import connection

    started = time.monotonic()
    with django_db_blocker.unblock():
        # B trusts the seals of A's gmina (the sender) and of A's voivodeship geodesist (a trusted office
        # that is not the one an envelope may claim)
        gmina = Office.objects.get(code="um-piaseczno")
        senders = [seal_for(Office.objects.get(code=c)).cert_pem for c in ("um-piaseczno", "wgik-mazowsze")]
        db = dict(connection.settings_dict)
    try:
        hub = start_hub(db, tmp_path_factory.mktemp("hub_b"), trusted_pems=senders)
    except HubUnavailable as e:
        pytest.skip(f"hub B cannot run here: {e}")
    proxy = None
    names = (
        "GISPORTAL_TRUST_DIR",
        "GISPORTAL_EXCHANGE_HUB",
        "GISPORTAL_EXCHANGE_PEERS",
        "GISPORTAL_EXCHANGE_TIMEOUT",
    )
    old = {n: getattr(settings, n) for n in names}
    try:
        proxy = Proxy(hub.url)
        # A trusts B's receipt seal
        a_trust = tmp_path_factory.mktemp("hub_a_trust")
        (a_trust / "anchors").mkdir()
        (a_trust / "anchors" / "hub-b-sp-piaseczno.pem").write_bytes(hub.receipt_cert_pem)
        settings.GISPORTAL_TRUST_DIR = a_trust
        settings.GISPORTAL_EXCHANGE_HUB = "hub-a"
        settings.GISPORTAL_EXCHANGE_PEERS = [
            {
                "hub": "hub-b",
                "url": proxy.url,
                "api_key": hub.api_key,
                "offices": [{"code": COUNTY, "name": "Starostwo Powiatowe w Piasecznie (hub B)"}],
            }
        ]
        settings.GISPORTAL_EXCHANGE_TIMEOUT = TIMEOUT
        trust.forget()
        _warm_up(hub, gmina)
        hub.timings["fixture"] = time.monotonic() - started
        print(
            "\nhub B: migrate {migrate:.1f} s, set-up {setup:.1f} s, gunicorn up {startup:.1f} s, "
            "fixture {fixture:.1f} s".format(**hub.timings)
        )
        yield hub, proxy
    finally:
        for n, v in old.items():
            setattr(settings, n, v)
        trust.forget()
        if proxy is not None:
            proxy.close()
        hub.stop()


def _warm_up(hub, gmina) -> None:
    """B's first request through the verifier loads pyHanko and the trust store: done here, so that the
    tests' requests fit A's short timeout (an envelope sealed with a key B does not trust: nothing stored)."""
    body = env_format.canonical(
        {
            "v": 1,
            "id": str(uuid.uuid4()),
            "kind": "request",
            "created": timezone.now().isoformat(),
            "from": {"hub": "hub-a", "office": gmina.code, "name": gmina.name, "nip": gmina.nip},
            "to": {"hub": "hub-b", "office": COUNTY},
            "in_reply_to": None,
            "subject": "Rozgrzewka",
            "body": {},
            "files": [],
        }
    )
    key, cert = generate_pair(gmina)
    r = _post(hub.url, body, _seal_with(body, key, cert), hub.api_key)
    assert r.status_code == 422 and "not valid or not trusted" in r.json()["detail"], r.text


def _seal_with(body: bytes, key_pem: bytes, cert_pem: bytes) -> bytes:
    from cryptography import x509

    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(body)
        .add_signer(
            x509.load_pem_x509_certificate(cert_pem),
            serialization.load_pem_private_key(key_pem, password=None),
            hashes.SHA256(),
        )
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )


def _post(url: str, body: bytes, seal: bytes, key: str | None) -> requests.Response:
    return requests.post(
        url + "/api/exchange/inbox",
        json={"envelope": base64.b64encode(body).decode(), "seal": base64.b64encode(seal).decode()},
        headers={"Accept-Language": "en", **({"Authorization": f"Bearer {key}"} if key else {})},
        timeout=30,
    )


def _stored(hub, envelope_id) -> list[tuple]:
    return hub.query(
        "SELECT status, case_id, body FROM exchange_envelope WHERE envelope_id = %s AND direction = 'in'",
        [uuid.UUID(str(envelope_id))],
    )


@pytest.fixture(autouse=True)
def _fresh_trust():
    trust.forget()
    yield
    trust.forget()


@pytest.fixture
def gmina():
    return Office.objects.get(code="um-piaseczno")


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


def test_a_forwarded_case_arrives_once_on_the_other_hub_after_failed_attempts(
    hub_b, letter, clerk, django_capture_on_commit_callbacks
):
    hub, proxy = hub_b
    proxy.mode, proxy.hits[:] = "pass", []
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(
            letter.pk, "forward", actor=clerk, forwarded_to=f"office:{COUNTY}", note="Właściwy starosta."
        )
    forwarded = Case.objects.get(pk=letter.pk)
    assert forwarded.state == State.FORWARDED
    assert forwarded.forwarded_to == "Starostwo Powiatowe w Piasecznie (hub B)"
    sent = Envelope.objects.get(direction=Direction.OUT, case_id=letter.pk)
    assert (sent.status, sent.peer_hub, sent.peer_office, sent.attempts) == (
        Status.PENDING,
        "hub-b",
        COUNTY,
        0,
    )
    t0 = timezone.now()

    # 1. hub B is down: connection refused
    proxy.down()
    sent = exchange.outbox_deliver(sent.pk, now=t0)
    assert (sent.status, sent.attempts) == (Status.PENDING, 1)
    assert sent.last_error.startswith("hub-b unreachable: ConnectionError")
    assert sent.next_attempt_at == t0 + timedelta(minutes=1)
    # not due yet: the sweep leaves it
    assert exchange.outbox_sweep(now=t0 + timedelta(seconds=30))["sent"] == 0
    assert Envelope.objects.get(pk=sent.pk).attempts == 1

    # 2. B answers 500
    proxy.up()
    proxy.mode = "500"
    assert exchange.outbox_sweep(now=t0 + timedelta(minutes=1))["sent"] == 0
    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.last_error) == (Status.PENDING, 2, "hub-b answered 500")
    assert sent.next_attempt_at == t0 + timedelta(minutes=3)

    # 3. B stores it but its answer never comes back: A gives up after its timeout
    proxy.mode = "lost"
    began = time.monotonic()
    assert exchange.outbox_sweep(now=t0 + timedelta(minutes=3))["sent"] == 0
    assert TIMEOUT <= time.monotonic() - began < TIMEOUT + 5
    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == (Status.PENDING, 3)
    assert sent.last_error == "hub-b unreachable: ReadTimeout"
    assert sent.next_attempt_at == t0 + timedelta(minutes=7)
    assert [m for m, _p in proxy.hits] == ["500", "lost"]
    # ... while B did receive it (waited for here: B's one worker may still be at it when A gives up)
    for _ in range(300):
        if [row[0] for row in _stored(hub, sent.envelope_id)] == ["processed"]:
            break
        time.sleep(0.1)
    assert [row[0] for row in _stored(hub, sent.envelope_id)] == ["processed"], hub.log_tail()

    # 4. B's answer stops half-way (its headers came): the same
    proxy.mode = "stall"
    assert exchange.outbox_sweep(now=t0 + timedelta(minutes=7))["sent"] == 0
    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == (Status.PENDING, 4)
    assert sent.last_error.startswith("hub-b unreachable: ") and "Timeout" in sent.last_error
    assert sent.next_attempt_at == t0 + timedelta(minutes=15)

    # 5. the way is clear: the next sweep delivers it, B answers with the receipt it gave the first time
    proxy.release()
    proxy.mode = "pass"
    assert exchange.outbox_sweep(now=t0 + timedelta(minutes=14))["sent"] == 0  # not due yet
    assert exchange.outbox_sweep(now=t0 + timedelta(minutes=15)) == {"sent": 1, "processed": 0}
    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.last_error) == (Status.ACKNOWLEDGED, 5, "")
    assert [m for m, _p in proxy.hits] == ["500", "lost", "stall", "pass"]
    assert sent.acknowledged_at == t0 + timedelta(minutes=15) and sent.next_attempt_at is None
    assert sent.receipt["verified"] is True  # sealed by B's county, whose certificate A trusts
    assert sent.receipt["status"] == "duplicate"  # B had stored it during attempt 3
    receipt = json.loads(base64.b64decode(sent.receipt["receipt"]))
    assert receipt["envelope_id"] == str(sent.envelope_id)
    assert receipt["sha256"] == hashlib.sha256(bytes(sent.body)).hexdigest()
    assert (receipt["receiver"]["hub"], receipt["receiver"]["office"]) == ("hub-b", COUNTY)

    # on hub B: the envelope once, processed; one case from the exchange, with the file and A's sign
    [(status, case_id, body)] = _stored(hub, sent.envelope_id)
    assert status == "processed" and bytes(body) == bytes(sent.body)
    assert hub.query("SELECT id FROM cases_case WHERE channel = 'exchange'") == [(case_id,)]
    [(office, applicant, applicant_user)] = hub.query(
        "SELECT o.code, c.applicant_name, c.applicant_user_id FROM cases_case c "
        "JOIN offices_office o ON o.id = c.office_id WHERE c.id = %s",
        [case_id],
    )
    assert (office, applicant, applicant_user) == (COUNTY, "Jan Kowalski", None)  # no account on B
    assert hub.query(
        "SELECT name, sha256 FROM cases_casedocument WHERE case_id = %s AND direction = 'in'", [case_id]
    ) == [("szkic.pdf", hashlib.sha256(PDF).hexdigest())]
    [(data,)] = hub.query(
        "SELECT data FROM cases_timelineentry WHERE case_id = %s AND action = 'exchange_received'", [case_id]
    )
    assert data["sign"] == letter.sign and data["envelope"] == str(sent.envelope_id)

    # later sweeps send nothing
    hits = len(proxy.hits)
    assert exchange.outbox_sweep(now=t0 + timedelta(days=1))["sent"] == 0
    assert len(proxy.hits) == hits

    # the same envelope again, by hand: a duplicate with the same receipt, still one case
    r = _post(hub.url, bytes(sent.body), bytes(sent.seal), hub.api_key)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "duplicate" and r.json()["receipt"] == sent.receipt["receipt"]
    assert len(_stored(hub, sent.envelope_id)) == 1
    assert hub.query("SELECT count(*) FROM cases_case WHERE channel = 'exchange'") == [(1,)]


def test_forged_or_replayed_envelopes_and_strangers_are_refused(hub_b, gmina):
    hub, _proxy = hub_b
    sent = exchange.envelope_send(
        office=gmina,
        to_office=COUNTY,
        kind=Kind.REQUEST,
        subject="Prośba o wypis z rejestru gruntów",
        body={"text": "Proszę o wypis dla działki 12/3."},
        files=[("wniosek.pdf", "application/pdf", PDF)],
    )
    body, seal = bytes(sent.body), bytes(sent.seal)
    env = env_format.parse(body)

    def refused(body: bytes, seal: bytes, reason: str, status: int = 422, code: str = "envelope_refused"):
        r = _post(hub.url, body, seal, hub.api_key)
        assert r.status_code == status, r.text
        assert r.headers["Content-Type"] == "application/problem+json"
        problem = r.json()
        assert problem["status"] == status and problem["type"] == f"about:blank#{code}", problem
        assert reason in problem["detail"], problem
        if status != 409:
            assert _stored(hub, env_format.parse(body)["id"]) == []

    untrusted = "The envelope's seal is not valid or not trusted here"
    # changed after sealing, the old seal
    changed = env_format.canonical({**env, "subject": env["subject"] + " (zmienione)"})
    refused(changed, seal, untrusted)
    # sealed with a key of the gmina's name and NIP that B has never been told to trust
    key, cert = generate_pair(gmina)
    refused(body, _seal_with(body, key, cert), untrusted)
    # sealed by another office of hub A that B trusts, the envelope naming the gmina and its NIP
    claimed = env_format.canonical({**env, "id": str(uuid.uuid4())})
    refused(
        claimed,
        env_format.seal(claimed, Office.objects.get(code="wgik-mazowsze")),
        "not sealed by the office it claims to come from",
    )
    # an addressee B does not have
    elsewhere = env_format.canonical(
        {**env, "id": str(uuid.uuid4()), "to": {"hub": "hub-b", "office": "um-nieznany"}}
    )
    refused(elsewhere, env_format.seal(elsewhere, gmina), "The addressee office is not on this hub")

    # no API key; a citizen's key (no right to exchange messages); a key B does not know
    assert _post(hub.url, body, seal, None).status_code == 401
    assert _post(hub.url, body, seal, hub.citizen_key).status_code == 403
    assert _post(hub.url, body, seal, "gp_" + "x" * 43).status_code == 401
    assert _stored(hub, env["id"]) == []

    # the real one is accepted (a request opens no case); its id with other content, validly sealed: 409
    r = _post(hub.url, body, seal, hub.api_key)
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    other = env_format.canonical({**env, "subject": "Inna treść pod tym samym identyfikatorem"})
    refused(
        other,
        env_format.seal(other, gmina),
        "Another envelope with this identifier was received before",
        status=409,
        code="envelope_conflict",
    )
    [(status, case_id, stored)] = _stored(hub, env["id"])
    assert (status, case_id, bytes(stored)) == ("processed", None, body)
