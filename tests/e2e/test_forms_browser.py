"""The e-form flow in a real browser: Debian's Chromium, headless, driven by Playwright against the
live test server. Pick a parcel on the map → fill in → send → receipt; the receipt's XAdES verifies
with the office certificate and its digest is the stored submission's. The same without JavaScript.
Screenshots go to tests/artifacts/."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from lxml import etree
from signxml.xades import XAdESVerifier

from .helpers import ARTIFACTS, CHROMIUM, committed, remove_user_and_filings

PASSWORD = "x-Browser-2026!"
WIDTH, HEIGHT, PIXEL = 640, 400, 0.28e-3

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


@pytest.fixture
def applicant(live_url):
    """A committed account (the live server sees committed data only), removed afterwards together with
    what it filed (the immutability triggers are switched off for that clean-up only)."""
    from gisportal.core.models import User

    user = committed(
        lambda: User.objects.create_user(
            username="e2e.jan",
            email="e2e@example.pl",
            password=PASSWORD,
            role="citizen",
            first_name="Jan",
            last_name="Przeglądarkowy",
        )
    )
    yield user
    committed(lambda: _remove(user))


def _remove(user) -> None:
    remove_user_and_filings(user)


def _login(page, live_url):
    page.goto(f"{live_url}/konto/logowanie/")
    page.fill("input[name=username]", "e2e.jan")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    page.wait_for_load_state()


def _two_parcels():
    """Parcel A (the map opens on it) and a neighbour B visible in the same view, with B's pixel."""
    from django.contrib.gis.geos import Polygon

    from layers.models import Parcel

    a = Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[60]
    ring = a.geom[0].exterior_ring.coords  # the picker centres on the mean of the first ring's vertices
    cx, cy = sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
    w, h = WIDTH * PIXEL * 2000, HEIGHT * PIXEL * 2000
    bbox = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    inner = Polygon.from_bbox((cx - w / 3, cy - h / 3, cx + w / 3, cy + h / 3))
    inner.srid = 2180
    for b in Parcel.objects.current().filter(geom__intersects=inner).exclude(pk=a.pk).order_by("pk"):
        pt = b.geom.point_on_surface
        if inner.contains(pt) and b.geom.area > 400:
            col = (pt.x - bbox[0]) / (bbox[2] - bbox[0]) * WIDTH
            row = (bbox[3] - pt.y) / (bbox[3] - bbox[1]) * HEIGHT
            return a.parcel_id, b.parcel_id, (col, row)
    raise AssertionError("no neighbour parcel in view")


def _check_receipt(user, parcel_ids: list[str]):
    from services.forms.models import Submission
    from services.offices.seals import seal_for
    from services.receipts.models import Receipt
    from services.receipts.upp import NS

    sub = Submission.objects.filter(user=user).order_by("-submitted_at").first()
    assert sub is not None and sub.parcels == parcel_ids
    receipt = Receipt.objects.get(document_id=str(sub.id))
    cert = seal_for(sub.office).cert_pem.decode()
    signed = XAdESVerifier().verify(etree.fromstring(bytes(receipt.xml)), x509_cert=cert)[0].signed_xml
    assert (
        signed.findtext(f"{{{NS}}}SkrotDokumentu")
        == hashlib.sha256(bytes(sub.document)).hexdigest()
        == sub.sha256
    )
    return sub


def test_pick_on_the_map_fill_in_send_receipt(browser, live_url, applicant):
    a, b, (col, row) = _two_parcels()
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="pl-PL")
    _login(page, live_url)
    page.goto(f"{live_url}/uslugi/wypis-wyrys-mpzp/?parcels={a}")
    img = page.get_by_test_id("parcel-map")
    img.wait_for(state="visible")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=parcel-map]').naturalWidth > 0 && "
        "document.querySelector('[data-testid=parcel-map]').src.includes('BBOX=')"
    )
    page.wait_for_timeout(300)
    shown = img.bounding_box()  # the image may be scaled down to the column width
    img.click(position={"x": col * shown["width"] / WIDTH, "y": row * shown["height"] / HEIGHT})
    page.wait_for_function(f"() => document.getElementById('id_parcels').value.includes('{b}')")
    page.screenshot(path=str(ARTIFACTS / "form-map-picked.png"), full_page=True)
    page.check("input[name=product][value=wypis_wyrys]")
    page.fill("#id_postal_code", "05-500")
    page.fill("#id_locality", "Piaseczno")
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_url("**/wnioski/**")
    page.screenshot(path=str(ARTIFACTS / "form-receipt.png"), full_page=True)
    sub = _check_receipt(applicant, [a, b])
    assert sub.office.kind == "gmina" and sub.office.name in page.content() and str(sub.id) in page.url
    pdf = page.request.get(f"{live_url}/wnioski/{sub.id}/upp.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF-")


def test_form_works_without_javascript(browser, live_url, applicant):
    a, _b, _px = _two_parcels()
    context = browser.new_context(java_script_enabled=False, locale="pl-PL")
    page = context.new_page()
    _login(page, live_url)
    page.goto(f"{live_url}/uslugi/zaswiadczenie-mpzp/")
    assert page.get_by_test_id("parcel-map").count() == 0  # no map without JavaScript: the text path
    page.fill("#id_parcels", a)
    page.fill("#id_purpose", "Sprzedaż nieruchomości")
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_url("**/wnioski/**")
    page.screenshot(path=str(ARTIFACTS / "form-no-js-receipt.png"), full_page=True)
    _check_receipt(applicant, [a])
    context.close()


def test_picker_search_adds_a_parcel(browser, live_url, applicant):
    a, b, _px = _two_parcels()
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="pl-PL")
    _login(page, live_url)
    page.goto(f"{live_url}/uslugi/wypis-wyrys-mpzp/")
    page.fill("#id_parcels_find", b)
    page.keyboard.press("Enter")
    page.locator(".picker-hits button").first.click()
    page.wait_for_function(f"() => document.getElementById('id_parcels').value.includes('{b}')")
    assert "BBOX=" in page.get_attribute("[data-testid=parcel-map]", "src")
