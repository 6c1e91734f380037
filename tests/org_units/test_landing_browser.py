"""The landing page in headless Chromium (Debian's, never a downloaded one): figures equal the
API, nothing scrolls sideways, no request leaves localhost, and 模拟捐款 moves the totals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.web.pages import format_yuan
from tests.helpers import Api
from tests.org_units.conftest import paid_donation

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
VIEWPORTS = [(375, 812), (1366, 768)]

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(),
                                                      reason="needs Debian's chromium")]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _open(browser: Any, url: str, width: int, height: int) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(url, wait_until="networkidle")
    return context, page, requested


def _unit_figures(api: Api, unit: str, campaign: str) -> dict[str, int]:
    totals = api.get(f"/api/units/{unit}").get_json()["totals"]
    return dict(next(t for t in totals if t["campaign"] == campaign))


def _text(page: Any, selector: str) -> str:
    node = page.locator(selector)
    assert node.is_visible(), selector
    return str(node.inner_text()).strip()


@pytest.mark.parametrize("width, height", VIEWPORTS)
def test_figures_equal_the_api_and_nothing_leaves_localhost(api: Api, tree: None, browser: Any,
                                                            width: int, height: int) -> None:
    paid_donation(api, "HC-A1", "alice", quantity=7)
    paid_donation(api, "HC-A", "bob", quantity=3)
    base = api.runtime.deps.public_url
    context, page, requested = _open(browser, f"{base}/d/HC-A/one-yuan", width, height)
    try:
        figures = _unit_figures(api, "HC-A", "one-yuan")
        assert _text(page, "#unit-name") == api.get("/api/units/HC-A").get_json()["name"]
        assert _text(page, "#unit-total") == format_yuan(figures["total_fen"]) == "10.00"
        assert _text(page, "#unit-donors") == str(figures["donor_count"]) == "2"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"landing-{width}x{height}.png"), full_page=True)
    finally:
        context.close()
    hosts = {urlsplit(url).hostname for url in requested}
    assert hosts == {"127.0.0.1"}, requested
    assert any("/qr/HC-A/one-yuan.svg" in url for url in requested)


def test_simulated_donation_moves_the_totals(api: Api, tree: None, browser: Any) -> None:
    from playwright.sync_api import expect

    base = api.runtime.deps.public_url
    context, page, requested = _open(browser, f"{base}/d/DX-XF/one-yuan", 375, 812)
    try:
        assert _text(page, "#unit-total") == "0.00"
        page.locator("#simulate").click()
        expect(page.locator("#unit-total")).to_have_text("1.00", timeout=20_000)
        figures = _unit_figures(api, "DX-XF", "one-yuan")
        assert (figures["total_fen"], figures["donor_count"]) == (100, 1)
        assert _text(page, "#unit-donors") == "1"
        assert _text(page, "#campaign-total") == "1.00"
        assert "成功" in _text(page, "#simulate-status")
        page.screenshot(path=str(SCREENSHOTS / "landing-after-simulated-donation.png"))
    finally:
        context.close()
    assert {urlsplit(url).hostname for url in requested} == {"127.0.0.1"}
    assert any("/dev/simulate-payment/" in url for url in requested)


def test_deactivated_unit_page_renders_its_notice(api: Api, tree: None, browser: Any,
                                                  boss: dict[str, str]) -> None:
    api.client.patch("/admin/api/units/HC-A1", json={"active": False}, headers=boss)
    context, page, _ = _open(browser, f"{api.runtime.deps.public_url}/d/HC-A1/one-yuan",
                             375, 812)
    try:
        assert "停止募捐" in _text(page, "#unit-stopped")
        assert page.locator("#simulate").count() == 0
    finally:
        context.close()
