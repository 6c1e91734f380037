"""The stand-in's trade bill: any day's ALL bill from its own orders and refunds, in WeChat
Pay's layout, and control endpoints that stage what a test needs (a payment for an order the
merchant never made; a bill whose hash or summary is wrong)."""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from wechat.bill import BillRow
from wechat.bill_format import bill_lines, fee_of, write_bill
from wechat.simulator.state import SimOrder, SimRefund
from wechat.simulator.web import json_response, read_json
from wechat.timeutil import CHINA_TZ, parse_rfc3339

if TYPE_CHECKING:
    from wechat.simulator.app import SimulatorApp

BILL_TYPES = ("ALL", "SUCCESS", "REFUND")
FAULTS = ("hash", "summary")
HISTORY_DAYS = 92  # WeChat Pay keeps bills for three months
_KEPT_FILES = 8
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _china_day(moment: datetime | None) -> date | None:
    return moment.astimezone(CHINA_TZ).date() if moment is not None else None


def payment_row(order: SimOrder) -> BillRow:
    amount = order.paid_total if order.paid_total is not None else order.amount_total
    assert order.success_time is not None and order.transaction_id is not None
    return BillRow(trade_time=order.success_time, transaction_id=order.transaction_id,
                   out_trade_no=order.out_trade_no, trade_state="SUCCESS",
                   settlement_fen=amount, order_fen=amount, refund_fen=0, fee=fee_of(amount),
                   openid=order.request["payer"]["openid"], appid=order.request["appid"],
                   mchid=order.request["mchid"])


def refund_row(refund: SimRefund) -> BillRow:
    order = refund.order
    assert refund.success_time is not None
    return BillRow(trade_time=refund.success_time, transaction_id=order.transaction_id or "",
                   out_trade_no=order.out_trade_no, trade_state="REFUND", settlement_fen=0,
                   order_fen=0, refund_fen=refund.amount_refund,
                   fee=fee_of(refund.amount_refund, refund=True),
                   openid=order.request["payer"]["openid"], appid=order.request["appid"],
                   mchid=order.request["mchid"], refund_id=refund.refund_id,
                   out_refund_no=refund.out_refund_no, refund_status="SUCCESS")


def day_rows(sim: SimulatorApp, day: date, bill_type: str = "ALL") -> list[BillRow]:
    """The day's trades (China time) as the bill lists them, oldest first."""
    state = sim.state
    rows: list[BillRow] = []
    if bill_type in ("ALL", "SUCCESS"):
        rows += [payment_row(o) for o in state.orders.values()
                 if o.transaction_id and _china_day(o.success_time) == day]
    if bill_type in ("ALL", "REFUND"):
        rows += [refund_row(r) for r in state.refunds.values()
                 if r.status == "SUCCESS" and _china_day(r.success_time) == day]
    return sorted(rows, key=lambda row: row.trade_time)


def _faulty(lines: Iterator[bytes], fault: str | None) -> Iterator[bytes]:
    """The bill's lines, with the summary's count off by one when asked for."""
    previous = b""
    for line in lines:
        if fault == "summary" and previous.startswith("总交易单数".encode()):
            count, rest = line[1:].split(b",", 1)
            line = b"`" + str(int(count) + 1).encode() + b"," + rest
        previous = line
        yield line


def _bill_date_error(query: Any, today: date) -> str | None:
    text = str(query.get("bill_date", ""))
    if not _DATE.fullmatch(text):
        return "bill_date must be YYYY-MM-DD"
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return "bill_date is not a date"
    if day > today or day < today - timedelta(days=HISTORY_DAYS):
        return "bill_date must be within the last three months"
    if query.get("bill_type", "ALL") not in BILL_TYPES:
        return "bill_type must be ALL, SUCCESS or REFUND"
    if query.get("tar_type", "GZIP") != "GZIP":
        return "tar_type must be GZIP"
    return None


def trade_bill(sim: SimulatorApp, request: Request) -> Response:
    """GET /v3/bill/tradebill: the download address of the day's bill and its SHA-1."""
    error = _bill_date_error(request.args, sim.config.clock().astimezone(CHINA_TZ).date())
    if error is not None:
        return sim.pay_error(400, "PARAM_ERROR", error)
    day = date.fromisoformat(request.args["bill_date"])
    with sim.state.lock:
        rows = day_rows(sim, day, request.args.get("bill_type", "ALL"))
        fault = sim.state.bill_fault
    if not rows:
        return sim.pay_error(400, "NO_STATEMENT_EXIST", "当日无交易，账单不存在")
    sink = io.BytesIO()
    sha1 = write_bill(sink, _faulty(bill_lines(rows), fault),
                      compress="tar_type" in request.args)
    if fault == "hash":
        sha1 = "0" * 40
    token = secrets.token_urlsafe(16)
    with sim.state.lock:
        files = sim.state.bill_files
        files[token] = sink.getvalue()
        for stale in list(files)[:-_KEPT_FILES]:
            del files[stale]
    url = f"{request.host_url}v3/billdownload/file?token={token}"
    return sim.signed(200, {"hash_type": "SHA1", "hash_value": sha1, "download_url": url})


def download(sim: SimulatorApp, request: Request) -> Response:
    """GET /v3/billdownload/file: the file itself; as at WeChat Pay, the reply is not signed."""
    with sim.state.lock:
        content = sim.state.bill_files.get(request.args.get("token", ""))
    if content is None:
        return sim.pay_error(400, "INVALID_REQUEST", "下载地址已失效")
    return Response(content, status=200, content_type="application/octet-stream")


def _control_error(message: str) -> Response:
    return json_response({"error": message}, 400)


def _taken_options(sim: SimulatorApp, payload: dict[str, Any]) -> tuple[str, int, datetime] | str:
    otn, amount = payload.get("out_trade_no"), payload.get("amount")
    if not isinstance(otn, str) or not re.fullmatch(r"[0-9A-Za-z_\-|*]{6,32}", otn):
        return "out_trade_no must be 6-32 characters of [0-9A-Za-z_-|*]"
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        return "amount must be a positive integer (fen)"
    try:
        when = parse_rfc3339(str(payload["time"])) if "time" in payload else sim.config.clock()
    except ValueError:
        return "time must be RFC 3339 with an offset"
    return otn, amount, when


def add_row(sim: SimulatorApp, request: Request) -> Response:
    """POST /_sim/bill/rows {"out_trade_no", "amount", "time"?, "openid"?}: a payment the
    stand-in took for an order the merchant never placed; it shows in that day's bill."""
    payload = read_json(request)
    options = "body must be a JSON object" if payload is None else _taken_options(sim, payload)
    if isinstance(options, str) or payload is None:
        return _control_error(str(options))
    otn, amount, when = options
    config = sim.config
    request_body = {"appid": config.appid, "mchid": config.mchid, "out_trade_no": otn,
                    "amount": {"total": amount, "currency": "CNY"}, "notify_url": None,
                    "payer": {"openid": str(payload.get("openid", "o-stranger"))}}
    with sim.state.lock:
        if otn in sim.state.orders:
            return json_response({"error": "the stand-in already has this order"}, 409)
        order = SimOrder(otn, request_body, "", when, trade_state="SUCCESS",
                         transaction_id="4200009" + "".join(
                             secrets.choice("0123456789") for _ in range(21)),
                         paid_total=amount, success_time=when)
        sim.state.orders[otn] = order
    return json_response({"transaction_id": order.transaction_id})


def set_fault(sim: SimulatorApp, request: Request) -> Response:
    """POST /_sim/bill/fault {"fault": "hash" | "summary" | null}: bills served from now on
    state a wrong hash, or a summary that does not add up."""
    payload = read_json(request) or {}
    fault = payload.get("fault")
    if fault is not None and fault not in FAULTS:
        return _control_error(f"fault must be one of {list(FAULTS)} or null")
    with sim.state.lock:
        sim.state.bill_fault = fault
    return json_response({"fault": fault})
