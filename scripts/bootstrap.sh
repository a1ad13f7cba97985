#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian/Ubuntu machine: system packages (as root),
# a virtualenv in .venv with every package of the repository (editable), and the Kafka jars from Maven Central.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

need_pkgs=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in postgresql openjdk-17-jre-headless maven pcscd vsmartcard-vpcd libpcsclite-dev swig opensc kcat \
         poppler-utils jbig2dec qpdf python3-dev gcc pkg-config wrk nginx-light \
         chromium chromium-driver fonts-noto-cjk; do
  have "$p" || need_pkgs+=("$p")
done
# A PostgreSQL server may be present without the Debian meta package (initdb on PATH is enough).
if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need_pkgs=("${need_pkgs[@]/postgresql}")
fi
if command -v java >/dev/null 2>&1; then need_pkgs=("${need_pkgs[@]/openjdk-17-jre-headless}"); fi
if command -v mvn >/dev/null 2>&1; then need_pkgs=("${need_pkgs[@]/maven}"); fi
# Node.js and npm (the portal's front-end packages): the machine's own, else the distribution's.
if ! command -v npm >/dev/null 2>&1; then need_pkgs+=(nodejs npm); fi
todo=()
for p in "${need_pkgs[@]}"; do [ -n "$p" ] && todo+=("$p"); done
if [ ${#todo[@]} -gt 0 ]; then
  echo "bootstrap: installing system packages: ${todo[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${todo[@]}" >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.ras-installed
inputs=$(cat requirements-dev.txt shared/pyproject.toml services/*/pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$inputs" ]; then
  echo "bootstrap: installing Python packages"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -r requirements-dev.txt -e shared \
    -e services/identity -e services/applications -e services/attachments \
    -e services/notifications -e services/card-gateway -e services/web
  echo "$inputs" > "$stamp"
fi

# The portal's front-end packages (design tokens; axe-core for the browser tests), from the npm registry.
web_stamp=services/web/node_modules/.ras-installed
web_inputs=$(sha256sum services/web/package-lock.json | cut -c1-16)
if [ ! -f "$web_stamp" ] || [ "$(cat "$web_stamp")" != "$web_inputs" ]; then
  echo "bootstrap: installing the portal's npm packages"
  (cd services/web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$web_inputs" > "$web_stamp"
fi

# Kafka jars from Maven Central, cached in a git-ignored folder.
if [ ! -f deploy/kafka/lib/.complete ]; then
  echo "bootstrap: fetching Apache Kafka jars from Maven Central"
  mvn -q -B -f deploy/kafka/pom.xml dependency:copy-dependencies \
    -DoutputDirectory="$ROOT/deploy/kafka/lib" -DincludeScope=runtime
  touch deploy/kafka/lib/.complete
fi
