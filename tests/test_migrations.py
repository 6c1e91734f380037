"""Migrations: the upgraded schema is the models' schema, and 0002 keeps every total's figures
when it splits totals into shards (and when it folds them back)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, make_url, text

from models import Base
from models.database import make_engine
from models.migrate import alembic_config, upgrade
from tests.helpers import postgres_database


@pytest.fixture
def scratch(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own, of the same kind as the suite's."""
    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
        yield engine
        engine.dispose()
        return
    with postgres_database(database_url, f"{make_url(database_url).database}_scratch") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def test_upgraded_schema_is_the_models_schema(scratch: Engine) -> None:
    upgrade(scratch)
    with scratch.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []
    # compare_metadata leaves primary keys and server defaults alone: check the shards' own.
    totals = inspect(scratch)
    assert totals.get_pk_constraint("totals")["constrained_columns"] == [
        "campaign_id", "scope", "unit_id", "shard"]
    shard = next(c for c in totals.get_columns("totals") if c["name"] == "shard")
    assert str(shard["default"]).split("::")[0].strip("'") == "0" and not shard["nullable"]


def _totals(engine: Engine) -> list[tuple[int, str, int, int, int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT campaign_id, scope, unit_id, SUM(total_fen), SUM(donation_count), "
            "SUM(donor_count) FROM totals GROUP BY campaign_id, scope, unit_id "
            "ORDER BY campaign_id, scope, unit_id"))
        return [tuple(int(v) if not isinstance(v, str) else v for v in r) for r in rows]


def test_shards_keep_every_total_both_ways(scratch: Engine) -> None:
    upgrade(scratch, "0001")
    with scratch.begin() as conn:
        conn.execute(text(
            "INSERT INTO campaigns (id, code, name, amount_fen, status, goal_fen, description, "
            "created_at) VALUES (1, 'one-yuan', '一元捐', 100, 'open', 0, '', CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO totals (campaign_id, scope, unit_id, total_fen, donation_count, "
            "donor_count) VALUES (1, 'campaign', 0, 1200, 5, 3), (1, 'unit', 7, 300, 2, 1)"))
    before = _totals(scratch)
    upgrade(scratch, "0002")
    assert _totals(scratch) == before
    with scratch.begin() as conn:
        conn.execute(text(
            "INSERT INTO totals (campaign_id, scope, unit_id, shard, total_fen, donation_count, "
            "donor_count) VALUES (1, 'campaign', 0, 3, 100, 1, 1)"))
    command.downgrade(alembic_config(scratch), "0001")
    assert _totals(scratch) == [(1, "campaign", 0, 1300, 6, 4), (1, "unit", 7, 300, 2, 1)]
    with scratch.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM totals")).scalar() == 2
