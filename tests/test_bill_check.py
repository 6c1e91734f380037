"""`warmfund bill check` at the service level, with the fake's bills: every finding staged,
recovered payments counted once (also by two runs at once), a refused bill changing nothing."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, timedelta
from typing import IO, Any

from sqlalchemy import func, select

from app.services.actor import SYSTEM
from app.services.deps import Deps, utc_now
from app.services.payments import bill
from app.services.payments.bill import check_bill
from app.services.payments.bill_checks import exit_code, get_check, latest_check
from app.services.payments.donations import OrderRequest, place_order
from app.services.payments.ledger_check import find_drift
from app.services.payments.payments import record_payment
from models import Anomaly, BillLine, Donation
from tests.helpers import at_once, demo_tree
from wechat import Transaction
from wechat.errors import WeChatUnavailableError
from wechat.fake import FakePay
from wechat.timeutil import CHINA_TZ


def _today() -> date:
    return utc_now().astimezone(CHINA_TZ).date()


def _day_of(deps: Deps, otn: str) -> date:
    """The China date of the fake's payment: its bill's day (whatever midnight did since)."""
    paid = deps.pay.orders[otn].success_time
    assert paid is not None
    return paid.astimezone(CHINA_TZ).date()


def _order(session: Any, deps: Deps, quantity: int = 1, who: str = "o-amy") -> str:
    placed = place_order(session, deps, OrderRequest(openid=who, campaign="one-yuan",
                                                     unit="DX-XF", quantity=quantity))
    return str(placed.donation["out_trade_no"])


def _status(session: Any, otn: str) -> str:
    session.expire_all()
    return str(session.scalar(select(Donation.status).where(Donation.out_trade_no == otn)))


def _same_day(session: Any, deps: Deps, like: str, here: list[str], there: list[str]) -> None:
    """Payments at the moment `like` was paid, here and at the fake: one day's bill, even when
    the test runs across midnight (China time)."""
    moment = deps.pay.orders[like].success_time
    session.execute(Donation.__table__.update().where(Donation.out_trade_no.in_(here))
                    .values(paid_at=moment))
    session.commit()
    for otn in there:
        deps.pay.orders[otn] = replace(deps.pay.orders[otn], success_time=moment)


def _check(session: Any, deps: Deps, day: date | None = None) -> dict[str, Any]:
    return get_check(session, SYSTEM, check_bill(session, deps, SYSTEM, day or _today()))


def _kinds(check: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((f["kind"], f["out_trade_no"]) for f in check["findings"])


def _paid_by_notification(session: Any, deps: Deps, otn: str, amount: int | None = None) -> None:
    record_payment(session, deps.pay.pay(otn, amount), utc_now())


def test_a_lost_payment_is_recovered_once(session: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    lost, notified = _order(session, fake_deps, 2), _order(session, fake_deps, 3)
    fake_deps.pay.pay(lost)  # the notification never came
    _paid_by_notification(session, fake_deps, notified)
    day = _day_of(fake_deps, lost)
    check = _check(session, fake_deps, day)
    assert _kinds(check) == [("recovered", lost)] and exit_code(check) == 0
    assert "2.00" in check["findings"][0]["detail"]
    assert check["bill"] == {"count": 2, "paid_fen": 500, "refund_fen": 0, "fee_fen": 3}
    assert check["ledger"] == {"count": 2, "paid_fen": 500, "refund_fen": 0}
    assert _status(session, lost) == "paid" and find_drift(session) == []
    again = _check(session, fake_deps, day)
    assert again["findings"] == [] and exit_code(again) == 0
    assert latest_check(session, SYSTEM, day)["id"] == again["id"]
    assert session.scalar(select(func.count()).select_from(BillLine)) == 0


def test_a_payment_after_close_is_recovered_and_listed(session: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    otn = _order(session, fake_deps)
    session.execute(Donation.__table__.update().values(status="closed"))
    session.commit()
    fake_deps.pay.pay(otn)
    assert _kinds(_check(session, fake_deps, _day_of(fake_deps, otn))) == [("recovered", otn)]
    assert _status(session, otn) == "paid"
    assert [a.kind for a in session.scalars(select(Anomaly))] == ["paid_after_close"]


def test_unknown_orders_missing_payments_and_wrong_amounts(session: Any,
                                                           fake_deps: Deps) -> None:
    demo_tree(session)
    fine, missing, wrong, lost_wrong = (_order(session, fake_deps, q) for q in (1, 2, 3, 4))
    _paid_by_notification(session, fake_deps, fine)
    _paid_by_notification(session, fake_deps, missing)
    del fake_deps.pay.orders[missing]  # paid here, unknown to WeChat Pay
    _paid_by_notification(session, fake_deps, wrong, amount=250)  # disputed when notified
    fake_deps.pay.pay(lost_wrong, amount=401)  # lost, and the wrong amount
    fake_deps.pay.orders["WF-never-ours"] = Transaction(
        "wx", "mch", "WF-never-ours", "4200000000000000000000000009", "SUCCESS", 900,
        "o-who", fake_deps.pay.orders[fine].success_time, "")
    _same_day(session, fake_deps, fine, [missing, wrong], [wrong, lost_wrong])
    check = _check(session, fake_deps, _day_of(fake_deps, fine))
    assert _kinds(check) == sorted([("amount_mismatch", wrong), ("amount_mismatch", lost_wrong),
                                    ("missing_at_wechat", missing),
                                    ("unknown_order", "WF-never-ours")])
    assert exit_code(check) == 1 and check["unexplained"] == 4
    assert _status(session, lost_wrong) == "disputed" and find_drift(session) == []


def test_a_day_without_a_bill_passes_wechats_answer_on(session: Any, fake_deps: Deps) -> None:
    check = _check(session, fake_deps, _today() - timedelta(days=1))
    assert (check["status"], exit_code(check)) == ("no_bill", 2)
    assert check["problem"].startswith("NO_STATEMENT_EXIST")
    fake_deps.pay.fail_next = WeChatUnavailableError("down")
    down = _check(session, fake_deps)
    assert (down["status"], exit_code(down), down["bill"]) == ("failed", 2, None)


class _Tampered(FakePay):
    def download_bill(self, download_url: str, sink: IO[bytes]) -> None:
        buffer = io.BytesIO()
        super().download_bill(download_url, buffer)
        sink.write(buffer.getvalue()[:-9] + b"corrupted")


def test_a_bill_that_does_not_verify_changes_nothing(session: Any, fake_deps: Deps) -> None:
    demo_tree(session)
    deps = replace(fake_deps, pay=_Tampered())
    lost = _order(session, deps)
    deps.pay.pay(lost)
    check = _check(session, deps, _day_of(deps, lost))
    assert (check["status"], exit_code(check), check["findings"]) == ("refused", 2, [])
    assert _status(session, lost) == "pending"
    assert session.scalar(select(func.count()).select_from(BillLine)) == 0


def test_two_checks_at_once_record_a_lost_payment_once(sessions: Any, session: Any,
                                                       fake_deps: Deps) -> None:
    demo_tree(session)
    lost = [_order(session, fake_deps, q, who=f"o-{q}") for q in (1, 2, 3)]
    for otn in lost:
        fake_deps.pay.pay(otn)
    day = _day_of(fake_deps, lost[0])
    _same_day(session, fake_deps, lost[0], [], lost[1:])

    def run(_: int) -> dict[str, Any]:
        with sessions() as own:
            return _check(own, fake_deps, day)

    checks = at_once(2, run)
    recovered = sorted(f["out_trade_no"] for c in checks for f in c["findings"])
    assert recovered == sorted(lost)
    assert [exit_code(c) for c in checks] == [0, 0]
    assert find_drift(session) == []
    figures = session.execute(select(func.count(), func.sum(Donation.amount_fen))
                              .where(Donation.status == "paid")).one()
    assert tuple(figures) == (3, 600)


def test_staged_lines_are_emptied_batch_after_batch(session: Any, fake_deps: Deps,
                                                   monkeypatch: Any) -> None:
    """With batches of one line (ten deleted a transaction) a bill of 23 lines takes three
    rounds to empty; every line goes, and the findings are the same as in one round."""
    monkeypatch.setattr(bill, "BATCH", 1)
    demo_tree(session)
    orders = [_order(session, fake_deps, 1, who=f"o-{n}") for n in range(23)]
    for otn in orders[1:]:
        _paid_by_notification(session, fake_deps, otn)
    fake_deps.pay.pay(orders[0])  # its notification never came
    check = _check(session, fake_deps, _day_of(fake_deps, orders[0]))
    assert _kinds(check) == [("recovered", orders[0])] and check["bill"]["count"] == 23
    assert session.scalar(select(func.count()).select_from(BillLine)) == 0
