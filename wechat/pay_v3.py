"""WeChat Pay APIv3 client: JSAPI orders, query, close, refunds, notifications."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import TracebackType
from typing import IO, Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
import urllib3

from wechat.bill import BillLocation
from wechat.errors import NotificationError, WeChatPayError, WeChatUnavailableError
from wechat.http import connection_pool, json_object, pooled_session
from wechat.pay_crypto import build_authorization, new_nonce, pay_sign
from wechat.pay_models import (
    JsapiOrder,
    Notification,
    PayConfig,
    PaymentParams,
    Refund,
    Transaction,
    refund_from_json,
    required_str,
    transaction_from_json,
)
from wechat.pay_notify import check_signed_message, parse_notification_message
from wechat.timeutil import to_rfc3339, utc_now

USER_AGENT = "warmfund-wechat/0.1 (python-requests)"
# A day's bill of 100,000 trades is about 30 MB of text; anything far beyond is not a bill.
MAX_BILL_BYTES = 1 << 30

_T = TypeVar("_T")


def _dumps(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _segment(value: str) -> str:
    # Quote every reserved character so that the path we sign is the path requests sends.
    return quote(value, safe="")


class PayV3Client:
    """Talks APIv3 to WeChat Pay (or the stand-in); every 2xx reply is signature-checked."""

    def __init__(
        self,
        config: PayConfig,
        *,
        http: requests.Session | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._config = config
        self._owns_http = http is None
        # The bill's download streams through requests; every signed API call goes through
        # urllib3 alone (wechat.http.connection_pool says why).
        self._http = http if http is not None else pooled_session(config.api_base)
        self._pool = connection_pool(config.api_base)
        self._clock = clock

    def close(self) -> None:
        self._pool.clear()
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> PayV3Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def create_jsapi_order(self, order: JsapiOrder) -> str:
        """Place a JSAPI order; returns its prepay_id."""
        reply = self._call("POST", "/v3/pay/transactions/jsapi", self._order_body(order))
        return self._parse(lambda: required_str(reply, "prepay_id"))

    def payment_params(self, prepay_id: str) -> PaymentParams:
        """Sign the wx.requestPayment parameters for `prepay_id`."""
        time_stamp, nonce = str(int(self._clock().timestamp())), new_nonce()
        package = f"prepay_id={prepay_id}"
        signature = pay_sign(
            self._config.merchant_private_key, self._config.appid, time_stamp, nonce, package
        )
        return PaymentParams(time_stamp, nonce, package, "RSA", signature)

    def query_order(self, out_trade_no: str) -> Transaction:
        path = (
            f"/v3/pay/transactions/out-trade-no/{_segment(out_trade_no)}"
            f"?mchid={_segment(self._config.mchid)}"
        )
        reply = self._call("GET", path)
        return self._parse(lambda: transaction_from_json(reply))

    def close_order(self, out_trade_no: str) -> None:
        path = f"/v3/pay/transactions/out-trade-no/{_segment(out_trade_no)}/close"
        self._call("POST", path, {"mchid": self._config.mchid})

    def create_refund(
        self, *, out_trade_no: str, out_refund_no: str, reason: str, refund_fen: int, total_fen: int
    ) -> Refund:
        body = {
            "out_trade_no": out_trade_no,
            "out_refund_no": out_refund_no,
            "reason": reason,
            "notify_url": self._config.refund_notify_url,
            "amount": {"refund": refund_fen, "total": total_fen, "currency": "CNY"},
        }
        reply = self._call("POST", "/v3/refund/domestic/refunds", body)
        return self._parse(lambda: refund_from_json(reply))

    def query_refund(self, out_refund_no: str) -> Refund:
        reply = self._call("GET", f"/v3/refund/domestic/refunds/{_segment(out_refund_no)}")
        return self._parse(lambda: refund_from_json(reply))

    def trade_bill(self, bill_date: date) -> BillLocation:
        """Where to download the day's ALL trade bill (gzip), and its SHA-1."""
        path = f"/v3/bill/tradebill?bill_date={bill_date.isoformat()}&bill_type=ALL&tar_type=GZIP"
        reply = self._call("GET", path)
        return self._parse(lambda: BillLocation(required_str(reply, "hash_type"),
                                                required_str(reply, "hash_value"),
                                                required_str(reply, "download_url")))

    def download_bill(self, download_url: str, sink: IO[bytes]) -> None:
        """Stream the bill file into `sink`. Its reply is not signed: the caller checks the
        SHA-1 of the bill against the hash_value of trade_bill()."""
        parts = urlsplit(download_url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self._send("GET", target, b"", url=download_url, stream=True)
        with response:
            if response.status_code >= 400:
                self._read(response.status_code, response.headers, response.content)
            written = 0
            for chunk in response.iter_content(1 << 16):
                written += len(chunk)
                if written > MAX_BILL_BYTES:
                    raise WeChatUnavailableError("the bill download is larger than any bill")
                sink.write(chunk)

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, now: datetime | None = None
    ) -> Notification:
        """Verify and decrypt a notification; NotificationError(verdict) when refused."""
        return parse_notification_message(self._config, headers, body, now or self._clock())

    def _order_body(self, order: JsapiOrder) -> dict[str, Any]:
        body: dict[str, Any] = {
            "appid": self._config.appid,
            "mchid": self._config.mchid,
            "description": order.description,
            "out_trade_no": order.out_trade_no,
            "time_expire": to_rfc3339(order.time_expire),
            "notify_url": self._config.notify_url,
            "amount": {"total": order.amount_fen, "currency": "CNY"},
            "payer": {"openid": order.openid},
        }
        if order.attach:
            body["attach"] = order.attach
        return body

    def _call(
        self, method: str, path: str, payload: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        body = _dumps(payload) if payload is not None else b""
        try:
            reply = self._pool.request(
                method, self._config.api_base.rstrip("/") + path, body=body or None,
                headers=self._headers(method, path, body), redirect=False,
                timeout=self._config.timeout_seconds)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise WeChatUnavailableError(f"{method} {path}: {exc}") from exc
        return self._read(reply.status, reply.headers, reply.data)

    def _send(self, method: str, path: str, body: bytes, *, url: str | None = None,
              stream: bool = False) -> requests.Response:
        try:
            return self._http.request(
                method,
                url or self._config.api_base.rstrip("/") + path,
                data=body or None,
                headers=self._headers(method, path, body),
                timeout=self._config.timeout_seconds,
                stream=stream,
            )
        except requests.RequestException as exc:
            raise WeChatUnavailableError(f"{method} {path}: {exc}") from exc

    def _headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        """The signed request's headers: its Authorization is over method, path and body."""
        config = self._config
        authorization = build_authorization(
            method,
            path,
            body,
            mchid=config.mchid,
            serial_no=config.merchant_serial_no,
            private_key=config.merchant_private_key,
            timestamp=int(self._clock().timestamp()),
            nonce=new_nonce(),
        )
        headers = {
            "Authorization": authorization,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Wechatpay-Serial": config.wechatpay_serial,
        }
        if body:
            headers["Content-Type"] = "application/json"
        return headers

    def _read(self, status: int, headers: Mapping[str, str], content: bytes) -> dict[str, Any]:
        if status >= 500:
            raise WeChatUnavailableError(f"WeChat Pay answered {status}")
        if status >= 400:
            raise _pay_error(status, content)
        try:
            check_signed_message(
                self._config.wechatpay_public_keys, headers, content, self._clock())
        except NotificationError as exc:
            raise WeChatUnavailableError(f"unverifiable WeChat Pay reply: {exc}") from exc
        return json_object(content, "WeChat Pay") if content else {}

    @staticmethod
    def _parse(build: Callable[[], _T]) -> _T:
        try:
            return build()
        except ValueError as exc:
            raise WeChatUnavailableError(f"unexpected WeChat Pay reply: {exc}") from exc


def _pay_error(status: int, content: bytes) -> WeChatPayError:
    try:
        data = json.loads(content)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return WeChatPayError("HTTP_ERROR", content[:200].decode("utf-8", "replace"), status)
    code, message = data.get("code"), data.get("message")
    return WeChatPayError(str(code or "HTTP_ERROR"), str(message or ""), status)
