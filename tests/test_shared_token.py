"""The access token every worker shares: one fetch per refresh however many ask at once, the
replaced token handed on, and (on SQLite) no payment kept waiting while WeChat answers."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from app.infra.shared_token import DatabaseTokenStore, RedisTokenStore
from app.services.deps import utc_now
from models import Anomaly
from models.database import write_transaction


@pytest.fixture(params=["database", "redis"])
def new_store(request: pytest.FixtureRequest, sessions: Any) -> Iterator[Callable[[], Any]]:
    """Makes stores of one kind; separate stores stand for separate worker processes."""
    if request.param == "database":
        yield lambda: DatabaseTokenStore(sessions)
        return
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    yield lambda: RedisTokenStore(client)
    client.close()


def _counting_fetch(pause: float = 0.0) -> tuple[Callable[[], tuple[str, int]], list[str]]:
    issued: list[str] = []

    def fetch() -> tuple[str, int]:
        time.sleep(pause)
        issued.append(f"token-{uuid.uuid4().hex}")
        return issued[-1], 7200

    return fetch, issued


def test_concurrent_refreshes_fetch_once(new_store: Callable[[], Any]) -> None:
    key = f"wx{uuid.uuid4().hex[:8]}_access_token"
    fetch, issued = _counting_fetch(pause=0.2)
    got: list[str] = []
    stores = [new_store() for _ in range(6)]  # as six workers would: no lock shared in memory
    threads = [threading.Thread(target=lambda s=s: got.append(s.refresh(key, None, fetch)))
               for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(issued) == 1
    assert got == issued * 6
    assert stores[0].get(key) == issued[0]


def test_a_stale_token_is_replaced_once(new_store: Callable[[], Any]) -> None:
    store = new_store()
    key = f"wx{uuid.uuid4().hex[:8]}_access_token"
    fetch, issued = _counting_fetch()
    first = store.refresh(key, None, fetch)
    second = store.refresh(key, first, fetch)  # WeChat said `first` is no longer valid
    assert second != first and issued == [first, second]
    # A worker that saw `first` fail too gets `second`, without revoking it by a new fetch.
    assert store.refresh(key, first, fetch) == second
    assert issued == [first, second]


def test_waiting_on_wechat_keeps_no_payment_waiting(sessions: Any) -> None:
    store = DatabaseTokenStore(sessions)
    asked, answer = threading.Event(), threading.Event()

    def slow_fetch() -> tuple[str, int]:
        asked.set()
        answer.wait(10)
        return "token-slow", 7200

    refresher = threading.Thread(target=store.refresh, args=("wx_access_token", None,
                                                             slow_fetch))
    refresher.start()
    assert asked.wait(5)
    started = time.monotonic()
    with sessions() as session, write_transaction(session):
        session.add(Anomaly(kind="unknown_order", out_trade_no="WFX", detail="a write",
                            created_at=utc_now()))
    waited = time.monotonic() - started
    answer.set()
    refresher.join()
    assert waited < 2  # the old SQLite path held the write lock until WeChat answered
    assert store.get("wx_access_token") == "token-slow"
