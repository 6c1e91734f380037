"""The actor every admin service call carries: who is calling, and the unit they are bound to."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.errors import ForbiddenError
from models import Role


@dataclass(frozen=True)
class Actor:
    """Who is calling an admin service; organizers are bound to one unit's subtree."""

    account_id: int
    username: str
    role: str
    unit_id: int | None
    remote_addr: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def require_admin(self) -> None:
        if not self.is_admin:
            raise ForbiddenError("仅限管理员操作")


SYSTEM = Actor(account_id=0, username="cli", role=Role.ADMIN, unit_id=None)
