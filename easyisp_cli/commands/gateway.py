"""`easyisp gateway`: a tenant's M-Pesa gateways and their C2B URL registration with Daraja.

Secrets (consumer secret, passkey, the initiator's security credential) are read from stdin
or a prompt, never from argv: argv is
visible to every local user in `ps` and lands in shell history."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from typing import Any

from easyisp_cli.commands.gateway_sms import register_sms_gateway
from easyisp_cli.context import CliContext
from easyisp_core.errors import ValidationFailed
from easyisp_core.services.gateway_admin import (
    C2bRegistrationPlan,
    callback_urls,
    deactivate_payment_gateway,
    list_payment_gateways,
    plan_c2b_registration,
)
from easyisp_core.services.gateways import create_payment_gateway

PURPOSES = {"hotspot": "HOTSPOT", "pppoe": "PPPOE", "all": "ALL"}
SECRET_OPTIONS = ("--consumer-secret", "--passkey", "--security-credential")


class _RefuseSecretOnArgv(argparse.Action):
    """Answers a secret given on the command line with a usage error that does not echo it."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            f"{option_string} is never taken on the command line (it would show in ps and "
            f"shell history); use {option_string}-stdin or answer the prompt"
        )


def register(sub: Any) -> None:
    parser = sub.add_parser("gateway", help="M-Pesa payment gateways (Daraja) and SMS gateways")
    gsub = parser.add_subparsers(dest="gateway_command", metavar="ACTION", required=True)

    # No abbreviations: `--passkey` must not silently mean `--passkey-stdin`.
    add = gsub.add_parser(
        "add-mpesa",
        help="configure a tenant's M-Pesa paybill or till",
        allow_abbrev=False,
        description="Secrets come from stdin (one per line: consumer secret, then passkey, "
        "then the security credential) with the -stdin flags, else from a prompt.",
    )
    add.add_argument("name")
    add.add_argument("--tenant", required=True)
    add.add_argument("--shortcode", required=True, help="paybill number, or Buy Goods store")
    add.add_argument("--till", action="store_true", help="a Buy Goods till, not a paybill")
    add.add_argument(
        "--till-number", metavar="NUMBER", help="the till when it differs from --shortcode"
    )
    add.add_argument("--purpose", choices=sorted(PURPOSES), default="all")
    add.add_argument(
        "--environment", choices=("sandbox", "production", "simulator"), default="sandbox"
    )
    add.add_argument("--base-url", help="Daraja address (required for the simulator)")
    add.add_argument("--consumer-key", required=True)
    add.add_argument("--consumer-secret-stdin", action="store_true")
    add.add_argument("--passkey-stdin", action="store_true")
    add.add_argument(
        "--initiator-name",
        metavar="NAME",
        help="the API operator Transaction Status runs as (reconciliation of missing receipts)",
    )
    add.add_argument(
        "--security-credential-stdin",
        action="store_true",
        help="read that operator's security credential (as the Daraja portal encrypts it) "
        "from stdin; with --initiator-name and without this flag it is prompted for",
    )
    add.add_argument(
        "--allowed-callback-ip",
        metavar="CIDR",
        action="append",
        default=[],
        help="address or network Daraja calls back from (repeatable; none = any source)",
    )
    for option in SECRET_OPTIONS:
        add.add_argument(option, action=_RefuseSecretOnArgv, help=argparse.SUPPRESS)
    add.add_argument("--json", action="store_true", help="machine-readable output")
    add.set_defaults(handler=_add)

    listing = gsub.add_parser("list", help="list a tenant's payment gateways (no secrets)")
    listing.add_argument("--tenant", required=True)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_list)

    c2b = gsub.add_parser("register-c2b", help="register the gateway's C2B URLs with Daraja")
    c2b.add_argument("name")
    c2b.add_argument("--tenant", required=True)
    c2b.add_argument(
        "--response-type",
        choices=("Completed", "Cancelled"),
        default="Completed",
        help="what M-Pesa does when validation does not answer in time",
    )
    c2b.add_argument("--json", action="store_true", help="machine-readable output")
    c2b.set_defaults(handler=_register_c2b)

    off = gsub.add_parser("deactivate", help="stop using a gateway (kept for its history)")
    off.add_argument("name")
    off.add_argument("--tenant", required=True)
    off.add_argument("--json", action="store_true", help="machine-readable output")
    off.set_defaults(handler=_deactivate)
    register_sms_gateway(gsub)


def _read_secret(from_stdin: bool, label: str) -> str:
    """One secret: a stdin line with the -stdin flag, else a prompt on the terminal."""
    if from_stdin:
        return sys.stdin.readline().strip()
    if not sys.stdin.isatty():
        raise ValidationFailed({label: "no terminal to prompt on; use the -stdin flag"})
    return getpass.getpass(f"{label}: ").strip()


def _read_secrets(args: argparse.Namespace) -> tuple[str, str]:
    """Consumer secret then passkey: a stdin line each for the -stdin flags, else a prompt."""
    secret = _read_secret(args.consumer_secret_stdin, "consumer secret")
    passkey = _read_secret(args.passkey_stdin, "passkey")
    for label, value in (("consumer secret", secret), ("passkey", passkey)):
        if not value:
            raise ValidationFailed({label: "is empty"})
    return secret, passkey


def _read_initiator(args: argparse.Namespace) -> dict[str, str]:
    """The Transaction Status operator: its name from argv, its credential like the other
    secrets (read after them, so the stdin lines keep their order)."""
    if args.initiator_name is None:
        if args.security_credential_stdin:
            raise ValidationFailed({"initiator name": "--security-credential-stdin needs it"})
        return {}
    credential = _read_secret(args.security_credential_stdin, "security credential")
    if not credential:
        raise ValidationFailed({"security credential": "is empty"})
    return {"initiator_name": args.initiator_name, "security_credential": credential}


def _add(ctx: CliContext, args: argparse.Namespace) -> int:
    consumer_secret, passkey = _read_secrets(args)
    initiator = _read_initiator(args)
    config: dict[str, Any] = {
        "environment": args.environment,
        "allowed_callback_ips": args.allowed_callback_ip,
    }
    if args.base_url:
        config["base_url"] = args.base_url
    if args.till_number:
        config["till_number"] = args.till_number
    data = {
        "tenant": args.tenant,
        "name": args.name,
        "provider": "MPESA_TILL" if args.till else "MPESA_PAYBILL",
        "purpose": PURPOSES[args.purpose],
        "shortcode": args.shortcode,
        "config": config,
        "credentials": {
            "consumer_key": args.consumer_key,
            "consumer_secret": consumer_secret,
            "passkey": passkey,
            **initiator,
        },
    }
    public_url = ctx.settings.public_url
    with ctx.unit_of_work() as session:
        info = create_payment_gateway(session, ctx.secret_box(), data)
        # Checked before the commit: URLs Daraja would refuse leave nothing stored.
        urls = None
        if public_url and info.callback_token:
            urls = callback_urls(public_url, info.callback_token, args.environment)
    lines = [f"Added M-Pesa gateway {info.name} ({args.purpose}, shortcode {args.shortcode})"]
    if urls is None:
        print(
            "easyisp: warning: EASYISP_PUBLIC_URL is not set; set it to the site's public "
            "https address, then run `easyisp gateway register-c2b`",
            file=sys.stderr,
        )
    else:
        lines += [
            "Callback URLs to give Daraja:",
            f"  STK callback:     {urls.stk}",
            f"  C2B validation:   {urls.validation}",
            f"  C2B confirmation: {urls.confirmation}",
            f"  Status result:    {urls.status_result}",
            f"  Status timeout:   {urls.status_timeout}",
        ]
    ctx.emit({"id": info.id, "name": info.name, "callback_urls": urls}, text="\n".join(lines))
    return 0


def _list(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        rows = list_payment_gateways(session, args.tenant)
    ctx.emit_table(
        rows,
        ["name", "provider", "purpose", "shortcode", "till_number", "environment", "is_active"],
    )
    return 0


def _register_c2b(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        plan = plan_c2b_registration(
            session, ctx.secret_box(), args.tenant, args.name, ctx.settings.public_url
        )
    answer = asyncio.run(_call_daraja(plan, args.response_type))
    ctx.emit(
        {
            **answer.__dict__,
            "confirmation_url": plan.urls.confirmation,
            "validation_url": plan.urls.validation,
        },
        text=f"Daraja: {answer.response_description} (code {answer.response_code})\n"
        f"  confirmation: {plan.urls.confirmation}\n  validation:   {plan.urls.validation}",
    )
    return 0


async def _call_daraja(plan: C2bRegistrationPlan, response_type: str) -> Any:
    # The site service's Daraja client, imported here so other commands do not load httpx.
    from radius_service.mpesa.client import DarajaClient
    from radius_service.mpesa.stk_flow import daraja_base_url

    settings = plan.settings
    async with DarajaClient(
        daraja_base_url(settings),
        settings.credentials.consumer_key,
        settings.credentials.consumer_secret,
    ) as client:
        return await client.register_c2b_urls(
            shortcode=settings.shortcode,
            confirmation_url=plan.urls.confirmation,
            validation_url=plan.urls.validation,
            response_type=response_type,
        )


def _deactivate(ctx: CliContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as session:
        row = deactivate_payment_gateway(session, args.tenant, args.name)
    ctx.emit(row, text=f"Deactivated payment gateway {row.name}")
    return 0
