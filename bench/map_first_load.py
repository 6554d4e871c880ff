"""The map page's first load in Debian's Chromium (headless, Playwright): bytes transferred (all, and
JavaScript alone, as sent: compressed when the server compresses) and the time from navigation start
to the first rendered map (the map canvas holds parcels), each load in a fresh browser context.

Usage: .venv/bin/python bench/map_first_load.py [PARCELS] [LOADS]   (default 100000, 7)
Target (issue 8): under 1 MB of compressed JavaScript and under 2 s to the first map on 2 cores.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

from harness import VENV, demo_database, gisportal_server, say

DB = "gisportal_wmsbench"
NON_WHITE = """() => {
  let n = 0;
  for (const c of document.querySelectorAll('#map canvas')) {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 16) if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++;
  }
  return n > 200;
}"""


def main() -> None:
    parcels = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    loads = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    env = demo_database(DB, parcels)
    subprocess.run([str(VENV / "gisportal"), "collectstatic", "--no-input", "-v", "0"], check=True, env=env)
    env = dict(
        env, GISPORTAL_STATIC_FINDERS="false"
    )  # as `make demo` serves them: collected and pre-compressed
    for mode, flag in (("WMS", "false"), ("vector tiles", "true")):
        rows = run(dict(env, GISPORTAL_MAP_VECTOR_TILES=flag, GISPORTAL_TILE_CACHE="false"), loads)
        report(mode, parcels, loads, rows)


def run(env: dict, loads: int) -> list[tuple[float, int, int]]:
    from playwright.sync_api import sync_playwright

    rows = []
    with gisportal_server(env, 8096, workers=2) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        for i in range(loads):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            responses = []
            page.on("requestfinished", lambda r, acc=responses: acc.append(r))
            page.goto(f"{base}/")
            page.wait_for_function(NON_WHITE, timeout=30000, polling=20)
            ms = page.evaluate("performance.now()")
            total = js = 0
            for r in responses:
                sizes = r.sizes()
                n = sizes["responseBodySize"] + sizes["responseHeadersSize"]
                total += n
                if r.url.endswith(".js"):
                    js += n
            rows.append((ms, total, js))
            say(i, round(ms), total, js)
            context.close()
        browser.close()
    return rows


def report(mode: str, parcels: int, loads: int, rows) -> None:
    med = statistics.median(r[0] for r in rows)
    print(
        f"Parcels and buildings drawn from {mode}. Command: .venv/bin/python bench/map_first_load.py {parcels} {loads}  "
        f"(gunicorn 2 workers, Chromium headless, a fresh context per load, viewport 1280×900, tile cache off)"
    )
    print()
    print("| load | time to first map [ms] | bytes transferred | of which JavaScript |")
    print("|---:|---:|---:|---:|")
    for i, (ms, total, js) in enumerate(rows, 1):
        print(f"| {i} | {ms:.0f} | {total:,} | {js:,} |".replace(",", " "))
    print()
    print(
        f"Median time to first map: {med:.0f} ms (target < 2000 ms); JavaScript {rows[-1][2] / 1024:.0f} KiB "
        f"as transferred (target < 1 MB compressed)."
    )
    print()


if __name__ == "__main__":
    main()
