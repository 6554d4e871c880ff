"""GET /api/parcels/<idDzialki>: the catalogue's public attributes of `dzialki`, zoning designations and
GeoJSON geometry in a served CRS (x/y = easting/northing, lon/lat), an ETag with 304; problem JSON for
unknown (404) and malformed (400) identifiers; never KW numbers or owners."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from layers import catalogue
from layers.models import Parcel, RestrictedLandRegisterEntry, RestrictedShare, ZoningArea
from layers.selectors import parcel_zoning

pytestmark = pytest.mark.django_db


def _url(parcel_id: str, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/parcels/{parcel_id}" + (f"?{query}" if query else "")


def _is_problem(r, status: int) -> bool:
    body = r.json()
    return (
        r.status_code == status
        and r["Content-Type"] == "application/problem+json"
        and body["status"] == status
        and body["detail"]
        and body["type"].startswith("about:blank")
    )


@pytest.fixture(scope="module")
def zoned(demo_data, django_db_blocker):
    """A current parcel with a slash in its number that lies in a zoning area."""
    with django_db_blocker.unblock():
        area = ZoningArea.objects.order_by("pk").first()
        return (
            Parcel.objects.current()
            .filter(geom__intersects=area.geom, number__contains="/")
            .order_by("parcel_id")
            .first()
        )


@pytest.fixture(scope="module")
def registered(demo_data, django_db_blocker):
    """A current parcel with KW numbers and owners in the restricted register."""
    with django_db_blocker.unblock():
        units = set(RestrictedShare.objects.values_list("registration_unit", flat=True)[:500])
        for entry in RestrictedLandRegisterEntry.objects.filter(
            parcel__end_object__isnull=True
        ).select_related("parcel")[:500]:
            if entry.parcel.registration_unit in units:
                return entry.parcel
    pytest.fail("the demo data has no parcel with both a KW number and owners")


def test_public_attributes_zoning_and_geometry(client, zoned):
    assert zoned is not None and "/" in zoned.parcel_id
    r = client.get(_url(zoned.parcel_id))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json"), r.content[:300]
    body = r.json()
    assert body["type"] == "Feature" and body["id"] == zoned.parcel_id
    assert list(body["properties"]) == list(catalogue.get_layer("dzialki").attribute_names)
    assert (
        body["properties"]["ID_DZIALKI"] == zoned.parcel_id
        and body["properties"]["NUMER_DZIALKI"] == zoned.number
    )
    assert body["properties"]["NAZWA_OBREBU"] == zoned.precinct.name
    assert body["properties"]["POLE_EWIDENCYJNE"] == pytest.approx(float(zoned.area_ha))
    expected = parcel_zoning(zoned)
    assert expected and [z["symbol"] for z in body["zoning"]] == [z["symbol"] for z in expected]
    assert (
        body["zoning"][0]["share"] == expected[0]["share"]
        and body["zoning"][0]["plan"] == expected[0]["plan"]
    )
    assert (
        body["crs"] == "http://www.opengis.net/def/crs/EPSG/0/2180"
        and body["geometry"]["type"] == "MultiPolygon"
    )
    x, y = body["geometry"]["coordinates"][0][0][0]
    x0, y0, x1, y1 = zoned.geom.extent
    assert x0 <= x <= x1 and y0 <= y <= y1  # x = easting as stored


def test_the_id_may_be_percent_encoded(client, zoned):
    r = client.get(_url(zoned.parcel_id.replace("/", "%2F")))
    assert r.status_code == 200 and r.json()["id"] == zoned.parcel_id


@pytest.mark.parametrize(
    "crs, srid",
    [
        ("4326", 4326),
        ("EPSG:4258", 4258),
        ("2178", 2178),
        ("3857", 3857),
        ("http://www.opengis.net/def/crs/EPSG/0/4326", 4326),
        ("2180", 2180),
    ],
)
def test_geometry_in_each_served_crs_is_x_y(client, zoned, crs, srid):
    body = client.get(_url(zoned.parcel_id, crs=crs)).json()
    assert body["crs"].endswith(f"/{srid}")
    x, y = body["geometry"]["coordinates"][0][0][0]
    point = zoned.geom.transform(srid, clone=True).coords[0][0][0]  # GeoDjango: x = easting / longitude
    tolerance = 1e-6 if srid in (4326, 4258) else 0.01
    assert x == pytest.approx(point[0], abs=tolerance) and y == pytest.approx(point[1], abs=tolerance)
    if srid in (4326, 4258):
        assert 20.5 < x < 21.5 and 51.8 < y < 52.3  # Piaseczno: lon, lat
    if srid == 2178:
        assert 7_400_000 < x < 7_600_000 and 5_700_000 < y < 5_900_000  # zone 7: easting with its prefix


@pytest.mark.parametrize(
    "crs", ["4327", "EPSG:2176", "abc", "urn:ogc:def:crs:EPSG::", "-1", "9" * 50, "CRS84"]
)
def test_unserved_crs_is_a_400_problem(client, zoned, crs):
    assert _is_problem(client.get(_url(zoned.parcel_id, crs=crs)), 400)


def test_etag_and_not_modified(client, zoned):
    first = client.get(_url(zoned.parcel_id))
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    for asked in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(_url(zoned.parcel_id), HTTP_IF_NONE_MATCH=asked)
        assert again.status_code == 304 and again["ETag"] == etag and again.content == b"", asked
    assert client.get(_url(zoned.parcel_id), HTTP_IF_NONE_MATCH='"other"').status_code == 200
    other_crs = client.get(_url(zoned.parcel_id, crs="4326"))
    assert other_crs["ETag"] != etag
    assert client.get(_url(zoned.parcel_id, crs="4326"), HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_unknown_parcel_is_a_404_problem(client, demo_data):
    r = client.get(_url("141804_4.0001.999999/7"))
    assert _is_problem(r, 404) and r.json()["instance"] == "/api/parcels/141804_4.0001.999999/7"


@pytest.mark.parametrize(
    "parcel_id",
    [
        "x",
        "141804_3.0001.1",
        "141804_4.0001.",
        "1' OR '1'='1",
        "141804_4.0001.1/2/3",
        "%3Cscript%3E",
        "141804_4.0001.AR_x.1",
    ],
)
def test_malformed_id_is_a_400_problem(client, demo_data, parcel_id):
    r = Client(raise_request_exception=False).get(_url(parcel_id))
    assert _is_problem(r, 400), (parcel_id, r.status_code, r.content[:200])


def test_never_kw_numbers_or_owners(client, registered):
    kw = list(
        RestrictedLandRegisterEntry.objects.filter(parcel=registered).values_list("kw_number", flat=True)
    )
    owners = RestrictedShare.objects.filter(registration_unit=registered.registration_unit).select_related(
        "subject"
    )
    names = {s.subject.name for s in owners} | {s.subject.surname for s in owners if s.subject.surname}
    assert kw and names
    r = client.get(_url(registered.parcel_id))
    text = r.content.decode()
    assert r.status_code == 200
    assert not any(k in text for k in kw) and not any(n in text for n in names)
    assert not any(s.subject.pesel in text for s in owners if s.subject.pesel)
    assert "kw" not in json.dumps(list(r.json()["properties"])).lower()
