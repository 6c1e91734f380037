"""Fixed-window rate limits that hold across every worker process: counted in Redis when
configured, else in the database (one upsert per counted event)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, text

from app.services.errors import RateLimitedError
from models.database import WRITE_OPTION

# The same statement on PostgreSQL and SQLite (>= 3.35): count, and say the count.
_COUNT = text("INSERT INTO rate_counts (name, hits, expires_at) VALUES (:name, 1, :expires) "
              "ON CONFLICT (name) DO UPDATE SET hits = rate_counts.hits + 1 RETURNING hits")
_PRUNE = text("DELETE FROM rate_counts WHERE expires_at < :now")


class RateLimiter:
    def __init__(self, engine: Engine, redis_client: Any = None, clock: Any = time.time) -> None:
        self._engine = engine
        self._redis = redis_client
        self._clock = clock

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
        with self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                hits = int(conn.execute(_COUNT, {"name": name, "expires": expires}).scalar_one())
                if hits == 1:  # a new window of this key: forget the windows that have passed
                    conn.execute(_PRUNE, {"now": int(self._clock())})
        return hits
