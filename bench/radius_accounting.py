"""Durable RADIUS accounting throughput through the real server: the NAS simulator drives
Start / Interim-Update / Stop over UDP from 64 concurrent "routers", each waiting for its
Accounting-Response (sent only once the record is committed, or fsync'd to the journal)
before the next record. Prints acknowledged records/s with PostgreSQL up, then with it
unreachable (every record journaled), then how fast the journal replays. The load
generator runs in its own process, so its threads do not share the server's GIL.

    .venv/bin/python bench/radius_accounting.py [--concurrency 64] [--records 40] [--profile]

Runs against a fresh embedded PostgreSQL in a temporary directory, or the server named by
EASYISP_TEST_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import pstats
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from easyisp_core.crypto import SecretBox, new_site_key
from easyisp_core.db.engine import make_engine
from radius_service.radius.accounting import DEFAULT_WRITERS
from radius_service.radius.journal import Journal
from radius_service.simulator.nas import NasSimulator
from tests.pg import create_migrated_database, database_url, drop_database, test_server
from tests.service.radius.conftest import NAS_SECRET, PPPOE_USER, seed
from tests.service.radius.test_accounting import AcctServerThread

INTERIMS = 3


def drive(address: tuple[str, int], prefix: str, concurrency: int, per_router: int) -> float:
    """Acknowledged records per second; every record is retransmitted until answered."""

    def router(r: int) -> int:
        nas = NasSimulator(address, NAS_SECRET.encode(), timeout=2.0, retries=1)
        sent = 0
        session = 0
        while sent < per_router:
            sid = f"{prefix}-{r:03d}-{session:04d}"
            session += 1
            steps = ["start"] + ["interim"] * INTERIMS + ["stop"]
            for k, status in enumerate(steps[: per_router - sent]):
                raw = nas.accounting_packet(
                    status, sid, PPPOE_USER, session_time=60 * k,
                    input_octets=1000 * k, output_octets=2000 * k,
                )  # fmt: skip
                while not nas.send_accounting(raw):
                    pass
                sent += 1
        return sent

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        total = sum(pool.map(router, range(concurrency)))
    return total / (time.perf_counter() - began)


def drive_elsewhere(
    address: tuple[str, int], prefix: str, concurrency: int, per_router: int
) -> float:
    """drive() in a separate process (spawned: the server's threads are not forked)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return float(pool.apply(drive, (address, prefix, concurrency, per_router)))


def start_profiles(server: AcctServerThread) -> list[cProfile.Profile]:
    """cProfile covers one thread: enable one in the event loop and one in each writer."""
    executors = [w.executor for w in server.server._writers]
    profiles = [cProfile.Profile() for _ in range(len(executors) + 1)]
    server.loop.call_soon_threadsafe(profiles[0].enable)
    for executor, profile in zip(executors, profiles[1:], strict=True):
        executor.submit(profile.enable).result()
    return profiles


def print_profiles(server: AcctServerThread, profiles: list[cProfile.Profile]) -> None:
    if not profiles:
        return
    executors = [w.executor for w in server.server._writers]
    server.loop.call_soon_threadsafe(profiles[0].disable)
    for executor, profile in zip(executors, profiles[1:], strict=True):
        executor.submit(profile.disable).result()
    time.sleep(0.1)
    print("--- event loop (tottime) ---")
    pstats.Stats(profiles[0]).sort_stats("tottime").print_stats(18)
    print("--- writer threads, together (tottime) ---")
    pstats.Stats(*profiles[1:]).sort_stats("tottime").print_stats(18)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--records", type=int, default=40, help="records per router and phase")
    parser.add_argument("--writers", type=int, default=DEFAULT_WRITERS, help="accounting writers")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the server's event loop and writers"
    )
    args = parser.parse_args()
    box = SecretBox.from_encoded(new_site_key())
    total = args.concurrency * args.records
    with test_server() as admin, tempfile.TemporaryDirectory(prefix="easyisp-acct-") as tmp:
        name = create_migrated_database(admin, "bench_acct")
        url = database_url(admin, name)
        seed(url, box)
        dead = make_engine("postgresql://postgres@127.0.0.1:1/nowhere", application_name="dead")
        dead_sessions = sessionmaker(dead)
        state = {"down": False}
        server: AcctServerThread

        def sessions() -> Session:
            return dead_sessions() if state["down"] else server.sessions()

        journal = Journal(Path(tmp) / "acct.journal")
        server = AcctServerThread(
            url, box, journal=journal, sessions=sessions, replay_interval=0.1, writers=args.writers
        )
        server.start()
        try:
            address = server.server.address
            assert address is not None
            with server.sessions() as session:
                version = session.connection().exec_driver_sql("SHOW server_version").scalar()
            print(f"PostgreSQL {version}; {args.concurrency} routers, {total} records per phase")
            profiles = start_profiles(server) if args.profile else []
            up = drive_elsewhere(address, "up", args.concurrency, args.records)
            print_profiles(server, profiles)
            batches = server.counters["radius.acct.batch"]
            print(f"database up:   {up:8.0f} durable records/s "
                  f"({total / max(batches, 1):.1f} records per commit)")  # fmt: skip
            state["down"] = True
            down = drive_elsewhere(address, "down", args.concurrency, args.records)
            print(f"journal (down): {down:7.0f} durable records/s "
                  f"({server.counters['radius.acct.journaled']} journaled, "
                  f"{journal.size / 1e6:.1f} MB)")  # fmt: skip
            state["down"] = False
            began = time.perf_counter()
            while journal.pending:
                time.sleep(0.01)
            took = time.perf_counter() - began
            print(f"replay:        {total / took:8.0f} records/s ({took:.2f} s incl. wake-up)")
        finally:
            server.stop()
            dead.dispose()
            drop_database(admin, name)  # on a shared server (EASYISP_TEST_DATABASE_URL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
