"""The landing page as HTML (the browser test drives it in Chromium), and WeChat's
verification file for the ordinary-URL QR rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from app import create_app
from app.web.pages import format_yuan
from tests.conftest import app_config
from tests.helpers import Api
from tests.org_units.conftest import paid_donation


def test_landing_page_shows_unit_path_campaign_price_and_totals(api: Api, tree: None) -> None:
    paid_donation(api, "HC-A1", "alice", quantity=100, campaign="ten-yuan")
    paid_donation(api, "HC-A", "bob", quantity=23, campaign="ten-yuan")
    reply = api.get("/d/HC-A/ten-yuan")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    html = reply.get_data(as_text=True)
    for text in ("HC-A 工会", "DX-HC 工会", "DX 工会", "十元捐", "每份 10 元", "1,230.00",
                 "如何捐款", "微信"):
        assert text in html, text
    assert "default-src 'self'" in reply.headers["Content-Security-Policy"]


def test_landing_page_loads_nothing_from_another_host(api: Api, tree: None) -> None:
    html = api.get("/d/DX-XF/one-yuan").get_data(as_text=True)
    for marker in ("http://", "https://", "//cdn", "@import", "fonts.googleapis"):
        stripped = html.replace(api.runtime.deps.public_url + "/d/DX-XF/one-yuan", "")
        assert marker not in stripped, marker


def test_a_deactivated_unit_says_it_no_longer_collects(api: Api, tree: None,
                                                       boss: dict[str, str]) -> None:
    api.client.patch("/admin/api/units/DX-XF", json={"active": False}, headers=boss)
    html = api.get("/d/DX-XF/one-yuan").get_data(as_text=True)
    assert "本单位已停止募捐" in html
    assert "模拟捐款" not in html and "如何捐款" not in html


def test_simulate_button_only_with_the_stand_in(api: Api, tree: None) -> None:
    assert "模拟捐款" in api.get("/d/DX-XF/one-yuan").get_data(as_text=True)
    api.runtime.simulator = None  # as when WeChat's real servers are used
    assert "模拟捐款" not in api.get("/d/DX-XF/one-yuan").get_data(as_text=True)
    assert api.client.post("/dev/simulate-payment/abc").status_code == 404


def test_dev_proxy_pays_at_the_stand_in(api: Api, tree: None) -> None:
    placed = api.order(api.login("dora"), unit="DX-XF", quantity=2).get_json()
    reply = api.client.post(f"/dev/simulate-payment/{placed['out_trade_no']}")
    assert reply.status_code == 200, reply.get_json()
    assert api.get("/api/campaigns/one-yuan").get_json()["total_fen"] == 200


def test_unknown_landing_page_is_a_chinese_404(api: Api, tree: None) -> None:
    reply = api.get("/d/NOPE/one-yuan")
    assert reply.status_code == 404
    assert "找不到该单位" in reply.get_data(as_text=True)


@pytest.mark.parametrize("fen, text", [(0, "0.00"), (5, "0.05"), (100, "1.00"),
                                       (123456789, "1,234,567.89")])
def test_yuan_formatting(fen: int, text: str) -> None:
    assert format_yuan(fen) == text


@pytest.fixture
def verifying_app(sessions: Any, database_url: str, http_server: Any,
                  instance_dir: Path) -> Iterator[Any]:
    dispatcher, url = http_server
    config = app_config(database_url, url, instance_dir, **{"wechat.miniprogram": {
        "verify_file_name": "Xy12AbCdEf.txt", "verify_file_content": "0123456789abcdef"}})
    flask_app = create_app(config)
    dispatcher.app = flask_app
    yield url
    dispatcher.app = None
    flask_app.extensions["warmfund"].engine.dispose()


def test_verification_file_is_served_at_the_root_and_in_d(verifying_app: str) -> None:
    for path in ("/Xy12AbCdEf.txt", "/d/Xy12AbCdEf.txt"):
        reply = requests.get(verifying_app + path, timeout=5)
        assert reply.status_code == 200, path
        assert reply.text == "0123456789abcdef"
    assert requests.get(verifying_app + "/Other.txt", timeout=5).status_code == 404


def test_no_verification_file_without_a_name(api: Api) -> None:
    assert api.get("/Xy12AbCdEf.txt").status_code == 404
    assert api.get("/d/Xy12AbCdEf.txt").status_code == 404


def test_the_federation_is_named_from_its_one_setting(api: Api, tree: None, sessions: Any,
                                                     database_url: str, instance_dir: Path
                                                     ) -> None:
    default = api.get("/d/DX-XF/one-yuan").get_data(as_text=True)
    assert "大兴区总工会 · 职工应急救助专项温暖基金" in default  # the footer, as the page names it
    config = app_config(database_url, "http://127.0.0.1:1", instance_dir,
                        app={"federation_name": "通州区总工会"})
    other = create_app(config)
    try:
        page = other.test_client().get("/d/DX-XF/one-yuan").get_data(as_text=True)
        login = other.test_client().get("/admin/login").get_data(as_text=True)
    finally:
        other.extensions["warmfund"].engine.dispose()
    assert "通州区总工会 · 职工应急救助专项温暖基金" in page
    assert "通州区总工会" in login
