"""Alembic environment: the engine is handed in by models.migrate (or built from -x url=...)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import models.refunds  # noqa: F401  (registers the tables on Base.metadata)
import models.tables  # noqa: F401
from models.base import Base

config = context.config


def _engine():
    engine = config.attributes.get("engine")
    if engine is None:
        engine = create_engine(context.get_x_argument(as_dictionary=True)["url"])
    return engine


def run_migrations() -> None:
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
