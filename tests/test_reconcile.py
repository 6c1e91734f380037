"""`warmfund reconcile`: lost notifications found, expired orders closed, every race settled
once. End to end through the stand-in, and at the service level with the fake for the races
the stand-in cannot stage on demand."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.services.deps import Deps, utc_now
from app.services.errors import WeChatUnavailableDomainError
from app.services.payments.donations import (
    OrderRequest,
    _claim_query,
    get_own_donation,
    place_order,
)
from app.services.payments.ledger_check import find_drift
from app.services.payments.payments import ask_wechat_pay
from app.services.payments.reconcile import reconcile
from models import Anomaly, Donation
from models.tables import donations_table
from tests.helpers import Api, demo_tree
from wechat.errors import WeChatPayError, WeChatUnavailableError
from wechat.fake import FakePay


def _status_of(session: Any) -> dict[str, str]:
    session.expire_all()
    return {d.out_trade_no: d.status for d in session.scalars(select(Donation))}


def _expire(session: Any, *out_trade_nos: str) -> None:
    past = utc_now() - timedelta(minutes=40)
    session.execute(update(donations_table).where(
        donations_table.c.out_trade_no.in_(out_trade_nos)).values(expires_at=past,
                                                                  created_at=past))
    session.commit()


def test_lost_notifications_and_expired_orders_through_the_stand_in(api: Api, sessions: Any,
                                                                   session: Any) -> None:
    demo_tree(session)
    token = api.login("rita")
    lost, expired, fresh = (api.order(token, quantity=q).get_json()["out_trade_no"]
                            for q in (1, 2, 3))
    api.sim_pay(lost, notify=False)
    _expire(session, expired)
    with sessions() as own:
        report = reconcile(own, api.runtime.deps)
    assert (report.checked, report.paid, report.closed, report.still_pending) == (3, 1, 1, 1)
    assert _status_of(session) == {lost: "paid", expired: "closed", fresh: "pending"}
    campaign = api.get("/api/campaigns/one-yuan").get_json()
    assert (campaign["total_fen"], campaign["donation_count"]) == (100, 1)
    with sessions() as own:
        again = reconcile(own, api.runtime.deps)
    assert (again.checked, again.paid) == (0, 0)  # just asked: not asked again within a minute
    assert find_drift(session) == []


def test_an_expired_order_polled_all_the_time_is_still_closed(session: Any,
                                                               fake_deps: Deps) -> None:
    demo_tree(session)
    otn = _fake_order(session, fake_deps)
    _expire(session, otn)
    for _ in range(3):  # the worker's page keeps polling: it must not keep reconcile away
        assert get_own_donation(session, fake_deps, "o-sam", otn)["status"] == "pending"
    assert reconcile(session, fake_deps).closed == 1
    assert _status_of(session) == {otn: "closed"}


class _PaysWhileClosing(FakePay):
    """The close/pay race: the worker pays between our query and our close."""

    def close_order(self, out_trade_no: str) -> None:
        self.pay(out_trade_no)
        super().close_order(out_trade_no)


def _fake_order(session: Any, deps: Deps, who: str = "o-sam") -> str:
    placed = place_order(session, deps, OrderRequest(openid=who, campaign="one-yuan",
                                                     unit="DX-XF", quantity=2))
    return str(placed.donation["out_trade_no"])


def test_payment_that_beats_the_close_is_counted(session: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    deps = replace(fake_deps, pay=_PaysWhileClosing())
    otn = _fake_order(session, deps)
    _expire(session, otn)
    report = reconcile(session, deps)
    assert (report.paid, report.closed, report.failed) == (1, 0, [])
    assert _status_of(session) == {otn: "paid"}
    assert find_drift(session) == []


def test_order_refunded_outside_is_recorded_and_flagged(session: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    otn = _fake_order(session, fake_deps)
    paid = fake_deps.pay.pay(otn)
    fake_deps.pay.orders[otn] = replace(paid, trade_state="REFUND")
    report = reconcile(session, fake_deps)
    assert report.paid == 1 and report.failed == []
    # Paid, then refunded (the query gives no amount: whole), so it is not left counted.
    assert _status_of(session) == {otn: "refunded"}
    assert [a.kind for a in session.scalars(select(Anomaly))] == ["refunded_outside"]
    assert find_drift(session) == []


def test_order_wechat_never_saw_is_closed_after_grace(session: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    otn = _fake_order(session, fake_deps)
    del fake_deps.pay.orders[otn]
    assert reconcile(session, fake_deps).still_pending == 1  # too young to give up on
    _expire(session, otn)
    session.execute(update(donations_table).values(checked_at=None))
    session.commit()
    assert reconcile(session, fake_deps).closed == 1
    assert _status_of(session) == {otn: "closed"}


def test_wechat_down_leaves_orders_pending(session: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    otn = _fake_order(session, fake_deps)
    fake_deps.pay.fail_next = WeChatUnavailableError("down")
    report = reconcile(session, fake_deps)
    assert len(report.failed) == 1 and report.paid == 0
    assert _status_of(session) == {otn: "pending"}


@pytest.mark.parametrize("code, status", [("SIGN_ERROR", 401), ("NO_AUTH", 403),
                                          ("PARAM_ERROR", 400)])
def test_a_refused_query_is_reported_as_failed(session: Any, fake_deps: Deps, code: str,
                                               status: int) -> None:
    # A wrong key, serial or merchant: every query refused, and nothing really checked.
    demo_tree(session)
    otn = _fake_order(session, fake_deps)
    _expire(session, otn)
    fake_deps.pay.fail_next = WeChatPayError(code, "refused", status)
    report = reconcile(session, fake_deps)
    assert report.failed == [f"{otn}: {code}"] and report.still_pending == 0
    assert _status_of(session) == {otn: "pending"}


def test_close_refused_for_another_reason_is_reported(session: Any, fake_deps: Deps) -> None:
    class _Refuses(FakePay):
        def close_order(self, out_trade_no: str) -> None:
            raise WeChatPayError("SYSTEM_ERROR", "busy", 400)

    demo_tree(session)
    deps = replace(fake_deps, pay=_Refuses())
    otn = _fake_order(session, deps)
    _expire(session, otn)
    report = reconcile(session, deps)
    assert report.failed == [f"{otn}: SYSTEM_ERROR"]
    assert _status_of(session) == {otn: "pending"}


class _PlacedWhileAsked(FakePay):
    """Reconcile asks about an order WeChat Pay never saw, and before it closes the order the
    worker's retried tap places it after all."""

    def __init__(self, retry: Any) -> None:
        super().__init__()
        self.retry = retry

    def query_order(self, out_trade_no: str) -> Any:
        try:
            return super().query_order(out_trade_no)
        except WeChatPayError:
            self.retry()
            raise


def test_order_placed_while_reconcile_gives_up_on_it_stays_payable(
        sessions: Any, session: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    request = OrderRequest(openid="o-sam", campaign="one-yuan", unit="DX-XF", quantity=2)

    def retried_tap() -> None:
        with sessions() as other:
            place_order(other, deps, request)

    deps = replace(fake_deps, pay=_PlacedWhileAsked(retried_tap))
    deps.pay.fail_next = WeChatUnavailableError("down")
    with pytest.raises(WeChatUnavailableDomainError):
        place_order(session, deps, request)  # left pending, without a prepay_id
    otn = session.scalar(select(Donation.out_trade_no))
    session.execute(update(donations_table).values(created_at=utc_now() - timedelta(minutes=9)))
    session.commit()
    report = reconcile(session, deps)
    assert (report.closed, report.still_pending) == (0, 1)
    session.expire_all()
    placed = session.scalar(select(Donation))
    assert (placed.status, placed.prepay_id) == ("pending", f"wxfake{otn}")
    deps.pay.pay(otn)  # and the worker pays it: the poll records it
    assert ask_wechat_pay(session, deps, otn, utc_now()) == "recorded"
    assert _status_of(session) == {otn: "paid"}
    assert find_drift(session) == []


class _WhilePlacing(FakePay):
    """Something happens to the order while WeChat Pay is creating it (reconcile closes it, a
    double tap's other half pays it): the prepay_id arrives for an order no longer pending.
    The donation's row gets `values` from another session, before WeChat Pay answers."""

    def __init__(self, sessions: Any, **values: Any) -> None:
        super().__init__()
        self.sessions, self.values = sessions, values

    def create_jsapi_order(self, order: Any) -> str:
        prepay_id = super().create_jsapi_order(order)
        with self.sessions() as other:
            other.execute(update(donations_table)
                          .where(donations_table.c.out_trade_no == order.out_trade_no)
                          .values(**self.values))
            other.commit()
        return prepay_id


def test_order_closed_while_being_placed_is_not_handed_out(
        sessions: Any, session: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    reconcile_closes = _WhilePlacing(sessions, status="closed", closed_at=utc_now())
    deps = replace(fake_deps, pay=reconcile_closes)
    with pytest.raises(WeChatUnavailableDomainError, match="订单已关闭"):
        place_order(session, deps, OrderRequest(openid="o-sam", campaign="one-yuan",
                                                unit="DX-XF"))
    session.expire_all()
    closed = session.scalar(select(Donation))
    assert (closed.status, closed.prepay_id) == ("closed", None)
    assert deps.pay.orders[closed.out_trade_no].trade_state == "CLOSED"  # closed there too


def test_double_tap_whose_other_half_paid_meanwhile_gets_its_parameters(
        sessions: Any, session: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    first_tap_paid = _WhilePlacing(sessions, status="paid", transaction_id="4200000000000001")
    deps = replace(fake_deps, pay=first_tap_paid)
    placed = place_order(session, deps, OrderRequest(openid="o-sam", campaign="one-yuan",
                                                     unit="DX-XF"))
    otn = placed.donation["out_trade_no"]
    assert placed.payment["package"] == f"prepay_id=wxfake{otn}"  # WeChat Pay refuses a 2nd pay
    assert deps.pay.orders[otn].trade_state == "NOTPAY"  # and nothing closed it there


class _CountingPay(FakePay):
    def __init__(self) -> None:
        super().__init__()
        self.queries = 0

    def query_order(self, out_trade_no: str) -> Any:
        self.queries += 1
        return super().query_order(out_trade_no)


def test_polls_ask_wechat_pay_one_at_a_time_and_still_find_a_lost_payment(
        session: Any, sessions: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    now = [utc_now()]
    deps = replace(fake_deps, pay=_CountingPay(), clock=lambda: now[0])
    otn = _fake_order(session, deps)
    deps.pay.pay(otn)  # paid at WeChat Pay; the notification is lost
    assert get_own_donation(session, deps, "o-sam", otn)["status"] == "pending"
    assert deps.pay.queries == 0  # the notification usually lands first: not asked so soon
    now[0] += timedelta(seconds=deps.query_after_seconds)
    # Two polls that both found it worth asking: only one claims the query.
    with sessions() as one, sessions() as two:
        assert _claim_query(one, deps, otn) == now[0]
        assert _claim_query(two, deps, otn) is None
    assert get_own_donation(session, deps, "o-sam", otn)["status"] == "pending"
    assert deps.pay.queries == 0  # the other poll is asking: this one does not
    now[0] += timedelta(seconds=deps.query_after_seconds)
    assert get_own_donation(session, deps, "o-sam", otn)["status"] == "paid"
    assert deps.pay.queries == 1
    assert find_drift(session) == []
