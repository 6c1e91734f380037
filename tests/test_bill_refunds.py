"""The refund half of `warmfund bill check` at the service level, with the fake's bills: a refund
only the bill knows of is recorded once (also by two runs at once), one still in flight here is
settled, the refund reconcile took off per an order query is named, and what cannot be recorded
is listed, never guessed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from app.services.actor import SYSTEM
from app.services.deps import Deps, utc_now
from app.services.payments.bill_checks import exit_code
from app.services.payments.ledger_check import find_drift
from app.services.payments.payments import record_refund
from app.services.payments.reconcile import reconcile
from app.services.payments.refunds import RefundAsked, request_refund
from models import Anomaly, Donation, Refund
from tests.helpers import at_once, demo_tree
from tests.test_bill_check import _check, _day_of, _order, _paid_by_notification, _status
from wechat import Refund as WeChatRefund
from wechat import Transaction
from wechat.bill import BillRow
from wechat.fake import FakePay


def _at_wechat(deps: Deps, otn: str, amount: int, out_refund_no: str) -> WeChatRefund:
    """A refund WeChat Pay made (on the merchant platform), on the day of the payment."""
    order = deps.pay.orders[otn]
    made = WeChatRefund(out_refund_no, f"5030{len(deps.pay.refunds):025d}", otn,
                        order.transaction_id, "SUCCESS", amount, order.amount_total or 0,
                        order.success_time)
    deps.pay.refunds[out_refund_no] = made
    return made


def _found(check: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((f["kind"], f["out_trade_no"], f.get("out_refund_no", ""))
                  for f in check["findings"])


def _refunded(session: Any, otn: str) -> int:
    session.expire_all()
    return int(session.scalar(select(Donation.refunded_fen)
                              .where(Donation.out_trade_no == otn)) or 0)


def test_a_refund_only_the_bill_knows_is_recorded_once(session: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    otn = _order(session, fake_deps, 3)
    _paid_by_notification(session, fake_deps, otn)
    _at_wechat(fake_deps, otn, 100, "MP-lost-1")  # its notification never came
    day = _day_of(fake_deps, otn)
    check = _check(session, fake_deps, day)
    assert _found(check) == [("refund_recovered", otn, "MP-lost-1")] and exit_code(check) == 0
    assert "1.00" in check["findings"][0]["detail"]
    assert check["bill"] == {"count": 2, "paid_fen": 300, "refund_fen": 100, "fee_fen": 1}
    assert check["ledger"] == {"count": 2, "paid_fen": 300, "refund_fen": 100}
    assert (_refunded(session, otn), _status(session, otn)) == (100, "paid")
    assert [a.kind for a in session.scalars(select(Anomaly))] == ["refunded_outside"]
    assert find_drift(session) == []
    again = _check(session, fake_deps, day)
    assert again["findings"] == [] and exit_code(again) == 0 and _refunded(session, otn) == 100


def test_two_checks_at_once_record_a_refund_once(sessions: Any, session: Any,
                                                 fake_deps: Deps) -> None:
    demo_tree(session)
    otn = _order(session, fake_deps, 2)
    _paid_by_notification(session, fake_deps, otn)
    _at_wechat(fake_deps, otn, 200, "MP-whole-1")
    day = _day_of(fake_deps, otn)

    def run(_: int) -> dict[str, Any]:
        with sessions() as own:
            return _check(own, fake_deps, day)

    checks = at_once(2, run)
    assert sorted(k for c in checks for k in _found(c)) == [
        ("refund_recovered", otn, "MP-whole-1")]
    assert (_refunded(session, otn), _status(session, otn)) == (200, "refunded")
    assert session.scalar(select(func.count()).select_from(Refund)) == 1
    assert find_drift(session) == []


def test_a_refund_in_flight_here_that_the_bill_says_succeeded(session: Any,
                                                              fake_deps: Deps) -> None:
    demo_tree(session)
    otn = _order(session, fake_deps, 2)
    _paid_by_notification(session, fake_deps, otn)
    asked = request_refund(session, fake_deps, SYSTEM, RefundAsked(otn, "捐错了"))
    assert _status(session, otn) == "refunding"
    no = asked["out_refund_no"]
    fake_deps.pay.refunds[no] = replace(fake_deps.pay.refunds[no], status="SUCCESS",
                                        success_time=fake_deps.pay.orders[otn].success_time)
    check = _check(session, fake_deps, _day_of(fake_deps, otn))
    assert _found(check) == [("refund_recovered", otn, no)] and exit_code(check) == 0
    assert (_refunded(session, otn), _status(session, otn)) == (200, "refunded")
    assert find_drift(session) == []


def test_the_refund_reconcile_took_off_per_query_is_named_by_the_bill(
        session: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    whole, part = _order(session, fake_deps, 2), _order(session, fake_deps, 3, who="o-bo")
    for otn, amount in ((whole, 200), (part, 100)):  # paid and refunded, both unheard of
        fake_deps.pay.pay(otn)
        _at_wechat(fake_deps, otn, amount, f"MP-{otn[-6:]}")
        fake_deps.pay.orders[otn] = replace(fake_deps.pay.orders[otn], trade_state="REFUND")
    assert reconcile(session, fake_deps).failed == []
    assert _status(session, whole) == _status(session, part) == "refunded"  # taken off whole
    day = _day_of(fake_deps, whole)
    check = _check(session, fake_deps, day)
    assert _found(check) == [("refund_recovered", whole, f"MP-{whole[-6:]}"),
                             ("refund_unknown", part, f"MP-{part[-6:]}")]
    assert "3.00" in check["findings"][1]["detail"] and exit_code(check) == 1
    named = session.scalars(select(Refund.out_refund_no).order_by(Refund.id)).all()
    assert named == [f"MP-{whole[-6:]}", f"{part}-REFUND"]
    assert _found(_check(session, fake_deps, day)) == [("refund_unknown", part,
                                                        f"MP-{part[-6:]}")]
    assert find_drift(session) == []


class _OddRows(FakePay):
    """The fake's bill, plus refund rows a bill may hold that warmfund must not record."""

    odd: tuple[BillRow, ...] = ()

    def _refund_rows(self, day: date) -> list[BillRow]:
        return [*super()._refund_rows(day), *self.odd]


def _odd(paid: Transaction, out_refund_no: str, status: str = "SUCCESS",
         fen: int = 100) -> BillRow:
    assert paid.success_time is not None and paid.transaction_id is not None
    return BillRow(trade_time=paid.success_time, transaction_id=paid.transaction_id,
                   out_trade_no=paid.out_trade_no, trade_state="REFUND", settlement_fen=0,
                   order_fen=0, refund_fen=fen, fee=Decimal(0), out_refund_no=out_refund_no,
                   refund_status=status)


def test_refunds_that_cannot_be_recorded_are_listed(session: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    deps = replace(fake_deps, pay=_OddRows())
    fine, early, small, odd = (_order(session, deps, q, who=f"o-{q}") for q in (5, 2, 1, 4))
    for otn in (fine, small, odd):
        _paid_by_notification(session, deps, otn)
    paid_early = deps.pay.pay(early)  # paid the day before, not yet recovered here
    deps.pay.orders[early] = replace(paid_early,
                                     success_time=paid_early.success_time - timedelta(days=1))
    _at_wechat(deps, fine, 100, "MP-fine")
    record_refund(session, replace(_at_wechat(deps, fine, 300, "MP-half"), amount_refund=150),
                  utc_now())  # the notification said 1.50; WeChat Pay's books say 3.00
    record_refund(session, _at_wechat(deps, fine, 100, "MP-gone"), utc_now())
    del deps.pay.refunds["MP-gone"]  # recorded here, unknown to WeChat Pay's books
    deps.pay.refunds["MP-early"] = replace(_at_wechat(deps, small, 100, "MP-early"),
                                           out_trade_no=early)
    _at_wechat(deps, small, 500, "MP-too-much")
    paid = deps.pay.orders[odd]
    deps.pay.odd = (_odd(paid, "MP-pending", "PROCESSING"), _odd(paid, ""),
                    _odd(paid, "MP-negative", fen=-100))
    check = _check(session, deps, _day_of(deps, fine))
    assert _found(check) == sorted([
        ("refund_recovered", fine, "MP-fine"), ("amount_mismatch", fine, "MP-half"),
        ("refund_missing_at_wechat", fine, "MP-gone"), ("refund_unknown", early, "MP-early"),
        ("refund_unknown", small, "MP-too-much"), ("refund_unknown", odd, "MP-pending"),
        ("refund_unknown", odd, ""), ("refund_unknown", odd, "MP-negative")])
    assert check["unexplained"] == 7 and exit_code(check) == 1
    assert [_refunded(session, otn) for otn in (fine, early, small, odd)] == [350, 0, 0, 0]
    assert (_status(session, early), find_drift(session)) == ("pending", [])


def test_a_refund_the_bill_shows_unfinished_is_listed(session: Any, fake_deps: Deps) -> None:
    """Succeeded here that day, closed in WeChat Pay's books: listed, nothing moved. Another
    day's row still under way (before it succeeded here) is no disagreement."""
    demo_tree(session)
    deps = replace(fake_deps, pay=_OddRows())
    otn = _order(session, deps, 3)
    _paid_by_notification(session, deps, otn)
    record_refund(session, _at_wechat(deps, otn, 100, "MP-closed"), utc_now())
    del deps.pay.refunds["MP-closed"]
    paid = deps.pay.orders[otn]
    deps.pay.odd = (_odd(paid, "MP-closed", "REFUNDCLOSE"),)
    check = _check(session, deps, _day_of(deps, otn))
    assert _found(check) == [("refund_missing_at_wechat", otn, "MP-closed")]
    assert "REFUNDCLOSE" in check["findings"][0]["detail"] and exit_code(check) == 1
    assert _refunded(session, otn) == 100 and find_drift(session) == []
    deps.pay.odd = (_odd(paid, "MP-closed", "PROCESSING"),)
    earlier = _check(session, deps, _day_of(deps, otn) - timedelta(days=1))
    assert _found(earlier) == []
