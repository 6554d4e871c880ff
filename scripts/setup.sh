#!/usr/bin/env bash
# Installs what is missing and prepares the database. Idempotent; used by `make demo` and `make test`.
# Works as root or through sudo on Debian 12 / Ubuntu 24.04. No systemd needed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[setup] BŁĄD / ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || die "run as root or install sudo"
  SUDO="sudo"
fi

DB_NAME="${GISPORTAL_DB_NAME:-gisportal}"
DB_ROLE="${GISPORTAL_DB_ROLE:-gisportal}"
PYTHON="${PYTHON:-python3}"

# ---------------------------------------------------------------- OS packages
pg_version() {
  if command -v pg_lsclusters >/dev/null; then pg_lsclusters -h | awk 'NR==1{print $1}'; fi
}
apt_missing=()
need_pkg() { dpkg -s "$1" >/dev/null 2>&1 || apt_missing+=("$1"); }

PGV="$(pg_version || true)"
if [ -z "$PGV" ]; then
  need_pkg postgresql
fi
for p in gdal-bin libgdal-dev libgeos-dev proj-bin libproj-dev binutils redis-server fonts-dejavu-core gettext python3-venv time \
         libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 chromium cgi-mapserver; do
  need_pkg "$p"
done
# QGIS as a test client (tests/ogc/test_qgis.py, marker qgis, run by Debian's /usr/bin/python3). GISPORTAL_QGIS=0
# leaves it out (several hundred MB); those tests then skip and say why.
if [ "${GISPORTAL_QGIS:-1}" != 0 ]; then
  need_pkg python3-qgis
  need_pkg qgis-providers
fi
command -v npm >/dev/null || apt_missing+=(nodejs npm)
if [ -n "$PGV" ]; then need_pkg "postgresql-${PGV}-postgis-3"; fi

APT="${GISPORTAL_APT_GET:-apt-get}"
if [ ${#apt_missing[@]} -gt 0 ]; then
  command -v "$APT" >/dev/null || die "brak apt-get / apt-get not found; install by hand: ${apt_missing[*]}"
  say "installing OS packages: ${apt_missing[*]}"
  $SUDO "$APT" update -qq \
    || die "nie można zainstalować pakietów / cannot install OS packages (${apt_missing[*]}): apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO "$APT" install -y -qq "${apt_missing[@]}" >/dev/null \
    || die "nie można zainstalować pakietów / cannot install OS packages: ${apt_missing[*]}"
  if [ -z "$PGV" ]; then
    PGV="$(pg_version)"
    DEBIAN_FRONTEND=noninteractive $SUDO "$APT" install -y -qq "postgresql-${PGV}-postgis-3" >/dev/null \
      || die "cannot install PostGIS for PostgreSQL ${PGV}"
  fi
fi

# ---------------------------------------------------------------- services
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting PostgreSQL ${PGV}"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$PGV" main start || $SUDO pg_ctlcluster "$PGV" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not start"
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting Redis"
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/gisportal.log
  for _ in $(seq 1 20); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.5; done
  redis-cli ping >/dev/null 2>&1 || die "Redis did not start"
fi

# ---------------------------------------------------------------- database role and database
PSQL_SU=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtA)
if ! "${PSQL_SU[@]}" -c 'select 1' >/dev/null 2>&1; then
  PSQL_SU=($SUDO -u postgres psql -v ON_ERROR_STOP=1 -qtA)
fi
if [ -z "${DATABASE_URL:-}" ]; then
  # least privilege: the web, the workers and the tests connect as the role ${DB_ROLE}, which owns the
  # database and its schema but is no superuser; only this set-up acts as the superuser (PostGIS, ownership)
  mkdir -p var
  if [ ! -s var/db_password ]; then
    (umask 077; "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))' > var/db_password)
  fi
  DB_PASSWORD="$(cat var/db_password)"
  if [ "$("${PSQL_SU[@]}" -c "select 1 from pg_roles where rolname='${DB_ROLE}'")" != 1 ]; then
    say "creating database role ${DB_ROLE}"
    "${PSQL_SU[@]}" -c "create role ${DB_ROLE} login createdb nosuperuser nocreaterole"
  fi
  "${PSQL_SU[@]}" -c "alter role ${DB_ROLE} with login createdb nosuperuser nocreaterole password '${DB_PASSWORD}'" >/dev/null
  if [ "$("${PSQL_SU[@]}" -c "select 1 from pg_database where datname='${DB_NAME}'")" != 1 ]; then
    say "creating database ${DB_NAME}"
    "${PSQL_SU[@]}" -c "create database ${DB_NAME} owner ${DB_ROLE}"
  fi
  # the test runner (as ${DB_ROLE}) creates its databases from template1: PostGIS is installed there once
  for db in template1 "${DB_NAME}"; do
    "${PSQL_SU[@]}" -d "$db" -c "set client_min_messages = warning; create extension if not exists postgis" >/dev/null \
      || die "PostGIS extension not available in PostgreSQL ${PGV}"
  done
  # a database made by an earlier set-up (as the superuser) is handed to ${DB_ROLE}: the database, its
  # schema, and every table, view and free-standing sequence that is not part of an extension
  "${PSQL_SU[@]}" -d "${DB_NAME}" >/dev/null <<SQL
alter database ${DB_NAME} owner to ${DB_ROLE};
alter schema public owner to ${DB_ROLE};
do \$\$ declare r record; begin
  for r in select c.oid::regclass as rel, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S')
             and c.relowner <> '${DB_ROLE}'::regrole
             and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('e', 'a', 'i'))
  loop
    execute format('alter %s %s owner to ${DB_ROLE}',
                   case r.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'materialized view'
                   else 'table' end, r.rel);
  end loop;
end \$\$;
SQL
  # a test database left by a run as another role could not be replaced by ${DB_ROLE}
  "${PSQL_SU[@]}" -c "select 1 from pg_database where datname = 'test_${DB_NAME}' and datdba <> '${DB_ROLE}'::regrole" \
    | grep -q 1 && "${PSQL_SU[@]}" -c "drop database test_${DB_NAME}" >/dev/null
  "${PSQL_SU[@]}" -c "alter role postgres createdb" >/dev/null
fi

# ---------------------------------------------------------------- virtualenv
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv || die "python3 -m venv failed (install python3-venv)"
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing Python packages into .venv"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -r requirements.lock || die "pip install failed"
  .venv/bin/pip install -q --no-deps -e . || die "pip install -e . failed"
  touch "$stamp"
fi

# ---------------------------------------------------------------- the map client (npm, bundled here; no CDN)
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing the map client's packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || die "npm ci failed"
fi
bundle=gisportal/web/static/web/map.bundle.js
if [ ! -f "$bundle" ] || [ -n "$(find gisportal/web/js package-lock.json -newer "$bundle" -print -quit)" ]; then
  say "building the map client"
  npm run --silent build >/dev/null 2>&1 || die "building the map client failed (npm run build)"
fi

# the OGC API pages' Leaflet and Swagger UI: copied from node_modules into our static files (git-ignored)
vendor=ogc/ogcapi/static/ogcapi/vendor
if [ ! -f "$vendor/.copied" ] || [ package-lock.json -nt "$vendor/.copied" ]; then
  say "copying Leaflet and Swagger UI into ${vendor}"
  rm -rf "$vendor" && mkdir -p "$vendor/leaflet" "$vendor/swagger-ui"
  cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images \
    node_modules/leaflet/LICENSE "$vendor/leaflet/" || die "copying Leaflet failed"
  cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
    node_modules/swagger-ui-dist/LICENSE "$vendor/swagger-ui/" || die "copying Swagger UI failed"
  touch "$vendor/.copied"
fi

# ---------------------------------------------------------------- translations
.venv/bin/gisportal compilemessages -v 0 --ignore=.venv >/dev/null 2>&1 || die "compilemessages failed"
say "ready"
