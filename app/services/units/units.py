"""The unit tree: creating, moving and describing units, and the closure table behind it."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.services.errors import InvalidRequestError, NotFoundError
from models import Unit, UnitKind
from models.database import is_postgres, write_transaction

UNIT_CODE = re.compile(r"[A-Za-z0-9_-]{1,16}")
KINDS = set(UnitKind)
# Each kind as a clerk writes it, from the top of the tree down.
UNIT_KIND_NAMES = {"district": "区总工会", "town": "镇总工会", "street": "街道总工会",
                   "park": "产业基地", "grassroots": "基层工会", "enterprise": "企业"}
Node = TypeVar("Node", bound=Hashable)


@dataclass(frozen=True)
class UnitInput:
    code: str
    name: str
    parent: str | None
    kind: str
    headcount: int | None = None


def check_unit_input(data: UnitInput) -> None:
    if not UNIT_CODE.fullmatch(data.code):
        raise InvalidRequestError("单位编码只能包含字母、数字、下划线和连字符，最长16位")
    if not data.name.strip() or len(data.name) > 100:
        raise InvalidRequestError("单位名称不能为空，且不超过100个字符")
    if data.kind not in KINDS:
        raise InvalidRequestError("单位类型无效：" + "、".join(sorted(KINDS)))
    if data.headcount is not None and not 0 <= data.headcount <= 10_000_000:
        raise InvalidRequestError("职工人数无效")


def count_units(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Unit)) or 0)


def find_unit(session: Session, code: str) -> Unit:
    # A code that cannot exist never reaches the database (a NUL byte upsets PostgreSQL).
    unit = session.scalar(select(Unit).where(Unit.code == code)) if UNIT_CODE.fullmatch(
        code) else None
    if unit is None:
        raise NotFoundError("找不到该单位")
    return unit


def create_unit(session: Session, data: UnitInput, now: Any,
                audit: Callable[[Session], None] | None = None) -> Unit:
    check_unit_input(data)
    with write_transaction(session):
        lock_tree(session)
        if session.scalar(select(Unit.id).where(Unit.code == data.code)) is not None:
            raise InvalidRequestError(f"单位编码 {data.code} 已存在")
        parent_id = find_unit(session, data.parent).id if data.parent else None
        unit = Unit(code=data.code, name=data.name.strip(), kind=data.kind, parent_id=parent_id,
                    headcount=data.headcount, active=True, created_at=now, updated_at=now)
        session.add(unit)
        session.flush()
        add_to_closure(session, unit.id, parent_id)
        if audit is not None:
            audit(session)
    return unit


def lock_tree(session: Session) -> None:
    """Changes to the tree, one at a time (SQLite's writes are one at a time anyway): each reads
    the tree, then rewrites it, and one reading what another is rewriting would keep a stale
    closure, recount the wrong subtrees, or even join two moves into a cycle. Payments only
    read the closure, and this lock does not stop them."""
    if is_postgres(session):
        session.execute(text("LOCK TABLE unit_closure IN SHARE ROW EXCLUSIVE MODE"))


def add_to_closure(session: Session, unit_id: int, parent_id: int | None) -> None:
    """A new leaf: its own row, plus each of its parent's ancestors one level further."""
    session.execute(text(
        "INSERT INTO unit_closure (ancestor_id, descendant_id, depth) VALUES (:u, :u, 0)"),
        {"u": unit_id})
    if parent_id is not None:
        session.execute(text(
            "INSERT INTO unit_closure (ancestor_id, descendant_id, depth) "
            "SELECT ancestor_id, :u, depth + 1 FROM unit_closure WHERE descendant_id = :p"),
            {"u": unit_id, "p": parent_id})


def rebuild_closure(session: Session) -> None:
    """Recompute the whole closure table from parent links (after moves; the tree is small)."""
    parents: dict[int, int | None] = {
        row.id: row.parent_id for row in session.execute(select(Unit.id, Unit.parent_id))}
    session.execute(text("DELETE FROM unit_closure"))
    rows = [{"a": ancestor, "d": unit_id, "depth": depth} for unit_id in parents
            for depth, ancestor in enumerate(ancestors(parents, unit_id))]
    if rows:
        session.execute(text("INSERT INTO unit_closure (ancestor_id, descendant_id, depth) "
                             "VALUES (:a, :d, :depth)"), rows)


def ancestor_path(session: Session, unit_id: int) -> list[dict[str, str]]:
    """[{code, name}] from the root down to and including the unit."""
    rows = session.execute(text(
        "SELECT u.code, u.name FROM unit_closure c JOIN units u ON u.id = c.ancestor_id "
        "WHERE c.descendant_id = :u ORDER BY c.depth DESC"), {"u": unit_id})
    return [{"code": r.code, "name": r.name} for r in rows]


def ancestors(parents: Mapping[Node, Node | None], node: Node | None) -> list[Node]:
    """`node`, its parent, its parent's parent … up to the top (by id or by code). A cycle,
    which an import's rows may draw, ends the walk before any unit comes twice."""
    chain: list[Node] = []
    seen: set[Node] = set()
    while node is not None and node not in seen:
        chain.append(node)
        seen.add(node)
        node = parents.get(node)
    return chain


def children_of(parents: Mapping[Node, Node | None]) -> dict[Node | None, list[Node]]:
    """Each unit's children in the mapping's order; a unit whose parent is not in the mapping
    is a top one, listed under None (as the highest unit of an organizer's subtree is)."""
    children: dict[Node | None, list[Node]] = {}
    for node, parent in parents.items():
        children.setdefault(parent if parent in parents else None, []).append(node)
    return children


def depth_first(parents: Mapping[Node, Node | None]) -> list[tuple[Node, int]]:
    """The tree in reading order: each unit with its depth, under its parent, siblings in the
    mapping's order, top units (see children_of) at depth 0."""
    children = children_of(parents)
    ordered: list[tuple[Node, int]] = []
    pending = [(node, 0) for node in reversed(children.get(None, []))]
    while pending:
        node, depth = pending.pop()
        ordered.append((node, depth))
        pending.extend((child, depth + 1) for child in reversed(children.get(node, [])))
    return ordered


def closure_pairs(session: Session) -> set[tuple[int, int]]:
    """The tree as (ancestor, descendant) pairs, each unit its own ancestor too."""
    return {(int(a), int(d)) for a, d in session.execute(
        text("SELECT ancestor_id, descendant_id FROM unit_closure"))}


def subtree_ids(session: Session, unit_id: int) -> list[int]:
    return list(session.scalars(text(
        "SELECT descendant_id FROM unit_closure WHERE ancestor_id = :u"), {"u": unit_id}))


def is_in_subtree(session: Session, unit_id: int, root_id: int) -> bool:
    return session.scalar(text(
        "SELECT 1 FROM unit_closure WHERE ancestor_id = :r AND descendant_id = :u"),
        {"r": root_id, "u": unit_id}) is not None
