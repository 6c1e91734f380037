"""The WeChat services that use cases talk to, as the methods they call.

wechat.PayV3Client and wechat.MiniProgramClient fit these ports, and so do wechat.fake's
FakePay and FakeMiniProgram; mypy checks both at the bottom of this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Protocol

from wechat.bill import BillLocation
from wechat.miniprogram import LoginSession
from wechat.pay_models import JsapiOrder, Notification, PaymentParams, Refund, Transaction


class PaymentGateway(Protocol):
    """WeChat Pay: orders, refunds, the day's bill and signed notifications."""

    def create_jsapi_order(self, order: JsapiOrder) -> str: ...

    def payment_params(self, prepay_id: str) -> PaymentParams: ...

    def query_order(self, out_trade_no: str) -> Transaction: ...

    def close_order(self, out_trade_no: str) -> None: ...

    def create_refund(self, *, out_trade_no: str, out_refund_no: str, reason: str,
                      refund_fen: int, total_fen: int) -> Refund: ...

    def query_refund(self, out_refund_no: str) -> Refund: ...

    def trade_bill(self, bill_date: date) -> BillLocation: ...

    def download_bill(self, download_url: str, sink: IO[bytes]) -> None: ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes,
                           now: datetime | None = None) -> Notification: ...


class WxacodeSource(Protocol):
    """Where mini-program codes come from."""

    def get_wxacode_unlimited(self, *, scene: str, page: str, env_version: str = "release",
                              width: int = 430, check_path: bool = False) -> bytes: ...


class MiniProgram(WxacodeSource, Protocol):
    """The mini-program platform: a worker's login and the unit's codes."""

    def code_to_session(self, code: str) -> LoginSession: ...


if TYPE_CHECKING:
    from wechat import MiniProgramClient, PayV3Client
    from wechat.fake import FakeMiniProgram, FakePay

    def _fit(pay: PayV3Client, fake_pay: FakePay, miniprogram: MiniProgramClient,
             fake_miniprogram: FakeMiniProgram
             ) -> tuple[PaymentGateway, PaymentGateway, MiniProgram, MiniProgram]:
        # Never called: mypy fails here when a client or a fake drifts from its port.
        return pay, fake_pay, miniprogram, fake_miniprogram
