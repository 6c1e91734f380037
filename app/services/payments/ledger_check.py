"""Recompute every total from the ledger; report drift, and repair it on request."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.orm import Session

from models.database import is_postgres, write_transaction

# A donation counts while it is paid, and while a refund of a paid one is in flight; partial
# refunds have taken refunded_fen off its amount (a refunded or disputed one counts nothing).
_COUNTED = "(status = 'paid' OR (status = 'refunding' AND refund_from_status = 'paid'))"
_D_COUNTED = "(d.status = 'paid' OR (d.status = 'refunding' AND d.refund_from_status = 'paid'))"

# What the ledger says of subtrees; {only} narrows them to some ancestors (or is empty).
_SUBTREE_TOTALS = """
    SELECT d.campaign_id, 'subtree' AS scope, c.ancestor_id AS unit_id,
           SUM(d.amount_fen - d.refunded_fen) AS total_fen, COUNT(*) AS donation_count,
           COUNT(DISTINCT d.openid) AS donor_count
    FROM donations d JOIN unit_closure c ON c.descendant_id = d.unit_id
    WHERE {counted}{only} GROUP BY d.campaign_id, c.ancestor_id
"""
_SUBTREE_TALLIES = """
    SELECT d.campaign_id, 'subtree' AS scope, c.ancestor_id AS unit_id, d.openid,
           COUNT(*) AS paid_count
    FROM donations d JOIN unit_closure c ON c.descendant_id = d.unit_id
    WHERE {counted}{only} GROUP BY d.campaign_id, c.ancestor_id, d.openid
"""
_ONLY_ANCESTORS = " AND c.ancestor_id IN :ids"

_SUBTREE_TOTALS = _SUBTREE_TOTALS.replace("{counted}", _D_COUNTED)
_SUBTREE_TALLIES = _SUBTREE_TALLIES.replace("{counted}", _D_COUNTED)

_EXPECTED = f"""
    SELECT campaign_id, 'campaign' AS scope, 0 AS unit_id,
           SUM(amount_fen - refunded_fen) AS total_fen, COUNT(*) AS donation_count,
           COUNT(DISTINCT openid) AS donor_count
    FROM donations WHERE {_COUNTED} GROUP BY campaign_id
    UNION ALL
    SELECT campaign_id, 'unit', unit_id, SUM(amount_fen - refunded_fen), COUNT(*),
           COUNT(DISTINCT openid)
    FROM donations WHERE {_COUNTED} GROUP BY campaign_id, unit_id
    UNION ALL""" + _SUBTREE_TOTALS.format(only="")

_EXPECTED_TALLIES = f"""
    SELECT campaign_id, 'campaign' AS scope, 0 AS unit_id, openid, COUNT(*) AS paid_count
    FROM donations WHERE {_COUNTED} GROUP BY campaign_id, openid
    UNION ALL
    SELECT campaign_id, 'unit', unit_id, openid, COUNT(*)
    FROM donations WHERE {_COUNTED} GROUP BY campaign_id, unit_id, openid
    UNION ALL""" + _SUBTREE_TALLIES.format(only="")

_TOTAL_COLUMNS = "campaign_id, scope, unit_id, total_fen, donation_count, donor_count"
_TALLY_COLUMNS = "campaign_id, scope, unit_id, openid, paid_count"

Key = tuple[int, str, int]
Row = tuple[int, int, int]


@dataclass(frozen=True)
class Drift:
    campaign_id: int
    scope: str
    unit_id: int
    stored: Row
    expected: Row


def _figures(session: Session, sql: str) -> dict[Key, Row]:
    found: dict[Key, Row] = {}
    for r in session.execute(text(sql)):
        figures = (int(r.total_fen or 0), int(r.donation_count), int(r.donor_count))
        if figures != (0, 0, 0):
            found[(int(r.campaign_id), str(r.scope), int(r.unit_id))] = figures
    return found


def find_drift(session: Session) -> list[Drift]:
    """Every total whose stored figures differ from what the ledger says."""
    stored = _figures(session, "SELECT campaign_id, scope, unit_id, SUM(total_fen) AS total_fen, "
                               "SUM(donation_count) AS donation_count, SUM(donor_count) AS "
                               "donor_count FROM totals GROUP BY campaign_id, scope, unit_id")
    expected = _figures(session, _EXPECTED)
    zero = (0, 0, 0)
    return [Drift(k[0], k[1], k[2], stored.get(k, zero), expected.get(k, zero))
            for k in sorted(stored.keys() | expected.keys())
            if stored.get(k, zero) != expected.get(k, zero)]


_STORED_TALLIES = f"SELECT {_TALLY_COLUMNS} FROM donor_tallies WHERE paid_count <> 0"

# Keys whose donor tallies differ from the ledger's, openid by openid, either way round.
_TALLY_DRIFT = f"""
    SELECT DISTINCT campaign_id, scope, unit_id FROM (
        SELECT * FROM ({_STORED_TALLIES} EXCEPT SELECT * FROM ({_EXPECTED_TALLIES}) AS e) AS x
        UNION ALL
        SELECT * FROM (SELECT * FROM ({_EXPECTED_TALLIES}) AS e EXCEPT {_STORED_TALLIES}) AS y
    ) AS differing ORDER BY campaign_id, scope, unit_id
"""


def find_tally_drift(session: Session) -> list[Key]:
    """(campaign, scope, unit) of every donor tally that differs from the ledger: the state
    behind each donor count, which a later payment would build on."""
    return [(int(r[0]), str(r[1]), int(r[2])) for r in session.execute(text(_TALLY_DRIFT))]


@dataclass(frozen=True)
class LedgerCheck:
    totals: list[Drift]
    tallies: list[Key]

    def __bool__(self) -> bool:
        return bool(self.totals or self.tallies)

    @classmethod
    def of(cls, session: Session) -> LedgerCheck:
        """Totals and tallies against the ledger, as the session's transaction sees them."""
        return cls(find_drift(session), find_tally_drift(session))


def verify_totals(session: Session) -> LedgerCheck:
    """Totals and tallies against the ledger, all read from one snapshot of the database: read
    one after another, a payment committed in between would show as drift."""
    if session.in_transaction():
        session.rollback()
    if is_postgres(session):
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        return LedgerCheck.of(session)
    finally:
        session.rollback()


def lock_totals(session: Session) -> None:
    """On PostgreSQL, keep payments out until the caller's transaction ends. Tables are locked in
    the order the payment path writes them (tallies, then totals), so neither waits on the other
    in a cycle."""
    if is_postgres(session):
        session.execute(text("LOCK TABLE donor_tallies, totals IN EXCLUSIVE MODE"))


def rebuild_totals(session: Session) -> None:
    """Replace every total and donor tally with what the ledger says (inside the caller's
    write transaction). Rebuilt totals start in one shard (0); payments spread them again."""
    lock_totals(session)
    session.execute(text("DELETE FROM totals"))
    session.execute(text("DELETE FROM donor_tallies"))
    session.execute(text(f"INSERT INTO totals ({_TOTAL_COLUMNS}) {_EXPECTED}"))
    session.execute(text(f"INSERT INTO donor_tallies ({_TALLY_COLUMNS}) {_EXPECTED_TALLIES}"))


def rebuild_subtrees(session: Session, ancestor_ids: Collection[int]) -> None:
    """Recount from the ledger the subtree totals and donor tallies of `ancestor_ids` only
    (inside the caller's write transaction, under the totals' lock): after a move, the units
    whose subtrees gained or lost donations. The rest of the tree, its root included, is not
    touched, so payments wait on a recount of those subtrees alone."""
    if not ancestor_ids:
        return
    lock_totals(session)
    ids = {"ids": sorted(ancestor_ids)}
    expanding: BindParameter[list[int]] = bindparam("ids", expanding=True)
    for table in ("totals", "donor_tallies"):
        session.execute(text(f"DELETE FROM {table} WHERE scope = 'subtree' AND unit_id IN :ids")
                        .bindparams(expanding), ids)
    session.execute(text(f"INSERT INTO totals ({_TOTAL_COLUMNS}) "
                         + _SUBTREE_TOTALS.format(only=_ONLY_ANCESTORS)).bindparams(expanding),
                    ids)
    session.execute(text(f"INSERT INTO donor_tallies ({_TALLY_COLUMNS}) "
                         + _SUBTREE_TALLIES.format(only=_ONLY_ANCESTORS)).bindparams(expanding),
                    ids)


def repair_totals(session: Session) -> LedgerCheck:
    """Rebuild every total and tally from the ledger; returns the drift found and repaired."""
    with write_transaction(session):
        # No payment may slip between the recount and the swap.
        lock_totals(session)
        found = LedgerCheck.of(session)
        if found:
            rebuild_totals(session)
    return found
