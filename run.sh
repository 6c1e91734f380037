#!/usr/bin/env bash
# Set up and run warmfund on its embedded defaults: SQLite under instance/, the local stand-in of
# WeChat (keys generated at first start), the demo unit tree. Open http://127.0.0.1:5000/ .
set -euo pipefail
cd "$(dirname "$0")"
PORT="${PORT:-5000}"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "port $PORT is taken (a warmfund already running?); choose another: PORT=5001 ./run.sh" >&2
  exit 1
fi
scripts/setup-venv.sh
export WARMFUND_APP_DEVELOPMENT=true   # this script is development mode: asked for, never implied
export WARMFUND_APP_PUBLIC_URL="${WARMFUND_APP_PUBLIC_URL:-http://127.0.0.1:$PORT}"
.venv/bin/warmfund init
exec .venv/bin/warmfund run --host 127.0.0.1 --port "$PORT" --no-reload
