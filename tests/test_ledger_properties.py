"""Totals equal the ledger, whatever WeChat Pay throws at us.

A Hypothesis state machine drives the real app over HTTP beside the local stand-in of WeChat:
orders, payments notified once or many times (also concurrently), forged, stale, tampered and
probe notifications, tampered amounts, and payments whose notification was lost until
`reconcile` or the day's trade bill (`warmfund bill check`) found them; refunds whole
and partial, settled as SUCCESS, CLOSED or ABNORMAL with their notifications repeated,
resent late (out of order) or lost until reconcile asked or the bill listed them, refunds
made on the merchant platform, and orders paid and refunded there before we heard of either,
found by reconcile, by the bill, or by both in turn. After every step the totals must equal
both the ledger and our model.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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
from tests.admin.helpers import token_for
from tests.conftest import _clear
from tests.helpers import Api, demo_tree, make_admin
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
    refunded: int = 0
    abnormal: int = 0  # held by abnormal refunds at WeChat Pay, which refuses to refund it again
    refund_in_flight: tuple[str, int] | None = None
    refund_outcome_lost: str | None = None  # settled at WeChat Pay, notification lost
    settled_refunds: list[str] = field(default_factory=list)
    refunded_unseen: bool = False  # paid and refunded at WeChat Pay before we heard of it
    per_query: bool = False  # that refund taken off whole by reconcile, under a stand-in number

    @property
    def paid_fen(self) -> int:
        return self.amount + (1 if self.disputed else 0)

    @property
    def left(self) -> int:
        return self.paid_fen - self.refunded - self.abnormal

    @property
    def net(self) -> int:
        return self.amount - self.refunded if self.counted and not self.disputed else 0


def make_machine(api: Api, sessions: Any, base_url: str) -> type[RuleBasedStateMachine]:
    creds = notices.credentials(api.app)

    def sim(path: str, **payload: Any) -> dict[str, Any]:
        reply = requests.post(f"{api.sim_url}/_sim/{path}", json=payload, timeout=30)
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    class Ledger(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.orders: list[Order] = []
            self.tokens: dict[int, str] = {}
            self.bill_days: set[date] = set()  # whose bills hold what this example lost

        @initialize()
        def fresh_database(self) -> None:
            _clear(api.runtime.engine)  # the rate limits' counts too: hundreds of logins a
            # minute from one address are this test's doing, not abuse
            with sessions() as session:
                from app.services.catalog.campaigns import ensure_default_campaigns
                from app.services.deps import utc_now

                ensure_default_campaigns(session, utc_now())
                demo_tree(session)
                make_admin(session)
            self.admin = token_for(api, "boss", "correct horse 1")

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

        def _on_the_bill(self) -> None:
            # What was just done at WeChat Pay is in today's bill, or (midnight passed) the next.
            self.bill_days.add(_china_today())

        @precondition(lambda self: self._unpaid())
        @rule(data=st.data())
        def pay_but_lose_notification(self, data: st.DataObject) -> None:
            order = data.draw(st.sampled_from(self._unpaid()))
            self._on_the_bill()
            order.transaction_id = api.sim_pay(order.otn, notify=False)["transaction_id"]
            self._on_the_bill()
            order.lost = True

        @precondition(lambda self: self._unpaid())
        @rule(data=st.data())
        def pay_wrong_amount(self, data: st.DataObject) -> None:
            order = data.draw(st.sampled_from(self._unpaid()))
            result = api.sim_pay(order.otn, amount=order.amount + 1)
            assert result["deliveries"][0]["status"] == 204
            order.transaction_id, order.disputed = result["transaction_id"], True

        def _redeliverable(self) -> list[Order]:
            # Not one refunded at WeChat Pay before we heard of its payment: a late payment
            # notification would count it, and only reconcile or the bill would see the refund.
            return [o for o in self._paid() if not o.refunded_unseen]

        @precondition(lambda self: self._redeliverable())
        @rule(data=st.data(), copies=st.integers(2, 6))
        def deliver_concurrently(self, data: st.DataObject, copies: int) -> None:
            order = data.draw(st.sampled_from(self._redeliverable()))
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

        def _refundable(self) -> list[Order]:
            return [o for o in self.orders if o.counted and o.left > 0
                    and o.refund_in_flight is None and o.refund_outcome_lost is None]

        @precondition(lambda self: self._refundable())
        @rule(data=st.data(), whole=st.booleans())
        def ask_refund(self, data: st.DataObject, whole: bool) -> None:
            order = data.draw(st.sampled_from(self._refundable()))
            amount = order.left if whole or order.left == 1 else data.draw(
                st.integers(1, order.left - 1))
            reply = api.client.post(f"/admin/api/donations/{order.otn}/refund",
                                    json={"reason": "退款测试", "amount_fen": amount},
                                    headers={"Authorization": f"Bearer {self.admin}"})
            assert reply.status_code == 202, reply.get_json()
            order.refund_in_flight = (reply.get_json()["out_refund_no"], amount)

        def _in_flight(self) -> list[Order]:
            return [o for o in self.orders if o.refund_in_flight is not None]

        @precondition(lambda self: self._in_flight())
        @rule(data=st.data(), outcome=st.sampled_from(["SUCCESS", "CLOSED", "ABNORMAL"]),
              repeat=st.integers(1, 3), lose=st.booleans())
        def settle_refund(self, data: st.DataObject, outcome: str, repeat: int,
                          lose: bool) -> None:
            order = data.draw(st.sampled_from(self._in_flight()))
            assert order.refund_in_flight is not None
            out_refund_no, _amount = order.refund_in_flight
            self._on_the_bill()
            result = sim(f"refunds/{out_refund_no}/complete", status=outcome, repeat=repeat,
                         notify=not lose)
            self._on_the_bill()
            assert [d["status"] for d in result["deliveries"]] == [204] * (0 if lose else repeat)
            if lose:
                order.refund_outcome_lost = outcome
            else:
                self._refund_settled(order, outcome)

        def _refund_settled(self, order: Order, outcome: str) -> None:
            assert order.refund_in_flight is not None
            out_refund_no, amount = order.refund_in_flight
            if outcome == "SUCCESS":
                order.refunded += amount
            elif outcome == "ABNORMAL":
                order.abnormal += amount
            order.refund_in_flight, order.refund_outcome_lost = None, None
            order.settled_refunds.append(out_refund_no)

        @precondition(lambda self: any(o.settled_refunds for o in self.orders))
        @rule(data=st.data())
        def resend_settled_refund_late(self, data: st.DataObject) -> None:
            order = data.draw(st.sampled_from([o for o in self.orders if o.settled_refunds]))
            out_refund_no = data.draw(st.sampled_from(order.settled_refunds))
            result = sim(f"refunds/{out_refund_no}/complete", resend=True)
            assert [d["status"] for d in result["deliveries"]] == [204]

        @precondition(lambda self: self._refundable())
        @rule(data=st.data(), to_payment_url=st.booleans())
        def refund_on_merchant_platform(self, data: st.DataObject, to_payment_url: bool) -> None:
            order = data.draw(st.sampled_from(self._refundable()))
            amount = data.draw(st.integers(1, order.left))
            url = None if to_payment_url else f"{base_url}/wechat/pay/refund-notify"
            result = sim(f"orders/{order.otn}/refund", amount=amount, notify_url=url)
            assert [d["status"] for d in result["deliveries"]] == [204]
            order.refunded += amount
            order.settled_refunds.append(result["out_refund_no"])

        @precondition(lambda self: self._unpaid())
        @rule(data=st.data())
        def paid_and_refunded_before_we_heard(self, data: st.DataObject) -> None:
            order = data.draw(st.sampled_from(self._unpaid()))
            self._on_the_bill()
            order.transaction_id = api.sim_pay(order.otn, notify=False)["transaction_id"]
            sim(f"orders/{order.otn}/refund", notify=False)
            self._on_the_bill()
            order.refunded_unseen = True

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
                if order.refunded_unseen:  # recorded paid, then refunded whole
                    order.counted, order.refunded = True, order.amount
                    order.refunded_unseen, order.per_query = False, True
                if order.refund_outcome_lost is not None:
                    self._refund_settled(order, order.refund_outcome_lost)

        @rule()
        def run_bill_check(self) -> None:
            # The stand-in's bills also hold earlier examples' trades (unknown_order and
            # refund_unknown here): only this example's orders are held to the model.
            with sessions() as session:
                checks = [get_check(session, SYSTEM, check_bill(session, api.runtime.deps,
                                                                SYSTEM, day))
                          for day in sorted(self.bill_days)]
            ours = {o.otn for o in self.orders}
            found = [(f["kind"], f["out_trade_no"]) for c in checks for f in c["findings"]
                     if f["out_trade_no"] in ours]
            assert sorted(otn for kind, otn in found if kind == "recovered") == sorted(
                o.otn for o in self.orders if o.lost or o.refunded_unseen)
            assert sorted(otn for kind, otn in found if kind == "refund_recovered") == sorted(
                o.otn for o in self.orders if o.refunded_unseen or o.per_query
                or o.refund_outcome_lost == "SUCCESS")
            assert {otn for kind, otn in found if kind == "amount_mismatch"} <= {
                o.otn for o in self.orders if o.disputed}  # on a day checked, if it was
            assert [kind for kind, _otn in found if kind not in (
                "recovered", "refund_recovered", "amount_mismatch")] == []
            self._bill_recorded()

        def _bill_recorded(self) -> None:
            for order in self.orders:
                if order.lost:
                    order.counted, order.lost = True, False
                if order.refunded_unseen:  # paid, then refunded whole on the merchant platform
                    order.counted, order.refunded = True, order.amount
                if order.refund_outcome_lost == "SUCCESS":
                    self._refund_settled(order, "SUCCESS")
                order.refunded_unseen = order.per_query = False

        @invariant()
        def totals_equal_ledger_and_model(self) -> None:
            with sessions() as session:
                assert find_drift(session) == []
                assert find_tally_drift(session) == []
            for campaign in ("one-yuan", "ten-yuan"):
                counted = [o for o in self.orders if o.net > 0 and o.campaign == campaign]
                figures = api.get(f"/api/campaigns/{campaign}").get_json()
                assert (figures["total_fen"], figures["donation_count"],
                        figures["donor_count"]) == (sum(o.net for o in counted),
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
                    sum(o.net for o in branch), len({o.worker for o in branch}))

    return Ledger


def test_totals_always_equal_the_ledger(api: Api, sessions: Any, http_server: Any) -> None:
    machine = make_machine(api, sessions, http_server[1])
    machine.TestCase.settings = settings(
        max_examples=200, stateful_step_count=8, deadline=None,
        suppress_health_check=list(HealthCheck))
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(machine, settings=machine.TestCase.settings)
