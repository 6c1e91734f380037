"""Units as admins and organizers see them: listing within scope, creating, editing, moving."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.services.accounts.audit import record_action
from app.services.actor import Actor
from app.services.errors import ForbiddenError, InvalidRequestError
from app.services.payments.ledger_check import rebuild_subtrees
from app.services.units.units import (
    UnitInput,
    check_unit_input,
    closure_pairs,
    create_unit,
    depth_first,
    find_unit,
    is_in_subtree,
    lock_tree,
    rebuild_closure,
    subtree_ids,
)
from models import Unit
from models.database import write_transaction


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


def units_in_tree_order(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The units the actor may see, each under its parent (in the order they were added), with
    its `depth` below the highest unit shown: the console's list of codes and posters."""
    units = {u["code"]: u for u in list_units(session, actor)}  # by id: the order of creation
    return [{**units[code], "depth": depth}
            for code, depth in depth_first({code: u["parent"] for code, u in units.items()})]


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


@dataclass(frozen=True)
class UnitChanges:
    """A PATCH: each field None when not given; `move` says whether `parent` was given (None
    then means "make it a root")."""

    name: str | None = None
    kind: str | None = None
    headcount: int | None = None
    active: bool | None = None
    move: bool = False
    parent: str | None = None


def update_unit_as(session: Session, actor: Actor, code: str, changes: UnitChanges,
                   now: datetime) -> dict[str, Any]:
    """Rename, move, (de)activate a unit; a move carries its subtree totals to the new place."""
    actor.require_admin()
    with write_transaction(session):
        lock_tree(session)  # before reading what the move changes
        unit = find_unit(session, code)
        _check_changes(unit, changes)
        tree_before = closure_pairs(session) if changes.move else set()
        moved = changes.move and _move(session, unit, changes.parent)
        _apply(unit, changes, now)
        session.flush()
        if moved:
            rebuild_after_moves(session, tree_before)
        record_action(session, actor, "unit.update", code, _audit_detail(changes), now)
        parent_code = session.scalar(select(Unit.code).where(Unit.id == unit.parent_id))
    return unit_dict(unit, parent_code)


def _check_changes(unit: Unit, changes: UnitChanges) -> None:
    check_unit_input(UnitInput(
        code=unit.code, name=unit.name if changes.name is None else changes.name, parent=None,
        kind=unit.kind if changes.kind is None else changes.kind,
        headcount=changes.headcount if changes.headcount is not None else unit.headcount))


def _move(session: Session, unit: Unit, parent_code: str | None) -> bool:
    new_parent_id = find_unit(session, parent_code).id if parent_code else None
    if new_parent_id == unit.parent_id:
        return False
    if new_parent_id is not None and is_in_subtree(session, new_parent_id, unit.id):
        raise InvalidRequestError(
            f"不能把单位 {unit.code} 移到它自己或其下级单位之下（会形成循环）")
    unit.parent_id = new_parent_id
    return True


def _apply(unit: Unit, changes: UnitChanges, now: datetime) -> None:
    if changes.name is not None:
        unit.name = changes.name.strip()
    if changes.kind is not None:
        unit.kind = changes.kind
    if changes.headcount is not None:
        unit.headcount = changes.headcount
    if changes.active is not None:
        unit.active = changes.active
    unit.updated_at = now


def _audit_detail(changes: UnitChanges) -> dict[str, Any]:
    detail = {k: v for k, v in asdict(changes).items() if v is not None and k != "move"}
    if changes.move:
        detail["parent"] = changes.parent
    return detail


def rebuild_after_moves(session: Session, tree_before: set[tuple[int, int]]) -> None:
    """After moves (inside the caller's write transaction, the tree locked since `tree_before`
    was read): the closure from parent links, then the subtree figures of exactly the units
    that gained or lost a descendant. Those above both places of a move (the root) and inside a
    moved subtree keep theirs, and so do units that only gained units created meanwhile, which
    have no donations."""
    rebuild_closure(session)
    existed = {descendant for _, descendant in tree_before}
    changed = tree_before ^ closure_pairs(session)
    rebuild_subtrees(session, {ancestor for ancestor, descendant in changed
                               if descendant in existed})


def require_in_scope(session: Session, actor: Actor, unit: Unit) -> None:
    """Admins reach every unit; an organizer only its own subtree."""
    if actor.is_admin:
        return
    if actor.unit_id is None or not is_in_subtree(session, unit.id, actor.unit_id):
        raise ForbiddenError("只能管理本单位及下级单位")
