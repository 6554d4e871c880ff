"""Gateway notifications handled per second: signature check over the raw body, lookup, the amount
rule, the gateway's confirmation (sandbox), one settlement under row locks, the case moved on
(timeline entry, deadline pause closed), on 2 cores.

Usage: .venv/bin/python bench/payments_notifications.py [PAYMENTS] [SECONDS] [PROCESSES]   (default 3000, 15, 2)

Set-up (not timed): PAYMENTS paper cases at the county office, each with a sealed fee document (DOO,
140 zł), its payment and a pending sandbox attempt that the sandbox's book says was paid. wrk then posts
each signed notification twice in a row (as gateways repeat them: the first settles, the second is a
duplicate), at concurrency 1 and 4. Target (issue "Online fee payment"): ≥ 100 notifications/s at
concurrency 4, p95 < 100 ms. Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import json
import subprocess
import sys

from harness import OUT, VENV, demo_database, ensure_packages, gisportal_server, psql, say

DB = "gisportal_paybench"
SANDBOX_KEY = "bench-sandbox-key"
SETUP = r"""
import json, uuid
from decimal import Decimal
from datetime import date, timedelta
from django.utils import timezone
from gisportal.core.models import User
from services.cases.actions import case_register, _system_transition
from services.offices.models import Office
from services.payments.actions import fee_document_issue
from services.payments.models import Attempt, Payment, SandboxTransaction
from services.payments.adapters import sandbox

n = int(N)
office = Office.objects.get(code="sp-piaseczno")
office.fee_account = "PL61109010140000071219812874"; office.save(update_fields=["fee_account"])
unit = office.units.get(code="GK")
user, _ = User.objects.get_or_create(username="bench.payer", defaults={"role": "citizen"})
out = open(PATH, "w")
today = timezone.localdate()
for i in range(n):
    case, _code = case_register(office=office, unit=unit, jrwa="6640", subject="Wypis i wyrys (bench)",
        channel="paper", applicant_name="Jan Testowy", received_on=today, deadline_kind="one_month",
        applicant_user=user)
    payment = fee_document_issue(key=f"bench:{uuid.uuid4()}", kind="doo", office=office,
        lines=[{"label": "wypis i wyrys", "quantity": 1, "unit_price": Decimal("140"), "amount": Decimal("140")}],
        legal_basis="Pgik, zał. tabela 11", subject=case.subject, payer_name="Jan Testowy",
        due_date=today + timedelta(days=14), case_id=case.pk, case_sign=case.sign, applicant_user=user)
    _system_transition(case, "request_payment", due=payment.document.due_date)
    attempt = Attempt.objects.create(payment=payment, provider="sandbox", session_id=f"GP-{uuid.uuid4().hex}",
        status="pending", amount=payment.grosze, currency="PLN")
    tx = SandboxTransaction.objects.create(session_id=attempt.session_id, payment_id=payment.pk, amount=attempt.amount,
        currency="PLN", description=payment.document.title, return_url="http://127.0.0.1/", status="paid",
        paid_at=timezone.now())
    body = sandbox.notification_body(tx, "paid").decode()
    line = json.dumps({"body": body, "sig": sandbox.signature(body.encode())})
    out.write(line + "\n" + line + "\n")
out.close()
"""
LUA = r"""
local bodies, sigs = {}, {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do
    local body, sig = line:match('^{"body": "(.*)", "sig": "(%x+)"}$')
    bodies[#bodies + 1] = body:gsub('\\"', '"')
    sigs[#sigs + 1] = sig
  end
  -- each thread takes its own interleaved share, so the two copies of a notification race across threads
end
request = function()
  i = i + 1
  local k = ((i - 1) % #bodies) + 1
  return wrk.format("POST", "/api/payments/notify/sandbox",
    {["Content-Type"] = "application/json", ["X-Sandbox-Signature"] = sigs[k]}, bodies[k])
end
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %.3f, "errors": %d, "non2xx": %d, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    ensure_packages()  # wrk
    env = demo_database(DB, 2000)
    env = dict(
        env,
        GISPORTAL_PAYMENT_PROVIDERS="sandbox",
        GISPORTAL_SANDBOX_KEY=SANDBOX_KEY,
        GISPORTAL_SEAL_GENERATE="1",
        GISPORTAL_SEAL_DIR=str(OUT / "seals"),
    )
    subprocess.run([str(VENV / "gisportal"), "migrate", "-v", "0"], check=True, env=env)
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with gisportal_server(env, 8096, workers=procs) as base:
        for conc in (1, 4):
            bodies = OUT / f"notifications-{conc}.jsonl"
            say("set-up", conc, n)
            subprocess.run(
                [str(VENV / "gisportal"), "shell", "-c", f"N={n}\nPATH={str(bodies)!r}\n{SETUP}"],
                check=True,
                env=env,
            )
            script = OUT / "notifications.lua"
            script.write_text(LUA)
            settled0 = int(psql("SELECT count(*) FROM payments_event WHERE outcome = 'settled'", DB))
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
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            r = json.loads(next(x for x in out.splitlines() if x.startswith("{")))
            r["rps"] = r["requests"] / r["seconds"]
            r["settled"] = (
                int(psql("SELECT count(*) FROM payments_event WHERE outcome = 'settled'", DB)) - settled0
            )
            say(conc, r)
            rows.append((conc, r))
    twice = psql(
        "SELECT count(*) FROM (SELECT payment_id FROM payments_attempt WHERE status = 'paid' "
        "GROUP BY payment_id HAVING count(*) > 1) x",
        DB,
    )
    print(
        f"Command: .venv/bin/python bench/payments_notifications.py {n} {seconds} {procs}  ({procs} gunicorn workers; "
        "each signed sandbox notification posted twice in a row)"
    )
    print()
    print("| concurrency | notifications/s | settled | p50 ms | p95 ms | p99 ms | errors |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for conc, r in rows:
        print(
            f"| {conc} | {r['rps']:.1f} | {r['settled']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} "
            f"| {r['errors'] + r['non2xx']} |"
        )
    print()
    print(f"Payments settled by more than one attempt: {twice} (must be 0).")


if __name__ == "__main__":
    main()
