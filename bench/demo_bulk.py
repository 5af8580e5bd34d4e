"""Time the demo bulk loader: `easyisp demo --customers N` without the CLI around it.

    .venv/bin/python bench/demo_bulk.py --customers 1000000

Runs against the server of EASYISP_DATABASE_URL in a throwaway database (created, migrated,
loaded, dropped), or, when that is unset, against a fresh embedded PostgreSQL in a temporary
directory. The demo's staff logins are server-wide roles, so they are dropped afterwards too.
Prints progress with elapsed seconds, then rows per table, customers/s and the total.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from easyisp_core.crypto import SecretBox, new_site_key
from easyisp_core.db.embedded import EmbeddedPostgres
from easyisp_core.db.engine import make_engine
from easyisp_core.db.revision import upgrade
from easyisp_core.db.urls import to_libpq_url
from easyisp_core.demo import DemoOptions, DemoResult, load_demo
from easyisp_core.demo.catalog import DEMO_TENANTS, STAFF_ROLES


@contextmanager
def server() -> Iterator[tuple[str, str]]:
    """(admin libpq URL, description) of the server to measure on."""
    url = os.environ.get("EASYISP_DATABASE_URL")
    if url:
        yield to_libpq_url(url), "EASYISP_DATABASE_URL"
        return
    with tempfile.TemporaryDirectory(prefix="easyisp-bench-pg-") as tmp:
        Path(tmp).chmod(0o755)  # the embedded server runs as an unprivileged user under root
        embedded = EmbeddedPostgres(Path(tmp) / "pgdata")
        embedded.start()
        try:
            yield embedded.admin_conninfo(), "embedded"
        finally:
            embedded.stop()


def with_database(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def demo_roles(tenants: int) -> list[str]:
    return [f"{prefix}.{t.slug}" for t in DEMO_TENANTS[:tenants] for prefix, _ in STAFF_ROLES]


def main() -> int:
    parser = argparse.ArgumentParser(description="Time the demo bulk loader.")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=2)
    parser.add_argument("--seed", type=int, default=DemoOptions().seed)
    parser.add_argument("--database", default="easyisp_bench", help="throwaway database name")
    parser.add_argument("--keep", action="store_true", help="keep the database and its logins")
    args = parser.parse_args()

    with server() as (admin_url, where):
        with psycopg.connect(admin_url, autocommit=True) as admin:
            version = admin.execute("SHOW server_version").fetchone()
            settings = admin.execute(
                "SELECT string_agg(name || '=' || current_setting(name), ', ') "
                "FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size', "
                "'maintenance_work_mem', 'synchronous_commit')"
            ).fetchone()
            taken = admin.execute(
                "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (demo_roles(args.tenants),)
            ).fetchall()
            if taken:
                print(f"demo staff logins already exist on this server: {taken[0][0]} ...")
                return 1
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.database)))
        print(f"PostgreSQL {version[0] if version else '?'} ({where}); {os.cpu_count()} CPUs")
        print(f"settings: {settings[0] if settings else '?'}")
        try:
            engine = make_engine(with_database(admin_url, args.database), application_name="bench")
            started = time.perf_counter()
            upgrade(engine)
            print(f"migrated in {time.perf_counter() - started:.1f} s")
            result = run(engine, args)
            report(result, args.customers)
            engine.dispose()
        finally:
            if not args.keep:
                drop(admin_url, args.database, demo_roles(args.tenants))
    return 0


def run(engine: Engine, args: argparse.Namespace) -> tuple[DemoResult, float]:
    box = SecretBox.from_encoded(new_site_key())
    options = DemoOptions(customers=args.customers, tenants=args.tenants, seed=args.seed)
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"{time.perf_counter() - started:8.1f} s  {message}", flush=True)

    with Session(engine) as session:
        result = load_demo(session, box, options, progress=progress)
        progress("committing")
        session.commit()
    return result, time.perf_counter() - started


def report(outcome: tuple[DemoResult, float], customers: int) -> None:
    result, total = outcome
    print()
    for table, rows in sorted(result.counts.items(), key=lambda kv: -kv[1]):
        print(f"  {table:<22} {rows:>12,}")
    print(
        f"\n{customers:,} customers in {total:.1f} s (load {result.seconds:.1f} s + commit): "
        f"{customers / total:,.0f} customers/s, "
        f"{sum(result.counts.values()) / total:,.0f} rows/s"
    )


def drop(admin_url: str, database: str, roles: list[str]) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
        for role in roles:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


if __name__ == "__main__":
    sys.exit(main())
