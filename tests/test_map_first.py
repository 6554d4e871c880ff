"""The map-first portal's server side: the map page carries the catalogue's attribute titles, units and
value words in the page's language (json_script, no inline script), a faded base from existing WMS
layers only; the parcel page shows units and links to /?dzialka=; after login one lands on the page one
came from (a safe `next` only) or on one's own work."""

from __future__ import annotations

import json
import re

import pytest

from layers import catalogue

pytestmark = pytest.mark.django_db
PASSWORD = "x-Secret-2026!"  # make_user's
LOGIN = "/konto/logowanie/"


def _json_script(html: str, element_id: str):
    m = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert m, element_id
    return json.loads(m.group(1))


def test_map_page_carries_human_labels_in_polish(client, demo_data):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    labels = _json_script(html, "portal-labels")
    area = labels["dzialki"]["attributes"]["POLE_EWIDENCYJNE"]
    assert area == {"label": "Pole ewidencyjne", "unit": "ha", "type": "decimal"}
    assert labels["dzialki"]["attributes"]["ID_DZIALKI"]["label"] == "Identyfikator działki"
    assert labels["dzialki"]["attributes"]["DATA"]["type"] == "datetime"
    assert labels["granice"]["values"]["POZIOM"]["voivodeship"] == "województwo"
    assert labels["budynki"]["attributes"]["POWIERZCHNIA_ZABUDOWY"]["unit"] == "m²"
    assert labels["dzialki"]["order"][0] == "ID_DZIALKI"
    # the restricted attributes never reach the page
    assert "KW" not in labels["dzialki"]["attributes"] and "OWNERS" not in labels["dzialki"]["attributes"]
    texts = _json_script(html, "portal-texts")
    assert texts["kinds"]["parcel"] == "działka ewidencyjna"


def test_map_page_labels_in_english(client, demo_data):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    labels = _json_script(client.get("/").content.decode(), "portal-labels")
    assert labels["dzialki"]["attributes"]["POLE_EWIDENCYJNE"]["label"] == "Registered area"
    assert labels["granice"]["values"]["POZIOM"]["voivodeship"] == "voivodeship"
    assert labels["dzialki"]["title"] == "Cadastral parcels"


def test_map_page_layout_and_base_from_existing_layers(client, demo_data):
    html = client.get("/").content.decode()
    base = re.search(r'data-base="([^"]*)"', html).group(1).split(",")
    assert base and all(catalogue.get_layer(n) is not None for n in base)  # no new layer names
    assert (
        'role="combobox"' in html
        and 'aria-expanded="false"' in html
        and 'aria-controls="search-results"' in html
    )
    assert 'aria-autocomplete="list"' in html and "aria-activedescendant" not in html
    assert 'aria-controls="layers-body"' in html and 'id="info-close"' in html
    assert 'class="map-page"' in html
    assert "<style" not in html and " style=" not in html and "onclick" not in html  # strict CSP
    # the whole page still reaches the accessibility statement
    assert 'href="/deklaracja-dostepnosci/"' in html


def test_parcel_page_units_and_map_link(client, demo_data):
    from layers.models import Parcel

    p = Parcel.objects.current().exclude(area_ha=None).order_by("parcel_id").first()
    html = client.get(f"/dzialka/{p.parcel_id}", HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    assert "Pole ewidencyjne [ha]" not in html
    assert re.search(r"Pole ewidencyjne</th><td>[0-9,]+ ha \([0-9\s\xa0.]+ m²\)</td>", html), html
    assert f'href="/?dzialka={p.parcel_id}"' in html


def test_login_without_next_lands_on_own_work(client, make_user):
    make_user("ola", "citizen")
    r = client.post(LOGIN, {"username": "ola", "password": PASSWORD}, follow=True)
    assert r.redirect_chain[0] == ("/konto/start/", 302)
    assert r.redirect_chain[-1] == ("/moje-sprawy/", 302) and r.status_code == 200


def test_clerk_of_an_office_lands_on_the_case_inbox(client, make_user):
    from services.offices.actions import staff_add
    from services.offices.models import Office

    clerk = make_user("ula", "clerk")
    staff_add(clerk, Office.objects.order_by("pk").first())
    client.force_login(clerk)
    r = client.get("/konto/start/")
    assert r.status_code == 302 and r["Location"] == "/urzad/sprawy/"


def test_staff_without_cases_lands_on_the_account(client, make_user):
    client.force_login(make_user("wanda", "geodesist"))
    assert client.get("/konto/start/")["Location"] == "/konto/"
    client.force_login(make_user("igor", "clerk"))  # work_cases but no office: not the inbox
    assert client.get("/konto/start/")["Location"] == "/konto/"


def test_login_follows_a_local_next_and_refuses_others(client, make_user):
    make_user("ola", "citizen")
    r = client.post(LOGIN, {"username": "ola", "password": PASSWORD, "next": "/dzialka/141804_4.0001.1"})
    assert r.status_code == 302 and r["Location"] == "/dzialka/141804_4.0001.1"
    client.logout()
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = client.post(LOGIN, {"username": "ola", "password": PASSWORD, "next": evil})
        assert r.status_code == 302 and r["Location"] == "/konto/start/"
        client.logout()


def test_landing_needs_login(client):
    r = client.get("/konto/start/")
    assert r.status_code == 302 and r["Location"].startswith("/konto/logowanie/")


def test_header_login_link_keeps_the_page(client, demo_data):
    html = client.get("/uslugi/").content.decode()
    assert 'href="/konto/logowanie/?next=/uslugi/"' in html
    html = client.get("/").content.decode()  # from the map: one's own work
    assert 'href="/konto/logowanie/"' in html
    assert 'id="nav-toggle"' in html and 'aria-controls="site-nav"' in html
