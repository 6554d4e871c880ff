"""Accounts, roles and pages: permissions are enforced by the server."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from gisportal.core.errors import Forbidden
from gisportal.core.roles import capabilities_of
from layers import catalogue
from layers.models import Parcel, RestrictedAccessLog
from layers.selectors import access_log_verify, restricted_parcel_data

pytestmark = pytest.mark.django_db

EXPECTED = {
    "citizen": {"view_public_layers", "submit_forms"},
    "surveyor": {"view_public_layers", "submit_forms", "notify_survey_work", "download_bulk"},
    "clerk": {
        "view_public_layers",
        "view_restricted_layers",
        "work_cases",
        "handle_payments",
        "register_paper_mail",
        "import_registries",
    },
    "geodesist": {
        "view_public_layers",
        "view_restricted_layers",
        "import_registries",
        "download_bulk",
        "exchange_messages",
    },
    "office_system": {"view_public_layers", "submit_forms", "download_bulk", "exchange_messages"},
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_role_capabilities(make_user, role):
    user = make_user(f"u_{role}", role)
    assert capabilities_of(user) == EXPECTED[role]
    for cap in EXPECTED[role]:
        assert user.has_perm("gisportal." + cap)
    assert not user.has_perm("gisportal.nonexistent")
    assert (user.has_perm("gisportal.view_restricted_layers")) == (role in {"clerk", "geodesist"})


def test_anonymous_sees_public_layers_only():
    anon = AnonymousUser()
    assert capabilities_of(anon) == {"view_public_layers"}
    assert {la.name for la in catalogue.layers_for(anon)} == set(catalogue.layer_names())


def test_inactive_user_has_no_role_rights(make_user):
    user = make_user("gone", "clerk", is_active=False)
    assert not user.has_perm("gisportal.work_cases")


def test_restricted_data_needs_role_and_is_logged(make_user, demo_data):
    pid = Parcel.objects.filter(registration_group=7).values_list("parcel_id", flat=True).first()
    with pytest.raises(Forbidden):
        restricted_parcel_data(make_user("cit", "citizen"), pid, legal_basis="ciekawość")
    with pytest.raises(Forbidden):
        restricted_parcel_data(make_user("sur", "surveyor"), pid, legal_basis="art. 12 PGiK")
    assert RestrictedAccessLog.objects.count() == 0
    clerk = make_user("clerk1", "clerk")
    data = restricted_parcel_data(clerk, pid, legal_basis="art. 24 ust. 2 PGiK", case_sign="GK.6640.1.2026")
    assert data["owners"] and data["parcel_id"] == pid
    entry = RestrictedAccessLog.objects.get()
    assert entry.username == "clerk1" and entry.object_ids == [pid] and entry.case_sign == "GK.6640.1.2026"
    restricted_parcel_data(make_user("wgik1", "geodesist"), pid, legal_basis="art. 7b PGiK")
    assert RestrictedAccessLog.objects.count() == 2
    assert access_log_verify()


def test_restricted_read_without_legal_basis_is_refused(make_user, demo_data):
    from gisportal.core.errors import InvalidInput

    pid = Parcel.objects.values_list("parcel_id", flat=True).first()
    with pytest.raises(InvalidInput):
        restricted_parcel_data(make_user("clerk2", "clerk"), pid, legal_basis="  ")
    assert RestrictedAccessLog.objects.count() == 0


def test_home_page_polish_by_default(client):
    r = client.get("/")
    assert r.status_code == 200
    html = r.content.decode()
    assert '<html lang="pl">' in html
    assert "dzialki" in html and "Działki ewidencyjne" in html
    assert 'href="#main"' in html  # skip link
    assert reverse("accessibility") in html


def test_home_page_in_english(client):
    r = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in r.content.decode()
    assert "Cadastral parcels" in r.content.decode()


def test_language_switch_sets_cookie(client):
    r = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert r.status_code == 302
    assert '<html lang="en">' in client.get("/").content.decode()


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"


def test_account_page_requires_login(client, make_user):
    r = client.get(reverse("account"))
    assert r.status_code == 302 and reverse("login") in r["Location"]
    make_user("anna", "clerk")
    from django.http import HttpRequest

    # django-axes checks every authentication against its lockouts, so authenticate() needs a request
    assert client.login(request=HttpRequest(), username="anna", password="x-Secret-2026!")
    r = client.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="pl")
    assert r.status_code == 200 and "work_cases" in r.content.decode()
    assert "<dt>Imię i nazwisko</dt>" in r.content.decode()  # a person's name here ("Name", context "person")


def test_ogcapi_pages_name_columns_not_persons(client, demo_data):
    """The OGC API's collection and queryables tables head their first column "Nazwa" (a name of a thing),
    not the account page's "Imię i nazwisko"."""
    for path in ("/ogcapi/collections?f=html", "/ogcapi/collections/dzialki/queryables?f=html"):
        body = client.get(path, HTTP_ACCEPT_LANGUAGE="pl").content.decode()
        assert ">Nazwa</th>" in body and "Imię i nazwisko" not in body, path


def test_citizen_registration(client):
    from gisportal.core.models import User

    r = client.post(
        reverse("register"),
        {
            "email": "Nowy@Example.pl",
            "first_name": "Ola",
            "last_name": "Nowa",
            "password1": "bardzo-tajne-haslo-42",
            "password2": "bardzo-tajne-haslo-42",
        },
    )
    assert r.status_code == 302
    user = User.objects.get(email="nowy@example.pl")
    assert user.role == "citizen"
    # the same e-mail cannot register twice
    client.logout()
    r = client.post(
        reverse("register"),
        {
            "email": "nowy@example.pl",
            "first_name": "X",
            "last_name": "Y",
            "password1": "bardzo-tajne-haslo-42",
            "password2": "bardzo-tajne-haslo-42",
        },
    )
    assert r.status_code == 200 and User.objects.filter(email="nowy@example.pl").count() == 1


def test_registration_cannot_choose_a_role(client):
    from gisportal.core.models import User

    client.post(
        reverse("register"),
        {
            "email": "x@example.pl",
            "first_name": "X",
            "last_name": "Y",
            "role": "clerk",
            "password1": "bardzo-tajne-haslo-42",
            "password2": "bardzo-tajne-haslo-42",
        },
    )
    assert User.objects.get(email="x@example.pl").role == "citizen"


def test_login_bad_password_is_a_form_error(client, make_user):
    make_user("bob")
    r = client.post(reverse("login"), {"username": "bob", "password": "wrong"})
    assert r.status_code == 200 and 'role="alert"' in r.content.decode()


def test_post_without_csrf_token_is_refused(make_user):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    r = c.post(reverse("register"), {"email": "y@example.pl"})
    assert r.status_code == 403
    assert "Traceback" not in r.content.decode()


def test_unknown_page_is_a_clean_404(client):
    r = client.get("/no/such/page/../../etc/passwd")
    assert r.status_code == 404
    assert "Traceback" not in r.content.decode()


def test_demo_accounts_one_per_role(db):
    from services.offices.actions import DEMO_PASSWORD, demo_accounts_ensure

    demo_accounts_ensure()
    demo_accounts_ensure()  # idempotent
    from gisportal.core.models import User

    assert set(User.objects.values_list("role", flat=True)) >= set(EXPECTED)
    clerk = User.objects.get(username="urzednik.gmina")
    assert clerk.membership.office.code == "um-piaseczno" and clerk.check_password(DEMO_PASSWORD)
