"""Refunds an admin asks for, and the refunds still in flight that reconcile asks about.

Asking commits the refund (and the donation's move to refunding) before WeChat Pay is called,
so two admins pressing at once leave one refund to send, and a notification that beats the
reply finds its row. A lost reply leaves the refund in flight: reconcile asks about it, and
sends it again, with the same out_refund_no and fields, if WeChat Pay never got it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from app.services.accounts.audit import record_action
from app.services.actor import Actor
from app.services.deps import Deps
from app.services.errors import (
    InvalidRequestError,
    NotFoundError,
    NotRefundableError,
    RefundRefusedError,
)
from app.services.formatting import rfc3339, yuan
from app.services.paging import batches
from app.services.payments.payments import record_refund
from app.services.payments.refund_ledger import (
    REFUNDABLE,
    close_refused,
    left_to_refund,
    lock_donation,
    paid_fen,
)
from models import Donation, DonationStatus, Refund, RefundStatus
from models.database import write_transaction
from wechat.errors import WeChatError, WeChatPayError

MAX_REASON = 80
CLAIM_SECONDS = 60

# WeChat Pay's refusals of a refund request, said so that an admin knows what to do.
REFUSALS = {
    "NOT_ENOUGH": "商户号余额不足，无法退款：请先为微信支付商户号充值（或等待当日收款入账），"
                  "再重新发起退款",
    "USER_ACCOUNT_ABNORMAL": "捐款人的微信账户异常，无法原路退款：请联系捐款人，或在商户平台处理",
    "FREQUENCY_LIMITED": "退款请求太频繁，请稍后再试",
    "NO_AUTH": "商户号没有退款权限，请在微信支付商户平台检查产品权限",
    "INVALID_REQUEST": "微信支付认为该退款不合规",
    "PARAM_ERROR": "退款参数有误",
}


@dataclass(frozen=True)
class RefundAsked:
    out_trade_no: str
    reason: str
    amount_fen: int | None = None


def request_refund(session: Session, deps: Deps, actor: Actor,
                   asked: RefundAsked) -> dict[str, Any]:
    """Start a refund (admins only) and send it to WeChat Pay; 202's body."""
    actor.require_admin()
    reason = _checked_reason(asked.reason)
    _check_amount(asked.amount_fen)
    refund = _start(session, deps.clock(), actor, asked.out_trade_no, reason, asked.amount_fen)
    _send(session, deps, refund)
    return {"out_refund_no": refund.out_refund_no, "status": DonationStatus.REFUNDING}


def _check_amount(amount_fen: int | None) -> None:
    if amount_fen is not None and (isinstance(amount_fen, bool) or amount_fen <= 0):
        raise InvalidRequestError("退款金额必须是正整数（分）")


def _checked_reason(reason: str) -> str:
    reason = reason.strip()
    if not 1 <= len(reason) <= MAX_REASON:
        raise InvalidRequestError(f"请填写退款原因（1–{MAX_REASON}字）")
    return reason


def wechat_reason(reason: str) -> str:
    """The reason as WeChat Pay takes it: at most 80 bytes of UTF-8 (the worker sees it in the
    refund message), cut between characters; the whole reason stays in our records."""
    return reason.encode("utf-8")[:MAX_REASON].decode("utf-8", errors="ignore")


def _start(session: Session, now: datetime, actor: Actor, out_trade_no: str, reason: str,
           amount_fen: int | None) -> Refund:
    with write_transaction(session):
        donation = lock_donation(session, out_trade_no)
        amount = _refundable_amount(donation, amount_fen)
        assert donation is not None
        _mark_refunding(session, donation)
        refund = Refund(out_refund_no=_next_out_refund_no(session, donation), reason=reason,
                        donation_id=donation.id, amount_fen=amount, total_fen=paid_fen(donation),
                        status=RefundStatus.PROCESSING, requested_by=actor.username,
                        outside=False, detail="", created_at=now)
        session.add(refund)
        record_action(session, actor, "donation.refund", out_trade_no,
                      {"out_refund_no": refund.out_refund_no, "amount_fen": amount,
                       "reason": reason}, now)
    return refund


def _refundable_amount(donation: Donation | None, amount_fen: int | None) -> int:
    """What this refund would give back (default: all that is left); or why it cannot."""
    if donation is None:
        raise NotFoundError("找不到该捐款")
    if donation.status not in REFUNDABLE:
        raise NotRefundableError(_why_not(donation))
    left = left_to_refund(donation)
    amount = left if amount_fen is None else amount_fen
    if amount > left:
        raise InvalidRequestError(f"退款金额不能超过可退金额 {yuan(left)} 元")
    return amount


def preview_refund(session: Session, actor: Actor, asked: RefundAsked) -> dict[str, Any]:
    """What a refund would do, for the console's confirmation (admins only); nothing changes."""
    actor.require_admin()
    reason = _checked_reason(asked.reason)
    _check_amount(asked.amount_fen)
    donation = session.scalars(select(Donation)
                               .where(Donation.out_trade_no == asked.out_trade_no)).first()
    amount = _refundable_amount(donation, asked.amount_fen)
    assert donation is not None
    return {"out_trade_no": donation.out_trade_no, "reason": reason, "amount_fen": amount,
            "paid_fen": paid_fen(donation), "left_fen": left_to_refund(donation),
            "whole": amount == left_to_refund(donation)}


def _why_not(donation: Donation) -> str:
    if donation.status == DonationStatus.REFUNDING:
        return "该捐款有一笔退款正在处理，请等待其结果"
    if donation.status == DonationStatus.REFUNDED:
        return "该捐款已全额退款"
    return "只有已支付的捐款可以退款"


def _mark_refunding(session: Session, donation: Donation) -> None:
    # Guarded by the status as well as the row lock: of two requests at once, one moves it.
    moved = session.execute(
        update(Donation).where(Donation.id == donation.id, Donation.status.in_(REFUNDABLE))
        .values(status=DonationStatus.REFUNDING, refund_from_status=donation.status))
    if not isinstance(moved, CursorResult) or moved.rowcount != 1:
        raise NotRefundableError("该捐款有一笔退款正在处理，请等待其结果")


def _next_out_refund_no(session: Session, donation: Donation) -> str:
    made = session.scalar(select(func.count()).select_from(Refund)
                          .where(Refund.donation_id == donation.id)) or 0
    return f"{donation.out_trade_no}R{made + 1}"


def _send(session: Session, deps: Deps, refund: Refund) -> None:
    """Create the refund at WeChat Pay; record a definite answer, leave a lost one in flight."""
    donation = session.get(Donation, refund.donation_id)
    assert donation is not None
    try:
        made = deps.pay.create_refund(
            out_trade_no=donation.out_trade_no, out_refund_no=refund.out_refund_no,
            reason=wechat_reason(refund.reason), refund_fen=refund.amount_fen,
            total_fen=refund.total_fen)
    except WeChatPayError as exc:
        _refused(session, deps, refund, exc)
        raise RefundRefusedError(_refusal_message(exc)) from exc
    except WeChatError:
        return  # the reply was lost: reconcile asks, and sends it again if need be
    record_refund(session, made, deps.clock())


def _refusal_message(exc: WeChatPayError) -> str:
    known = REFUSALS.get(exc.code)
    detail = f"（{exc.code}：{exc.message}）" if exc.message else f"（{exc.code}）"
    return (known or "微信支付拒绝了该退款") + detail


def _refused(session: Session, deps: Deps, refund: Refund, exc: WeChatPayError) -> None:
    """WeChat Pay made no refund: it is closed here, and the donation is as it was."""
    with write_transaction(session):
        close_refused(session, refund.out_refund_no, _refusal_message(exc), deps.clock())


@dataclass
class RefundCheckReport:
    checked: int = 0
    settled: int = 0
    resent: int = 0
    still_processing: int = 0
    failed: list[str] = field(default_factory=list)


def check_refunds_in_flight(session: Session, deps: Deps,
                            batch_size: int = 200) -> RefundCheckReport:
    """Ask WeChat Pay about every refund in flight; record outcomes as notifications would."""
    report = RefundCheckReport()
    for batch in batches(lambda after: _claim(session, deps.clock(), batch_size, after)):
        for refund in batch:
            report.checked += 1
            _check_one(session, deps, refund, report)
    return report


def _claim(session: Session, now: datetime, size: int, after_id: int) -> list[Refund]:
    stale = now - timedelta(seconds=CLAIM_SECONDS)
    with write_transaction(session):
        query = (select(Refund).where(Refund.status == RefundStatus.PROCESSING,
                                      Refund.id > after_id,
                                      Refund.checked_at.is_(None) | (Refund.checked_at < stale))
                 .order_by(Refund.id).limit(size).with_for_update(skip_locked=True))
        rows = list(session.scalars(query))
        for row in rows:
            row.checked_at = now
    return rows


def _check_one(session: Session, deps: Deps, refund: Refund, report: RefundCheckReport) -> None:
    try:
        found = deps.pay.query_refund(refund.out_refund_no)
    except WeChatPayError as exc:
        if exc.code in ("RESOURCE_NOT_EXISTS", "NOT_FOUND") and not refund.outside:
            _resend(session, deps, refund, report)
        else:
            report.failed.append(f"{refund.out_refund_no}: {exc.code}")
        return
    except WeChatError as exc:
        report.failed.append(f"{refund.out_refund_no}: {exc}")
        return
    verdict = record_refund(session, found, deps.clock())
    if found.status == "PROCESSING":
        report.still_processing += 1
    else:
        report.settled += int(verdict != "duplicate")


def _resend(session: Session, deps: Deps, refund: Refund, report: RefundCheckReport) -> None:
    """WeChat Pay never got it (the request was lost): send it again, unchanged."""
    try:
        _send(session, deps, refund)
    except RefundRefusedError as exc:
        report.failed.append(f"{refund.out_refund_no}: {exc.message}")
        return
    report.resent += 1


STATUS_NAMES = {"processing": "退款中", "success": "已退款", "closed": "已关闭",
                "abnormal": "退款异常"}


def refund_dict(refund: Refund, out_trade_no: str) -> dict[str, Any]:
    return {"out_refund_no": refund.out_refund_no, "out_trade_no": out_trade_no,
            "refund_id": refund.refund_id, "amount_fen": refund.amount_fen,
            "reason": refund.reason, "status": refund.status,
            "status_name": STATUS_NAMES.get(refund.status, refund.status),
            "requested_by": refund.requested_by, "outside": refund.outside,
            "detail": refund.detail, "created_at": rfc3339(refund.created_at),
            "succeeded_at": rfc3339(refund.succeeded_at)}


def list_refunds(session: Session, actor: Actor, out_trade_no: str | None = None,
                 status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Refunds newest first (admins only), of one donation or in one status if asked."""
    actor.require_admin()
    query = (select(Refund, Donation.out_trade_no).join(Donation, Donation.id == Refund.donation_id)
             .order_by(Refund.id.desc()).limit(limit))
    if out_trade_no:
        query = query.where(Donation.out_trade_no == out_trade_no)
    if status:
        if status not in set(RefundStatus):
            raise InvalidRequestError("未知的退款状态")
        query = query.where(Refund.status == status)
    return [refund_dict(r, otn) for r, otn in session.execute(query)]
