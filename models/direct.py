"""Statements a donation runs on every request, straight to the driver on PostgreSQL.

A donor's requests each run a few one-row statements, and on PostgreSQL SQLAlchemy's execution
machinery (the execution context, the result object, the cache key) costs more CPU a statement
than psycopg's own work does (bench/statements.py: straight to psycopg ≈ 0.55 of the CPU). A
DirectStatement is a Core statement compiled once for PostgreSQL and run on the connection's
psycopg cursor as a prepared statement (psycopg prepares it on each pooled connection the first
time, and again after a rollback of a transaction on that connection, which forgets them).
models.base.UTCDateTime (any TypeDecorator) converts its parameters and columns as SQLAlchemy
would have; a type that SQLAlchemy would convert in any other way is refused when compiled. On
SQLite it runs through SQLAlchemy like any statement. Either way a row reads by attribute and by
`_asdict()`.

The statement runs on the Connection it is given, so inside a session's transaction it is part
of that transaction, and in autocommit (models.database.statements_apart) it commits alone. A
driver error is raised as SQLAlchemy would raise it (IntegrityError, OperationalError, ...).
When the connection died, as SQLAlchemy does, it is thrown away and so is the rest of the pool
(a database restart leaves every pooled connection dead), and the error says
connection_invalidated.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    Engine,
    Enum,
    Integer,
    LargeBinary,
    String,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.sqltypes import NullType

from models.database import WRITE_OPTION

_Convert = Callable[[Any], Any]
# Types psycopg hands over exactly as SQLAlchemy would (Boolean's processor only checks that a
# bool was given); NullType: a text() parameter nobody typed, passed as it is by both. Not an
# Enum, though it is a String: SQLAlchemy sends its members by name.
_AS_THEY_ARE = (String, Integer, Boolean, Date, LargeBinary, NullType)


@dataclass
class _Plan:
    """The statement as PostgreSQL gets it, and what to do to its values on the way."""

    sql: str
    defaults: dict[str, Any]  # values the statement carries itself (literals bound in Core)
    binds: tuple[tuple[str, _Convert], ...]
    columns: tuple[tuple[int, _Convert], ...]
    answered: bool = False  # run once, so `row` is known
    # A namedtuple class made from the first answer's column names (psycopg builds its
    # description anew each time it is read); None for a statement that answers with no rows.
    row: Any = None


class DirectStatement:
    def __init__(self, statement: Executable) -> None:
        self._statement = statement
        self._plan: _Plan | None = None

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        return self._run(conn, params)[0]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        rows = self._run(conn, params)[0]
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        row = self.first(conn, params)
        return row[0] if row is not None else None

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        return self._run(conn, params)[1]

    def alone(self, engine: Engine, params: Mapping[str, Any]) -> list[Any]:
        """Run by itself and committed with it (it must be a statement that is whole alone),
        on a pooled connection of its own: on PostgreSQL in autocommit, one round trip, the
        connection handed back as it was found; on SQLite in a write transaction."""
        if engine.dialect.name != "postgresql":
            with engine.connect() as conn, conn.execution_options(
                    **{WRITE_OPTION: True}).begin() as tx:
                return self.rows(tx.connection, params)
        plan = self._plan or self._compile(engine.dialect)
        try:
            pooled = engine.raw_connection()
        except psycopg.Error as exc:
            raise _translated(plan, params, exc, engine, lost=False) from exc
        driver: Any = pooled.driver_connection  # a psycopg.Connection
        try:
            driver.autocommit = True
            try:
                return self._on_driver(plan, driver, params)[0]
            finally:
                if not driver.broken:
                    driver.autocommit = False  # as every other user of the pool expects
        except psycopg.Error as exc:
            if driver.broken:
                pooled.invalidate()
            raise _translated(plan, params, exc, engine, lost=driver.broken) from exc
        finally:
            pooled.close()

    def _run(self, conn: Connection, params: Mapping[str, Any]) -> tuple[list[Any], int]:
        if conn.dialect.name != "postgresql":
            result: Any = conn.execute(self._statement, params)
            rows = list(result) if result.returns_rows else []
            return rows, result.rowcount
        plan = self._plan or self._compile(conn.dialect)
        driver: Any = conn.connection.driver_connection  # a psycopg.Connection
        try:
            return self._on_driver(plan, driver, params)
        except psycopg.Error as exc:
            if driver.broken:
                conn.invalidate(exc)
            raise _translated(plan, params, exc, conn.engine, lost=driver.broken) from exc

    def _on_driver(self, plan: _Plan, driver: Any,
                   params: Mapping[str, Any]) -> tuple[list[Any], int]:
        values = {**plan.defaults, **params}
        for name, convert in plan.binds:
            values[name] = convert(values[name])
        cursor = driver.execute(plan.sql, values, prepare=True)
        if not plan.answered:
            description = cursor.description
            plan.row = description and namedtuple(
                "Row", [column.name for column in description])
            plan.answered = True
        found = cursor.fetchall() if plan.row is not None else []
        return self._rows(plan, found), cursor.rowcount

    @staticmethod
    def _rows(plan: _Plan, found: list[Any]) -> list[Any]:
        if not found:
            return []
        make = plan.row._make
        if not plan.columns:
            return [make(row) for row in found]
        rows = []
        for row in found:
            values = list(row)
            for index, convert in plan.columns:
                values[index] = convert(values[index])
            rows.append(make(values))
        return rows

    def _compile(self, dialect: Dialect) -> _Plan:
        compiled: Any = self._statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        names, binds = compiled.bind_names, compiled.binds
        for bind in binds.values():
            if bind.expanding or bind.callable is not None:
                raise ValueError(f"a DirectStatement cannot take {bind.key} (a list or callable)")
        columns = _columns(self._statement)
        _refuse_converted_types([bind.type for bind in binds.values()]
                                + [column.type for column in columns])
        self._plan = _Plan(
            sql=compiled.string,
            defaults={**{names[bind]: bind.value for bind in binds.values() if not bind.required},
                      **_column_defaults(compiled)},
            binds=tuple((names[bind], _converter(bind.type.process_bind_param, dialect))
                        for bind in binds.values() if isinstance(bind.type, TypeDecorator)),
            columns=tuple((index, _converter(column.type.process_result_value, dialect))
                          for index, column in enumerate(columns)
                          if isinstance(column.type, TypeDecorator)))
        return self._plan


def _translated(plan: _Plan, params: Mapping[str, Any], exc: psycopg.Error, engine: Engine, *,
                lost: bool) -> Exception:
    """A psycopg error as SQLAlchemy raises it. When the connection died, the rest of the pool
    goes too: SQLAlchemy does the same on a disconnect, since a database restart leaves every
    pooled connection dead."""
    if lost:
        engine.dispose()
    return DBAPIError.instance(plan.sql, params, exc, psycopg.Error,
                               connection_invalidated=lost)


def _refuse_converted_types(types: list[Any]) -> None:
    for type_ in types:
        if isinstance(type_, Enum) or not isinstance(type_, (TypeDecorator, *_AS_THEY_ARE)):
            raise ValueError(f"a DirectStatement does not convert {type(type_).__name__}")


def _column_defaults(compiled: Any) -> dict[str, Any]:
    """An INSERT's columns that take a default set in Python (SQLAlchemy's execution context
    would compute them): scalar defaults only, which is all a statement here needs."""
    defaults = {}
    for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
        default = column.default if column in compiled.insert_prefetch else column.onupdate
        if default is None or not default.is_scalar:
            raise ValueError(f"a DirectStatement cannot compute {column.key}'s default")
        defaults[column.key] = default.arg
    return defaults


def _columns(statement: Executable) -> list[Any]:
    """The columns the statement answers with, in order (none known for text())."""
    return list(getattr(statement, "exported_columns", ()))


def _converter(method: Callable[[Any, Dialect], Any], dialect: Dialect) -> _Convert:
    return lambda value: method(value, dialect)
