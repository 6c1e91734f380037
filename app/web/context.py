"""Small helpers every blueprint uses to reach the runtime built by create_app()."""

from __future__ import annotations

from app.db import get_session
from app.ratelimit import RateLimiter
from app.runtime import current_runtime as runtime
from app.services.deps import Deps

__all__ = ["deps", "get_session", "limiter", "runtime"]


def deps() -> Deps:
    return runtime().deps


def limiter() -> RateLimiter:
    return runtime().rate_limiter
