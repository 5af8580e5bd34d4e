"""The RADIUS auth listener inside the site service: started by run(), counted in the
heartbeat, stopped on shutdown; and the `easyisp service` / `easyisp simulate nas` commands."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from easyisp_core.crypto import SecretBox, new_site_key
from easyisp_core.settings import Settings
from radius_service.app import SiteService
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import NAS_SECRET, PPPOE_PASSWORD, PPPOE_USER, seed
from tests.service.test_service_process import heartbeat_rows, service_env

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_the_site_service_answers_radius_and_counts_it_in_the_heartbeat(
    fresh_db_url: str, secret_box: SecretBox
) -> None:
    seed(fresh_db_url, secret_box)
    service = SiteService(
        Settings(database_url=fresh_db_url),
        heartbeat_interval=0.1,
        radius_auth_addr=("127.0.0.1", 0),
        secret_box=secret_box,
    )

    async def scenario() -> dict[str, int]:
        running = asyncio.create_task(service.run())
        await asyncio.wait_for(service.started.wait(), 30)
        assert service.radius_auth is not None
        assert service.radius_auth.address is not None
        nas = NasSimulator(service.radius_auth.address, NAS_SECRET.encode())
        accept = await asyncio.to_thread(nas.login, PPPOE_USER, PPPOE_PASSWORD)
        reject = await asyncio.to_thread(nas.login, PPPOE_USER, "wrong", method="chap")
        assert accept is not None
        assert accept.accepted
        assert reject is not None
        assert not reject.accepted
        beats = service.counters["heartbeats"]
        while service.counters["heartbeats"] < beats + 2:
            await asyncio.sleep(0.02)
        rows = await asyncio.to_thread(heartbeat_rows, fresh_db_url)
        await asyncio.wait_for(service.stop(), 30)
        await running
        return dict(rows[0]["counters"])

    counters = asyncio.run(scenario())
    assert counters["radius.auth.accept"] == 1
    assert counters["radius.auth.reject"] == 1
    assert service.radius_auth is not None
    assert service.radius_auth.address is not None
    # Stopped: the port no longer answers.
    late = NasSimulator(service.radius_auth.address, NAS_SECRET.encode(), timeout=0.3)
    assert late.login(PPPOE_USER, PPPOE_PASSWORD) is None


def test_a_busy_radius_port_does_not_stop_the_other_jobs(
    fresh_db_url: str, secret_box: SecretBox
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        service = SiteService(
            Settings(database_url=fresh_db_url),
            heartbeat_interval=0.1,
            radius_auth_addr=taken.getsockname(),
            secret_box=secret_box,
        )

        async def scenario() -> None:
            running = asyncio.create_task(service.run())
            await asyncio.wait_for(service.started.wait(), 30)
            while service.counters["heartbeats"] < 1:
                await asyncio.sleep(0.02)
            await asyncio.wait_for(service.stop(), 30)
            await running

        asyncio.run(scenario())
    assert service.radius_auth is None
    assert service.counters["radius.auth.bind_failed"] == 1


def _children(pid: int) -> list[int]:
    """The worker processes `pid` spawned (Linux /proc, where SO_REUSEPORT workers run); not
    multiprocessing's resource tracker, which leaves on its own once the parent is gone."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid …": comm may hold spaces, so split after its ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) != pid:
            continue
        with contextlib.suppress(OSError):
            if b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_easyisp_service_and_simulate_nas_commands(fresh_db_url: str, tmp_path: Path) -> None:
    key = new_site_key()
    seed(fresh_db_url, SecretBox.from_encoded(key))
    env = service_env(tmp_path / "data")
    env["EASYISP_SITE_KEY"] = key
    # Two auth worker processes whatever this machine's CPU count: the heartbeat must count
    # what they answer, and SIGTERM must take them down with the service.
    env["EASYISP_RADIUS_WORKERS"] = "2"
    port = _free_udp_port()
    base = [sys.executable, "-m", "easyisp_cli.main", "--database-url", fresh_db_url]
    service = subprocess.Popen(
        [
            *base,
            "service",
            "--heartbeat-interval",
            "0.2",
            "--radius-auth-addr",
            f"127.0.0.1:{port}",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not heartbeat_rows(fresh_db_url):
            assert service.poll() is None, service.communicate()[1]
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)
        simulate = [
            *base,
            "simulate",
            "nas",
            "--server",
            f"127.0.0.1:{port}",
            "--secret",
            NAS_SECRET,
            "--user",
            PPPOE_USER,
            "--method",
            "mschapv2",
        ]
        accepted = subprocess.run(
            [*simulate, "--password", PPPOE_PASSWORD],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert accepted.returncode == 0, accepted.stdout + accepted.stderr
        assert "Access-Accept" in accepted.stdout
        assert "Mikrotik-Rate-Limit: ['2M/5M 4M/10M 1500k/4M 16/16 5']" in accepted.stdout
        assert "mschap2_success_valid: True" in accepted.stdout
        rejected = subprocess.run(
            [*simulate, "--password", "nope"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert rejected.returncode == 1, rejected.stdout + rejected.stderr
        assert "Wrong username or password." in rejected.stdout

        def counted() -> bool:
            counters = heartbeat_rows(fresh_db_url)[0]["counters"]
            return bool(
                counters.get("radius.auth.accept") == 1 and counters.get("radius.auth.reject") == 1
            )

        while not counted():  # answered in the workers, shown in the service's row
            assert time.monotonic() < deadline + 60, heartbeat_rows(fresh_db_url)
            time.sleep(0.1)
        workers = _children(service.pid)
        assert len(workers) == 2
    finally:
        service.terminate()
        _out, err = service.communicate(timeout=60)
    assert service.returncode == 0, err
    assert "RADIUS auth: 2 worker processes on 127.0.0.1" in err
    assert "RADIUS auth listening on 127.0.0.1" in err
    for pid in workers:  # a clean stop: no worker outlives the service
        assert not Path(f"/proc/{pid}").exists(), f"worker {pid} still running"
    assert os.environ.get("EASYISP_SITE_KEY") != key  # the key stayed in the child only
