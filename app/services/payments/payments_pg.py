"""PostgreSQL's fast path for a payment notification: the whole of record_payment's common case
in ONE statement, run in autocommit (a single statement is its own transaction).

Payment notifications arrive in bursts at a campaign's launch, and on PostgreSQL much of their
cost is round trips. This statement does exactly what the general path does when a notification
moves an unpaid donation of the right amount into paid — mark it paid, count it in every total
it touches, store the notification (and flag a payment after close) — and stores a copy of one
already recorded as a duplicate. Anything else (disputes, unknown orders, races) changes nothing
and returns NULL, and the general path takes over. The Hypothesis and concurrency suites run
both paths on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from app.services.payments.totals import DONOR_IN, add_to_totals, scopes_of_unit, tally_in
from models import TOTAL_SHARDS
from wechat import Transaction

_ONE_STATEMENT = f"""
WITH paid AS (
    UPDATE donations SET status = 'paid', transaction_id = %(tid)s, paid_at = %(paid_at)s,
        reported_amount_fen = %(amount)s, paid_after_close = (status = 'closed')
    WHERE out_trade_no = %(otn)s AND status IN ('pending', 'closed') AND amount_fen = %(amount)s
    RETURNING id, campaign_id, unit_id, openid, amount_fen, paid_after_close
), scopes AS (
    SELECT p.campaign_id, s.scope, s.unit_id, p.openid
    FROM paid p CROSS JOIN LATERAL ({scopes_of_unit("p.unit_id")}) AS s
), tallied AS ({tally_in("scopes")}
), counted AS ({add_to_totals(
    f"SELECT p.campaign_id, t.scope, t.unit_id, p.id %% {TOTAL_SHARDS}, p.amount_fen, 1, "
    f"{DONOR_IN} FROM tallied t CROSS JOIN paid p ORDER BY t.scope, t.unit_id")}
    RETURNING 1
), flagged AS (
    INSERT INTO anomalies (kind, out_trade_no, detail, created_at, resolution)
    SELECT 'paid_after_close', %(otn)s, %(late_detail)s, %(now)s, ''
    FROM paid WHERE paid_after_close
    RETURNING 1
), seen AS (
    -- A copy of a notification already recorded (before this statement began).
    SELECT 1 FROM donations
    WHERE out_trade_no = %(otn)s AND transaction_id = %(tid)s AND NOT EXISTS (SELECT 1 FROM paid)
), noted AS (
    INSERT INTO notifications (kind, received_at, remote_addr, headers, body, verdict,
                               out_trade_no, transaction_id, detail)
    SELECT %(kind)s, %(now)s, %(addr)s, %(headers)s, %(body)s, verdict, %(otn)s, %(tid)s, ''
    FROM (SELECT CASE WHEN paid_after_close THEN 'paid_after_close' ELSE 'recorded' END
          FROM paid UNION ALL SELECT 'duplicate' FROM seen) AS outcome (verdict)
    RETURNING verdict
)
SELECT (SELECT verdict FROM noted) AS verdict, (SELECT count(*) FROM counted) AS totals_touched,
       (SELECT count(*) FROM flagged) AS flagged
"""


def record_notified_payment(engine: Engine, tx: Transaction, now: datetime, *, kind: str,
                            headers: dict[str, str], body: bytes, remote_addr: str) -> str | None:
    """'recorded', 'paid_after_close' or 'duplicate'; None when the general path must run."""
    if tx.trade_state != "SUCCESS" or tx.transaction_id is None or tx.amount_total is None:
        return None
    params = {
        "otn": tx.out_trade_no, "tid": tx.transaction_id, "amount": tx.amount_total,
        "paid_at": _naive_utc(tx.success_time or now), "now": _naive_utc(now), "kind": kind,
        "addr": remote_addr[:64], "headers": json.dumps(headers, ensure_ascii=False),
        "body": body, "late_detail": f"订单关闭后仍收到支付，已计入：{tx.transaction_id}",
    }
    try:
        verdict = _execute(engine, params)
    except _ConnectionLostError:
        # The database dropped a pooled connection (a restart, a failover), and the rest of the
        # pool is as dead: start a new pool and try once more. Safe: had the statement committed
        # before the connection died, this copy finds the payment and says 'duplicate'.
        engine.dispose()
        verdict = _execute(engine, params)
    return str(verdict) if verdict is not None else None


class _ConnectionLostError(Exception):
    pass


def _execute(engine: Engine, params: dict[str, Any]) -> Any:
    """Run the statement on a pooled psycopg connection, in autocommit (one statement is its
    own transaction), and hand the connection back to the pool as it was found.

    Straight to the driver: the statement is the whole of a notification's work, and the SQL
    layer's own bookkeeping would cost about as much CPU again as the driver does.
    """
    pooled = engine.raw_connection()
    driver: Any = pooled.driver_connection  # a psycopg.Connection
    try:
        driver.autocommit = True
        try:
            return driver.execute(_ONE_STATEMENT, params, prepare=True).fetchone()[0]
        finally:
            if not driver.broken:
                driver.autocommit = False  # as every other user of the pool expects
    except Exception as exc:
        if driver.broken:
            pooled.invalidate()  # a dead connection must not go back to the pool
            raise _ConnectionLostError() from exc
        raise
    finally:
        pooled.close()


def _naive_utc(moment: datetime) -> datetime:
    """As models.base.UTCDateTime stores it (and, like it, refusing a naive time)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given where UTC is required")
    return moment.astimezone(UTC).replace(tzinfo=None)
