# One command set for people, the README and CI. Every target installs what it needs first (scripts/bootstrap.sh).
.PHONY: up down status test test-fast lint typecheck format contracts bench bootstrap

PY := .venv/bin/python

bootstrap:
	@bash scripts/bootstrap.sh

up: bootstrap          ## bring the whole system up (Kafka, PostgreSQL, SMTP catcher, every service)
	@$(PY) deploy/localstack.py up

down:                  ## stop everything the stack started
	@if [ -x $(PY) ]; then $(PY) deploy/localstack.py down; fi

status:
	@$(PY) deploy/localstack.py status

test: bootstrap        ## the whole suite: lint, types, contracts, unit, integration and e2e on the real parts
	@bash scripts/test.sh

test-fast: bootstrap   ## unit and contract tests only
	@$(PY) -m pytest -m "unit" -q

lint: bootstrap
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .

typecheck: bootstrap
	@.venv/bin/mypy

format: bootstrap
	@.venv/bin/ruff format .
	@.venv/bin/ruff check --fix .

contracts: bootstrap   ## regenerate the committed JSON Schemas and the AsyncAPI document
	@$(PY) -m shared.events.catalogue write

bench: bootstrap       ## run every benchmark on the local stack and write bench/report.md
	@$(PY) bench/run.py
