"""The HTTP session each WeChat client keeps for its one host."""

from __future__ import annotations

import os

import requests
from requests.utils import get_environ_proxies


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
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session
