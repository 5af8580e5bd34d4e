"""The `easyisp` command line against a real database."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from easyisp_cli.main import build_parser, main


@pytest.fixture
def cli(fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    monkeypatch.setenv("EASYISP_DATA_DIR", str(tmp_path / "data"))

    def run(*argv: str) -> int:
        return main(["--database-url", fresh_db_url, *argv])

    return run


def _subcommand_paths() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    paths.append([*prefix, name])
                    walk(child, [*prefix, name])

    walk(build_parser(), [])
    return paths


@pytest.mark.parametrize("path", _subcommand_paths(), ids=" ".join)
def test_every_subcommand_has_help(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*path, "--help"])
    assert exited.value.code == 0
    assert "usage: easyisp" in capsys.readouterr().out


def test_a_whole_site_can_be_set_up_from_the_command_line(
    cli: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli("tenant", "create", "kilimanet", "--display-name", "KilimaNet Ltd") == 0
    assert (
        cli(
            "user",
            "create",
            "grace.kilimanet",
            "--tenant",
            "kilimanet",
            "--role",
            "ADMIN",
            "--full-name",
            "Grace Wanjiru",
        )
        == 0
    )
    assert (
        cli(
            "package",
            "add",
            "Home 5 Mbps",
            "--tenant",
            "kilimanet",
            "--type",
            "PPPOE",
            "--price",
            "1500",
            "--down",
            "5",
            "--up",
            "2",
            "--validity",
            "1",
            "--unit",
            "MONTHS",
        )
        == 0
    )
    assert cli("nas", "add", "hq-ccr", "--tenant", "kilimanet", "--ip", "10.0.0.1") == 0
    assert (
        cli(
            "customer",
            "add",
            "wanjiku",
            "--tenant",
            "kilimanet",
            "--full-name",
            "Wanjiku Kamau",
            "--type",
            "PPPOE",
            "--phone",
            "0712 345 678",
            "--package",
            "Home 5 Mbps",
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "RADIUS secret: " in out
    assert "PPPoE password: " in out

    assert cli("customer", "list", "--tenant", "kilimanet", "--json") == 0
    customers = json.loads(capsys.readouterr().out)
    assert [(c["username"], c["phone"], c["account_number"]) for c in customers] == [
        ("wanjiku", "254712345678", "ACC000001")
    ]
    for listing in (
        ["tenant", "list"],
        ["user", "list"],
        ["package", "list", "--tenant", "kilimanet"],
        ["nas", "list", "--tenant", "kilimanet"],
    ):
        assert cli(*listing, "--json") == 0
        assert len(json.loads(capsys.readouterr().out)) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["tenant", "create", "Bad Name", "--display-name", "x"], "lower-case letters"),
        (
            [
                "customer",
                "add",
                "abc",
                "--tenant",
                "nowhere",
                "--full-name",
                "A",
                "--type",
                "PPPOE",
            ],
            "No tenant named 'nowhere'",
        ),
        (
            ["tenant", "create", "ok-name", "--display-name", "x", "--config", "{bad"],
            "not valid JSON",
        ),
        (
            ["tenant", "create", "ok-name", "--display-name", "x", "--timezone", "Mars/Base"],
            "unknown time zone",
        ),
    ],
)
def test_bad_input_exits_non_zero_with_a_one_line_reason(
    cli: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    assert cli(*argv) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("easyisp: error: ")
    assert message in err
    assert len(err.splitlines()) == 1


def test_a_refused_write_leaves_nothing_behind(cli, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert cli("tenant", "create", "acme", "--display-name", "Acme") == 0
    assert cli("tenant", "create", "acme", "--display-name", "Acme again") == 1
    assert "already exists" in capsys.readouterr().err
    assert cli("tenant", "list", "--json") == 0
    assert [t["display_name"] for t in json.loads(capsys.readouterr().out)] == ["Acme"]


def test_db_commands_report_the_revision(cli, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert cli("db", "check") == 0
    assert cli("db", "current", "--json") == 0
    out = capsys.readouterr().out
    state = json.loads(out[out.index("{") :])
    assert state["up_to_date"] is True


def test_commands_refuse_an_unmigrated_database(
    empty_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", empty_db_url, "tenant", "list"]) == 1
    assert "easyisp db upgrade" in capsys.readouterr().err
    assert main(["--database-url", empty_db_url, "db", "check"]) == 1
    assert main(["--database-url", empty_db_url, "db", "upgrade"]) == 0
    assert main(["--database-url", empty_db_url, "db", "check"]) == 0


def test_an_unreachable_server_is_a_plain_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://nobody@127.0.0.1:1/none"
    assert main(["--database-url", url, "tenant", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("easyisp: error: Cannot reach the database")


def test_the_installed_entry_point_runs(fresh_db_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "easyisp_cli.main", "--database-url", fresh_db_url, "db", "current"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "(head)" in result.stdout


def test_the_service_takes_its_radius_address_from_the_settings_unless_given() -> None:
    parser = build_parser()
    default = parser.parse_args(["service"])
    assert not hasattr(default, "radius_auth_addr")  # run_service then reads Settings
    given = parser.parse_args(["service", "--radius-auth-addr", "127.0.0.1:1812"])
    assert given.radius_auth_addr == ("127.0.0.1", 1812)
    assert parser.parse_args(["service", "--radius-auth-addr", "off"]).radius_auth_addr is None


def test_nas_script_prints_and_writes_a_checked_onboarding_script(
    cli: Callable[..., int],
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sqlalchemy.orm import sessionmaker

    from easyisp_core.db.engine import make_engine, session_scope
    from easyisp_core.onboarding.syntax import check_script
    from easyisp_core.services.vpn import VpnSiteInfo, publish_site

    assert cli("tenant", "create", "hillnet", "--display-name", "HillNet") == 0
    assert cli("nas", "add", "hill top", "--tenant", "hillnet", "--ip", "10.0.0.9") == 0
    capsys.readouterr()
    # No site identity yet: a clear refusal, nothing written.
    assert cli("nas", "script", "hill top", "--tenant", "hillnet") != 0
    assert "EASYISP_VPN_ENDPOINT_HOST" in capsys.readouterr().err

    engine = make_engine(fresh_db_url)
    try:
        with session_scope(sessionmaker(engine)) as session:
            publish_site(
                session,
                VpnSiteInfo("wg-easyisp", "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
                            "203.0.113.10", 51820, "10.10.0.0/16"),
            )  # fmt: skip
    finally:
        engine.dispose()

    out = tmp_path / "hill.rsc"
    assert cli("nas", "script", "hill top", "--tenant", "hillnet", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    written = out.read_text(encoding="ascii")
    assert printed == written
    assert check_script(written) == []
    assert "add address=10.10.0.2/16 interface=wg-easyisp" in written
    assert (out.stat().st_mode & 0o777) == 0o600
    # Again: the same peer and address, not a second one.
    assert cli("nas", "script", "hill top", "--tenant", "hillnet", "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["filename"] == "easyisp-hill-top.rsc"
    assert "10.10.0.2/16" in again["text"]
    assert cli("nas", "script", "hill top", "--tenant", "hillnet", "--routeros", "6") == 0
    v6 = capsys.readouterr().out
    assert "NO WireGuard" in v6
    assert "add address=203.0.113.10 secret=" in v6
