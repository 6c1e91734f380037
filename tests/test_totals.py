"""Running totals at the service level: in and out of paid, donor counts, drift repair."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select, text

from app.services.catalog.campaigns import get_campaign, get_unit
from app.services.deps import utc_now
from app.services.payments.ledger_check import find_drift, repair_totals, verify_totals
from app.services.payments.totals import count_paid
from models import TOTAL_SHARDS, Campaign, Donation, Unit
from models.database import write_transaction
from tests.helpers import demo_tree


def _donate(session: Any, unit: str, openid: str, amount: int) -> Donation:
    campaign = session.scalar(select(Campaign).where(Campaign.code == "one-yuan"))
    unit_row = session.scalar(select(Unit).where(Unit.code == unit))
    now = utc_now()
    donation = Donation(out_trade_no=f"WFT{openid}{amount}{unit}"[:32], campaign_id=campaign.id,
                        unit_id=unit_row.id, openid=openid, quantity=amount // 100,
                        amount_fen=amount, status="paid", created_at=now, expires_at=now,
                        paid_at=now)
    with write_transaction(session):
        session.add(donation)
        session.flush()
        count_paid(session, donation_id=donation.id, campaign_id=campaign.id,
                   unit_id=unit_row.id, openid=openid, amount_fen=amount)
    return donation


def _uncount(session: Any, donation: Donation) -> None:
    with write_transaction(session):
        session.execute(text("UPDATE donations SET status = 'refunded' WHERE id = :i"),
                        {"i": donation.id})
        count_paid(session, donation_id=donation.id, campaign_id=donation.campaign_id,
                   unit_id=donation.unit_id, openid=donation.openid,
                   amount_fen=donation.amount_fen, direction=-1)


def _figures(session: Any, unit: str) -> tuple[int, int, int]:
    t = next(x for x in get_unit(session, unit)["totals"] if x["campaign"] == "one-yuan")
    return t["total_fen"], t["donation_count"], t["donor_count"]


def test_donor_counted_once_per_scope_and_removed_on_last(session: Any) -> None:
    demo_tree(session)
    first = _donate(session, "HC-A1", "o-1", 100)
    second = _donate(session, "HC-A", "o-1", 300)
    _donate(session, "DX-XF", "o-2", 200)
    assert _figures(session, "DX") == (600, 3, 2)
    assert _figures(session, "DX-HC") == (400, 2, 1)
    assert _figures(session, "HC-A1") == (100, 1, 1)
    _uncount(session, first)
    assert _figures(session, "DX-HC") == (300, 1, 1)
    assert _figures(session, "HC-A1") == (0, 0, 0)
    _uncount(session, second)
    assert _figures(session, "DX-HC") == (0, 0, 0)
    assert _figures(session, "DX") == (200, 1, 1)
    campaign = get_campaign(session, "one-yuan")
    assert (campaign["total_fen"], campaign["donor_count"]) == (200, 1)
    assert find_drift(session) == []


def test_drift_is_found_and_repaired(session: Any) -> None:
    demo_tree(session)
    _donate(session, "HC-A1", "o-1", 100)
    session.execute(text("UPDATE totals SET total_fen = total_fen + 7 WHERE scope = 'campaign'"))
    session.commit()
    drift = find_drift(session)
    assert [(d.scope, d.stored[0], d.expected[0]) for d in drift] == [("campaign", 107, 100)]
    assert len(repair_totals(session).totals) == 1
    assert find_drift(session) == []
    assert get_campaign(session, "one-yuan")["total_fen"] == 100


def test_tally_drift_is_found_and_repaired(session: Any) -> None:
    demo_tree(session)
    _donate(session, "HC-A1", "o-1", 100)
    _donate(session, "HC-A1", "o-2", 100)
    assert not verify_totals(session)
    session.execute(text("UPDATE donor_tallies SET paid_count = 2 "
                         "WHERE scope = 'unit' AND openid = 'o-1'"))
    session.execute(text("DELETE FROM donor_tallies WHERE scope = 'campaign' AND openid = 'o-2'"))
    session.commit()
    found = verify_totals(session)
    assert found.totals == []  # the counts themselves still agree; a later payment would not
    unit_id = session.scalar(text("SELECT id FROM units WHERE code = 'HC-A1'"))
    assert [(s, u) for _c, s, u in found.tallies] == [("campaign", 0), ("unit", unit_id)]
    assert len(repair_totals(session).tallies) == 2
    assert not verify_totals(session)
    _donate(session, "HC-A1", "o-2", 200)  # o-2 already gave: the campaign's donors stay 2
    assert get_campaign(session, "one-yuan")["donor_count"] == 2
    assert not verify_totals(session)


def test_a_total_is_the_sum_of_its_shards(session: Any) -> None:
    demo_tree(session)
    for n in range(TOTAL_SHARDS + 3):
        _donate(session, "HC-A1", f"o-{n % 4}", 100 * (n + 1))
    rows = session.execute(text("SELECT shard, total_fen FROM totals "
                                "WHERE scope = 'campaign' ORDER BY shard")).all()
    assert len(rows) == TOTAL_SHARDS  # the donations fell into every shard
    expected = sum(100 * (n + 1) for n in range(TOTAL_SHARDS + 3))
    assert sum(r.total_fen for r in rows) == expected
    assert _figures(session, "DX") == (expected, TOTAL_SHARDS + 3, 4)
    assert get_campaign(session, "one-yuan")["donor_count"] == 4
    assert find_drift(session) == []


def test_verify_reads_one_snapshot_while_payments_commit(sessions: Any, session: Any) -> None:
    # SQLite reads one snapshot per transaction anyway; PostgreSQL's default (READ COMMITTED)
    # takes one per statement, which is what REPEATABLE READ is there for.
    demo_tree(session)
    _donate(session, "HC-A1", "o-1", 100)
    fired: list[bool] = []

    def pay_meanwhile(*args: Any) -> None:
        # Between reading the totals and reading the ledger, a payment commits.
        if "FROM totals GROUP BY" in args[2] and not fired:
            fired.append(True)
            with sessions() as other:
                _donate(other, "HC-A1", "o-2", 100)

    engine = session.get_bind()
    event.listen(engine, "after_cursor_execute", pay_meanwhile)
    try:
        found = verify_totals(session)
    finally:
        event.remove(engine, "after_cursor_execute", pay_meanwhile)
    assert fired and not found
    assert get_campaign(session, "one-yuan")["total_fen"] == 200
    assert not verify_totals(session)
