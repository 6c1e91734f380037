"""Drawn codes and posters kept by what they show, and a bound on how many are drawn at once.

A poster PNG costs ≈ 34 ms of CPU and anyone may ask for one: the same sync workers must answer
WeChat Pay within 5 s. So a drawing is made once per process for its content key (the ETag,
which names the link, the size, the texts and the template revision), and only `slots`
drawings run at once across every process that shares the lock folder; a request that finds
none free within `wait_seconds` is refused (RendersBusyError) rather than queued behind them.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["DrawingCache", "RenderSlots", "RendersBusyError"]

_POLL_SECONDS = 0.01


class RendersBusyError(Exception):
    """Every drawing slot stayed taken for the whole wait."""


class RenderSlots:
    """At most `slots` drawings at once across processes: one lock file per slot, taken with
    flock (a lock belongs to its open file, so threads of one process exclude each other too,
    and a process that dies gives its slot back)."""

    def __init__(self, directory: Path, slots: int, wait_seconds: float) -> None:
        if slots < 1:
            raise ValueError("at least one drawing slot")
        self.directory = directory
        self.paths = [directory / f"slot-{index}.lock" for index in range(slots)]
        self.wait_seconds = wait_seconds
        self._made = False

    @contextmanager
    def slot(self) -> Iterator[None]:
        fd = self._take()
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _take(self) -> int:
        if not self._made:
            # By the first drawing, as the app's own user: the runtime is also built by
            # commands (check-config) that may run as another.
            self.directory.mkdir(parents=True, exist_ok=True)
            self._made = True
        deadline = time.monotonic() + self.wait_seconds
        while True:
            for path in self.paths:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    os.close(fd)
            if time.monotonic() >= deadline:
                raise RendersBusyError(f"{len(self.paths)} drawing(s) already under way")
            time.sleep(_POLL_SECONDS)


class DrawingCache:
    """Drawn bytes by content key, the least recently used dropped past `max_bytes`."""

    def __init__(self, slots: RenderSlots, max_bytes: int) -> None:
        self.slots = slots
        self.max_bytes = max_bytes
        self.drawn = 0  # drawings made (not served from the cache), for tests and benches
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def fetch(self, key: str, draw: Callable[[], bytes]) -> bytes:
        """The bytes kept under `key`, or draw() in a slot (RendersBusyError if none frees)."""
        found = self._get(key)
        if found is not None:
            return found
        with self.slots.slot():
            found = self._get(key)  # drawn by another thread while this one waited
            if found is not None:
                return found
            body = draw()
            self.drawn += 1
        self._put(key, body)
        return body

    def _get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def _put(self, key: str, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        with self._lock:
            if key in self._kept:
                return
            self._kept[key] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, dropped = self._kept.popitem(last=False)
                self._size -= len(dropped)
