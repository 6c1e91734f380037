"""Reading a campaign's total with 1,000 and with 1,000,000 donations in the ledger.

The total is a kept counter, so the ratio should stay near 1. The two ledgers live in two
databases, and their reads are timed in alternating rounds (1k, 1M, 1M, 1k, 1k, 1M, ...; the
best of each size is kept): a machine shared with other work changes speed from one minute to the
next, and timing one ledger long after the other would measure that instead. Prints both
timings and ends with totals_read_ratio=<t(1M)/t(1k)>.
    .venv/bin/python bench/totals_read.py [--database URL]
(default: PostgreSQL from BENCH_DATABASE_URL/TEST_DATABASE_URL, else the local one)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import make_url, text  # noqa: E402

from bench.common import fresh_database  # noqa: E402

READS = 1500
ROUNDS = 6
SIZES = (1_000, 1_000_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--database", default=default)
    base_url = parser.parse_args().database
    from app.services.catalog.campaigns import get_campaign

    ledgers = {size: _ledger(base_url, size) for size in SIZES}
    timings = dict.fromkeys(SIZES, float("inf"))
    for round_number in range(ROUNDS):
        for size in SIZES if round_number % 2 == 0 else SIZES[::-1]:
            with _session(ledgers[size]) as session:
                timings[size] = min(timings[size], _time_reads(session, get_campaign))
    for size in SIZES:
        with _session(ledgers[size]) as session:
            figures = get_campaign(session, "one-yuan")
        print(f"{size:>9,} donations: {timings[size] * 1e6:8.1f} µs per read "
              f"(total {figures['total_fen'] / 100:,.2f} 元, "
              f"{figures['donation_count']:,} donations)")
        ledgers[size].dispose()
    print(f"totals_read_ratio={timings[SIZES[1]] / timings[SIZES[0]]:.3f}")


def _session(engine: Any) -> Any:
    from models.database import make_session_factory

    return make_session_factory(engine)()


def _ledger(base_url: str, size: int) -> Any:
    """An engine on a database of its own holding `size` paid donations and their totals,
    spread over every shard as live payments leave them."""
    from app.services.catalog.campaigns import ensure_default_campaigns
    from app.services.deps import utc_now
    from app.services.payments.ledger_check import rebuild_totals
    from app.services.units.units import UnitInput, create_unit
    from models import TOTAL_SHARDS
    from models.database import make_engine, write_transaction
    from models.migrate import upgrade

    engine = make_engine(_fresh_database(base_url, f"warmfund_bench_totals_{size}"))
    upgrade(engine)
    with _session(engine) as session:
        ensure_default_campaigns(session, utc_now())
        create_unit(session, UnitInput("DX", "大兴区总工会", None, "district"), utc_now())
        _fill_ledger(session, size)
        with write_transaction(session):
            rebuild_totals(session)
            # A rebuild leaves each total in one row; live payments spread it over every
            # shard, and a read then sums them all: read what the live system reads.
            session.execute(text(
                "INSERT INTO totals (campaign_id, scope, unit_id, shard, total_fen, "
                "donation_count, donor_count) SELECT campaign_id, scope, unit_id, s.n, 0, 0, "
                "0 FROM totals CROSS JOIN (SELECT :n AS n) AS s WHERE shard = 0"),
                [{"n": n} for n in range(1, TOTAL_SHARDS)])
        if engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
            session.commit()
    return engine


def _fresh_database(base_url: str, name: str) -> str:
    url = make_url(base_url)
    if url.get_backend_name() == "postgresql":
        return fresh_database(base_url, name)
    # SQLite: a file of its own beside the one named, started afresh.
    path = Path(url.database or "bench.db").with_name(f"{name}.db")
    path.unlink(missing_ok=True)
    return url.set(database=str(path)).render_as_string(hide_password=False)


def _fill_ledger(session: object, size: int) -> None:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    have = session.execute(text("SELECT count(*) FROM donations")).scalar() or 0
    ids = session.execute(text("SELECT (SELECT id FROM campaigns WHERE code='one-yuan'), "
                               "(SELECT id FROM units WHERE code='DX')")).one()
    step = 50_000
    for start in range(have, size, step):
        rows = [{"otn": f"WFREAD{i:012d}", "c": ids[0], "u": ids[1], "o": f"o-{i % 50_000}"}
                for i in range(start, min(size, start + step))]
        session.execute(text(
            "INSERT INTO donations (out_trade_no, campaign_id, unit_id, openid, quantity, "
            "amount_fen, anonymous, message, status, paid_after_close, created_at, expires_at, "
            "paid_at, transaction_id) VALUES (:otn, :c, :u, :o, 1, 100, false, '', 'paid', "
            "false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :otn)"), rows)
        session.commit()


def _time_reads(session: Any, get_campaign: Any) -> float:
    """Seconds per read, after a warm-up."""
    for _ in range(200):
        get_campaign(session, "one-yuan")
    start = time.perf_counter()
    for _ in range(READS):
        get_campaign(session, "one-yuan")
    return (time.perf_counter() - start) / READS


if __name__ == "__main__":
    main()
