#!/usr/bin/env bash
# Set up and run the whole test suite: on SQLite, then on PostgreSQL (never skipped).
# TEST_DATABASE_URL names the PostgreSQL server (default: local, trust auth, database `test`).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-venv.sh test
scripts/system-deps.sh
PG_URL="${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
scripts/services.sh "$PG_URL"
mkdir -p artifacts/screenshots
echo "== mini-program tests"
scripts/miniprogram-test.sh
echo "== tests on SQLite"
env -u TEST_DATABASE_URL .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
echo "== tests on PostgreSQL"
TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
