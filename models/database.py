"""Engines and sessions. SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE for writes. An
engine made with `wait_seconds` waits at most that long for any lock (and, on PostgreSQL, for any
statement): past it the statement fails instead of hanging on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

WRITE_OPTION = "warmfund_write"


SQLITE_BUSY_SECONDS = 30


def make_engine(url: str, *, echo: bool = False, pool_size: int = 5,
                wait_seconds: float | None = None) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo, wait_seconds or SQLITE_BUSY_SECONDS)
    # Set when each connection opens, so that even a statement straight to the driver has it.
    wait_ms = int((wait_seconds or 0) * 1000)
    options = {"options": f"-c lock_timeout={wait_ms} -c statement_timeout={wait_ms}"}
    # No pre-ping: it would add a round trip to every request, and a payment notification that
    # meets a dead connection answers 5xx, so WeChat simply delivers it again.
    return create_engine(url, echo=echo, pool_size=pool_size, max_overflow=10, pool_recycle=1800,
                         connect_args=options if wait_ms else {})


def _sqlite_engine(url: str, echo: bool, wait_seconds: float) -> Engine:
    engine = create_engine(url, echo=echo, connect_args={"timeout": wait_seconds,
                                                         "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(wait_seconds * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that later writes can fail with "database is locked" no matter
        # the busy timeout; writers take the write lock up front instead.
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """One write transaction: BEGIN IMMEDIATE on SQLite; commit on success, roll back on error.

    Any transaction the session already has (from a read) is ended first, so that SQLite's
    write lock is taken at the start of this one.
    """
    if session.in_transaction():
        session.rollback()
    session.connection(execution_options={WRITE_OPTION: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


_AUTOCOMMIT = "AUTOCOMMIT"


def statements_apart(session: Session) -> None:
    """On PostgreSQL, let what a fresh session runs next commit statement by statement, until
    a write_transaction() begins a real transaction: one round trip each, where BEGIN and the
    COMMIT or ROLLBACK around it make three. For work that needs no transaction: reads of one
    row, writes each atomic alone (standalone_writes). Nothing changes on SQLite."""
    if is_postgres(session) and not session.in_transaction():
        session.connection(execution_options={"isolation_level": _AUTOCOMMIT})


@contextmanager
def standalone_writes(session: Session) -> Iterator[Session]:
    """Writes each atomic on its own and correct with none around them (a guarded UPDATE, an
    upsert): run as they come after statements_apart(), else in one write_transaction()."""
    apart = session.in_transaction() and session.connection().get_execution_options().get(
        "isolation_level") == _AUTOCOMMIT
    if apart:
        yield session
        return
    with write_transaction(session):
        yield session
