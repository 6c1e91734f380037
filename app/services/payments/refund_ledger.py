"""What a refund does to the ledger and the totals, inside the caller's write transaction.

Every outcome — a notification, a query's answer, the reply to our own request — ends in
apply_refund(), under a lock on the donation's row, so that copies, reordered events and a
query racing a notification change the ledger once. A refund that succeeds lowers the totals
in the same transaction: total_fen by its amount, the counts only when the donation is
refunded whole (DESIGN: a disputed donation was never counted, so its refunds change nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.services.accounts.anomalies import AnomalyKind, record_anomaly
from app.services.formatting import yuan
from app.services.payments.totals import count_paid, lower_total
from models import Donation, DonationStatus, Refund, RefundStatus
from wechat import Refund as WeChatRefund

# Verdicts of a refund event; also stored on the notification row.
REFUNDED = "refunded"
REFUND_CLOSED = "refund_closed"
REFUND_ABNORMAL = "refund_abnormal"
REFUND_PROCESSING = "refund_processing"
DUPLICATE = "duplicate"
UNKNOWN_ORDER = "unknown_order"

REFUNDABLE = (DonationStatus.PAID, DonationStatus.DISPUTED)
PLATFORM = "微信支付商户平台"
PER_QUERY_SUFFIX = "-REFUND"

_ABNORMAL_HELP = ("退款异常：款项未能退回捐款人账户（如银行卡已注销或冻结）。请在微信支付商户平台"
                  "「交易中心-退款管理」找到该退款单，发起异常退款（退至用户零钱或指定银行卡）；"
                  "成功后本系统会收到通知并自动记入")
_CLOSED_HELP = "退款已关闭，款项未退出，捐款已恢复原状态；如仍需退款，请重新发起"


def per_query_refund_no(out_trade_no: str) -> str:
    """The out_refund_no under which a refund is recorded when an order query says only REFUND
    (neither the refund's number nor its amount): the day's bill names the real one."""
    return out_trade_no + PER_QUERY_SUFFIX


def lock_donation(session: Session, out_trade_no: str) -> Donation | None:
    """The donation's row, locked until the transaction ends (SQLite: the write lock is held
    from BEGIN IMMEDIATE)."""
    query = select(Donation).where(Donation.out_trade_no == out_trade_no).with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).first()


def paid_fen(donation: Donation) -> int:
    """What the worker paid: the order's amount, or what WeChat reported for a disputed one."""
    return donation.reported_amount_fen or donation.amount_fen


def base_status(donation: Donation) -> str:
    """The status the donation has apart from a refund in flight."""
    if donation.status == DonationStatus.REFUNDING:
        return donation.refund_from_status or DonationStatus.PAID
    return donation.status


def left_to_refund(donation: Donation) -> int:
    return paid_fen(donation) - donation.refunded_fen


@dataclass(frozen=True)
class Outcome:
    verdict: str
    refund: Refund | None


def apply_refund(session: Session, event: WeChatRefund, now: datetime,
                 note: str = "") -> Outcome:
    """Record what WeChat Pay says of one refund, once, locking its donation's row first.
    `note` adds to the anomaly listed for a refund made outside warmfund."""
    donation = lock_donation(session, event.out_trade_no)
    if donation is None:
        record_anomaly(session, AnomalyKind.UNKNOWN_ORDER, event.out_trade_no, now,
                       f"未知订单的退款：{event.out_refund_no}，{yuan(event.amount_refund)} 元")
        return Outcome(UNKNOWN_ORDER, None)
    row = session.scalars(select(Refund).where(Refund.out_refund_no == event.out_refund_no)
                          .execution_options(populate_existing=True)).first()
    if row is None:
        row = _outside_refund(session, donation, event, now, note)
    if event.refund_id and row.refund_id is None:
        row.refund_id = event.refund_id
    verdict = _transition(session, donation, row, event, now)
    _settle_status(session, donation)
    return Outcome(verdict, row)


def close_refused(session: Session, out_refund_no: str, detail: str, now: datetime) -> None:
    """A refund WeChat Pay refused to make is closed, saying why, and its donation restored."""
    row = session.scalars(select(Refund).where(Refund.out_refund_no == out_refund_no)).one()
    donation = session.get(Donation, row.donation_id, with_for_update=True,
                           populate_existing=True)
    assert donation is not None
    if row.status == RefundStatus.PROCESSING:
        row.status, row.settled_at, row.detail = RefundStatus.CLOSED, now, detail[:200]
    _settle_status(session, donation)


def _outside_refund(session: Session, donation: Donation, event: WeChatRefund,
                    now: datetime, note: str) -> Refund:
    """A refund we never asked for (made on the merchant platform): real money leaving."""
    row = Refund(out_refund_no=event.out_refund_no, donation_id=donation.id,
                 amount_fen=event.amount_refund, total_fen=event.amount_total,
                 reason="商户平台退款", status=RefundStatus.PROCESSING, requested_by=PLATFORM,
                 outside=True, detail="", created_at=now)
    session.add(row)
    record_anomaly(session, AnomalyKind.REFUNDED_OUTSIDE, donation.out_trade_no, now,
                   f"未经本系统发起的退款 {event.out_refund_no}：{yuan(event.amount_refund)} 元"
                   f"（{event.status}），已记入，请核对{note}")
    return row


def _transition(session: Session, donation: Donation, row: Refund, event: WeChatRefund,
                now: datetime) -> str:
    if event.status == "SUCCESS":
        if row.status == RefundStatus.SUCCESS:
            return DUPLICATE
        _succeed(session, donation, row, event.amount_refund, event.success_time or now)
        return REFUNDED
    if event.status == "CLOSED" and row.status in (RefundStatus.PROCESSING, RefundStatus.ABNORMAL):
        _give_up(session, donation, row, RefundStatus.CLOSED, _CLOSED_HELP, now)
        return REFUND_CLOSED
    if event.status == "ABNORMAL" and row.status == RefundStatus.PROCESSING:
        _give_up(session, donation, row, RefundStatus.ABNORMAL, _ABNORMAL_HELP, now)
        return REFUND_ABNORMAL
    if event.status == "PROCESSING" and row.status == RefundStatus.PROCESSING:
        return REFUND_PROCESSING
    return DUPLICATE  # a late copy of an event already superseded


def _succeed(session: Session, donation: Donation, row: Refund, amount: int,
             at: datetime) -> None:
    left, base = left_to_refund(donation), base_status(donation)
    taken = min(amount, left)
    if amount > left:
        record_anomaly(session, AnomalyKind.REFUND_EXCEEDS, donation.out_trade_no, at,
                       f"退款 {row.out_refund_no} 的 {yuan(amount)} 元超过可退的 {yuan(left)} 元，"
                       "多出部分未计，请核对")
    donation.refunded_fen += taken
    donation.refunded_at, donation.refund_reason = at, row.reason[:80]
    whole = donation.refunded_fen >= paid_fen(donation)
    row.status, row.succeeded_at, row.settled_at = RefundStatus.SUCCESS, at, at
    if base != DonationStatus.PAID or taken == 0:
        return
    where = {"donation_id": donation.id, "campaign_id": donation.campaign_id,
             "unit_id": donation.unit_id}
    if whole:
        count_paid(session, **where, openid=donation.openid, amount_fen=taken, direction=-1)
    else:
        lower_total(session, **where, amount_fen=taken)


def _give_up(session: Session, donation: Donation, row: Refund, status: RefundStatus,
             help_text: str, now: datetime) -> None:
    row.status, row.settled_at = status, now
    kind = (AnomalyKind.REFUND_ABNORMAL if status is RefundStatus.ABNORMAL
            else AnomalyKind.REFUND_CLOSED)
    record_anomaly(session, kind, donation.out_trade_no, now,
                   f"退款 {row.out_refund_no}（{yuan(row.amount_fen)} 元）：{help_text}")


def _settle_status(session: Session, donation: Donation) -> None:
    """refunded when nothing is left; refunding while any refund of it is in flight; else the
    status it had before (paid or disputed)."""
    base = base_status(donation)
    if base not in (*REFUNDABLE, DonationStatus.REFUNDED):
        return  # its payment is not recorded here: the anomaly says so
    session.flush()
    in_flight = session.scalar(select(func.count()).select_from(Refund).where(
        Refund.donation_id == donation.id, Refund.status == RefundStatus.PROCESSING))
    if left_to_refund(donation) <= 0:
        status, before = DonationStatus.REFUNDED, None
    elif in_flight:
        status, before = DonationStatus.REFUNDING, base
    else:
        status, before = DonationStatus(base), None
    donation.status, donation.refund_from_status = status, before
    session.flush()
