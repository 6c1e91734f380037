"""Keyset paging: the API's lists, newest first behind a cursor, and the batches that long jobs
read one after another. Never OFFSET: a page costs the same however deep it is."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import Row, Select, SQLColumnExpression
from sqlalchemy.orm import Session

from app.services.errors import InvalidRequestError
from app.services.numbers import whole_number

R = TypeVar("R")
Ts = TypeVarTuple("Ts")


def decode_cursor(cursor: str) -> int:
    """A page cursor as the API hands it out (the last id seen)."""
    value = whole_number(cursor)
    if value is None:
        raise InvalidRequestError("分页参数 cursor 无效")
    return value


def _row_id(row: Any) -> int:
    return int(row.id)


def newest_first(session: Session, query: Select[*Ts], id_column: SQLColumnExpression[int],
                 cursor: str | None, limit: int,
                 last_id: Callable[[Row[*Ts]], int] = _row_id) -> tuple[list[Row[*Ts]], str | None]:
    """Up to `limit` rows of `query`, highest `id_column` first, below the id `cursor` names;
    and the cursor of the following page, None on the last. `last_id` reads a row's id."""
    query = query.order_by(id_column.desc()).limit(limit + 1)
    if cursor:
        query = query.where(id_column < decode_cursor(cursor))
    rows = list(session.execute(query).all())
    page = rows[:limit]
    return page, str(last_id(page[-1])) if len(rows) > limit else None


def batches(fetch: Callable[[int], Sequence[R]],
            key: Callable[[R], int] = _row_id) -> Iterator[Sequence[R]]:
    """Each batch `fetch(after)` gives, `after` being the key of the last row before it (0 at
    first), until one comes back empty."""
    after = 0
    while batch := fetch(after):
        yield batch
        after = key(batch[-1])
