"""Use cases behind the console's entity tables: read-only keyset pages of plain rows.

The caller owns the session (one per read, opened in a worker) and may attach a
QueryCanceller to it so that typing again stops the query on the server.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from easyisp_core.repositories import mpesa_lists, office_lists
from easyisp_core.repositories.keyset import Listing, ListPage, ListQuery
from easyisp_core.repositories.lists import LISTINGS as OPERATIONS

LISTINGS: dict[str, Listing[Any]] = {
    **OPERATIONS,
    "invoices": office_lists.INVOICES,
    "expenses": office_lists.EXPENSES,
    "accounts": office_lists.ACCOUNTS,
    "payment_gateways": office_lists.PAYMENT_GATEWAYS,
    "sms_gateways": office_lists.SMS_GATEWAYS,
    "sms_log": office_lists.SMS_LOG,
    "vpn_peers": office_lists.VPN_PEERS,
    "tenants": office_lists.TENANTS,
    "mpesa_suspense": mpesa_lists.SUSPENSE,
    "mpesa_review": mpesa_lists.REVIEW,
}


def first_list_page(
    session: Session, listing: str, query: ListQuery, limit: int = 100
) -> ListPage[Any]:
    """The row count and the first page of `listing` ("packages", "routers", …)."""
    return LISTINGS[listing].first_page(session, query, limit)


def next_list_page(
    session: Session,
    listing: str,
    query: ListQuery,
    after: Any,
    limit: int = 100,
    *,
    dense: bool = False,
) -> list[Any]:
    """The page after `after` (the last row of the previous page); `dense` as the first
    page said (ListPage.dense)."""
    return LISTINGS[listing].next_page(session, query, after, limit, dense=dense)
