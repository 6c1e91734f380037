"""SQLAlchemy models and migrations. A leaf: imports only SQLAlchemy (never app or Flask)."""

from models.base import Base
from models.bills import BillCheck, BillCheckStatus, BillFinding, BillLine
from models.refunds import Refund, RefundStatus
from models.tables import (
    TOTAL_SHARDS,
    Account,
    Anomaly,
    AuditEntry,
    Campaign,
    CampaignStatus,
    Donation,
    DonationStatus,
    DonorTally,
    LoginFailure,
    Notification,
    Role,
    Scope,
    SharedToken,
    Total,
    Unit,
    UnitClosure,
    UnitKind,
    Worker,
)

__all__ = [
    "TOTAL_SHARDS", "Account", "Anomaly", "AuditEntry", "Base", "BillCheck", "BillCheckStatus",
    "BillFinding", "BillLine", "Campaign", "CampaignStatus",
    "Donation", "DonationStatus", "DonorTally", "LoginFailure", "Notification", "Refund",
    "RefundStatus", "Role", "Scope",
    "SharedToken", "Total", "Unit", "UnitClosure", "UnitKind", "Worker",
]
