"""Login throttling (django-axes): the portal login, the admin login and HTTP Basic on the JSON API lock
a client out after repeated wrong passwords (429, how long to wait, in the user's language); the lock
is per account from one address and per address over many accounts; the open-redirect checks of login
and language switching."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "x-Secret-2026!"  # make_user's
LOGIN = "/konto/logowanie/"
ADMIN_LOGIN = "/admin/login/"
LIMIT = settings.AXES_FAILURE_LIMIT
ADDRESS_LIMIT = settings.GISPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT


def _login(client, username, password, ip="10.1.1.1", url=LOGIN, **extra):
    data = {"username": username, "password": password}
    if url == ADMIN_LOGIN:
        data["next"] = "/admin/"
    return client.post(url, data, REMOTE_ADDR=ip, **extra)


def _basic(username, password=PASSWORD):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_settings_match_the_documented_policy():
    assert LIMIT == 5 and ADDRESS_LIMIT == 20 and settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert "gisportal.core.roles.RoleBackend" in settings.AUTHENTICATION_BACKENDS
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_account_locked_after_five_failures_polish_page_and_right_password_refused(client, make_user):
    make_user("anna", "clerk")
    for _i in range(LIMIT - 1):
        r = _login(client, "anna", "wrong-password")
        assert r.status_code == 200  # the form again, with its error
    r = _login(client, "anna", "wrong-password")
    assert r.status_code == 429
    text = r.content.decode()
    assert (
        "Spróbuj ponownie za 15 minut." in text
        and 'lang="pl"' in text
        and "Logowanie czasowo zablokowane" in text
    )
    assert r["Retry-After"] == "900"
    r = _login(client, "anna", PASSWORD)
    assert r.status_code == 429 and not _logged_in(client)
    assert client.get("/konto/").status_code == 302  # not logged in
    # the audit: the attempts and every failure, the last ones marked as locked out
    assert AccessAttempt.objects.get(username="anna").failures_since_start == LIMIT + 1
    logs = AccessFailureLog.objects.filter(username="anna")
    assert logs.count() == LIMIT + 1 and logs.filter(locked_out=True).count() == 2


def test_lockout_page_in_english_when_chosen(client, make_user):
    make_user("anna", "clerk")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for _i in range(LIMIT):
        r = _login(client, "anna", "wrong-password")
    assert r.status_code == 429
    assert "Too many failed login attempts. Try again in 15 minutes." in r.content.decode()


def test_username_case_does_not_make_another_account(client, make_user):
    make_user("anna", "clerk")
    for name in ("anna", "Anna", "ANNA", " anna", "aNNa"):
        r = _login(client, name, "wrong-password")
    assert r.status_code == 429


def test_lock_is_per_address_an_attacker_cannot_lock_the_owner_out(client, make_user):
    make_user("anna", "clerk")
    for _i in range(LIMIT):
        r = _login(client, "anna", "wrong-password", ip="10.6.6.6")
    assert r.status_code == 429
    owner = Client()
    r = _login(owner, "anna", PASSWORD, ip="10.2.2.2")
    assert r.status_code == 302 and _logged_in(owner)


def test_x_forwarded_for_is_not_trusted(client, make_user):
    make_user("anna", "clerk")
    for i in range(LIMIT):
        r = _login(client, "anna", "wrong-password", HTTP_X_FORWARDED_FOR=f"192.0.2.{i + 1}")
    assert r.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.1.1.1"}


def test_address_spraying_many_accounts_is_locked(client, make_user):
    make_user("anna", "clerk")
    for i in range(ADDRESS_LIMIT - 1):
        r = _login(client, f"someone{i}", "Haslo2026!", ip="10.7.7.7")
        assert r.status_code == 200, i  # one failure per account: no account lock
    r = _login(client, "someone-last", "Haslo2026!", ip="10.7.7.7")
    assert r.status_code == 429
    r = _login(client, "anna", PASSWORD, ip="10.7.7.7")  # even a right password, from that address
    assert r.status_code == 429 and not _logged_in(client)
    other = Client()
    assert _login(other, "anna", PASSWORD, ip="10.8.8.8").status_code == 302


def test_success_resets_the_accounts_failures(client, make_user):
    make_user("anna", "clerk")
    for _i in range(LIMIT - 1):
        assert _login(client, "anna", "wrong-password").status_code == 200
    assert _login(client, "anna", PASSWORD).status_code == 302
    client.post("/konto/wylogowanie/")
    for _i in range(LIMIT - 1):
        assert _login(client, "anna", "wrong-password").status_code == 200
    assert _login(client, "anna", PASSWORD).status_code == 302


def test_own_account_login_does_not_reset_a_spray(client, make_user):
    make_user("mallory", "citizen")
    for i in range(ADDRESS_LIMIT - 2):
        assert _login(client, f"victim{i}", "Haslo2026!", ip="10.9.9.9").status_code == 200
    assert _login(client, "mallory", PASSWORD, ip="10.9.9.9").status_code == 302
    client.post("/konto/wylogowanie/")
    assert _login(client, "victim-a", "Haslo2026!", ip="10.9.9.9").status_code == 200
    assert _login(client, "victim-b", "Haslo2026!", ip="10.9.9.9").status_code == 429


def test_admin_login_is_throttled(client, make_user):
    make_user("boss", "clerk", is_staff=True, is_superuser=True)
    for _i in range(LIMIT - 1):
        assert _login(client, "boss", "wrong-password", url=ADMIN_LOGIN).status_code == 200
    r = _login(client, "boss", "wrong-password", url=ADMIN_LOGIN)
    assert r.status_code == 429 and "Spróbuj ponownie za 15 minut." in r.content.decode()
    r = _login(client, "boss", PASSWORD, url=ADMIN_LOGIN)
    assert r.status_code == 429 and not _logged_in(client)


def test_admin_login_works_and_shows_the_audit(client, make_user):
    make_user("boss", "clerk", is_staff=True, is_superuser=True)
    _login(client, "boss", "wrong-password", url=ADMIN_LOGIN)
    assert _login(client, "boss", PASSWORD, url=ADMIN_LOGIN).status_code == 302
    assert client.get("/admin/axes/accessfailurelog/").status_code == 200
    assert client.get("/admin/axes/accessattempt/").status_code == 200


def test_http_basic_is_locked_out_with_problem_json(client, make_user):
    make_user("system.test", "office_system")
    url = f"/api/submissions/{uuid.uuid4()}"
    for _i in range(LIMIT - 1):
        r = client.get(url, REMOTE_ADDR="10.3.3.3", **_basic("system.test", "wrong"))
        assert r.status_code == 401 and r["Content-Type"] == "application/problem+json"
        assert r.json()["detail"] == "Błędna nazwa użytkownika lub hasło."
    r = client.get(url, REMOTE_ADDR="10.3.3.3", **_basic("system.test", "wrong"))
    assert r.status_code == 429 and r["Content-Type"] == "application/problem+json"
    assert r["Retry-After"] == "900"
    body = r.json()
    assert body["status"] == 429 and body["retry_after"] == 900
    assert body["detail"] == "Zbyt wiele nieudanych prób logowania. Spróbuj ponownie za 15 minut."
    # the right password is refused while locked, on every endpoint of the API
    r = client.get(url, REMOTE_ADDR="10.3.3.3", **_basic("system.test"))
    assert r.status_code == 429
    r = client.post(
        "/api/submissions/",
        "{}",
        content_type="application/json",
        REMOTE_ADDR="10.3.3.3",
        **_basic("system.test"),
    )
    assert r.status_code == 429 and r["Content-Type"] == "application/problem+json"
    # and it works from another address
    assert client.get(url, REMOTE_ADDR="10.4.4.4", **_basic("system.test")).status_code == 404


def test_http_basic_right_password_authenticates(client, make_user):
    make_user("system.test", "office_system")
    r = client.get(f"/api/submissions/{uuid.uuid4()}", **_basic("system.test"))
    assert r.status_code == 404 and r.json()["type"].endswith("not_found")
    r = client.get(f"/api/submissions/{uuid.uuid4()}")
    assert r.status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Basic "
        + base64.b64encode(("x" * 5000 + ":pw").encode()).decode(),  # user name longer than any account's
        "Basic " + base64.b64encode(b"anna\x00:pw").decode(),  # NUL: PostgreSQL refuses it in text
        "Basic " + base64.b64encode(b"\xff\xfe:pw").decode(),  # not UTF-8
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Digest username=anna",
    ],
)
def test_hostile_basic_headers_are_401_not_500(client, header):
    r = client.post("/api/submissions/", "{}", content_type="application/json", HTTP_AUTHORIZATION=header)
    assert r.status_code == 401 and r["Content-Type"] == "application/problem+json"


def test_overlong_user_name_on_the_login_form_is_not_a_500(client):
    r = _login(client, "x" * 5000, "wrong-password")
    assert r.status_code == 200
    for _i in range(LIMIT):
        r = _login(client, "y" * 300, "wrong-password")
    assert r.status_code == 429  # throttled like any other name, stored bounded
    assert {len(n) for n in AccessAttempt.objects.values_list("username", flat=True)} == {150}


# ---- open redirects ---------------------------------------------------------------------------
EVIL = [
    "https://evil.example/",
    "//evil.example",
    "///evil.example/x",
    "http:evil.example",
    "\\\\evil.example",
    "https://testserver.evil.example/",
]


@pytest.mark.parametrize("target", EVIL)
def test_login_does_not_redirect_off_site(client, make_user, target):
    make_user("anna", "clerk")
    r = client.post(LOGIN, {"username": "anna", "password": PASSWORD, "next": target}, REMOTE_ADDR="10.5.5.5")
    assert r.status_code == 302 and r["Location"] == "/konto/start/"  # LOGIN_REDIRECT_URL: one's own work
    assert client.get(LOGIN + "?next=" + target).context["next"] == ""


def test_login_follows_a_local_next(client, make_user):
    make_user("anna", "clerk")
    r = client.post(LOGIN, {"username": "anna", "password": PASSWORD, "next": "/moje-sprawy/"})
    assert r.status_code == 302 and r["Location"] == "/moje-sprawy/"


@pytest.mark.parametrize("target", EVIL)
def test_set_language_does_not_redirect_off_site(client, target):
    r = client.post("/i18n/setlang/", {"language": "en", "next": target})
    assert r.status_code == 302 and "evil" not in r["Location"] and r["Location"].startswith("/")
    r = client.post("/i18n/setlang/", {"language": "en"}, HTTP_REFERER=target)
    assert r.status_code == 302 and "evil" not in r["Location"]


def test_set_language_follows_a_local_next(client):
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/szukaj/"})
    assert r.status_code == 302 and r["Location"] == "/szukaj/"
    assert json.dumps(r.cookies[settings.LANGUAGE_COOKIE_NAME].value) == '"en"'
