"""Admin API for admins only: accounts, the audit trail, notifications and anomalies."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.services.accounts import account_import, accounts, anomalies, audit
from app.services.errors import InvalidRequestError
from app.services.payments import refunds
from app.web.admin_api.args import cursor
from app.web.auth import current_actor
from app.web.context import deps, get_session
from app.web.parsing import field, json_body, query_arg

bp = Blueprint("admin_manage", __name__, url_prefix="/admin/api")


@bp.get("/accounts")
def list_accounts() -> Response:
    return jsonify({"accounts": accounts.accounts_for(get_session(), current_actor())})


@bp.post("/accounts")
def create_account() -> tuple[Response, int]:
    actor = current_actor()
    body = json_body()
    created = accounts.create_account(
        get_session(), actor, username=field(body, "username", str),
        password=field(body, "password", str), role=field(body, "role", str),
        unit_code=field(body, "unit", str, default=None), now=deps().clock())
    return jsonify({"username": created.username, "role": created.role,
                    "unit": field(body, "unit", str, default=None), "active": True}), 201


@bp.post("/accounts/import")
def import_accounts() -> tuple[Response, int]:
    """Body: the CSV itself (text/csv) or a multipart upload named `file`."""
    actor = current_actor()
    upload = request.files.get("file")
    content = upload.read() if upload is not None else request.get_data()
    if not content:
        raise InvalidRequestError("请上传 CSV 文件")
    rows = account_import.read_accounts_csv(content)
    created = account_import.import_accounts(get_session(), actor, rows, deps().clock())
    return jsonify({"accounts": [{"username": r.username, "role": r.role, "unit": r.unit,
                                  "password": r.password if r.generated else None}
                                 for r in created]}), 201


@bp.patch("/accounts/<username>")
def update_account(username: str) -> Response:
    """{"active": bool} enables or disables; {"password": "..."} resets the password."""
    actor = current_actor()
    body = json_body()
    active, password = field(body, "active", bool, default=None), field(
        body, "password", str, default=None)
    if active is None and password is None:
        raise InvalidRequestError("请指定 active 或 password")
    session, now = get_session(), deps().clock()
    if password is not None:
        accounts.reset_password(session, actor, username, password, now)
    if active is True:
        accounts.enable_account(session, actor, username, now)
    elif active is False:
        accounts.disable_account(session, actor, username, now)
    found = [a for a in accounts.accounts_for(session, actor) if a["username"] == username]
    return jsonify(found[0])


@bp.get("/audit")
def audit_actions() -> Response:
    return jsonify(audit.list_actions(get_session(), current_actor(), cursor(),
                                      query_arg("action", max_length=40)))


@bp.get("/notifications")
def notifications() -> Response:
    return jsonify(audit.list_notifications(get_session(), current_actor(), cursor(),
                                            query_arg("verdict", max_length=20)))


@bp.get("/notifications/<int(max=9223372036854775807):notification_id>")
def notification(notification_id: int) -> Response:
    return jsonify(audit.notification_detail(get_session(), current_actor(), notification_id,
                                             deps().clock()))


@bp.get("/anomalies")
def list_anomalies() -> Response:
    open_only = query_arg("all", max_length=5) not in ("1", "true")
    return jsonify({"anomalies": anomalies.list_anomalies(get_session(), current_actor(),
                                                          open_only)})


@bp.post("/anomalies/<int(max=2147483647):anomaly_id>/resolve")
def resolve_anomaly(anomaly_id: int) -> Response:
    actor = current_actor()
    body = json_body()
    return jsonify(anomalies.resolve_anomaly(get_session(), actor, anomaly_id,
                                             field(body, "resolution", str), deps().clock()))


@bp.post("/donations/<out_trade_no>/refund")
def refund_donation(out_trade_no: str) -> tuple[Response, int]:
    """{"reason", "amount_fen"?} -> 202 {"out_refund_no", "status": "refunding"}."""
    actor = current_actor()
    body = json_body()
    asked = refunds.RefundAsked(out_trade_no, field(body, "reason", str),
                                field(body, "amount_fen", int, default=None))
    return jsonify(refunds.request_refund(get_session(), deps(), actor, asked)), 202


@bp.get("/refunds")
def list_refunds() -> Response:
    return jsonify({"refunds": refunds.list_refunds(
        get_session(), current_actor(), out_trade_no=query_arg("out_trade_no"),
        status=query_arg("status"))})
