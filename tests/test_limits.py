"""Rate limits hold across worker processes without Redis (the database counts), refused
notifications are stored within a cap for every address together, and with trusted_proxies
only the proxy on this host may reach the app."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app import create_app
from app.ratelimit import RateLimiter
from app.web import notify
from models import Notification
from tests.conftest import app_config


@pytest.fixture
def second_worker(sessions: Any, database_url: str, instance_dir: Path) -> Iterator[Any]:
    """Another app on the same database, as another gunicorn worker would be."""
    other = create_app(app_config(database_url, "http://127.0.0.1:9", instance_dir))
    yield other.test_client()
    other.extensions["warmfund"].engine.dispose()


_names = itertools.count()


def _admin_login(client: Any, address: str = "127.0.0.1") -> int:
    body = {"username": f"nobody{next(_names)}", "password": "wrong one"}
    reply = client.post("/admin/api/token", json=body, environ_base={"REMOTE_ADDR": address})
    return int(reply.status_code)


def _one_minute(*clients: Any) -> None:
    """Every app counts on one clock that stands still, as if the requests all came within a
    minute: on the real clock a minute that ends among them would start a new count."""
    standing = time.time()
    for test_client in clients:
        runtime = test_client.application.extensions["warmfund"]
        runtime.rate_limiter = RateLimiter(runtime.engine, clock=lambda: standing)


def test_a_limit_holds_across_workers(client: Any, second_worker: Any) -> None:
    # 20 sign-ins a minute from one address, however many workers share them out.
    _one_minute(client, second_worker)
    assert {_admin_login(client) for _ in range(20)} == {401}
    assert _admin_login(second_worker) == 429
    assert _admin_login(second_worker, "192.0.2.7") == 401


@pytest.fixture
def proxied(sessions: Any, database_url: str, instance_dir: Path) -> Iterator[Any]:
    flask_app = create_app(app_config(database_url, "http://127.0.0.1:9", instance_dir,
                                      app={"trusted_proxies": 1}))
    yield flask_app.test_client()
    flask_app.extensions["warmfund"].engine.dispose()


def test_refused_notifications_are_capped_for_every_address_together(
        proxied: Any, session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify, "REFUSED_KEPT_PER_HOUR", 5)
    for n in range(12):  # each from another spoofed address: the per-address cap never bites
        reply = proxied.post("/wechat/pay/notify", data=b"{forged", headers={
            "Content-Type": "application/json", "X-Forwarded-For": f"198.51.100.{n}"})
        assert reply.status_code == 401
    assert session.scalar(select(func.count()).select_from(Notification)) == 5


def test_behind_a_proxy_only_loopback_may_connect(proxied: Any) -> None:
    around = proxied.get("/api/campaigns", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                         headers={"X-Forwarded-For": "127.0.0.1"})
    assert around.status_code == 403 and around.get_json()["error"]["code"] == "forbidden"
    through = proxied.get("/api/campaigns", headers={"X-Forwarded-For": "203.0.113.9"})
    assert through.status_code == 200
