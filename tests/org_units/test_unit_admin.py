"""PATCH /admin/api/units/<code>: rename, move (totals follow), deactivate and reactivate."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from app.services.payments.ledger_check import find_drift, find_tally_drift
from models import AuditEntry
from tests.helpers import Api
from tests.org_units.conftest import paid_donation, subtree_total


def _patch(api: Api, code: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return api.client.patch(f"/admin/api/units/{code}", json=body, headers=headers)


def test_rename_changes_the_public_view_and_is_audited(api: Api, session: Any,
                                                       boss: dict[str, str]) -> None:
    reply = _patch(api, "HC-A", {"name": "黄村第一基层工会", "headcount": 80}, boss)
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json() == {"code": "HC-A", "name": "黄村第一基层工会", "parent": "DX-HC",
                                "kind": "grassroots", "headcount": 80, "active": True}
    path = api.get("/api/units/HC-A1").get_json()["path"]
    assert path[2] == {"code": "HC-A", "name": "黄村第一基层工会"}
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target == "HC-A"))
    assert list(actions) == ["unit.update"]


def test_move_carries_the_subtree_totals(api: Api, session: Any, boss: dict[str, str]) -> None:
    paid_donation(api, "HC-A1", "alice", quantity=2)
    paid_donation(api, "HC-A", "bob", quantity=5)
    assert (subtree_total(api, "DX-HC"), subtree_total(api, "DX-XF")) == (700, 0)
    reply = _patch(api, "HC-A", {"parent": "DX-XF"}, boss)
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["parent"] == "DX-XF"
    assert (subtree_total(api, "DX-HC"), subtree_total(api, "DX-XF")) == (0, 700)
    assert subtree_total(api, "DX") == 700
    assert [p["code"] for p in api.get("/api/units/HC-A1").get_json()["path"]] == \
        ["DX", "DX-XF", "HC-A", "HC-A1"]
    assert find_drift(session) == [] and find_tally_drift(session) == []


def test_a_move_recounts_only_the_subtrees_it_changes(api: Api, session: Any,
                                                      boss: dict[str, str]) -> None:
    for n in range(6):
        paid_donation(api, "HC-A1", f"w{n}", quantity=n + 1)
    root_rows = text("SELECT count(*) FROM totals t JOIN units u ON u.id = t.unit_id "
                     "WHERE t.scope = 'subtree' AND u.code = 'DX'")
    session.rollback()
    spread = session.scalar(root_rows)
    assert spread > 1  # payments spread the root's total over several shards
    assert _patch(api, "HC-A", {"parent": "DX-XF"}, boss).status_code == 200
    session.rollback()
    assert session.scalar(root_rows) == spread  # above both places: not recounted
    assert (subtree_total(api, "DX-HC"), subtree_total(api, "DX-XF"),
            subtree_total(api, "HC-A"), subtree_total(api, "DX")) == (0, 2100, 2100, 2100)
    assert find_drift(session) == [] and find_tally_drift(session) == []
    assert _patch(api, "HC-A", {"parent": "DX-HC"}, boss).status_code == 200  # and back
    assert (subtree_total(api, "DX-HC"), subtree_total(api, "DX-XF")) == (2100, 0)
    assert find_drift(session) == [] and find_tally_drift(session) == []


def test_move_to_the_root_with_null_parent(api: Api, boss: dict[str, str]) -> None:
    reply = _patch(api, "DX-XF", {"parent": None}, boss)
    assert reply.status_code == 200
    assert api.get("/api/units/DX-XF").get_json()["path"] == [{"code": "DX-XF",
                                                               "name": "DX-XF 工会"}]


def test_move_into_its_own_subtree_is_refused(api: Api, boss: dict[str, str]) -> None:
    for target in ("HC-A1", "DX-HC"):
        reply = _patch(api, "DX-HC", {"parent": target}, boss)
        assert reply.status_code == 400, target
        assert reply.get_json()["error"]["code"] == "invalid_request"
        assert "循环" in reply.get_json()["error"]["message"]
    assert api.get("/api/units/DX-HC").get_json()["path"][0]["code"] == "DX"


def test_move_under_an_unknown_unit_is_404(api: Api, boss: dict[str, str]) -> None:
    reply = _patch(api, "HC-A", {"parent": "NOPE"}, boss)
    assert reply.status_code == 404
    assert _patch(api, "NOPE", {"name": "x"}, boss).status_code == 404


def test_bad_fields_are_400(api: Api, boss: dict[str, str]) -> None:
    for body in ({"name": ""}, {"kind": "planet"}, {"active": "no"}, {"headcount": -1},
                 {"code": "NEW"}):
        reply = _patch(api, "HC-A", body, boss)
        assert reply.status_code == 400, body
        assert reply.get_json()["error"]["code"] == "invalid_request"


def test_deactivated_unit_refuses_orders_but_keeps_its_totals(api: Api,
                                                              boss: dict[str, str]) -> None:
    paid_donation(api, "HC-A1", "alice", quantity=4)
    assert _patch(api, "HC-A1", {"active": False}, boss).get_json()["active"] is False
    refused = api.order(api.login("carol"), unit="HC-A1")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "unit_inactive"
    assert subtree_total(api, "HC-A1") == 400
    assert api.get("/api/units/HC-A1").get_json()["active"] is False
    assert _patch(api, "HC-A1", {"active": True}, boss).status_code == 200
    assert api.order(api.login("carol"), unit="HC-A1").status_code == 201


def test_organizers_and_strangers_cannot_patch(api: Api, organizer: dict[str, str]) -> None:
    reply = _patch(api, "HC-A", {"name": "改名"}, organizer)
    assert reply.status_code == 403
    assert reply.get_json()["error"]["code"] == "forbidden"
    assert _patch(api, "HC-A", {"name": "改名"}, {}).status_code == 401
    assert api.get("/api/units/HC-A").get_json()["name"] == "HC-A 工会"


def test_tree_changes_wait_for_each_other(api: Api, sessions: Any, session: Any,
                                          boss: dict[str, str]) -> None:
    """One move reads the tree, and another tries to commit before the first rewrites it: the
    second waits, so the first recounts the subtrees that really changed."""
    import threading

    from sqlalchemy import event

    from app.services.actor import SYSTEM
    from app.services.deps import utc_now
    from app.services.units.unit_admin import UnitChanges, update_unit_as

    paid_donation(api, "HC-A1", "alice", quantity=2)
    second: list[threading.Thread] = []
    finished_while_first_ran: list[bool] = []

    def move_hc_a() -> None:
        with sessions() as own:
            update_unit_as(own, SYSTEM, "HC-A", UnitChanges(parent="DX-XF", move=True),
                           utc_now())

    def between_read_and_rewrite(*args: Any) -> None:
        if "SELECT ancestor_id, descendant_id FROM unit_closure" in args[2] and not second:
            second.append(threading.Thread(target=move_hc_a))
            second[0].start()
            second[0].join(timeout=1.5)
            finished_while_first_ran.append(not second[0].is_alive())

    engine = session.get_bind()
    event.listen(engine, "after_cursor_execute", between_read_and_rewrite)
    try:
        update_unit_as(session, SYSTEM, "HC-A1", UnitChanges(parent="DX", move=True), utc_now())
    finally:
        event.remove(engine, "after_cursor_execute", between_read_and_rewrite)
    second[0].join()
    assert finished_while_first_ran == [False]
    assert (subtree_total(api, "DX-HC"), subtree_total(api, "DX-XF"),
            subtree_total(api, "HC-A"), subtree_total(api, "DX")) == (0, 0, 0, 200)
    assert find_drift(session) == [] and find_tally_drift(session) == []
