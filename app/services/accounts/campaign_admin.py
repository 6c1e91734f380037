"""Managing campaigns (admins only): create, rename, set share price, goal and dates, open, close.

A closed (or draft) campaign refuses new orders with campaign_closed; that check lives in the
ordering path, which reads the status written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.accounts.audit import record_action
from app.services.actor import Actor
from app.services.catalog.campaigns import (
    CAMPAIGN_CODE,
    DEFAULT_CAMPAIGNS,
    campaign_view,
    find_campaign,
)
from app.services.errors import InvalidRequestError, taken_as
from app.services.reports.figures import parse_date
from models import Campaign, CampaignStatus
from models.database import write_transaction

FIXED_PRICES = {code for code, _name, _fen in DEFAULT_CAMPAIGNS}
MAX_GOAL_FEN = 10**12
STATUSES = set(CampaignStatus)
MAX_SHARE_FEN = 1_000_000
EDITABLE = ("name", "amount_fen", "goal_fen", "starts_on", "ends_on", "description", "status")


@dataclass(frozen=True)
class CampaignChanges:
    """Fields to set; None leaves a field as it is (dates: "" clears them)."""

    name: str | None = None
    amount_fen: int | None = None
    goal_fen: int | None = None
    starts_on: str | None = None
    ends_on: str | None = None
    description: str | None = None
    status: str | None = None


def create_campaign(session: Session, actor: Actor, code: str, changes: CampaignChanges,
                    now: datetime) -> dict[str, Any]:
    actor.require_admin()
    if not CAMPAIGN_CODE.fullmatch(code):
        raise InvalidRequestError("项目编码只能包含小写字母、数字和连字符，最长15位")
    if not changes.name or changes.amount_fen is None:
        raise InvalidRequestError("请填写项目名称和每份金额")
    taken = f"项目编码 {code} 已存在"
    with taken_as(taken), write_transaction(session):
        if session.scalar(select(Campaign.id).where(Campaign.code == code)) is not None:
            raise InvalidRequestError(taken)
        campaign = Campaign(code=code, name="", amount_fen=1, goal_fen=0, description="",
                            status=CampaignStatus.DRAFT, created_at=now)
        _apply(campaign, changes)
        session.add(campaign)
        record_action(session, actor, "campaign.create", code, _changed(changes), now)
    return campaign_admin_view(session, campaign)


def update_campaign(session: Session, actor: Actor, code: str, changes: CampaignChanges,
                    now: datetime) -> dict[str, Any]:
    """Edit a campaign; status open/closed/draft opens or closes it to new orders."""
    actor.require_admin()
    with write_transaction(session):
        campaign = find_campaign(session, code)
        before = {k: getattr(campaign, k) for k in _changed(changes)}
        _apply(campaign, changes)
        record_action(session, actor, "campaign.update", code,
                      {"before": before, "after": _changed(changes)}, now)
    return campaign_admin_view(session, campaign)


def _changed(changes: CampaignChanges) -> dict[str, Any]:
    return {k: getattr(changes, k) for k in EDITABLE if getattr(changes, k) is not None}


def _apply(campaign: Campaign, changes: CampaignChanges) -> None:
    if changes.name is not None:
        if not changes.name.strip() or len(changes.name) > 64:
            raise InvalidRequestError("项目名称不能为空，且不超过64个字符")
        campaign.name = changes.name.strip()
    if changes.amount_fen is not None and changes.amount_fen != campaign.amount_fen:
        if campaign.code in FIXED_PRICES:
            raise InvalidRequestError("一元捐、十元捐的每份金额固定，不能修改")
        if not 1 <= changes.amount_fen <= MAX_SHARE_FEN:
            raise InvalidRequestError("每份金额须在 0.01 元到 10000 元之间")
        campaign.amount_fen = changes.amount_fen
    if changes.goal_fen is not None:
        if not 0 <= changes.goal_fen <= MAX_GOAL_FEN:
            raise InvalidRequestError("目标金额须在 0 到 100 亿元之间")
        campaign.goal_fen = changes.goal_fen
    if changes.description is not None:
        campaign.description = changes.description[:200]
    if changes.status is not None:
        if changes.status not in STATUSES:
            raise InvalidRequestError("状态只能是 draft、open 或 closed")
        campaign.status = changes.status
    _apply_dates(campaign, changes)


def _apply_dates(campaign: Campaign, changes: CampaignChanges) -> None:
    if changes.starts_on is not None:
        campaign.starts_on = parse_date(changes.starts_on, "starts_on")
    if changes.ends_on is not None:
        campaign.ends_on = parse_date(changes.ends_on, "ends_on")
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        raise InvalidRequestError("结束日期不能早于开始日期")


def campaign_admin_view(session: Session, campaign: Campaign) -> dict[str, Any]:
    return {**campaign_view(session, campaign), "starts_on": _iso(campaign.starts_on),
            "ends_on": _iso(campaign.ends_on), "description": campaign.description}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def list_campaigns_admin(session: Session) -> list[dict[str, Any]]:
    """Every campaign, drafts included (anyone signed in may read them)."""
    return [campaign_admin_view(session, c)
            for c in session.scalars(select(Campaign).order_by(Campaign.id))]
