#!/usr/bin/env bash
# Set up and run warmfund on its embedded defaults: SQLite under instance/, the local stand-in of
# WeChat (keys generated at first start), the demo unit tree. Open http://127.0.0.1:5000/ .
# PORT (default 5000) is the app's; the stand-in listens on SIM_PORT (default PORT + 4090: 9090).
set -euo pipefail
cd "$(dirname "$0")"
PORT="${PORT:-5000}"
SIM_PORT="${SIM_PORT:-$((PORT + 4090))}"
for port in "$PORT" "$SIM_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is taken (a warmfund already running?); choose another: PORT=5001 ./run.sh" >&2
    exit 1
  fi
done
scripts/setup-venv.sh
export WARMFUND_APP_DEVELOPMENT=true   # this script is development mode: asked for, never implied
scripts/system-deps.sh posters || echo "PNG posters need a CJK font: sudo apt-get install" \
  "fonts-wqy-microhei (PDF posters work without one; no restart needed after installing)" >&2
export WARMFUND_APP_PUBLIC_URL="${WARMFUND_APP_PUBLIC_URL:-http://127.0.0.1:$PORT}"
.venv/bin/warmfund init
exec .venv/bin/warmfund run --host 127.0.0.1 --port "$PORT" --sim-port "$SIM_PORT" --no-reload
