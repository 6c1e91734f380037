"""WeChat's access token kept in the database, so every worker process shares one token.

Refreshes are serialised: a second worker that finds the token already replaced uses the new one
instead of fetching (each fetch revokes the previous token). On PostgreSQL an advisory lock does
it, inside the transaction that stores the token. On SQLite a write transaction locks the whole
database, and payments must not wait on WeChat's token endpoint, so refreshes take a lock file
beside the database instead and write only once the token is in hand.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.services.deps import Clock, utc_now
from models import SharedToken
from models.database import is_postgres, write_transaction

SAFETY_MARGIN = timedelta(minutes=5)


class DatabaseTokenStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock = utc_now) -> None:
        self._sessions = sessions
        self._clock = clock
        self._thread_lock = threading.Lock()
        self._database: tuple[bool, str | None] | None = None  # see _which_database

    def get(self, key: str) -> str | None:
        with self._sessions() as session:
            return self._current(session, key, stale=None)

    def refresh(self, key: str, stale: str | None,
                fetch: Callable[[], tuple[str, int]]) -> str:
        postgres, sqlite_file = self._which_database()
        if postgres:
            with self._sessions() as session, write_transaction(session):
                # Serialise refreshes even when the row does not exist yet.
                session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
                current = self._current(session, key, stale)
                if current is not None:
                    return current
                return self._store(session, key, *fetch())
        with self._refresh_lock(sqlite_file):
            with self._sessions() as session:
                current = self._current(session, key, stale)
            if current is not None:
                return current
            value, expires_in = fetch()  # no transaction open: writers go on meanwhile
            with self._sessions() as session, write_transaction(session):
                return self._store(session, key, value, expires_in)

    def _current(self, session: Session, key: str, stale: str | None) -> str | None:
        """The stored token while it is valid and not the `stale` one (which a refresh replaces)."""
        row = session.get(SharedToken, key)
        if row is not None and row.value != stale and row.expires_at > self._clock():
            return row.value
        return None

    def _store(self, session: Session, key: str, value: str, expires_in: int) -> str:
        expires_at = self._clock() + timedelta(seconds=expires_in) - SAFETY_MARGIN
        row = session.get(SharedToken, key)
        if row is None:
            session.add(SharedToken(key=key, value=value, expires_at=expires_at))
        else:
            row.value, row.expires_at = value, expires_at
        return value

    def _which_database(self) -> tuple[bool, str | None]:
        """(PostgreSQL?, else the SQLite file, None when in memory), asked of the database once:
        SQLite's own answer covers every way its URL can name the file."""
        if self._database is None:
            with self._sessions() as session:
                if is_postgres(session):
                    self._database = (True, None)
                else:
                    files = {str(r[1]): str(r[2] or "")
                             for r in session.execute(text("PRAGMA database_list"))}
                    self._database = (False, files.get("main") or None)
        return self._database

    @contextmanager
    def _refresh_lock(self, sqlite_file: str | None) -> Iterator[None]:
        """One refresh at a time among this process's threads and every other process."""
        with self._thread_lock:
            if sqlite_file is None:
                yield
                return
            # Read-only is enough for flock, so a lock file another user made still works.
            descriptor = os.open(f"{sqlite_file}.token-lock", os.O_RDONLY | os.O_CREAT, 0o660)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                os.close(descriptor)  # closing releases the lock


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
