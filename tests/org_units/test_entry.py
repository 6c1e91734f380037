"""GET /api/entry: what a scan opened, from options.q or a mini-program code's scene."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.helpers import Api
from tests.org_units.conftest import paid_donation


def _link(api: Api, unit: str = "HC-A", campaign: str = "one-yuan") -> str:
    return f"{api.runtime.deps.public_url}/d/{unit}/{campaign}"


def test_q_with_the_url_encoded_link_resolves(api: Api, tree: None) -> None:
    paid_donation(api, "HC-A1", "alice", quantity=2)
    # options.q arrives URL-encoded once; the mini-program puts it in the query string as is.
    reply = api.get("/api/entry?q=" + quote(quote(_link(api), safe="")))
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["unit"] == api.get("/api/units/HC-A").get_json()
    assert body["campaign"] == api.get("/api/campaigns/one-yuan").get_json()
    assert body["unit"]["totals"][0]["total_fen"] == 200


def test_q_decoded_once_resolves_too(api: Api, tree: None) -> None:
    reply = api.get("/api/entry?q=" + quote(_link(api, "DX-XF", "ten-yuan"), safe=""))
    assert reply.status_code == 200
    assert (reply.get_json()["unit"]["code"], reply.get_json()["campaign"]["code"]) == \
        ("DX-XF", "ten-yuan")


def test_entry_names_the_most_shares_one_order_may_buy(api: Api, tree: None) -> None:
    body = api.get("/api/entry?scene=HC-A1/one-yuan").get_json()
    bound = api.runtime.deps.max_quantity
    assert body["max_quantity"] == bound == 100  # [app].max_quantity's default
    token = api.login()
    assert api.order(token, unit="HC-A1", quantity=bound).status_code == 201
    assert api.order(token, unit="HC-A1", quantity=bound + 1).status_code == 400


@pytest.mark.parametrize("scene", ["HC-A1/ten-yuan", "HC-A1%2Ften-yuan"])
def test_scene_resolves(api: Api, tree: None, scene: str) -> None:
    reply = api.get(f"/api/entry?scene={quote(scene, safe='')}")
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["unit"]["path"][-1] == {"code": "HC-A1", "name": "HC-A1 工会"}
    assert body["campaign"]["amount_fen"] == 1000


@pytest.mark.parametrize("link", ["https://evil.example.com/d/HC-A/one-yuan",
                                  "http://127.0.0.1:1/d/HC-A/one-yuan",
                                  "ftp://donate/d/HC-A/one-yuan"])
def test_a_link_of_another_host_is_refused(api: Api, tree: None, link: str) -> None:
    reply = api.get("/api/entry?q=" + quote(link, safe=""))
    assert reply.status_code == 400
    assert reply.get_json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("query", ["", "?scene=HC-A", "?scene=a/b/c", "?q=%2Fd%2FHC-A"])
def test_malformed_requests_are_400(api: Api, tree: None, query: str) -> None:
    reply = api.get("/api/entry" + query)
    assert reply.status_code == 400
    assert reply.get_json()["error"]["code"] == "invalid_request"


def test_a_malformed_path_on_our_host_is_400(api: Api, tree: None) -> None:
    link = f"{api.runtime.deps.public_url}/x/HC-A/one-yuan"
    assert api.get("/api/entry?q=" + quote(link, safe="")).status_code == 400


@pytest.mark.parametrize("unit, campaign", [("NOPE", "one-yuan"), ("HC-A", "nope")])
def test_unknown_codes_are_404(api: Api, tree: None, unit: str, campaign: str) -> None:
    by_link = api.get("/api/entry?q=" + quote(_link(api, unit, campaign), safe=""))
    by_scene = api.get(f"/api/entry?scene={unit}/{campaign}")
    for reply in (by_link, by_scene):
        assert reply.status_code == 404
        assert reply.get_json()["error"]["code"] == "not_found"


def test_an_inactive_unit_and_closed_campaign_still_resolve(api: Api, session: Any,
                                                            tree: None,
                                                            boss: dict[str, str]) -> None:
    from models import Campaign

    assert api.client.patch("/admin/api/units/HC-A", json={"active": False},
                            headers=boss).status_code == 200
    campaign = session.query(Campaign).filter_by(code="ten-yuan").one()
    campaign.status = "closed"
    session.commit()
    reply = api.get("/api/entry?scene=HC-A/ten-yuan")
    assert reply.status_code == 200
    assert reply.get_json()["unit"]["active"] is False
    assert reply.get_json()["campaign"]["status"] == "closed"
