"""Time the console's customers table queries on a big demo database.

    EASYISP_DATABASE_URL=postgresql://postgres@127.0.0.1/easyisp_bench_console \\
        .venv/bin/python bench/console_table.py

Load the database first (kept): bench/demo_bulk.py --customers 1000000 --database
easyisp_bench_console --keep. Measures what the table model's workers run (the list
repository, one session per read) for the tenant with the most customers: time to first
page (count + page), filter-as-you-type per keystroke (p50/p95), sort by each column, jump
to the last row (the first page in reverse order), and this process's peak RSS; the first
page and the filter again as the tenant's demo ADMIN (row-level security on). Then, unless
--no-lag, bench/console_lag.py measures the event-loop lag of the real pages doing the same.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.repositories.customer_list import (
    SORT_COLUMNS,
    CustomerListQuery,
    CustomerListRepository,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_lag import run as run_lag
from console_lists import measure as measure_lists

WORDS = ["wanjiru", "kamau", "otieno", "0712 3", "user0001", "achieng o", "mwangi j"]


def measure_customers(
    sessions: sessionmaker[Session], tenant_id: uuid.UUID, who: str, *, sorts: bool
) -> None:
    def timed(query: CustomerListQuery) -> float:
        started = time.perf_counter()
        with session_scope(sessions) as session:
            CustomerListRepository(session).first_page(query, 100)
        return (time.perf_counter() - started) * 1000

    print(f"as {who}:")
    timed(CustomerListQuery(tenant_id=tenant_id))  # warm up
    first = [timed(CustomerListQuery(tenant_id=tenant_id)) for _ in range(5)]
    print(f"  first page (count + 100 rows): median {statistics.median(first):.1f} ms")

    keystrokes: list[float] = []
    for word in WORDS:
        for end in range(1, len(word) + 1):
            query = CustomerListQuery(text=word[:end], tenant_id=tenant_id)
            keystrokes.append(timed(query))
    keystrokes.sort()
    p95 = keystrokes[int(len(keystrokes) * 0.95) - 1]
    print(
        f"  filter, {len(keystrokes)} keystrokes: p50 {statistics.median(keystrokes):.1f} ms, "
        f"p95 {p95:.1f} ms, max {keystrokes[-1]:.1f} ms"
    )
    if not sorts:
        return
    for sort in SORT_COLUMNS:
        asc = timed(CustomerListQuery(sort=sort, tenant_id=tenant_id))
        desc = timed(CustomerListQuery(sort=sort, descending=True, tenant_id=tenant_id))
        print(f"  sort by {sort:<15} asc {asc:8.1f} ms   desc (= jump to last row) {desc:8.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description="The console's customers table, measured.")
    parser.add_argument("--no-lag", action="store_true", help="database figures only")
    parser.add_argument(
        "--no-lists", action="store_true", help="customers only, no payments/sessions"
    )
    parser.add_argument("--lists-only", action="store_true", help="payments/sessions figures only")
    parser.add_argument("--scroll-seconds", type=float, default=30.0)
    parser.add_argument("--profile", action="store_true", help="cProfile the GUI thread")
    args = parser.parse_args()
    url = os.environ["EASYISP_DATABASE_URL"]
    engine = make_engine(url, application_name="easyisp-bench")
    sessions = sessionmaker(engine)
    with engine.connect() as conn:
        tenant_id, size = conn.execute(
            text("SELECT tenant_id, count(*) FROM customers GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        ).one()
    print(f"{engine.url.database}: tenant with {size:,} customers")
    if args.lists_only:
        measure_lists(sessions, tenant_id)
        engine.dispose()
        return 0

    measure_customers(sessions, tenant_id, "superuser", sorts=True)
    # The same as the tenant's demo ADMIN (the bench server trusts local logins): row-level
    # security on, as for an operator (0023's search function serves this filter).
    with engine.connect() as conn:
        slug = conn.execute(
            text("SELECT name FROM tenants WHERE id = :t"), {"t": tenant_id}
        ).scalar_one()
    staff_url = engine.url.set(username=f"admin.{slug}", password=None)
    staff = make_engine(staff_url.render_as_string(hide_password=False), application_name="bench")
    measure_customers(sessionmaker(staff), tenant_id, f"admin.{slug}", sorts=False)
    staff.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")
    if not args.no_lists:
        measure_lists(sessions, tenant_id)
    engine.dispose()
    if args.no_lag:
        return 0
    lag_exit: int = run_lag(args.scroll_seconds, args.profile)
    return lag_exit


if __name__ == "__main__":
    sys.exit(main())
