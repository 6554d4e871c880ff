#!/usr/bin/env bash
# Benchmarks (not part of `make test`): each writes a table to stdout; copy it into bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python bench/demo_data.py "$@"
