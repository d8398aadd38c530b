"""Filtered, paged listings: one place builds the WHERE clause and counts the total, so every
history (sessions, events, faults, audit, pilot logs) pages the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlite_utils import Database

import appliance.supervisor.storage.validate as validate

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int  # rows matching the filters, for "page 3 of 12"


@dataclass
class Where:
    """AND-ed conditions; a filter given as None is left out."""

    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, value: Any) -> Where:
        if value is not None:
            self.clauses.append(clause)
            self.params.append(value)
        return self

    def window(self, column: str, start: Any, end: Any) -> Where:
        """start <= column < end, either side optional."""
        self.add(f"{column} >= ?", validate.optional_timestamp("start", start))
        return self.add(f"{column} < ?", validate.optional_timestamp("end", end))

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1"


def paged(db: Database, table: str, where: Where, order: str, limit: Any, offset: Any,
          make: Callable[[dict[str, Any]], T]) -> Page[T]:
    limit, offset = validate.page(limit, offset)
    total = db.table(table).count_where(where.sql, where.params)
    rows = db.table(table).rows_where(where.sql, where.params, order_by=order, limit=limit, offset=offset)
    return Page([make(row) for row in rows], total)
