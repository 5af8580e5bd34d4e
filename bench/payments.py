"""How many M-Pesa callbacks per second the site service stores, acknowledges and applies.

    .venv/bin/python bench/payments.py [--callbacks 200] [--concurrency 20]

Starts a private PostgreSQL (as the tests do; or set EASYISP_TEST_DATABASE_URL to an admin
URL of a server it may create a database on), seeds one tenant with a paybill gateway and as
many customers as callbacks, starts the real HTTP endpoints (uvicorn on 127.0.0.1:0) and
posts, from `concurrency` clients at once, one STK success per customer (each credits and
renews) and the same number of C2B confirmations by account number. It prints the rate at
which callbacks were acknowledged and the rate at which they were fully applied (payment,
wallet credit, renewal, re-authorisation queued), then the time from a success callback to
the subscriber being re-authorised (bench/reauthorisation.py; `--reauth 0` skips it).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import reauthorisation
from easyisp_core.crypto import SecretBox, new_site_key
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.models import PendingHotspotPayment
from tests import pg
from tests.factories import make_customer, make_package, make_tenant
from tests.service.payments.conftest import CallbackServer
from tests.service.payments.payloads import c2b, stk_success


def seed(url: str, count: int) -> tuple[str, list[str]]:
    box = SecretBox.from_encoded(new_site_key())
    engine = make_engine(url, application_name="bench-seed")
    from easyisp_core.services.gateways import create_payment_gateway

    with session_scope(sessionmaker(engine)) as session:
        tenant = make_tenant(session)
        package = make_package(
            session, tenant, type="HOTSPOT", price=Decimal("50"), validity_value=1,
            validity_unit="DAYS",
        )  # fmt: skip
        gateway = create_payment_gateway(
            session,
            box,
            {
                "tenant": tenant.name, "name": "Paybill", "provider": "MPESA_PAYBILL",
                "shortcode": "600984",
                "credentials": {"consumer_key": "k", "consumer_secret": "s", "passkey": "p"},
            },
        )  # fmt: skip
        accounts = []
        for n in range(count):
            customer = make_customer(
                session, box, tenant, connection_type="HOTSPOT", package=package.name
            )
            accounts.append(customer.username)
            session.add(
                PendingHotspotPayment(
                    tenant_id=tenant.id,
                    checkout_request_id=f"ws_CO_bench_{n}",
                    phone="254712345678",
                    amount=Decimal("50"),
                    package_id=package.id,
                    customer_id=customer.id,
                    expires_at=datetime.now(UTC) + timedelta(hours=1),
                )
            )
    engine.dispose()
    assert gateway.callback_token is not None
    return gateway.callback_token, accounts


async def post_all(base: str, requests: list[tuple[str, dict[str, Any]]], width: int) -> float:
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            path, body = queue.get_nowait()
            reply = await client.post(path, json=body)
            reply.raise_for_status()

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(width)))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--callbacks", type=int, default=200, help="STK results (and as many C2B)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--reauth", type=int, default=50, help="online subscribers for the latency (0: skip)"
    )
    args = parser.parse_args()
    with pg.test_server() as admin_url:
        name = pg.create_migrated_database(admin_url, "easyisp_bench_payments")
        url = pg.database_url(admin_url, name)
        try:
            token, accounts = seed(url, args.callbacks)
            engine = make_engine(url, application_name="bench-payments", pool_size=10)
            server = CallbackServer(engine)
            server.start()
            requests: list[tuple[str, dict[str, Any]]] = []
            for n, account in enumerate(accounts):
                requests.append((
                    f"/pay/{token}/stk",
                    stk_success(f"ws_CO_bench_{n}", amount=50, receipt=f"BSTK{n:06d}"),
                ))  # fmt: skip
                requests.append((
                    f"/pay/{token}/c2b/confirmation",
                    c2b(f"BC2B{n:06d}", amount="50", account=account),
                ))  # fmt: skip
            started = time.perf_counter()
            acked = asyncio.run(post_all(server.base_url, requests, args.concurrency))
            deadline = time.monotonic() + 300
            with engine.connect() as conn:
                while conn.execute(
                    text("SELECT count(*) FROM mpesa_callbacks WHERE outcome = 'PENDING'")
                ).scalar_one():
                    conn.commit()
                    if time.monotonic() > deadline:
                        print("callbacks still PENDING after 300 s", server.counters)
                        break
                    time.sleep(0.01)
                applied = conn.execute(
                    text("SELECT count(*) FROM mpesa_callbacks WHERE outcome = 'APPLIED'")
                ).scalar_one()
            done = time.perf_counter() - started
            server.stop()
            engine.dispose()
        finally:
            pg.drop_database(admin_url, name)
        reauth_ok = True
        if args.reauth:
            name = pg.create_migrated_database(admin_url, "easyisp_bench_reauth")
            try:
                reauth_ok = reauthorisation.report(pg.database_url(admin_url, name), args.reauth)
            finally:
                pg.drop_database(admin_url, name)
    total = len(requests)
    print(f"{total} callbacks ({args.callbacks} STK + {args.callbacks} C2B), "
          f"{args.concurrency} concurrent clients")  # fmt: skip
    print(f"acknowledged: {total / acked:.0f} callbacks/s ({acked:.2f} s)")
    print(f"applied:      {total / done:.0f} callbacks/s ({done:.2f} s, {applied} applied)")
    return 0 if applied == total and reauth_ok else 1


if __name__ == "__main__":
    sys.exit(main())
