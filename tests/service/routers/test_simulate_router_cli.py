"""`easyisp simulate router` as a real process, reached by RouterClient over TCP and API-SSL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.service.routers.conftest import client_for, endpoint_for, run

REPO_ROOT = Path(__file__).resolve().parents[3]


def _address(line: str) -> tuple[str, int]:
    host, _, port = line.rsplit(" ", 1)[-1].rpartition(":")
    return host, int(port)


def test_simulate_router_serves_api_and_api_ssl(tmp_path: Path) -> None:
    cert = tmp_path / "router.pem"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "easyisp_cli.main", "simulate", "router",
            "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--cert-out", str(cert),
            "--version", "6.49.10", "--user", "api", "--password", "s3cret",
            "--identity", "hq-ccr", "--sessions", "2",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        plain = _address(proc.stdout.readline())
        tls = _address(proc.stdout.readline())

        async def scenario() -> None:
            endpoint = endpoint_for(plain, user="api", password="s3cret")
            async with client_for(endpoint) as client:
                info = await client.test_connection()
                assert (info.identity, info.version) == ("hq-ccr", "6.49.10 (stable)")
                assert [s.name for s in await client.ppp_active()] == ["ppp0001", "ppp0002"]
            pinned = cert.read_text()
            endpoint = endpoint_for(
                tls, user="api", password="s3cret", use_tls=True, tls_ca_pem=pinned
            )
            async with client_for(endpoint) as client:
                assert await client.disconnect("hs0002") is True

        run(scenario())
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
