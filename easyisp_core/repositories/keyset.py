"""Keyset-paged, filtered lists of any table, declared once per entity (see lists.py).

The same reading rules as the customers list (customer_list.py): pages start after the last
row in (sort column, id) order, a filter is every typed word occurring (ILIKE, which trigram
indexes serve) in one of the listing's text columns, and counts are exact up to COUNT_CAP,
above it the planner's estimate. Rows are frozen dataclasses, safe on any thread.

A listing whose searched columns span a join (payments: their customer's name) cannot have
its filter served by one table's indexes, so a rare term meant a walk over every row. Such a
listing declares `indexed_search`: the ids matching a term, found through indexes. Like the
customers list, the capped count says whether matches are few ("sparse": read them through
`indexed_search` and sort them) or many ("dense": walk the ordered index, a page of matches
comes after a few hundred rows). The customers' trick (count the matches through the index
first) costs seconds here when a term is common (the union of every matching id is built
before the count stops), so such a listing first tests the first SAMPLE_ROWS rows in the
order asked for: many matches there means dense (and a count estimated from the sample).
"""

from __future__ import annotations

import enum
import ipaddress
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
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
    DENSE_MATCHES,
    STATEMENT_TIMEOUT_MS,
    RowCount,
)

# Trigram indexes find nothing shorter; such terms are only tested row by row.
_INDEXED_TERM = 3
# How many rows (in the order asked for) are tested to tell dense matches from sparse ones,
# and how many of them must match for dense: a page of 100 then comes within ~10,000 rows.
SAMPLE_ROWS = 5_000
DENSE_IN_SAMPLE = 15

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
    # How the following pages are read (see the module docstring); pass back to next_page.
    dense: bool = False


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
        indexed_search: Callable[[str], ColumnElement[bool]] | None = None,
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
        # term pattern (ILIKE, escaped) -> the rows matching it, found through indexes
        self.indexed_search = indexed_search
        self._fields = [f.name for f in fields(row_type)]  # type: ignore[arg-type]

    # Reading ---------------------------------------------------------------------------

    def first_page(self, session: Session, query: ListQuery, limit: int = 100) -> ListPage[RowT]:
        self._check(query)
        _limit_statement_time(session)
        dense = False
        if self.indexed_search is not None and query.text.strip():
            looked, matched = self._sample(session, query)
            if looked < SAMPLE_ROWS:
                # Every row was tested: an exact count, and walking them all is cheap.
                count, dense = RowCount(matched, exact=True), True
            elif matched >= DENSE_IN_SAMPLE:
                unfiltered = self.count(session, replace(query, text=""))
                count = RowCount(unfiltered.value * matched // looked, exact=False)
                dense = True
            else:
                count = self.count(session, query)
        else:
            count = self.count(session, query)
            dense = self._indexed_term(query) is not None and count.value > DENSE_MATCHES
        return ListPage(self.next_page(session, query, None, limit, dense=dense), count, dense)

    def next_page(
        self,
        session: Session,
        query: ListQuery,
        after: RowT | None,
        limit: int = 100,
        *,
        dense: bool = False,
    ) -> list[RowT]:
        self._check(query)
        _limit_statement_time(session)
        walk = dense and self.indexed_search is not None
        if walk:
            # Dense matches are read by walking the ordered index; left to its estimates the
            # planner sometimes joined and sorted every row instead (9 s for "wanjiru" over
            # 1.7 million payments, 0.5 s walking), so sorting is priced out for this read.
            session.execute(text("SET LOCAL enable_sort = off"))
        rows = [
            self.row_type(**{name: _plain(row._mapping[name]) for name in self._fields})
            for row in session.execute(self.page_statement(query, after, limit, dense=dense))
        ]
        if walk:
            session.execute(text("SET LOCAL enable_sort = on"))
        return rows

    def page_statement(
        self, query: ListQuery, after: RowT | None, limit: int, *, dense: bool = False
    ) -> Select[Any]:
        """The statement next_page runs (tests EXPLAIN it)."""
        statement = self.base.where(*self._filters(query, dense=dense))
        if after is not None:
            statement = statement.where(self._after(query, after))
        return statement.order_by(*self._order(query)).limit(limit)

    def count(self, session: Session, query: ListQuery) -> RowCount:
        counted = self.base.with_only_columns(literal(1)).where(*self._filters(query, dense=False))
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

    def _sample(self, session: Session, query: ListQuery) -> tuple[int, int]:
        """(rows tested, rows matching the typed words) among the first SAMPLE_ROWS rows in
        the order asked for: the rows a dense walk reads first."""
        words = self._text_filters(query, walk=True)
        match = and_(*words) if words else literal(True)
        sample = (
            self.base.with_only_columns(match.label("match"))
            .where(*self._filters(replace(query, text=""), dense=True))
            .order_by(*self._order(query))
            .limit(SAMPLE_ROWS)
            .subquery()
        )
        looked, matched = session.execute(
            select(func.count(), func.count().filter(sample.c.match))
        ).one()
        return int(looked), int(matched)

    # Building the statements -----------------------------------------------------------

    def _order(self, query: ListQuery) -> list[ColumnElement[Any]]:
        order = self.sorts[query.sort]
        if query.descending:
            return [order.desc(), self.id_column.desc()]
        return [order.asc(), self.id_column.asc()]

    def _text_filters(self, query: ListQuery, *, walk: bool = False) -> list[ColumnElement[bool]]:
        """Each typed word occurs in one of the searched columns. `walk`: in a form no trigram
        index serves, so the planner walks the ordered index and tests each row (dense
        matches) instead of collecting every match through the trigram index first."""
        columns = [cast(c, Text).concat("") if walk else cast(c, Text) for c in self.searched]
        return [
            or_(*(c.ilike(_like(term)) for c in columns)) for term in query.text.strip().split()
        ]

    def _check(self, query: ListQuery) -> None:
        if query.sort not in self.sorts:
            raise ValueError(f"cannot sort {self.row_type.__name__} by {query.sort!r}")
        unknown = {name for name, _value in query.options} - self.options.keys()
        if unknown:
            raise ValueError(f"unknown list options {sorted(unknown)}")

    def _indexed_term(self, query: ListQuery) -> str | None:
        """The longest typed word, when indexed_search can find it (else None)."""
        if self.indexed_search is None:
            return None
        longest = max(query.text.strip().split(), key=len, default="")
        return longest if len(longest) >= _INDEXED_TERM else None

    def _filters(self, query: ListQuery, *, dense: bool) -> list[ColumnElement[bool]]:
        filters: list[ColumnElement[bool]] = []
        if query.tenant_id is not None and self.tenant_column is not None:
            filters.append(self.tenant_column == query.tenant_id)
        for name, value in query.options:
            if value is not None:
                filters.append(self.options[name](value))
        filters.extend(self._text_filters(query, walk=dense and self.indexed_search is not None))
        indexed = self._indexed_term(query)
        if indexed is not None and not dense:
            # Few matches: found through the indexes, then tested and sorted (a few thousand
            # at most); the plain test above keeps the result the same in both ways.
            assert self.indexed_search is not None
            filters.append(self.indexed_search(_like(indexed.lower())))
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
