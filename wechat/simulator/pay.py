"""WeChat Pay APIv3 endpoints of the stand-in: authenticated, validated, signed."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from wechat.pay_crypto import parse_authorization, request_message, verify_message
from wechat.pay_notify import MAX_CLOCK_SKEW_SECONDS
from wechat.simulator.state import SimOrder
from wechat.simulator.validation import jsapi_order_error
from wechat.simulator.web import read_json

if TYPE_CHECKING:
    from wechat.simulator.app import SimulatorApp


def _canonical_url(request: Request) -> str:
    # The merchant signed the path exactly as sent, so prefer the raw request line.
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return str(raw)
    query = request.query_string.decode("latin-1")
    path = quote(request.path, safe="/-_.~")
    return f"{path}?{query}" if query else path


def _authorization_error(sim: SimulatorApp, request: Request) -> str | None:
    params = parse_authorization(request.headers.get("Authorization", ""))
    if params is None:
        return "missing or malformed Authorization"
    if params["mchid"] != sim.config.mchid or params["serial_no"] != sim.config.merchant_serial_no:
        return "unknown mchid or merchant serial_no"
    timestamp = params["timestamp"]
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return "bad timestamp"
    if abs(sim.config.clock().timestamp() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return "timestamp too far from now"
    message = request_message(
        request.method, _canonical_url(request), timestamp, params["nonce_str"], request.get_data()
    )
    if not verify_message(sim.config.merchant_public_key, message, params["signature"]):
        return "signature mismatch"
    return None


def authenticate(sim: SimulatorApp, request: Request) -> Response | None:
    """A 401 SIGN_ERROR reply unless the merchant's signature checks out."""
    error = _authorization_error(sim, request)
    if error is not None:
        return sim.pay_error(401, "SIGN_ERROR", error)
    # A PUB_KEY_ID_ that is not ours is refused as WeChat does; platform-cert serials pass.
    serial = request.headers.get("Wechatpay-Serial", "")
    if serial.startswith("PUB_KEY_ID_") and serial != sim.config.wechatpay_public_key_id:
        return sim.pay_error(400, "INVALID_REQUEST", "Wechatpay-Serial is not our public key id")
    return None


def _new_prepay_id(now: datetime) -> str:
    return "wx" + now.strftime("%d%H%M%S") + secrets.token_hex(13)


def _order_conflict(sim: SimulatorApp, existing: SimOrder, body: dict[str, Any]) -> Response:
    if existing.trade_state in ("SUCCESS", "REFUND"):
        return sim.pay_error(400, "ORDERPAID", "该订单已支付")
    if existing.trade_state == "CLOSED":
        return sim.pay_error(400, "ORDER_CLOSED", "该订单已关闭")
    if existing.request != body:
        return sim.pay_error(400, "INVALID_REQUEST", "201 商户订单号重复")
    return sim.signed(200, {"prepay_id": existing.prepay_id})


def _jsapi_body_error(sim: SimulatorApp, body: dict[str, Any] | None) -> Response | None:
    if body is None:
        return sim.pay_error(400, "PARAM_ERROR", "body is not a JSON object")
    if body.get("appid") != sim.config.appid or body.get("mchid") != sim.config.mchid:
        return sim.pay_error(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
    error = jsapi_order_error(body)
    return None if error is None else sim.pay_error(400, "PARAM_ERROR", error)


def create_jsapi_order(sim: SimulatorApp, request: Request) -> Response:
    body = read_json(request)
    refusal = _jsapi_body_error(sim, body)
    if refusal is not None or body is None:
        return refusal or sim.pay_error(400, "PARAM_ERROR", "no body")
    out_trade_no = body["out_trade_no"]
    with sim.state.lock:
        existing = sim.state.orders.get(out_trade_no)
        if existing is not None:
            return _order_conflict(sim, existing, body)
        now = sim.config.clock()
        order = SimOrder(out_trade_no, body, _new_prepay_id(now), now)
        sim.state.orders[out_trade_no] = order
    return sim.signed(200, {"prepay_id": order.prepay_id})


def _mchid_error(sim: SimulatorApp, mchid: object) -> Response | None:
    if mchid != sim.config.mchid:
        return sim.pay_error(400, "PARAM_ERROR", "mchid does not match")
    return None


def _unknown_order(sim: SimulatorApp) -> Response:
    return sim.pay_error(404, "ORDER_NOT_EXIST", "订单不存在")


def query_order(sim: SimulatorApp, request: Request, out_trade_no: str) -> Response:
    refusal = _mchid_error(sim, request.args.get("mchid"))
    if refusal is not None:
        return refusal
    with sim.state.lock:
        order = sim.state.orders.get(out_trade_no)
        if order is None:
            return _unknown_order(sim)
        return sim.signed(200, order.as_json())


def close_order(sim: SimulatorApp, request: Request, out_trade_no: str) -> Response:
    body = read_json(request) or {}
    refusal = _mchid_error(sim, body.get("mchid"))
    if refusal is not None:
        return refusal
    with sim.state.lock:
        order = sim.state.orders.get(out_trade_no)
        if order is None:
            return _unknown_order(sim)
        if order.trade_state in ("SUCCESS", "REFUND"):
            return sim.pay_error(400, "ORDERPAID", "该订单已支付")
        order.trade_state = "CLOSED"
    return sim.signed(204)
