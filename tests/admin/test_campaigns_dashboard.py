"""Campaign management, the dashboard's figures, and the audit trail with anomalies."""

from __future__ import annotations

from typing import Any

from tests.admin.helpers import bearer, error_code, pay, seed
from tests.helpers import Api


def test_campaign_lifecycle_and_closed_campaign_refuses_orders(api: Api, session: Any) -> None:
    tokens = seed(api, session)
    admin = bearer(tokens["admin"])
    made = api.client.post("/admin/api/campaigns", headers=admin, json={
        "code": "spring-2026", "name": "春送温暖", "amount_fen": 500, "goal_fen": 100000,
        "starts_on": "2026-01-01", "ends_on": "2026-12-31"})
    assert made.status_code == 201 and made.get_json()["status"] == "draft"
    draft = api.order(api.login("dan"), unit="DX-XF", campaign="spring-2026")
    assert draft.status_code == 404 and error_code(draft) == "not_found"  # not public yet
    for bad in ({"amount_fen": 0}, {"status": "paused"}, {"starts_on": "2026-02-30"},
                {"goal_fen": "many"}, {"ends_on": "2025-01-01"}):
        reply = api.client.patch("/admin/api/campaigns/spring-2026", headers=admin, json=bad)
        assert reply.status_code == 400, bad
    closed = api.client.patch("/admin/api/campaigns/one-yuan", headers=admin,
                              json={"status": "closed", "goal_fen": 90000})
    assert closed.get_json()["status"] == "closed" and closed.get_json()["goal_fen"] == 90000
    refused = api.order(api.login("erin"), unit="DX-XF")
    assert refused.status_code == 409 and error_code(refused) == "campaign_closed"
    listed = api.get("/admin/api/campaigns", tokens["organizer"]).get_json()["campaigns"]
    assert {c["code"] for c in listed} >= {"one-yuan", "ten-yuan", "spring-2026"}
    audit = api.get("/admin/api/audit?action=campaign.update", tokens["admin"]).get_json()
    assert audit["actions"][0]["target"] == "one-yuan"


def test_dashboard_figures_equal_the_totals(api: Api, session: Any) -> None:
    tokens = seed(api, session)
    board = api.get("/admin/api/dashboard?campaign=one-yuan", tokens["admin"]).get_json()
    campaign = api.get("/api/campaigns/one-yuan").get_json()
    summary = board["summary"]
    assert (summary["total_fen"], summary["donation_count"], summary["donor_count"]) == (
        campaign["total_fen"], campaign["donation_count"], campaign["donor_count"]) == (600, 3, 3)
    assert summary["today"]["total_fen"] == 600 and summary["year"]["donation_count"] == 3
    assert sum(d["total_fen"] for d in board["chart"]["days"]) == 600
    assert sum(h["count"] for h in board["chart"]["hours"]) == 3
    assert [u["code"] for u in board["children"]["units"]] == ["DX-HC", "DX-XF"]
    # One leaderboard per kind below the top, none naming a kind another board names:
    assert [(lv["label"], [u["code"] for u in lv["units"]]) for lv in board["levels"]] == [
        ("镇总工会", ["DX-HC"]), ("街道总工会", ["DX-XF"]), ("基层工会", ["HC-A"]),
        ("企业", ["HC-A1"])]
    anonymous = next(r for r in board["recent"] if r["amount_fen"] == 200)
    assert anonymous["donor"] == "匿名" and anonymous["message"] == "=HYPERLINK(1)"
    assert all("openid" not in r for r in board["recent"])
    drilled = api.get("/admin/api/dashboard?unit=HC-A&sort=donors", tokens["admin"]).get_json()
    assert drilled["summary"]["total_fen"] == 500
    assert drilled["children"]["not_started"] == []
    bad = api.get("/admin/api/dashboard?sort=height", tokens["admin"])
    assert bad.status_code == 400


def test_not_started_units_and_participation_rate(api: Api, session: Any) -> None:
    tokens = seed(api, session)
    from tests.helpers import add_units

    add_units(session, ("DX-NEW", "DX", "park"))
    board = api.get("/admin/api/dashboard?sort=rate", tokens["admin"]).get_json()
    assert [u["code"] for u in board["children"]["not_started"]] == ["DX-NEW"]
    assert all(u["rate"] is None for u in board["children"]["units"])


def test_anomalies_and_notifications_are_listed_and_resolved(api: Api, session: Any) -> None:
    tokens = seed(api, session)
    admin = bearer(tokens["admin"])
    placed = api.order(api.login("frank"), unit="DX-XF").get_json()
    api.sim_pay(placed["out_trade_no"], amount=1)
    anomalies = api.get("/admin/api/anomalies", tokens["admin"]).get_json()["anomalies"]
    assert [a["kind"] for a in anomalies] == ["amount_mismatch"]
    notes = api.get("/admin/api/notifications", tokens["admin"]).get_json()["notifications"]
    assert notes[0]["verdict"] == "disputed" and len(notes) == 4
    raw = api.get(f"/admin/api/notifications/{notes[0]['id']}", tokens["admin"]).get_json()
    assert "resource" in raw["body"] and raw["headers"]
    empty = api.client.post(f"/admin/api/anomalies/{anomalies[0]['id']}/resolve", headers=admin,
                            json={"resolution": " "})
    assert empty.status_code == 400
    done = api.client.post(f"/admin/api/anomalies/{anomalies[0]['id']}/resolve", headers=admin,
                           json={"resolution": "已联系捐款人，原路退回"})
    assert done.get_json()["resolved_by"] == "boss"
    assert api.get("/admin/api/anomalies", tokens["admin"]).get_json()["anomalies"] == []
    actions = api.get("/admin/api/audit", tokens["admin"]).get_json()["actions"]
    assert {"anomaly.resolve", "notification.view"} <= {a["action"] for a in actions}
    assert pay(api, "gina", "HC-A")
