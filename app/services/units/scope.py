"""What part of the unit tree an admin call may look at.

Admins see everything; an organizer sees only the subtree of its own unit. Every scoped
service resolves the caller's scope here first, so the rule lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.actor import Actor
from app.services.errors import ForbiddenError
from app.services.units.unit_admin import visible_unit_ids
from app.services.units.units import find_unit, subtree_ids
from models import Campaign, Unit

OUT_OF_SCOPE = "只能查看本单位及下级单位的数据"


@dataclass(frozen=True)
class ViewScope:
    """`root` None means the whole federation; `unit_ids` None means every unit."""

    root: Unit | None
    unit_ids: list[int] | None

    def contains(self, unit_id: int) -> bool:
        return self.unit_ids is None or unit_id in self.unit_ids


def resolve_scope(session: Session, actor: Actor, unit_code: str | None = None) -> ViewScope:
    """The subtree the caller asked for (or its own), refused when outside its reach."""
    visible = visible_unit_ids(session, actor)
    if unit_code:
        unit = find_unit(session, unit_code)
        if visible is not None and unit.id not in visible:
            raise ForbiddenError(OUT_OF_SCOPE)
        return ViewScope(unit, subtree_ids(session, unit.id))
    if visible is None:
        return ViewScope(None, None)
    if actor.unit_id is None:
        raise ForbiddenError("该账号未绑定单位")
    root = session.get(Unit, actor.unit_id)
    if root is None:
        raise ForbiddenError("该账号所属单位不存在")
    return ViewScope(root, visible)


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    headcount: int | None
    active: bool


def unit_directory(session: Session, scope: ViewScope | None = None) -> dict[int, UnitInfo]:
    """Every unit in scope by id, in id order (the tree is small: hundreds of units)."""
    query = select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id, Unit.headcount,
                   Unit.active).order_by(Unit.id)
    if scope is not None and scope.unit_ids is not None:
        query = query.where(Unit.id.in_(scope.unit_ids))
    return {r.id: UnitInfo(*r) for r in session.execute(query)}


def campaign_codes(session: Session) -> dict[int, str]:
    return {cid: code for cid, code in session.execute(select(Campaign.id, Campaign.code))}


def campaign_names(session: Session) -> dict[int, str]:
    return {cid: name for cid, name in session.execute(select(Campaign.id, Campaign.name))}

