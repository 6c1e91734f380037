"""Domain errors. Each carries the contract's error code and a message fit to show a worker;
app/errors.py maps codes to HTTP statuses in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError


class DomainError(Exception):
    code = "invalid_request"
    default_message = "请求有误"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class InvalidRequestError(DomainError):
    code = "invalid_request"


class UnauthorizedError(DomainError):
    code = "unauthorized"
    default_message = "请先登录"


class ForbiddenError(DomainError):
    code = "forbidden"
    default_message = "没有权限"


class NotFoundError(DomainError):
    code = "not_found"
    default_message = "找不到该内容"


class CampaignClosedError(DomainError):
    code = "campaign_closed"
    default_message = "该项目当前不接受捐款"


class UnitInactiveError(DomainError):
    code = "unit_inactive"
    default_message = "该单位已停止募捐"


class NotRefundableError(DomainError):
    code = "not_refundable"
    default_message = "该捐款当前不能退款"


class RefundRefusedError(DomainError):
    """WeChat Pay refused to make the refund; the message says why, in Chinese."""

    code = "refund_refused"
    default_message = "微信支付拒绝了该退款"


class RateLimitedError(DomainError):
    code = "rate_limited"
    default_message = "操作太频繁，请稍后再试"


class WeChatUnavailableDomainError(DomainError):
    code = "wechat_unavailable"
    default_message = "微信支付暂时不可用，请稍后再试"


@contextmanager
def taken_as(message: str) -> Iterator[None]:
    """Around a write transaction that adds a row with a unique name it has checked is free:
    on PostgreSQL a concurrent request may take the name between the check and the commit, and
    the database refuses the second. Say so as the check would have (400), not as a 500."""
    try:
        yield
    except IntegrityError as exc:
        if not _unique_violation(exc):
            raise  # another constraint: a fault of ours, not a name someone took
        raise InvalidRequestError(message) from exc


def _unique_violation(exc: IntegrityError) -> bool:
    # PostgreSQL's SQLSTATE 23505; SQLite says it in words.
    return (getattr(exc.orig, "sqlstate", None) == "23505"
            or "UNIQUE constraint failed" in str(exc.orig))
