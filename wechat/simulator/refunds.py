"""The stand-in's refunds: WeChat Pay's refund API, and control endpoints (not WeChat's) that
settle a refund (SUCCESS, CLOSED, ABNORMAL), make one as the merchant platform would (outside
the merchant's own system), or make the next refund request fail or lose its reply.

Each settlement posts a signed, encrypted REFUND.* notification to the refund's notify_url,
`repeat` times (WeChat's redeliveries), or not at all (`notify: false`, a lost notification).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from wechat.simulator.control import MAX_REPEAT, notify
from wechat.simulator.state import SimOrder, SimRefund
from wechat.simulator.validation import refund_error
from wechat.simulator.web import json_response, read_json

if TYPE_CHECKING:
    from wechat.simulator.app import SimulatorApp

REFUND_OUTCOMES = frozenset({"SUCCESS", "ABNORMAL", "CLOSED"})
# Which settled states may still change: an abnormal refund is sent again from the merchant
# platform (and then succeeds) or given up (closed); SUCCESS and CLOSED are final.
_SETTLEABLE = frozenset({"PROCESSING", "ABNORMAL"})

# WeChat Pay's documented refusals of a refund request (status, message).
REFUSALS: dict[str, tuple[int, str]] = {
    "NOT_ENOUGH": (403, "基本账户余额不足，请充值后重新发起"),
    "USER_ACCOUNT_ABNORMAL": (403, "退款请求失败"),
    "FREQUENCY_LIMITED": (429, "频率限制"),
    "SYSTEM_ERROR": (500, "系统超时"),
    "NO_AUTH": (403, "没有退款权限"),
}


@dataclass
class NextRefundFailure:
    """How the next refund request fails: refused with `code`, or (`lose_reply`) created at
    WeChat Pay with the reply lost on the way back (a 500 here)."""

    code: str
    lose_reply: bool = False


def _error(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status)


def _new_refund_id() -> str:
    return "50" + "".join(secrets.choice("0123456789") for _ in range(27))


def _paid_total(order: SimOrder) -> int:
    return order.paid_total or order.amount_total


def _refund_conflict(sim: SimulatorApp, body: dict[str, Any]) -> Response | None:
    order = sim.state.orders.get(body["out_trade_no"])
    if order is None:
        return sim.pay_error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
    if order.trade_state not in ("SUCCESS", "REFUND"):
        return sim.pay_error(400, "INVALID_REQUEST", "订单未支付")
    if body["amount"]["total"] != _paid_total(order):
        return sim.pay_error(400, "INVALID_REQUEST", "订单金额与原订单不一致")
    if _refundable(sim, order) < body["amount"]["refund"]:
        return sim.pay_error(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
    return None


def _refundable(sim: SimulatorApp, order: SimOrder) -> int:
    taken = sum(r.amount_refund for r in sim.state.refunds.values()
                if r.order is order and r.status != "CLOSED")
    return _paid_total(order) - taken


def _take_failure(sim: SimulatorApp) -> NextRefundFailure | None:
    failure: NextRefundFailure | None = sim.extras.pop("next_refund_failure", None)
    return failure


def _open_refund(sim: SimulatorApp, order: SimOrder, out_refund_no: str, amount: int,
                 notify_url: str | None) -> SimRefund:
    refund = SimRefund(out_refund_no, _new_refund_id(), order, amount, notify_url,
                       sim.config.clock())
    sim.state.refunds[out_refund_no] = refund
    return refund


def create_refund(sim: SimulatorApp, request: Request) -> Response:
    body = read_json(request)
    error = "body is not a JSON object" if body is None else refund_error(body)
    if error is not None or body is None:
        return sim.pay_error(400, "PARAM_ERROR", error or "no body")
    with sim.state.lock:
        existing = sim.state.refunds.get(body["out_refund_no"])
        if existing is not None:
            # out_refund_no makes the request idempotent: a retry gets the same refund.
            return sim.signed(200, existing.as_json())
        refusal = _refund_conflict(sim, body)
        if refusal is not None:
            return refusal
        failure = _take_failure(sim)
        if failure is not None and not failure.lose_reply:
            status, message = REFUSALS[failure.code]
            return sim.pay_error(status, failure.code, message)
        refund = _open_refund(sim, sim.state.orders[body["out_trade_no"]],
                              body["out_refund_no"], body["amount"]["refund"],
                              body.get("notify_url"))
        if failure is not None:
            return sim.pay_error(500, "SYSTEM_ERROR", "系统超时")
        return sim.signed(200, refund.as_json())


def query_refund(sim: SimulatorApp, request: Request, out_refund_no: str) -> Response:
    with sim.state.lock:
        refund = sim.state.refunds.get(out_refund_no)
        if refund is None:
            return sim.pay_error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return sim.signed(200, refund.as_json())


def _delivery_options(payload: dict[str, Any]) -> tuple[int, str | None] | str:
    repeat, notify_url = payload.get("repeat", 1), payload.get("notify_url")
    if payload.get("notify", True) is False:
        repeat = 0
    elif isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
        return f"repeat must be an integer from 1 to {MAX_REPEAT}"
    if notify_url is not None and not isinstance(notify_url, str):
        return "notify_url must be a string"
    return repeat, notify_url


def _settle(sim: SimulatorApp, refund: SimRefund, outcome: str) -> None:
    refund.status = outcome
    if outcome == "SUCCESS":
        refund.success_time = sim.config.clock()
        refund.order.trade_state = "REFUND"


def _deliver(sim: SimulatorApp, refund: SimRefund, repeat: int,
             notify_url: str | None) -> Response:
    plain = refund.as_notification(sim.config.mchid)
    deliveries = notify(sim, notify_url or refund.notify_url, f"REFUND.{refund.status}",
                        "refund", plain, repeat)
    return json_response({"out_refund_no": refund.out_refund_no, "refund_id": refund.refund_id,
                          "status": refund.status, "deliveries": deliveries})


def complete_refund(sim: SimulatorApp, request: Request, out_refund_no: str) -> Response:
    """Settle a refund ({"status": SUCCESS|CLOSED|ABNORMAL}) and post its notification.

    With {"resend": true} the refund's current state is notified again, unchanged: a copy
    that arrives late, after a later event (notifications out of order)."""
    payload = read_json(request, allow_empty=True)
    if payload is None:
        return _error("body must be a JSON object")
    outcome, options = payload.get("status", "SUCCESS"), _delivery_options(payload)
    if isinstance(options, str):
        return _error(options)
    if outcome not in REFUND_OUTCOMES:
        return _error(f"status must be one of {sorted(REFUND_OUTCOMES)}")
    with sim.state.lock:
        refund = sim.state.refunds.get(out_refund_no)
        if refund is None:
            return _error("no such refund", 404)
        if not payload.get("resend"):
            if refund.status not in _SETTLEABLE:
                return _error(f"refund is {refund.status} already", 409)
            _settle(sim, refund, str(outcome))
    return _deliver(sim, refund, *options)


def refund_outside(sim: SimulatorApp, request: Request, out_trade_no: str) -> Response:
    """A refund made on the merchant platform, not by the merchant's system: {"amount"?
    (default: all that is left), "status"? (default SUCCESS; PROCESSING leaves it open),
    "notify_url"? (default: the order's payment notify_url), "notify"?, "repeat"?}."""
    payload = read_json(request, allow_empty=True)
    if payload is None:
        return _error("body must be a JSON object")
    options, outcome = _delivery_options(payload), payload.get("status", "SUCCESS")
    if isinstance(options, str):
        return _error(options)
    if outcome not in REFUND_OUTCOMES | {"PROCESSING"}:
        return _error("status must be PROCESSING, SUCCESS, CLOSED or ABNORMAL")
    with sim.state.lock:
        order = sim.state.orders.get(out_trade_no)
        if order is None or order.trade_state not in ("SUCCESS", "REFUND"):
            return _error("no such paid order", 404)
        amount = payload.get("amount", _refundable(sim, order))
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            return _error("amount must be a positive integer (fen)")
        if amount > _refundable(sim, order):
            return _error("amount is more than is left to refund", 409)
        refund = _open_refund(sim, order, "MP" + secrets.token_hex(8).upper(), amount,
                              order.request["notify_url"])
        if outcome != "PROCESSING":
            _settle(sim, refund, str(outcome))
    repeat, notify_url = options
    return _deliver(sim, refund, repeat if outcome != "PROCESSING" else 0, notify_url)


def fail_next_refund(sim: SimulatorApp, request: Request) -> Response:
    """Make the next refund request fail: {"code": "NOT_ENOUGH" | …} refuses it as WeChat Pay
    would; {"lose_reply": true} creates it but answers 500, as if the reply were lost."""
    payload = read_json(request, allow_empty=True) or {}
    lose = payload.get("lose_reply") is True
    code = str(payload.get("code", "SYSTEM_ERROR"))
    if not lose and code not in REFUSALS:
        return _error(f"code must be one of {sorted(REFUSALS)}")
    with sim.state.lock:
        sim.extras["next_refund_failure"] = NextRefundFailure(code, lose)
    return json_response({"code": code, "lose_reply": lose})
