"""Figures of a campaign and its units: from the running totals, or from the ledger for a period.

All-time figures always come from `totals` (kept exactly by the payment path). A date range
("this year's one-yuan drive") has no running total, so it is counted from paid ledger rows
by `paid_at`, with the indexes on (campaign_id, paid_at) and the closure table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from app.services.errors import InvalidRequestError
from app.services.formatting import SHANGHAI
from app.services.payments.totals import ZERO, Figures, read_figures
from models import Donation, DonationStatus, Scope, UnitClosure

# A donation counts while paid, and while a refund of a paid one is in flight, for what partial
# refunds left of it (as the running totals count it).
COUNTED = or_(Donation.status == DonationStatus.PAID,
              and_(Donation.status == DonationStatus.REFUNDING,
                   Donation.refund_from_status == DonationStatus.PAID))
NET_FEN = Donation.amount_fen - Donation.refunded_fen


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC; either end may be open. Built from Asia/Shanghai dates."""

    start: datetime | None = None
    end: datetime | None = None

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None

    def as_dates(self) -> dict[str, str | None]:
        return {"from": _local_date(self.start), "to": _local_date(self.end)}


ALL_TIME = Period()


def day_start(day: date) -> datetime:
    """Midnight of an Asia/Shanghai date, as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def _local_date(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(SHANGHAI).date().isoformat()


# strftime (SQLite) and to_char (PostgreSQL) patterns of the same local-time text.
_LOCAL_FORMATS = {"hour": ("%Y-%m-%d %H", "YYYY-MM-DD HH24"),
                  "second": ("%Y-%m-%d %H:%M:%S", "YYYY-MM-DD HH24:MI:SS")}


def shanghai_text(column: InstrumentedAttribute[datetime | None], dialect: str,
                  precision: str = "second") -> ColumnElement[str]:
    """A UTC column as Asia/Shanghai wall-clock text, computed by the database (fast, and
    the same on SQLite and PostgreSQL); NULL stays NULL."""
    sqlite_format, pg_format = _LOCAL_FORMATS[precision]
    if dialect == "postgresql":
        local = func.timezone("Asia/Shanghai", func.timezone("UTC", column))
        return func.to_char(local, pg_format)
    if precision == "second":
        # datetime() writes exactly this format, a third faster than strftime() (exports
        # format two times on each of a million rows).
        return func.datetime(column, "+8 hours")
    return func.strftime(sqlite_format, column, "+8 hours")


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        if not _DAY.fullmatch(text):  # fromisoformat also takes 20250301 and 2025-W09-6
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidRequestError(f"参数 {name} 须为日期，如 2025-03-01") from exc
    if not 2000 <= day.year <= 2200:
        raise InvalidRequestError(f"参数 {name} 超出可查询的年份范围")
    return day


def parse_period(date_from: str | None, date_to: str | None) -> Period:
    """`from` inclusive, `to` exclusive, both Asia/Shanghai dates (YYYY-MM-DD)."""
    first, last = parse_date(date_from, "from"), parse_date(date_to, "to")
    if first and last and last <= first:
        raise InvalidRequestError("结束日期须晚于开始日期（to 不含当天）")
    return Period(day_start(first) if first else None, day_start(last) if last else None)


def today(now: datetime) -> Period:
    local = now.astimezone(SHANGHAI).date()
    return Period(day_start(local), day_start(local + timedelta(days=1)))


def this_year(now: datetime) -> Period:
    year = now.astimezone(SHANGHAI).year
    return Period(day_start(date(year, 1, 1)), day_start(date(year + 1, 1, 1)))


def in_period(query: Select[*tuple[Any, ...]], period: Period) -> Select[*tuple[Any, ...]]:
    if period.start is not None:
        query = query.where(Donation.paid_at >= period.start)
    if period.end is not None:
        query = query.where(Donation.paid_at < period.end)
    return query


def _aggregates() -> tuple[Any, Any, Any]:
    return (func.coalesce(func.sum(NET_FEN), 0), func.count(Donation.id),
            func.count(func.distinct(Donation.openid)))


def scope_figures(session: Session, campaign_id: int, root_id: int | None,
                  period: Period = ALL_TIME) -> Figures:
    """The whole campaign (root_id None) or one unit's subtree, all time or in a period."""
    if not period.bounded:
        scope, key = (Scope.CAMPAIGN, 0) if root_id is None else (Scope.SUBTREE, root_id)
        units = None if root_id is None else [root_id]
        return read_figures(session, scope, [campaign_id], units).get((campaign_id, key), ZERO)
    query = select(*_aggregates()).where(Donation.campaign_id == campaign_id,
                                         COUNTED)
    if root_id is not None:
        query = query.join(UnitClosure, UnitClosure.descendant_id == Donation.unit_id).where(
            UnitClosure.ancestor_id == root_id)
    row = session.execute(in_period(query, period)).one()
    return Figures(int(row[0]), int(row[1]), int(row[2]))


@dataclass(frozen=True)
class UnitFigures:
    """Per unit id: `own` (donations made at the unit itself) and `subtree` figures."""

    own: dict[int, Figures]
    subtree: dict[int, Figures]

    def own_of(self, unit_id: int) -> Figures:
        return self.own.get(unit_id, ZERO)

    def subtree_of(self, unit_id: int) -> Figures:
        return self.subtree.get(unit_id, ZERO)


def unit_figures(session: Session, campaign_id: int, unit_ids: list[int] | None,
                 period: Period = ALL_TIME) -> UnitFigures:
    """Own and subtree figures of the given units (None: every unit)."""
    if not period.bounded:
        own = read_figures(session, Scope.UNIT, [campaign_id], unit_ids)
        sub = read_figures(session, Scope.SUBTREE, [campaign_id], unit_ids)
        return UnitFigures({u: f for (_, u), f in own.items()},
                           {u: f for (_, u), f in sub.items()})
    return UnitFigures(_ledger_own(session, campaign_id, unit_ids, period),
                       _ledger_subtree(session, campaign_id, unit_ids, period))


def _ledger_own(session: Session, campaign_id: int, unit_ids: list[int] | None,
                period: Period) -> dict[int, Figures]:
    query = (select(Donation.unit_id, *_aggregates())
             .where(Donation.campaign_id == campaign_id, COUNTED)
             .group_by(Donation.unit_id))
    if unit_ids is not None:
        query = query.where(Donation.unit_id.in_(unit_ids))
    rows = session.execute(in_period(query, period))
    return {int(r[0]): Figures(int(r[1]), int(r[2]), int(r[3])) for r in rows}


def _ledger_subtree(session: Session, campaign_id: int, unit_ids: list[int] | None,
                    period: Period) -> dict[int, Figures]:
    query = (select(UnitClosure.ancestor_id, *_aggregates())
             .join(Donation, Donation.unit_id == UnitClosure.descendant_id)
             .where(Donation.campaign_id == campaign_id, COUNTED)
             .group_by(UnitClosure.ancestor_id))
    if unit_ids is not None:
        query = query.where(UnitClosure.ancestor_id.in_(unit_ids))
    rows = session.execute(in_period(query, period))
    return {int(r[0]): Figures(int(r[1]), int(r[2]), int(r[3])) for r in rows}
