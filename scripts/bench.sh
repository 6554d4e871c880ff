#!/usr/bin/env bash
# `make bench` (QUICK=1: 20 000 parcels only, short rounds): every benchmark against its peer in one run
# (bench/run.py); appends a section to bench/RESULTS.md and draws bench/bench-throughput.png. Not part of
# `make test`. The peer's Debian packages (MapServer 8, lighttpd, wrk) and matplotlib are installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -c "import matplotlib" 2>/dev/null || .venv/bin/pip install -q "matplotlib>=3.8"
args=()
if [ "${QUICK:-0}" = "1" ]; then args+=(--quick); fi
if [ -n "${SIZES:-}" ]; then args+=(--sizes "$SIZES"); fi
exec .venv/bin/python bench/run.py "${args[@]}" "$@"
