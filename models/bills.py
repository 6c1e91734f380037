"""Checks of WeChat Pay's daily trade bill against the ledger: each run, what it found, and the
bill's lines while a run compares them (deleted when it ends)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class BillCheckStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"          # compared; its findings are what is left unexplained
    NO_BILL = "no_bill"    # WeChat Pay has no bill for that day (yet): its answer is in problem
    REFUSED = "refused"    # the bill's hash or summary did not check out
    FAILED = "failed"      # WeChat Pay could not be reached, or the run broke off


class BillCheck(Base):
    __tablename__ = "bill_checks"
    __table_args__ = (Index("ix_bill_checks_date", "bill_date", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=BillCheckStatus.RUNNING)
    problem: Mapped[str] = mapped_column(String(300), default="")
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The bill's own summary, and the ledger's figures for the same day (Asia/Shanghai).
    bill_count: Mapped[int | None] = mapped_column(Integer, default=None)
    bill_paid_fen: Mapped[int | None] = mapped_column(BigInteger, default=None)
    bill_refund_fen: Mapped[int | None] = mapped_column(BigInteger, default=None)
    bill_fee_fen: Mapped[int | None] = mapped_column(BigInteger, default=None)
    ledger_count: Mapped[int | None] = mapped_column(Integer, default=None)
    ledger_paid_fen: Mapped[int | None] = mapped_column(BigInteger, default=None)
    ledger_refund_fen: Mapped[int | None] = mapped_column(BigInteger, default=None)
    findings_count: Mapped[int] = mapped_column(Integer, default=0)


class BillFinding(Base):
    __tablename__ = "bill_findings"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("bill_checks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(28))
    out_trade_no: Mapped[str] = mapped_column(String(64))
    out_refund_no: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[str] = mapped_column(String(300), default="")


class BillLine(Base):
    """One trade of a bill being checked, staged so the comparison runs in SQL, not memory."""

    __tablename__ = "bill_lines"
    __table_args__ = (Index("ix_bill_lines_trade", "check_id", "out_trade_no"),
                      Index("ix_bill_lines_refund", "check_id", "out_refund_no"))

    check_id: Mapped[int] = mapped_column(ForeignKey("bill_checks.id"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # payment, refund or other
    out_trade_no: Mapped[str] = mapped_column(String(64))
    transaction_id: Mapped[str] = mapped_column(String(64))
    openid: Mapped[str] = mapped_column(String(128), default="")
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # the order's, or the refund's
    out_refund_no: Mapped[str] = mapped_column(String(64), default="")
    # A refund's own: WeChat Pay's refund number and 退款状态 (only SUCCESS is money gone).
    refund_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    refund_status: Mapped[str] = mapped_column(String(16), default="", server_default="")
    trade_time: Mapped[datetime] = mapped_column(UTCDateTime)
