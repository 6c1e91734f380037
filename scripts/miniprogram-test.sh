#!/usr/bin/env bash
# The mini-program's tests (jest, from miniprogram/package-lock.json). Node and npm come from
# Debian's packages when missing. The end-to-end test starts warmfund with the venv's Python
# (E2E_PYTHON, default .venv/bin/python: run scripts/setup-venv.sh first).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing: nodejs npm"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
export E2E_PYTHON="${E2E_PYTHON:-$PWD/.venv/bin/python}"
cd miniprogram
npm ci --no-audit --no-fund --loglevel=error
npm test -- "$@"
