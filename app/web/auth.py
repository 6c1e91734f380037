"""Who is asking, for the admin API, its downloads and the console: a bearer token, or the
console's session cookie (whose state-changing requests must carry the CSRF token)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.services.accounts import accounts
from app.services.actor import Actor
from app.services.errors import UnauthorizedError
from app.web.console.session import SAFE_METHODS, check_csrf, session_token, sign_out
from app.web.context import deps, get_session, limiter
from app.web.parsing import bearer_token, client_ip

F = TypeVar("F", bound=Callable[..., Any])


def current_actor() -> Actor:
    """The signed-in admin or organizer; 401 without a valid token or session."""
    d = deps()
    if "Authorization" in request.headers:
        token = bearer_token()
    else:
        found = session_token()
        if found is None:
            raise UnauthorizedError("请先登录")
        if request.method not in SAFE_METHODS:
            check_csrf()
        token = found
    return accounts.actor_from_token(get_session(), d.secret_key, token,
                                     d.token_ttl_seconds, client_ip())


def login(username: str, password: str) -> str:
    """Rate-limited password check shared by the API and the console's login form."""
    limiter().hit("admin-login", client_ip(), limit=20)
    d = deps()
    return accounts.authenticate(get_session(), d.secret_key, username, password, d.clock(),
                                 client_ip())


def signed_in(view: F) -> F:
    """For console pages: puts the actor on g.actor; sends strangers to the login page."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            g.actor = current_actor()
        except UnauthorizedError:
            sign_out()
            return redirect(url_for("console.login_page", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def actor() -> Actor:
    """The actor `signed_in` found for this page."""
    found: Actor = g.actor
    return found


def back(endpoint: str, **values: Any) -> BaseResponse:
    """After a form post: to the page that shows its outcome."""
    return redirect(url_for(endpoint, **values))
