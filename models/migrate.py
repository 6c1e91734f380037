"""Create or upgrade the schema with Alembic, configured in code (no alembic.ini needed)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@functools.cache
def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


@dataclass(frozen=True)
class SchemaState:
    reachable: bool
    revision: str | None  # the database's, when reachable
    expected: str | None

    @property
    def current(self) -> bool:
        return self.reachable and self.revision == self.expected

    def describe(self) -> str:
        if not self.reachable:
            return "unreachable"
        if self.current:
            return f"schema current ({self.expected})"
        return (f"schema {self.revision or 'missing'}, this code needs {self.expected}: "
                "run `warmfund init`")


def schema_state(engine: Engine) -> SchemaState:
    """Whether the database answers, and whether its schema is the one this code expects."""
    try:
        revision = current_revision(engine)
    except SQLAlchemyError:
        return SchemaState(False, None, head_revision())
    return SchemaState(True, revision, head_revision())
