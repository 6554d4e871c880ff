#!/usr/bin/env bash
# PostgreSQL 15 + PostGIS, as the primary (GISPORTAL_DB_ROLE=primary) or a streaming replica (=replica).
# Secrets are files (compose secrets): the application role's password and the replication role's.
# Primary, first start: initdb, WAL for streaming and archiving (/var/lib/postgresql/wal-archive), roles:
#   gisportal   owns the database, no superuser (what the web and the workers use)
#   replicator  replication only
# Replica, first start: pg_basebackup from the primary (a physical slot per replica), then a hot standby.
set -euo pipefail
role="${GISPORTAL_DB_ROLE:-primary}"
app_password="$(cat "${GISPORTAL_DB_PASSWORD_FILE:-/run/secrets/db_password}")"
repl_password="$(cat "${GISPORTAL_REPLICATION_PASSWORD_FILE:-/run/secrets/replication_password}")"
primary="${GISPORTAL_DB_PRIMARY_HOST:-db}"

if [ "$role" = replica ]; then
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "[db] replica: waiting for the primary ($primary)"
    until pg_isready -q -h "$primary" -p 5432; do sleep 1; done
    slot="${GISPORTAL_REPLICA_SLOT:-replica1}"
    rm -rf "${PGDATA:?}"/*
    PGPASSWORD="$repl_password" pg_basebackup -h "$primary" -U replicator -D "$PGDATA" -X stream -R \
      -C -S "$slot" -c fast || PGPASSWORD="$repl_password" pg_basebackup -h "$primary" -U replicator \
      -D "$PGDATA" -X stream -R -S "$slot" -c fast
    chmod 700 "$PGDATA"
    echo "[db] replica: base backup taken (slot $slot)"
  fi
  exec postgres -c hot_standby=on -c listen_addresses='*'
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "[db] primary: initdb"
  initdb -D "$PGDATA" -E UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '*'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
archive_mode = on
archive_command = 'test ! -f /var/lib/postgresql/wal-archive/%f && cp %p /var/lib/postgresql/wal-archive/%f'
shared_buffers = ${GISPORTAL_DB_SHARED_BUFFERS:-256MB}
max_connections = ${GISPORTAL_DB_MAX_CONNECTIONS:-200}
CONF
  cat >> "$PGDATA/pg_hba.conf" <<HBA
host all all 0.0.0.0/0 scram-sha-256
host replication replicator 0.0.0.0/0 scram-sha-256
HBA
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c archive_mode=off" -w start >/dev/null
  psql -v ON_ERROR_STOP=1 -q -d postgres \
    -v app_password="$app_password" -v repl_password="$repl_password" <<'SQL'
create role gisportal login createdb nosuperuser nocreaterole password :'app_password';
create role replicator login replication password :'repl_password';
create database gisportal owner gisportal;
\c gisportal
create extension postgis;
alter schema public owner to gisportal;
SQL
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "[db] primary: ready for first start"
fi
exec postgres
