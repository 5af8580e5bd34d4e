"""The site service as operators run it: a real `easyisp service` process and real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from easyisp_core.settings import Settings
from radius_service.app import SiteService

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30.0


def service_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EASYISP_")}
    # A private data dir: the service must not touch the developer's real site files.
    env["EASYISP_DATA_DIR"] = str(data_dir)
    # These tests are about the service's life cycle; the RADIUS tests bind their own ports.
    env["EASYISP_RADIUS_AUTH_ADDR"] = "off"
    env["EASYISP_RADIUS_ACCT_ADDR"] = "off"
    env["EASYISP_HTTP_ADDR"] = "off"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(database_url: str, *extra: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "easyisp_cli.main",
                "--database-url",
                database_url,
                "service",
                *extra,
            ],
            cwd=REPO_ROOT,
            env=service_env(tmp_path / "data"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:  # a failed test must not leave a service running
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def heartbeat_rows(database_url: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url) as conn:
        cur = conn.execute(
            "SELECT instance, hostname, pid, version, counters FROM service_heartbeats"
        )
        names = [col.name for col in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not condition():
        if proc.poll() is not None:
            _out, err = proc.communicate()
            pytest.fail(f"the service exited ({proc.returncode}) before {what}:\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_the_service_beats_and_removes_its_heartbeat_on_sigterm(
    fresh_db_url: str, start_service: Callable[..., subprocess.Popen[str]]
) -> None:
    proc = start_service(fresh_db_url, "--heartbeat-interval", "0.2")

    # Two beats at least: the row is refreshed, not just written once.
    def beating() -> bool:
        rows = heartbeat_rows(fresh_db_url)
        return bool(rows) and rows[0]["counters"].get("heartbeats", 0) >= 2

    wait_for(beating, proc, "the heartbeat repeats")
    (row,) = heartbeat_rows(fresh_db_url)
    assert row["pid"] == proc.pid
    assert row["instance"] == f"{row['hostname']}:{proc.pid}"

    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)

    assert proc.returncode == 0, err
    assert heartbeat_rows(fresh_db_url) == []


def test_the_service_refuses_an_unmigrated_database(
    empty_db_url: str, start_service: Callable[..., subprocess.Popen[str]]
) -> None:
    proc = start_service(empty_db_url)

    _out, err = proc.communicate(timeout=60)

    assert proc.returncode != 0
    assert "easyisp db upgrade" in err
    # One clear line, not a traceback.
    assert "Traceback" not in err


def test_an_embedded_service_stops_on_request_under_its_configured_instance_name(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EASYISP_SERVICE_INSTANCE", "site-a")
    service = SiteService(Settings(database_url=fresh_db_url), heartbeat_interval=0.1)

    async def scenario() -> list[dict[str, Any]]:
        running = asyncio.create_task(service.run())
        await asyncio.wait_for(service.started.wait(), STARTUP_TIMEOUT)
        while service.counters["heartbeats"] < 1:
            await asyncio.sleep(0.02)
        rows = await asyncio.to_thread(heartbeat_rows, fresh_db_url)
        await asyncio.wait_for(service.stop(), STARTUP_TIMEOUT)
        await running
        return rows

    rows = asyncio.run(scenario())

    assert [row["instance"] for row in rows] == ["site-a"]
    assert heartbeat_rows(fresh_db_url) == []
