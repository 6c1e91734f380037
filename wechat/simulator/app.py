"""The stand-in's WSGI application: routing and WeChat Pay's response signing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from wechat.pay_notify import signed_headers
from wechat.simulator import bill, control, mp, pay, refunds
from wechat.simulator.config import SimulatorConfig
from wechat.simulator.state import SimulatorState
from wechat.simulator.web import dumps, json_response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

Handler = Callable[..., Response]

_RULES: list[tuple[str, str, Handler]] = [
    ("/sns/jscode2session", "GET", mp.jscode2session),
    ("/cgi-bin/token", "GET", mp.token),
    ("/wxa/getwxacodeunlimit", "POST", mp.wxacode_unlimited),
    ("/v3/pay/transactions/jsapi", "POST", pay.create_jsapi_order),
    ("/v3/pay/transactions/out-trade-no/<out_trade_no>", "GET", pay.query_order),
    ("/v3/pay/transactions/out-trade-no/<out_trade_no>/close", "POST", pay.close_order),
    ("/v3/refund/domestic/refunds", "POST", refunds.create_refund),
    ("/v3/refund/domestic/refunds/<out_refund_no>", "GET", refunds.query_refund),
    ("/v3/bill/tradebill", "GET", bill.trade_bill),
    ("/v3/billdownload/file", "GET", bill.download),
    ("/_sim/bill/rows", "POST", bill.add_row),
    ("/_sim/bill/fault", "POST", bill.set_fault),
    ("/_sim/orders/<out_trade_no>/pay", "POST", control.pay_order),
    ("/_sim/orders/<out_trade_no>/refund", "POST", refunds.refund_outside),
    ("/_sim/refunds/<out_refund_no>/complete", "POST", refunds.complete_refund),
    ("/_sim/refunds/fail-next", "POST", refunds.fail_next_refund),
    ("/_sim/orders", "GET", control.list_orders),
    ("/_sim/state", "GET", control.state),
]


class SimulatorApp:
    """WSGI app of the stand-in; `state` is inspectable by tests and the dev page."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.state = SimulatorState()
        # Per-feature settings a control endpoint left for the next request (under state.lock).
        self.extras: dict[str, Any] = {}
        self._handlers = {f"{method} {path}": handler for path, method, handler in _RULES}
        self._url_map = Map(
            [
                Rule(path, endpoint=f"{method} {path}", methods=[method])
                for path, method, _ in _RULES
            ]
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = self.dispatch(Request(environ))
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        try:
            endpoint, args = self._url_map.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            return json_response({"code": "NOT_FOUND", "message": exc.name}, exc.code or 404)
        handler = self._handlers[str(endpoint)]
        if str(endpoint).split(" ", 1)[1].startswith("/v3/"):
            refusal = pay.authenticate(self, request)
            if refusal is not None:
                return refusal
        return handler(self, request, **args)

    def signed(self, status: int, payload: dict[str, Any] | None = None) -> Response:
        """A WeChat Pay reply, signed with the stand-in's private key over the exact bytes."""
        body = b"" if payload is None else dumps(payload)
        config = self.config
        headers = signed_headers(
            config.wechatpay_private_key, config.wechatpay_public_key_id, body, config.clock()
        )
        if payload is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        return Response(body, status=status, headers=headers)

    def pay_error(self, status: int, code: str, message: str) -> Response:
        return self.signed(status, {"code": code, "message": message})


def create_simulator_app(config: SimulatorConfig) -> SimulatorApp:
    return SimulatorApp(config)
