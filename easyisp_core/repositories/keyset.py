"""Keyset-paged, filtered lists of any table, declared once per entity (see lists.py).

The same reading rules as the customers list (customer_list.py), for tables that need no
trigram tuning: pages start after the last row in (sort column, id) order, a filter is every
typed word occurring in one of the listing's text columns, and counts are exact up to
COUNT_CAP, above it the planner's estimate. Rows are frozen dataclasses, safe on any thread.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session

from easyisp_core.repositories.customer_list import (
    COUNT_CAP,
    STATEMENT_TIMEOUT_MS,
    RowCount,
)

RowT = TypeVar("RowT")

_ADDRESSES = (
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
)


@dataclass(frozen=True)
class ListQuery:
    """What the operator asked for: an order, a direction, a filter text and a few switches."""

    sort: str
    descending: bool = False
    text: str = ""
    # None: every row the connection may see (row-level security narrows a staff login).
    tenant_id: uuid.UUID | None = None
    # Named extra filters the listing offers (e.g. "active" sessions), by name → value.
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)


@dataclass(frozen=True)
class ListPage(Generic[RowT]):
    rows: list[RowT]
    count: RowCount


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _plain(value: Any) -> Any:
    # Enum members and addresses (INET) cross to the console as their stored text.
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, _ADDRESSES):
        return str(value)
    return value


class Listing(Generic[RowT]):
    """One entity's list: the columns it selects (labelled as the row's fields), how it sorts,
    which columns a filter searches, and the extra filters it understands."""

    def __init__(
        self,
        *,
        row_type: type[RowT],
        base: Any,
        id_column: Any,
        tenant_column: Any,
        sorts: Mapping[str, Any],
        searched: Sequence[Any],
        nullable_sorts: frozenset[str] = frozenset(),
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.row_type = row_type
        self.base: Select[Any] = base
        self.id_column = id_column
        self.tenant_column = tenant_column
        self.sorts = dict(sorts)
        self.searched = tuple(searched)
        self.nullable_sorts = nullable_sorts
        # name -> function(value) -> filter expression
        self.options = dict(options or {})
        self._fields = [f.name for f in fields(row_type)]  # type: ignore[arg-type]

    # Reading ---------------------------------------------------------------------------

    def first_page(self, session: Session, query: ListQuery, limit: int = 100) -> ListPage[RowT]:
        self._check(query)
        _limit_statement_time(session)
        return ListPage(self.next_page(session, query, None, limit), self.count(session, query))

    def next_page(
        self, session: Session, query: ListQuery, after: RowT | None, limit: int = 100
    ) -> list[RowT]:
        self._check(query)
        _limit_statement_time(session)
        statement = self.base.where(*self._filters(query))
        if after is not None:
            statement = statement.where(self._after(query, after))
        order = self.sorts[query.sort]
        if query.descending:
            statement = statement.order_by(order.desc(), self.id_column.desc())
        else:
            statement = statement.order_by(order.asc(), self.id_column.asc())
        return [
            self.row_type(**{name: _plain(row._mapping[name]) for name in self._fields})
            for row in session.execute(statement.limit(limit))
        ]

    def count(self, session: Session, query: ListQuery) -> RowCount:
        counted = self.base.with_only_columns(literal(1)).where(*self._filters(query))
        capped = counted.limit(COUNT_CAP + 1)
        found = int(session.scalar(select(func.count()).select_from(capped.subquery())) or 0)
        if found <= COUNT_CAP:
            return RowCount(found, exact=True)
        compiled = counted.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        plan = session.scalar(text(f"EXPLAIN (FORMAT JSON) {compiled}"))
        document = json.loads(plan) if isinstance(plan, str) else plan
        return RowCount(max(int(document[0]["Plan"]["Plan Rows"]), COUNT_CAP + 1), exact=False)

    # Building the statements -----------------------------------------------------------

    def _check(self, query: ListQuery) -> None:
        if query.sort not in self.sorts:
            raise ValueError(f"cannot sort {self.row_type.__name__} by {query.sort!r}")
        unknown = {name for name, _value in query.options} - self.options.keys()
        if unknown:
            raise ValueError(f"unknown list options {sorted(unknown)}")

    def _filters(self, query: ListQuery) -> list[ColumnElement[bool]]:
        filters: list[ColumnElement[bool]] = []
        if query.tenant_id is not None and self.tenant_column is not None:
            filters.append(self.tenant_column == query.tenant_id)
        for name, value in query.options:
            if value is not None:
                filters.append(self.options[name](value))
        for term in query.text.strip().lower().split():
            pattern = _like(term)
            filters.append(or_(*(func.lower(cast(c, Text)).like(pattern) for c in self.searched)))
        return filters

    def _after(self, query: ListQuery, last: RowT) -> ColumnElement[bool]:
        column = self.sorts[query.sort]
        value = getattr(last, query.sort)
        last_id = getattr(last, "id")  # noqa: B009 - RowT is any dataclass with an id
        ident = self.id_column
        if query.sort not in self.nullable_sorts:
            bound = tuple_(literal(value, column.type), literal(last_id, ident.type))
            if query.descending:
                return tuple_(column, ident) < bound
            return tuple_(column, ident) > bound
        # PostgreSQL puts NULLs last ascending and first descending; the keyset follows suit.
        if query.descending:
            if value is None:
                return or_(column.is_not(None), and_(column.is_(None), ident < last_id))
            return or_(column < value, and_(column == value, ident < last_id))
        if value is None:
            return and_(column.is_(None), ident > last_id)
        return or_(column > value, and_(column == value, ident > last_id), column.is_(None))


def _limit_statement_time(session: Session) -> None:
    session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
