"""`easyisp gateway` against a fresh database and the Daraja simulator over real HTTP."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from easyisp_cli.main import main
from easyisp_core.crypto import SecretBox, load_or_create_site_key
from easyisp_core.db.engine import make_engine
from easyisp_core.services.gateways import PAYMENT_CREDENTIALS
from radius_service.simulator.daraja.runner import DarajaSimulator
from radius_service.simulator.daraja.state import SANDBOX_PASSKEY, SANDBOX_SHORTCODE

PUBLIC_URL = "https://pay.kilimanet.example"
SIM_SECRET = "easyisp-sim-secret"


@pytest.fixture
def cli(fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    monkeypatch.setenv("EASYISP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EASYISP_PUBLIC_URL", PUBLIC_URL)

    def run(*argv: str, stdin: str = "") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return main(["--database-url", fresh_db_url, *argv])

    assert run("tenant", "create", "kilimanet", "--display-name", "KilimaNet Ltd") == 0
    return run


@pytest.fixture
def daraja() -> Iterator[DarajaSimulator]:
    with DarajaSimulator() as sim:
        yield sim


def _add(cli: Callable[..., int], *extra: str, shortcode: str = SANDBOX_SHORTCODE) -> int:
    return cli(
        "gateway",
        "add-mpesa",
        "hotspot-paybill",
        "--tenant",
        "kilimanet",
        "--shortcode",
        shortcode,
        "--purpose",
        "hotspot",
        "--consumer-key",
        "easyisp-sim-key",
        "--consumer-secret-stdin",
        "--passkey-stdin",
        *extra,
        stdin=f"{SIM_SECRET}\n{SANDBOX_PASSKEY}\n",
    )


def _listed(cli: Callable[..., int], capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert cli("gateway", "list", "--tenant", "kilimanet", "--json") == 0
    rows: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return rows


def test_add_list_and_register_c2b_with_the_simulator(
    cli: Callable[..., int], daraja: DarajaSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert _add(cli, "--environment", "simulator", "--base-url", daraja.url) == 0
    added = capsys.readouterr().out
    assert f"{PUBLIC_URL}/pay/" in added
    assert "/c2b/confirmation" in added
    assert SIM_SECRET not in added
    assert SANDBOX_PASSKEY not in added

    assert cli("gateway", "list", "--tenant", "kilimanet") == 0
    table = capsys.readouterr().out
    assert "hotspot-paybill" in table
    assert "HOTSPOT" in table
    rows = _listed(cli, capsys)
    assert [(r["name"], r["environment"], r["is_active"]) for r in rows] == [
        ("hotspot-paybill", "simulator", True)
    ]
    assert SIM_SECRET not in json.dumps(rows)
    assert SANDBOX_PASSKEY not in json.dumps(rows)

    assert cli("gateway", "register-c2b", "hotspot-paybill", "--tenant", "kilimanet", "--json") == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["response_code"] == "0"
    registered = daraja.state.c2b_urls[SANDBOX_SHORTCODE]
    assert registered.confirmation_url == answer["confirmation_url"]
    assert registered.validation_url == answer["validation_url"]
    assert registered.confirmation_url.startswith(f"{PUBLIC_URL}/pay/")
    assert registered.response_type == "Completed"


def test_daraja_refusing_the_registration_is_a_one_line_error(
    cli: Callable[..., int], daraja: DarajaSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # The simulator knows only its sandbox shortcode: another is refused like Daraja does.
    assert (
        _add(cli, "--environment", "simulator", "--base-url", daraja.url, shortcode="600999") == 0
    )
    capsys.readouterr()
    assert cli("gateway", "register-c2b", "hotspot-paybill", "--tenant", "kilimanet") == 1
    err = capsys.readouterr().err
    assert err.startswith("easyisp: error:")
    assert err.count("\n") == 1
    assert daraja.state.c2b_urls == {}


def test_deactivated_gateway_is_listed_inactive_and_not_registered(
    cli: Callable[..., int], daraja: DarajaSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add(cli, "--environment", "simulator", "--base-url", daraja.url) == 0
    assert cli("gateway", "deactivate", "hotspot-paybill", "--tenant", "kilimanet") == 0
    assert [r["is_active"] for r in _listed(cli, capsys)] == [False]
    assert cli("gateway", "register-c2b", "hotspot-paybill", "--tenant", "kilimanet") == 2
    assert "deactivated" in capsys.readouterr().err
    assert daraja.state.c2b_urls == {}


@pytest.mark.parametrize(
    ("extra", "shortcode", "code", "message"),
    [
        (["--environment", "sandbox"], "12ab", 2, "shortcode"),
        (
            ["--environment", "sandbox", "--till", "--till-number", "99"],
            SANDBOX_SHORTCODE,
            2,
            "till_number",
        ),
        (
            ["--environment", "production", "--base-url", "http://api.example"],
            SANDBOX_SHORTCODE,
            2,
            "https",
        ),
        (["--environment", "simulator"], SANDBOX_SHORTCODE, 2, "base_url"),
        (
            ["--environment", "sandbox", "--allowed-callback-ip", "not-an-ip"],
            SANDBOX_SHORTCODE,
            2,
            "not an IP",
        ),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(
    cli: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    shortcode: str,
    code: int,
    message: str,
) -> None:
    capsys.readouterr()
    assert _add(cli, *extra, shortcode=shortcode) == code
    err = capsys.readouterr().err
    assert message in err
    assert SIM_SECRET not in err
    assert _listed(cli, capsys) == []


def test_unknown_tenant_is_refused(
    cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli("gateway", "list", "--tenant", "nobody") == 1
    assert "No tenant named 'nobody'" in capsys.readouterr().err
    assert (
        cli(
            "gateway",
            "add-mpesa",
            "x",
            "--tenant",
            "nobody",
            "--shortcode",
            SANDBOX_SHORTCODE,
            "--consumer-key",
            "k",
            "--consumer-secret-stdin",
            "--passkey-stdin",
            stdin="s\np\n",
        )
        == 1
    )
    assert _listed(cli, capsys) == []


@pytest.mark.parametrize(
    "option", ["--consumer-secret", "--passkey", "--passkey=hunter2", "--security-credential"]
)
def test_a_secret_on_the_command_line_is_not_accepted(
    cli: Callable[..., int], capsys: pytest.CaptureFixture[str], option: str
) -> None:
    argv = [option] if "=" in option else [option, "hunter2"]
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        _add(cli, "--environment", "sandbox", *argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "never taken on the command line" in err
    assert "hunter2" not in err
    assert _listed(cli, capsys) == []


def test_empty_secret_on_stdin_is_refused(
    cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["gateway", "add-mpesa", "x", "--tenant", "kilimanet", "--shortcode", "174379"]
    args += ["--consumer-key", "k", "--consumer-secret-stdin", "--passkey-stdin"]
    assert cli(*args, stdin="only-the-secret\n") == 2
    assert _listed(cli, capsys) == []


@pytest.mark.parametrize(
    ("public_url", "environment", "message"),
    [
        ("https://mpesa.kilimanet.example", "sandbox", "refuses URLs containing"),
        ("http://pay.kilimanet.example", "production", "only to https"),
    ],
)
def test_callback_urls_daraja_would_refuse_store_nothing(
    cli: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    public_url: str,
    environment: str,
    message: str,
) -> None:
    monkeypatch.setenv("EASYISP_PUBLIC_URL", public_url)
    capsys.readouterr()
    assert _add(cli, "--environment", environment) == 2
    assert message in capsys.readouterr().err
    assert _listed(cli, capsys) == []


def test_unset_public_url_warns_and_register_c2b_explains(
    cli: Callable[..., int],
    daraja: DarajaSimulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EASYISP_PUBLIC_URL")
    capsys.readouterr()
    assert _add(cli, "--environment", "simulator", "--base-url", daraja.url) == 0
    assert "EASYISP_PUBLIC_URL is not set" in capsys.readouterr().err
    assert cli("gateway", "register-c2b", "hotspot-paybill", "--tenant", "kilimanet") == 2
    assert "EASYISP_PUBLIC_URL" in capsys.readouterr().err
    assert daraja.state.c2b_urls == {}


def test_a_second_active_gateway_for_the_same_purpose_is_refused(
    cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add(cli, "--environment", "sandbox") == 0
    capsys.readouterr()
    assert _add(cli, "--environment", "sandbox") == 1
    assert "a payment gateway with this name exists" in capsys.readouterr().err
    other = ["gateway", "add-mpesa", "second", "--tenant", "kilimanet", "--shortcode", "600100"]
    other += ["--purpose", "hotspot", "--consumer-key", "k"]
    other += ["--consumer-secret-stdin", "--passkey-stdin"]
    assert cli(*other, stdin="s\np\n") == 1
    err = capsys.readouterr().err
    assert "deactivate it first" in err
    assert err.count("\n") == 1
    assert [r["name"] for r in _listed(cli, capsys)] == ["hotspot-paybill"]
    # Once the first is switched off, the replacement is accepted.
    assert cli("gateway", "deactivate", "hotspot-paybill", "--tenant", "kilimanet") == 0
    assert cli(*other, stdin="s\np\n") == 0


def test_unreachable_daraja_is_a_one_line_error(
    cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    with DarajaSimulator() as stopped:
        address = stopped.url  # nothing listens here once the simulator has stopped
    assert _add(cli, "--environment", "simulator", "--base-url", address) == 0
    capsys.readouterr()
    assert cli("gateway", "register-c2b", "hotspot-paybill", "--tenant", "kilimanet") == 1
    err = capsys.readouterr().err
    assert err.startswith("easyisp: error:")
    assert err.count("\n") == 1


def test_the_transaction_status_initiator_is_read_from_stdin_and_sealed(
    cli: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
    fresh_db_url: str,
    tmp_path: Path,
) -> None:
    credential = "Qm9ndXMtc2VjdXJpdHktY3JlZGVudGlhbA=="
    capsys.readouterr()
    args = ["gateway", "add-mpesa", "home", "--tenant", "kilimanet", "--shortcode", "174379"]
    args += ["--consumer-key", "k", "--consumer-secret-stdin", "--passkey-stdin"]
    args += ["--initiator-name", "reconcile-api", "--security-credential-stdin"]
    assert cli(*args, stdin=f"{SIM_SECRET}\n{SANDBOX_PASSKEY}\n{credential}\n") == 0
    out = capsys.readouterr().out
    assert f"{PUBLIC_URL}/pay/" in out
    assert "/status/result" in out
    assert "/status/timeout" in out
    assert credential not in out
    engine = make_engine(fresh_db_url)
    try:
        with engine.connect() as conn:
            sealed = conn.execute(text("SELECT credentials_enc FROM payment_gateways")).scalar_one()
    finally:
        engine.dispose()
    assert credential.encode() not in sealed
    box = SecretBox.from_encoded(load_or_create_site_key(tmp_path / "data" / "site.key"))
    stored = json.loads(box.decrypt(sealed, PAYMENT_CREDENTIALS))
    assert stored["initiator_name"] == "reconcile-api"
    assert stored["security_credential"] == credential


@pytest.mark.parametrize(
    ("extra", "stdin"),
    [
        (["--initiator-name", "api", "--security-credential-stdin"], "s\np\n\n"),  # empty
        (["--security-credential-stdin"], "s\np\ncred\n"),  # no initiator name
    ],
)
def test_an_incomplete_initiator_is_refused_and_stores_nothing(
    cli: Callable[..., int], capsys: pytest.CaptureFixture[str], extra: list[str], stdin: str
) -> None:
    args = ["gateway", "add-mpesa", "x", "--tenant", "kilimanet", "--shortcode", "174379"]
    args += ["--consumer-key", "k", "--consumer-secret-stdin", "--passkey-stdin", *extra]
    assert cli(*args, stdin=stdin) == 2
    assert _listed(cli, capsys) == []
