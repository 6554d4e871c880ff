"""E-form submissions end to end: JSON API with validation (schema, PESEL/NIP, parcels in the
registry), routing, storing (document + SHA-256) and the XAdES-sealed receipt, on 2 cores.

Usage: .venv/bin/python bench/forms_submissions.py [PARCELS] [SECONDS] [PROCESSES]   (default 100000, 15, 2)

A logged-in citizen (session cookie + CSRF token, as the portal's own pages send it) posts
`zaswiadczenie-mpzp` forms for random parcels with a fresh Idempotency-Key each, at concurrency 1, 4
and 8 (wrk). Prints a Markdown table for bench/RESULTS.md. Target: ≥ 30 submissions/s, p95 < 200 ms.
"""

from __future__ import annotations

import http.cookiejar
import json
import subprocess
import sys
import urllib.parse
import urllib.request

from harness import OUT, VENV, demo_database, ensure_packages, gisportal_server, psql, say

DB = "gisportal_wmsbench"
LUA = r"""
local bodies = {}
local i = 0
local cookie, csrf
init = function(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  cookie = args[2]
  csrf = args[3]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
request = function()
  i = i + 1
  local body = bodies[(i % #bodies) + 1]
  local headers = {["Content-Type"] = "application/json", ["Cookie"] = cookie, ["X-CSRFToken"] = csrf,
                   ["Idempotency-Key"] = "bench-" .. math.random(1, 2000000000) .. "-" .. i}
  return wrk.format("POST", "/api/submissions/", headers, body)
end
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %.3f, "errors": %d, "non2xx": %d, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def login(base: str, username: str, password: str) -> tuple[str, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/konto/logowanie/").read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": csrf}
    ).encode()
    login = f"{base}/konto/logowanie/"
    req = urllib.request.Request(login, data=data, headers={"Referer": login})  # noqa: S310 - loopback
    opener.open(req).read()
    cookies = {c.name: c.value for c in jar}
    return f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}", cookies["csrftoken"]


def main() -> None:
    parcels = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    ensure_packages()  # wrk
    env = demo_database(DB, parcels)
    subprocess.run([str(VENV / "gisportal"), "migrate", "-v", "0"], check=True, env=env)
    subprocess.run(
        [
            str(VENV / "gisportal"),
            "shell",
            "-c",
            "from gisportal.core.models import User\n"
            "u, _ = User.objects.get_or_create(username='bench.citizen', defaults={'role': 'citizen'})\n"
            "u.set_password('bench-haslo-2026'); u.save()",
        ],
        check=True,
        env=env,
    )
    ids = psql(
        "SELECT parcel_id FROM layers_parcel WHERE end_object IS NULL ORDER BY md5(id::text) LIMIT 500", DB
    ).splitlines()
    OUT.mkdir(parents=True, exist_ok=True)
    bodies = OUT / "submissions.jsonl"
    bodies.write_text(
        "\n".join(
            json.dumps(
                {
                    "service": "zaswiadczenie-mpzp",
                    "data": {
                        "applicant_name": "Jan Testowy",
                        "email": "jan@example.pl",
                        "pesel": "44051401359",
                        "nip": "1234563218",
                        "postal_code": "05-500",
                        "locality": "Piaseczno",
                        "parcels": [pid],
                        "purpose": "sprzedaż nieruchomości",
                    },
                },
                ensure_ascii=False,
            )
            for pid in ids
        )
        + "\n"
    )
    script = OUT / "submissions.lua"
    script.write_text(LUA)
    before = int(psql("SELECT count(*) FROM forms_submission", DB))
    rows = []
    with gisportal_server(env, 8095, workers=procs) as base:
        cookie, csrf = login(base, "bench.citizen", "bench-haslo-2026")
        for conc in (1, 4, 8):
            out = subprocess.run(
                [
                    "wrk",
                    "-t",
                    str(min(conc, 2)),
                    "-c",
                    str(conc),
                    "-d",
                    f"{seconds}s",
                    "--timeout",
                    "30s",
                    "-s",
                    str(script),
                    base,
                    "--",
                    str(bodies),
                    cookie,
                    csrf,
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            r = json.loads(next(x for x in out.splitlines() if x.startswith("{")))
            r["rps"] = r["requests"] / r["seconds"]
            say(conc, r)
            rows.append((conc, r))
    stored = int(psql("SELECT count(*) FROM forms_submission", DB)) - before
    receipts = int(psql("SELECT count(*) FROM receipts_receipt", DB))
    print(
        f"Command: .venv/bin/python bench/forms_submissions.py {parcels} {seconds} {procs}  ({procs} gunicorn workers, "
        f"session-authenticated JSON API, zaswiadczenie-mpzp for 500 random parcels, a new Idempotency-Key each)"
    )
    print()
    print("| concurrency | submissions/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---:|---:|---:|---:|---:|---:|")
    for conc, r in rows:
        print(
            f"| {conc} | {r['rps']:.1f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors'] + r['non2xx']} |"
        )
    print()
    print(f"Stored in this run: {stored} submissions; receipts in the database: {receipts}.")


if __name__ == "__main__":
    main()
