"""Anomalies the payment path found (disputed amounts, unknown orders, payments after close):
listed for admins, and resolved with a note that joins the audit trail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.accounts.audit import record_action
from app.services.actor import Actor
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.formatting import rfc3339
from models import Anomaly
from models.database import write_transaction


class AnomalyKind(StrEnum):
    """What an anomaly is about; stored in anomalies.kind (payments_pg writes paid_after_close
    in its own SQL)."""

    AMOUNT_MISMATCH = "amount_mismatch"
    UNKNOWN_ORDER = "unknown_order"
    PAID_AFTER_CLOSE = "paid_after_close"
    CONFLICTING_PAYMENT = "conflicting_payment"
    WRONG_MERCHANT = "wrong_merchant"
    REFUNDED_OUTSIDE = "refunded_outside"
    REFUND_CLOSED = "refund_closed"
    REFUND_ABNORMAL = "refund_abnormal"
    REFUND_EXCEEDS = "refund_exceeds"


# What admins read for each kind (the console, the API's kind_name, the audit trail).
ANOMALY_NAMES: dict[str, str] = {
    AnomalyKind.AMOUNT_MISMATCH: "金额不符", AnomalyKind.UNKNOWN_ORDER: "未知订单",
    AnomalyKind.PAID_AFTER_CLOSE: "关单后支付", AnomalyKind.CONFLICTING_PAYMENT: "重复支付",
    AnomalyKind.WRONG_MERCHANT: "非本商户通知", AnomalyKind.REFUNDED_OUTSIDE: "商户平台退款",
    AnomalyKind.REFUND_CLOSED: "退款关闭", AnomalyKind.REFUND_ABNORMAL: "退款异常",
    AnomalyKind.REFUND_EXCEEDS: "退款超额"}


def anomaly_name(kind: str) -> str:
    """The kind as admins read it; a kind no longer recorded keeps its code."""
    return ANOMALY_NAMES.get(kind, kind)


def record_anomaly(session: Session, kind: AnomalyKind, out_trade_no: str | None, now: datetime,
                   detail: str) -> None:
    """List something for admins, in the caller's transaction."""
    session.add(Anomaly(kind=kind, out_trade_no=out_trade_no, detail=detail[:300],
                        created_at=now))


def list_anomalies(session: Session, actor: Actor, open_only: bool = True,
                   limit: int = 200) -> list[dict[str, Any]]:
    """Newest first; open ones only unless asked (admins only)."""
    actor.require_admin()
    query = select(Anomaly).order_by(Anomaly.id.desc()).limit(limit)
    if open_only:
        query = query.where(Anomaly.resolved_at.is_(None))
    return [anomaly_dict(a) for a in session.scalars(query)]


def anomaly_dict(anomaly: Anomaly) -> dict[str, Any]:
    return {"id": anomaly.id, "kind": anomaly.kind,
            "kind_name": anomaly_name(anomaly.kind),
            "out_trade_no": anomaly.out_trade_no, "detail": anomaly.detail,
            "created_at": rfc3339(anomaly.created_at),
            "resolved_at": rfc3339(anomaly.resolved_at), "resolved_by": anomaly.resolved_by,
            "resolution": anomaly.resolution}


def resolve_anomaly(session: Session, actor: Actor, anomaly_id: int, resolution: str,
                    now: datetime) -> dict[str, Any]:
    actor.require_admin()
    if not resolution.strip() or len(resolution) > 300:
        raise InvalidRequestError("请填写处理说明（不超过300字）")
    with write_transaction(session):
        anomaly = session.get(Anomaly, anomaly_id)
        if anomaly is None:
            raise NotFoundError("找不到该异常")
        if anomaly.resolved_at is not None:
            raise InvalidRequestError("该异常已处理")
        anomaly.resolved_at, anomaly.resolved_by = now, actor.username
        anomaly.resolution = resolution.strip()
        record_action(session, actor, "anomaly.resolve", str(anomaly_id),
                      {"kind": anomaly.kind, "resolution": anomaly.resolution}, now)
    return anomaly_dict(anomaly)
