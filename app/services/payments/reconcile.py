"""Ask WeChat Pay about every pending order and every refund in flight; record payments and
refunds, close what has expired.

Safe on several hosts at once: each run claims a batch by stamping checked_at (with
FOR UPDATE SKIP LOCKED on PostgreSQL), and every state change is a guarded update anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Row, select, update
from sqlalchemy.orm import Session

from app.services.deps import Deps
from app.services.paging import batches
from app.services.payments.payments import COUNTED, NOT_SUCCESS, record_payment
from app.services.payments.refunds import RefundCheckReport, check_refunds_in_flight
from models import DonationStatus
from models.database import write_transaction
from models.tables import donations_table
from wechat.errors import WeChatError, WeChatPayError

_LEDGER = donations_table.c
CLAIM_SECONDS = 60
# An order WeChat never saw (its creation failed) is closed once it is this old.
UNSEEN_GRACE = timedelta(minutes=5)


@dataclass
class ReconcileReport:
    checked: int = 0
    paid: int = 0
    closed: int = 0
    still_pending: int = 0
    failed: list[str] = field(default_factory=list)
    refunds: RefundCheckReport = field(default_factory=RefundCheckReport)


def reconcile(session: Session, deps: Deps, batch_size: int = 200) -> ReconcileReport:
    report = ReconcileReport()
    for batch in batches(lambda after: _claim_batch(session, deps.clock(), batch_size, after)):
        for row in batch:
            report.checked += 1
            _settle(session, deps, row, report)
    report.refunds = check_refunds_in_flight(session, deps, batch_size)
    report.failed.extend(report.refunds.failed)
    return report


def _claim_batch(session: Session, now: datetime, size: int, after_id: int) -> list[Any]:
    stale = now - timedelta(seconds=CLAIM_SECONDS)
    with write_transaction(session):
        query = (select(_LEDGER.id, _LEDGER.out_trade_no, _LEDGER.expires_at,
                        _LEDGER.created_at, _LEDGER.prepay_id)
                 .where(_LEDGER.status == DonationStatus.PENDING, _LEDGER.id > after_id,
                        (_LEDGER.checked_at.is_(None)) | (_LEDGER.checked_at < stale))
                 .order_by(_LEDGER.id).limit(size).with_for_update(skip_locked=True))
        rows = list(session.execute(query))
        if rows:
            session.execute(update(donations_table)
                            .where(_LEDGER.id.in_([r.id for r in rows])).values(checked_at=now))
    return rows


def _settle(session: Session, deps: Deps, row: Row[Any], report: ReconcileReport) -> None:
    now = deps.clock()
    try:
        tx = deps.pay.query_order(row.out_trade_no)
    except WeChatPayError as exc:
        if exc.code != "ORDER_NOT_EXIST":
            # Refused (a wrong key, serial or merchant): nothing was checked, and saying
            # "still pending" would hide it from the operator. The command fails.
            report.failed.append(f"{row.out_trade_no}: {exc.code}")
        elif now - row.created_at > UNSEEN_GRACE:
            # Unless, since we asked, a retried tap placed it after all: then it has a prepay_id
            # and, until it expires, can be paid; a payment must find it pending.
            if not _close_locally(session, row.out_trade_no, now, report, unless_payable=True):
                report.still_pending += 1
        else:
            report.still_pending += 1
        return
    except WeChatError as exc:
        report.failed.append(f"{row.out_trade_no}: {exc}")
        return
    verdict = record_payment(session, tx, now)
    if verdict != NOT_SUCCESS:
        report.paid += int(verdict in COUNTED)
    elif tx.trade_state in ("CLOSED", "REVOKED", "PAYERROR"):
        _close_locally(session, row.out_trade_no, now, report)
    elif row.expires_at <= now:
        _close_at_wechat(session, deps, row.out_trade_no, report)
    else:
        report.still_pending += 1


def _close_at_wechat(session: Session, deps: Deps, out_trade_no: str,
                     report: ReconcileReport) -> None:
    try:
        deps.pay.close_order(out_trade_no)
    except WeChatPayError as exc:
        if exc.code == "ORDERPAID":
            # Paid between our query and the close: the payment wins.
            _record_after_close_refused(session, deps, out_trade_no, report)
        else:
            report.failed.append(f"{out_trade_no}: {exc.code}")
        return
    except WeChatError as exc:
        report.failed.append(f"{out_trade_no}: {exc}")
        return
    _close_locally(session, out_trade_no, deps.clock(), report)


def _record_after_close_refused(session: Session, deps: Deps, out_trade_no: str,
                                report: ReconcileReport) -> None:
    try:
        tx = deps.pay.query_order(out_trade_no)
    except WeChatError as exc:
        report.failed.append(f"{out_trade_no}: {exc}")
        return
    report.paid += int(record_payment(session, tx, deps.clock()) in COUNTED)


def _close_locally(session: Session, out_trade_no: str, now: datetime,
                   report: ReconcileReport, unless_payable: bool = False) -> int:
    unpaid = [_LEDGER.out_trade_no == out_trade_no,
              _LEDGER.status == DonationStatus.PENDING]
    if unless_payable:
        unpaid.append(_LEDGER.prepay_id.is_(None) | (_LEDGER.expires_at <= now))
    with write_transaction(session):
        result = session.execute(
            update(donations_table).where(*unpaid)
            .values(status=DonationStatus.CLOSED, closed_at=now))
        closed = cast(CursorResult[Any], result).rowcount
    report.closed += closed
    return closed
