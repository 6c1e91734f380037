"""Totals equal the ledger, whatever WeChat Pay throws at us.

A Hypothesis state machine drives the real app over HTTP beside the local stand-in of WeChat:
orders, payments notified once or many times (also concurrently), forged, stale, tampered and
probe notifications, tampered amounts, and payments whose notification was lost until
`reconcile` or the day's trade bill (`warmfund bill check`) found them. After every step the
totals must equal both the ledger and our model.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

import requests
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from app.services.actor import SYSTEM
from app.services.deps import utc_now
from app.services.payments.bill import check_bill
from app.services.payments.bill_checks import get_check
from app.services.payments.ledger_check import find_drift, find_tally_drift
from app.services.payments.reconcile import reconcile
from models import Donation
from tests import notices
from tests.conftest import _clear
from tests.helpers import Api, demo_tree
from wechat.timeutil import CHINA_TZ

UNITS = ["DX-XF", "DX-HC", "HC-A", "HC-A1"]
BAD = [notices.forged, notices.stale, notices.tampered, notices.signtest,
       notices.unknown_serial]
_codes = itertools.count()


def _china_today() -> date:
    return utc_now().astimezone(CHINA_TZ).date()


@dataclass
class Order:
    otn: str
    amount: int
    worker: int
    unit: str
    campaign: str
    transaction_id: str | None = None
    counted: bool = False
    lost: bool = False
    disputed: bool = False


def make_machine(api: Api, sessions: Any, base_url: str) -> type[RuleBasedStateMachine]:
    creds = notices.credentials(api.app)

    class Ledger(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.orders: list[Order] = []
            self.tokens: dict[int, str] = {}
            self.bill_days: set[date] = set()  # whose bills hold this example's lost payments

        @initialize()
        def fresh_database(self) -> None:
            _clear(api.runtime.engine)  # the rate limits' counts too: hundreds of logins a
            # minute from one address are this test's doing, not abuse
            with sessions() as session:
                from app.services.catalog.campaigns import ensure_default_campaigns
                from app.services.deps import utc_now

                ensure_default_campaigns(session, utc_now())
                demo_tree(session)

        def _token(self, worker: int) -> str:
            if worker not in self.tokens:
                self.tokens[worker] = api.login(f"w{worker}-{next(_codes)}")
            return self.tokens[worker]

        @rule(worker=st.integers(0, 3), unit=st.sampled_from(UNITS), quantity=st.integers(1, 3),
              campaign=st.sampled_from(["one-yuan", "ten-yuan"]))
        def place(self, worker: int, unit: str, quantity: int, campaign: str) -> None:
            reply = api.order(self._token(worker), unit=unit, quantity=quantity,
                              campaign=campaign, message=str(next(_codes)))
            assert reply.status_code == 201, reply.get_json()
            body = reply.get_json()
            self.orders.append(Order(body["out_trade_no"], body["amount_fen"], worker, unit,
                                     campaign))

        def _unpaid(self) -> list[Order]:
            return [o for o in self.orders if o.transaction_id is None]

        def _paid(self) -> list[Order]:
            return [o for o in self.orders if o.transaction_id is not None]

        @precondition(lambda self: self._unpaid())
        @rule(data=st.data(), repeat=st.integers(1, 3))
        def pay(self, data: st.DataObject, repeat: int) -> None:
            order = data.draw(st.sampled_from(self._unpaid()))
            result = api.sim_pay(order.otn, repeat=repeat)
            assert [d["status"] for d in result["deliveries"]] == [204] * repeat
            order.transaction_id, order.counted = result["transaction_id"], True

        @precondition(lambda self: self._unpaid())
        @rule(data=st.data())
        def pay_but_lose_notification(self, data: st.DataObject) -> None:
            order = data.draw(st.sampled_from(self._unpaid()))
            self.bill_days.add(_china_today())
            order.transaction_id = api.sim_pay(order.otn, notify=False)["transaction_id"]
            self.bill_days.add(_china_today())  # the stand-in's clock may have passed midnight
            order.lost = True

        @precondition(lambda self: self._unpaid())
        @rule(data=st.data())
        def pay_wrong_amount(self, data: st.DataObject) -> None:
            order = data.draw(st.sampled_from(self._unpaid()))
            result = api.sim_pay(order.otn, amount=order.amount + 1)
            assert result["deliveries"][0]["status"] == 204
            order.transaction_id, order.disputed = result["transaction_id"], True

        @precondition(lambda self: self._paid())
        @rule(data=st.data(), copies=st.integers(2, 6))
        def deliver_concurrently(self, data: st.DataObject, copies: int) -> None:
            order = data.draw(st.sampled_from(self._paid()))
            amount = order.amount + (1 if order.disputed else 0)
            plain = notices.transaction(creds, order.otn, amount,
                                        transaction_id=order.transaction_id)
            messages = [notices.signed(creds, plain) for _ in range(copies)]
            with ThreadPoolExecutor(copies) as pool:
                statuses = list(pool.map(lambda m: requests.post(
                    f"{base_url}/wechat/pay/notify", data=m[1], headers=m[0], timeout=30)
                    .status_code, messages))
            assert statuses == [204] * copies
            if not order.disputed:
                order.counted, order.lost = True, False

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), craft=st.sampled_from(BAD))
        def deliver_forgery(self, data: st.DataObject, craft: Any) -> None:
            order = data.draw(st.sampled_from(self.orders))
            plain = notices.transaction(creds, order.otn, order.amount)
            headers, body = craft(creds, plain)
            reply = api.client.post("/wechat/pay/notify", data=body, headers=headers)
            assert reply.status_code == 401

        @rule()
        def run_reconcile(self) -> None:
            with sessions() as session:
                # Pretend a minute has passed since anything was last asked about.
                session.execute(Donation.__table__.update().values(checked_at=None))
                session.commit()
                report = reconcile(session, api.runtime.deps)
            assert report.failed == []
            for order in self.orders:
                if order.lost:
                    order.counted, order.lost = True, False

        @rule()
        def run_bill_check(self) -> None:
            # The stand-in's bills also hold earlier examples' payments (unknown_order here).
            with sessions() as session:
                checks = [get_check(session, SYSTEM, check_bill(session, api.runtime.deps,
                                                                SYSTEM, day))
                          for day in sorted(self.bill_days)]
            found = [(f["kind"], f["out_trade_no"]) for c in checks for f in c["findings"]]
            assert sorted(otn for kind, otn in found if kind == "recovered") == sorted(
                o.otn for o in self.orders if o.lost)
            assert [otn for kind, otn in found if kind == "missing_at_wechat"] == []
            for order in self.orders:
                if order.lost:
                    order.counted, order.lost = True, False

        @invariant()
        def totals_equal_ledger_and_model(self) -> None:
            with sessions() as session:
                assert find_drift(session) == []
                assert find_tally_drift(session) == []
            for campaign in ("one-yuan", "ten-yuan"):
                counted = [o for o in self.orders if o.counted and o.campaign == campaign]
                figures = api.get(f"/api/campaigns/{campaign}").get_json()
                assert (figures["total_fen"], figures["donation_count"],
                        figures["donor_count"]) == (sum(o.amount for o in counted),
                                                    len(counted),
                                                    len({o.worker for o in counted}))
                root = next(t for t in api.get("/api/units/DX").get_json()["totals"]
                            if t["campaign"] == campaign)
                assert root["total_fen"] == figures["total_fen"]
                assert root["donor_count"] == figures["donor_count"]
                branch = [o for o in counted if o.unit in ("DX-HC", "HC-A", "HC-A1")]
                hc = next(t for t in api.get("/api/units/DX-HC").get_json()["totals"]
                          if t["campaign"] == campaign)
                assert (hc["total_fen"], hc["donor_count"]) == (
                    sum(o.amount for o in branch), len({o.worker for o in branch}))

    return Ledger


def test_totals_always_equal_the_ledger(api: Api, sessions: Any, http_server: Any) -> None:
    machine = make_machine(api, sessions, http_server[1])
    machine.TestCase.settings = settings(
        max_examples=200, stateful_step_count=8, deadline=None,
        suppress_health_check=list(HealthCheck))
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(machine, settings=machine.TestCase.settings)
