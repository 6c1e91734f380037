"""Checking WeChat Pay's daily trade bill against the ledger (`warmfund bill check`).

The bill is streamed to a temporary file, read row by row into bill_lines (so a day of any size
is compared by joins, in bounded memory), and only once its SHA-1 and its own summary check out
is anything compared or recorded. A payment the bill lists that is pending or closed here is
recorded by record_payment(), the path a notification takes, so it is counted once however
many runs see it, and two runs at once are as safe as two copies of a notification.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from app.services.accounts.audit import record_action
from app.services.actor import Actor
from app.services.deps import Deps
from app.services.formatting import yuan
from app.services.paging import batches
from app.services.payments.payments import PAID_AFTER_CLOSE, RECORDED, record_payment
from models import BillCheck, BillCheckStatus, BillFinding, BillLine
from models.database import write_transaction
from models.tables import donations_table
from wechat import Transaction
from wechat.bill import BillError, BillReader, BillRow, BillSummary, open_bill
from wechat.errors import WeChatError, WeChatPayError
from wechat.timeutil import CHINA_TZ

RECOVERED, UNKNOWN_ORDER, MISSING_AT_WECHAT, AMOUNT_MISMATCH = (
    "recovered", "unknown_order", "missing_at_wechat", "amount_mismatch")
# A recovered payment was put right by the check itself; every other finding is left open.
EXPLAINED = frozenset({RECOVERED})
NOT_READY = frozenset({"NO_STATEMENT_EXIST", "STATEMENT_CREATING"})
COUNTED_HERE = ("paid", "refunding", "refunded", "disputed")  # money that arrived, per the ledger
_BATCH = 1000
_LEDGER = donations_table.c
_LINES = BillLine.__table__.c


def china_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), CHINA_TZ)
    return start, start + timedelta(days=1)


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
                          status=BillCheckStatus.RUNNING.value, problem="", findings_count=0)
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
            "out_refund_no": row.out_refund_no[:64], "trade_time": row.trade_time}


def _stage(session: Session, check_id: int, rows: Iterable[BillRow]) -> None:
    batch: list[dict[str, Any]] = []
    for number, row in enumerate(rows, 1):
        batch.append(_line(check_id, number, row))
        if len(batch) == _BATCH:
            _insert_lines(session, batch)
            batch = []
    if batch:
        _insert_lines(session, batch)


def _insert_lines(session: Session, batch: list[dict[str, Any]]) -> None:
    with write_transaction(session):
        session.execute(insert(BillLine), batch)


def _unstage(session: Session, check_id: int) -> None:
    with write_transaction(session):
        session.execute(delete(BillLine).where(_LINES.check_id == check_id))


def _pages(session: Session, query: Select[Any], key: Any = _LINES.line) -> Iterator[Any]:
    """The rows of a query, a page at a time by `key` (a bill line's number by default)."""
    def fetch(after: int) -> list[Any]:
        page = list(session.execute(query.where(key > after).order_by(key).limit(_BATCH)))
        session.commit()  # no read transaction held while the page is worked on
        return page

    for page in batches(fetch, lambda row: int(getattr(row, key.key))):
        yield from page


def _payment_lines(check_id: int, *columns: Any) -> Select[Any]:
    return (select(_LINES.line, _LINES.out_trade_no, _LINES.amount_fen, *columns)
            .where(_LINES.check_id == check_id, _LINES.kind == "payment"))


def _compare(session: Session, deps: Deps, check_id: int, bill_date: date) -> int:
    findings = _recover(session, deps, check_id)
    findings += _unknown_orders(session, check_id)
    findings += _amount_mismatches(session, check_id)
    findings += _missing_at_wechat(session, check_id, bill_date)
    _unstage(session, check_id)
    return findings


def _recover(session: Session, deps: Deps, check_id: int) -> int:
    joined = _payment_lines(check_id, _LINES.transaction_id, _LINES.openid, _LINES.trade_time)
    unpaid = joined.join(donations_table, _LEDGER.out_trade_no == _LINES.out_trade_no).where(
        _LEDGER.status.in_(("pending", "closed")))
    found = 0
    for line in _pages(session, unpaid):
        tx = Transaction(appid="", mchid="", out_trade_no=line.out_trade_no,
                         transaction_id=line.transaction_id, trade_state="SUCCESS",
                         amount_total=line.amount_fen, payer_openid=line.openid or None,
                         success_time=line.trade_time, attach="")
        if record_payment(session, tx, deps.clock()) in (RECORDED, PAID_AFTER_CLOSE):
            found += _finding(session, check_id, RECOVERED, line.out_trade_no,
                              f"账单有此支付而本地未记：已补记 {yuan(line.amount_fen)} 元，"
                              f"微信订单号 {line.transaction_id}")
    return found


def _unknown_orders(session: Session, check_id: int) -> int:
    ours = exists().where(_LEDGER.out_trade_no == _LINES.out_trade_no)
    found = 0
    for line in _pages(session, _payment_lines(check_id, _LINES.transaction_id).where(~ours)):
        found += _finding(session, check_id, UNKNOWN_ORDER, line.out_trade_no,
                          f"微信支付收了 {yuan(line.amount_fen)} 元，本地没有此订单："
                          f"微信订单号 {line.transaction_id}")
    return found


def _amount_mismatches(session: Session, check_id: int) -> int:
    recorded = func.coalesce(_LEDGER.reported_amount_fen, _LEDGER.amount_fen)
    query = _payment_lines(check_id, _LEDGER.amount_fen.label("ordered"), _LEDGER.status).join(
        donations_table, _LEDGER.out_trade_no == _LINES.out_trade_no).where(
        _LEDGER.status.in_(COUNTED_HERE),
        (_LINES.amount_fen != recorded) | (_LEDGER.status == "disputed"))
    found = 0
    for line in _pages(session, query):
        found += _finding(session, check_id, AMOUNT_MISMATCH, line.out_trade_no,
                          f"账单金额 {yuan(line.amount_fen)} 元，订单金额 {yuan(line.ordered)} 元"
                          f"（本地状态 {line.status}）")
    return found


def _missing_at_wechat(session: Session, check_id: int, bill_date: date) -> int:
    start, end = china_day_bounds(bill_date)
    in_bill = exists().where(_LINES.check_id == check_id, _LINES.kind == "payment",
                             _LINES.out_trade_no == _LEDGER.out_trade_no)
    query = (select(_LEDGER.id, _LEDGER.out_trade_no, _LEDGER.amount_fen, _LEDGER.transaction_id)
             .where(_LEDGER.paid_at >= start, _LEDGER.paid_at < end,
                    _LEDGER.status.in_(COUNTED_HERE), ~in_bill))
    found = 0
    for row in _pages(session, query, _LEDGER.id):
        found += _finding(session, check_id, MISSING_AT_WECHAT, row.out_trade_no,
                          f"本地记为已付 {yuan(row.amount_fen)} 元，账单中没有："
                          f"微信订单号 {row.transaction_id}")
    return found


def _finding(session: Session, check_id: int, kind: str, out_trade_no: str, detail: str,
             out_refund_no: str | None = None) -> int:
    with write_transaction(session):
        session.add(BillFinding(check_id=check_id, kind=kind, out_trade_no=out_trade_no,
                                out_refund_no=out_refund_no, detail=detail[:300]))
    return 1


def _ledger_figures(session: Session, bill_date: date) -> dict[str, int]:
    start, end = china_day_bounds(bill_date)
    count, paid = session.execute(
        select(func.count(), func.coalesce(func.sum(
            func.coalesce(_LEDGER.reported_amount_fen, _LEDGER.amount_fen)), 0))
        .where(_LEDGER.paid_at >= start, _LEDGER.paid_at < end,
               _LEDGER.status.in_(COUNTED_HERE))).one()
    session.commit()
    return {"ledger_count": int(count), "ledger_paid_fen": int(paid), "ledger_refund_fen": 0}


def _finish(session: Session, check_id: int, now: datetime, status: BillCheckStatus, *,
            problem: str = "", summary: BillSummary | None = None,
            ledger: dict[str, int] | None = None, findings: int = 0) -> None:
    values: dict[str, Any] = {"status": status.value, "problem": problem[:300],
                              "finished_at": now, "findings_count": findings, **(ledger or {})}
    if summary is not None:
        values.update(bill_count=summary.count, bill_paid_fen=summary.settlement_fen,
                      bill_refund_fen=summary.refund_fen, bill_fee_fen=summary.fee_fen)
    with write_transaction(session):
        session.execute(update(BillCheck).where(BillCheck.id == check_id).values(**values))
