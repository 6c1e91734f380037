"""A request-scoped SQLAlchemy session on `g`, closed on teardown."""

from __future__ import annotations

from flask import Flask, g
from sqlalchemy.orm import Session

from app.runtime import current_runtime


def get_session(*, bounded: bool = False) -> Session:
    """This request's session; `bounded`: one that waits for a lock at most the few seconds of
    NOTIFICATION_WAIT_SECONDS (a request answering WeChat Pay, which waits 5 s)."""
    if "db_session" not in g:
        runtime = current_runtime()
        g.db_session = (runtime.sessions(bind=runtime.bounded_engine) if bounded
                        else runtime.sessions())
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close_session)
