"""The console in headless Chromium (Debian's, never a downloaded one): log in, watch a total
change after a payment through the WeChat stand-in, filter, export, create an organizer; at
desktop and phone sizes the figures shown equal the API's. Screenshots go to artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.services.formatting import yuan
from tests.admin.helpers import ADMIN, log_in_browser, pay, token_for
from tests.helpers import Api, demo_tree, make_admin

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DESKTOP, PHONE = {"width": 1366, "height": 768}, {"width": 375, "height": 812}


def _shown(page: Any, figure: str) -> str:
    return str(page.locator(f"#live .figures [data-figure={figure}]").inner_text()).strip()


def _assert_figures_match(page: Any, api: Api, token: str) -> None:
    board = api.get("/admin/api/dashboard?campaign=one-yuan", token).get_json()["summary"]
    assert _shown(page, "total_fen") == yuan(board["total_fen"])
    assert _shown(page, "donation_count") == str(board["donation_count"])
    assert _shown(page, "donor_count") == str(board["donor_count"])


def test_console_in_chromium(browser: Any, api: Api, session: Any) -> None:
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    demo_tree(session)
    make_admin(session, *ADMIN)
    token = token_for(api, *ADMIN)
    base = api.runtime.settings.public_url
    pay(api, "alice", "HC-A1", quantity=2)
    page = log_in_browser(browser, base, DESKTOP, accept_downloads=True)
    _assert_figures_match(page, api, token)
    pay(api, "bob", "DX-XF", quantity=5, message="加油")
    expect(page.locator("#live .figures [data-figure=total_fen]")).to_have_text("7.00",
                                                                               timeout=15000)
    _assert_figures_match(page, api, token)
    expect(page.locator("[data-testid=recent]")).to_contain_text("加油")
    page.screenshot(path=str(SHOTS / "dashboard-1366x768.png"), full_page=True)
    _filter_and_export(page, base)
    _create_organizer(page, api)
    phone = log_in_browser(browser, base, PHONE)
    _assert_figures_match(phone, api, token)
    phone.screenshot(path=str(SHOTS / "dashboard-375x812.png"), full_page=True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the phone layout must not scroll sideways"


def _filter_and_export(page: Any, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/admin/donations")
    page.fill("input[name=unit]", "DX-HC")
    page.click("[data-testid=filters] button[type=submit]")
    rows = page.locator("[data-testid=donations] tbody tr[data-out-trade-no]")
    # The filtered page is a navigation away: wait for it (a busy host takes a while).
    expect(rows).to_have_count(1, timeout=15000)
    assert "HC-A1" in page.url or "DX-HC" in page.url
    page.screenshot(path=str(SHOTS / "donations-1366x768.png"), full_page=True)
    with page.expect_download() as info:
        page.click("[data-testid=export-csv]")
    content = Path(info.value.path()).read_bytes()
    assert content.startswith("\ufeff".encode())
    assert content.decode("utf-8-sig").count("\r\n") == 2  # the header and one donation
    assert "HC-A1" in content.decode("utf-8-sig")


def _create_organizer(page: Any, api: Api) -> None:
    base = api.runtime.settings.public_url
    page.goto(f"{base}/admin/accounts")
    form = page.locator("[data-testid=new-account]")
    form.locator("input[name=username]").fill("hc-clerk")
    form.locator("select[name=role]").select_option("organizer")
    form.locator("input[name=unit]").fill("DX-HC")
    form.locator("input[name=password]").fill("clerk password 1")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("tr[data-username=hc-clerk]")
    page.screenshot(path=str(SHOTS / "accounts-1366x768.png"), full_page=True)
    organizer = token_for(api, "hc-clerk", "clerk password 1")
    assert api.get("/admin/api/me", organizer).get_json()["unit"] == "DX-HC"
