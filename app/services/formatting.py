"""Plain-dict shapes of the contract, and the one place times become RFC 3339 in +08:00."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Row

from models import Donation

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def yuan(fen: int, grouped: bool = False) -> str:
    """Fen as yuan with two decimals, exactly (no floats); grouped: 12,345.67."""
    if fen < 0:
        return "-" + yuan(-fen, grouped)
    whole, cents = divmod(fen, 100)
    return f"{whole:,}.{cents:02d}" if grouped else f"{whole}.{cents:02d}"


def donation_view(donation: Donation | Row[Any], campaign_code: str,
                  unit_code: str) -> dict[str, Any]:
    return {
        "out_trade_no": donation.out_trade_no,
        "status": donation.status,
        "amount_fen": donation.amount_fen,
        "quantity": donation.quantity,
        "campaign": campaign_code,
        "unit": unit_code,
        "anonymous": donation.anonymous,
        "message": donation.message,
        "created_at": rfc3339(donation.created_at),
        "paid_at": rfc3339(donation.paid_at),
        "refunded_fen": donation.refunded_fen or 0,
    }
