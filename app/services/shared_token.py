"""WeChat's access token kept in the database, so every worker process shares one token.

A refresh happens under the row's write lock: a second worker that finds the token already
replaced uses the new one instead of fetching (each fetch revokes the previous token).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from app.services.deps import Clock, utc_now
from models import SharedToken
from models.database import is_postgres, write_transaction

SAFETY_MARGIN = timedelta(minutes=5)


class DatabaseTokenStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock = utc_now) -> None:
        self._sessions = sessions
        self._clock = clock

    def get(self, key: str) -> str | None:
        with self._sessions() as session:
            row = session.get(SharedToken, key)
            if row is None or row.expires_at <= self._clock():
                return None
            return row.value

    def refresh(self, key: str, stale: str | None, fetch: Callable[[], tuple[str, int]]) -> str:
        with self._sessions() as session, write_transaction(session):
            if is_postgres(session):
                # Serialise refreshes even when the row does not exist yet.
                session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
            row = session.scalar(select(SharedToken).where(SharedToken.key == key))
            now = self._clock()
            if row is not None and row.value != stale and row.expires_at > now:
                return row.value
            value, expires_in = fetch()
            expires_at = now + timedelta(seconds=expires_in) - SAFETY_MARGIN
            if row is None:
                session.add(SharedToken(key=key, value=value, expires_at=expires_at))
            else:
                row.value, row.expires_at = value, expires_at
            return value


class RedisTokenStore:
    """The same contract on Redis, when [redis].url is set."""

    def __init__(self, client: object) -> None:
        self._redis = client

    def get(self, key: str) -> str | None:
        value = self._redis.get(f"warmfund:token:{key}")  # type: ignore[attr-defined]
        return value.decode() if value else None

    def refresh(self, key: str, stale: str | None, fetch: Callable[[], tuple[str, int]]) -> str:
        name = f"warmfund:token:{key}"
        with self._redis.lock(f"{name}:lock", timeout=30, blocking_timeout=30):  # type: ignore[attr-defined]
            current = self.get(key)
            if current is not None and current != stale:
                return current
            value, expires_in = fetch()
            ttl = max(60, expires_in - int(SAFETY_MARGIN.total_seconds()))
            self._redis.set(name, value, ex=ttl)  # type: ignore[attr-defined]
            return value
