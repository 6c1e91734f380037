"""Export benchmark: CSV of 10,000 and 1,000,000 donations, XLSX of 10,000 and 200,000.

Each export runs in a fresh process that reports its rows per second and its peak RSS, so the
memory growth between the small and the large run is the cost of the rows alone. Targets: CSV at
≥ 50,000 rows/s; peak RSS growing by < 100 MB from the small run to the large one (CSV and XLSX).

    .venv/bin/python bench/export.py [--database-dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CSV_SIZES, XLSX_SIZES = (10_000, 1_000_000), (10_000, 200_000)
RSS_LIMIT_MB, CSV_RATE = 100, 50_000
BATCH = 50_000


def demo_schema(url: str, now: datetime) -> tuple[Engine, list[int]]:
    """The database at `url` migrated, with the default campaigns and the demo unit tree: its
    engine and the units' ids."""
    from sqlalchemy import select

    from app.services.catalog.campaigns import ensure_default_campaigns
    from app.services.units.unit_import import import_units, read_rows
    from models import Unit
    from models.database import make_engine, make_session_factory
    from models.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    demo = ROOT / "app" / "demo" / "units.csv"
    with make_session_factory(engine)() as session:
        ensure_default_campaigns(session, now)
        import_units(session, read_rows(demo.name, demo.read_bytes()), now)
        return engine, list(session.scalars(select(Unit.id)))


def build_database(path: Path, rows: int) -> str:
    """A SQLite ledger of `rows` paid donations spread over the demo units."""
    from sqlalchemy import insert

    from models import Donation

    url = f"sqlite:///{path}"
    now = datetime(2026, 3, 1, tzinfo=UTC)
    engine, units = demo_schema(url, now)
    with engine.begin() as conn:
        for start in range(0, rows, BATCH):
            conn.execute(insert(Donation), [_donation(i, units, now)
                                            for i in range(start, min(rows, start + BATCH))])
    engine.dispose()
    return url


def _donation(i: int, units: list[int], now: datetime) -> dict[str, object]:
    at = now + timedelta(seconds=i)
    return {"out_trade_no": f"WF{i:024d}", "campaign_id": 1 + i % 2,
            "unit_id": units[i % len(units)], "openid": f"o-bench-{i % 50_000:08d}",
            "quantity": 1 + i % 5, "amount_fen": 100 * (1 + i % 5), "anonymous": i % 7 == 0,
            "message": "加油" if i % 3 == 0 else "", "status": "paid",
            "transaction_id": f"42000{i:023d}", "created_at": at,
            "expires_at": at + timedelta(minutes=30), "paid_at": at + timedelta(seconds=5)}


def child(kind: str, url: str) -> None:
    """Runs one export to nowhere and prints {"rows", "seconds", "peak_rss_mb"} as JSON."""
    from app.services.actor import SYSTEM
    from app.services.deps import utc_now
    from app.services.reports import exports
    from app.services.reports.donation_list import DonationFilter
    from models.database import make_engine, make_session_factory

    sessions = make_session_factory(make_engine(url))
    produce = exports.csv_chunks if kind == "csv" else exports.xlsx_chunks
    started = time.perf_counter()
    size = 0
    with sessions() as session:
        for chunk in produce(session, SYSTEM, DonationFilter(), utc_now()):
            size += len(chunk)
    seconds = time.perf_counter() - started
    peak = _peak_rss_mb()
    print(json.dumps({"bytes": size, "seconds": seconds, "peak_rss_mb": peak}))


def _peak_rss_mb() -> float:
    """This process's own high-water RSS. (ru_maxrss would include the parent's, inherited
    through fork, and the parent builds the large test databases.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(kind: str, url: str, rows: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, url], check=True,
                         capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result["rows"], result["rows_per_s"] = rows, rows / result["seconds"]
    print(f"{kind:4} {rows:>9,} rows: {result['seconds']:6.2f} s, "
          f"{result['rows_per_s']:>9,.0f} rows/s, peak RSS {result['peak_rss_mb']:6.1f} MB, "
          f"{result['bytes'] / 1e6:7.1f} MB written", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-dir", type=Path, default=None)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "URL"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    folder = args.database_dir or Path(tempfile.mkdtemp(prefix="warmfund-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    ok = True
    for kind, sizes in (("csv", CSV_SIZES), ("xlsx", XLSX_SIZES)):
        results = []
        for rows in sizes:
            path = folder / f"ledger-{rows}.db"
            url = f"sqlite:///{path}" if path.exists() else build_database(path, rows)
            results.append(run(kind, url, rows))
        growth = results[1]["peak_rss_mb"] - results[0]["peak_rss_mb"]
        ok &= growth < RSS_LIMIT_MB
        print(f"{kind}: peak RSS growth {growth:.1f} MB (limit {RSS_LIMIT_MB} MB)")
        if kind == "csv":
            slowest = min(r["rows_per_s"] for r in results)
            ok &= slowest >= CSV_RATE
            print(f"csv: slowest {slowest:,.0f} rows/s (target {CSV_RATE:,})")
    print(f"databases in {folder}")
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
