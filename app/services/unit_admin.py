"""Units as admins and organizers see them: listing within scope, creating, editing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.services.accounts import Actor
from app.services.audit import record_action
from app.services.units import UnitInput, create_unit, subtree_ids
from models import Unit


def visible_unit_ids(session: Session, actor: Actor) -> list[int] | None:
    """None for admins (everything); an organizer's subtree otherwise."""
    if actor.is_admin:
        return None
    if actor.unit_id is None:
        return []
    return subtree_ids(session, actor.unit_id)


def list_units(session: Session, actor: Actor) -> list[dict[str, Any]]:
    parent = aliased(Unit)
    query = (select(Unit, parent.code).outerjoin(parent, parent.id == Unit.parent_id)
             .order_by(Unit.id))
    visible = visible_unit_ids(session, actor)
    if visible is not None:
        query = query.where(Unit.id.in_(visible))
    return [unit_dict(u, parent_code) for u, parent_code in session.execute(query)]


def unit_dict(unit: Unit, parent_code: str | None) -> dict[str, Any]:
    return {"code": unit.code, "name": unit.name, "parent": parent_code, "kind": unit.kind,
            "headcount": unit.headcount, "active": unit.active}


def create_unit_as(session: Session, actor: Actor, data: UnitInput,
                   now: datetime) -> dict[str, Any]:
    actor.require_admin()
    unit = create_unit(session, data, now, audit=lambda s: record_action(
        s, actor, "unit.create", data.code, {"name": data.name, "parent": data.parent,
                                             "kind": data.kind}, now))
    return unit_dict(unit, data.parent)
