"""MiniProgramClient against the stand-in, over real HTTP: code2Session straight through
urllib3, with no access token; mini-program codes through wechatpy, with the shared token."""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests

from wechat import (
    DevCredentials,
    LoginSession,
    MemoryTokenStore,
    MiniProgramClient,
    MiniProgramError,
    WeChatUnavailableError,
)
from wechat.simulator import (
    BackgroundServer,
    SimulatorConfig,
    SimulatorServer,
    create_simulator_app,
    derive_openid,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DONATE_PAGE = "pages/donate/donate"


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


def test_code_to_session_goes_to_the_stand_in_without_a_token(
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
    assert (state["tokens_issued"], state["code2session_calls"]) == (0, 3)


class _Recording:
    """The stand-in, with the path and query of every request it is sent."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.app = create_simulator_app(config)
        self.seen: list[tuple[str, dict[str, list[str]]]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.seen.append((environ["PATH_INFO"], parse_qs(environ.get("QUERY_STRING", ""))))
        return self.app(environ, start_response)


def test_code2session_sends_no_access_token(
    simulator_config: SimulatorConfig, dev_creds: DevCredentials, store: MemoryTokenStore
) -> None:
    recording = _Recording(simulator_config)
    with BackgroundServer(recording) as server, MiniProgramClient(
        appid=dev_creds.appid, secret=dev_creds.secret, api_base=server.url, token_store=store
    ) as mp_client:
        mp_client.code_to_session("hana#1")
        mp_client.code_to_session("hana#2")
    expected = {"appid": [dev_creds.appid], "secret": [dev_creds.secret],
                "grant_type": ["authorization_code"]}
    assert recording.seen == [
        ("/sns/jscode2session", {**expected, "js_code": [f"hana#{n}"]}) for n in (1, 2)
    ]
    assert recording.app.state.tokens_issued == 0
    assert store.get(f"{dev_creds.appid}_access_token") is None


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
        one.get_wxacode_unlimited(scene="U001/one-yuan", page=DONATE_PAGE)
        two.get_wxacode_unlimited(scene="U002/one-yuan", page=DONATE_PAGE)
        one.code_to_session("erin#1")  # a login neither fetches nor replaces the token
        two.get_wxacode_unlimited(scene="U003/one-yuan", page=DONATE_PAGE)
    assert _state(simulator)["tokens_issued"] == 1


def test_concurrent_first_use_fetches_one_token(
    simulator: SimulatorServer, dev_creds: DevCredentials, store: MemoryTokenStore
) -> None:
    clients = [_client(simulator, dev_creds, store) for _ in range(4)]
    errors: list[Exception] = []

    def first_code(index: int) -> None:
        try:
            clients[index].get_wxacode_unlimited(scene=f"U00{index}/one-yuan", page=DONATE_PAGE)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_code, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for mp_client in clients:
        mp_client.close()
    assert errors == []
    assert _state(simulator)["tokens_issued"] == 1
    assert _state(simulator)["wxacode_calls"] == 4  # none was refused for a replaced token


def test_token_invalidated_elsewhere_is_refreshed_once(
    client: MiniProgramClient,
    simulator: SimulatorServer,
    dev_creds: DevCredentials,
    store: MemoryTokenStore,
) -> None:
    client.get_wxacode_unlimited(scene="U001/one-yuan", page=DONATE_PAGE)
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
    image = client.get_wxacode_unlimited(scene="U001/one-yuan", page=DONATE_PAGE)
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
        client.get_wxacode_unlimited(scene="x" * 33, page=DONATE_PAGE)
    assert too_long.value.errcode == 40169
    with pytest.raises(MiniProgramError) as bad_chars:
        client.get_wxacode_unlimited(scene="单位/one-yuan", page=DONATE_PAGE)
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


@pytest.mark.parametrize("call", [
    lambda client: client.code_to_session("frank#1"),
    lambda client: client.get_wxacode_unlimited(scene="a", page="b"),  # its token fetch fails
])
def test_unreachable_platform_keeps_the_secret_out_of_the_error(
    dev_creds: DevCredentials, store: MemoryTokenStore, call: Any
) -> None:
    with MiniProgramClient(appid=dev_creds.appid, secret=dev_creds.secret,
                           api_base="http://127.0.0.1:9", token_store=store) as unreachable, \
            pytest.raises(WeChatUnavailableError) as refused:
        call(unreachable)
    assert dev_creds.secret not in str(refused.value)
    # Nor in what a logged traceback would show: the error it was raised from.
    assert dev_creds.secret not in "".join(traceback.format_exception(refused.value))


def _canned(status: int, body: bytes) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(f"{status} X", [("Content-Type", "text/plain")])
        return [body]

    return app


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.parametrize(("status", "body"), [
    (502, _json({"openid": "o" * 28})),
    (200, b"<html>busy</html>"),
    (200, b"[]"),
    (200, _json({"session_key": "k"})),
    (200, _json({"openid": 42, "session_key": "k"})),
    (200, _json({"errcode": -1, "errmsg": "system error"})),
    (200, _json({"errcode": "E?", "errmsg": "?"})),
])
def test_untrusted_login_replies_are_wechat_unavailable(
    status: int, body: bytes, store: MemoryTokenStore
) -> None:
    with BackgroundServer(_canned(status, body)) as server, MiniProgramClient(
        appid="wx0", secret="s" * 32, api_base=server.url, token_store=store
    ) as mp_client, pytest.raises(WeChatUnavailableError):
        mp_client.code_to_session("ivy#1")


@pytest.mark.parametrize(("errcode", "errmsg"), [
    (40029, "invalid code"), (40163, "code been used"), (45011, "api minute-quota reach limit"),
    (40226, "high risk user"),
])
def test_login_errcodes_are_mini_program_errors(
    errcode: int, errmsg: str, store: MemoryTokenStore
) -> None:
    reply = _json({"errcode": errcode, "errmsg": errmsg})
    with BackgroundServer(_canned(200, reply)) as server, MiniProgramClient(
        appid="wx0", secret="s" * 32, api_base=server.url, token_store=store
    ) as mp_client, pytest.raises(MiniProgramError) as refused:
        mp_client.code_to_session("ivy#1")
    assert (refused.value.errcode, refused.value.errmsg) == (errcode, errmsg)


def test_login_keeps_a_bound_unionid(store: MemoryTokenStore) -> None:
    reply = _json({"openid": "o" * 28, "session_key": "k", "unionid": "u" * 28, "errcode": 0})
    with BackgroundServer(_canned(200, reply)) as server, MiniProgramClient(
        appid="wx0", secret="s" * 32, api_base=server.url, token_store=store
    ) as mp_client:
        assert mp_client.code_to_session("ivy#1") == LoginSession("o" * 28, "u" * 28)


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


def test_the_shared_token_is_read_once_in_a_while(
    simulator: SimulatorServer, dev_creds: DevCredentials
) -> None:
    reads: list[str] = []

    class CountingStore(MemoryTokenStore):
        def get(self, key: str) -> str | None:
            reads.append(key)
            return super().get(key)

    store = CountingStore()
    with _client(simulator, dev_creds, store) as mp_client:
        mp_client.code_to_session("gina#0")
        assert reads == []  # a login needs no token
        mp_client.get_wxacode_unlimited(scene="G0", page=DONATE_PAGE)  # fetches and stores it
        assert reads
        reads.clear()
        for n in range(1, 4):
            mp_client.get_wxacode_unlimited(scene=f"G{n}", page=DONATE_PAGE)
            mp_client.code_to_session(f"gina#{n}")
    assert reads == []  # the token it stored is reused, not read back each time
    assert _state(simulator)["tokens_issued"] == 1
