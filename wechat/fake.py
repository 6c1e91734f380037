"""In-memory stand-ins for PayV3Client and MiniProgramClient, for service tests.

FakePay.parse_notification accepts a plain JSON body instead of a signed, encrypted one:
`{"transaction": {...}}` or `{"refund": {...}}`, each in the shape of WeChat's decrypted
resource (`notification_body()` builds one). A header `X-Fake-Verdict: <verdict>` makes
it refuse the notification with that verdict, to exercise the app's refusal paths.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import IO, Any

from wechat.bill import BillLocation, BillRow
from wechat.bill_format import bill_lines, fee_of, location, write_bill
from wechat.errors import MiniProgramError, NotificationError, WeChatPayError
from wechat.keys import DEV_APPID, DEV_MCHID
from wechat.miniprogram import LoginSession
from wechat.pay_models import (
    JsapiOrder,
    Notification,
    PaymentParams,
    Refund,
    Transaction,
    refund_from_json,
    transaction_from_json,
)
from wechat.simulator.identity import derive_openid, wxacode_png
from wechat.timeutil import CHINA_TZ, to_rfc3339, utc_now


class _FailNext:
    fail_next: Exception | None = None

    def _maybe_fail(self) -> None:
        error, self.fail_next = self.fail_next, None
        if error is not None:
            raise error


class FakePay(_FailNext):
    """Same public methods as PayV3Client; orders live in `self.orders`."""

    def __init__(
        self,
        *,
        appid: str = DEV_APPID,
        mchid: str = DEV_MCHID,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.appid, self.mchid, self._clock = appid, mchid, clock
        self.orders: dict[str, Transaction] = {}
        self.order_requests: dict[str, JsapiOrder] = {}
        self.refunds: dict[str, Refund] = {}
        self.bill_files: dict[str, bytes] = {}
        self.fail_next = None

    def create_jsapi_order(self, order: JsapiOrder) -> str:
        self._maybe_fail()
        self.order_requests[order.out_trade_no] = order
        self.orders.setdefault(
            order.out_trade_no,
            Transaction(
                self.appid,
                self.mchid,
                order.out_trade_no,
                None,
                "NOTPAY",
                order.amount_fen,
                None,
                None,
                order.attach,
            ),
        )
        return f"wxfake{order.out_trade_no}"

    def payment_params(self, prepay_id: str) -> PaymentParams:
        self._maybe_fail()
        stamp = str(int(self._clock().timestamp()))
        return PaymentParams(stamp, secrets.token_hex(16), f"prepay_id={prepay_id}", "RSA", "fake")

    def pay(self, out_trade_no: str, amount: int | None = None) -> Transaction:
        """Mark an order paid (optionally with a different amount) and return it."""
        order = self._order(out_trade_no)
        paid = replace(
            order,
            transaction_id=order.transaction_id or "4200000" + secrets.token_hex(8),
            trade_state="SUCCESS",
            amount_total=amount if amount is not None else order.amount_total,
            payer_openid=self.order_requests[out_trade_no].openid,
            success_time=self._clock().replace(microsecond=0),
        )
        self.orders[out_trade_no] = paid
        return paid

    def query_order(self, out_trade_no: str) -> Transaction:
        self._maybe_fail()
        return self._order(out_trade_no)

    def close_order(self, out_trade_no: str) -> None:
        self._maybe_fail()
        order = self._order(out_trade_no)
        if order.trade_state in ("SUCCESS", "REFUND"):
            raise WeChatPayError("ORDERPAID", "该订单已支付", 400)
        self.orders[out_trade_no] = replace(order, trade_state="CLOSED")

    def create_refund(
        self, *, out_trade_no: str, out_refund_no: str, reason: str, refund_fen: int, total_fen: int
    ) -> Refund:
        self._maybe_fail()
        order = self._order(out_trade_no)
        refund = Refund(
            out_refund_no,
            "50" + secrets.token_hex(8),
            out_trade_no,
            order.transaction_id,
            "PROCESSING",
            refund_fen,
            total_fen,
            None,
        )
        return self.refunds.setdefault(out_refund_no, refund)

    def query_refund(self, out_refund_no: str) -> Refund:
        self._maybe_fail()
        if out_refund_no not in self.refunds:
            raise WeChatPayError("RESOURCE_NOT_EXISTS", "退款单不存在", 404)
        return self.refunds[out_refund_no]

    def trade_bill(self, bill_date: date) -> BillLocation:
        """The day's bill (China time) from the fake's paid orders and successful refunds."""
        self._maybe_fail()
        rows = sorted([*self._payment_rows(bill_date), *self._refund_rows(bill_date)],
                      key=lambda row: row.trade_time)
        if not rows:
            raise WeChatPayError("NO_STATEMENT_EXIST", "当日无交易，账单不存在", 400)
        sink = io.BytesIO()
        sha1 = write_bill(sink, bill_lines(rows), compress=True)
        url = f"https://fake.invalid/v3/billdownload/file?token={secrets.token_hex(8)}"
        self.bill_files[url] = sink.getvalue()
        return location(url, sha1)

    def download_bill(self, download_url: str, sink: IO[bytes]) -> None:
        self._maybe_fail()
        sink.write(self.bill_files[download_url])

    def _payment_rows(self, day: date) -> list[BillRow]:
        return [BillRow(trade_time=o.success_time, transaction_id=o.transaction_id,
                        out_trade_no=o.out_trade_no, trade_state="SUCCESS",
                        settlement_fen=o.amount_total, order_fen=o.amount_total, refund_fen=0,
                        fee=fee_of(o.amount_total), openid=o.payer_openid or "",
                        appid=o.appid, mchid=o.mchid)
                for o in self.orders.values()
                if o.transaction_id and o.success_time and o.amount_total
                and o.success_time.astimezone(CHINA_TZ).date() == day]

    def _refund_rows(self, day: date) -> list[BillRow]:
        return [BillRow(trade_time=r.success_time, transaction_id=r.transaction_id or "",
                        out_trade_no=r.out_trade_no, trade_state="REFUND", settlement_fen=0,
                        order_fen=0, refund_fen=r.amount_refund,
                        fee=fee_of(r.amount_refund, refund=True), appid=self.appid,
                        mchid=self.mchid, refund_id=r.refund_id or "",
                        out_refund_no=r.out_refund_no, refund_status="SUCCESS")
                for r in self.refunds.values()
                if r.status == "SUCCESS" and r.success_time
                and r.success_time.astimezone(CHINA_TZ).date() == day]

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, now: datetime | None = None
    ) -> Notification:
        self._maybe_fail()
        lowered = {name.lower(): value for name, value in headers.items()}
        if "x-fake-verdict" in lowered:
            raise NotificationError(lowered["x-fake-verdict"])
        return self._read_plain_notification(body)

    def notification_body(self, transaction: Transaction) -> bytes:
        """A body FakePay.parse_notification accepts, for a TRANSACTION.SUCCESS."""
        return json.dumps({"transaction": _transaction_json(transaction)}).encode("utf-8")

    def _read_plain_notification(self, body: bytes) -> Notification:
        try:
            data = json.loads(body)
            transaction = (
                transaction_from_json(data["transaction"]) if "transaction" in data else None
            )
            refund = refund_from_json(data["refund"]) if "refund" in data else None
        except (ValueError, TypeError, KeyError) as exc:
            raise NotificationError("malformed", str(exc)) from exc
        if transaction is not None and (transaction.mchid, transaction.appid) != (
            self.mchid,
            self.appid,
        ):
            raise NotificationError("wrong_merchant")
        event = (
            "TRANSACTION.SUCCESS" if transaction else f"REFUND.{refund.status if refund else ''}"
        )
        return Notification(
            secrets.token_hex(8),
            event,
            to_rfc3339(self._clock()),
            "encrypt-resource",
            transaction,
            refund,
        )

    def _order(self, out_trade_no: str) -> Transaction:
        if out_trade_no not in self.orders:
            raise WeChatPayError("ORDER_NOT_EXIST", "订单不存在", 404)
        return self.orders[out_trade_no]


def _transaction_json(transaction: Transaction) -> dict[str, Any]:
    data: dict[str, Any] = {
        "appid": transaction.appid,
        "mchid": transaction.mchid,
        "out_trade_no": transaction.out_trade_no,
        "trade_state": transaction.trade_state,
        "attach": transaction.attach,
        "amount": {"total": transaction.amount_total},
        "payer": {"openid": transaction.payer_openid},
    }
    if transaction.transaction_id:
        data["transaction_id"] = transaction.transaction_id
    if transaction.success_time:
        data["success_time"] = to_rfc3339(transaction.success_time)
    return data


class FakeMiniProgram(_FailNext):
    """Codes "alice#1" and "alice#2" log in the same worker; each code works once."""

    def __init__(self, *, appid: str = DEV_APPID) -> None:
        self.appid = appid
        self.used_codes: set[str] = set()
        self.wxacode_calls: list[dict[str, Any]] = []
        self.fail_next = None

    def code_to_session(self, code: str) -> LoginSession:
        self._maybe_fail()
        if not code:
            raise MiniProgramError(40029, "invalid code")
        if code in self.used_codes:
            raise MiniProgramError(40163, "code been used")
        self.used_codes.add(code)
        return LoginSession(openid=derive_openid(self.appid, code), unionid=None)

    def get_wxacode_unlimited(
        self,
        *,
        scene: str,
        page: str,
        env_version: str = "release",
        width: int = 430,
        check_path: bool = False,
    ) -> bytes:
        self._maybe_fail()
        if len(scene) > 32:
            raise MiniProgramError(40169, "invalid length for scene")
        self.wxacode_calls.append({"scene": scene, "page": page, "env_version": env_version})
        return wxacode_png(scene)
