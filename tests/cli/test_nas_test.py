"""`easyisp nas test` against the RouterOS simulator over real TCP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from easyisp_cli.main import main
from radius_service.simulator.routeros.controller import SimulatorThread

USER = "easyisp"
PASSWORD = "api-pass-2026"


@pytest.fixture
def cli(fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    monkeypatch.setenv("EASYISP_DATA_DIR", str(tmp_path / "data"))

    def run(*argv: str) -> int:
        return main(["--database-url", fresh_db_url, *argv])

    return run


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    simulator = SimulatorThread("7.16", users={USER: PASSWORD}, identity="Umoja-Tower").start()
    yield simulator
    simulator.stop()


def _register(
    cli: Callable[..., int], db_url: str, address: tuple[str, int], password: str
) -> None:
    assert cli("tenant", "create", "umojanet", "--display-name", "UmojaNet") == 0
    add = ["nas", "add", "tower-1", "--tenant", "umojanet", "--ip", "10.9.0.1"]
    assert cli(*add, "--api-username", USER, "--api-password", password) == 0
    libpq = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as conn:
        conn.execute("UPDATE nas SET api_host = %s, api_port = %s WHERE name = 'tower-1'", address)


def test_nas_test_prints_what_the_router_says(
    cli: Callable[..., int],
    fresh_db_url: str,
    sim: SimulatorThread,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _register(cli, fresh_db_url, sim.address, PASSWORD)
    capsys.readouterr()
    assert cli("nas", "test", "tower-1", "--tenant", "umojanet") == 0
    out = capsys.readouterr().out
    assert f"Router tower-1 answered at {sim.address[0]}:{sim.address[1]}" in out
    assert "identity  Umoja-Tower" in out
    assert "version   RouterOS 7.16" in out
    assert "board     RB4011iGS+" in out
    assert "MiB free of" in out

    assert cli("nas", "test", "tower-1", "--tenant", "umojanet", "--json") == 0
    record = json.loads(capsys.readouterr().out)
    assert record["identity"] == "Umoja-Tower"
    assert 0 < record["free_memory"] <= record["total_memory"]


def test_nas_test_explains_a_refused_login(
    cli: Callable[..., int],
    fresh_db_url: str,
    sim: SimulatorThread,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _register(cli, fresh_db_url, sim.address, "wrong-password")
    capsys.readouterr()
    assert cli("nas", "test", "tower-1", "--tenant", "umojanet") == 1
    err = capsys.readouterr().err
    assert "Router tower-1: login refused" in err
    assert "Check the API user name and password" in err


def test_nas_test_explains_an_unreachable_router(
    cli: Callable[..., int],
    fresh_db_url: str,
    sim: SimulatorThread,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _register(cli, fresh_db_url, sim.address, PASSWORD)
    sim.pause()
    capsys.readouterr()
    assert cli("nas", "test", "tower-1", "--tenant", "umojanet") == 1
    err = capsys.readouterr().err
    assert "cannot connect to" in err
    assert "connection refused" in err
