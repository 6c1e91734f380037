"""The console's signed-in session: our admin token kept in Flask's signed, HttpOnly cookie,
with a CSRF token that every state-changing request made with that cookie must echo."""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

from app.services.errors import ForbiddenError

TOKEN_KEY = "admin_token"
CSRF_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


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
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise ForbiddenError("页面已过期，请刷新后重试")
