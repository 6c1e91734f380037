"""Helpers for the console tests: a seeded tree, accounts, and payments through the stand-in."""

from __future__ import annotations

import re
from typing import Any

from tests.helpers import Api, demo_tree, make_admin

ADMIN = ("boss", "correct horse 1")
ORGANIZER = ("hc-org", "organizer pass 1")


def pay(api: Api, worker: str, unit: str, campaign: str = "one-yuan", quantity: int = 1,
        **extra: Any) -> str:
    """Order and pay through the WeChat stand-in; returns the out_trade_no."""
    placed = api.order(api.login(worker), unit=unit, campaign=campaign, quantity=quantity,
                       **extra)
    assert placed.status_code == 201, placed.get_json()
    out_trade_no = str(placed.get_json()["out_trade_no"])
    result = api.sim_pay(out_trade_no)
    assert [d["status"] for d in result["deliveries"]] == [204]
    return out_trade_no


def token_for(api: Api, username: str, password: str) -> str:
    reply = api.client.post("/admin/api/token", json={"username": username,
                                                       "password": password})
    assert reply.status_code == 200, reply.get_json()
    return str(reply.get_json()["token"])


def seed(api: Api, session: Any) -> dict[str, str]:
    """DX > (DX-XF, DX-HC > HC-A > HC-A1); an admin, an organizer of DX-HC, three payments.

    Returns bearer tokens by role and the out_trade_nos by name.
    """
    demo_tree(session)
    make_admin(session, *ADMIN)
    make_admin(session, *ORGANIZER, role="organizer", unit="DX-HC")
    return {
        "admin": token_for(api, *ADMIN),
        "organizer": token_for(api, *ORGANIZER),
        "alice": pay(api, "alice", "HC-A1", quantity=3),
        "bob": pay(api, "bob", "DX-XF"),
        "carol": pay(api, "carol", "HC-A", quantity=2, anonymous=True, message="=HYPERLINK(1)"),
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(reply: Any) -> str:
    body = reply.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, reply.data[:200]
    assert body["error"]["message"], body
    return str(body["error"]["code"])


def form_csrf(page: bytes) -> str:
    """The CSRF token in a console page's forms (every page has one: the sign-out form)."""
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1).decode()


def console_as(api: Api, username: str, password: str) -> Any:
    """A test client signed in to the console (cookie session) as `username`."""
    client = api.app.test_client()
    page = client.get("/admin/login")
    signed_in = client.post("/admin/login", data={"username": username, "password": password,
                                                  "csrf_token": form_csrf(page.data)})
    assert signed_in.status_code == 302, signed_in.data
    return client


def log_in_browser(browser: Any, base: str, viewport: dict[str, int],
                   accept_downloads: bool = False) -> Any:
    """A Chromium page signed in to the console as ADMIN, on the dashboard."""
    page = browser.new_context(viewport=viewport, accept_downloads=accept_downloads).new_page()
    page.goto(f"{base}/admin/")
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    return page
