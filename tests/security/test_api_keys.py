"""API keys for offices' systems: accepted as `Authorization: Bearer` or `X-API-Key`, stored only hashed,
revocable; a bad key is a 401 and never anonymous access; a key grants only its account's role."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from gisportal.core.actions import api_key_create, api_key_revoke
from gisportal.core.models import ApiKey
from layers.models import Parcel

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def missing_submission() -> str:
    return f"/api/submissions/{uuid.uuid4()}"


def office_clerk(make_user, username="urzednik"):
    """A clerk of the county office: the import API wants an office (services.offices.selectors.import_scope_of)."""
    from services.offices.actions import staff_add
    from services.offices.models import Office

    user = make_user(username, "clerk")
    staff_add(user, Office.objects.get(code="sp-piaseczno"))
    return user


@pytest.fixture
def system(make_user):
    return make_user("system.test", "office_system")


@pytest.fixture
def system_key(system):
    return api_key_create(system, "test system")[1]


def _is_problem(r, status: int, code: str | None = None) -> bool:
    ok = r.status_code == status and r["Content-Type"] == "application/problem+json"
    return ok and (code is None or r.json()["type"] == f"about:blank#{code}")


def test_key_is_accepted_as_bearer_and_as_x_api_key(client, system_key):
    assert _is_problem(client.get(missing_submission()), 401, "not_authenticated")
    assert _is_problem(client.get(missing_submission(), **bearer(system_key)), 404, "not_found")
    assert _is_problem(client.get(missing_submission(), HTTP_X_API_KEY=system_key), 404, "not_found")
    assert _is_problem(client.get(missing_submission(), HTTP_AUTHORIZATION=f"bearer   {system_key} "), 404)
    key = ApiKey.objects.get()
    assert key.last_used_at is not None


def test_key_files_a_submission_as_its_account(client, system, system_key, demo_data):
    parcel = (
        Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[4].parcel_id
    )
    data = {
        "applicant_name": "Jan Kowalski",
        "email": "jan@example.pl",
        "pesel": "44051401359",
        "postal_code": "05-500",
        "locality": "Piaseczno",
        "nip": "123-456-32-18",
        "parcels": [parcel],
        "purpose": "kredyt",
    }
    csrf_client = Client(enforce_csrf_checks=True)  # a key needs no CSRF token
    r = csrf_client.post(
        "/api/submissions/",
        json.dumps({"service": "zaswiadczenie-mpzp", "data": data}),
        content_type="application/json",
        **bearer(system_key),
    )
    assert r.status_code == 201, r.content
    from services.forms.models import Submission

    assert Submission.objects.get(id=r.json()["id"]).user == system
    got = client.get(f"/api/submissions/{r.json()['id']}", HTTP_X_API_KEY=system_key)
    assert got.status_code == 200 and got.json()["id"] == r.json()["id"]


def test_revoked_key_is_401(client, system_key):
    api_key_revoke(system_key[:11])
    r = client.get(missing_submission(), **bearer(system_key))
    assert _is_problem(r, 401, "bad_api_key") and r["WWW-Authenticate"].startswith("Bearer")
    assert r.json()["detail"] == "Klucz API jest nieprawidłowy: nieznany, unieważniony lub wygasły."


def test_expired_key_is_401(client, system):
    key, raw = api_key_create(system, "short", expires_at=timezone.now() + timedelta(hours=1))
    assert client.get(missing_submission(), **bearer(raw)).status_code == 404
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _is_problem(client.get(missing_submission(), **bearer(raw)), 401, "bad_api_key")


def test_key_of_an_inactive_account_is_401(client, system, system_key):
    system.is_active = False
    system.save()
    assert _is_problem(client.get(missing_submission(), **bearer(system_key)), 401, "bad_api_key")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda k: "gp_" + "A" * 43,  # well-formed, unknown
        lambda k: k[:-4] + ("AAAA" if not k.endswith("AAAA") else "BBBB"),  # right prefix, wrong rest
        lambda k: k + "x",
        lambda k: k[3:],  # without gp_
        lambda k: "",
        lambda k: "gp_" + "ą" * 43,
        lambda k: "x" * 10_000,
    ],
)
def test_wrong_keys_are_401(client, system_key, mutate):
    wrong = mutate(system_key)
    assert _is_problem(client.get(missing_submission(), **bearer(wrong)), 401)
    if wrong.isascii():
        assert _is_problem(client.get(missing_submission(), HTTP_X_API_KEY=wrong), 401)


def test_a_bad_key_never_falls_back_to_the_session(client, system, make_user):
    clerk = office_clerk(make_user)
    client.force_login(clerk)
    assert client.get("/api/imports/").status_code == 200  # the session alone works
    r = client.get("/api/imports/", **bearer("gp_" + "A" * 43))
    assert _is_problem(r, 401, "bad_api_key")
    r = client.post("/api/submissions/", "{}", content_type="application/json", HTTP_X_API_KEY="nonsense")
    assert _is_problem(r, 401, "bad_api_key")


def test_key_in_two_headers_and_unknown_schemes_are_401(client, system_key):
    r = client.get(missing_submission(), HTTP_X_API_KEY=system_key, **bearer(system_key))
    assert _is_problem(r, 401, "bad_authorization")
    assert _is_problem(
        client.get(missing_submission(), HTTP_AUTHORIZATION=f"Token {system_key}"), 401, "bad_authorization"
    )


def test_a_citizens_key_grants_no_office_rights(client, make_user):
    citizen = make_user("jan", "citizen")
    clerk = office_clerk(make_user)
    citizen_raw = api_key_create(citizen, "own script")[1]
    clerk_raw = api_key_create(clerk, "import robot")[1]
    r = client.get("/api/imports/", **bearer(citizen_raw))
    # refused for the role (not merely for having no office)
    assert (
        _is_problem(r, 403, "forbidden")
        and r.json()["detail"] == "Brak uprawnień do importu danych rejestrów."
    )
    assert _is_problem(client.post("/api/imports/", {}, **bearer(citizen_raw)), 403, "forbidden")
    r = client.get("/api/imports/", **bearer(clerk_raw))
    assert r.status_code == 200 and "imports" in r.json()
    # an office system's key is not an import right either
    system = make_user("system.test", "office_system")
    assert _is_problem(
        client.get("/api/imports/", **bearer(api_key_create(system, "s")[1])), 403, "forbidden"
    )


def test_key_post_needs_no_csrf_token_but_a_session_post_does(make_user):
    clerk = office_clerk(make_user)
    raw = api_key_create(clerk, "import robot")[1]
    client = Client(enforce_csrf_checks=True)
    r = client.post("/api/imports/", {"policy": "nonsense"}, **bearer(raw))
    assert _is_problem(r, 400, "invalid")  # reached the view: the upload itself is checked
    r = client.post("/api/imports/", {"policy": "nonsense"}, HTTP_X_API_KEY=raw)
    assert _is_problem(r, 400, "invalid")
    # HTTP Basic is not exempt (browsers resend Basic credentials by themselves)
    basic = "Basic " + base64.b64encode(b"urzednik:x-Secret-2026!").decode()
    assert client.post("/api/imports/", {"policy": "nonsense"}, HTTP_AUTHORIZATION=basic).status_code == 403
    assert client.get("/api/imports/", HTTP_AUTHORIZATION=basic).status_code == 200
    client.force_login(clerk)
    assert client.post("/api/imports/", {"policy": "nonsense"}).status_code == 403  # session without token
    r = client.post("/api/submissions/", "{}", content_type="application/json")
    assert _is_problem(r, 403, "csrf")


def test_key_is_stored_only_hashed(system):
    key, raw = api_key_create(system, "test system")
    assert raw.startswith("gp_") and len(raw) >= 46
    assert key.key_sha256 == hashlib.sha256(raw.encode()).hexdigest()
    assert key.prefix == raw[3:11]
    with connection.cursor() as cur:
        cur.execute("SELECT row_to_json(k)::text FROM core_apikey k")
        (row,) = cur.fetchone()
    assert raw not in row and raw[3:] not in row and raw[11:] not in row
    assert raw not in repr(key.__dict__) and raw not in str(key)


def test_two_keys_differ(system):
    raws = {api_key_create(system, f"k{i}")[1] for i in range(5)}
    assert len(raws) == 5


def test_create_refuses_bad_input(system):
    from gisportal.core.errors import InvalidInput

    for kwargs in (
        {"name": ""},
        {"name": "x" * 101},
        {"name": "ok", "expires_at": timezone.now() - timedelta(days=1)},
    ):
        with pytest.raises(InvalidInput):
            api_key_create(system, **kwargs)
    assert not ApiKey.objects.exists()


def test_cli_create_list_revoke(client, system):
    out, err = io.StringIO(), io.StringIO()
    call_command("api_key", "create", "system.test", "--name", "Lesznowola EZD", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("gp_") and "cannot be shown again" in err.getvalue()
    assert client.get(missing_submission(), **bearer(raw)).status_code == 404
    listing = io.StringIO()
    call_command("api_key", "list", stdout=listing)
    assert (
        f"gp_{raw[3:11]}" in listing.getvalue()
        and "active" in listing.getvalue()
        and raw not in listing.getvalue()
    )
    call_command("api_key", "revoke", raw[3:11], stdout=io.StringIO())
    assert _is_problem(client.get(missing_submission(), **bearer(raw)), 401)
    listing = io.StringIO()
    call_command("api_key", "list", "--user", "system.test", stdout=listing)
    assert "revoked" in listing.getvalue()
    with pytest.raises(CommandError):
        call_command("api_key", "create", "nobody", "--name", "x", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("api_key", "revoke", "gp_zzzzzzzz", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("api_key", "create", "system.test", "--name", "x", "--days", "0", stdout=io.StringIO())


def test_cli_key_with_expiry(client, system):
    out = io.StringIO()
    call_command(
        "api_key",
        "create",
        "system.test",
        "--name",
        "30 days",
        "--days",
        "30",
        stdout=out,
        stderr=io.StringIO(),
    )
    key = ApiKey.objects.get()
    assert timedelta(days=29) < key.expires_at - timezone.now() <= timedelta(days=30)


def test_demo_accounts_give_the_demo_system_its_published_key(client):
    from services.offices.management.commands.demo_accounts import DEMO_API_KEY

    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    assert DEMO_API_KEY in out.getvalue()
    r = client.get(missing_submission(), **bearer(DEMO_API_KEY))
    assert r.status_code == 404  # authenticated as system.lesznowola
    api_key_revoke(DEMO_API_KEY)
    assert client.get(missing_submission(), **bearer(DEMO_API_KEY)).status_code == 401
    call_command("demo_accounts", stdout=io.StringIO())  # resets the demo, the key included
    assert client.get(missing_submission(), **bearer(DEMO_API_KEY)).status_code == 404
    assert ApiKey.objects.filter(user__username="system.lesznowola").count() == 1
    listing = io.StringIO()
    call_command("demo_accounts", "--list", stdout=listing)
    assert DEMO_API_KEY in listing.getvalue()


def test_admin_lists_and_revokes_keys_but_never_shows_them(client, make_user, system):
    raw = api_key_create(system, "test system")[1]
    admin = make_user("boss", "clerk", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get("/admin/core/apikey/")
    assert (
        page.status_code == 200
        and f"gp_{raw[3:11]}" in page.content.decode()
        and raw not in page.content.decode()
    )
    key = ApiKey.objects.get()
    change = client.get(f"/admin/core/apikey/{key.pk}/change/")
    assert (
        change.status_code == 200
        and raw not in change.content.decode()
        and key.key_sha256 not in change.content.decode()
    )
    assert client.get("/admin/core/apikey/add/").status_code == 403
    r = client.post("/admin/core/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    assert r.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert _is_problem(Client().get(missing_submission(), **bearer(raw)), 401)


def test_openapi_documents_bearer_keys(client):
    doc = client.get("/api/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyHeader"]["name"] == "X-API-Key" and schemes["apiKeyHeader"]["in"] == "header"
    assert {"apiKey": []} in doc["security"]
    assert "Bearer" in doc["info"]["description"]
