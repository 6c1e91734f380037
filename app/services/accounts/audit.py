"""The audit trail: admin actions (who, what, when, from where) and every WeChat Pay
notification received, with its verdict and, on demand, its raw body."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.errors import NotFoundError
from app.services.formatting import rfc3339
from app.services.paging import newest_first
from models import AuditEntry, Notification
from models.database import write_transaction

if TYPE_CHECKING:
    from app.services.actor import Actor

PAGE = 100


def record_action(session: Session, actor: Actor, action: str, target: str,
                  detail: dict[str, Any], now: datetime) -> None:
    """Adds an entry to the caller's transaction, so the action and its record commit together."""
    session.add(AuditEntry(at=now, actor=actor.username, action=action, target=target[:100],
                           detail=json.dumps(detail, ensure_ascii=False, default=str),
                           remote_addr=actor.remote_addr[:64]))


def list_actions(session: Session, actor: Actor, cursor: str | None = None,
                 action: str | None = None, limit: int = PAGE) -> dict[str, Any]:
    """Admin actions, newest first (admins only)."""
    actor.require_admin()
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    page, next_cursor = newest_first(session, query, AuditEntry.id, cursor, limit,
                                     lambda row: int(row[0].id))
    return {"actions": [{"id": e.id, "at": rfc3339(e.at), "actor": e.actor, "action": e.action,
                         "target": e.target, "detail": e.detail, "remote_addr": e.remote_addr}
                        for (e,) in page],
            "next": next_cursor}


def list_notifications(session: Session, actor: Actor, cursor: str | None = None,
                       verdict: str | None = None, limit: int = PAGE) -> dict[str, Any]:
    """Notifications received, newest first, without their bodies (admins only)."""
    actor.require_admin()
    columns = (Notification.id, Notification.kind, Notification.received_at,
               Notification.remote_addr, Notification.verdict, Notification.out_trade_no,
               Notification.transaction_id, Notification.detail)
    query = select(*columns)
    if verdict:
        query = query.where(Notification.verdict == verdict)
    page, next_cursor = newest_first(session, query, Notification.id, cursor, limit)
    return {"notifications": [_notification(r) for r in page], "next": next_cursor}


def _notification(row: Any) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "received_at": rfc3339(row.received_at),
            "remote_addr": row.remote_addr, "verdict": row.verdict,
            "out_trade_no": row.out_trade_no, "transaction_id": row.transaction_id,
            "detail": row.detail}


def notification_detail(session: Session, actor: Actor, notification_id: int,
                        now: datetime) -> dict[str, Any]:
    """One notification with its headers and raw body; reading it is itself audited."""
    actor.require_admin()
    found = session.get(Notification, notification_id)
    if found is None:
        raise NotFoundError("找不到该通知")
    with write_transaction(session):
        record_action(session, actor, "notification.view", str(notification_id), {}, now)
    return {**_notification(found), "headers": json.loads(found.headers or "{}"),
            "body": found.body.decode("utf-8", errors="replace")}
