"""What the stand-in remembers: orders, refunds, login codes and the access token."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wechat.timeutil import to_rfc3339


@dataclass
class SimOrder:
    out_trade_no: str
    request: dict[str, Any]
    prepay_id: str
    created_at: datetime
    trade_state: str = "NOTPAY"
    transaction_id: str | None = None
    paid_total: int | None = None
    success_time: datetime | None = None

    @property
    def amount_total(self) -> int:
        return int(self.request["amount"]["total"])

    def as_json(self) -> dict[str, Any]:
        """The order as the query API answers it."""
        data: dict[str, Any] = {
            "appid": self.request["appid"],
            "mchid": self.request["mchid"],
            "out_trade_no": self.out_trade_no,
            "trade_type": "JSAPI",
            "trade_state": self.trade_state,
            "trade_state_desc": _TRADE_STATE_DESC.get(self.trade_state, ""),
            "attach": self.request.get("attach", ""),
            "amount": {"total": self.amount_total, "currency": "CNY"},
        }
        if self.transaction_id is not None and self.success_time is not None:
            total = self.paid_total if self.paid_total is not None else self.amount_total
            data.update(
                transaction_id=self.transaction_id,
                bank_type="OTHERS",
                success_time=to_rfc3339(self.success_time),
                payer={"openid": self.request["payer"]["openid"]},
                amount={
                    "total": total,
                    "payer_total": total,
                    "currency": "CNY",
                    "payer_currency": "CNY",
                },
            )
        return data


_TRADE_STATE_DESC = {
    "NOTPAY": "未支付",
    "SUCCESS": "支付成功",
    "CLOSED": "已关闭",
    "REFUND": "转入退款",
}


@dataclass
class SimRefund:
    out_refund_no: str
    refund_id: str
    order: SimOrder
    amount_refund: int
    notify_url: str | None
    created_at: datetime
    status: str = "PROCESSING"
    success_time: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The refund as the refund APIs answer it."""
        data: dict[str, Any] = {
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "transaction_id": self.order.transaction_id,
            "out_trade_no": self.order.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": to_rfc3339(self.created_at),
            "status": self.status,
            "funds_account": "AVAILABLE",
            "amount": self._amount(),
        }
        if self.success_time is not None:
            data["success_time"] = to_rfc3339(self.success_time)
        return data

    def as_notification(self, mchid: str) -> dict[str, Any]:
        """The decrypted resource of a REFUND.* notification."""
        data = self.as_json()
        data["refund_status"] = data.pop("status")
        data["mchid"] = mchid
        for key in ("channel", "create_time", "funds_account"):
            data.pop(key)
        return data

    def _amount(self) -> dict[str, Any]:
        total = self.order.paid_total or self.order.amount_total
        return {
            "total": total,
            "refund": self.amount_refund,
            "payer_total": total,
            "payer_refund": self.amount_refund,
            "currency": "CNY",
        }


@dataclass
class SimulatorState:
    lock: threading.RLock = field(default_factory=threading.RLock)
    orders: dict[str, SimOrder] = field(default_factory=dict)
    refunds: dict[str, SimRefund] = field(default_factory=dict)
    used_codes: set[str] = field(default_factory=set)
    access_token: str | None = None
    access_token_expires_at: datetime | None = None
    tokens_issued: int = 0
    wxacode_calls: int = 0
    code2session_calls: int = 0
    notifications_sent: int = 0
    bill_files: dict[str, bytes] = field(default_factory=dict)
    bill_fault: str | None = None

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "tokens_issued": self.tokens_issued,
                "wxacode_calls": self.wxacode_calls,
                "code2session_calls": self.code2session_calls,
                "notifications_sent": self.notifications_sent,
                "orders": dict(Counter(o.trade_state for o in self.orders.values())),
                "refunds": dict(Counter(r.status for r in self.refunds.values())),
            }
