"""Time the Payments and Sessions list queries (keyset.Listing) on a big demo database.

    EASYISP_DATABASE_URL=postgresql://postgres@127.0.0.1/easyisp_bench_console \\
        .venv/bin/python bench/console_lists.py

Run by bench/console_table.py after the customers figures. For the tenant with the most
customers, per listing: first page (count + page), the next page (keyset), each sort and its
reverse (= jump to the last row), and filter-as-you-type keystroke by keystroke (p50/p95/max).
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.repositories.keyset import Listing, ListQuery
from easyisp_core.repositories.lists import PAYMENTS, SESSIONS

# Receipts, phones and names for payments; usernames, MACs and addresses for sessions.
PAYMENT_WORDS = ["wanjiru", "kamau", "0712 3", "tkr1", "2547123", "achieng o", "qzx"]
SESSION_WORDS = ["user0001", "wanj", "10.20.", "0a:1b", "kamau", "qzx"]


def _first_ms(sessions: sessionmaker[Session], listing: Listing[Any], query: ListQuery) -> float:
    """Wall time of a first page (count + rows) in its own session, as a worker reads it."""
    started = time.perf_counter()
    with session_scope(sessions) as session:
        listing.first_page(session, query)
    return (time.perf_counter() - started) * 1000


def _next_ms(
    sessions: sessionmaker[Session], listing: Listing[Any], query: ListQuery, after: Any
) -> float:
    started = time.perf_counter()
    with session_scope(sessions) as session:
        listing.next_page(session, query, after)
    return (time.perf_counter() - started) * 1000


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * share) - 1))]


def measure(sessions: sessionmaker[Session], tenant_id: uuid.UUID) -> None:
    for name, listing, default_sort, words, options in (
        ("payments", PAYMENTS, "created_at", PAYMENT_WORDS, [()]),
        ("sessions", SESSIONS, "started_at", SESSION_WORDS, [(("active", True),), ()]),
    ):
        for option in options:
            label = f"{name}{' (online now)' if option else ''}"

            def query(
                sort: str = default_sort,
                descending: bool = True,
                typed: str = "",
                option: tuple[tuple[str, Any], ...] = option,
            ) -> ListQuery:
                return ListQuery(sort, descending, typed, tenant_id, option)

            _first_ms(sessions, listing, query())  # warm up
            first = [_first_ms(sessions, listing, query()) for _ in range(5)]
            with session_scope(sessions) as session:
                page = listing.first_page(session, query())
            after = page.rows[-1] if page.rows else None
            following = [_next_ms(sessions, listing, query(), after) for _ in range(5)]
            print(
                f"{label}: {page.count.value:,} rows{'' if page.count.exact else ' (estimate)'}; "
                f"first page median {statistics.median(first):.1f} ms, "
                f"next page median {statistics.median(following):.1f} ms"
            )
            for sort in listing.sorts:
                newest = _first_ms(sessions, listing, query(sort, True))
                oldest = _first_ms(sessions, listing, query(sort, False))
                print(f"  sort by {sort:<12} desc {newest:8.1f} ms   asc (= jump to last row) "
                      f"{oldest:8.1f} ms")  # fmt: skip
            keystrokes: list[float] = []
            worst = ("", 0.0)
            for word in words:
                for end in range(1, len(word) + 1):
                    typed = word[:end]
                    took = _first_ms(sessions, listing, query(typed=typed))
                    keystrokes.append(took)
                    worst = max(worst, (typed, took), key=lambda pair: pair[1])
            print(
                f"  filter, {len(keystrokes)} keystrokes: p50 {statistics.median(keystrokes):.1f}"
                f" ms, p95 {_percentile(keystrokes, 0.95):.1f} ms, max {worst[1]:.1f} ms "
                f"({worst[0]!r})"
            )
