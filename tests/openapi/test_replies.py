"""Every operation, called as the mini-program, an admin and WeChat Pay call it, answers what
/api/openapi.json says: each reply here is checked against its schema, and each described JSON
operation must have been seen answering 2xx."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.services.actor import SYSTEM
from app.services.payments import bill
from app.web.openapi import build_spec
from tests.admin.helpers import bearer, seed
from tests.helpers import Api
from tests.openapi.conformance import check_reply
from wechat.timeutil import CHINA_TZ


class CheckedClient:
    """The test client, with every reply checked against the description."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.seen: set[tuple[str, str]] = set()

    def call(self, method: str, path: str, token: str | None = None, expect: int = 200,
             **kwargs: Any) -> Any:
        headers = bearer(token) if token else {}
        reply = self.client.open(path, method=method, headers=headers, **kwargs)
        assert reply.status_code == expect, (method, path, reply.data[:300])
        body = reply.get_json(silent=True) if reply.is_json else reply.data
        template = check_reply(method, path.split("?")[0], reply.status_code,
                               reply.content_type or "", body)
        if reply.status_code < 300:
            self.seen.add((template, method.lower()))
        return body


def _mini_program(c: CheckedClient, api: Api) -> None:
    worker = c.call("POST", "/api/login", json={"code": "walker#1"})["token"]
    c.call("GET", "/api/openapi.json")
    c.call("GET", "/healthz")
    c.call("GET", "/api/campaigns")
    c.call("GET", "/api/campaigns/one-yuan")
    c.call("GET", "/api/units/HC-A")
    c.call("GET", "/api/entry?scene=HC-A/one-yuan")
    order = c.call("POST", "/api/donations", worker, 201,
                   json={"campaign": "one-yuan", "unit": "DX-XF", "message": "加油"})
    c.call("POST", "/api/donations", worker, json={"campaign": "one-yuan", "unit": "DX-XF",
                                                    "message": "加油"})
    c.call("GET", f"/api/donations/{order['out_trade_no']}", worker)
    api.sim_pay(order["out_trade_no"])
    c.call("GET", f"/api/donations/{order['out_trade_no']}", worker)
    c.call("GET", "/api/me/donations", worker)
    c.call("GET", "/api/donations/NOPE", worker, 404)
    c.call("POST", "/api/donations", None, 401, json={})
    c.call("POST", "/api/donations", worker, 400, json={"campaign": 1, "unit": "DX"})
    c.call("GET", "/api/units/NOPE", expect=404)


def _public_codes(c: CheckedClient) -> None:
    for path in ("/qr/DX-XF/one-yuan.png?size=128", "/qr/DX-XF/one-yuan.svg",
                 "/qr/DX-XF/one-yuan.wxacode.png", "/posters/DX-XF/one-yuan.pdf",
                 "/posters/DX-XF/one-yuan.png"):
        c.call("GET", path)
    c.call("GET", "/qr/DX-XF/one-yuan.png?size=9", expect=400)


def _admin(c: CheckedClient, admin: str) -> None:
    c.call("GET", "/admin/api/me", admin)
    c.call("GET", "/admin/api/campaigns", admin)
    c.call("POST", "/admin/api/campaigns", admin, 201,
           json={"code": "x1", "name": "X", "amount_fen": 500})
    c.call("PATCH", "/admin/api/campaigns/x1", admin, json={"goal_fen": 1000})
    c.call("GET", "/admin/api/campaigns/one-yuan/totals", admin)
    c.call("GET", "/admin/api/campaigns/one-yuan/totals?from=2020-01-01&to=2099-01-01", admin)
    c.call("GET", "/admin/api/dashboard", admin)
    c.call("GET", "/admin/api/dashboard?unit=DX-HC", admin)
    c.call("GET", "/admin/api/donations?limit=2", admin)
    c.call("GET", "/admin/api/accounts", admin)
    c.call("POST", "/admin/api/accounts", admin, 201,
           json={"username": "org2", "password": "some pass 123", "role": "organizer",
                 "unit": "HC-A"})
    c.call("PATCH", "/admin/api/accounts/org2", admin, json={"active": False})
    c.call("POST", "/admin/api/accounts/import", admin, 201, data="username,unit\norg3,HC-A\n",
           content_type="text/csv")
    c.call("GET", "/admin/api/audit", admin)
    c.call("GET", "/admin/api/notifications", admin)
    c.call("GET", "/admin/api/notifications/1", admin)
    c.call("GET", "/admin/api/anomalies?all=1", admin)
    c.call("GET", "/admin/api/units", admin)
    c.call("POST", "/admin/api/units", admin, 201,
           json={"code": "NEW", "name": "新", "parent": "DX", "kind": "enterprise"})
    c.call("PATCH", "/admin/api/units/NEW", admin, json={"headcount": 3})
    c.call("GET", "/admin/api/units/DX/qr-bundle.zip?campaign=one-yuan", admin)
    for name in ("donations.csv", "donations.xlsx", "units-report.csv", "units-report.xlsx",
                 "units-report.pdf"):
        c.call("GET", f"/admin/export/{name}", admin)
    c.call("GET", "/admin/api/accounts", None, 401)
    c.call("PATCH", "/admin/api/units/NEW", admin, 400, json={"code": "X"})
    c.call("POST", "/admin/api/password", admin, json={"old_password": "correct horse 1",
                                                       "new_password": "correct horse 2"})


def _anomaly(c: CheckedClient, api: Api, admin: str) -> None:
    """A payment of another amount than ordered is an anomaly, then resolved; a notification
    we cannot verify is refused in WeChat Pay's shape."""
    placed = api.order(api.login("frank"), unit="DX-XF").get_json()
    api.sim_pay(placed["out_trade_no"], amount=1)
    anomalies = c.call("GET", "/admin/api/anomalies", admin)["anomalies"]
    c.call("POST", f"/admin/api/anomalies/{anomalies[0]['id']}/resolve", admin,
           json={"resolution": "已核实"})
    c.call("POST", "/wechat/pay/notify", expect=401, json={"id": "x"})


def _money_back(c: CheckedClient, api: Api, session: Any, tokens: dict[str, str]) -> None:
    """A refund asked for and listed; the day's trade bill checked, listed and shown."""
    admin = tokens["admin"]
    c.call("POST", f"/admin/api/donations/{tokens['bob']}/refund", admin, 202,
           json={"reason": "多捐了"})
    c.call("POST", f"/admin/api/donations/{tokens['bob']}/refund", admin, 409,
           json={"reason": "又一次"})
    c.call("GET", "/admin/api/refunds", admin)
    today = datetime.now(CHINA_TZ).date()
    bill.check_bill(session, api.runtime.deps, SYSTEM, today)
    c.call("GET", "/admin/api/bills", admin)
    c.call("GET", f"/admin/api/bills/{today.isoformat()}", admin)
    c.call("GET", "/admin/api/bills/2026-13-01", admin, 400)


def test_every_reply_matches_the_description(api: Api, session: Any) -> None:
    tokens = seed(api, session)
    checked = CheckedClient(api.client)
    _mini_program(checked, api)
    _public_codes(checked)
    _anomaly(checked, api, tokens["admin"])
    _money_back(checked, api, session, tokens)
    _admin(checked, tokens["admin"])
    admin = checked.call("POST", "/admin/api/token",
                         json={"username": "boss", "password": "correct horse 2"})["token"]
    checked.call("POST", "/admin/api/logout", admin)
    described = {(path, method) for path, ops in build_spec()["paths"].items()
                 for method in ops if not path.startswith("/wechat/pay/")}
    assert described - checked.seen == set()
