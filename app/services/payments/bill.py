"""Checking WeChat Pay's daily trade bill against the ledger (`warmfund bill check`).

The bill is streamed to a temporary file, read row by row into bill_lines (so a day of any size
is compared by joins, in bounded memory), and only once its SHA-1 and its own summary check out
is anything compared or recorded. A payment the bill lists that is pending or closed here is
recorded by record_payment(), the path a notification takes, so it is counted once however
many runs see it, and two runs at once are as safe as two copies of a notification. Refunds
are compared in bill_refunds.py, after the payments (so a refund finds its payment recorded).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from app.services.accounts.audit import record_action
from app.services.actor import Actor
from app.services.deps import Deps
from app.services.formatting import yuan
from app.services.payments.bill_refunds import compare_refunds, refund_figures
from app.services.payments.bill_staging import (
    AMOUNT_MISMATCH,
    BATCH,
    LEDGER,
    LINES,
    MISSING_AT_WECHAT,
    RECOVERED,
    UNKNOWN_ORDER,
    china_day_bounds,
    finding,
    pages,
)
from app.services.payments.payments import PAID_AFTER_CLOSE, RECORDED, record_payment
from models import BillCheck, BillCheckStatus, BillLine, DonationStatus
from models.database import write_transaction
from models.tables import donations_table
from wechat import Transaction
from wechat.bill import BillError, BillReader, BillRow, BillSummary, open_bill
from wechat.errors import WeChatError, WeChatPayError

NOT_READY = frozenset({"NO_STATEMENT_EXIST", "STATEMENT_CREATING"})
# Money that arrived, per the ledger.
COUNTED_HERE = (DonationStatus.PAID, DonationStatus.REFUNDING, DonationStatus.REFUNDED,
                DonationStatus.DISPUTED)


def check_bill(session: Session, deps: Deps, actor: Actor, bill_date: date) -> int:
    """Run one check of the day's bill (admins only); returns its id (read it with get_check)."""
    actor.require_admin()
    check_id = _start(session, actor, bill_date, deps.clock())
    try:
        _run(session, deps, check_id, bill_date)
    except BaseException:
        session.rollback()
        _unstage(session, check_id)
        _finish(session, check_id, deps.clock(), BillCheckStatus.FAILED, problem="对账中断")
        raise
    return check_id


def _run(session: Session, deps: Deps, check_id: int, bill_date: date) -> None:
    try:
        found = deps.pay.trade_bill(bill_date)
    except WeChatPayError as exc:
        status = BillCheckStatus.NO_BILL if exc.code in NOT_READY else BillCheckStatus.FAILED
        _finish(session, check_id, deps.clock(), status, problem=f"{exc.code}: {exc.message}")
        return
    except WeChatError as exc:
        _finish(session, check_id, deps.clock(), BillCheckStatus.FAILED, problem=str(exc))
        return
    with tempfile.TemporaryFile() as raw:
        try:
            deps.pay.download_bill(found.download_url, raw)
        except WeChatError as exc:
            _finish(session, check_id, deps.clock(), BillCheckStatus.FAILED, problem=str(exc))
            return
        raw.seek(0)
        summary = _stage_verified(session, check_id, raw, found.hash_value, found.hash_type)
    if isinstance(summary, str):
        _finish(session, check_id, deps.clock(), BillCheckStatus.REFUSED, problem=summary)
        return
    findings = _compare(session, deps, check_id, bill_date)
    _finish(session, check_id, deps.clock(), BillCheckStatus.DONE, summary=summary,
            ledger=_ledger_figures(session, bill_date), findings=findings)


def _start(session: Session, actor: Actor, bill_date: date, now: datetime) -> int:
    with write_transaction(session):
        check = BillCheck(bill_date=bill_date, started_by=actor.username[:64], started_at=now,
                          status=BillCheckStatus.RUNNING, problem="", findings_count=0)
        session.add(check)
        session.flush()
        record_action(session, actor, "bill.check", bill_date.isoformat(), {"check": check.id},
                      now)
        return check.id


def _stage_verified(session: Session, check_id: int, raw: Any, hash_value: str,
                    hash_type: str) -> BillSummary | str:
    """Stage every row; the bill's summary, or why it was refused (its rows unstaged)."""
    try:
        reader = BillReader(open_bill(raw), hash_value, hash_type)
        _stage(session, check_id, reader.rows())
    except (BillError, OSError, EOFError) as exc:  # a gzip that does not inflate is OSError
        _unstage(session, check_id)
        return str(exc)[:300]
    assert reader.summary is not None
    return reader.summary


def _line(check_id: int, number: int, row: BillRow) -> dict[str, Any]:
    kind = "payment" if row.is_payment else "refund" if row.is_refund else "other"
    return {"check_id": check_id, "line": number, "kind": kind,
            "out_trade_no": row.out_trade_no[:64], "transaction_id": row.transaction_id[:64],
            "openid": row.openid[:128],
            "amount_fen": row.refund_fen if row.is_refund else row.order_fen,
            "out_refund_no": row.out_refund_no[:64], "refund_id": row.refund_id[:64],
            "refund_status": row.refund_status[:16], "trade_time": row.trade_time}


def _stage(session: Session, check_id: int, rows: Iterable[BillRow]) -> None:
    batch: list[dict[str, Any]] = []
    for number, row in enumerate(rows, 1):
        batch.append(_line(check_id, number, row))
        if len(batch) == BATCH:
            _insert_lines(session, batch)
            batch = []
    if batch:
        _insert_lines(session, batch)


def _insert_lines(session: Session, batch: list[dict[str, Any]]) -> None:
    with write_transaction(session):
        session.execute(insert(BillLine), batch)


def _unstage(session: Session, check_id: int) -> None:
    # A batch at a time: SQLite keeps a transaction's changed pages in the process's memory,
    # so one DELETE of a whole day's lines would grow with the bill.
    upto = 0
    while True:
        upto += BATCH * 10
        with write_transaction(session):
            session.execute(delete(BillLine).where(LINES.check_id == check_id,
                                                   LINES.line <= upto))
            if session.scalar(select(LINES.line).where(LINES.check_id == check_id)
                              .limit(1)) is None:
                return


def _payment_lines(check_id: int, *columns: Any) -> Select[Any]:
    return (select(LINES.line, LINES.out_trade_no, LINES.amount_fen, *columns)
            .where(LINES.check_id == check_id, LINES.kind == "payment"))


def _compare(session: Session, deps: Deps, check_id: int, bill_date: date) -> int:
    findings = _recover(session, deps, check_id)
    findings += _unknown_orders(session, check_id)
    findings += _amount_mismatches(session, check_id)
    findings += _missing_at_wechat(session, check_id, bill_date)
    findings += compare_refunds(session, check_id, bill_date, deps.clock())
    _unstage(session, check_id)
    return findings


def _recover(session: Session, deps: Deps, check_id: int) -> int:
    joined = _payment_lines(check_id, LINES.transaction_id, LINES.openid, LINES.trade_time)
    unpaid = joined.join(donations_table, LEDGER.out_trade_no == LINES.out_trade_no).where(
        LEDGER.status.in_((DonationStatus.PENDING, DonationStatus.CLOSED)))
    found = 0
    for line in pages(session, unpaid):
        tx = Transaction(appid="", mchid="", out_trade_no=line.out_trade_no,
                         transaction_id=line.transaction_id, trade_state="SUCCESS",
                         amount_total=line.amount_fen, payer_openid=line.openid or None,
                         success_time=line.trade_time, attach="")
        if record_payment(session, tx, deps.clock()) in (RECORDED, PAID_AFTER_CLOSE):
            found += finding(session, check_id, RECOVERED, line.out_trade_no,
                             f"账单有此支付而本地未记：已补记 {yuan(line.amount_fen)} 元，"
                             f"微信订单号 {line.transaction_id}")
    return found


def _unknown_orders(session: Session, check_id: int) -> int:
    ours = exists().where(LEDGER.out_trade_no == LINES.out_trade_no)
    found = 0
    for line in pages(session, _payment_lines(check_id, LINES.transaction_id).where(~ours)):
        found += finding(session, check_id, UNKNOWN_ORDER, line.out_trade_no,
                         f"微信支付收了 {yuan(line.amount_fen)} 元，本地没有此订单："
                         f"微信订单号 {line.transaction_id}")
    return found


def _amount_mismatches(session: Session, check_id: int) -> int:
    recorded = func.coalesce(LEDGER.reported_amount_fen, LEDGER.amount_fen)
    query = _payment_lines(check_id, LEDGER.amount_fen.label("ordered"), LEDGER.status).join(
        donations_table, LEDGER.out_trade_no == LINES.out_trade_no).where(
        LEDGER.status.in_(COUNTED_HERE),
        (LINES.amount_fen != recorded) | (LEDGER.status == DonationStatus.DISPUTED))
    found = 0
    for line in pages(session, query):
        found += finding(session, check_id, AMOUNT_MISMATCH, line.out_trade_no,
                         f"账单金额 {yuan(line.amount_fen)} 元，订单金额 {yuan(line.ordered)} 元"
                         f"（本地状态 {line.status}）")
    return found


def _missing_at_wechat(session: Session, check_id: int, bill_date: date) -> int:
    start, end = china_day_bounds(bill_date)
    in_bill = exists().where(LINES.check_id == check_id, LINES.kind == "payment",
                             LINES.out_trade_no == LEDGER.out_trade_no)
    query = (select(LEDGER.id, LEDGER.out_trade_no, LEDGER.amount_fen, LEDGER.transaction_id)
             .where(LEDGER.paid_at >= start, LEDGER.paid_at < end,
                    LEDGER.status.in_(COUNTED_HERE), ~in_bill))
    found = 0
    for row in pages(session, query, LEDGER.id):
        found += finding(session, check_id, MISSING_AT_WECHAT, row.out_trade_no,
                         f"本地记为已付 {yuan(row.amount_fen)} 元，账单中没有："
                         f"微信订单号 {row.transaction_id}")
    return found


def _ledger_figures(session: Session, bill_date: date) -> dict[str, int]:
    start, end = china_day_bounds(bill_date)
    count, paid = session.execute(
        select(func.count(), func.coalesce(func.sum(
            func.coalesce(LEDGER.reported_amount_fen, LEDGER.amount_fen)), 0))
        .where(LEDGER.paid_at >= start, LEDGER.paid_at < end,
               LEDGER.status.in_(COUNTED_HERE))).one()
    session.commit()
    refunds, refunded = refund_figures(session, bill_date)
    # Counted as the bill counts its trades: each payment and each refund is one.
    return {"ledger_count": int(count) + refunds, "ledger_paid_fen": int(paid),
            "ledger_refund_fen": refunded}


def _finish(session: Session, check_id: int, now: datetime, status: BillCheckStatus, *,
            problem: str = "", summary: BillSummary | None = None,
            ledger: dict[str, int] | None = None, findings: int = 0) -> None:
    values: dict[str, Any] = {"status": status, "problem": problem[:300],
                              "finished_at": now, "findings_count": findings, **(ledger or {})}
    if summary is not None:
        values.update(bill_count=summary.count, bill_paid_fen=summary.settlement_fen,
                      bill_refund_fen=summary.refund_fen, bill_fee_fen=summary.fee_fen)
    with write_transaction(session):
        session.execute(update(BillCheck).where(BillCheck.id == check_id).values(**values))
