"""Use cases behind the console's customers table: read-only pages of plain rows.

The caller owns the session (one per read, opened in a worker) and may attach a
QueryCanceller to it so that typing again stops the query on the server.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from easyisp_core.repositories.customer_list import (
    CustomerListQuery,
    CustomerListRepository,
    CustomerRow,
    FirstPage,
)


def first_customer_page(session: Session, query: CustomerListQuery, limit: int = 100) -> FirstPage:
    """The row count and the first page of the customers matching `query`."""
    return CustomerListRepository(session).first_page(query, limit)


def next_customer_page(
    session: Session, query: CustomerListQuery, after: CustomerRow, limit: int = 100, *, dense: bool
) -> list[CustomerRow]:
    """The page after `after`, read the way first_customer_page decided (`dense`)."""
    return CustomerListRepository(session).next_page(query, after, limit, dense=dense)
