"""The admin JSON API's own account: a bearer token from /admin/api/token (or the console's
session cookie), the signed-in account, its password, signing out."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.services.accounts import accounts
from app.web.auth import current_actor, login
from app.web.console.session import sign_out
from app.web.context import deps, get_session
from app.web.parsing import field, json_body

bp = Blueprint("admin_api", __name__, url_prefix="/admin/api")


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

