"""SIGTERM under accounting load: `easyisp service` stops while routers keep sending Start /
Interim / Stop; every record it acknowledged is in `sessions` when it has exited (its
shutdown stored and answered what it had accepted, the journal is empty), and a second service
on the same port finishes the load with nothing doubled.

Waits are count-based with generous deadlines; nothing asserts how long anything took."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from easyisp_core.crypto import SecretBox, new_site_key
from radius_service.radius.journal import Journal
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import NAS_SECRET, PPPOE_USER, seed
from tests.service.radius.test_accounting import session_rows
from tests.service.radius.test_accounting_outage import _free_udp_port

REPO_ROOT = Path(__file__).resolve().parents[3]
ROUTERS = 12
INTERIMS = 2
DEADLINE = 120.0
# A record's value at stage k (0 Start, 1..INTERIMS Interim, INTERIMS + 1 Stop).
STOP_STAGE = INTERIMS + 1


def _octets(session: int, stage: int) -> tuple[int, int]:
    return stage * 1000 + session, stage * 2**32 + session  # gigawords too


def wait_for(condition: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@dataclass
class OpenEndedLoad:
    """Routers that start session after session (Start, Interims, Stop, each record
    retransmitted until acknowledged) until `finish` is set: load never pauses for the
    shutdown, so records are in flight whenever SIGTERM lands."""

    server: tuple[str, int]
    finish: threading.Event = field(default_factory=threading.Event)
    # session id -> the highest stage acknowledged (records are sent in order).
    acked: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next: int = 0

    @property
    def acknowledged(self) -> int:
        with self._lock:
            return sum(stage + 1 for stage in self.acked.values())

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.acked)

    def router(self) -> None:
        nas = NasSimulator(self.server, NAS_SECRET.encode(), timeout=0.3, retries=0)
        while not self.finish.is_set():
            with self._lock:
                number, self._next = self._next, self._next + 1
            sid = f"term-{number:04d}"
            for stage in range(STOP_STAGE + 1):
                raw = self._record(nas, sid, number, stage)
                end = time.monotonic() + DEADLINE
                while not nas.send_accounting(raw):
                    if time.monotonic() > end:
                        raise AssertionError(f"{sid} stage {stage} was never acknowledged")
                with self._lock:
                    self.acked[sid] = stage

    @staticmethod
    def _record(nas: NasSimulator, sid: str, number: int, stage: int) -> bytes:
        if stage == 0:
            return nas.accounting_packet("start", sid, PPPOE_USER)
        inp, out = _octets(number, stage)
        kind = "stop" if stage == STOP_STAGE else "interim"
        return nas.accounting_packet(
            kind, sid, PPPOE_USER, session_time=60 * stage, input_octets=inp,
            output_octets=out, terminate_cause=1 if kind == "stop" else None,
        )  # fmt: skip


@pytest.fixture
def service_env(fresh_db_url: str, tmp_path: Path) -> dict[str, str]:
    key = new_site_key()
    seed(fresh_db_url, SecretBox.from_encoded(key))
    env = {k: v for k, v in os.environ.items() if not k.startswith("EASYISP_")}
    env.update(
        EASYISP_DATABASE_URL=fresh_db_url,
        EASYISP_DATA_DIR=str(tmp_path / "data"),
        EASYISP_SITE_KEY=key,
        EASYISP_RADIUS_AUTH_ADDR="off",
        EASYISP_HTTP_ADDR="off",
        EASYISP_RADIUS_ACCT_ADDR=f"127.0.0.1:{_free_udp_port()}",
    )
    return env


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "easyisp_cli.main", "service", "--heartbeat-interval", "1"]
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=out)


def _assert_acknowledged_records_stored(url: str, acked: dict[str, int]) -> None:
    rows = {row["session_id"]: row for row in session_rows(url)}
    for sid, stage in acked.items():
        assert sid in rows, f"{sid}: its acknowledged Start is not stored"
        row, number = rows[sid], int(sid.removeprefix("term-"))
        if stage == STOP_STAGE:
            assert row["stopped_at"] is not None, sid
            assert (row["input_octets"], row["output_octets"]) == _octets(number, stage), sid
        elif stage > 0:
            # At least what was acknowledged (a later record may be stored, its reply lost).
            inp, out = _octets(number, stage)
            assert row["input_octets"] >= inp, sid
            assert row["output_octets"] >= out, sid


def test_sigterm_under_accounting_load_loses_no_acknowledged_record(
    service_env: dict[str, str], fresh_db_url: str, tmp_path: Path
) -> None:
    host, port = service_env["EASYISP_RADIUS_ACCT_ADDR"].split(":")
    log = tmp_path / "service.log"
    journal = Journal(Path(service_env["EASYISP_DATA_DIR"]) / "radius" / "accounting.journal")
    first = _start(service_env, log)
    second: subprocess.Popen[bytes] | None = None
    load = OpenEndedLoad((host, int(port)))
    pool = ThreadPoolExecutor(ROUTERS)
    try:
        routers = [pool.submit(load.router) for _ in range(ROUTERS)]
        wait_for(lambda: load.acknowledged >= 200 or first.poll() is not None, "the load")
        assert first.poll() is None, log.read_text()
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=DEADLINE) == 0, log.read_text()

        # Nothing listens on the port now: every acknowledgement so far came from the first
        # service, and the routers keep retransmitting what it did not answer.
        at_exit = load.snapshot()
        assert not journal.pending  # the database was up: stored, not journaled
        _assert_acknowledged_records_stored(fresh_db_url, at_exit)
        assert any(stage < STOP_STAGE for stage in at_exit.values())  # load in flight

        second = _start(service_env, log)
        before = sum(stage + 1 for stage in at_exit.values())
        wait_for(lambda: load.acknowledged > before + 100, "the second service to take over")
        load.finish.set()
        for router in routers:
            router.result(timeout=DEADLINE)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=DEADLINE) == 0, log.read_text()
    finally:
        load.finish.set()
        pool.shutdown(wait=True, cancel_futures=True)
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=30)

    final = load.snapshot()
    assert all(stage == STOP_STAGE for stage in final.values())
    rows = session_rows(fresh_db_url)
    # One row per session the routers opened: nothing lost, nothing doubled.
    assert sorted(r["session_id"] for r in rows) == sorted(final)
    _assert_acknowledged_records_stored(fresh_db_url, final)
    assert all(r["terminate_cause"] == "User-Request" for r in rows)
    assert not journal.pending
