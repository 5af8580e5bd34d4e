"""`easyisp simulate site` as the live demo, all real processes: `easyisp demo` fills a fresh
database, `easyisp service` runs RADIUS and the router poll, and the simulated routers come
ONLINE, log their subscribers in, send interim updates and obey a queued Disconnect."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.orm import Session

from easyisp_core.db.engine import make_engine
from easyisp_core.models.enums import ServiceCommandKind
from easyisp_core.services.service_commands import queue_command

REPO_ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 90.0  # generous: a slow shared machine, not a speed target


def _free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def site_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EASYISP_")}
    env |= {
        "EASYISP_DATA_DIR": str(tmp_path),
        "EASYISP_RADIUS_AUTH_ADDR": f"127.0.0.1:{_free_port(socket.SOCK_DGRAM)}",
        "EASYISP_RADIUS_ACCT_ADDR": f"127.0.0.1:{_free_port(socket.SOCK_DGRAM)}",
        "EASYISP_HTTP_ADDR": f"127.0.0.1:{_free_port(socket.SOCK_STREAM)}",
        "EASYISP_RADIUS_WORKERS": "1",
        "EASYISP_ROUTER_POLL_SECONDS": "1",
    }
    return env


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in reversed(started):  # a failed test must not leave anything running
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate(timeout=10)


def _cli(db_url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "easyisp_cli.main", "--database-url", db_url, *args]


def _rows(db_url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(db_url) as conn:
        return list(conn.execute(sql).fetchall())


def _one(db_url: str, sql: str) -> object:
    return _rows(db_url, sql)[0][0]


def _wait_for(what: str, condition: Callable[[], bool], procs: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        for proc in procs:
            if proc.poll() is not None:
                _out, err = proc.communicate()
                pytest.fail(f"{proc.args!r} exited before {what}:\n{err[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_the_live_demo_brings_routers_and_subscribers_online(
    fresh_db_url: str, site_env: dict[str, str], processes: list[subprocess.Popen[str]]
) -> None:
    subprocess.run(
        _cli(fresh_db_url, "demo", "--customers", "60", "--tenants", "1"),
        cwd=REPO_ROOT, env=site_env, check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    # The demo's history has open sessions too: the live ones start after this.
    ((began,),) = _rows(fresh_db_url, "SELECT now()::text")
    popen = {"cwd": REPO_ROOT, "env": site_env, "text": True}
    service = subprocess.Popen(
        _cli(fresh_db_url, "service"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **popen
    )  # type: ignore[call-overload]
    processes.append(service)
    simulate = subprocess.Popen(
        _cli(fresh_db_url, "simulate", "site", "--sessions-per-router", "2",
             "--interim-seconds", "1"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen,
    )  # type: ignore[call-overload]  # fmt: skip
    processes.append(simulate)

    routers = _one(fresh_db_url, "SELECT count(*) FROM nas WHERE api_username IS NOT NULL")
    assert isinstance(routers, int)
    assert routers > 0
    _wait_for(
        "every router ONLINE",
        lambda: _one(fresh_db_url, "SELECT count(*) FROM nas WHERE status = 'ONLINE'") == routers,
        processes,
    )
    # A subscriber's session opened and its counters grew with an Interim-Update.
    live = (
        "SELECT customer_id, session_id FROM sessions WHERE stopped_at IS NULL "
        f"AND started_at >= '{began}' AND output_octets > 0 ORDER BY id LIMIT 1"
    )
    _wait_for("a session with interim updates", lambda: bool(_rows(fresh_db_url, live)), processes)
    ((customer_id, session_id),) = _rows(fresh_db_url, live)
    assert isinstance(customer_id, uuid.UUID)

    engine = make_engine(fresh_db_url, application_name="live-demo-test")
    try:
        with Session(engine) as session, session.begin():
            command = queue_command(
                session, kind=ServiceCommandKind.DISCONNECT, customer_id=customer_id
            )
    finally:
        engine.dispose()
    _wait_for(
        "the Disconnect done",
        lambda: (
            _one(fresh_db_url, f"SELECT status FROM service_commands WHERE id = {command.id}")
            in ("DONE", "FAILED")
        ),
        processes,
    )
    ((status, result),) = _rows(
        fresh_db_url, f"SELECT status, result FROM service_commands WHERE id = {command.id}"
    )
    assert status == "DONE", result
    # The router sent the session's Accounting-Stop, as RouterOS does after a Disconnect-ACK.
    _wait_for(
        "the session stopped",
        lambda: bool(
            _rows(
                fresh_db_url,
                f"SELECT 1 FROM sessions WHERE session_id = '{session_id}' "
                "AND stopped_at IS NOT NULL",
            )
        ),
        processes,
    )

    # The demo tenant pays through the Daraja simulator.
    ((config, tenant),) = _rows(
        fresh_db_url,
        "SELECT g.config, t.name FROM payment_gateways g JOIN tenants t ON t.id = g.tenant_id "
        "WHERE g.is_active",
    )
    assert isinstance(config, dict)
    assert config["environment"] == "simulator"
    assert config["base_url"].startswith("http://127.0.0.1:")

    # Every router is up once the guide is printed.
    assert simulate.stdout is not None
    printed = []
    while (line := simulate.stdout.readline()) and not line.startswith("What to do now:"):
        printed.append(line)
    assert line.startswith("What to do now:"), printed
    assert any(line.endswith("C2B (paybill) payments go to the service\n") for line in printed)
    guide = [simulate.stdout.readline() for _ in range(8)]
    (portal,) = [line.strip() for line in guide if "/portal/" in line]
    assert portal == f"http://{site_env['EASYISP_HTTP_ADDR']}/portal/{tenant}"
    with urllib.request.urlopen(portal, timeout=30) as page:  # noqa: S310 - our own service
        assert page.status == 200
    simulate.send_signal(signal.SIGINT)
    _out, err = simulate.communicate(timeout=30)
    assert "Traceback" not in err, err
    assert sum("subscriber(s) online" in line for line in printed) == routers
    # Stopped like routers shutting down: their sessions end, the next run starts afresh.
    still_open = (
        f"SELECT count(*) FROM sessions WHERE stopped_at IS NULL AND started_at >= '{began}'"
    )
    assert _one(fresh_db_url, still_open) == 0
