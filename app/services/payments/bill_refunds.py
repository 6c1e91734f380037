"""The bill's refund rows against the ledger's refunds (the refund half of `warmfund bill check`).

Day boundary: a refund belongs to the Asia/Shanghai day of its success time. The bill lists a
refund under the moment WeChat Pay completed it, and the ledger keeps WeChat Pay's own
success_time (from the notification or the query) as succeeded_at, so both sides put a refund
made at 23:59:59 on the same day. Every refund that the ledger says succeeded that day must be
in the bill (else refund_missing_at_wechat); a row of the bill is matched by its out_refund_no
against all of the ledger's refunds, whatever day they were recorded on.

A row saying 退款状态 SUCCESS that the ledger lacks, or holds as still in flight (made on the
merchant platform, or its notification lost), is money that has left: it is recorded through
apply_refund(), the path of a refund notification, under the donation's row lock, so it counts
once however many checks run, two at once included (refund_recovered). It is only listed
(refund_unknown) where recording would be a guess: an order that is not ours or whose payment
is not recorded here yet, no out_refund_no, a status other than SUCCESS, or more than is left.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.orm import Session

from app.services.formatting import yuan
from app.services.payments.bill_staging import (
    AMOUNT_MISMATCH,
    LEDGER,
    LINES,
    REFUND_MISSING,
    REFUND_RECOVERED,
    REFUND_UNKNOWN,
    china_day_bounds,
    finding,
    pages,
)
from app.services.payments.refund_ledger import (
    PER_QUERY_SUFFIX,
    REFUNDABLE,
    REFUNDED,
    apply_refund,
    base_status,
    left_to_refund,
    lock_donation,
    paid_fen,
    per_query_refund_no,
)
from models import Donation, DonationStatus, Refund, RefundStatus
from models.database import write_transaction
from models.tables import donations_table
from wechat import Refund as WeChatRefund

_REFUNDS = Refund.__table__.c
_RECORDED_HERE = (*REFUNDABLE, DonationStatus.REFUNDING, DonationStatus.REFUNDED)
Verdict = tuple[str, str] | None  # a finding's kind and detail, or nothing to report


def compare_refunds(session: Session, check_id: int, bill_date: date, now: datetime) -> int:
    """Record or list the bill's refunds the ledger lacks, then list the ledger's the bill
    lacks and amounts that differ; returns how many findings were stored."""
    found = _record_unseen(session, check_id, now)
    found += _mismatches(session, check_id, bill_date)
    return found + _missing_at_wechat(session, check_id, bill_date)


def _succeeded_on(bill_date: date) -> ColumnElement[bool]:
    """A ledger refund that succeeded on the bill's day (Asia/Shanghai)."""
    start, end = china_day_bounds(bill_date)
    return and_(_REFUNDS.status == RefundStatus.SUCCESS, _REFUNDS.succeeded_at >= start,
                _REFUNDS.succeeded_at < end)


def refund_figures(session: Session, bill_date: date) -> tuple[int, int]:
    """The ledger's refunds that succeeded on that day: how many, and their sum in fen."""
    count, fen = session.execute(
        select(func.count(), func.coalesce(func.sum(_REFUNDS.amount_fen), 0))
        .where(_succeeded_on(bill_date))).one()
    session.commit()
    return int(count), int(fen)


def _refund_lines(check_id: int, *columns: Any) -> Select[Any]:
    return (select(LINES.line, LINES.out_trade_no, LINES.out_refund_no, LINES.amount_fen,
                   *columns).where(LINES.check_id == check_id, LINES.kind == "refund"))


def _record_unseen(session: Session, check_id: int, now: datetime) -> int:
    query = (_refund_lines(check_id, LINES.refund_id, LINES.refund_status, LINES.transaction_id,
                           LINES.trade_time, _REFUNDS.id.label("known"))
             .outerjoin(Refund, _REFUNDS.out_refund_no == LINES.out_refund_no)
             .where(_REFUNDS.id.is_(None) | (_REFUNDS.status != RefundStatus.SUCCESS)))
    found = 0
    for line in pages(session, query):
        if line.known is not None and line.refund_status != "SUCCESS":
            continue  # in flight here as at WeChat Pay: reconcile follows it
        with write_transaction(session):
            verdict = _settle_line(session, line, now)
        if verdict is not None:
            kind, detail = verdict
            found += finding(session, check_id, kind, line.out_trade_no, detail,
                             line.out_refund_no)
    return found


def _settle_line(session: Session, line: Any, now: datetime) -> Verdict:
    """Record one refund row that the ledger lacks, or say why it cannot be."""
    if (why := _unrecordable(line)) is not None:
        return REFUND_UNKNOWN, why
    donation = lock_donation(session, line.out_trade_no)
    if donation is None:
        return REFUND_UNKNOWN, f"微信支付退款 {yuan(line.amount_fen)} 元，本地没有此订单"
    known = session.scalars(select(Refund).where(Refund.out_refund_no == line.out_refund_no)
                            .execution_options(populate_existing=True)).first()
    if known is None:
        return _record_outside(session, donation, line, now)
    if known.donation_id != donation.id:
        return REFUND_UNKNOWN, "本地此退款单号记在另一笔捐款上，请核对"
    if known.amount_fen != line.amount_fen:
        return AMOUNT_MISMATCH, (f"账单退款 {yuan(line.amount_fen)} 元已成功，本地此退款"
                                 f"（{known.status}）为 {yuan(known.amount_fen)} 元，未记入")
    return _apply(session, donation, line, now, "账单显示退款已成功，本地仍未记成功")


def _unrecordable(line: Any) -> str | None:
    if line.refund_status != "SUCCESS":
        return f"账单中退款状态为 {line.refund_status or '（空）'}，本地没有此退款，未记入"
    if not line.out_refund_no:
        return f"账单中 {yuan(line.amount_fen)} 元的退款没有商户退款单号，未记入"
    if line.amount_fen <= 0:
        return f"账单中退款金额 {yuan(line.amount_fen)} 元不是正数，未记入"
    return None


def _record_outside(session: Session, donation: Donation, line: Any, now: datetime) -> Verdict:
    placeholder = session.scalars(select(Refund).where(
        Refund.donation_id == donation.id, Refund.status == RefundStatus.SUCCESS,
        Refund.out_refund_no == per_query_refund_no(donation.out_trade_no))).first()
    if placeholder is not None:
        return _identify(placeholder, line)
    if base_status(donation) not in _RECORDED_HERE:
        return REFUND_UNKNOWN, (f"退款 {yuan(line.amount_fen)} 元，而本地尚未记入此订单的支付："
                               "请先核对其支付当日的账单，再重新对账")
    if line.amount_fen > left_to_refund(donation):
        return REFUND_UNKNOWN, (f"退款 {yuan(line.amount_fen)} 元超过本地可退的 "
                                f"{yuan(left_to_refund(donation))} 元，未记入，请核对")
    return _apply(session, donation, line, now, "账单有此退款而本地未记")


def _apply(session: Session, donation: Donation, line: Any, now: datetime,
           why: str) -> Verdict:
    event = WeChatRefund(out_refund_no=line.out_refund_no, refund_id=line.refund_id or None,
                         out_trade_no=line.out_trade_no,
                         transaction_id=line.transaction_id or None, status="SUCCESS",
                         amount_refund=line.amount_fen, amount_total=paid_fen(donation),
                         success_time=line.trade_time)
    if apply_refund(session, event, now, note="（由对账单发现）").verdict != REFUNDED:
        return None  # another check recorded it first
    return REFUND_RECOVERED, (f"{why}：已补记退款 {yuan(line.amount_fen)} 元，"
                              f"微信退款单号 {line.refund_id or '（无）'}")


def _identify(placeholder: Refund, line: Any) -> Verdict:
    """An order query said only REFUND, so reconcile took the refund off whole under a
    stand-in number; the bill names it. Equal amounts: the same refund, now under its own
    number and time. Different ones: a person has to look."""
    if placeholder.amount_fen != line.amount_fen:
        return REFUND_UNKNOWN, (f"本地按订单查询记入全额退款 {yuan(placeholder.amount_fen)} 元"
                                f"（{placeholder.out_refund_no}），账单中此笔退款 "
                                f"{yuan(line.amount_fen)} 元，请核对")
    stand_in = placeholder.out_refund_no
    placeholder.out_refund_no, placeholder.refund_id = line.out_refund_no, line.refund_id or None
    placeholder.succeeded_at = placeholder.settled_at = line.trade_time
    return REFUND_RECOVERED, (f"按订单查询记入的退款 {stand_in}（{yuan(line.amount_fen)} 元）"
                              "已与账单核对，改记其商户退款单号")


def _mismatches(session: Session, check_id: int, bill_date: date) -> int:
    """Refunds both sides have, where they disagree on the amount, the order or the outcome
    (the outcome only for a refund that succeeded that day here: an earlier day's bill may
    list it while it was still under way)."""
    query = (_refund_lines(check_id, LINES.refund_status,
                           _REFUNDS.amount_fen.label("recorded"),
                           LEDGER.out_trade_no.label("recorded_on"))
             .join(Refund, _REFUNDS.out_refund_no == LINES.out_refund_no)
             .join(donations_table, LEDGER.id == _REFUNDS.donation_id)
             .where(_REFUNDS.status == RefundStatus.SUCCESS,
                    (_REFUNDS.amount_fen != LINES.amount_fen)
                    | (LEDGER.out_trade_no != LINES.out_trade_no)
                    | ((LINES.refund_status != "SUCCESS") & _succeeded_on(bill_date))))
    found = 0
    for line in pages(session, query):
        kind, detail = _disagreement(line)
        found += finding(session, check_id, kind, line.out_trade_no, detail, line.out_refund_no)
    return found


def _disagreement(line: Any) -> tuple[str, str]:
    if line.recorded_on != line.out_trade_no:
        return REFUND_UNKNOWN, (f"账单中此退款属订单 {line.out_trade_no}，本地记在订单 "
                                f"{line.recorded_on} 上，请核对")
    if line.refund_status != "SUCCESS":
        return REFUND_MISSING, (f"本地记为退款成功 {yuan(line.recorded)} 元，账单中此退款状态为 "
                                f"{line.refund_status or '（空）'}，请向微信支付核实")
    return AMOUNT_MISMATCH, (f"账单退款 {yuan(line.amount_fen)} 元，本地记为退款 "
                             f"{yuan(line.recorded)} 元")


def _missing_at_wechat(session: Session, check_id: int, bill_date: date) -> int:
    in_bill = exists().where(LINES.check_id == check_id, LINES.kind == "refund",
                             LINES.out_refund_no == _REFUNDS.out_refund_no)
    # A refund taken off per an order query carries the time we learned of it, not WeChat
    # Pay's: the bill names it (above) instead of being asked for it.
    query = (select(_REFUNDS.id, _REFUNDS.out_refund_no, _REFUNDS.amount_fen,
                    LEDGER.out_trade_no)
             .join(donations_table, LEDGER.id == _REFUNDS.donation_id)
             .where(_succeeded_on(bill_date),
                    _REFUNDS.out_refund_no != LEDGER.out_trade_no + PER_QUERY_SUFFIX, ~in_bill))
    found = 0
    for row in pages(session, query, _REFUNDS.id):
        found += finding(session, check_id, REFUND_MISSING, row.out_trade_no,
                         f"本地记为退款成功 {yuan(row.amount_fen)} 元，账单中没有",
                         row.out_refund_no)
    return found
