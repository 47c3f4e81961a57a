#!/usr/bin/env bash
# Install what the tests need and run them: lint, types, the test suite.
# Used as-is by CI (.ci/run). Slow scale tests are marked `slow` and run with the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."

# Headless Chromium (and its WebDriver) renders and drives the pages in the browser tests
# (Debian's packages, no downloads).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (Debian package) for the report's browser test ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  else
    echo "chromium is missing and cannot be installed without root: install Debian's chromium" >&2
    exit 1
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

# A throwaway PostgreSQL (Debian's package) for the tests marked `postgres`.
eval "$(scripts/postgres.sh)"
export DATAVASK_TEST_PG_DSN

# The wheel users install: built, installed into a fresh venv, run on the sample outside the checkout.
bash scripts/wheel_smoke.sh

.venv/bin/ruff check .
.venv/bin/ruff format --check .
bash scripts/typecheck.sh
.venv/bin/python -m pytest "$@"
