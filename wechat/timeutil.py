"""Clock and RFC 3339 helpers shared by the adapters and the stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_rfc3339(moment: datetime) -> str:
    """Format an aware datetime the way WeChat Pay does: seconds, +08:00."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime; WeChat Pay times must be timezone-aware")
    return moment.astimezone(CHINA_TZ).replace(microsecond=0).isoformat()


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 time; raises ValueError unless it carries an offset."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time without offset: {text!r}")
    return moment
