"""Fixed-window rate limits: in Redis when configured (shared by all workers), else in-process."""

from __future__ import annotations

import threading
import time
from typing import Any

from app.services.errors import RateLimitedError


class RateLimiter:
    def __init__(self, redis_client: Any = None, clock: Any = time.time) -> None:
        self._redis = redis_client
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str, key: str, limit: int, window_seconds: int = 60) -> None:
        """Count one request; raises RateLimitedError past `limit` within the window."""
        if not self.allow(bucket, key, limit, window_seconds):
            raise RateLimitedError()

    def allow(self, bucket: str, key: str, limit: int, window_seconds: int = 60) -> bool:
        """Count one event; False once `limit` were counted within the window."""
        window = int(self._clock() // window_seconds)
        name = f"warmfund:rl:{bucket}:{key}:{window}"
        if self._redis is not None:
            with self._redis.pipeline() as pipe:
                count, _ = pipe.incr(name).expire(name, window_seconds * 2).execute()
        else:
            count = self._count_locally(name, window)
        return int(count) <= limit

    def _count_locally(self, name: str, window: int) -> int:
        with self._lock:
            if len(self._counts) > 50_000:
                suffix = f":{window}"
                self._counts = {k: v for k, v in self._counts.items() if k.endswith(suffix)}
            self._counts[name] = self._counts.get(name, 0) + 1
            return self._counts[name]
