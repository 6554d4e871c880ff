#!/usr/bin/env bash
# Lint, import contracts, migrations in sync, then the whole pytest suite on the real PostGIS and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff"
ruff check .
ruff format --check . >/dev/null || { ruff format --check . | tail -5; echo "run: .venv/bin/ruff format ."; exit 1; }
echo "== import-linter (ARCHITECTURE §4)"
lint-imports
echo "== migrations up to date"
gisportal makemigrations --check --dry-run >/dev/null || { echo "models changed without a migration"; exit 1; }
echo "== pytest"
set +e
pytest -p no:cacheprovider "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then echo "no tests collected"; exit 1; fi
exit $rc
