"""Ordering, idempotent re-ordering, reading one's own donations only."""

from __future__ import annotations

from typing import Any

from tests.helpers import Api, demo_tree


def test_identical_pending_order_is_handed_back(api: Api, session: Any) -> None:
    demo_tree(session)
    token = api.login("dora")
    first = api.order(token, quantity=2, message="加油")
    again = api.order(token, quantity=2, message="加油")
    other = api.order(token, quantity=3)
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert first.get_json()["out_trade_no"] == again.get_json()["out_trade_no"]
    assert other.get_json()["out_trade_no"] != first.get_json()["out_trade_no"]
    assert again.get_json()["payment"]["package"] == first.get_json()["payment"]["package"]


def test_an_identical_order_gone_meanwhile_gives_a_new_one(api: Api, session: Any,
                                                           monkeypatch: Any) -> None:
    from sqlalchemy import false, select

    from app.services.payments import donations
    from models.direct import DirectStatement
    from models.tables import donations_table

    demo_tree(session)
    token = api.login("fay")
    first = api.order(token).get_json()
    # The identical pending order is seen by the insert, then paid or closed before it can be
    # read back: as if the read found nothing.
    monkeypatch.setattr(donations, "_SAME", DirectStatement(
        select(donations_table).where(false())))
    again = api.order(token)
    assert again.status_code == 201
    assert again.get_json()["out_trade_no"] != first["out_trade_no"]
    assert again.get_json()["payment"]["package"] != first["payment"]["package"]


def test_paysign_verifies_with_the_merchant_key(api: Api, session: Any) -> None:
    from tests.notices import credentials
    from wechat import verify_message
    from wechat.keys import load_public_key

    demo_tree(session)
    payment = api.order(api.login("erin")).get_json()["payment"]
    creds = credentials(api.app)
    message = "".join(f"{part}\n" for part in (creds.appid, payment["timeStamp"],
                                                payment["nonceStr"], payment["package"]))
    assert payment["signType"] == "RSA"
    assert verify_message(load_public_key(str(creds.merchant_public_key_path)), message,
                          payment["paySign"])


def test_workers_read_only_their_own_donations(api: Api, session: Any) -> None:
    demo_tree(session)
    alice, mallory = api.login("alice"), api.login("mallory")
    otn = api.order(alice).get_json()["out_trade_no"]
    assert api.get(f"/api/donations/{otn}", alice).status_code == 200
    stolen = api.get(f"/api/donations/{otn}", mallory)
    assert stolen.status_code == 404 and stolen.get_json()["error"]["code"] == "not_found"
    assert api.get("/api/me/donations", mallory).get_json() == {"donations": [], "next": None}
    assert [d["out_trade_no"] for d in api.get("/api/me/donations", alice)
            .get_json()["donations"]] == [otn]


def test_my_donations_paginate(api: Api, session: Any) -> None:
    demo_tree(session)
    token = api.login("fay")
    made = [api.order(token, quantity=q).get_json()["out_trade_no"] for q in range(1, 26)]
    first = api.get("/api/me/donations", token).get_json()
    second = api.get(f"/api/me/donations?cursor={first['next']}", token).get_json()
    seen = [d["out_trade_no"] for d in first["donations"] + second["donations"]]
    assert seen == list(reversed(made)) and second["next"] is None


def test_polling_a_pending_order_asks_wechat(api: Api, session: Any) -> None:
    demo_tree(session)
    token = api.login("gus")
    otn = api.order(token).get_json()["out_trade_no"]
    api.sim_pay(otn, notify=False)
    from datetime import timedelta

    from app.services.deps import utc_now
    from models import Donation

    session.query(Donation).update({"created_at": utc_now() - timedelta(minutes=1)})
    session.commit()
    assert api.get(f"/api/donations/{otn}", token).get_json()["status"] == "paid"
    campaign = api.get("/api/campaigns/one-yuan").get_json()
    assert (campaign["total_fen"], campaign["donation_count"]) == (100, 1)


def test_an_order_sent_again_after_a_lost_reply_survives_a_rename(api: Api,
                                                                  session: Any) -> None:
    # WeChat Pay made the order but its reply was lost; the unit is renamed; the worker taps
    # again: the same order must be sent again exactly, or WeChat Pay refuses it.
    from sqlalchemy import update

    from models import Unit
    from models.tables import donations_table

    demo_tree(session)
    token = api.login("lin")
    first = api.order(token)
    assert first.status_code == 201
    session.execute(update(donations_table).values(prepay_id=None))  # the reply lost
    session.execute(update(Unit).where(Unit.code == "DX-XF").values(name="兴丰街道工会联合会"))
    session.commit()
    again = api.order(token)
    assert again.status_code in (200, 201), again.get_json()
    assert again.get_json()["out_trade_no"] == first.get_json()["out_trade_no"]
