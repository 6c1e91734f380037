"""Refunds: money going back to a worker, asked for here or made on the merchant platform."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.tables import _enum_check


class RefundStatus(enum.StrEnum):
    """A refund's state at WeChat Pay: in flight until it succeeds, closes or turns abnormal
    (the money could not reach the worker; the merchant platform can send it again)."""

    PROCESSING = "processing"
    SUCCESS = "success"
    CLOSED = "closed"
    ABNORMAL = "abnormal"


class Refund(Base):
    """One refund of a donation, asked for here or made on the merchant platform. Never deleted.

    out_refund_no is ours (sent again unchanged after a lost reply); refund_id is WeChat Pay's.
    A refund made outside warmfund is recorded under its own out_refund_no, with `outside` set.
    """

    __tablename__ = "refunds"
    __table_args__ = (
        _enum_check("status", RefundStatus),
        CheckConstraint("amount_fen > 0", name="refund_positive"),
        Index("ix_refunds_donation", "donation_id"),
        Index("ix_refunds_status_checked", "status", "checked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    out_refund_no: Mapped[str] = mapped_column(String(64), unique=True)
    donation_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                             ForeignKey("donations.id"))
    amount_fen: Mapped[int] = mapped_column(Integer)
    # The order's total as sent to WeChat Pay (what was paid), repeated on a retry.
    total_fen: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(10), default=RefundStatus.PROCESSING)
    requested_by: Mapped[str] = mapped_column(String(64))
    outside: Mapped[bool] = mapped_column(Boolean, default=False)
    refund_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    # Where WeChat Pay sent the money (e.g. 支付用户零钱), or why it could not.
    detail: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
