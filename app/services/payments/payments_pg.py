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
from datetime import datetime

from sqlalchemy import Engine, bindparam, text
from sqlalchemy.exc import DBAPIError

from app.services.payments.totals import DONOR_IN, add_to_totals, scopes_of_unit, tally_in
from models import TOTAL_SHARDS
from models.base import UTCDateTime
from models.direct import DirectStatement
from wechat import Transaction

_SQL = f"""
WITH paid AS (
    UPDATE donations SET status = 'paid', transaction_id = :tid, paid_at = :paid_at,
        reported_amount_fen = :amount, paid_after_close = (status = 'closed')
    WHERE out_trade_no = :otn AND status IN ('pending', 'closed') AND amount_fen = :amount
    RETURNING id, campaign_id, unit_id, openid, amount_fen, paid_after_close
), scopes AS (
    SELECT p.campaign_id, s.scope, s.unit_id, p.openid
    FROM paid p CROSS JOIN LATERAL ({scopes_of_unit("p.unit_id")}) AS s
), tallied AS ({tally_in("scopes")}
), counted AS ({add_to_totals(
    f"SELECT p.campaign_id, t.scope, t.unit_id, p.id % {TOTAL_SHARDS}, p.amount_fen, 1, "
    f"{DONOR_IN} FROM tallied t CROSS JOIN paid p ORDER BY t.scope, t.unit_id")}
    RETURNING 1
), flagged AS (
    INSERT INTO anomalies (kind, out_trade_no, detail, created_at, resolution)
    SELECT 'paid_after_close', :otn, :late_detail, :now, ''
    FROM paid WHERE paid_after_close
    RETURNING 1
), seen AS (
    -- A copy of a notification already recorded (before this statement began).
    SELECT 1 FROM donations
    WHERE out_trade_no = :otn AND transaction_id = :tid AND NOT EXISTS (SELECT 1 FROM paid)
), noted AS (
    INSERT INTO notifications (kind, received_at, remote_addr, headers, body, verdict,
                               out_trade_no, transaction_id, detail)
    SELECT :kind, :now, :addr, :headers, :body, verdict, :otn, :tid, ''
    FROM (SELECT CASE WHEN paid_after_close THEN 'paid_after_close' ELSE 'recorded' END
          FROM paid UNION ALL SELECT 'duplicate' FROM seen) AS outcome (verdict)
    RETURNING verdict
)
SELECT (SELECT verdict FROM noted) AS verdict, (SELECT count(*) FROM counted) AS totals_touched,
       (SELECT count(*) FROM flagged) AS flagged
"""
_ONE_STATEMENT = DirectStatement(text(_SQL).bindparams(
    bindparam("paid_at", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime())))


def record_notified_payment(engine: Engine, tx: Transaction, now: datetime, *, kind: str,
                            headers: dict[str, str], body: bytes, remote_addr: str) -> str | None:
    """'recorded', 'paid_after_close' or 'duplicate'; None when the general path must run.

    The statement goes straight to the driver (models.direct), in autocommit: it is the whole
    of a notification's work, and the SQL layer's own bookkeeping would cost about as much CPU
    again as the driver does."""
    if tx.trade_state != "SUCCESS" or tx.transaction_id is None or tx.amount_total is None:
        return None
    params = {
        "otn": tx.out_trade_no, "tid": tx.transaction_id, "amount": tx.amount_total,
        "paid_at": tx.success_time or now, "now": now, "kind": kind,
        "addr": remote_addr[:64], "headers": json.dumps(headers, ensure_ascii=False),
        "body": body, "late_detail": f"订单关闭后仍收到支付，已计入：{tx.transaction_id}",
    }
    try:
        verdict = _ONE_STATEMENT.alone(engine, params)[0][0]
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        # The database dropped a pooled connection (a restart, a failover), and the pool was
        # replaced with it: try once more on a new connection. Safe: had the statement
        # committed before the connection died, this copy finds the payment and says
        # 'duplicate'.
        verdict = _ONE_STATEMENT.alone(engine, params)[0][0]
    return str(verdict) if verdict is not None else None
