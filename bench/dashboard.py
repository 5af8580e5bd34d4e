"""Time the console dashboard's one service call over the bulk demo.

    .venv/bin/python bench/dashboard.py --customers 1000000

Loads the demo (bench/demo_bulk.py's loader and server choice: EASYISP_DATABASE_URL's server,
else a fresh embedded PostgreSQL) into a throwaway database, then times
`dashboard_figures()` as the console runs it: logged in as the first tenant's demo ADMIN
(row-level security on) and as the database administrator (every tenant, no RLS). Prints
p50 / max over --runs calls after one warm-up, and each statement's share, then drops the
database and the demo's logins.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.demo_bulk import demo_roles, drop, run, server, with_database
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.db.revision import upgrade
from easyisp_core.repositories import dashboard as figures
from easyisp_core.services.dashboard import REVENUE_DAYS, dashboard_figures
from easyisp_core.services.identity import current_identity

ZONE = "Africa/Nairobi"


def timed(label: str, runs: int, call: Callable[[], object]) -> None:
    call()  # warm-up: plans and pages cached, as after the console's first load
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    print(f"  {label:<34} p50 {statistics.median(times):8.1f} ms   max {max(times):8.1f} ms")


def measure(url: str, who: str, runs: int) -> None:
    engine = make_engine(url, application_name="bench-dashboard")
    sessions = sessionmaker(engine)
    try:
        with session_scope(sessions) as session:
            identity = current_identity(session)
        tenant = None if identity.may("tenants.manage") else identity.tenant_id
        print(f"\n{who} ({identity.role}):")

        def whole() -> object:
            with session_scope(sessions) as session:
                return dashboard_figures(session, timezone=ZONE)

        def part(fn: Callable[[Session], object]) -> Callable[[], object]:
            def call() -> object:
                with session_scope(sessions) as session:
                    return fn(session)

            return call

        timed("dashboard_figures() (one call)", runs, whole)
        today = date.today()
        start = min(today.replace(day=1), today - timedelta(days=REVENUE_DAYS - 1))
        for label, fn in (
            ("clock + heartbeat", lambda s: figures.clock(s, ZONE)),
            ("customer counts", lambda s: figures.customer_counts(s, timedelta(hours=24))),
            (
                "expiring customers",
                lambda s: figures.expiring_customers(s, tenant, timedelta(hours=24), 8),
            ),
            ("open sessions", lambda s: figures.open_sessions(s)),
            ("offline routers", lambda s: figures.offline_routers(s, tenant, 6)),
            ("daily revenue", lambda s: figures.daily_revenue(s, tenant, ZONE, start)),
            ("M-Pesa waiting", lambda s: figures.mpesa_waiting(s, tenant)),
        ):
            timed(f"  {label}", runs, part(fn))
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description="Time the dashboard's service call.")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--database", default="easyisp_bench_dashboard")
    args = parser.parse_args()

    with server() as (admin_url, where):
        with psycopg.connect(admin_url, autocommit=True) as admin:
            version = admin.execute("SHOW server_version").fetchone()
            if admin.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = ANY(%s)", (demo_roles(args.tenants),)
            ).fetchone():
                print("demo staff logins already exist on this server")
                return 1
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.database)))
        print(f"PostgreSQL {version[0] if version else '?'} ({where})")
        try:
            url = with_database(admin_url, args.database)
            engine = make_engine(url, application_name="bench")
            upgrade(engine)
            result, seconds = run(engine, args)
            engine.dispose()
            print(f"loaded {args.customers:,} customers in {seconds:.0f} s")
            main_tenant = result.tenants[0]
            admin_login = next(s for s in main_tenant.staff if s.role == "ADMIN")
            staff_url = (
                make_url(url)
                .set(drivername="postgresql+psycopg", username=admin_login.username)
                .set(password=admin_login.password)
                .render_as_string(hide_password=False)
            )
            counts = main_tenant.counts.get("customers", 0)
            measure(staff_url, f"{admin_login.username}, {counts:,} customers", args.runs)
            measure(url, "database administrator, every tenant", args.runs)
        finally:
            drop(admin_url, args.database, demo_roles(args.tenants))
    return 0


if __name__ == "__main__":
    sys.exit(main())
