#!/usr/bin/env bash
# Prepare the database, load demo data when empty, then serve web + Celery worker + beat until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
PARCELS="${PARCELS:-20000}"
HOST="${GISPORTAL_BIND:-127.0.0.1:8000}"
# capabilities, links and receipts name the address the demo listens on (unless a public URL is set)
export GISPORTAL_PUBLIC_URL="${GISPORTAL_PUBLIC_URL:-http://$HOST}"
# the demo seals receipts with self-signed keys generated on first use (var/seals/); production leaves this
# off, installs each office's key and certificate with `gisportal seal-rotate`, and refuses to start without
export GISPORTAL_SEAL_GENERATE="${GISPORTAL_SEAL_GENERATE:-1}"
# online payments: the sandbox gateway (no money moves; never in production). GISPORTAL_DEMO_P24=1 adds
# Przelewy24 through its local fake server (the real one: set GISPORTAL_P24_URL and the merchant's keys)
export GISPORTAL_PAYMENT_PROVIDERS="${GISPORTAL_PAYMENT_PROVIDERS:-sandbox}"
# the demo may register its own services (or another local hub) as remote OGC sources
export GISPORTAL_SOURCES_PRIVATE_HOSTS="${GISPORTAL_SOURCES_PRIVATE_HOSTS:-127.0.0.1,localhost}"
P24_PORT="${GISPORTAL_FAKE_P24_PORT:-8098}"
if [ "${GISPORTAL_DEMO_P24:-0}" = "1" ]; then
  export GISPORTAL_P24_URL="http://127.0.0.1:$P24_PORT" GISPORTAL_P24_MERCHANT_ID=100001 GISPORTAL_P24_POS_ID=100001
  export GISPORTAL_P24_API_KEY=fake-p24-api-key GISPORTAL_P24_CRC=fake-p24-crc
  export GISPORTAL_PAYMENT_PROVIDERS="$GISPORTAL_PAYMENT_PROVIDERS,przelewy24"
fi

gisportal migrate --no-input -v 0
gisportal demo_data --parcels "$PARCELS" --seed 1 --if-empty
gisportal demo_accounts
gisportal fee_rates -v 0 demo >/dev/null
gisportal demo_cases -v 0 || echo "demo cases: not created (see the log above)"
gisportal collectstatic --no-input -v 0
export GISPORTAL_STATIC_FINDERS=false  # serve the collected, pre-compressed static files

pids=()
cleanup() { echo; echo "stopping..."; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT

mkdir -p var/log
# the local fake of GUGiK's ULDK (parcels outside our data); production sets GISPORTAL_ULDK_URL to the real one
if [ -z "${GISPORTAL_ULDK_URL:-}" ]; then
  python -m layers.registries.uldk --port "${GISPORTAL_FAKE_ULDK_PORT:-8097}" >var/log/uldk.log 2>&1 & pids+=($!)
  export GISPORTAL_ULDK_URL="http://127.0.0.1:${GISPORTAL_FAKE_ULDK_PORT:-8097}/"
fi
# the local fake of e-Doręczenia (its messages: http://127.0.0.1:8096/_fake/); production sets
# GISPORTAL_EDORECZENIA_URL and the office's credentials for the real provider
case "${GISPORTAL_EDORECZENIA_URL:-}" in
  "" | http://127.0.0.1:8096 | http://127.0.0.1:8096/)
    python -m services.delivery.adapters.fake_edoreczenia --port 8096 >var/log/edoreczenia.log 2>&1 & pids+=($!)
    export GISPORTAL_EDORECZENIA_URL="http://127.0.0.1:8096"
    ;;
esac
# the local fake login.gov.pl node (test identities; its sessions and "log out at the node": http://127.0.0.1:8095/_fake/);
# production sets GISPORTAL_LOGINGOV_NODE_URL, the node's certificate and our registered key pair (docs/logingov.md)
if [ -z "${GISPORTAL_LOGINGOV_NODE_URL:-}" ] && [ "${GISPORTAL_DEMO_LOGINGOV:-1}" = "1" ]; then
  python -m services.logingov.adapters.fake_node --port "${GISPORTAL_FAKE_NODE_PORT:-8095}" --dir var/logingov \
    --sp-metadata "$GISPORTAL_PUBLIC_URL/konto/logingovpl/metadata" >var/log/logingov.log 2>&1 & pids+=($!)
  export GISPORTAL_LOGINGOV_NODE_URL="http://127.0.0.1:${GISPORTAL_FAKE_NODE_PORT:-8095}" GISPORTAL_LOGINGOV_GENERATE=1
fi
if [ "${GISPORTAL_DEMO_P24:-0}" = "1" ]; then
  python -m services.payments.adapters.fake_przelewy24 --port "$P24_PORT" >var/log/p24.log 2>&1 & pids+=($!)
fi
celery -A gisportal worker --loglevel=INFO --concurrency=2 >var/log/worker.log 2>&1 & pids+=($!)
celery -A gisportal beat --loglevel=INFO --schedule var/celerybeat-schedule >var/log/beat.log 2>&1 & pids+=($!)
gunicorn gisportal.wsgi:application --bind "$HOST" --workers 3 --access-logfile - --error-logfile - & pids+=($!)

cat <<MSG

  gisportal is running on http://$HOST/
    home page            http://$HOST/
    health check         http://$HOST/healthz
    log in               http://$HOST/konto/logowanie/
    e-services           http://$HOST/uslugi/
    WMS / WFS            http://$HOST/ows?SERVICE=WFS&REQUEST=GetCapabilities
    fake ULDK            $GISPORTAL_ULDK_URL
    login.gov.pl         ${GISPORTAL_LOGINGOV_NODE_URL:-off} (sign in with a test identity from the login page)
    payment gateways     $GISPORTAL_PAYMENT_PROVIDERS (clerks: http://$HOST/urzad/platnosci/)

  Demo accounts (password for all: demo-haslo-2026):
$(gisportal demo_accounts --list | sed 's/^/    /')

  Logs of the worker and scheduler: var/log/. Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
