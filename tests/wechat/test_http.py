"""The connections every WeChat client keeps: the environment is read once, for its one host."""

from __future__ import annotations

import certifi
import pytest
import urllib3

from wechat.http import connection_pool, pooled_session


@pytest.fixture(autouse=True)
def _no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_a_proxy_from_the_environment_is_kept_unless_no_proxy_names_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    session = pooled_session("https://api.mch.weixin.qq.com")
    assert session.proxies.get("https") == "http://proxy.example:3128"
    assert not session.trust_env  # requests reads the environment no more, on no request
    assert pooled_session("https://internal.example/base").proxies == {}


def test_the_ca_bundle_from_the_environment_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/warmfund/ca.pem")
    assert pooled_session("https://api.weixin.qq.com").verify == "/etc/warmfund/ca.pem"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert pooled_session("https://api.weixin.qq.com").verify is True


def test_the_signed_calls_pool_keeps_the_same_proxy_and_bundle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/warmfund/ca.pem")
    proxied = connection_pool("https://api.mch.weixin.qq.com")
    assert isinstance(proxied, urllib3.ProxyManager)
    assert proxied.proxy is not None and proxied.proxy.host == "proxy.example"
    assert proxied.connection_pool_kw["ca_certs"] == "/etc/warmfund/ca.pem"
    direct = connection_pool("https://internal.example/base")
    assert not isinstance(direct, urllib3.ProxyManager)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert connection_pool("https://x.example").connection_pool_kw["ca_certs"] == certifi.where()


def test_the_signed_calls_pool_takes_all_proxy_when_no_scheme_proxy_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALL_PROXY", "http://only-way-out.example:8080")
    pool = connection_pool("https://api.mch.weixin.qq.com")
    assert isinstance(pool, urllib3.ProxyManager)
    assert pool.proxy is not None and pool.proxy.host == "only-way-out.example"
