"""Fixtures of the unit, QR and landing-page tests: the demo tree and admin tokens."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api, demo_tree, make_admin

PASSWORD = "correct horse 1"


@pytest.fixture
def tree(session: Any) -> None:
    demo_tree(session)


def admin_token(api: Api, username: str) -> str:
    reply = api.client.post("/admin/api/token", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.get_json()
    return str(reply.get_json()["token"])


@pytest.fixture
def boss(api: Api, session: Any, tree: None) -> dict[str, str]:
    """Authorization headers of an admin."""
    make_admin(session, "boss", PASSWORD)
    return {"Authorization": f"Bearer {admin_token(api, 'boss')}"}


@pytest.fixture
def organizer(api: Api, session: Any, tree: None) -> dict[str, str]:
    """Authorization headers of DX-HC's organizer (its subtree: DX-HC, HC-A, HC-A1)."""
    make_admin(session, "hc-org", PASSWORD, role="organizer", unit="DX-HC")
    return {"Authorization": f"Bearer {admin_token(api, 'hc-org')}"}


def paid_donation(api: Api, unit: str, worker: str, quantity: int = 1,
                  campaign: str = "one-yuan") -> dict[str, Any]:
    token = api.login(worker)
    placed = api.order(token, unit=unit, campaign=campaign, quantity=quantity)
    assert placed.status_code == 201, placed.get_json()
    donation: dict[str, Any] = placed.get_json()
    api.sim_pay(donation["out_trade_no"])
    return donation


def subtree_total(api: Api, unit: str, campaign: str = "one-yuan") -> int:
    reply = api.get(f"/api/units/{unit}").get_json()
    return int(next(t["total_fen"] for t in reply["totals"] if t["campaign"] == campaign))
