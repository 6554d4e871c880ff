#!/usr/bin/env bash
# The app container's roles: web (gunicorn), worker and beat (Celery), migrate (schema, once per upgrade;
# with GISPORTAL_DEMO=1 also the demo data, accounts and rates), or any gisportal command.
set -euo pipefail
role="${1:-web}"
shift || true
mkdir -p "$GISPORTAL_STATE_DIR"
case "$role" in
  web)
    # SIGTERM: gunicorn stops taking connections and lets requests in flight finish (graceful timeout)
    exec gunicorn gisportal.wsgi:application --bind 0.0.0.0:8000 \
      --workers "${GISPORTAL_WEB_WORKERS:-3}" --graceful-timeout 30 --timeout 120 --keep-alive 5 \
      --access-logfile - --error-logfile - "$@"
    ;;
  worker)
    # SIGTERM: a warm shutdown (the task in hand finishes; with acks_late, one killed is delivered again)
    exec celery -A gisportal worker --loglevel=INFO --concurrency "${GISPORTAL_WORKER_CONCURRENCY:-2}" \
      --hostname "worker@%h" "$@"
    ;;
  beat)
    exec celery -A gisportal beat --loglevel=INFO --schedule "$GISPORTAL_STATE_DIR/celerybeat-schedule" "$@"
    ;;
  migrate)
    gisportal migrate --no-input -v 1
    if [ "${GISPORTAL_DEMO:-0}" = 1 ]; then
      gisportal demo_data --parcels "${GISPORTAL_DEMO_PARCELS:-20000}" --seed 1 --if-empty
      gisportal demo_accounts
      gisportal fee_rates -v 0 demo >/dev/null
      gisportal demo_cases -v 0 || echo "demo cases: not created"
    fi
    ;;
  *)
    exec gisportal "$role" "$@"
    ;;
esac
