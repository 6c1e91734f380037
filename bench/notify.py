"""Payment notifications per second on PostgreSQL, against a bare Flask endpoint.

Both run under gunicorn with the same settings in the same run, driven by wrk with the same
pre-signed, valid notifications: every order is notified once, and 30% of the requests are
copies of one sent shortly before (as WeChat's retries are). There are enough orders that the
run does not wrap round to notifications already recorded; the duplicate share the app actually
saw is printed.

The two servers run side by side, warm up for 2 seconds each, and are measured in alternating
rounds (bare, app, app, bare, ...), each round with its own slice of the notifications: a
machine shared with other work changes speed from one minute to the next, and alternating gives
both the same share of it.

A third measurement drives the notification's one database statement directly, from as many
processes as gunicorn has workers, with no HTTP and no crypto. Set beside the bare endpoint's
rate it gives the ceiling of this design on this machine: both need the same two cores, so no
implementation can pass 1 / (1/bare + 1/statement).

Prints notifications/s, p50/p99 latency, the CPU a request cost the gunicorn workers and
PostgreSQL (read from /proc around each round), checks the totals still equal the ledger, and
ends with notify_vs_bare_ratio=<x>.

    .venv/bin/python bench/notify.py [--rounds 3] [--seconds 5] [--connections 16]
                                     [--orders 24000]
    (TEST_DATABASE_URL or BENCH_DATABASE_URL names the PostgreSQL server)
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.common import (  # noqa: E402
    WORKERS,
    cpu_between,
    cpu_seconds,
    database_server,
    free_port,
    fresh_database,
    postgres_pids,
    run_wrk,
    start_gunicorn,
    stop,
    workers_of,
    wrk_script,
)

DUPLICATE_SHARE = 0.3
WARM_UP_SECONDS = 2
HTTP_ADDR = "127.0.0.1"
DIRECT_ADDR = "bench-direct"


def main() -> None:
    args = _arguments()
    server = database_server()
    with tempfile.TemporaryDirectory() as tmp:
        _say("seeding orders")
        # Each measurement that writes starts from a database of its own, in the same state.
        url, env, orders = _prepared_database(server, "warmfund_bench", Path(tmp), args.orders)
        direct_url, _, direct_orders = _prepared_database(
            server, "warmfund_bench_direct", Path(tmp), args.orders)
        _say("signing notifications")
        scripts, sample = _wrk_scripts(Path(tmp), env, orders, args.rounds, args.seconds)
        _say(f"measuring the bare endpoint and warmfund in {args.rounds} rounds each")
        bare, app = _measure_both(env, scripts, args)
        _say("measuring the statement alone")
        direct = _measure_statement(direct_url, direct_orders, sample, 6)
        duplicates = _check_ledger(url, HTTP_ADDR)
        _check_ledger(direct_url, DIRECT_ADDR)
    ceiling = 1 / (1 / bare["rps"] + 1 / direct) / bare["rps"]
    print(f"bare flask : {bare['rps']:8.0f} req/s  p50 {bare['p50']:.1f} ms  "
          f"p99 {bare['p99']:.1f} ms")
    print(f"notify     : {app['rps']:8.0f} notifications/s  p50 {app['p50']:.1f} ms  "
          f"p99 {app['p99']:.1f} ms  non-2xx {app['errors']:.0f}  "
          f"duplicates {duplicates:.0%}")
    print(f"CPU per request: bare - gunicorn workers {bare['worker_ms']:.2f} ms; notify - "
          f"gunicorn workers {app['worker_ms']:.2f} ms, PostgreSQL {app['postgres_ms']:.2f} ms")
    print(f"statement  : {direct:8.0f} notifications/s with no HTTP and no crypto "
          f"({WORKERS} processes)")
    print(f"ceiling of this design here (1 / (1/bare + 1/statement)): {ceiling:.3f} of bare")
    if duplicates > DUPLICATE_SHARE + 0.05:
        # Repeats of notifications already recorded are cheap duplicates: the rate is not valid.
        raise SystemExit(f"the app saw {duplicates:.0%} duplicates: the rounds outlasted their "
                         "notifications; run again with more --orders")
    print(f"notify_vs_bare_ratio={app['rps'] / bare['rps']:.3f}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="rounds for each server")
    parser.add_argument("--seconds", type=int, default=5, help="length of one round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--orders", type=int, default=24000, help="distinct paid orders")
    return parser.parse_args()


def _app_env(url: str, instance: Path) -> dict[str, str]:
    unused = "http://127.0.0.1:9"  # notifications never call WeChat
    return {"WARMFUND_DATABASE_URL": url, "WARMFUND_APP_INSTANCE_DIR": str(instance),
            "WARMFUND_APP_DEVELOPMENT": "true",
            "WARMFUND_APP_SECRET_KEY": "bench-secret-key-0123456789-abcdefghij",
            "WARMFUND_WECHAT_USE_SIMULATOR": "true", "WARMFUND_WECHAT_API_BASE": unused,
            "WARMFUND_WECHAT_PAY_API_BASE": unused, "WARMFUND_APP_MAX_BODY_BYTES": "65536"}


def _say(step: str) -> None:
    print(f"... {step}", file=sys.stderr, flush=True)


def _prepared_database(server: str, name: str, tmp: Path,
                       count: int) -> tuple[str, dict[str, str], list[tuple[str, int, str]]]:
    """A fresh database with the demo units and `count` pending orders: its URL, the app's
    environment for it, and the orders as (out_trade_no, amount, openid)."""
    url = fresh_database(server, name)
    env = _app_env(url, tmp)
    subprocess.run([str(Path(sys.executable).parent / "warmfund"), "init", "--demo"],
                   env={**os.environ, **env}, check=True, capture_output=True)
    return url, env, _seed_orders(url, count)


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
    # What autovacuum would do of its own accord soon after: not during a measurement.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return [(r["otn"], int(r["q"]) * 100, str(r["o"])) for r in rows]


def _with_duplicates(count: int, seed: int) -> list[int]:
    """0..count-1 once each, in order, with copies of earlier ones making up DUPLICATE_SHARE."""
    rng = random.Random(seed)
    sequence = list(range(count))
    for _ in range(int(count * DUPLICATE_SHARE / (1 - DUPLICATE_SHARE))):
        at = rng.randrange(len(sequence))
        sequence.insert(at + rng.randrange(1, 50), sequence[at])
    return sequence


def _wrk_scripts(tmp: Path, env: dict[str, str], orders: list[tuple[str, int, str]],
                 rounds: int, seconds: int) -> tuple[list[Path], tuple[dict[str, str], bytes]]:
    """A wrk script for the warm-up and for each round, each with its own consecutive slice of
    the notifications, and one notification as a sample of headers and body."""
    from tests.notices import transaction
    from wechat.keys import generate_dev_credentials

    creds_dir = Path(env["WARMFUND_APP_INSTANCE_DIR"]) / "dev-credentials"
    creds = generate_dev_credentials(creds_dir)
    plains = [transaction(creds, otn, amount, openid) for otn, amount, openid in orders]
    with ProcessPoolExecutor(os.cpu_count(), initializer=_load_signer,
                             initargs=(creds_dir,)) as pool:
        notices = list(pool.map(_sign, plains, chunksize=500))
    requests = []
    for index in _with_duplicates(len(notices), 11):
        headers, body = notices[index]
        lines = [f"{name}: {value}" for name, value in headers.items()]
        lines += [f"Content-Length: {len(body)}", "", ""]
        requests.append("\r\n".join(lines).encode() + body)
    # Slices in proportion to the rounds' lengths, the warm-up's first.
    lengths = [WARM_UP_SECONDS] + [seconds] * rounds
    bounds = [len(requests) * sum(lengths[:k]) // sum(lengths) for k in range(rounds + 2)]
    scripts = []
    for number in range(rounds + 1):
        folder = tmp / f"round-{number}"
        folder.mkdir()
        scripts.append(wrk_script(folder, "POST /wechat/pay/notify",
                                  requests[bounds[number]:bounds[number + 1]]))
    return scripts, notices[0]


_signer: dict[str, Any] = {}


def _load_signer(creds_dir: Path) -> None:
    from wechat.keys import generate_dev_credentials, load_private_key

    _signer["creds"] = creds = generate_dev_credentials(creds_dir)
    _signer["key"] = load_private_key(str(creds.wechatpay_private_key_path))


def _sign(plain: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    from tests.notices import signed

    return signed(_signer["creds"], plain, key=_signer["key"])


def _measure_both(env: dict[str, str], scripts: list[Path],
                  args: argparse.Namespace) -> tuple[dict[str, float], dict[str, float]]:
    """Mean rate and worst percentiles over the rounds, for the bare endpoint and the app."""
    servers = {"bare": ("bench.bare_app:app", {}), "app": ("app:create_app()", env)}
    urls, procs = {}, []
    try:
        for name, (target, target_env) in servers.items():
            port = free_port()
            procs.append(start_gunicorn(target, port, target_env))
            urls[name] = f"http://127.0.0.1:{port}"
        for url in urls.values():  # first requests, first statements: not measured
            run_wrk(url, scripts[0], WARM_UP_SECONDS, args.connections)
        runs: dict[str, list[dict[str, float]]] = {"bare": [], "app": []}
        workers = {name: workers_of(proc) for name, proc in zip(servers, procs, strict=True)}
        for number, script in enumerate(scripts[1:]):
            order = ("bare", "app") if number % 2 == 0 else ("app", "bare")
            for name in order:
                runs[name].append(_timed_run(urls[name], workers[name], script, args))
            print(f"round {number + 1}: bare {runs['bare'][-1]['rps']:.0f} req/s, "
                  f"notify {runs['app'][-1]['rps']:.0f}/s, "
                  f"ratio {runs['app'][-1]['rps'] / runs['bare'][-1]['rps']:.3f}")
    finally:
        for proc in procs:
            stop(proc)
    return _summary(runs["bare"]), _summary(runs["app"])


def _timed_run(url: str, workers: list[int], script: Path,
               args: argparse.Namespace) -> dict[str, float]:
    """One wrk run, with the CPU its server's workers and PostgreSQL spent meanwhile."""
    before = cpu_seconds(workers), cpu_seconds(postgres_pids())
    run = run_wrk(url, script, args.seconds, args.connections)
    # PostgreSQL read afresh: a backend that started during the round counts from zero.
    return {**run, "worker_cpu": cpu_between(before[0], cpu_seconds(workers)),
            "postgres_cpu": cpu_between(before[1], cpu_seconds(postgres_pids()))}


def _summary(runs: list[dict[str, float]]) -> dict[str, float]:
    requests = max(1.0, sum(run["requests"] for run in runs))
    return {"rps": sum(run["rps"] for run in runs) / len(runs),
            "p50": max(run["p50"] for run in runs), "p99": max(run["p99"] for run in runs),
            "errors": sum(run["errors"] for run in runs),
            "worker_ms": 1000 * sum(run["worker_cpu"] for run in runs) / requests,
            "postgres_ms": 1000 * sum(run["postgres_cpu"] for run in runs) / requests}


def _measure_statement(url: str, orders: list[tuple[str, int, str]],
                       sample: tuple[dict[str, str], bytes], seconds: int) -> float:
    """Notifications/s through the fast path's statement alone, from WORKERS processes."""
    sequence = _with_duplicates(len(orders), 13)
    start = time.time() + 2  # every process connected and ready before the clock starts
    # A copy goes to the process of its original, after it: a duplicate, never a race.
    jobs = [(url, [orders[i] for i in sequence if i % WORKERS == k], sample, start, seconds)
            for k in range(WORKERS)]
    with ProcessPoolExecutor(WORKERS) as pool:
        results = list(pool.map(_statement_worker, jobs))
    return sum(done for done, _ in results) / (max(end for _, end in results) - start)


def _statement_worker(job: tuple[Any, ...]) -> tuple[int, float]:
    """(notifications recorded, when it stopped): at the deadline, or when out of orders."""
    from app.services.deps import utc_now
    from app.services.payments.payments_pg import record_notified_payment
    from models.database import make_engine
    from wechat import Transaction

    url, orders, (headers, body), start, seconds = job
    engine = make_engine(url)
    paid_at = utc_now()
    txs = [Transaction(appid="wx", mchid="1", out_trade_no=otn, transaction_id=f"42{otn}",
                       trade_state="SUCCESS", amount_total=amount, payer_openid=openid,
                       success_time=paid_at, attach="")
           for otn, amount, openid in orders]
    record_notified_payment(engine, txs[0], utc_now(), kind="payment", headers=headers,
                            body=body, remote_addr=DIRECT_ADDR)  # connect before the clock
    time.sleep(max(0.0, start - time.time()))
    done, deadline = 1, start + seconds
    for tx in txs[1:]:
        if time.time() >= deadline:
            break
        verdict = record_notified_payment(engine, tx, utc_now(), kind="payment",
                                          headers=headers, body=body, remote_addr=DIRECT_ADDR)
        if verdict is None:
            raise SystemExit(f"{tx.out_trade_no}: the statement left it to the general path")
        done += 1
    end = time.time()
    engine.dispose()
    return done - 1, end


def _check_ledger(url: str, addr: str) -> float:
    """Fail when totals drifted; returns the duplicate share among notifications from addr."""
    from app.services.payments.ledger_check import find_drift
    from models.database import make_engine, make_session_factory

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        drift = find_drift(session)
        paid = session.execute(text("SELECT count(*) FROM donations WHERE status = 'paid'"))
        verdicts: dict[str, int] = {
            verdict: count for verdict, count in session.execute(text(
                "SELECT verdict, count(*) FROM notifications WHERE remote_addr = :addr "
                "GROUP BY verdict"), {"addr": addr})}
        print(f"{addr}: paid donations {paid.scalar()}, totals drift {len(drift)}, "
              f"notification verdicts {verdicts}")
    engine.dispose()
    if drift:
        raise SystemExit("totals drifted from the ledger")
    return verdicts.get("duplicate", 0) / max(1, sum(verdicts.values()))


if __name__ == "__main__":
    main()
