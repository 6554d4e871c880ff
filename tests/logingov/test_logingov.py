"""Sign-in with login.gov.pl against the local fake node (services/logingov/adapters/fake_node.py), over real
HTTP to the node (SOAP artifact resolution, single logout) and the Django test client for the portal:
account made or found by PESEL, the applicant's name and PESEL filled in and enforced, linking a password
account once, logout both ways, and every attack of the issue refused with nothing changed."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client
from lxml import etree

from services.logingov import saml, xmldsig
from services.logingov.adapters.fake_node import IDENTITIES, MODES, FakeNode
from services.logingov.config import config
from services.logingov.models import NodeSession

pytestmark = pytest.mark.django_db
User = get_user_model()
START = "/konto/logingovpl/"


@pytest.fixture(scope="module")
def node():
    n = FakeNode().start(0)
    yield n
    n.stop()


@pytest.fixture
def lg(settings, node, tmp_path):
    (tmp_path / "node-cert.pem").write_bytes(node.cert_pem)
    settings.GISPORTAL_LOGINGOV_NODE_URL = node.url
    settings.GISPORTAL_LOGINGOV_DIR = tmp_path
    settings.GISPORTAL_LOGINGOV_NODE_CERT = ""
    settings.GISPORTAL_LOGINGOV_GENERATE = True
    settings.GISPORTAL_LOGINGOV_LOA = "substantial"
    cfg = config()
    node.sp = {"cert": cfg.cert_pem, "acs": cfg.acs_url, "slo": cfg.slo_url, "entity": cfg.entity_id}
    node.modes.clear()
    node.requests.clear()
    return node


def _field(page: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert m, f"no {name} in the page"
    return html.unescape(m.group(1))


def to_node(client: Client, node: FakeNode, who: int = 0, start: str = START, method: str = "get") -> str:
    """The portal's start page → the node's login page → a pick: the ACS path with artifact and RelayState."""
    page = (client.post(start) if method == "post" else client.get(start)).content.decode()
    assert 'action="' + node.url + '/login/SingleSignOnService"' in page
    answer = requests.post(
        node.url + "/login/SingleSignOnService",
        data={"SAMLRequest": _field(page, "SAMLRequest"), "RelayState": _field(page, "RelayState")},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    choose = requests.post(
        node.url + "/login/choose",
        data={
            "token": _field(answer.text, "token"),
            "RelayState": _field(answer.text, "RelayState"),
            "who": who,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert choose.status_code == 303
    target = urlsplit(choose.headers["Location"])
    return f"{target.path}?{target.query}"


def sign_in(client: Client, node: FakeNode, who: int = 0, **kw):
    return client.get(to_node(client, node, who, **kw))


def test_first_sign_in_makes_an_account_by_pesel_and_the_next_finds_it(lg):
    person = IDENTITIES[0]
    client = Client()
    response = sign_in(client, lg)
    assert response.status_code == 302, response.content[:500]
    user = User.objects.get(pesel=person.pesel)
    assert (user.first_name, user.last_name, str(user.birth_date)) == (
        person.given,
        person.family,
        person.born,
    )
    assert user.identity_loa == "substantial" and user.identity_verified and user.role == "citizen"
    assert not user.has_usable_password() and user.email is None
    assert client.session["_auth_user_id"] == str(user.pk)
    row = NodeSession.objects.get(user=user)
    assert row.session_key == client.session.session_key and row.session_index in lg.sessions
    again = Client()
    assert sign_in(again, lg).status_code == 302
    assert User.objects.filter(pesel=person.pesel).count() == 1
    assert again.session["_auth_user_id"] == str(user.pk)


def test_the_same_name_is_never_the_same_person(lg, make_user):
    """An account with the same name but no verified PESEL is not taken over: a new account is made."""
    person = IDENTITIES[1]
    namesake = make_user(username="namesake@example.pl", role="citizen")
    namesake.first_name, namesake.last_name = person.given, person.family
    namesake.save()
    client = Client()
    assert sign_in(client, lg, who=1).status_code == 302
    assert client.session["_auth_user_id"] != str(namesake.pk)
    namesake.refresh_from_db()
    assert namesake.pesel is None


def test_authn_request_as_the_profile_wants(lg):
    cfg = config()
    xml = saml.authn_request(cfg, "ID-test", saml.datetime.now(saml.UTC))
    root = etree.fromstring(xml)
    signed = xmldsig.verify(root, cfg.cert_pem)
    ns = {**saml.NS, "eidas": saml.EIDAS}
    assert signed.get("ForceAuthn") == "true"
    assert signed.get("ProtocolBinding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"
    assert signed.get("AssertionConsumerServiceURL") == cfg.acs_url
    assert signed.findtext("saml2p:Extensions/eidas:SPType", namespaces=ns) == "public"
    names = [a.get("Name") for a in signed.iterfind(".//eidas:RequestedAttribute", ns)]
    assert set(names) == set(saml.ATTRIBUTES) and len(names) == 4
    ctx = signed.find("saml2p:RequestedAuthnContext", ns)
    assert ctx.get("Comparison") == "minimum"
    assert (
        ctx.findtext("saml2:AuthnContextClassRef", namespaces=ns) == "http://eidas.europa.eu/LoA/substantial"
    )
    sig = root.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    assert sig.getprevious().tag == f"{{{saml.SAML}}}Issuer"  # right after the Issuer
    method = sig.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureMethod").get("Algorithm")
    assert method.endswith("ecdsa-sha256")


def test_metadata_is_signed_and_names_the_artifact_acs_and_keys(lg):
    cfg = config()
    response = Client().get("/konto/logingovpl/metadata")
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    signed = xmldsig.verify(root, cfg.cert_pem)
    md = "urn:oasis:names:tc:SAML:2.0:metadata"
    assert signed.get("entityID") == cfg.entity_id
    acs = signed.find(f".//{{{md}}}AssertionConsumerService")
    assert acs.get("Binding").endswith("HTTP-Artifact") and acs.get("Location") == cfg.acs_url
    assert {k.get("use") for k in signed.iterfind(f".//{{{md}}}KeyDescriptor")} == {"signing", "encryption"}
    assert signed.find(f".//{{{md}}}SingleLogoutService").get("Binding").endswith("SOAP")


ATTACKS = {
    "unsigned": "signature",
    "wrong_key": "signature",
    "audience": "audience",
    "expired": "expired",
    "wrapping": "signature",
    "pesel": "signature",
    "loa_low": "loa",
    "tag": "decryption",
}


@pytest.mark.parametrize("mode", sorted(ATTACKS))
def test_attacks_are_refused_and_change_nothing(lg, mode):
    users, sessions = User.objects.count(), NodeSession.objects.count()
    lg.misbehave(mode)
    client = Client()
    response = sign_in(client, lg)
    assert response.status_code == 400, (mode, response.status_code)
    text = response.content.decode()
    assert "Logowanie przez login.gov.pl nie powiodło się" in text and "Traceback" not in text
    if ATTACKS[mode]:
        assert f"<code>{ATTACKS[mode]}</code>" in text, (mode, re.findall(r"<code>(\w+)</code>", text))
    assert "_auth_user_id" not in client.session
    assert User.objects.count() == users and NodeSession.objects.count() == sessions
    assert not User.objects.filter(pesel__in=[p.pesel for p in IDENTITIES]).exists()
    assert set(MODES) >= set(ATTACKS)


def test_a_replayed_answer_is_refused(lg):
    client = Client()
    acs = to_node(client, lg)
    assert client.get(acs).status_code == 302
    client.logout()
    # the same ACS address again: no sign-in is waiting for it in this browser
    again = client.get(acs)
    assert again.status_code == 400 and b"<code>no_request</code>" in again.content
    # the artifact in a sign-in started anew: the artifact was used
    page = client.get(START).content.decode()
    artifact = re.search(r"SAMLart=([^&]+)", acs).group(1)
    replay = client.get(f"/konto/logingovpl/acs?SAMLart={artifact}&RelayState={_field(page, 'RelayState')}")
    assert replay.status_code == 400 and b"<code>replay</code>" in replay.content
    assert "_auth_user_id" not in client.session


def test_the_same_assertion_twice_is_refused(lg):
    assert sign_in(Client(), lg).status_code == 302
    lg.misbehave("replay")  # the node (or whoever holds its key) sends the assertion already used
    client = Client()
    response = sign_in(client, lg)
    assert response.status_code == 400
    assert b"<code>replay</code>" in response.content
    assert "_auth_user_id" not in client.session


def test_an_answer_started_in_another_browser_is_refused(lg):
    """Login CSRF: an attacker's artifact handed to a victim signs nobody in."""
    attacker, victim = Client(), Client()
    acs = to_node(attacker, lg)
    assert victim.get(acs).status_code == 400
    assert "_auth_user_id" not in victim.session
    # the victim with a sign-in of their own waiting: the attacker's answer is for another request
    page = victim.get(START).content.decode()
    artifact = re.search(r"SAMLart=([^&]+)", acs).group(1)
    response = victim.get(f"/konto/logingovpl/acs?SAMLart={artifact}&RelayState={_field(page, 'RelayState')}")
    assert response.status_code == 400 and b"<code>in_response_to</code>" in response.content
    assert "_auth_user_id" not in victim.session


@pytest.mark.parametrize(
    "query",
    [
        "",
        "SAMLart=&RelayState=",
        "SAMLart=%3Cx%3E&RelayState=abc",
        "SAMLart=" + "A" * 5000,
        "RelayState=" + "%00" * 10,
    ],
)
def test_hostile_acs_requests_are_4xx(lg, query):
    client = Client()
    client.get(START)
    response = client.get(f"/konto/logingovpl/acs?{query}")
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_an_artifact_of_another_source_is_refused_before_asking_anyone(lg):
    client = Client()
    page = client.get(START).content.decode()
    foreign = saml.make_artifact("https://evil.example/idp")
    lg.requests.clear()
    response = client.get(f"/konto/logingovpl/acs?SAMLart={foreign}&RelayState={_field(page, 'RelayState')}")
    assert response.status_code == 400 and b"<code>artifact</code>" in response.content
    assert lg.requests == []  # the node was not asked


def test_node_unreachable_is_503_not_500(lg, settings):
    client = Client()
    acs = to_node(client, lg)
    settings.GISPORTAL_LOGINGOV_NODE_URL = (
        "http://127.0.0.1:9"  # closed port; the artifact's source differs too
    )
    settings.GISPORTAL_LOGINGOV_NODE_ENTITY_ID = lg.entity_id
    response = client.get(acs)
    assert response.status_code == 503
    assert "_auth_user_id" not in client.session


def test_logout_at_the_portal_logs_out_at_the_node(lg):
    client = Client()
    assert sign_in(client, lg).status_code == 302
    row = NodeSession.objects.get(session_key=client.session.session_key)
    lg.requests.clear()
    response = client.post("/konto/wylogowanie/")
    assert response.status_code == 302
    assert lg.requests == ["LogoutRequest"] and lg.sessions[row.session_index]["ended"]
    row.refresh_from_db()
    assert row.ended_by == "portal"
    assert client.get("/konto/").status_code == 302  # to the login page


def test_logout_at_the_node_ends_the_portal_session(lg):
    client, other = Client(), Client()
    assert sign_in(client, lg).status_code == 302
    assert sign_in(other, lg, who=2).status_code == 302
    row = NodeSession.objects.get(session_key=client.session.session_key)
    assert client.get("/konto/").status_code == 200
    response = Client().post(
        "/konto/logingovpl/slo", lg.logout_request(row.session_index), content_type="text/xml; charset=utf-8"
    )
    assert response.status_code == 200
    answer = saml.soap_body(response.content, f"{{{saml.SAMLP}}}LogoutResponse")
    signed = xmldsig.verify(answer, config().cert_pem)  # signed by us
    assert signed.find("saml2p:Status/saml2p:StatusCode", saml.NS).get("Value") == saml.SUCCESS
    assert client.get("/konto/").status_code == 302  # logged out
    assert other.get("/konto/").status_code == 200  # another person's session is untouched
    row.refresh_from_db()
    assert row.ended_by == "node"


def test_a_forged_logout_request_ends_nothing(lg):
    client = Client()
    assert sign_in(client, lg).status_code == 302
    row = NodeSession.objects.get(session_key=client.session.session_key)
    for mode in ("unsigned", "wrong_key"):
        response = Client().post(
            "/konto/logingovpl/slo", lg.logout_request(row.session_index, mode=mode), content_type="text/xml"
        )
        assert response.status_code == 400 and b"soap:Fault" in response.content
    response = Client().post(
        "/konto/logingovpl/slo",
        b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
        content_type="text/xml",
    )
    assert (
        response.status_code == 400 and b"passwd" not in response.content and b"root:" not in response.content
    )
    assert client.get("/konto/").status_code == 200


def test_a_password_account_links_once(lg, make_user):
    person = IDENTITIES[1]
    user = make_user(username="link@example.pl", role="citizen")
    client = Client()
    client.force_login(user)
    response = client.get(to_node(client, lg, who=1, start="/konto/logingovpl/polacz/", method="post"))
    assert response.status_code == 302 and response["Location"] == "/konto/"
    user.refresh_from_db()
    assert user.pesel == person.pesel and user.identity_verified and user.has_usable_password()
    assert (user.first_name, user.last_name) == (person.given, person.family)
    assert client.session["_auth_user_id"] == str(user.pk)
    # once: the link page says so and starts nothing
    assert client.post("/konto/logingovpl/polacz/").status_code == 302
    # the same identity signing in finds this account
    other = Client()
    assert sign_in(other, lg, who=1).status_code == 302
    assert other.session["_auth_user_id"] == str(user.pk)


def test_an_identity_of_another_account_is_not_linked(lg, make_user):
    holder = Client()
    assert sign_in(holder, lg, who=2).status_code == 302
    user = make_user(username="second@example.pl", role="citizen")
    client = Client()
    client.force_login(user)
    response = client.get(to_node(client, lg, who=2, start="/konto/logingovpl/polacz/", method="post"))
    assert response.status_code == 409 and "jest już połączona z innym kontem" in response.content.decode()
    user.refresh_from_db()
    assert user.pesel is None


def test_linking_needs_the_owner_signed_in(lg):
    assert Client().post("/konto/logingovpl/polacz/").status_code == 302  # to the login page
    assert User.objects.filter(pesel=IDENTITIES[0].pesel).count() == 0


def test_the_form_is_prefilled_read_only_and_the_identity_wins(lg):
    person = IDENTITIES[0]
    client = Client()
    assert sign_in(client, lg).status_code == 302
    page = client.get("/uslugi/pismo-ogolne/").content.decode()
    name = re.search(r'<input id="[^"]*" name="applicant_name" value="([^"]*)" readonly', page)
    pesel = re.search(r'<input id="[^"]*" name="pesel" value="([^"]*)" readonly', page)
    assert name and html.unescape(name.group(1)) == f"{person.given} {person.family}"
    assert pesel and pesel.group(1) == person.pesel
    from services.forms.models import ServiceDefinition
    from services.forms.validation import prepare

    user = User.objects.get(pesel=person.pesel)
    service = ServiceDefinition.objects.filter(code="pismo-ogolne").order_by("-version").first()
    sent = {"applicant_name": "Ktoś Inny", "pesel": "02070803628"}
    data, _errors = prepare(service, sent, user=user)
    assert data["applicant_name"] == f"{person.given} {person.family}" and data["pesel"] == person.pesel


def test_login_page_offers_login_gov_pl_only_when_configured(lg, settings):
    assert "Zaloguj przez login.gov.pl" in Client().get("/konto/logowanie/").content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign in with login.gov.pl" in english.get("/konto/logowanie/").content.decode()
    settings.GISPORTAL_LOGINGOV_NODE_URL = ""
    assert "login.gov.pl" not in Client().get("/konto/logowanie/").content.decode()
    assert Client().get(START).status_code == 404
    assert Client().get("/konto/logingovpl/metadata").status_code == 404


def test_the_signature_check_names_the_signer_as_you_by_the_verified_pesel(lg, make_user):
    from services.signatures.views import mark_own

    person = IDENTITIES[0]
    client = Client()
    assert sign_in(client, lg).status_code == 302
    user = User.objects.get(pesel=person.pesel)
    report = {
        "signatures": [
            {"signer": {"identifier_kind": "PESEL", "identifier": person.pesel}},
            {"signer": {"identifier_kind": "PESEL", "identifier": IDENTITIES[1].pesel}},
            {"signer": {"identifier_kind": "NIP", "identifier": person.pesel[:10]}},
        ]
    }
    assert [s["you"] for s in mark_own(report, user)["signatures"]] == [True, False, False]
    unverified = make_user(username="plain@example.pl")
    assert [s["you"] for s in mark_own(report, unverified)["signatures"]] == [False, False, False]


def test_the_admin_shows_the_identity_read_only(lg, admin_client):
    client = Client()
    assert sign_in(client, lg).status_code == 302
    user = User.objects.get(pesel=IDENTITIES[0].pesel)
    page = admin_client.get(f"/admin/core/user/{user.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert IDENTITIES[0].pesel in text and 'name="pesel"' not in text  # shown, not editable
