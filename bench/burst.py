"""A campaign's launch burst: first-time donors through the whole donation, on PostgreSQL.

The app runs under gunicorn (two gthread workers of eight threads, as the README deploys it on
two cores; BENCH_WORKERS and BENCH_THREADS override) beside the stand-in of WeChat in a
process of its own (`warmfund simulator`), so that WeChat's work is measured apart from ours.
One client, in this process, plays the donors' mini-programs; every donor logs in with a code
never seen before (a first-time donor) from an address of its own (behind one trusted proxy,
as in production behind nginx), and goes through the five steps of a donation:

  login        POST /api/login: code2Session at the stand-in, the worker's row, our token
  order        POST /api/donations: the order, JSAPI at WeChat Pay, paySign
  pending poll GET /api/donations/<no> once the order is old enough for the app to ask
               WeChat Pay about it (the case of a notification that has not arrived)
  notification the stand-in pays the order and posts its signed notification to the app
               (the step's latency is the stand-in's pay call, which waits for our 204)
  paid poll    GET /api/donations/<no> once paid

First a closed-loop run, step by step: every donor's login, then every donor's order, and so
on, from --clients connections at once; for each step the requests/s, p50/p99 latency and the
CPU a request cost the gunicorn workers, PostgreSQL (this database's backends and the server's
own processes) and the stand-in, read from /proc around the step. Then an open-loop run: new
donors arrive at --rate a second for --open-seconds, each going through the whole flow (the
pending poll once its order is old enough), latencies counted from when each request was due,
so a queue in front of the app shows. Both runs check every answer (no 5xx), and afterwards
that every paid donation was counted once and the totals equal the ledger.

Ends with donation_cpu_ms=<x>: the workers' plus PostgreSQL's CPU for one complete donation
(login + order + one pending poll + notification + one paid poll), from the closed-loop run.

    .venv/bin/python bench/burst.py [--donors 1200] [--clients 8] [--rate 40]
                                    [--open-seconds 15]
    (TEST_DATABASE_URL or BENCH_DATABASE_URL names the PostgreSQL server)
"""

from __future__ import annotations

import argparse
import heapq
import http.client
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    VENV_BIN,
    cpu_between,
    cpu_seconds,
    database_server,
    free_ports,
    fresh_database,
    gunicorn_args,
    postgres_pids,
    start_gunicorn,
    stop,
    wait_for_port,
    workers_of,
)

STEPS = ("login", "order", "pending poll", "notification", "paid poll")
CAMPAIGN = "one-yuan"
# The app asks WeChat Pay about a pending order only once it is this old (Deps).
QUERY_AFTER_SECONDS = 3.0
DATABASE = "warmfund_burst"
OPEN_LOOP_THREADS = 48
# The deployment README's settings for a 2-core host: two gthread workers of eight threads, which
# cost about what two sync workers do and keep serving while a call to WeChat waits (figures in
# bench/README.md). BENCH_WORKERS and BENCH_THREADS (0: sync workers) override them.
APP_WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
APP_THREADS = int(os.environ.get("BENCH_THREADS", "8"))
# More threads than the client has connections: a pay call holds a stand-in thread until the
# app has answered its notification, and an app worker placing an order waits for a stand-in
# thread, so with fewer (16 were) a queue of pay calls could take every thread while every
# app worker waited for one, until timeouts broke the knot with 5xx (seen on a loaded box).
STAND_IN_THREADS = OPEN_LOOP_THREADS + 16


def main() -> None:
    args = _arguments()
    server = database_server()
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            _say("a fresh database, the stand-in and the app")
            url = fresh_database(server, DATABASE)
            app_port, sim_port = free_ports(2)
            env = _app_env(url, Path(tmp), app_port, sim_port)
            subprocess.run([str(VENV_BIN / "warmfund"), "init", "--demo"],
                           env={**os.environ, **env}, check=True, capture_output=True)
            procs.append(_start_stand_in(args.stand_in, sim_port, env))
            procs.append(start_gunicorn("app:create_app()", app_port, env, args=gunicorn_args(
                APP_WORKERS, APP_THREADS), workers=APP_WORKERS))
            client = Client(app_port, sim_port, _unit_codes(url))
            meters = {"workers": workers_of(procs[1]),
                      "stand-in": workers_of(procs[0]) or [procs[0].pid]}
            _say("warming up")
            _closed_loop(client, [client.donor() for _ in range(4 * args.clients)],
                         args.clients, None)
            _say(f"closed loop: {args.donors} donors, {args.clients} clients, step by step")
            closed = _closed_loop(client, [client.donor() for _ in range(args.donors)],
                                  args.clients, meters)
            _say(f"open loop: {args.rate} donors/s for {args.open_seconds} s")
            opened = _open_loop(client, args.rate, args.open_seconds)
        finally:
            for proc in reversed(procs):
                stop(proc)
        _check_ledger(url, client.paid)
    _report(closed, opened, args)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--donors", type=int, default=1200, help="donors of the closed loop")
    parser.add_argument("--clients", type=int, default=8, help="connections of the closed loop")
    parser.add_argument("--rate", type=float, default=40, help="open loop: new donors a second")
    parser.add_argument("--open-seconds", type=float, default=15, help="open loop: how long")
    parser.add_argument("--stand-in", choices=("gunicorn", "werkzeug"), default="gunicorn",
                        help="serve the stand-in with keep-alive connections, as WeChat does "
                             "(gunicorn), or with `warmfund simulator`, which closes each one")
    return parser.parse_args()


def _start_stand_in(server: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    if server == "gunicorn":
        credentials = str(Path(env["WARMFUND_APP_INSTANCE_DIR"]) / "dev-credentials")
        return start_gunicorn("bench.stand_in:app", port, {"BENCH_CREDENTIALS": credentials},
                              args=["--workers", "1", "--worker-class", "gthread", "--threads",
                                    str(STAND_IN_THREADS), "--keep-alive", "60",
                                    "--log-level", "warning"],
                              workers=1)
    proc = subprocess.Popen([str(VENV_BIN / "warmfund"), "simulator", "--port", str(port)],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return proc


def _say(step: str) -> None:
    print(f"... {step}", file=sys.stderr, flush=True)


def _app_env(url: str, instance: Path, app_port: int, sim_port: int) -> dict[str, str]:
    stand_in = f"http://127.0.0.1:{sim_port}"
    return {"WARMFUND_DATABASE_URL": url, "WARMFUND_APP_INSTANCE_DIR": str(instance),
            "WARMFUND_APP_DEVELOPMENT": "true",
            "WARMFUND_APP_SECRET_KEY": "bench-secret-key-0123456789-abcdefghij",
            "WARMFUND_APP_PUBLIC_URL": f"http://127.0.0.1:{app_port}",
            "WARMFUND_APP_TRUSTED_PROXIES": "1",
            "WARMFUND_WECHAT_USE_SIMULATOR": "true", "WARMFUND_WECHAT_API_BASE": stand_in,
            "WARMFUND_WECHAT_PAY_API_BASE": stand_in}


def _unit_codes(url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        codes = list(conn.execute(text("SELECT code FROM units WHERE active")).scalars())
    engine.dispose()
    return codes


@dataclass
class Donor:
    code: str
    address: str
    unit: str
    token: str = ""
    out_trade_no: str = ""
    amount_fen: int = 0
    ordered_at: float = 0.0


@dataclass
class Outcome:
    """What one step's requests gave: latencies (s) and the answers that were wrong."""

    latencies: list[float] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    server_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, problem: str | None, status: int) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if status >= 500:
                self.server_errors += 1
            if problem is not None:
                self.wrong.append(problem)


class Client:
    """The donors' side: a keep-alive connection per thread to the app and to the stand-in,
    and each step as one request whose answer is checked."""

    def __init__(self, app_port: int, sim_port: int, units: list[str]) -> None:
        self._ports = {"app": app_port, "sim": sim_port}
        self._local = threading.local()
        self._units = units
        self._serial = itertools.count()
        self._rng = random.Random(14)
        self.paid: dict[str, int] = {}  # out_trade_no -> amount the stand-in paid
        self._paid_lock = threading.Lock()

    def donor(self) -> Donor:
        n = next(self._serial)
        return Donor(code=f"burst-{os.getpid()}-{n}",
                     address=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
                     unit=self._rng.choice(self._units))

    def step(self, name: str, donor: Donor) -> tuple[int, str | None]:
        """Run one step for `donor`: the HTTP status and what was wrong, if anything (a
        connection that failed twice counts as a 5xx, so that no donor is lost unseen)."""
        handler: Callable[[Donor], tuple[int, str | None]] = getattr(
            self, "_" + name.replace(" ", "_"))
        try:
            return handler(donor)
        except (OSError, http.client.HTTPException) as exc:
            return 599, f"{name}: {type(exc).__name__}: {exc}"

    def _login(self, donor: Donor) -> tuple[int, str | None]:
        status, body = self._send("app", "POST", "/api/login", donor, {"code": donor.code})
        donor.token = str(body.get("token", ""))
        return status, None if status == 200 and donor.token else f"login {status} {body}"

    def _order(self, donor: Donor) -> tuple[int, str | None]:
        status, body = self._send("app", "POST", "/api/donations", donor,
                                  {"campaign": CAMPAIGN, "unit": donor.unit, "quantity": 1})
        donor.out_trade_no = str(body.get("out_trade_no", ""))
        donor.amount_fen = int(body.get("amount_fen") or 0)
        donor.ordered_at = time.monotonic()
        ok = status == 201 and donor.out_trade_no and body.get("payment", {}).get("paySign")
        return status, None if ok else f"order {status} {body}"

    def _pending_poll(self, donor: Donor) -> tuple[int, str | None]:
        return self._poll(donor, "pending")

    def _paid_poll(self, donor: Donor) -> tuple[int, str | None]:
        return self._poll(donor, "paid")

    def _poll(self, donor: Donor, expected: str) -> tuple[int, str | None]:
        status, body = self._send("app", "GET", f"/api/donations/{donor.out_trade_no}", donor)
        ok = status == 200 and body.get("status") == expected
        return status, None if ok else f"{expected} poll {status} {body}"

    def _notification(self, donor: Donor) -> tuple[int, str | None]:
        status, body = self._send("sim", "POST", f"/_sim/orders/{donor.out_trade_no}/pay",
                                  donor, {})
        delivered = [d.get("status") for d in body.get("deliveries", [])]
        if status == 200:
            with self._paid_lock:
                self.paid[donor.out_trade_no] = donor.amount_fen
        # The app's own answer to the notification is what counts as this step's status.
        app_status = int(delivered[0] or 599) if delivered else status
        return app_status, None if delivered == [204] else f"notification {status} {body}"

    @staticmethod
    def request_parts(donor: Donor, payload: dict[str, Any] | None,
                      ) -> tuple[dict[str, str], bytes | None]:
        """The headers and body of one of `donor`'s requests."""
        headers = {"X-Forwarded-For": donor.address}
        if donor.token:
            headers["Authorization"] = f"Bearer {donor.token}"
        if payload is None:
            return headers, None
        headers["Content-Type"] = "application/json"
        return headers, json.dumps(payload).encode()

    def _send(self, host: str, method: str, path: str, donor: Donor,
              payload: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        headers, data = self.request_parts(donor, payload)
        for attempt in (1, 2):
            conn = self._connection(host)
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                # A keep-alive connection the server closed meanwhile: once more, afresh.
                conn.close()
                if attempt == 2:
                    raise
        try:
            decoded = json.loads(raw) if raw else {}
        except ValueError:
            decoded = {"raw": raw[:200].decode(errors="replace")}
        return response.status, decoded if isinstance(decoded, dict) else {}

    def _connection(self, host: str) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, host, None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self._ports[host], timeout=60)
            setattr(self._local, host, conn)
        return conn


def _closed_loop(client: Client, donors: list[Donor], clients: int,
                 meters: dict[str, list[int]] | None) -> dict[str, dict[str, float]]:
    """Each step for every donor in turn, `clients` at once; figures per step."""
    results = {}
    with ThreadPoolExecutor(clients) as pool:
        for name in STEPS:
            if name == "pending poll":  # every order old enough for the app to ask
                time.sleep(max(0.0, donors[-1].ordered_at + QUERY_AFTER_SECONDS + 0.2
                               - time.monotonic()))
            outcome = Outcome()

            def run(donor: Donor, name: str = name, outcome: Outcome = outcome) -> None:
                began = time.monotonic()
                status, problem = client.step(name, donor)
                outcome.add(time.monotonic() - began, problem, status)

            before = _cpu(meters) if meters else {}
            began = time.monotonic()
            list(pool.map(run, donors))
            wall = time.monotonic() - began
            used = {k: v / len(donors) for k, v in _cpu_since(meters, before).items()} \
                if meters else {}
            results[name] = {**_latency(outcome, wall), **used}
    return results


def _cpu(meters: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    return {"workers": cpu_seconds(meters["workers"]),
            "stand-in": cpu_seconds(meters["stand-in"]),
            "postgres": cpu_seconds(postgres_pids(DATABASE))}


def _cpu_since(meters: dict[str, list[int]],
               before: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds each side used since `before` (PostgreSQL's processes read afresh: a
    backend that started meanwhile counts from zero)."""
    after = _cpu(meters)
    return {name: cpu_between(before[name], after[name]) for name in after}


def _latency(outcome: Outcome, wall: float) -> dict[str, float]:
    ordered = sorted(outcome.latencies)
    if not ordered:
        return {"rps": 0.0, "p50": 0.0, "p99": 0.0, "wrong": 0.0, "5xx": 0.0}
    for problem in outcome.wrong[:3]:
        print(f"    wrong answer: {problem}", file=sys.stderr)
    return {"rps": len(ordered) / wall, "p50": 1000 * ordered[len(ordered) // 2],
            "p99": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
            "wrong": float(len(outcome.wrong)), "5xx": float(outcome.server_errors),
            "count": float(len(ordered))}


def _open_loop(client: Client, rate: float, seconds: float) -> dict[str, dict[str, float]]:
    """Donors arriving at `rate` a second, each through every step; each request's latency
    counts from when it was due (its donor's arrival, or the answer to its previous step, or
    the moment its order became old enough to ask about), so waiting for a thread counts."""
    outcomes = {name: Outcome() for name in STEPS}
    due: list[tuple[float, int, int, Donor]] = []  # (when, tie-break, step, donor)
    ready = threading.Condition()
    unfinished = [0]
    tie = itertools.count()
    start = time.monotonic() + 0.5
    for k in range(int(rate * seconds)):
        due.append((start + k / rate, next(tie), 0, client.donor()))
        unfinished[0] += 1
    heapq.heapify(due)

    def run(when: float, index: int, donor: Donor) -> None:
        name = STEPS[index]
        status, problem = client.step(name, donor)
        outcomes[name].add(time.monotonic() - when, problem, status)
        with ready:
            if problem is None and index + 1 < len(STEPS):
                later = QUERY_AFTER_SECONDS + 0.2 if STEPS[index + 1] == "pending poll" else 0
                heapq.heappush(due, (time.monotonic() + later, next(tie), index + 1, donor))
            else:
                unfinished[0] -= 1
            ready.notify()

    began = time.monotonic()
    with ThreadPoolExecutor(OPEN_LOOP_THREADS) as pool, ready:
        while unfinished[0]:
            now = time.monotonic()
            while due and due[0][0] <= now:
                when, _, index, donor = heapq.heappop(due)
                pool.submit(run, when, index, donor)
            ready.wait(timeout=max(0.0, due[0][0] - now) if due else 1.0)
    wall = time.monotonic() - began
    return {name: _latency(outcome, wall) for name, outcome in outcomes.items()}


def _check_ledger(url: str, paid: dict[str, int]) -> None:
    """Fail unless every order the stand-in paid is paid here once and the totals equal the
    ledger."""
    from sqlalchemy import text

    from app.services.payments.ledger_check import verify_totals
    from models.database import make_engine, make_session_factory

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        check = verify_totals(session)
        rows = session.execute(text(
            "SELECT d.out_trade_no, d.amount_fen, count(n.id) AS recorded FROM donations d "
            "LEFT JOIN notifications n ON n.out_trade_no = d.out_trade_no "
            "AND n.verdict = 'recorded' WHERE d.status = 'paid' "
            "GROUP BY d.out_trade_no, d.amount_fen")).all()
    engine.dispose()
    here = {r.out_trade_no: r.amount_fen for r in rows}
    twice = [r.out_trade_no for r in rows if r.recorded != 1]
    problems = []
    if here != paid:
        problems.append(f"{len(paid)} orders paid at the stand-in, {len(here)} paid here, "
                        f"{len(paid.keys() ^ here.keys())} differ")
    if twice:
        problems.append(f"{len(twice)} paid donations recorded other than once")
    if check:
        problems.append(f"totals drifted from the ledger: {check}")
    if problems:
        raise SystemExit("; ".join(problems))
    print(f"ledger: {len(here)} paid donations, each recorded once; totals equal the ledger")


def _report(closed: dict[str, dict[str, float]], opened: dict[str, dict[str, float]],
            args: argparse.Namespace) -> None:
    print(f"closed loop, {args.donors} donors, {args.clients} clients; CPU per request (ms)")
    print(f"{'step':<13} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'workers':>8} {'postgres':>8} {'stand-in':>8}")
    for name, r in closed.items():
        print(f"{name:<13} {r['rps']:7.0f} {r['p50']:7.1f} {r['p99']:7.1f} "
              f"{1000 * r['workers']:8.2f} {1000 * r['postgres']:8.2f} "
              f"{1000 * r['stand-in']:8.2f}")
    print(f"open loop, {args.rate:g} donors/s for {args.open_seconds:g} s")
    print(f"{'step':<13} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}")
    for name, r in opened.items():
        print(f"{name:<13} {r['rps']:7.0f} {r['p50']:7.1f} {r['p99']:7.1f}")
    bad = {k: sum(r[k] for run in (closed, opened) for r in run.values())
           for k in ("wrong", "5xx")}
    if bad["wrong"] or bad["5xx"]:
        raise SystemExit(f"{bad['wrong']:.0f} wrong answers, {bad['5xx']:.0f} of them 5xx")
    ours = sum(r["workers"] + r["postgres"] for r in closed.values())
    print(f"one donation: workers + PostgreSQL {1000 * ours:.1f} ms of CPU "
          f"(≈ {2 / ours:.0f} donations/s on 2 cores, before the stand-in's share)")
    print(f"donation_cpu_ms={1000 * ours:.2f}")


if __name__ == "__main__":
    main()
