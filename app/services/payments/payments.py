"""Recording payments exactly once — from notifications, from queries and from reconcile alike.

Every path ends in record_payment(): a guarded UPDATE moves the donation out of pending (or
closed) only if nobody did so before, and the totals change in that same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, Update, select, update
from sqlalchemy.orm import Session

from app.services.accounts.anomalies import AnomalyKind, record_anomaly
from app.services.deps import Deps
from app.services.formatting import yuan
from app.services.payments.payments_pg import record_notified_payment
from app.services.payments.refund_ledger import (
    apply_refund,
    lock_donation,
    per_query_refund_no,
)
from app.services.payments.totals import count_paid
from models import DonationStatus, Notification
from models.database import is_postgres, write_transaction
from models.tables import donations_table
from wechat import Refund as WeChatRefund
from wechat import Transaction
from wechat.errors import NotificationError, WeChatError, WeChatPayError

# Verdicts a notification can get; also stored on the notification row.
RECORDED = "recorded"
PAID_AFTER_CLOSE = "paid_after_close"
DUPLICATE = "duplicate"
DISPUTED = "disputed"
UNKNOWN_ORDER = "unknown_order"
CONFLICT = "conflict"
NOT_SUCCESS = "not_success"
IGNORED = "ignored"

PAID_STATES = ("SUCCESS", "REFUND")
COUNTED = (RECORDED, PAID_AFTER_CLOSE)

SIGNATURE_VERDICTS = {"unknown_serial", "signtest", "stale", "bad_signature"}

_LEDGER = donations_table.c
_UNPAID = (DonationStatus.PENDING, DonationStatus.CLOSED)


def _mark(status: DonationStatus, tx: Transaction, now: datetime) -> Update:
    """Move an unpaid donation to `status`; matches nothing once someone else moved it."""
    return (update(donations_table)
            .where(_LEDGER.out_trade_no == tx.out_trade_no, _LEDGER.status.in_(_UNPAID))
            .values(status=status, transaction_id=tx.transaction_id,
                    paid_at=tx.success_time or now, reported_amount_fen=tx.amount_total,
                    paid_after_close=_LEDGER.status == DonationStatus.CLOSED))


@dataclass(frozen=True)
class ReceivedNotice:
    """A notification as it reached us, stored whatever its verdict."""

    kind: str
    headers: Mapping[str, str]
    body: bytes
    remote_addr: str


class NotificationRejectedError(Exception):
    """The notification failed verification; `signature` says whether WeChat's 401 applies."""

    def __init__(self, verdict: str) -> None:
        super().__init__(verdict)
        self.verdict = verdict
        self.signature = verdict in SIGNATURE_VERDICTS


def record_payment(session: Session, transaction: Transaction, now: datetime,
                   notice: ReceivedNotice | None = None) -> str:
    """Apply what WeChat Pay says of one order, exactly once; returns the verdict."""
    with write_transaction(session):
        return apply_payment(session, transaction, now, notice)


def apply_payment(session: Session, tx: Transaction, now: datetime,
                  notice: ReceivedNotice | None = None) -> str:
    """record_payment inside the caller's write transaction."""
    verdict, paid = _apply(session, tx, now)
    if notice is not None:
        _store_notice(session, notice, verdict, now, tx.out_trade_no, tx.transaction_id)
        session.flush()
    if paid is not None:
        # Every payment touches the campaign's total rows: lock them last, just before the
        # commit releases them, so concurrent payments wait on each other as briefly as can be.
        count_paid(session, donation_id=paid.id, campaign_id=paid.campaign_id,
                   unit_id=paid.unit_id, openid=paid.openid, amount_fen=paid.amount_fen)
    if tx.trade_state == "REFUND" and verdict in (*COUNTED, DISPUTED):
        # Paid, then refunded on the merchant platform; a query does not say how much, so it
        # is taken off whole (after the payment was counted) and listed for an admin to check.
        apply_refund(session, _refund_per_query(tx), now,
                     note="（订单查询只显示已退款，未给出金额，按全额记入）")
    return verdict


def _refund_per_query(tx: Transaction) -> WeChatRefund:
    amount = tx.amount_total or 0
    return WeChatRefund(per_query_refund_no(tx.out_trade_no), None, tx.out_trade_no,
                        tx.transaction_id, "SUCCESS", amount, amount, None)


def record_refund(session: Session, refund: WeChatRefund, now: datetime,
                  notice: ReceivedNotice | None = None) -> str:
    """Apply what WeChat Pay says of one refund, exactly once; returns the verdict. A refund of
    an order whose payment never reached us records that payment first: the money came in."""
    with write_transaction(session):
        donation = lock_donation(session, refund.out_trade_no)
        if donation is not None and donation.status in _UNPAID and refund.transaction_id:
            apply_payment(session, _payment_behind(refund), now)
        outcome = apply_refund(session, refund, now)
        if notice is not None:
            _store_notice(session, notice, outcome.verdict, now, refund.out_trade_no,
                          refund.transaction_id, refund.out_refund_no)
    return outcome.verdict


def _payment_behind(refund: WeChatRefund) -> Transaction:
    return Transaction("", "", refund.out_trade_no, refund.transaction_id, "SUCCESS",
                       refund.amount_total, None, None, "")


def _apply(session: Session, tx: Transaction, now: datetime) -> tuple[str, Row[Any] | None]:
    """Move the donation; returns the verdict and, when it became paid, what to count."""
    # REFUND: paid, then refunded from the merchant platform. The money did arrive, so the
    # ledger records the payment (and apply_payment the refund).
    if tx.trade_state not in PAID_STATES or tx.transaction_id is None or tx.amount_total is None:
        return NOT_SUCCESS, None
    paid = session.execute(
        _mark(DonationStatus.PAID, tx, now).where(_LEDGER.amount_fen == tx.amount_total)
        .returning(_LEDGER.id, _LEDGER.campaign_id, _LEDGER.unit_id, _LEDGER.openid,
                   _LEDGER.amount_fen, _LEDGER.paid_after_close)).first()
    if paid is None:
        return _classify_unpaid(session, tx, now), None
    if paid.paid_after_close:
        record_anomaly(session, AnomalyKind.PAID_AFTER_CLOSE, tx.out_trade_no, now,
                       f"订单关闭后仍收到支付，已计入：{tx.transaction_id}")
        return PAID_AFTER_CLOSE, paid
    return RECORDED, paid


def _classify_unpaid(session: Session, tx: Transaction, now: datetime) -> str:
    row = session.execute(
        select(_LEDGER.status, _LEDGER.amount_fen, _LEDGER.transaction_id)
        .where(_LEDGER.out_trade_no == tx.out_trade_no).with_for_update()).first()
    if row is None:
        record_anomaly(session, AnomalyKind.UNKNOWN_ORDER, tx.out_trade_no, now,
                       f"未知订单的支付通知：{tx.transaction_id}，"
                       f"金额 {yuan(tx.amount_total or 0)} 元")
        return UNKNOWN_ORDER
    if row.transaction_id == tx.transaction_id:
        return DUPLICATE
    if row.status in _UNPAID:
        session.execute(_mark(DonationStatus.DISPUTED, tx, now))
        record_anomaly(session, AnomalyKind.AMOUNT_MISMATCH, tx.out_trade_no, now,
                       f"支付金额 {yuan(tx.amount_total or 0)} 元与订单金额 "
                       f"{yuan(row.amount_fen)} 元不符，未计入")
        return DISPUTED
    record_anomaly(session, AnomalyKind.CONFLICTING_PAYMENT, tx.out_trade_no, now,
                   f"订单已有支付 {row.transaction_id}，又收到 {tx.transaction_id}")
    return CONFLICT


def _store_notice(session: Session, notice: ReceivedNotice, verdict: str, now: datetime,
                  out_trade_no: str | None = None, transaction_id: str | None = None,
                  detail: str = "") -> None:
    session.add(Notification(
        kind=notice.kind, received_at=now, remote_addr=notice.remote_addr[:64],
        headers=json.dumps(dict(notice.headers), ensure_ascii=False), body=notice.body,
        verdict=verdict, out_trade_no=(out_trade_no or None) and out_trade_no[:32],
        transaction_id=(transaction_id or None) and transaction_id[:32], detail=detail[:300]))


def handle_notification(session: Session, deps: Deps, notice: ReceivedNotice,
                        keep_refused: Callable[[str], bool] = lambda _addr: True) -> str:
    """Verify, decrypt and record one payment or refund notification, whichever URL it came
    to (a REFUND.* event is never ignored); raises NotificationRejectedError.

    A refused notification is stored too: always when WeChat Pay signed it (the evidence of a
    wrong key or merchant), else while keep_refused(its address) allows, so that a flood of
    forgeries cannot fill the disk.
    """
    now = deps.clock()
    try:
        notification = deps.pay.parse_notification(notice.headers, notice.body, now)
    except NotificationError as exc:
        keep = exc.signed or keep_refused(notice.remote_addr)
        return _refuse(session, notice, exc.verdict, now, keep)
    if notification.refund is not None:
        return record_refund(session, notification.refund, now, notice)
    tx = notification.transaction
    if notification.event_type != "TRANSACTION.SUCCESS" or tx is None:
        with write_transaction(session):
            _store_notice(session, notice, IGNORED, now)
        return IGNORED
    bind = session.get_bind()
    if is_postgres(session) and isinstance(bind, Engine):
        verdict = record_notified_payment(
            bind, tx, now, kind=notice.kind, headers=dict(notice.headers),
            body=notice.body, remote_addr=notice.remote_addr)
        if verdict is not None:
            return verdict
    return record_payment(session, tx, now, notice)


def _refuse(session: Session, notice: ReceivedNotice, verdict: str, now: datetime,
            keep: bool) -> str:
    if keep:
        with write_transaction(session):
            _store_notice(session, notice, verdict, now)
            if verdict == "wrong_merchant":
                record_anomaly(session, AnomalyKind.WRONG_MERCHANT, None, now,
                               "通知的 appid/mchid 与本商户不符")
    if verdict == "wrong_merchant":
        return verdict  # genuine but not ours: retrying cannot help
    raise NotificationRejectedError(verdict)


def ask_wechat_pay(session: Session, deps: Deps, out_trade_no: str, now: datetime) -> str | None:
    """Query one order (its checked_at stamped by the caller) and record a payment WeChat Pay
    reports; None when it could not be asked."""
    try:
        tx = deps.pay.query_order(out_trade_no)
    except (WeChatPayError, WeChatError):
        return None
    if tx.trade_state not in PAID_STATES:
        return NOT_SUCCESS  # nothing to record, so no transaction
    return record_payment(session, tx, now)
