# gisportal — the two commands: `make demo` (install what is missing, load demo data, serve) and
# `make test` (the same set-up, then lint, import contracts and the whole test suite).
SHELL := /bin/bash
PARCELS ?= 20000

.PHONY: setup demo test lint bench clean-db docker-test docker-up docker-down

setup:
	@scripts/setup.sh

demo: setup
	@PARCELS=$(PARCELS) scripts/demo.sh

test: setup
	@scripts/test.sh

lint: setup
	@.venv/bin/ruff check . && .venv/bin/lint-imports

bench: setup
	@QUICK=$(QUICK) SIZES=$(SIZES) scripts/bench.sh

clean-db:
	@psql -h 127.0.0.1 -U postgres -c "drop database if exists gisportal"

# docker/: the compose stack (nginx, web ×2, worker ×2, beat, PostgreSQL primary + replica, Redis)
docker-test:
	@scripts/docker.sh test

docker-up:
	@scripts/docker.sh up

docker-down:
	@scripts/docker.sh down
