"""Sign-in with login.gov.pl in a real browser (Debian's Chromium via Playwright) against the local fake node:
the login page → login.gov.pl (the signed AuthnRequest carried by the auto-submitted form) → a test identity
picked at the node → back with an artifact, which the portal resolves over SOAP → signed in, the account made,
landing on the form asked for with the applicant's name and PESEL filled in, read-only → logout at the node
(its page's button) ends the portal session. Pages axe-clean and without sideways scrolling."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import CHROMIUM, PHONE, committed, page_ok

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


@pytest.fixture
def node(settings, live_url, tmp_path):
    from services.logingov.adapters.fake_node import FakeNode
    from services.logingov.config import config

    fake = FakeNode().start(0)
    (tmp_path / "node-cert.pem").write_bytes(fake.cert_pem)
    settings.GISPORTAL_PUBLIC_URL = live_url
    settings.GISPORTAL_LOGINGOV_NODE_URL = fake.url
    settings.GISPORTAL_LOGINGOV_DIR = tmp_path
    settings.GISPORTAL_LOGINGOV_NODE_CERT = ""
    settings.GISPORTAL_LOGINGOV_GENERATE = True
    cfg = config()
    fake.sp = {"cert": cfg.cert_pem, "acs": cfg.acs_url, "slo": cfg.slo_url, "entity": cfg.entity_id}
    yield fake
    fake.stop()

    def remove():
        from gisportal.core.models import User
        from services.forms.models import Draft
        from services.logingov.adapters.fake_node import IDENTITIES

        users = User.objects.filter(pesel__in=[p.pesel for p in IDENTITIES])
        Draft.objects.filter(user__in=users).delete()
        users.delete()

    committed(remove)


def test_sign_in_prefill_and_logout_at_the_node(browser, live_url, node):
    from services.logingov.adapters.fake_node import IDENTITIES

    person = IDENTITIES[1]
    context = browser.new_context(locale="pl-PL", viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_url}/konto/logowanie/?next=/uslugi/pismo-ogolne/")
    page_ok(page, "logingov-1-login")
    csp = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    page.get_by_role("link", name="Zaloguj przez login.gov.pl").click()
    page.wait_for_url(f"{node.url}/login/SingleSignOnService")  # the form went to the node by itself
    page.get_by_label(f"{person.given} {person.family}", exact=False).check()
    page.get_by_role("button", name="Zaloguj").click()
    page.wait_for_url(f"{live_url}/uslugi/pismo-ogolne/")
    assert csp == []
    name = page.locator("input[name=applicant_name]")
    pesel = page.locator("input[name=pesel]")
    assert name.input_value() == f"{person.given} {person.family}"
    assert pesel.input_value() == person.pesel
    assert name.get_attribute("readonly") is not None and pesel.get_attribute("readonly") is not None
    page_ok(page, "logingov-2-form-prefilled")
    page.goto(f"{live_url}/konto/")
    assert person.pesel in page.content() and "login.gov.pl" in page.content()
    page_ok(page, "logingov-3-account")

    # logout at the node: its page sends the portal a signed SOAP LogoutRequest
    node_page = context.new_page()
    node_page.goto(f"{node.url}/_fake/")
    node_page.get_by_role("button", name="Wyloguj w węźle").first.click()
    node_page.wait_for_load_state()
    assert "wylogowany" in node_page.content()
    assert node.logout_answers and b"LogoutResponse" in node.logout_answers[-1]
    page.goto(f"{live_url}/konto/")
    assert "/konto/logowanie/" in page.url, "the portal session outlived the node's"
    context.close()
