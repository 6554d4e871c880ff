"""The public map portal's server side: search (JSON and the plain page), the parcel page (text
path with zoning and actions) and the map page's layer list."""

from __future__ import annotations

import pytest

from layers.models import AddressPoint, Parcel, Precinct

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def parcel(demo_data, django_db_blocker):
    with django_db_blocker.unblock():
        return (
            Parcel.objects.current()
            .filter(precinct__unit__unit_id="141804_4")
            .select_related("precinct")
            .order_by("parcel_id")[25]
        )


def test_search_by_full_and_partial_parcel_id(client, parcel):
    body = client.get("/api/search", {"q": parcel.parcel_id}).json()
    assert (
        body["results"][0]["id"] == parcel.parcel_id
        and body["results"][0]["url"] == f"/dzialka/{parcel.parcel_id}"
    )
    x0, y0, x1, y1 = body["results"][0]["bbox"]
    assert 600_000 < x0 < x1 < 700_000 and 400_000 < y0 < y1 < 520_000  # EPSG:2180, x = easting
    prefix = parcel.parcel_id.rsplit(".", 1)[0] + "."
    assert all(r["id"].startswith(prefix) for r in client.get("/api/search", {"q": prefix}).json()["results"])


def test_search_by_precinct_and_number(client, parcel):
    body = client.get("/api/search", {"q": f"{parcel.precinct.name} {parcel.number}"}).json()
    assert parcel.parcel_id in [r["id"] for r in body["results"]]


def test_search_address_and_precinct(client, demo_data):
    a = AddressPoint.objects.current().exclude(street="").order_by("pk").first()
    body = client.get("/api/search", {"q": f"{a.street} {a.number}"}).json()
    assert any(r["kind"] == "address" and r["id"] == a.local_id for r in body["results"])
    r = Precinct.objects.current().order_by("pk").first()
    assert any(
        h["kind"] == "precinct" for h in client.get("/api/search", {"q": r.name[:5]}).json()["results"]
    )


@pytest.mark.parametrize("q", ["", "x", "' OR 1=1 --", "<script>", "9" * 200, "%", "_"])
def test_search_hostile_or_empty(client, demo_data, q):
    r = client.get("/api/search", {"q": q})
    assert r.status_code == 200 and isinstance(r.json()["results"], list)


def test_plain_search_page(client, parcel):
    html = client.get("/szukaj/", {"q": parcel.parcel_id}).content.decode()
    assert f'href="/dzialka/{parcel.parcel_id}"' in html
    assert "<script>" not in client.get("/szukaj/", {"q": "<script>"}).content.decode().split("<main")[1]


def test_parcel_page_text_path(client, parcel):
    r = client.get(f"/dzialka/{parcel.parcel_id}")
    html = r.content.decode()
    assert r.status_code == 200 and parcel.parcel_id in html and parcel.precinct.name in html
    assert f"/uslugi/wypis-wyrys-mpzp/?parcels={parcel.parcel_id.replace('/', '%2F')}" in html
    assert "REQUEST=GetMap" in html and 'alt="' in html
    assert (
        "Zamów wypis i wyrys z planu miejscowego" in html and "Order a zoning" not in html
    )  # Polish by default
    assert client.get("/dzialka/141804_4.0001.999999").status_code == 404
    assert client.get("/dzialka/../../etc/passwd").status_code == 404


def test_parcel_zoning_listed(client, demo_data):
    from layers.models import ZoningArea

    z = ZoningArea.objects.select_related("plan").first()
    p = (
        Parcel.objects.current().filter(geom__within=z.geom).first()
        or Parcel.objects.current().filter(geom__intersects=z.geom).first()
    )
    html = client.get(f"/dzialka/{p.parcel_id}").content.decode()
    assert z.plan.name in html or z.label in html


def test_map_page_lists_layers_with_legends(client, demo_data):
    html = client.get("/").content.decode()
    assert 'id="map"' in html and "map.bundle.js" in html and "GetLegendGraphic" in html
    assert 'value="dzialki"' in html and 'id="search-q"' in html
    assert "Działki ewidencyjne" in html
