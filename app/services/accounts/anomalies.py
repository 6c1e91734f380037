"""Anomalies the payment path found (disputed amounts, unknown orders, payments after close):
listed for admins, and resolved with a note that joins the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.accounts.audit import record_action
from app.services.actor import Actor
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.formatting import rfc3339
from models import Anomaly
from models.database import write_transaction

KIND_NAMES = {"amount_mismatch": "金额不符", "unknown_order": "未知订单",
              "paid_after_close": "关单后支付", "conflicting_payment": "重复支付",
              "wrong_merchant": "非本商户通知", "refunded_outside": "商户平台退款",
              "refund_closed": "退款关闭", "refund_abnormal": "退款异常",
              "refund_exceeds": "退款超额"}


def record_anomaly(session: Session, kind: str, out_trade_no: str | None, now: datetime,
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
            "kind_name": KIND_NAMES.get(anomaly.kind, anomaly.kind),
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
