"""The admin JSON API: bearer tokens from /admin/api/token, or the console's session cookie
(whose state-changing requests must carry the CSRF token)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.services.accounts import accounts
from app.services.actor import Actor
from app.services.errors import UnauthorizedError
from app.web.admin_session import SAFE_METHODS, check_csrf, session_token, sign_out
from app.web.context import deps, get_session, limiter
from app.web.parsing import bearer_token, client_ip, field, json_body

bp = Blueprint("admin_api", __name__, url_prefix="/admin/api")


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


@bp.post("/token")
def token() -> Response:
    body = json_body()
    issued = login(field(body, "username", str), field(body, "password", str))
    return jsonify({"token": issued, "expires_in": deps().token_ttl_seconds})


@bp.post("/logout")
def logout() -> Response:
    accounts.logout(get_session(), current_actor(), deps().clock())
    sign_out()
    return jsonify({"ok": True})


@bp.get("/me")
def me() -> Response:
    return jsonify(accounts.describe_actor(get_session(), current_actor()))


@bp.post("/password")
def change_password() -> Response:
    actor = current_actor()
    body = json_body()
    accounts.change_own_password(get_session(), actor, field(body, "old_password", str),
                                 field(body, "new_password", str), deps().clock())
    sign_out()
    return jsonify({"ok": True})


def _register_children() -> None:
    from app.web import admin_bills, admin_data, admin_manage

    bp.register_blueprint(admin_data.bp)
    bp.register_blueprint(admin_manage.bp)
    bp.register_blueprint(admin_bills.bp)


_register_children()
