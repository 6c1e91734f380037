"""Shared fixtures: a database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set), the app
served over real HTTP beside the local stand-in of WeChat, and service-level fakes."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text
from werkzeug.serving import make_server

from app import create_app
from app.services.catalog.campaigns import ensure_default_campaigns
from app.services.deps import Deps, utc_now
from models import Base
from models.database import make_engine, make_session_factory
from models.migrate import upgrade
from tests.helpers import Api, postgres_database

TEST_SECRET = "test-secret-key-0123456789abcdef"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    """A skipped test is a failed one here: a missing browser, font or database must show up
    red, never as a quiet 's' (test.sh installs everything the suite needs)."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, which this suite does not allow: {report.longrepr}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite in a temporary folder, or, with TEST_DATABASE_URL, a fresh PostgreSQL database
    of this run's own beside the given one (so parallel runs never share tables)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    with postgres_database(url, f"{make_url(url).database}_run{os.getpid()}") as own:
        yield own


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _clear(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def sessions(engine: Engine) -> Iterator[Any]:
    _clear(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        ensure_default_campaigns(session, utc_now())
    yield factory


@pytest.fixture
def session(sessions: Any) -> Iterator[Any]:
    with sessions() as s:
        yield s


class _Dispatcher:
    """A WSGI app that forwards to whichever Flask app the current test made."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def http_server() -> Iterator[tuple[_Dispatcher, str]]:
    dispatcher = _Dispatcher()
    server = make_server("127.0.0.1", 0, dispatcher, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield dispatcher, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("instance")


def app_config(database_url: str, public_url: str, instance_dir: Path,
               **extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    config: dict[str, dict[str, Any]] = {
        "app": {"development": True, "secret_key": TEST_SECRET, "public_url": public_url,
                "instance_dir": str(instance_dir)},
        "database": {"url": database_url},
        "wechat": {"use_simulator": True},
    }
    for section, values in extra.items():
        config.setdefault(section, {}).update(values)
    return config


@pytest.fixture
def app(sessions: Any, database_url: str, http_server: Any, instance_dir: Path) -> Iterator[Any]:
    dispatcher, url = http_server
    flask_app = create_app(app_config(database_url, url, instance_dir))
    dispatcher.app = flask_app
    yield flask_app
    dispatcher.app = None
    flask_app.extensions["warmfund"].engine.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def api(app: Any, client: Any) -> Api:
    return Api(app, client)


@pytest.fixture
def fake_deps() -> Deps:
    from wechat.fake import FakeMiniProgram, FakePay

    return Deps(pay=FakePay(), miniprogram=FakeMiniProgram(), secret_key=TEST_SECRET)
