"""Control endpoints of the stand-in (not WeChat's): pay orders, inspect state."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import requests
from werkzeug.wrappers import Request, Response

from wechat.pay_notify import build_notification
from wechat.simulator.state import SimOrder
from wechat.simulator.web import json_response, read_json
from wechat.timeutil import parse_rfc3339

if TYPE_CHECKING:
    from wechat.simulator.app import SimulatorApp

DELIVERY_TIMEOUT_SECONDS = 10.0
MAX_REPEAT = 20


def _error(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status)


def deliver(url: str, headers: Mapping[str, str], body: bytes) -> int | None:
    """POST one notification; the receiver's HTTP status, or None when unreachable."""
    with requests.Session() as session:
        try:
            response = session.post(
                url, data=body, headers=dict(headers), timeout=DELIVERY_TIMEOUT_SECONDS
            )
        except requests.RequestException:
            return None
        return response.status_code


def notify(
    sim: SimulatorApp,
    url: str | None,
    event: str,
    original_type: str,
    plain: dict[str, Any],
    repeat: int,
) -> list[dict[str, int | None]]:
    # Redeliveries of one event keep its id, as WeChat's retries do.
    config, notification_id = sim.config, None
    deliveries: list[dict[str, int | None]] = []
    for _ in range(repeat if url else 0):
        headers, body = build_notification(
            event_type=event,
            resource_plain=plain,
            original_type=original_type,
            apiv3_key=config.apiv3_key,
            private_key=config.wechatpay_private_key,
            serial=config.wechatpay_public_key_id,
            now=config.clock(),
            notification_id=notification_id,
        )
        notification_id = notification_id or _envelope_id(body)
        deliveries.append({"status": deliver(str(url), headers, body)})
        with sim.state.lock:
            sim.state.notifications_sent += 1
    return deliveries


def _envelope_id(body: bytes) -> str:
    return str(json.loads(body)["id"])


def _pay_options(payload: dict[str, Any], order: SimOrder) -> tuple[int, int, bool] | str:
    amount = payload.get("amount", order.amount_total)
    repeat, notify = payload.get("repeat", 1), payload.get("notify", True)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        return "amount must be a positive integer (fen)"
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
        return f"repeat must be an integer from 1 to {MAX_REPEAT}"
    if not isinstance(notify, bool):
        return "notify must be a boolean"
    return amount, repeat, notify


def _mark_paid(sim: SimulatorApp, order: SimOrder, amount: int) -> None:
    if order.transaction_id is None:
        order.transaction_id = "4200000" + "".join(secrets.choice("0123456789") for _ in range(21))
        order.success_time = sim.config.clock()
    order.paid_total = amount
    if order.trade_state != "REFUND":
        order.trade_state = "SUCCESS"


def _expired(sim: SimulatorApp, order: SimOrder) -> bool:
    expire = order.request.get("time_expire")
    return (order.trade_state == "NOTPAY" and expire is not None
            and sim.config.clock() > parse_rfc3339(str(expire)))


def pay_order(sim: SimulatorApp, request: Request, out_trade_no: str) -> Response:
    """Pay an order (as the worker would) and notify the merchant `repeat` times."""
    payload = read_json(request, allow_empty=True)
    if payload is None:
        return _error("body must be a JSON object")
    with sim.state.lock:
        order = sim.state.orders.get(out_trade_no)
        if order is None:
            return _error("no such order", 404)
        if order.trade_state == "CLOSED" and not payload.get("force"):
            return _error("order is CLOSED; pass force=true to simulate a close/pay race", 409)
        if _expired(sim, order) and not payload.get("force"):
            # As WeChat Pay: past time_expire an unpaid order cannot be paid.
            return _error("order is past its time_expire; pass force=true to pay it anyway", 409)
        options = _pay_options(payload, order)
        if isinstance(options, str):
            return _error(options)
        amount, repeat, notifies = options
        _mark_paid(sim, order, amount)
        plain, url = order.as_json(), order.request["notify_url"]
    deliveries = notify(
        sim, url, "TRANSACTION.SUCCESS", "transaction", plain, repeat if notifies else 0
    )
    return json_response({"transaction_id": plain["transaction_id"], "deliveries": deliveries})


def list_orders(sim: SimulatorApp, request: Request) -> Response:
    with sim.state.lock:
        orders = [order.as_json() for order in sim.state.orders.values()]
    return json_response({"orders": orders})


def state(sim: SimulatorApp, request: Request) -> Response:
    return json_response(sim.state.summary())
