"""The admin JSON API (bearer tokens from /admin/api/token)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.services import accounts
from app.services.accounts import Actor
from app.web.context import deps, get_session, limiter
from app.web.parsing import bearer_token, client_ip, field, json_body

bp = Blueprint("admin_api", __name__, url_prefix="/admin/api")


def current_actor() -> Actor:
    d = deps()
    return accounts.actor_from_token(get_session(), d.secret_key, bearer_token(),
                                     d.token_ttl_seconds, client_ip())


@bp.post("/token")
def token() -> Response:
    limiter().hit("admin-login", client_ip(), limit=20)
    body = json_body()
    d = deps()
    issued = accounts.authenticate(get_session(), d.secret_key, field(body, "username", str),
                                   field(body, "password", str), d.clock(), client_ip())
    return jsonify({"token": issued, "expires_in": d.token_ttl_seconds})
