"""The customers list of the console: keyset pages in a chosen order, filtered, with a row count.

Built around what the indexes can return in order (bench/console_table.py measures it):
- no filter: keyset pages over (sort column, id), the next page starts after the last row;
- a filter: every typed term must occur in the generated lower-case `search` column (name,
  username, account number, phone). A capped count through the GIN trigram index tells
  whether the matches are few ("sparse": the trigram index finds them all, sorting a few
  thousand rows is cheap) or many ("dense": walking the ordered index and testing each row
  reaches a page of matches after a few hundred rows). Ordering every match of a common term
  would cost a second on a million rows; neither path does that.
  The count and the sparse path find the matches with `easyisp_customers_matching` (0025):
  under row-level security a staff login's LIKE cannot use the trigram index (1.4 s a
  keystroke on 800,000 customers), the definer function can, and names only rows the
  caller may read.
Counts are never count(*) of the whole table per keystroke: exact up to COUNT_CAP, else the
planner's estimate.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Text,
    Uuid,
    and_,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session

from easyisp_core.models import Customer, Package

# Sort keys the console offers, and the column each one orders by.
SORT_COLUMNS: dict[str, Any] = {
    "full_name": Customer.full_name,
    "username": Customer.username,
    "account_number": Customer.account_number,
    "expires_at": Customer.expires_at,
    "status": Customer.status,
    "created_at": Customer.created_at,
}
NULLABLE_SORTS = frozenset({"expires_at"})

# Exact counts stop here; above it the count is the planner's estimate.
COUNT_CAP = 5_000
# More matches than this and the ordered index walk beats sorting every match (≈ sqrt(page × rows)).
DENSE_MATCHES = 3_000
# A safety net under the console's own cancel: no list query holds a connection longer.
STATEMENT_TIMEOUT_MS = 30_000

_PHONE_FRAGMENT = re.compile(r"^[0-9][0-9 ]*$")


@dataclass(frozen=True)
class CustomerRow:
    """One line of the customers table: plain data, safe to hand to any thread."""

    id: uuid.UUID
    account_number: str
    full_name: str
    username: str
    phone: str | None
    package_name: str | None
    status: str
    expires_at: datetime | None
    wallet_balance: Decimal
    created_at: datetime


@dataclass(frozen=True)
class CustomerListQuery:
    """What the operator asked for: an order, a direction and a filter text."""

    sort: str = "full_name"
    descending: bool = False
    text: str = ""
    # None: every customer the connection may see (row-level security narrows a staff login).
    tenant_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if self.sort not in SORT_COLUMNS:
            raise ValueError(f"cannot sort customers by {self.sort!r}")


@dataclass(frozen=True)
class RowCount:
    value: int
    exact: bool


@dataclass(frozen=True)
class FirstPage:
    rows: list[CustomerRow]
    count: RowCount
    # How the following pages are read (see the module docstring); pass back to next_page.
    dense: bool


def search_terms(raw: str) -> list[str]:
    """The fragments each customer must contain, normalised like the `search` column.

    A phone typed the way people say it ("0712 345 678", "0712") is matched against the stored
    254… form; other words each have to occur somewhere (name, username, account number)."""
    cleaned = raw.strip().lower()
    if not cleaned:
        return []
    if _PHONE_FRAGMENT.match(cleaned):
        digits = cleaned.replace(" ", "")
        if digits.startswith("0") and len(digits) > 1:
            digits = "254" + digits[1:]
        return [digits]
    return cleaned.split()


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _patterns(query: CustomerListQuery) -> list[str]:
    """LIKE patterns of the typed terms, the longest (likely the rarest) first: the matching
    function looks the first one up in the trigram index and tests the rest on its rows."""
    terms = sorted(search_terms(query.text), key=len, reverse=True)
    return [_like_pattern(term) for term in terms]


def _matching(query: CustomerListQuery, *, cap: int | None) -> Any:
    """easyisp_customers_matching(patterns, tenant, cap): the ids of the matching customers."""
    return func.easyisp_customers_matching(
        literal(_patterns(query), ARRAY(Text)),
        literal(query.tenant_id, Uuid),
        literal(cap, Integer),
    )


class CustomerListRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def first_page(self, query: CustomerListQuery, limit: int = 100) -> FirstPage:
        """The count, then the first page, read the way the count says is fastest."""
        self._limit_statement_time()
        count = self.count(query)
        dense = bool(search_terms(query.text)) and count.value > DENSE_MATCHES
        return FirstPage(self.next_page(query, None, limit, dense=dense), count, dense)

    def next_page(
        self,
        query: CustomerListQuery,
        after: CustomerRow | None,
        limit: int = 100,
        *,
        dense: bool = False,
    ) -> list[CustomerRow]:
        """The `limit` rows following `after` (the last row of the previous page) in order."""
        self._limit_statement_time()
        statement = self._select(query, dense=dense)
        if after is not None:
            statement = statement.where(self._after(query, after))
        order = SORT_COLUMNS[query.sort]
        if query.descending:
            statement = statement.order_by(order.desc(), Customer.id.desc())
        else:
            statement = statement.order_by(order.asc(), Customer.id.asc())
        return [
            CustomerRow(
                id=r.id,
                account_number=r.account_number,
                full_name=r.full_name,
                username=r.username,
                phone=r.phone,
                package_name=r.package_name,
                status=str(r.status),
                expires_at=r.expires_at,
                wallet_balance=r.wallet_balance,
                created_at=r.created_at,
            )
            for r in self.session.execute(statement.limit(limit))
        ]

    def count(self, query: CustomerListQuery) -> RowCount:
        """Exact up to COUNT_CAP matches, else an estimate (the planner's, never below the cap)."""
        if search_terms(query.text):
            capped = select(_matching(query, cap=COUNT_CAP + 1))
        else:
            capped = (
                select(literal(1)).select_from(Customer).where(*self._filters(query, dense=False))
            ).limit(COUNT_CAP + 1)
        found = int(self.session.scalar(select(func.count()).select_from(capped.subquery())) or 0)
        if found <= COUNT_CAP:
            return RowCount(found, exact=True)
        return RowCount(max(self._estimate(query), COUNT_CAP + 1), exact=False)

    # Building the statements ---------------------------------------------------------

    def _select(self, query: CustomerListQuery, *, dense: bool) -> Any:
        return (
            select(
                Customer.id,
                Customer.account_number,
                Customer.full_name,
                Customer.username,
                Customer.phone,
                Package.name.label("package_name"),
                Customer.status,
                Customer.expires_at,
                Customer.wallet_balance,
                Customer.created_at,
            )
            .outerjoin(Package, Package.id == Customer.package_id)
            .where(*self._filters(query, dense=dense))
        )

    def _filters(self, query: CustomerListQuery, *, dense: bool) -> list[ColumnElement[bool]]:
        filters: list[ColumnElement[bool]] = []
        if query.tenant_id is not None:
            filters.append(Customer.tenant_id == query.tenant_id)
        if not search_terms(query.text):
            return filters
        if dense:
            # Dense matches: the same test in a form the trigram index cannot serve, so the
            # planner walks the ordered index and stops after a page instead of sorting every
            # match.
            filters.extend(self._like(query, Customer.search.concat("")))
        else:
            filters.append(Customer.id.in_(select(_matching(query, cap=None))))
        return filters

    @staticmethod
    def _like(query: CustomerListQuery, searched: Any) -> list[ColumnElement[bool]]:
        return [searched.like(pattern, escape="\\") for pattern in _patterns(query)]

    def _after(self, query: CustomerListQuery, last: CustomerRow) -> ColumnElement[bool]:
        column = SORT_COLUMNS[query.sort]
        value = getattr(last, query.sort)
        if query.sort not in NULLABLE_SORTS:
            if query.descending:
                return tuple_(column, Customer.id) < tuple_(literal(value, column.type), last.id)
            return tuple_(column, Customer.id) > tuple_(literal(value, column.type), last.id)
        # PostgreSQL puts NULLs last ascending and first descending; the keyset follows suit.
        if query.descending:
            if value is None:
                return or_(column.is_not(None), and_(column.is_(None), Customer.id < last.id))
            return or_(column < value, and_(column == value, Customer.id < last.id))
        if value is None:
            return and_(column.is_(None), Customer.id > last.id)
        return or_(column > value, and_(column == value, Customer.id > last.id), column.is_(None))

    def _estimate(self, query: CustomerListQuery) -> int:
        # The planner's estimate from the search column's statistics (the function's rows
        # are a fixed guess).
        tenant = [Customer.tenant_id == query.tenant_id] if query.tenant_id is not None else []
        statement = (
            select(literal(1))
            .select_from(Customer)
            .where(*tenant, *self._like(query, Customer.search))
        )
        compiled = statement.compile(
            dialect=self.session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        plan = self.session.scalar(text(f"EXPLAIN (FORMAT JSON) {compiled}"))
        document = json.loads(plan) if isinstance(plan, str) else plan
        return int(document[0]["Plan"]["Plan Rows"])

    def _limit_statement_time(self) -> None:
        self.session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))


def sort_keys() -> Sequence[str]:
    return tuple(SORT_COLUMNS)
