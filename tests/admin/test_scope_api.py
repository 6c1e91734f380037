"""Organizer isolation, endpoint by endpoint, over HTTP: an organizer of DX-HC sees its subtree
(DX-HC, HC-A, HC-A1) and nothing of DX-XF; admin-only endpoints answer 403; strangers 401."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.admin.helpers import bearer, error_code, seed
from tests.helpers import Api

SUBTREE = {"DX-HC", "HC-A", "HC-A1"}

OUTSIDE = [
    "/admin/api/donations?unit=DX-XF",
    "/admin/api/donations?unit=DX",
    "/admin/api/campaigns/one-yuan/totals?unit=DX-XF",
    "/admin/api/dashboard?unit=DX-XF",
    "/admin/export/donations.csv?unit=DX-XF",
    "/admin/export/donations.xlsx?unit=DX",
    "/admin/export/units-report.csv?unit=DX-XF",
    "/admin/export/units-report.xlsx?unit=DX",
    "/admin/export/units-report.pdf?unit=DX-XF",
]

ADMIN_ONLY: list[tuple[str, str, Any]] = [
    ("GET", "/admin/api/accounts", None),
    ("POST", "/admin/api/accounts", {"username": "x1", "password": "password 1",
                                     "role": "organizer", "unit": "HC-A"}),
    ("PATCH", "/admin/api/accounts/boss", {"active": False}),
    ("POST", "/admin/api/campaigns", {"code": "new", "name": "新", "amount_fen": 100}),
    ("PATCH", "/admin/api/campaigns/one-yuan", {"status": "closed"}),
    ("GET", "/admin/api/audit", None),
    ("GET", "/admin/api/notifications", None),
    ("GET", "/admin/api/notifications/1", None),
    ("GET", "/admin/api/anomalies", None),
    ("POST", "/admin/api/anomalies/1/resolve", {"resolution": "ok"}),
]

EVERY_SCOPED = [
    "/admin/api/donations", "/admin/api/campaigns/one-yuan/totals", "/admin/api/dashboard",
    "/admin/api/campaigns", "/admin/api/me", "/admin/export/donations.csv",
    "/admin/export/donations.xlsx", "/admin/export/units-report.csv",
    "/admin/export/units-report.xlsx", "/admin/export/units-report.pdf",
]


@pytest.fixture
def seeded(api: Api, session: Any) -> dict[str, str]:
    return seed(api, session)


def test_organizer_donations_are_its_subtree_only(api: Api, seeded: dict[str, str]) -> None:
    mine = api.get("/admin/api/donations", seeded["organizer"]).get_json()["donations"]
    assert {d["unit"] for d in mine} == {"HC-A1", "HC-A"}
    everyone = api.get("/admin/api/donations", seeded["admin"]).get_json()["donations"]
    assert {d["unit"] for d in everyone} == {"HC-A1", "HC-A", "DX-XF"}
    outsider = next(d["openid"] for d in everyone if d["unit"] == "DX-XF")
    by_openid = api.get("/admin/api/donations?openid=" + outsider,
                        seeded["organizer"]).get_json()["donations"]
    assert by_openid == []


def test_organizer_totals_list_only_its_units(api: Api, seeded: dict[str, str]) -> None:
    reply = api.get("/admin/api/campaigns/one-yuan/totals", seeded["organizer"]).get_json()
    assert {u["code"] for u in reply["units"]} == SUBTREE
    top = next(u for u in reply["units"] if u["code"] == "DX-HC")
    assert (top["parent"], top["subtree_total_fen"], top["total_fen"]) == ("DX", 500, 0)


def test_organizer_dashboard_is_scoped(api: Api, seeded: dict[str, str]) -> None:
    board = api.get("/admin/api/dashboard", seeded["organizer"]).get_json()
    assert board["unit"]["code"] == "DX-HC"
    assert board["summary"]["total_fen"] == 500
    assert {r["unit_name"] for r in board["recent"]} == {"HC-A 工会", "HC-A1 工会"}
    assert [u["code"] for u in board["children"]["units"]] == ["HC-A"]


def test_organizer_exports_hold_its_rows_only(api: Api, seeded: dict[str, str]) -> None:
    text = api.get("/admin/export/donations.csv", seeded["organizer"]).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert sorted(r[4] for r in rows) == ["HC-A", "HC-A1"]
    book = load_workbook(io.BytesIO(api.get("/admin/export/donations.xlsx",
                                            seeded["organizer"]).data), read_only=True)
    units = [row[4] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert sorted(units) == ["HC-A", "HC-A1"]
    report = api.get("/admin/export/units-report.csv", seeded["organizer"]).data
    assert b"DX-XF" not in report and "合计".encode() in report


def test_organizer_cannot_reach_outside_its_subtree(api: Api, seeded: dict[str, str]) -> None:
    for path in OUTSIDE:
        reply = api.get(path, seeded["organizer"])
        assert reply.status_code == 403, path
        assert error_code(reply) == "forbidden"
        assert api.get(path, seeded["admin"]).status_code == 200, path


def test_admin_only_endpoints_refuse_organizers(api: Api, seeded: dict[str, str]) -> None:
    for method, path, body in ADMIN_ONLY:
        reply = api.client.open(path, method=method, json=body,
                                headers=bearer(seeded["organizer"]))
        assert reply.status_code == 403, (path, reply.get_json())
        assert error_code(reply) == "forbidden"
    assert api.get("/admin/api/accounts", seeded["admin"]).status_code == 200


def test_no_token_no_data(api: Api, seeded: dict[str, str]) -> None:
    for path in EVERY_SCOPED:
        reply = api.get(path)
        assert reply.status_code == 401, path
        assert error_code(reply) == "unauthorized"
        assert api.get(path, "not-a-token").status_code == 401
        assert api.get(path, seeded["organizer"]).status_code == 200, path


def test_organizer_sees_only_its_units_in_unit_list(api: Api, seeded: dict[str, str]) -> None:
    units = api.get("/admin/api/units", seeded["organizer"]).get_json()["units"]
    assert {u["code"] for u in units} == SUBTREE


def test_strangers_writing_learn_nothing_from_their_body(api: Api, seeded: dict[str, str]) -> None:
    """401 before the body is read: a bad field tells a stranger nothing either."""
    writes = [(method, path, body) for method, path, body in ADMIN_ONLY if method != "GET"]
    writes.append(("PATCH", "/admin/api/units/DX-XF", {"no_such_field": 1}))
    writes.append(("POST", "/admin/api/units", {"code": 1}))
    for method, path, body in writes:
        reply = api.client.open(path, method=method, json=body)
        assert reply.status_code == 401, (path, reply.get_json())
        assert error_code(reply) == "unauthorized"
