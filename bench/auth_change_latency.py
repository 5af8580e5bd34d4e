"""How long a console change takes to reach a running RADIUS auth server.

    .venv/bin/python bench/auth_change_latency.py [--rounds 50]

Starts a private PostgreSQL (or uses EASYISP_TEST_DATABASE_URL as an admin URL), seeds the
RADIUS test tenant, runs the auth server with its subscriber cache (as `easyisp service`
does) on 127.0.0.1, then for each input of the decision commits a change and sends
Access-Requests back to back until a reply shows it. It prints, per input, the time from
the commit returning to the first reply that reflects the change (p50 / p99 / max).
The console promises one second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from easyisp_core.crypto import SecretBox, new_site_key
from easyisp_core.db.engine import make_engine
from easyisp_core.models import Customer, Nas, Package, Tenant
from easyisp_core.models.enums import CustomerStatus
from radius_service.simulator.nas import NasReply, NasSimulator
from tests import pg
from tests.service.radius.conftest import (
    EXPIRED_PASSWORD,
    EXPIRED_USER,
    NAS_SECRET,
    PPPOE_PASSWORD,
    PPPOE_USER,
    CachedServerThread,
    seed,
)

GIVE_UP = 10.0


def _measure(what: str, change: Callable[[], None], shows: Callable[[], bool]) -> float:
    change()
    committed = time.perf_counter()
    while not shows():
        if time.perf_counter() - committed > GIVE_UP:
            raise SystemExit(f"{what}: the change did not arrive within {GIVE_UP:g} s")
    return time.perf_counter() - committed


def _report(name: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    print(
        f"{name:<34} n={len(ms):<4} p50 {statistics.median(ms):7.1f} ms   "
        f"p99 {p99:7.1f} ms   max {ms[-1]:7.1f} ms"
    )


def run(url: str, rounds: int) -> None:
    box = SecretBox.from_encoded(new_site_key())
    seed(url, box)
    server = CachedServerThread(url, box)
    address = server.start()
    engine = make_engine(url, application_name="bench-change-latency")
    nas = NasSimulator(address, NAS_SECRET.encode(), timeout=2.0)
    unsigned = NasSimulator(address, NAS_SECRET.encode(), timeout=0.05, message_authenticator=False)

    def commit(statement: object) -> None:
        with Session(engine) as session, session.begin():
            session.execute(statement)  # type: ignore[call-overload]

    def login(user: str, password: str) -> NasReply:
        reply = nas.login(user, password)
        assert reply is not None
        return reply

    def rate_is(speed: int) -> bool:
        rate = str(login(PPPOE_USER, PPPOE_PASSWORD).first("Mikrotik-Rate-Limit"))
        return rate.startswith(f"2M/{speed}M")

    def in_pool(user: str, password: str, pool: str | None) -> bool:
        return bool(login(user, password).first("Framed-Pool") == pool)

    def pooled(expected: bool) -> bool:
        return (login(PPPOE_USER, PPPOE_PASSWORD).first("Framed-Pool") is not None) == expected

    def unsigned_dropped(dropped: bool) -> bool:
        return (unsigned.login(PPPOE_USER, PPPOE_PASSWORD) is None) == dropped

    cases: list[tuple[str, object, Callable[[], bool]]] = []
    for n in range(rounds):
        speed = 8 if n % 2 == 0 else 5
        cases.append(
            (
                "package (rate limit)",
                update(Package).where(Package.name == "Home 5M").values(download_speed=speed),
                partial(rate_is, speed),
            )
        )
        # Suspended and back within the round: the package case needs an active account.
        alice = update(Customer).where(Customer.username == PPPOE_USER)
        cases.append(
            (
                "customer (status)",
                alice.values(status=CustomerStatus.SUSPENDED),
                partial(pooled, True),
            )
        )
        cases.append(
            (
                "customer (status)",
                alice.values(status=CustomerStatus.ACTIVE),
                partial(pooled, False),
            )
        )
        pool = f"pool-{n}"
        cases.append(
            (
                "tenant (expired pool)",
                update(Tenant).values(config={"expired": {"expired_pool_name": pool}}),
                partial(in_pool, EXPIRED_USER, EXPIRED_PASSWORD, pool),
            )
        )
        required = n % 2 == 1
        cases.append(
            (
                "router (Message-Authenticator)",
                update(Nas).values(require_message_authenticator=required),
                partial(unsigned_dropped, required),
            )
        )
    results: dict[str, list[float]] = {}
    try:
        for name, statement, shows in cases:
            results.setdefault(name, []).append(_measure(name, partial(commit, statement), shows))
    finally:
        server.stop()
        engine.dispose()
    for name, seconds in results.items():
        _report(name, seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with pg.test_server() as admin_url:
        name = pg.create_migrated_database(admin_url, "easyisp_bench_change")
        try:
            run(pg.database_url(admin_url, name), args.rounds)
        finally:
            pg.drop_database(admin_url, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
