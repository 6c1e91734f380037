"""Small helpers every blueprint uses to reach the runtime built by create_app()."""

from __future__ import annotations

from flask import current_app

from app.db import get_session
from app.ratelimit import RateLimiter
from app.runtime import Runtime
from app.services.deps import Deps

__all__ = ["deps", "get_session", "limiter", "runtime"]


def runtime() -> Runtime:
    found: Runtime = current_app.extensions["warmfund"]
    return found


def deps() -> Deps:
    return runtime().deps


def limiter() -> RateLimiter:
    return runtime().rate_limiter
