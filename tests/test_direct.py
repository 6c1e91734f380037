"""models.direct: statements straight to the driver on PostgreSQL, through SQLAlchemy on SQLite,
with the same rows, times and errors either way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import JSON, Enum, bindparam, insert, literal_column, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from models import Scope, Worker
from models.direct import DirectStatement
from models.tables import donations_table
from tests.helpers import Api, cut_pooled_connections, demo_tree

_WORKERS = Worker.__table__
_ADD = DirectStatement(insert(_WORKERS).values(
    openid=bindparam("openid"), created_at=bindparam("at"), last_login_at=bindparam("at"))
    .returning(_WORKERS.c.id, _WORKERS.c.created_at))
_READ = DirectStatement(select(_WORKERS.c.openid, _WORKERS.c.last_login_at.label("seen"))
                        .where(_WORKERS.c.openid == bindparam("openid")))


def test_rows_read_by_attribute_and_as_a_dict_with_utc_times(session: Any) -> None:
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # Were an aware time handed to the driver as it is, PostgreSQL would store it in the
        # session's zone: this one would be eight hours off.
        conn.exec_driver_sql("SET TIME ZONE 'Asia/Shanghai'")
    at = datetime(2026, 12, 2, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    added = _ADD.first(conn, {"openid": "o-direct", "at": at})
    row = _READ.first(conn, {"openid": "o-direct"})
    session.commit()
    assert added.created_at == at and added.created_at.tzinfo == UTC
    assert row.seen == at and row._asdict() == {"openid": "o-direct", "seen": at}
    stored = session.scalars(select(Worker).where(Worker.openid == "o-direct")).one()
    assert stored.last_login_at == at  # as the ORM reads it back
    assert _READ.first(session.connection(), {"openid": "o-nobody"}) is None
    assert _READ.rows(session.connection(), {"openid": "o-nobody"}) == []


def test_an_insert_takes_its_columns_defaults_set_in_python() -> None:
    statement = DirectStatement(insert(donations_table).values(
        out_trade_no=bindparam("out_trade_no")))
    plan = statement._compile(postgresql.psycopg.dialect())  # type: ignore[attr-defined]
    assert plan.defaults["paid_after_close"] is False
    assert plan.defaults["refunded_fen"] == 0 and plan.defaults["refund_reason"] == ""


@pytest.mark.parametrize("statement", [
    select(_WORKERS.c.id).where(_WORKERS.c.openid.in_(bindparam("openids", expanding=True))),
    select(_WORKERS.c.id).where(_WORKERS.c.openid == bindparam("o", callable_=lambda: "x")),
    # Types SQLAlchemy converts on the way (an Enum by name, JSON) would go to the driver as
    # they are: refused rather than sent differently.
    select(literal_column("'{}'", type_=JSON).label("doc")),
    select(_WORKERS.c.id).where(_WORKERS.c.openid == bindparam("kind", type_=Enum(Scope))),
])
def test_what_the_direct_path_would_send_differently_is_refused(statement: Any) -> None:
    with pytest.raises(ValueError, match="DirectStatement"):
        DirectStatement(statement)._compile(postgresql.psycopg.dialect())  # type: ignore[attr-defined]


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(session: Any) -> None:
    at = datetime(2026, 12, 2, tzinfo=UTC)
    _ADD.first(session.connection(), {"openid": "o-twice", "at": at})
    with pytest.raises(IntegrityError):
        _ADD.first(session.connection(), {"openid": "o-twice", "at": at})
    session.rollback()
    count = DirectStatement(text("SELECT count(*) FROM workers WHERE openid = :o"))
    assert count.scalar(session.connection(), {"o": "o-twice"}) == 0


def test_a_connection_the_database_dropped_is_not_used_again(api: Api, session: Any) -> None:
    demo_tree(session)
    token = api.login("alice")
    placed = api.order(token, unit="HC-A1").get_json()
    path = f"/api/donations/{placed['out_trade_no']}"
    cut = cut_pooled_connections(api.runtime.engine, session, 3)
    statuses = [api.get(path, token).status_code for _ in range(cut + 1)]
    # The first poll may meet a dead connection (5xx, the mini-program polls again); it is
    # thrown away with the rest of the pool, as dead as it, so no other poll meets one.
    assert statuses[0] in (200, 500) and statuses[1:] == [200] * cut
    assert api.get(path, token).get_json()["status"] == "pending"
