"""Sharing between offices in a real browser (Debian's Chromium via Playwright), as a county clerk would:
register another office's WFS at /urzad/zrodla/, choose its parcels, harvest them now, see the run's counts,
then describe the new layer at /urzad/metadane/ and find the description in its ISO record. Every page: no
sideways scrolling, axe-core (WCAG 2.1 A/AA) clean; screenshots in tests/artifacts/."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from .helpers import CHROMIUM, DESKTOP, committed, login, page_ok

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]
PASSWORD = "x-Secret-2026!"


def _pl(msgid: str) -> str:
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override("pl"):
        return gettext(msgid)


@pytest.fixture
def fake_wfs():
    from tests.test_harvest import STATE, Fake

    STATE.__init__()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/wfs"
    server.shutdown()


@pytest.fixture
def clerk(settings):
    from gisportal.core.models import User

    settings.GISPORTAL_SOURCES_PRIVATE_HOSTS = ["127.0.0.1"]
    settings.GISPORTAL_SOURCES_TIMEOUT = 5
    settings.GISPORTAL_SOURCES_DEADLINE = 10
    settings.GISPORTAL_HARVEST_PAGE_SIZE = 2
    user = committed(
        lambda: User.objects.create_user(
            username="e2e.zrodla", email="e2e.zrodla@example.pl", password=PASSWORD, role="clerk"
        )
    )
    yield user

    def clean():
        from layers.models import DatasetMetadata, HarvestedFeature, HarvestedLayer, HarvestRun, RemoteSource
        from layers.sources import harvested

        HarvestedFeature.objects.all().delete()
        HarvestRun.objects.all().delete()
        names = list(HarvestedLayer.objects.values_list("name", flat=True))
        DatasetMetadata.objects.filter(layer_name__in=names).delete()
        HarvestedLayer.objects.all().delete()
        RemoteSource.objects.all().delete()
        User.objects.filter(pk=user.pk).delete()
        harvested.forget()

    committed(clean)


def test_a_clerk_harvests_another_offices_wfs_and_describes_the_layer(
    browser, live_url, fake_wfs, clerk, monkeypatch
):
    from layers.sources import harvest

    # the live server runs in this process: the queued run is carried out at once, in the server's thread
    monkeypatch.setattr(harvest, "_enqueue", lambda run_id: harvest.harvest_run(run_id))
    page = browser.new_page(viewport=DESKTOP, locale="pl-PL")
    try:
        login(page, live_url, clerk.username, PASSWORD, "/urzad/zrodla/")
        page_ok(page, "sharing-1-sources")
        page.get_by_label(_pl("Service address (URL)")).fill(fake_wfs)
        page.get_by_label(_pl("Kind of service")).select_option("wfs")
        with page.expect_navigation():
            page.get_by_role("button", name=_pl("Register the source")).click()
        assert "/urzad/zrodla/" in page.url and "Fake county WFS" in page.content()
        page.get_by_label("t:parcels").check()
        with page.expect_navigation():
            page.get_by_role("button", name=_pl("Save the choice")).click()
        page_ok(page, "sharing-2-source")
        with page.expect_navigation():
            page.get_by_role("button", name=_pl("Harvest now")).click()
        page.reload()
        runs = page.get_by_role("table", name=_pl("Last harvests"))
        assert "3" in runs.inner_text() and _pl("done").lower() in runs.inner_text().lower(), (
            runs.inner_text()
        )
        page_ok(page, "sharing-3-harvested")
        name = page.locator("section.harvest h3").inner_text().split("→")[-1].strip()

        page.goto(f"{live_url}/urzad/metadane/")
        page_ok(page, "sharing-4-metadata-list")
        with page.expect_navigation():
            page.get_by_role("link", name=name).first.click()
        page.get_by_label(_pl("Title"), exact=True).fill("Działki starostwa (kopia)")
        with page.expect_navigation():
            page.get_by_role("button", name=_pl("Save and publish")).click()
        page_ok(page, "sharing-5-metadata-saved")
        iso = page.request.get(f"{live_url}/metadane/{name}.xml").text()
        assert "Działki starostwa (kopia)" in iso
    finally:
        page.close()
