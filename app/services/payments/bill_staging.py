"""What the payment and refund halves of the bill check share: the day's bounds, reading the
staged bill (or the ledger) a page at a time, and writing a finding."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import KeyedColumnElement

from app.services.paging import batches
from models import BillFinding, BillLine
from models.database import write_transaction
from models.tables import donations_table
from wechat.timeutil import CHINA_TZ

# Findings. A recovered payment or refund was put right by the check itself (recorded, or
# named by the bill); every other finding is left open for a person.
RECOVERED, UNKNOWN_ORDER, MISSING_AT_WECHAT, AMOUNT_MISMATCH = (
    "recovered", "unknown_order", "missing_at_wechat", "amount_mismatch")
REFUND_RECOVERED, REFUND_UNKNOWN, REFUND_MISSING = (
    "refund_recovered", "refund_unknown", "refund_missing_at_wechat")
EXPLAINED = frozenset({RECOVERED, REFUND_RECOVERED})
BATCH = 1000
LEDGER = donations_table.c
LINES = BillLine.__table__.c


def china_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The bill's day, Asia/Shanghai midnight to midnight: [start, end)."""
    start = datetime.combine(day, time(), CHINA_TZ)
    return start, start + timedelta(days=1)


def pages(session: Session, query: Select[Any], key: KeyedColumnElement[Any] = LINES.line,
          ) -> Iterator[Any]:
    """The rows of a query, a page at a time in the order of `key` (a column it selects)."""
    def fetch(after: int) -> list[Any]:
        page = list(session.execute(query.where(key > after).order_by(key).limit(BATCH)))
        session.commit()  # no read transaction held while the page is worked on
        return page

    for page in batches(fetch, lambda row: int(getattr(row, str(key.key)))):
        yield from page


def finding(session: Session, check_id: int, kind: str, out_trade_no: str, detail: str,
            out_refund_no: str | None = None) -> int:
    """Store one finding of the check; 1, to count it."""
    with write_transaction(session):
        session.add(BillFinding(check_id=check_id, kind=kind, out_trade_no=out_trade_no,
                                out_refund_no=out_refund_no or None, detail=detail[:300]))
    return 1
