"""The CPU one of a donor's statements costs this process, through SQLAlchemy and straight to the
driver (models.direct), on PostgreSQL.

What models/direct.py is for: on the statements every donor runs, SQLAlchemy's execution
machinery cost more CPU than psycopg itself. This runs two of them on one connection in
autocommit, as the app does — the rate limit's count (a write) and a poll's read of a donation
with its campaign and unit codes — each way in alternating rounds (a shared machine changes
speed from one minute to the next; the best round of each is kept), and ends with
direct_vs_sqlalchemy_ratio=<CPU straight / CPU through SQLAlchemy>.

    .venv/bin/python bench/statements.py [--runs 3000]
    (TEST_DATABASE_URL or BENCH_DATABASE_URL names the PostgreSQL server)
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common  # noqa: E402

ROUNDS = 6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3000, help="statements per round")
    args = parser.parse_args()
    url = common.fresh_database(common.database_server(), "warmfund_statements")
    engine, out_trade_no = _ledger_of_one(url)
    from app.ratelimit import _COUNT
    from app.services.payments.donations import _OWN_ROW

    cases = {"rate-limit count": (_COUNT, lambda n: {"name": f"bench:{n}", "expires": 0}),
             "poll's read": (_OWN_ROW, lambda n: {"out_trade_no": out_trade_no})}
    ratios = []
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for label, (statement, params) in cases.items():
            ways = {"sqlalchemy": lambda n, s=statement, p=params: conn.execute(
                        s._statement, p(n)).all(),
                    "direct": lambda n, s=statement, p=params: s.rows(conn, p(n))}
            best = {way: float("inf") for way in ways}
            for round_ in range(ROUNDS):
                way = ("sqlalchemy", "direct")[round_ % 2]
                best[way] = min(best[way], _cpu_per_run(ways[way], args.runs))
            ratios.append(best["direct"] / best["sqlalchemy"])
            print(f"{label:18} through SQLAlchemy {best['sqlalchemy'] * 1e6:6.1f} µs   "
                  f"straight {best['direct'] * 1e6:6.1f} µs   ratio {ratios[-1]:.2f}")
    engine.dispose()
    print(f"direct_vs_sqlalchemy_ratio={sum(ratios) / len(ratios):.2f}")


def _cpu_per_run(run: Any, runs: int) -> float:
    run(-1)  # the first of each way prepares its statement on the connection
    started = time.process_time()
    for n in range(runs):
        run(n)
    return (time.process_time() - started) / runs


def _ledger_of_one(url: str) -> tuple[Any, str]:
    """The schema and one pending donation of the demo campaign and a unit."""
    from app.services.catalog.campaigns import ensure_default_campaigns
    from app.services.deps import utc_now
    from models import Campaign, Donation, DonationStatus, Unit
    from models.database import make_engine, make_session_factory
    from models.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        now = utc_now()
        ensure_default_campaigns(session, now)
        unit = Unit(code="BENCH", name="测试单位", kind="enterprise", created_at=now,
                    updated_at=now)
        session.add(unit)
        session.flush()
        campaign = session.query(Campaign).first()
        assert campaign is not None
        session.add(Donation(
            out_trade_no="WFBENCH0000000000000000000001", campaign_id=campaign.id,
            unit_id=unit.id, openid="o-bench", quantity=1, amount_fen=campaign.amount_fen,
            status=DonationStatus.PENDING, created_at=now,
            expires_at=now + timedelta(minutes=30)))
        session.commit()
    return engine, "WFBENCH0000000000000000000001"


if __name__ == "__main__":
    main()
