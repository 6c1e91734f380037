"""The console's signed-in session: our admin token kept in Flask's signed, HttpOnly cookie,
with a CSRF token that every state-changing request made with that cookie must echo."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import Flask, Request, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from app.services.errors import ForbiddenError

TOKEN_KEY = "admin_token"
CSRF_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CONSOLE_PREFIX = "/admin"


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, opened only under /admin: nothing else has a session, and a payment
    notification or a mini-program call need not pay for checking a cookie they never use."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path == CONSOLE_PREFIX or request.path.startswith(CONSOLE_PREFIX + "/"):
            return super().open_session(app, request)
        return None  # Flask gives such requests its null session, which refuses writes

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        if not self.is_null_session(session):
            super().save_session(app, session, response)


def sign_in(token: str) -> None:
    session.clear()
    session[TOKEN_KEY] = token
    session[CSRF_KEY] = secrets.token_urlsafe(24)


def sign_out() -> None:
    session.clear()


def session_token() -> str | None:
    token = session.get(TOKEN_KEY)
    return token if isinstance(token, str) else None


def csrf_token() -> str:
    """The session's CSRF token (made on first use, e.g. for the login form)."""
    token = session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        session[CSRF_KEY] = token
    return token


def check_csrf() -> None:
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token") or ""
    expected = session.get(CSRF_KEY)
    # As bytes: compare_digest() refuses str with characters beyond ASCII.
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ForbiddenError("页面已过期，请刷新后重试")
