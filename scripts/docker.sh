#!/usr/bin/env bash
# The Docker engine and compose for docker/ (make docker-test, docker-up, docker-down): Debian's docker.io and
# docker-compose installed when missing, dockerd started when not running (no systemd here), then the
# command given. Root or sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[docker]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  say "starting dockerd"
  ($SUDO nohup dockerd >/var/log/gisportal-dockerd.log 2>&1 &)
  for _ in $(seq 1 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { say "dockerd did not start (see /var/log/gisportal-dockerd.log)"; exit 1; }
fi
case "${1:-test}" in
  test) exec python3 docker/test.py ;;
  up)
    python3 - <<'PY'
import sys; sys.path.insert(0, "docker")
import test as t
t.build(); t.secrets(); t.up()
print(f"gisportal (docker) on {t.BASE}/  — stop with: make docker-down")
PY
    ;;
  down) exec docker-compose -f docker/compose.yml -p "${GISPORTAL_COMPOSE_PROJECT:-gisportal}" down ;;
  *) echo "usage: scripts/docker.sh test|up|down" >&2; exit 2 ;;
esac
