"""The audit trail of admin actions: who, what, when, from where."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from models import AuditEntry

if TYPE_CHECKING:
    from app.services.accounts import Actor


def record_action(session: Session, actor: Actor, action: str, target: str,
                  detail: dict[str, Any], now: datetime) -> None:
    """Adds an entry to the caller's transaction, so the action and its record commit together."""
    session.add(AuditEntry(at=now, actor=actor.username, action=action, target=target[:100],
                           detail=json.dumps(detail, ensure_ascii=False, default=str),
                           remote_addr=actor.remote_addr[:64]))
