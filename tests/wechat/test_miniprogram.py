"""MiniProgramClient (wechatpy underneath) against the stand-in, over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from wechat import (
    DevCredentials,
    MemoryTokenStore,
    MiniProgramClient,
    MiniProgramError,
    WeChatUnavailableError,
)
from wechat.simulator import SimulatorServer, derive_openid

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _state(simulator: SimulatorServer) -> dict:
    return requests.get(f"{simulator.url}/_sim/state", timeout=10).json()


def _client(
    simulator: SimulatorServer, creds: DevCredentials, store: MemoryTokenStore, **overrides: str
) -> MiniProgramClient:
    options = {"appid": creds.appid, "secret": creds.secret, "api_base": simulator.url}
    options.update(overrides)
    return MiniProgramClient(token_store=store, **options)


@pytest.fixture
def store() -> MemoryTokenStore:
    return MemoryTokenStore()


@pytest.fixture
def client(
    simulator: SimulatorServer, dev_creds: DevCredentials, store: MemoryTokenStore
) -> Iterator[MiniProgramClient]:
    with _client(simulator, dev_creds, store) as mp_client:
        yield mp_client


def test_code_to_session_goes_to_the_stand_in_token_included(
    client: MiniProgramClient, simulator: SimulatorServer, dev_creds: DevCredentials
) -> None:
    first = client.code_to_session("alice#1")
    second = client.code_to_session("alice#2")
    assert first.openid == second.openid == derive_openid(dev_creds.appid, "alice")
    assert first.openid.startswith("o") and len(first.openid) == 28
    assert first.unionid is None
    assert not hasattr(first, "session_key")
    assert client.code_to_session("bob#1").openid != first.openid
    state = _state(simulator)
    assert (state["tokens_issued"], state["code2session_calls"]) == (1, 3)


def test_code_reuse_and_invalid_code(client: MiniProgramClient) -> None:
    client.code_to_session("carol#1")
    with pytest.raises(MiniProgramError) as reused:
        client.code_to_session("carol#1")
    assert reused.value.errcode == 40163
    with pytest.raises(MiniProgramError) as empty:
        client.code_to_session("")
    assert empty.value.errcode == 40029


def test_wrong_secret_is_a_mini_program_error(
    simulator: SimulatorServer, dev_creds: DevCredentials, store: MemoryTokenStore
) -> None:
    bad = _client(simulator, dev_creds, store, secret="0" * 32)
    with bad, pytest.raises(MiniProgramError) as refused:
        bad.code_to_session("dave#1")
    assert refused.value.errcode == 40125
    assert store.get(f"{dev_creds.appid}_access_token") is None


def test_two_clients_share_one_token(
    simulator: SimulatorServer, dev_creds: DevCredentials, store: MemoryTokenStore
) -> None:
    with _client(simulator, dev_creds, store) as one, _client(simulator, dev_creds, store) as two:
        one.get_wxacode_unlimited(scene="U001/one-yuan", page="pages/donate/donate")
        two.get_wxacode_unlimited(scene="U002/one-yuan", page="pages/donate/donate")
        one.code_to_session("erin#1")
        two.code_to_session("erin#2")
    assert _state(simulator)["tokens_issued"] == 1


def test_concurrent_first_use_fetches_one_token(
    simulator: SimulatorServer, dev_creds: DevCredentials, store: MemoryTokenStore
) -> None:
    clients = [_client(simulator, dev_creds, store) for _ in range(4)]
    errors: list[Exception] = []

    def login(index: int) -> None:
        try:
            clients[index].code_to_session(f"worker{index}#1")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=login, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for mp_client in clients:
        mp_client.close()
    assert errors == []
    assert _state(simulator)["tokens_issued"] == 1


def test_token_invalidated_elsewhere_is_refreshed_once(
    client: MiniProgramClient,
    simulator: SimulatorServer,
    dev_creds: DevCredentials,
    store: MemoryTokenStore,
) -> None:
    client.get_wxacode_unlimited(scene="U001/one-yuan", page="pages/donate/donate")
    stolen = requests.get(
        f"{simulator.url}/cgi-bin/token",
        params={
            "grant_type": "client_credential",
            "appid": dev_creds.appid,
            "secret": dev_creds.secret,
        },
        timeout=10,
    ).json()
    assert stolen["expires_in"] == 7200
    image = client.get_wxacode_unlimited(scene="U001/one-yuan", page="pages/donate/donate")
    assert image.startswith(PNG_MAGIC)
    state = _state(simulator)
    assert state["tokens_issued"] == 3  # ours, the stranger's, our one refresh
    assert state["wxacode_calls"] == 3  # the refused call was retried exactly once
    assert store.get(f"{dev_creds.appid}_access_token") not in (None, stolen["access_token"])


def test_wxacode_is_a_png_and_sends_env_version(client: MiniProgramClient) -> None:
    image = client.get_wxacode_unlimited(
        scene="U001/ten-yuan", page="pages/donate/donate", env_version="trial", check_path=False
    )
    assert image.startswith(PNG_MAGIC)
    with pytest.raises(MiniProgramError) as refused:
        client.get_wxacode_unlimited(scene="U001/ten-yuan", page="p", env_version="nightly")
    assert refused.value.errcode == 40097


def test_wxacode_scene_rules(client: MiniProgramClient) -> None:
    with pytest.raises(MiniProgramError) as too_long:
        client.get_wxacode_unlimited(scene="x" * 33, page="pages/donate/donate")
    assert too_long.value.errcode == 40169
    with pytest.raises(MiniProgramError) as bad_chars:
        client.get_wxacode_unlimited(scene="单位/one-yuan", page="pages/donate/donate")
    assert bad_chars.value.errcode == 40129


def test_unreachable_platform(dev_creds: DevCredentials, store: MemoryTokenStore) -> None:
    with MiniProgramClient(
        appid=dev_creds.appid,
        secret=dev_creds.secret,
        api_base="http://127.0.0.1:9",
        token_store=store,
        timeout_seconds=2,
    ) as unreachable:
        with pytest.raises(WeChatUnavailableError):
            unreachable.code_to_session("frank#1")
        with pytest.raises(WeChatUnavailableError):
            unreachable.get_wxacode_unlimited(scene="a", page="b")


def test_memory_token_store_semantics() -> None:
    now = [1000.0]
    store = MemoryTokenStore(clock=lambda: now[0])
    fetched: list[str] = []

    def fetch() -> tuple[str, int]:
        fetched.append(f"t{len(fetched) + 1}")
        return fetched[-1], 7200

    assert store.get("k") is None
    assert store.refresh("k", None, fetch) == "t1"
    assert store.refresh("k", None, fetch) == "t1"  # someone else's fresh token is reused
    assert store.refresh("k", "t0", fetch) == "t1"  # a stale view of an older token
    assert store.refresh("k", "t1", fetch) == "t2"  # our token was refused: replace it
    now[0] += 7200 - 300
    assert store.get("k") is None  # expires a safety margin early
    assert fetched == ["t1", "t2"]


def test_logins_read_the_shared_token_once_in_a_while(
    simulator: SimulatorServer, dev_creds: DevCredentials
) -> None:
    reads: list[str] = []

    class CountingStore(MemoryTokenStore):
        def get(self, key: str) -> str | None:
            reads.append(key)
            return super().get(key)

    store = CountingStore()
    with _client(simulator, dev_creds, store) as mp_client:
        mp_client.code_to_session("gina#0")  # fetches the token and stores it
        assert reads
        reads.clear()
        for n in range(1, 4):
            mp_client.code_to_session(f"gina#{n}")
    assert reads == []  # the token it stored is reused, not read back each time
    assert _state(simulator)["tokens_issued"] == 1
