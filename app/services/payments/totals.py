"""Running totals kept beside the ledger, and the check that they still equal it.

A donation counts in three kinds of scope: its campaign, its own unit, and the subtree of every
ancestor of its unit (itself included). donor_count is the number of distinct openids with at
least one paid donation in the scope; donor_tallies remembers how many each openid has there,
so that the count moves only on 0 -> 1 and 1 -> 0.

Each total is kept in shards (models.TOTAL_SHARDS rows at most): a donation adds to the shard of
its own id, and a total is read as the sum of its shards. Every payment touches its campaign's
total, so without shards concurrent payments on PostgreSQL would all wait for that one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, TextClause, bindparam, text
from sqlalchemy.orm import Session

from models import TOTAL_SHARDS, Scope
from models.database import is_postgres


def scopes_of_unit(unit_id: str) -> str:
    """SQL for the (scope, unit_id) of every total a donation at `unit_id` (an SQL expression)
    counts in: its campaign, its own unit, and the subtree of each ancestor and of itself."""
    return f"""
        SELECT 'campaign' AS scope, 0 AS unit_id
        UNION ALL SELECT 'unit', {unit_id}
        UNION ALL SELECT 'subtree', ancestor_id FROM unit_closure WHERE descendant_id = {unit_id}
    """


def tally_in(scopes: str) -> str:
    """SQL counting one more paid donation of each (campaign_id, scope, unit_id, openid) row of
    the relation `scopes` in donor_tallies; returns each tally's new paid_count."""
    # SQLite needs the WHERE to tell an upsert's SELECT from a join's ON.
    return f"""
        INSERT INTO donor_tallies (campaign_id, scope, unit_id, openid, paid_count)
        SELECT campaign_id, scope, unit_id, openid, 1 FROM {scopes} WHERE true
        ON CONFLICT (campaign_id, scope, unit_id, openid)
        DO UPDATE SET paid_count = donor_tallies.paid_count + 1
        RETURNING scope, unit_id, paid_count
    """


def add_to_totals(rows: str) -> str:
    """SQL adding `rows` (campaign_id, scope, unit_id, shard, total_fen, donation_count,
    donor_count) to the totals."""
    return f"""
        INSERT INTO totals (campaign_id, scope, unit_id, shard, total_fen, donation_count,
                            donor_count)
        {rows}
        ON CONFLICT (campaign_id, scope, unit_id, shard) DO UPDATE SET
            total_fen = totals.total_fen + excluded.total_fen,
            donation_count = totals.donation_count + excluded.donation_count,
            donor_count = totals.donor_count + excluded.donor_count
    """


DONOR_IN = "CASE WHEN paid_count = 1 THEN 1 ELSE 0 END"
_DONOR_OUT = "CASE WHEN paid_count = 0 THEN -1 ELSE 0 END"

_ONE_DONATION = f"""(SELECT :campaign_id AS campaign_id, s.scope, s.unit_id, :openid AS openid
    FROM ({scopes_of_unit(":unit_id")}) AS s) AS donation"""
_COUNT_IN = text(tally_in(_ONE_DONATION))

_COUNT_OUT = text(f"""
    UPDATE donor_tallies SET paid_count = paid_count - 1
    WHERE campaign_id = :campaign_id AND openid = :openid
        AND (scope, unit_id) IN ({scopes_of_unit(":unit_id")})
    RETURNING scope, unit_id, paid_count
""")


def _in_one_statement(tally: str, donor_delta: str) -> TextClause:
    # PostgreSQL: tallies and totals in one round trip (the hot path of every payment).
    return text(f"""
        WITH tallied AS ({tally})
        {add_to_totals(f"SELECT :campaign_id, scope, unit_id, :shard, :amount, :n, "
                       f"{donor_delta} FROM tallied ORDER BY scope, unit_id")}
    """)


_ONE_STATEMENT = {
    1: _in_one_statement(_COUNT_IN.text, DONOR_IN),
    -1: _in_one_statement(_COUNT_OUT.text, _DONOR_OUT),
}


def count_paid(session: Session, *, donation_id: int, campaign_id: int, unit_id: int,
               openid: str, amount_fen: int, direction: int = 1) -> None:
    """Add (direction=1) or remove (-1) one paid donation to every total it touches.

    Must run inside the transaction that moves the donation into or out of paid.
    """
    direction = 1 if direction > 0 else -1
    params = {"campaign_id": campaign_id, "unit_id": unit_id, "openid": openid,
              "shard": shard_of(donation_id)}
    if is_postgres(session):
        session.execute(_ONE_STATEMENT[direction],
                        {**params, "amount": amount_fen * direction, "n": direction})
        return
    statement = _COUNT_IN if direction > 0 else _COUNT_OUT
    tallies = session.execute(statement, params).all()
    # Lock total rows in one order everywhere, so concurrent payments cannot deadlock.
    rows = sorted((str(t.scope), int(t.unit_id), _donor_delta(int(t.paid_count), direction))
                  for t in tallies)
    _add_to_totals(session, campaign_id, shard_of(donation_id), rows, amount_fen * direction,
                   direction)


def lower_total(session: Session, *, donation_id: int, campaign_id: int, unit_id: int,
                amount_fen: int) -> None:
    """Take a partial refund off total_fen in every scope the donation counts in; its counts
    and its donor's stay (the donation still counts). Inside the refund's transaction."""
    scopes = session.execute(text(scopes_of_unit(":unit_id")), {"unit_id": unit_id}).all()
    rows = sorted((str(s.scope), int(s.unit_id), 0) for s in scopes)
    _add_to_totals(session, campaign_id, shard_of(donation_id), rows, -amount_fen, 0)


def shard_of(donation_id: int) -> int:
    return donation_id % TOTAL_SHARDS


def _donor_delta(paid_count: int, direction: int) -> int:
    if direction > 0:
        return 1 if paid_count == 1 else 0
    return -1 if paid_count == 0 else 0


def _add_to_totals(session: Session, campaign_id: int, shard: int,
                   rows: list[tuple[str, int, int]], amount_fen: int, count_delta: int) -> None:
    values = "VALUES " + ", ".join(f"(:c, :s{i}, :u{i}, :shard, :amount, :n, :d{i})"
                                   for i in range(len(rows)))
    params: dict[str, object] = {"c": campaign_id, "shard": shard, "amount": amount_fen,
                                 "n": count_delta}
    for i, (scope, unit_id, donor_delta) in enumerate(rows):
        params.update({f"s{i}": scope, f"u{i}": unit_id, f"d{i}": donor_delta})
    session.execute(text(add_to_totals(values)), params)


@dataclass(frozen=True)
class Figures:
    total_fen: int = 0
    donation_count: int = 0
    donor_count: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"total_fen": self.total_fen, "donation_count": self.donation_count,
                "donor_count": self.donor_count}


ZERO = Figures()


def read_figures(session: Session, scope: Scope, campaign_ids: list[int],
                 unit_ids: list[int] | None = None) -> dict[tuple[int, int], Figures]:
    """Totals keyed by (campaign_id, unit_id); missing keys mean nothing was paid yet."""
    if not campaign_ids:
        return {}
    where = "scope = :scope AND campaign_id IN :campaigns"
    params: dict[str, object] = {"scope": scope, "campaigns": campaign_ids}
    expanding: list[BindParameter[Any]] = [bindparam("campaigns", expanding=True)]
    if unit_ids is not None:
        if not unit_ids:
            return {}
        where += " AND unit_id IN :units"
        params["units"] = unit_ids
        expanding.append(bindparam("units", expanding=True))
    statement = text(
        "SELECT campaign_id, unit_id, SUM(total_fen) AS total_fen, "
        "SUM(donation_count) AS donation_count, SUM(donor_count) AS donor_count FROM totals "
        f"WHERE {where} GROUP BY campaign_id, unit_id").bindparams(*expanding)
    return {(r.campaign_id, r.unit_id):
            Figures(int(r.total_fen), int(r.donation_count), int(r.donor_count))
            for r in session.execute(statement, params)}
