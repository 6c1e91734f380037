"""The tables. Money is integer fen; times are UTC; the donation ledger is the truth."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class UnitKind(enum.StrEnum):
    DISTRICT = "district"
    TOWN = "town"
    STREET = "street"
    PARK = "park"
    GRASSROOTS = "grassroots"
    ENTERPRISE = "enterprise"


class DonationStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    CLOSED = "closed"
    DISPUTED = "disputed"
    REFUNDING = "refunding"
    REFUNDED = "refunded"


class Scope(enum.StrEnum):
    """What a running total covers: the campaign, one unit alone, or a unit's subtree."""

    CAMPAIGN = "campaign"
    UNIT = "unit"
    SUBTREE = "subtree"


class Role(enum.StrEnum):
    ADMIN = "admin"
    ORGANIZER = "organizer"


def _enum_check(column: str, values: type[enum.StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_valid")


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (_enum_check("status", CampaignStatus),
                      CheckConstraint("amount_fen > 0", name="amount_positive"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(15), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default=CampaignStatus.OPEN)
    goal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    starts_on: Mapped[date | None] = mapped_column(Date, default=None)
    ends_on: Mapped[date | None] = mapped_column(Date, default=None)
    description: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (_enum_check("kind", UnitKind),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(12))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    headcount: Mapped[int | None] = mapped_column(Integer, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UnitClosure(Base):
    """Every (ancestor, descendant) pair of the unit tree, a unit being its own ancestor at 0."""

    __tablename__ = "unit_closure"
    __table_args__ = (Index("ix_unit_closure_descendant", "descendant_id", "depth"),)

    ancestor_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    descendant_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    depth: Mapped[int] = mapped_column(Integer)


class Donation(Base):
    """One row of the ledger. Rows are never deleted."""

    __tablename__ = "donations"
    __table_args__ = (
        _enum_check("status", DonationStatus),
        CheckConstraint("amount_fen > 0 AND quantity > 0", name="positive"),
        CheckConstraint("refunded_fen >= 0", name="refunded_not_negative"),
        Index("ix_donations_status_created", "status", "created_at"),
        Index("ix_donations_openid_id", "openid", "id"),
        Index("ix_donations_campaign_unit_id", "campaign_id", "unit_id", "id"),
        Index("ix_donations_campaign_paid_at", "campaign_id", "paid_at"),
        Index("ix_donations_paid_at", "paid_at"),  # a day's payments, for the bill check
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    out_trade_no: Mapped[str] = mapped_column(String(32), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    openid: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Integer)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    message: Mapped[str] = mapped_column(String(50), default="")
    status: Mapped[str] = mapped_column(String(10), default=DonationStatus.PENDING)
    prepay_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # What the order at WeChat Pay says it is for, fixed when placed: sending the order again
    # (after a lost reply) must repeat it exactly, whatever was renamed meanwhile.
    order_description: Mapped[str | None] = mapped_column(String(127), default=None)
    transaction_id: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    reported_amount_fen: Mapped[int | None] = mapped_column(Integer, default=None)
    paid_after_close: Mapped[bool] = mapped_column(Boolean, default=False)
    refund_from_status: Mapped[str | None] = mapped_column(String(10), default=None)
    # What successful refunds gave back (never more than was paid), when the last one did and
    # why: kept here so exports read the ledger alone.
    refunded_fen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    refund_reason: Mapped[str] = mapped_column(String(80), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


donations_table = cast(Table, Donation.__table__)


# A total is kept in up to this many rows, so that concurrent payments do not all queue on the
# one row of their campaign; a donation always counts in shard (donation id % TOTAL_SHARDS).
TOTAL_SHARDS = 8


class Total(Base):
    """A running total, changed in the same transaction that moves a donation in or out of paid.

    unit_id is 0 for the campaign scope. The figures of a total are the sum over its shards; one
    shard's donor_count alone means nothing (a donor is counted where their first payment fell).
    """

    __tablename__ = "totals"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default="0")
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    donation_count: Mapped[int] = mapped_column(Integer, default=0)
    donor_count: Mapped[int] = mapped_column(Integer, default=0)


class DonorTally(Base):
    """How many paid donations one openid has in one scope; 0 -> 1 makes a new donor."""

    __tablename__ = "donor_tallies"

    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    paid_count: Mapped[int] = mapped_column(Integer)


class Worker(Base):
    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Notification(Base):
    """Every payment or refund notification that reached us, stored as received."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_received", "received_at"),
                      Index("ix_notifications_out_trade_no", "out_trade_no"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    headers: Mapped[str] = mapped_column(Text)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    verdict: Mapped[str] = mapped_column(String(20))
    out_trade_no: Mapped[str | None] = mapped_column(String(32), default=None)
    transaction_id: Mapped[str | None] = mapped_column(String(32), default=None)
    detail: Mapped[str] = mapped_column(String(300), default="")


class Anomaly(Base):
    """Something an admin must look at: money that arrived but is not counted silently."""

    __tablename__ = "anomalies"
    __table_args__ = (Index("ix_anomalies_open", "resolved_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    out_trade_no: Mapped[str | None] = mapped_column(String(32), default=None)
    detail: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(64), default=None)
    resolution: Mapped[str] = mapped_column(String(300), default="")


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (_enum_check("role", Role),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    token_generation: Mapped[int] = mapped_column(Integer, default=0)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginFailure(Base):
    """Wrong sign-ins under a name that is no account, counted and locked out exactly as an
    account's own are: a 429 after the fifth must not tell a stranger that a name exists."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_last_failed", "last_failed_at"),)

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")


class SharedToken(Base):
    """WeChat's access token, shared by every worker process (each refresh revokes the last)."""

    __tablename__ = "shared_tokens"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(600))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RateCount(Base):
    """Events counted in one fixed window of a rate limit: one row per limit, key and window,
    shared by every worker process when there is no Redis."""

    __tablename__ = "rate_counts"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)  # Unix seconds (UTC)
