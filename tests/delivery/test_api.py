"""The deliveries' JSON API mirrors the inbox: GET /api/deliveries/ lists the caller's portal deliveries
(the documented properties, links only once delivered), POST /api/deliveries/{id}/acknowledge delivers
(twice: the same), GET /api/deliveries/{id}/proof is the sealed UPD XML once delivered; anyone else gets a
404 problem and the attempt is logged; no credentials, a 401 problem; documented in the OpenAPI document."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from services.delivery.actions import deliveries_settle, delivery_acknowledge
from services.delivery.models import Delivery, DeliveryEvent, Status

from .test_inbox import at, make_delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def jan(make_user):
    return make_user("jan.api")


@pytest.fixture
def ewa(make_user):
    return make_user("ewa.api")


def _as(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _csrf(client) -> dict:
    """The token a browser's script sends with an unsafe request (X-CSRFToken) on a session."""
    client.get(reverse("delivery_inbox"))
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def _is_problem(r, status: int) -> bool:
    return (
        r.status_code == status
        and r["Content-Type"] == "application/problem+json"
        and r.json()["status"] == status
        and r.json()["detail"]
    )


def _refused(d) -> int:
    return DeliveryEvent.objects.filter(delivery=d, kind="access_refused").count()


def _schema(client, path: str, method: str) -> dict:
    doc = client.get("/api/schema/").json()
    operation = doc["paths"][path][method]
    content = operation["responses"]["200"]["content"]["application/json"]["schema"]
    if "items" in content:
        content = content["items"]
    return doc["components"]["schemas"][content["$ref"].rsplit("/", 1)[1]]


def test_the_list_holds_only_mine_with_the_documented_properties(jan, ewa):
    mine = make_delivery(jan, sent=at(2026, 12, 7))
    make_delivery(ewa, title="Cudza decyzja")
    client = _as(jan)
    r = client.get("/api/deliveries/")
    assert r.status_code == 200
    body = r.json()
    assert [item["id"] for item in body] == [str(mine.pk)]
    item = body[0]
    assert set(item) == set(_schema(client, "/api/deliveries/", "get")["properties"])
    assert item["status"] == "awaiting" and item["kind"] == "decision"
    assert item["office"] == mine.office.name and item["case_sign"] == "GN.6730.12.2026"
    assert item["deemed_on"] == "2026-12-22" and item["arrived_at"].startswith("2026-12-07")
    assert item["document_url"] is None and item["proof_url"] is None and item["delivered_at"] is None


def test_acknowledge_delivers_once_and_opens_the_links(jan):
    d = make_delivery(jan, sent=at(2026, 12, 7))
    client = _as(jan)
    headers = _csrf(client)
    url = f"/api/deliveries/{d.pk}/acknowledge"
    assert client.post(url).status_code == 403  # a session needs the CSRF token
    r = client.post(url, **headers)
    assert r.status_code == 200, r.content
    item = r.json()
    assert set(item) == set(_schema(client, url.replace(str(d.pk), "{id}"), "post")["properties"])
    assert item["status"] == "delivered" and item["delivered_how"] == "opened"
    assert item["document_url"] == f"/api/deliveries/{d.pk}/document"
    assert item["proof_url"] == f"/api/deliveries/{d.pk}/proof"
    got = client.get(item["document_url"])  # the document itself through the API, as delivered
    assert got.status_code == 200 and b"".join(got.streaming_content) == d.file.open("rb").read()
    assert got["X-Content-Type-Options"] == "nosniff"
    d.refresh_from_db()
    events = DeliveryEvent.objects.filter(delivery=d).count()
    again = client.post(url, **headers)
    assert again.status_code == 200 and again.json() == item  # twice: nothing changes
    assert DeliveryEvent.objects.filter(delivery=d).count() == events
    assert Delivery.objects.get(pk=d.pk).delivered_at == d.delivered_at


def test_the_period_and_a_deemed_delivery_mirror_the_inbox(jan):
    decided = make_delivery(jan, sent=at(2026, 12, 7))
    delivery_acknowledge(decided.pk, jan, now=at(2026, 12, 10))  # Thu 10 Dec 2026
    deemed = make_delivery(jan, sent=at(2026, 3, 2), title="Nieodebrana decyzja")
    deliveries_settle(now=at(2026, 3, 2) + timedelta(days=15))
    items = {i["id"]: i for i in _as(jan).get("/api/deliveries/").json()}
    assert items[str(decided.pk)]["period_ends"] == "2026-12-28"
    deemed_item = items[str(deemed.pk)]
    assert deemed_item["delivered_how"] == "deemed" and deemed_item["delivered_at"].startswith("2026-03-17")
    assert deemed_item["period_ends"] == (date(2026, 3, 31)).isoformat()
    assert deemed_item["document_url"] and deemed_item["proof_url"]


def test_the_proof_is_the_sealed_xml_once_delivered(jan):
    from services.signatures import trust
    from services.signatures.verify import verify_file

    d = make_delivery(jan)
    client = _as(jan)
    r = client.get(f"/api/deliveries/{d.pk}/proof")
    assert _is_problem(r, 404)  # not delivered yet
    assert _is_problem(client.get(f"/api/deliveries/{d.pk}/document"), 404)  # nor the document
    assert _refused(d) == 0
    delivery_acknowledge(d.pk, jan, now=at(2026, 12, 10))
    r = client.get(f"/api/deliveries/{d.pk}/proof")
    assert r.status_code == 200 and r["Content-Type"] == "application/xml"
    assert r["X-Content-Type-Options"] == "nosniff"
    trust.forget()
    try:
        report = verify_file(r.content, "upd.xml").as_dict()
    finally:
        trust.forget()
    assert report["indication"] == "TOTAL_PASSED", report
    assert report["signatures"][0]["trust_anchor"] == f"office:{d.office.code}"


def test_anyone_else_gets_a_404_problem_and_is_logged(jan, ewa):
    d = make_delivery(jan)
    client = _as(ewa)
    headers = _csrf(client)
    assert _is_problem(client.post(f"/api/deliveries/{d.pk}/acknowledge", **headers), 404)
    assert _refused(d) == 1
    assert Delivery.objects.get(pk=d.pk).status == Status.AWAITING
    delivery_acknowledge(d.pk, jan)
    assert _is_problem(client.get(f"/api/deliveries/{d.pk}/proof"), 404)
    assert _refused(d) == 2
    assert _is_problem(client.get(f"/api/deliveries/{d.pk}/document"), 404)
    assert _refused(d) == 3
    assert client.get("/api/deliveries/").json() == []
    r = client.post(f"/api/deliveries/{uuid.uuid4()}/acknowledge", **headers)
    assert _is_problem(r, 404)  # the same as one that does not exist


def test_an_api_key_works_and_nothing_sent_is_a_401(jan):
    from gisportal.core.actions import api_key_create

    d = make_delivery(jan)
    raw = api_key_create(jan, "skrzynka")[1]
    anonymous = Client()
    assert _is_problem(anonymous.get("/api/deliveries/"), 401)
    assert _is_problem(anonymous.post(f"/api/deliveries/{d.pk}/acknowledge"), 401)
    assert _is_problem(anonymous.get(f"/api/deliveries/{d.pk}/proof"), 401)
    assert _refused(d) == 0
    key = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert anonymous.get("/api/deliveries/", **key).json()[0]["id"] == str(d.pk)
    r = anonymous.post(f"/api/deliveries/{d.pk}/acknowledge", **key)  # a key needs no CSRF token
    assert r.status_code == 200 and r.json()["status"] == "delivered"
    assert anonymous.get(f"/api/deliveries/{d.pk}/proof", **key).status_code == 200


def test_the_endpoints_are_documented(client):
    doc = client.get("/api/schema/").json()
    paths = doc["paths"]
    assert {"/api/deliveries/", "/api/deliveries/{id}/acknowledge", "/api/deliveries/{id}/proof"} <= set(
        paths
    )
    proof = paths["/api/deliveries/{id}/proof"]["get"]
    assert "application/xml" in proof["responses"]["200"]["content"]
    assert proof["tags"] == ["deliveries"] and "security" not in proof  # the default: authenticated
    for path, method in (("/api/deliveries/{id}/acknowledge", "post"), ("/api/deliveries/{id}/proof", "get")):
        assert "application/problem+json" in paths[path][method]["responses"]["404"]["content"]
