#!/usr/bin/env bash
# The whole test suite: style, types, then every pytest tier against the real Kafka, PostgreSQL, SMTP server
# and pcscd (the test session starts and stops them itself).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== ruff"
.venv/bin/ruff check .
echo "== mypy (strict)"
.venv/bin/mypy
echo "== pytest"
.venv/bin/python -m pytest "$@"
