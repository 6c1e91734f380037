"""Individual donations as admins and organizers see them: filters, pages, rows.

The same filter drives the list, the CSV and the XLSX export, so what a clerk sees on screen
is exactly what the finance office downloads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from app.services.actor import Actor
from app.services.catalog.campaigns import find_campaign
from app.services.errors import InvalidRequestError
from app.services.formatting import rfc3339
from app.services.numbers import whole_number
from app.services.paging import newest_first
from app.services.reports.figures import Period, parse_period
from app.services.units.scope import UnitInfo, campaign_codes, resolve_scope, unit_directory
from models import Donation, DonationStatus

STATUSES = set(DonationStatus)
DEFAULT_LIMIT, MAX_LIMIT = 50, 500

# Columns read for lists and exports; plain tuples are several times faster than ORM objects.
COLUMNS = (Donation.id, Donation.out_trade_no, Donation.transaction_id, Donation.status,
           Donation.campaign_id, Donation.unit_id, Donation.quantity, Donation.amount_fen,
           Donation.anonymous, Donation.message, Donation.openid, Donation.created_at,
           Donation.paid_at, Donation.paid_after_close, Donation.refunded_fen)


@dataclass(frozen=True)
class DonationFilter:
    """Filters as given (strings from a query string or a form); checked by resolve_filter."""

    campaign: str | None = None
    unit: str | None = None
    status: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    openid: str | None = None


@dataclass(frozen=True)
class ResolvedFilter:
    campaign_id: int | None
    unit_ids: list[int] | None
    status: str | None
    period: Period
    openid: str | None


def resolve_filter(session: Session, actor: Actor, wanted: DonationFilter) -> ResolvedFilter:
    """Checks each filter and narrows the units to the caller's scope."""
    if wanted.status and wanted.status not in STATUSES:
        raise InvalidRequestError("状态无效：" + "、".join(sorted(STATUSES)))
    if wanted.openid is not None and len(wanted.openid) > 64:
        raise InvalidRequestError("openid 过长")
    campaign_id = find_campaign(session, wanted.campaign).id if wanted.campaign else None
    scope = resolve_scope(session, actor, wanted.unit)
    return ResolvedFilter(campaign_id, scope.unit_ids, wanted.status or None,
                          parse_period(wanted.date_from, wanted.date_to), wanted.openid or None)


def filtered(query: Select[*tuple[Any, ...]], rf: ResolvedFilter) -> Select[*tuple[Any, ...]]:
    """Applies a resolved filter; dates select on when the donation was made (created_at)."""
    if rf.campaign_id is not None:
        query = query.where(Donation.campaign_id == rf.campaign_id)
    if rf.unit_ids is not None:
        query = query.where(Donation.unit_id.in_(rf.unit_ids))
    if rf.status is not None:
        query = query.where(Donation.status == rf.status)
    if rf.openid is not None:
        query = query.where(Donation.openid == rf.openid)
    if rf.period.start is not None:
        query = query.where(Donation.created_at >= rf.period.start)
    if rf.period.end is not None:
        query = query.where(Donation.created_at < rf.period.end)
    return query


def parse_limit(text: str | None) -> int:
    if not text:
        return DEFAULT_LIMIT
    value = whole_number(text, low=1, high=MAX_LIMIT)
    if value is None:
        raise InvalidRequestError(f"limit 须在 1 到 {MAX_LIMIT} 之间")
    return value


def list_donations(session: Session, actor: Actor, wanted: DonationFilter,
                   cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """Newest first; `next` is the cursor of the following page, or None."""
    rf = resolve_filter(session, actor, wanted)
    page, next_cursor = newest_first(session, filtered(select(*COLUMNS), rf), Donation.id,
                                     cursor, limit)
    units, campaigns = unit_directory(session), campaign_codes(session)
    return {"donations": [admin_donation(r, campaigns, units) for r in page],
            "next": next_cursor}


def admin_donation(row: Row[Any], campaigns: dict[int, str],
                   units: dict[int, UnitInfo]) -> dict[str, Any]:
    unit = units[row.unit_id]
    return {
        "out_trade_no": row.out_trade_no, "transaction_id": row.transaction_id,
        "status": row.status, "amount_fen": row.amount_fen, "quantity": row.quantity,
        "campaign": campaigns[row.campaign_id], "unit": unit.code, "unit_name": unit.name,
        "openid": row.openid, "anonymous": row.anonymous, "message": row.message,
        "paid_after_close": row.paid_after_close,
        "created_at": rfc3339(row.created_at), "paid_at": rfc3339(row.paid_at),
        "refunded_fen": row.refunded_fen,
    }


def iter_rows(session: Session, rf: ResolvedFilter, columns: tuple[Any, ...],
              batch: int = 10_000) -> Iterator[tuple[Any, ...]]:
    """Every matching row as a plain tuple (`columns`, then the id), newest first (as the API
    and the console list them), read in keyset-paged batches so memory stays flat.

    The rows are the driver's own tuples, taken past SQLAlchemy's Row objects, which cost a
    fifth of a million-row export's CPU. So `columns` must be ones that need no result
    processing: the exports' are text, numbers and a boolean (0/1 on SQLite, read the same),
    with times formatted by the database. Parameters are still bound by SQLAlchemy.
    """
    connection, last_id = session.connection(), None
    while True:
        query = filtered(select(*columns, Donation.id), rf)
        if last_id is not None:
            query = query.where(Donation.id < last_id)
        result = connection.execute(query.order_by(Donation.id.desc()).limit(batch))
        rows = result.cursor.fetchall()
        result.close()
        yield from rows
        if len(rows) < batch:
            return
        last_id = rows[-1][-1]


def mask_donor(openid: str, anonymous: bool) -> str:
    """What the dashboard shows of a donor: never an anonymous donor's id."""
    if anonymous:
        return "匿名"
    return f"微信用户…{openid[-4:]}" if len(openid) > 4 else "微信用户"


def latest_paid(session: Session, campaign_id: int, unit_ids: list[int] | None,
                limit: int = 10) -> list[dict[str, Any]]:
    """The most recent paid donations in scope, donors masked, messages shown."""
    query = (select(Donation.amount_fen, Donation.quantity, Donation.anonymous, Donation.openid,
                    Donation.message, Donation.paid_at, Donation.unit_id)
             .where(Donation.campaign_id == campaign_id, Donation.status == DonationStatus.PAID,
                    Donation.paid_at.is_not(None))
             .order_by(Donation.paid_at.desc(), Donation.id.desc()).limit(limit))
    if unit_ids is not None:
        query = query.where(Donation.unit_id.in_(unit_ids))
    units = unit_directory(session)
    return [{"donor": mask_donor(r.openid, r.anonymous), "amount_fen": r.amount_fen,
             "quantity": r.quantity, "message": r.message, "unit_name": units[r.unit_id].name,
             "paid_at": rfc3339(r.paid_at), "paid_local": _local_time(r.paid_at)}
            for r in session.execute(query)]


def _local_time(moment: datetime) -> str:
    text = rfc3339(moment) or ""
    return text[5:16].replace("T", " ")
