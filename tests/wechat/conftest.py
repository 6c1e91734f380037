from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from wechat import DevCredentials, PayConfig, PayV3Client, generate_dev_credentials
from wechat.pay_models import dev_pay_config
from wechat.simulator import (
    BackgroundServer,
    SimulatorConfig,
    SimulatorServer,
    simulator_config_from_dev_credentials,
)

FIXTURES = Path(__file__).parent / "fixtures"
NOTIFY_PATH = "/wechat/pay/notify"
REFUND_NOTIFY_PATH = "/wechat/pay/refund-notify"


def load_vectors(name: str) -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text("utf-8"))["vectors"]
    return vectors


@pytest.fixture(scope="session")
def dev_creds(tmp_path_factory: pytest.TempPathFactory) -> DevCredentials:
    return generate_dev_credentials(tmp_path_factory.mktemp("creds"))


@pytest.fixture(scope="session")
def other_creds(tmp_path_factory: pytest.TempPathFactory) -> DevCredentials:
    """A second, unrelated set of keys: what a forger would hold."""
    return generate_dev_credentials(tmp_path_factory.mktemp("other-creds"))


@pytest.fixture(scope="session")
def simulator_config(dev_creds: DevCredentials) -> SimulatorConfig:
    return simulator_config_from_dev_credentials(dev_creds)


@pytest.fixture
def simulator(simulator_config: SimulatorConfig) -> Iterator[SimulatorServer]:
    with SimulatorServer(simulator_config) as server:
        yield server


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A merchant endpoint that records what the stand-in posts to it."""

    status: int = 204
    delay_seconds: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        time.sleep(self.delay_seconds)
        with self.lock:
            self.received.append(Received(request.path, dict(request.headers), request.get_data()))
        return Response(status=self.status)(environ, start_response)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Receiver()
    with BackgroundServer(app) as server:
        app.url = server.url
        yield app


@pytest.fixture(scope="session")
def dev_pay_config_base(dev_creds: DevCredentials) -> PayConfig:
    # Loading (and validating) RSA keys is slow; do it once and vary only the URLs.
    return dev_pay_config(
        dev_creds, api_base="http://unused", notify_url="http://unused", refund_notify_url=""
    )


@pytest.fixture
def pay_config(
    dev_pay_config_base: PayConfig, simulator: SimulatorServer, receiver: Receiver
) -> PayConfig:
    return replace(
        dev_pay_config_base,
        api_base=simulator.url,
        notify_url=receiver.url + NOTIFY_PATH,
        refund_notify_url=receiver.url + REFUND_NOTIFY_PATH,
    )


@pytest.fixture
def pay_client(pay_config: PayConfig) -> Iterator[PayV3Client]:
    with PayV3Client(pay_config) as client:
        yield client
