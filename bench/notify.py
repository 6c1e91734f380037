"""Payment notifications per second on PostgreSQL, against a bare Flask endpoint.

Both run under gunicorn with the same settings in the same run, driven by wrk with the same
pre-signed, valid notifications (30% of them duplicates). Prints notifications/s, p50/p99
latency, checks the totals still equal the ledger, and ends with notify_vs_bare_ratio=<x>.

    .venv/bin/python bench/notify.py [--seconds 15] [--connections 16]
    (TEST_DATABASE_URL or BENCH_DATABASE_URL names the PostgreSQL server)
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.common import (  # noqa: E402
    free_port,
    fresh_database,
    lua_string,
    run_wrk,
    start_gunicorn,
    stop,
)

UNIQUE = 9000
DUPLICATE_SHARE = 0.3


def main() -> None:
    args = _arguments()
    url = fresh_database(os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"), "warmfund_bench")
    with tempfile.TemporaryDirectory() as tmp:
        env = _app_env(url, Path(tmp))
        subprocess.run([str(Path(sys.executable).parent / "warmfund"), "init", "--demo"],
                       env={**os.environ, **env}, check=True, capture_output=True)
        _say("seeding orders")
        orders = _seed_orders(url, args.orders)
        _say("signing notifications")
        script = _wrk_script(Path(tmp), env, orders)
        _say("measuring the bare endpoint")
        bare = _measure("bench.bare_app:app", {}, script, args)
        _say("measuring warmfund")
        app = _measure("app:create_app()", env, script, args)
        _check_ledger(url)
    print(f"bare flask : {bare['rps']:8.0f} req/s  p50 {bare['p50']:.1f} ms  "
          f"p99 {bare['p99']:.1f} ms")
    print(f"notify     : {app['rps']:8.0f} notifications/s  p50 {app['p50']:.1f} ms  "
          f"p99 {app['p99']:.1f} ms  non-2xx {app['errors']:.0f}")
    print(f"notify_vs_bare_ratio={app['rps'] / bare['rps']:.3f}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--orders", type=int, default=UNIQUE, help="distinct paid orders")
    return parser.parse_args()


def _app_env(url: str, instance: Path) -> dict[str, str]:
    unused = "http://127.0.0.1:9"  # notifications never call WeChat
    return {"WARMFUND_DATABASE_URL": url, "WARMFUND_APP_INSTANCE_DIR": str(instance),
            "WARMFUND_APP_SECRET_KEY": "bench-secret-key-0123456789",
            "WARMFUND_WECHAT_USE_SIMULATOR": "true", "WARMFUND_WECHAT_API_BASE": unused,
            "WARMFUND_WECHAT_PAY_API_BASE": unused, "WARMFUND_APP_MAX_BODY_BYTES": "65536"}


def _say(step: str) -> None:
    print(f"... {step}", file=sys.stderr, flush=True)


def _seed_orders(url: str, count: int) -> list[tuple[str, int, str]]:
    engine = create_engine(url)
    with engine.begin() as conn:
        campaign = conn.execute(text("SELECT id FROM campaigns WHERE code = 'one-yuan'")).scalar()
        units = list(conn.execute(text("SELECT id FROM units")).scalars())
        rng = random.Random(7)
        rows = [{"otn": f"WFBENCH{i:010d}", "c": campaign, "u": rng.choice(units),
                 "o": f"o-bench-{rng.randrange(3000)}", "q": 1 + i % 3} for i in range(count)]
        conn.execute(text(
            "INSERT INTO donations (out_trade_no, campaign_id, unit_id, openid, quantity, "
            "amount_fen, anonymous, message, status, paid_after_close, created_at, expires_at) "
            "VALUES (:otn, :c, :u, :o, :q, :q * 100, false, '', 'pending', false, now(), "
            "now() + interval '30 minutes')"), rows)
    engine.dispose()
    return [(r["otn"], int(r["q"]) * 100, str(r["o"])) for r in rows]


def _wrk_script(tmp: Path, env: dict[str, str], orders: list[tuple[str, int, str]]) -> Path:
    from tests.notices import signed, transaction
    from wechat.keys import generate_dev_credentials, load_private_key

    creds = generate_dev_credentials(Path(env["WARMFUND_APP_INSTANCE_DIR"]) / "dev-credentials")
    key = load_private_key(str(creds.wechatpay_private_key_path))
    plains = [transaction(creds, otn, amount, openid) for otn, amount, openid in orders]
    rng = random.Random(11)
    sequence = list(range(len(plains)))
    for _ in range(int(len(plains) * DUPLICATE_SHARE / (1 - DUPLICATE_SHARE))):
        at = rng.randrange(len(sequence))
        sequence.insert(at + rng.randrange(1, 50), sequence[at])
    lines = ["local reqs = {}"]
    for n, index in enumerate(sequence, start=1):
        headers, body = signed(creds, plains[index], key=key)
        table = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
        lines.append(f'reqs[{n}] = wrk.format("POST", "/wechat/pay/notify", {{{table}}}, '
                     f"{lua_string(body)})")
    lines += ["local i = 0", "request = function()", "  i = i + 1",
              "  return reqs[((i - 1) % #reqs) + 1]", "end"]
    script = tmp / "notify.lua"
    script.write_text("\n".join(lines))
    return script


def _measure(target: str, env: dict[str, str], script: Path,
             args: argparse.Namespace) -> dict[str, float]:
    port = free_port()
    proc = start_gunicorn(target, port, env)
    try:
        return run_wrk(f"http://127.0.0.1:{port}", script, args.seconds, args.connections)
    finally:
        stop(proc)


def _check_ledger(url: str) -> None:
    from app.services.ledger_check import find_drift
    from models.database import make_engine, make_session_factory

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        drift = find_drift(session)
        paid = session.execute(text("SELECT count(*) FROM donations WHERE status = 'paid'"))
        print(f"paid donations: {paid.scalar()}, totals drift: {len(drift)}")
    engine.dispose()
    if drift:
        raise SystemExit("totals drifted from the ledger")


if __name__ == "__main__":
    main()
