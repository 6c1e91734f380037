"""End to end through HTTP and the stand-in: login, order, pay, totals move exactly once."""

from __future__ import annotations

from typing import Any

from tests.helpers import Api, demo_tree


def test_donation_flow_counts_once(api: Api, session: Any) -> None:
    demo_tree(session)
    token = api.login("alice")
    placed = api.order(token, unit="HC-A1", quantity=3)
    assert placed.status_code == 201, placed.get_json()
    donation = placed.get_json()
    assert donation["amount_fen"] == 300
    assert set(donation["payment"]) == {"timeStamp", "nonceStr", "package", "signType",
                                        "paySign"}
    result = api.sim_pay(donation["out_trade_no"], repeat=3)
    assert [d["status"] for d in result["deliveries"]] == [204, 204, 204]
    campaign = api.get("/api/campaigns/one-yuan").get_json()
    figures = (campaign["total_fen"], campaign["donation_count"], campaign["donor_count"])
    assert figures == (300, 1, 1)
    unit = api.get("/api/units/HC-A").get_json()
    assert unit["path"] == [{"code": code, "name": f"{code} 工会"}
                            for code in ("DX", "DX-HC", "HC-A")]
    one_yuan = next(t for t in unit["totals"] if t["campaign"] == "one-yuan")
    assert one_yuan["total_fen"] == 300
    mine = api.get(f"/api/donations/{donation['out_trade_no']}", token).get_json()
    assert mine["status"] == "paid"
