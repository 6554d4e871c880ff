"""The JSON API's contract (ARCHITECTURE.md §6): the generated OpenAPI document at /api/schema/ (and
/api/openapi.json) validates as OpenAPI 3, every /api/ URL the URL configuration serves is in it (nothing
is served undocumented) and what is served matches its schemas; every error is RFC 9457 problem JSON
(title in the request's language), hostile input a 4xx, never a 5xx; /api/docs runs under the strict CSP."""

from __future__ import annotations

import base64
import json
import re
import uuid
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate

from layers.models import Parcel

pytestmark = pytest.mark.django_db
DOCUMENTATION = {"/api/", "/api/schema/", "/api/openapi.json", "/api/docs"}  # the document and its page


def _document(client) -> dict:
    return client.get("/api/schema/").json()


def _routes(patterns, prefix: str = "") -> list[str]:
    out = []
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            out += _routes(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            out.append(route)
    return out


def _served_api_paths() -> set[str]:
    """Every /api/ route of the URL configuration, written as OpenAPI paths (`<conv:name>` → `{name}`)."""
    routes = {"/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r) for r in _routes(get_resolver().url_patterns)}
    return {r for r in routes if r.startswith("/api/")} - DOCUMENTATION


def _ref(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _is_problem(r, status: int | None = None) -> bool:
    if r["Content-Type"] != "application/problem+json":
        return False
    body = r.json()
    return (
        body["status"] == r.status_code
        and (status is None or r.status_code == status)
        and 400 <= r.status_code < 500
        and body["type"].startswith("about:blank")
        and body["title"]
        and body["detail"]
    )


def _basic(user: str, password: str = "x-Secret-2026!") -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# ------------------------------------------------------------------ the document
def test_the_document_validates_as_openapi_3(client):
    r = client.get("/api/schema/")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    doc = r.json()
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema
    assert (
        doc["openapi"].startswith("3.1") and client.get("/api/openapi.json").json() == doc
    )  # the former address


def test_every_served_api_path_is_documented_and_nothing_else(client):
    served, documented = _served_api_paths(), set(_document(client)["paths"])
    assert served == documented, (served - documented, documented - served)
    for path in (
        "/api/parcels/{parcel_id}",
        "/api/search",
        "/api/cases/status",
        "/api/calendar/deadline",
        "/api/fees/quote",
        "/api/services/",
        "/api/submissions/",
        "/api/submissions/{id}",
        "/api/imports/",
    ):
        assert path in documented  # the paths of ARCHITECTURE.md §6 this part of the API serves


def test_the_documented_submission_carries_idempotency_and_security(client):
    doc = _document(client)
    post = doc["paths"]["/api/submissions/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in post["parameters"] if p["in"] == "header"]
    assert (
        "security" not in post and {"apiKey": []} in doc["security"]
    )  # the document's default: authenticated
    assert doc["paths"]["/api/services/"]["get"]["security"] == []  # public
    for code in ("401", "409", "422", "429"):
        assert post["responses"][code]["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }


def test_the_quote_is_described_as_served(client, demo_data):
    from services.forms.api import QUOTE_DATA

    doc = _document(client)
    parcel = Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id").first()
    body = client.get(
        "/api/fees/quote",
        {"service": "wypis-wyrys-egib", "variant": "wyrys", "form": "paper", "parcels": parcel.parcel_id},
    ).json()
    schema = _ref(
        doc,
        doc["paths"]["/api/fees/quote"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
    )
    lines = _ref(doc, schema["properties"]["lines"]["items"])
    assert set(body) == set(schema["properties"]) and set(body["lines"][0]) == set(lines["properties"])
    documented = {p["name"] for p in doc["paths"]["/api/fees/quote"]["get"]["parameters"]}
    assert documented == {"service", "parcels", *QUOTE_DATA}


def test_served_bodies_have_the_documented_properties(client, demo_data):
    doc = _document(client)
    for path, url in (
        ("/api/services/", "/api/services/"),
        ("/api/services/{code}", "/api/services/pismo-ogolne"),
        ("/api/calendar/deadline", "/api/calendar/deadline?start=2026-12-10&period=P14D"),
        ("/api/search", "/api/search?q=Piaseczno"),
    ):
        body = client.get(url).json()
        schema = _ref(
            doc, doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        )
        assert set(body) == set(schema["properties"]), path


# ------------------------------------------------------------------ errors: one mapper, problem JSON
def test_problem_titles_follow_the_language(client):
    pl = client.get("/api/services/nie-ma-takiej")
    en = client.get("/api/services/nie-ma-takiej", HTTP_ACCEPT_LANGUAGE="en")
    assert _is_problem(pl, 404) and _is_problem(en, 404)
    assert pl.json()["title"] == "Nie znaleziono" and en.json()["title"] == "Not Found"
    assert (
        pl.json()["detail"] != en.json()["detail"]
        and pl.json()["type"] == en.json()["type"] == "about:blank#not_found"
    )
    assert pl.json()["instance"] == "/api/services/nie-ma-takiej"


def test_validation_errors_are_listed_in_the_request_language(client):
    r = client.get("/api/fees/quote", {"service": "wypis-wyrys-mpzp", "copies": "dwa", "product": "xx"})
    body = r.json()
    assert _is_problem(r, 400) and body["type"] == "about:blank#invalid_input"
    assert set(body["errors"]) == {"copies", "product"} and body["errors"]["copies"] == [
        "Podaj liczbę całkowitą."
    ]
    r = client.get("/api/calendar/deadline", HTTP_ACCEPT_LANGUAGE="en")
    assert _is_problem(r, 400) and r.json()["errors"] == {
        "start": ["This value is required."],
        "period": ["This value is required."],
    }


def test_body_errors(client, make_user):
    make_user("system.test", "office_system")
    for body, status in (
        ("not json", 400),
        ("[]", 400),
        ('{"service": 5, "data": {}}', 400),
        ('{"service": "x"}', 400),
        ('{"service": "nie-ma", "data": {}}', 404),
        ('{"service": "pismo-ogolne", "data": []}', 400),
        ('{"service": "pismo-ogolne", "version": "x", "data": {}}', 400),
    ):
        r = client.post("/api/submissions/", body, content_type="application/json", **_basic("system.test"))
        assert _is_problem(r, status), (body, r.status_code, r.content[:200])
    r = client.post("/api/submissions/", "{", content_type="application/json", **_basic("system.test"))
    assert r.json()["type"] == "about:blank#bad_json"


HOSTILE = [
    "'",
    "a\x00b",
    "-1",
    "1e309",
    "nan",
    "99999999999999999999",
    "../..",
    "<x>",
    "((",
    "x" * 3000,
    "%",
    "\u202e",
]


@pytest.mark.parametrize(
    "method, path, fields",
    [
        ("get", "/api/services/{}", None),
        (
            "get",
            "/api/fees/quote?service=wypis-wyrys-mpzp&{}",
            ["copies", "pages", "parts", "product", "form", "housing_exemption"],
        ),
        ("get", "/api/calendar/deadline?start=2026-01-01&{}", ["period", "start"]),
        ("get", "/api/parcels/{}", None),
        ("get", "/api/parcels/141804_4.0001.1?{}", ["crs"]),
        ("get", "/api/submissions/{}", None),
        ("get", "/api/imports/{}", None),
        ("post", "/api/cases/status", ["reference", "access_code"]),
        ("post", "/api/submissions/", ["service", "version", "data"]),
    ],
)
def test_hostile_input_is_a_4xx_problem_never_a_5xx(demo_data, method, path, fields):
    client = Client(raise_request_exception=False, REMOTE_ADDR="10.9.9.9")
    failures = []
    for value in HOSTILE:
        if method == "post":
            for field in fields:
                r = client.post(path, json.dumps({field: value}), content_type="application/json")
                if r.status_code >= 500 or r.status_code < 400 or not _is_problem(r):
                    failures.append((field, value[:10], r.status_code))
            continue
        from urllib.parse import quote

        urls = (
            [path.format(quote(value, safe=""))]
            if fields is None
            else [path.format(f"{field}={quote(value, safe='')}") for field in fields]
        )
        for url in urls:
            r = client.get(url)
            if r.status_code >= 500 or (r.status_code >= 400 and not _is_problem(r) and "\x00" not in value):
                failures.append((url[:60], r.status_code))
            elif r.status_code < 400 and not url.startswith("/api/services/"):
                failures.append((url[:60], r.status_code))
    assert failures == []


# ------------------------------------------------------------------ the documentation page
class Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources: list[str | None] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.sources.append(a.get("src"))
        elif tag == "link" and a.get("rel") == "stylesheet":
            self.links.append(a.get("href", ""))


def test_docs_page_uses_our_static_swagger_ui_under_the_strict_csp(client):
    from tests.security.test_headers import assert_strict

    r = client.get("/api/docs")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/html")
    assert_strict(r)
    page = Scripts()
    page.feed(r.content.decode())
    assert None not in page.sources  # no inline script
    assert all(s.startswith("/static/") for s in page.sources + page.links), page.sources + page.links
    assert "/static/ogcapi/vendor/swagger-ui/swagger-ui-bundle.js" in page.sources
    assert 'data-url="/api/schema/"' in r.content.decode()
    for asset in page.sources + page.links:
        got = client.get(asset)
        assert got.status_code == 200, asset
        b"".join(got.streaming_content)
    assert b"validatorUrl: null" in b"".join(client.get("/static/web/api-docs.js").streaming_content)


def test_a_method_no_endpoint_takes_is_a_405_problem(client):
    for method, path in (("delete", "/api/services/"), ("put", "/api/submissions/"), ("post", "/api/search")):
        r = getattr(client, method)(path)
        assert _is_problem(r, 405) and r.json()["type"] == "about:blank#method_not_allowed" and r["Allow"], (
            method,
            path,
        )
    assert _is_problem(client.get("/api/"), 404) and _is_problem(client.get("/api/nie-ma-takiego"), 404)


def test_unknown_submission_needs_credentials_first(client):
    r = client.get(f"/api/submissions/{uuid.uuid4()}")
    assert _is_problem(r, 401) and r.json()["type"] == "about:blank#not_authenticated"
