"""Mini-program login (code2Session, straight through urllib3) and mini-program codes
(through wechatpy, with its access token), both at `api_base`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

import requests
import urllib3
from wechatpy.client.api import WeChatWxa
from wechatpy.client.base import BaseWeChatClient
from wechatpy.exceptions import WeChatClientException

from wechat.errors import MiniProgramError, WeChatUnavailableError
from wechat.http import connection_pool, json_object, pooled_session

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
SYSTEM_BUSY_ERRCODE = -1
TOKEN_SAFETY_MARGIN_SECONDS = 300
# How long a client uses the access token it last read from the shared store before reading the
# store again. A token replaced meanwhile by another process is refused by WeChat (40001), and
# the one retry then takes the new one from the store.
TOKEN_REUSE_SECONDS = 60.0
_T = TypeVar("_T")


@dataclass(frozen=True)
class LoginSession:
    """Who logged in. The session_key is deliberately dropped: we never need or keep it."""

    openid: str
    unionid: str | None


class TokenStore(Protocol):
    def get(self, key: str) -> str | None: ...

    def refresh(self, key: str, stale: str | None, fetch: Callable[[], tuple[str, int]]) -> str:
        """Under a lock shared by all workers: return the stored token unless it is `stale`
        (or absent); otherwise fetch, store until shortly before expiry, and return it."""
        ...


def token_lifetime(expires_in: int) -> float:
    """How long to keep a token: WeChat's lifetime minus a safety margin."""
    return max(expires_in - TOKEN_SAFETY_MARGIN_SECONDS, expires_in / 2)


class MemoryTokenStore:
    """In-process TokenStore for tests and single-process development."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}
        self._clock = clock

    def get(self, key: str) -> str | None:
        entry = self._tokens.get(key)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]

    def refresh(self, key: str, stale: str | None, fetch: Callable[[], tuple[str, int]]) -> str:
        with self._lock:
            current = self.get(key)
            if current is not None and current != stale:
                return current
            token, expires_in = fetch()
            self._tokens[key] = (token, self._clock() + token_lifetime(expires_in))
            return token


class _RoutedWxaClient(BaseWeChatClient):  # type: ignore[misc]
    """wechatpy's client with every URL, the token fetch included, under `api_base`,
    and its access token kept in our shared TokenStore instead of per process."""

    wxa = WeChatWxa()

    def __init__(
        self,
        *,
        appid: str,
        secret: str,
        api_base: str,
        token_store: TokenStore,
        timeout: float,
        http: requests.Session,
    ) -> None:
        # auto_retry would refresh without bound; MiniProgramClient retries once itself.
        super().__init__(appid, timeout=timeout, auto_retry=False)
        self._http.close()
        self._http: requests.Session = http
        self.secret = secret
        self.api_base = api_base.rstrip("/")
        self.API_BASE_URL = f"{self.api_base}/cgi-bin/"
        self.wxa.API_BASE_URL = f"{self.api_base}/"
        self.token_store = token_store
        self._in_use = threading.local()
        self._reused: tuple[str, float] | None = None  # (token, until when)

    @property
    def access_token(self) -> str:
        # wechatpy's __new__ probes every attribute before __init__ has run; the
        # AttributeError raised here then tells it this is not an API endpoint.
        reused = self._reused
        if reused is not None and time.monotonic() < reused[1]:
            token = reused[0]
        else:
            store: TokenStore = self.token_store
            token = self._reuse(store.get(self.access_token_key) or store.refresh(
                self.access_token_key, None, self._fetch_token))
        self._in_use.token = token
        return token

    def fetch_access_token(self) -> str:
        """Replace the token this thread last used, unless another worker already did."""
        stale = getattr(self._in_use, "token", None)
        return self._reuse(
            self.token_store.refresh(self.access_token_key, stale, self._fetch_token))

    def _reuse(self, token: str) -> str:
        """Keep `token` for TOKEN_REUSE_SECONDS: every call needs the token, and reading the
        shared store each time would cost each a database round trip."""
        self._reused = (token, time.monotonic() + TOKEN_REUSE_SECONDS)
        return token

    def _fetch_token(self) -> tuple[str, int]:
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        response = self._http.get(
            f"{self.api_base}/cgi-bin/token", params=params, timeout=self.timeout
        )
        result = self._handle_result(response)
        if not isinstance(result, dict) or not result.get("access_token"):
            raise WeChatUnavailableError("token endpoint answered without a token")
        return str(result["access_token"]), int(result.get("expires_in", 7200))


class MiniProgramClient:
    """code2Session, which needs no access token, and getwxacodeunlimit, whose one access token
    is shared through `token_store`."""

    def __init__(
        self,
        *,
        appid: str,
        secret: str,
        api_base: str,
        token_store: TokenStore,
        timeout_seconds: float = 5.0,
        http: requests.Session | None = None,
    ) -> None:
        self._owns_http = http is None
        # code2Session goes through urllib3 alone (wechat.http.connection_pool says why), and
        # without wechatpy, which would fetch an access token first that the call does not need.
        self._pool = connection_pool(api_base)
        self._login_query = {"appid": appid, "secret": secret,
                             "grant_type": "authorization_code"}
        self._login_url = f"{api_base.rstrip('/')}/sns/jscode2session"
        self._timeout = timeout_seconds
        self._client = _RoutedWxaClient(
            appid=appid,
            secret=secret,
            api_base=api_base,
            token_store=token_store,
            timeout=timeout_seconds,
            http=http if http is not None else pooled_session(api_base),
        )

    def close(self) -> None:
        self._pool.clear()
        if self._owns_http:
            self._client._http.close()

    def __enter__(self) -> MiniProgramClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def code_to_session(self, code: str) -> LoginSession:
        """Exchange a wx.login code for the worker's openid (and unionid when bound)."""
        query = urlencode({**self._login_query, "js_code": code})
        try:
            reply = self._pool.request("GET", f"{self._login_url}?{query}", redirect=False,
                                       timeout=self._timeout)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # Neither the exception's text nor the exception as the cause: the URL it may name
            # carries the AppSecret, and a logged traceback would print it.
            raise WeChatUnavailableError(
                f"code2Session unreachable: {type(exc).__name__}") from None
        result = _login_result(reply.status, reply.data)
        unionid = result.get("unionid")
        return LoginSession(openid=result["openid"], unionid=unionid if unionid else None)

    def get_wxacode_unlimited(
        self,
        *,
        scene: str,
        page: str,
        env_version: str = "release",
        width: int = 430,
        check_path: bool = False,
    ) -> bytes:
        """A mini-program code image (PNG from the stand-in; WeChat may answer JPEG)."""
        # wechatpy 1.8.18's get_wxa_code_unlimited cannot send env_version/check_path.
        payload = {
            "scene": scene,
            "page": page,
            "env_version": env_version,
            "width": width,
            "check_path": check_path,
        }
        result = self._run(
            lambda: self._client.post(
                "wxa/getwxacodeunlimit", data=payload, api_base_url=f"{self._client.api_base}/"
            )
        )
        return _image_bytes(result)

    def _run(self, action: Callable[[], _T]) -> _T:
        try:
            return self._retry_on_stale_token(action)
        except requests.RequestException as exc:
            # Neither the exception's text nor the exception itself as the cause: the token
            # fetch's URL carries the AppSecret, and a logged traceback would print it.
            raise WeChatUnavailableError(
                f"mini-program API unreachable: {type(exc).__name__}") from None
        except WeChatClientException as exc:
            raise _converted(exc) from exc

    def _retry_on_stale_token(self, action: Callable[[], _T]) -> _T:
        try:
            return action()
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRCODES:
                raise
        self._client.fetch_access_token()
        return action()


def _login_result(status: int, content: bytes) -> dict[str, Any]:
    """code2Session's answer with a string openid; its errcode raised as wechatpy would."""
    if status != 200:
        raise WeChatUnavailableError(f"code2Session answered HTTP {status}")
    result = json_object(content, "code2Session")
    error = _errcode_error(result.get("errcode"), result.get("errmsg"))
    if error is not None:
        raise error
    if not isinstance(result.get("openid"), str):
        raise WeChatUnavailableError("code2Session answered without an openid")
    return result


def _errcode_error(errcode: Any, errmsg: Any) -> Exception | None:
    """The error a mini-program API's errcode means, or None for none (0 or absent): WeChat
    busy (-1), or an errcode that is no number, is WeChat unavailable; any other is a
    MiniProgramError."""
    try:
        number = int(errcode or 0)
    except (TypeError, ValueError):
        return WeChatUnavailableError("mini-program API answered an errcode that is no number")
    if number == SYSTEM_BUSY_ERRCODE:
        return WeChatUnavailableError(f"mini-program API busy: {errmsg or ''}")
    return MiniProgramError(number, str(errmsg or "")) if number else None


def _converted(exc: Any) -> Exception:
    """wechatpy's error for a call it made; without an errcode, WeChat unavailable."""
    return (_errcode_error(exc.errcode, exc.errmsg)
            or WeChatUnavailableError(f"mini-program API failed: {exc}"))


def _image_bytes(result: Any) -> bytes:
    if isinstance(result, requests.Response):
        if result.headers.get("Content-Type", "").startswith("image/"):
            return result.content
        raise WeChatUnavailableError("getwxacodeunlimit answered neither an image nor JSON")
    raise WeChatUnavailableError(f"getwxacodeunlimit answered JSON without an image: {result}")
