"""Fixed-window rate limits that hold across every worker process: counted in Redis when
configured, else in the database (one upsert per counted event)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, text

from app.services.errors import RateLimitedError
from models.direct import DirectStatement

# The same statement on PostgreSQL and SQLite (>= 3.35): count, and say the count.
_COUNT = DirectStatement(text(
    "INSERT INTO rate_counts (name, hits, expires_at) VALUES (:name, 1, :expires) "
    "ON CONFLICT (name) DO UPDATE SET hits = rate_counts.hits + 1 RETURNING hits"))
_PRUNE = DirectStatement(text("DELETE FROM rate_counts WHERE expires_at < :now"))


# Windows past are forgotten by a DELETE at most this often per process: housekeeping, which
# no count depends on (a window's name carries its number), so it need not run on every hit.
PRUNE_EVERY_SECONDS = 60


class RateLimiter:
    def __init__(self, engine: Engine, redis_client: Any = None, clock: Any = time.time) -> None:
        self._engine = engine
        self._redis = redis_client
        self._clock = clock
        self._next_prune = 0.0

    def hit(self, bucket: str, key: str, limit: int, window_seconds: int = 60) -> None:
        """Count one request; raises RateLimitedError past `limit` within the window."""
        if not self.allow(bucket, key, limit, window_seconds):
            raise RateLimitedError()

    def allow(self, bucket: str, key: str, limit: int, window_seconds: int = 60) -> bool:
        """Count one event; False once `limit` were counted within the window."""
        window = int(self._clock() // window_seconds)
        name = f"warmfund:rl:{bucket}:{key[:120]}:{window}"
        if self._redis is not None:
            with self._redis.pipeline() as pipe:
                count, _ = pipe.incr(name).expire(name, window_seconds * 2).execute()
        else:
            count = self._count_in_database(name, (window + 1) * window_seconds)
        return int(count) <= limit

    def _count_in_database(self, name: str, expires: int) -> int:
        # One statement needs no transaction of its own: on PostgreSQL it runs in autocommit on
        # the driver (models.direct), one round trip where BEGIN, the upsert and COMMIT were
        # three. SQLite takes its write lock up front.
        hits = int(_COUNT.alone(self._engine, {"name": name, "expires": expires})[0][0])
        now = self._clock()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_SECONDS
            _PRUNE.alone(self._engine, {"now": int(now)})
        return hits
