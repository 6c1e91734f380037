"""The drawing cache: one drawing per content key, bounded memory, bounded drawings in flight
across threads and processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import pytest

from app.infra.render_cache import DrawingCache, RendersBusyError, RenderSlots


def _cache(tmp_path: Path, slots: int = 1, wait: float = 1.0,
           max_bytes: int = 1000) -> DrawingCache:
    return DrawingCache(RenderSlots(tmp_path / "slots", slots, wait), max_bytes)


def test_a_key_is_drawn_once(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    assert cache.fetch("a", lambda: b"A") == b"A"
    assert cache.fetch("a", lambda: b"never") == b"A"
    assert cache.fetch("b", lambda: b"B") == b"B"
    assert cache.drawn == 2


def test_the_least_recently_used_goes_past_the_byte_budget(tmp_path: Path) -> None:
    cache = _cache(tmp_path, max_bytes=10)
    cache.fetch("a", lambda: b"x" * 4)
    cache.fetch("b", lambda: b"y" * 4)
    cache.fetch("a", lambda: b"")  # a is used again: b is now the oldest
    cache.fetch("c", lambda: b"z" * 4)
    assert cache.fetch("a", lambda: b"redrawn a") == b"x" * 4
    assert cache.fetch("b", lambda: b"redrawn b") == b"redrawn b"
    too_big = cache.fetch("d", lambda: b"w" * 11)
    assert too_big == b"w" * 11 and cache.fetch("d", lambda: b"again") == b"again"


def test_threads_asking_for_one_key_at_once_draw_it_once(tmp_path: Path) -> None:
    cache, start = _cache(tmp_path, wait=5.0), threading.Barrier(6)
    results: list[bytes] = []

    def slow() -> bytes:
        time.sleep(0.05)
        return b"drawn"

    def ask() -> None:
        start.wait()
        results.append(cache.fetch("same", slow))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [b"drawn"] * 6 and cache.drawn == 1


def test_no_free_slot_within_the_wait_is_refused_not_queued(tmp_path: Path) -> None:
    cache = _cache(tmp_path, slots=1, wait=0.1)
    held, release = threading.Event(), threading.Event()

    def hold() -> bytes:
        held.set()
        release.wait(5)
        return b"slow"

    holder = threading.Thread(target=cache.fetch, args=("slow", hold))
    holder.start()
    held.wait(5)
    started = time.monotonic()
    with pytest.raises(RendersBusyError):
        cache.fetch("other", lambda: b"fast")
    assert 0.1 <= time.monotonic() - started < 1.0
    release.set()
    holder.join()
    assert cache.fetch("other", lambda: b"fast") == b"fast"


def _hold_slot(folder: str, ready: object, release: object) -> None:
    with RenderSlots(Path(folder), 1, 0.0).slot():
        ready.set()  # type: ignore[attr-defined]
        release.wait(10)  # type: ignore[attr-defined]


def test_the_bound_holds_across_processes(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    other = context.Process(target=_hold_slot, args=(str(tmp_path / "slots"), ready, release))
    other.start()
    try:
        assert ready.wait(30)
        with pytest.raises(RendersBusyError):
            _cache(tmp_path, slots=1, wait=0.05).fetch("k", lambda: b"x")
        assert _cache(tmp_path, slots=2, wait=0.05).fetch("k", lambda: b"x") == b"x"
    finally:
        release.set()
        other.join(10)
    assert _cache(tmp_path, slots=1, wait=0.05).fetch("k", lambda: b"x") == b"x"
