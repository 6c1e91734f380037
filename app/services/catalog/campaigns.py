"""Campaigns and the public, aggregate views of campaigns and units."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.errors import NotFoundError
from app.services.payments.totals import ZERO, read_figures
from app.services.units.units import ancestor_path, find_unit
from models import Campaign, CampaignStatus, Scope, Unit
from models.database import write_transaction

CAMPAIGN_CODE = re.compile(r"[a-z0-9-]{1,15}")
DEFAULT_CAMPAIGNS = (
    ("one-yuan", "一元捐", 100),
    ("ten-yuan", "十元捐", 1000),
)


def ensure_default_campaigns(session: Session, now: datetime) -> list[str]:
    """Create the permanent one-yuan and ten-yuan campaigns if missing; returns created codes."""
    created = []
    with write_transaction(session):
        existing = set(session.scalars(select(Campaign.code)))
        for code, name, amount_fen in DEFAULT_CAMPAIGNS:
            if code not in existing:
                session.add(Campaign(code=code, name=name, amount_fen=amount_fen,
                                     status=CampaignStatus.OPEN, goal_fen=0,
                                     created_at=now))
                created.append(code)
    return created


def find_campaign(session: Session, code: str) -> Campaign:
    campaign = (session.scalar(select(Campaign).where(Campaign.code == code))
                if CAMPAIGN_CODE.fullmatch(code) else None)
    if campaign is None:
        raise NotFoundError("找不到该募捐项目")
    return campaign


def find_public_campaign(session: Session, code: str) -> Campaign:
    """A campaign the public may see: a draft is not there yet."""
    campaign = find_campaign(session, code)
    if campaign.status == CampaignStatus.DRAFT:
        raise NotFoundError("找不到该募捐项目")
    return campaign


def campaign_view(session: Session, campaign: Campaign) -> dict[str, Any]:
    figures = read_figures(session, Scope.CAMPAIGN, [campaign.id]).get((campaign.id, 0), ZERO)
    return _campaign_dict(campaign, figures.as_dict())


def _campaign_dict(campaign: Campaign, figures: dict[str, int]) -> dict[str, Any]:
    return {"code": campaign.code, "name": campaign.name, "amount_fen": campaign.amount_fen,
            "status": campaign.status, "goal_fen": campaign.goal_fen, **figures}


def list_campaigns(session: Session, include_drafts: bool = False) -> list[dict[str, Any]]:
    query = select(Campaign).order_by(Campaign.id)
    if not include_drafts:
        query = query.where(Campaign.status != CampaignStatus.DRAFT)
    campaigns = list(session.scalars(query))
    figures = read_figures(session, Scope.CAMPAIGN, [c.id for c in campaigns])
    return [_campaign_dict(c, figures.get((c.id, 0), ZERO).as_dict()) for c in campaigns]


def get_campaign(session: Session, code: str) -> dict[str, Any]:
    return campaign_view(session, find_public_campaign(session, code))


def unit_view(session: Session, unit: Unit) -> dict[str, Any]:
    campaigns = list(session.scalars(
        select(Campaign).where(Campaign.status != CampaignStatus.DRAFT)
        .order_by(Campaign.id)))
    figures = read_figures(session, Scope.SUBTREE, [c.id for c in campaigns], [unit.id])
    totals = [{"campaign": c.code, **figures.get((c.id, unit.id), ZERO).as_dict()}
              for c in campaigns]
    return {"code": unit.code, "name": unit.name, "kind": unit.kind, "active": unit.active,
            "path": ancestor_path(session, unit.id), "totals": totals}


def get_unit(session: Session, code: str) -> dict[str, Any]:
    return unit_view(session, find_unit(session, code))
