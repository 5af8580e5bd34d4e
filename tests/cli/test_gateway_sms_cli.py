"""`easyisp gateway add-sms` / `list-sms` against a fresh database: the key from stdin, never
printed; the delivery-report URL shown; the gateway then usable by the sender."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.cli.test_gateway_cli import PUBLIC_URL
from tests.cli.test_gateway_cli import cli as cli


def test_add_sms_prints_the_dlr_url_and_lists_without_secrets(
    cli: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    added = cli(
        "gateway",
        "add-sms",
        "at",
        "--tenant",
        "kilimanet",
        "--provider",
        "africastalking",
        "--username",
        "sandbox",
        "--sender-id",
        "KILIMANET",
        "--default",
        "--api-key-stdin",
        "--json",
        stdin="atsk_secret_key\n",
    )
    assert added == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["dlr_url"].startswith(f"{PUBLIC_URL}/sms/")
    assert answer["dlr_url"].endswith("/dlr")

    assert cli("gateway", "list-sms", "--tenant", "kilimanet", "--json") == 0
    out = capsys.readouterr().out
    assert "atsk_secret_key" not in out
    [row] = json.loads(out)
    assert (row["name"], row["provider"], row["sender_id"], row["is_default"]) == (
        "at",
        "AFRICASTALKING",
        "KILIMANET",
        True,
    )
    assert answer["dlr_url"].endswith(row["dlr_path"])


def test_add_sms_needs_the_providers_account_fields_and_a_key(
    cli: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    def add(*extra: str, key: str = "k") -> int:
        return cli(
            "gateway",
            "add-sms",
            "x",
            "--tenant",
            "kilimanet",
            "--api-key-stdin",
            *extra,
            stdin=f"{key}\n",
        )

    capsys.readouterr()
    assert add("--provider", "advanta") != 0
    assert "partner ID" in capsys.readouterr().err
    assert add("--provider", "africastalking") != 0
    assert "username" in capsys.readouterr().err
    assert add("--provider", "celcom", "--partner-id", "77", key="") != 0
    assert "empty" in capsys.readouterr().err
    assert cli("gateway", "list-sms", "--tenant", "kilimanet", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
