"""The mini-program's JSON API: parse, call one service, reply."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.services.catalog import campaigns, donor_login
from app.services.payments import donations
from app.web.context import deps, get_session, limiter
from app.web.parsing import bearer_token, client_ip, field, json_body, query_arg

bp = Blueprint("api", __name__, url_prefix="/api")


def _openid() -> str:
    return donor_login.openid_from_token(deps(), bearer_token())


@bp.post("/login")
def login() -> Response:
    # Generous: workers behind one carrier NAT or office network share an address, and WeChat
    # itself limits code2Session per user.
    limiter().hit("login", client_ip(), limit=600)
    code = field(json_body(), "code", str)
    result = donor_login.login(get_session(), deps(), code)
    return jsonify({"token": result.token, "expires_in": result.expires_in})


@bp.get("/campaigns")
def list_campaigns() -> Response:
    return jsonify({"campaigns": campaigns.list_campaigns(get_session())})


@bp.get("/campaigns/<code>")
def get_campaign(code: str) -> Response:
    return jsonify(campaigns.get_campaign(get_session(), code))


@bp.get("/units/<code>")
def get_unit(code: str) -> Response:
    return jsonify(campaigns.get_unit(get_session(), code))


@bp.post("/donations")
def create_donation() -> tuple[Response, int]:
    openid = _openid()
    limiter().hit("order", openid, limit=30)
    body = json_body()
    request = donations.OrderRequest(
        openid=openid,
        campaign=field(body, "campaign", str),
        unit=field(body, "unit", str),
        quantity=field(body, "quantity", int, default=1),
        anonymous=field(body, "anonymous", bool, default=False),
        message=field(body, "message", str, default="").strip(),
    )
    placed = donations.place_order(get_session(), deps(), request)
    return jsonify({**placed.donation, "payment": placed.payment}), 201 if placed.created else 200


@bp.get("/donations/<out_trade_no>")
def get_donation(out_trade_no: str) -> Response:
    openid = _openid()
    return jsonify(donations.get_own_donation(get_session(), deps(), openid, out_trade_no))


@bp.get("/me/donations")
def my_donations() -> Response:
    openid = _openid()
    return jsonify(donations.list_own_donations(get_session(), openid, query_arg("cursor")))
