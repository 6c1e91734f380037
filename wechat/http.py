"""The HTTP connections each WeChat client keeps for its one host."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

import certifi
import requests
import urllib3
from requests.utils import get_environ_proxies

from wechat.errors import WeChatUnavailableError


def pooled_session(base_url: str) -> requests.Session:
    """A session for `base_url`'s host: its keep-alive connections are reused from one call to
    the next (no new TCP and TLS handshake each time), and what requests takes from the
    environment (a proxy unless NO_PROXY names the host, a CA bundle) is read here once.

    Left to read the environment itself, requests does so on every request — it walks all of
    os.environ for proxy settings and looks for a ~/.netrc — which cost about a fifth of a
    login's CPU; nor should a .netrc ever lend its credentials to a call to WeChat.
    """
    session = requests.Session()
    session.proxies.update(get_environ_proxies(base_url))
    bundle = _ca_bundle()
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session


def connection_pool(base_url: str) -> urllib3.PoolManager:
    """Keep-alive connections to `base_url`'s host through urllib3 alone, with what
    pooled_session takes from the environment (the proxy, the CA bundle), read here once.

    requests' own layers (the session's settings, hooks and cookies, the adapter, its Response)
    cost ≈ 0.2 ms of CPU a call over urllib3's; on the calls every order and pending poll make
    they are worth nothing. No retries and no redirects: a call is signed for its one path, and
    a failed one is reported, not repeated. The proxy is the scheme's, else ALL_PROXY's, as
    requests would choose it.
    """
    proxies = get_environ_proxies(base_url)
    proxy = proxies.get(urlsplit(base_url).scheme) or proxies.get("all")
    bundle = _ca_bundle() or certifi.where()
    if proxy:
        return urllib3.ProxyManager(proxy, ca_certs=bundle, retries=False, maxsize=32)
    return urllib3.PoolManager(ca_certs=bundle, retries=False, maxsize=32)


def _ca_bundle() -> str | None:
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")


def json_object(content: bytes, source: str) -> dict[str, Any]:
    """A reply's body as a JSON object; anything else is `source` (who answered) unavailable."""
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise WeChatUnavailableError(f"{source} answered something not JSON") from exc
    if not isinstance(data, dict):
        raise WeChatUnavailableError(f"{source} answered JSON that is not an object")
    return data
