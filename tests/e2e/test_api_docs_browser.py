"""/api/docs in a real browser (Debian's Chromium via Playwright): Swagger UI from our static files
renders the JSON API's generated document under the strict Content-Security-Policy, with no violation."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import ARTIFACTS, CHROMIUM
from .test_csp_browser import _open

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db,
]


def test_api_docs_render_without_csp_violations(browser, live_url):
    page, watch = _open(browser, f"{live_url}/api/docs")
    page.wait_for_selector("#swagger-ui .opblock", timeout=30000)
    paths = page.eval_on_selector_all(
        "#swagger-ui .opblock-summary-path", "els => els.map(e => e.textContent)"
    )
    assert any("/api/parcels/" in p for p in paths) and any("/api/submissions/" in p for p in paths), paths
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    assert watch.violations() == [] and watch.errors == []
