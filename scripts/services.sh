#!/usr/bin/env bash
# Make sure PostgreSQL (and Redis) answer; start the local ones when they are not running.
# Fails — never skips — when PostgreSQL cannot be reached.
set -euo pipefail
url="${1:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
pg_up() { .venv/bin/python - "$url" <<'PY'
import sys
import psycopg
url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
psycopg.connect(url, connect_timeout=3).close()
PY
}
if ! pg_up 2>/dev/null; then
  echo "starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    for version in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
  fi
  for _ in $(seq 1 30); do pg_up 2>/dev/null && break; sleep 1; done
fi
pg_up || { echo "PostgreSQL is not reachable at $url" >&2; exit 1; }
if command -v redis-server >/dev/null 2>&1 && ! (command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1); then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
