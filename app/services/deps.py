"""What services need besides a session: the adapters, the clock and a few settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from app.services.ports import MiniProgram, PaymentGateway

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """Built once in create_app(); handed to every service call."""

    pay: PaymentGateway
    miniprogram: MiniProgram
    secret_key: str
    clock: Clock = utc_now
    max_quantity: int = 100
    token_ttl_seconds: int = 7200
    order_expire_minutes: int = 30
    public_url: str = "http://127.0.0.1:5000"
    query_after_seconds: int = 3
