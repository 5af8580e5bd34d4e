"""The gateway forms' fields, and the mapping between a form's flat values and the core's
nested settings (config) and credentials. Secrets never come back from the core."""

from __future__ import annotations

from typing import Any

from easyisp_core.models.enums import SmsProvider
from easyisp_core.services.gateway_edits import PaymentGatewayFields, SmsGatewayFields
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.forms import Values

MPESA_SECRETS = ("consumer_key", "consumer_secret", "passkey")
# Optional: the API operator Transaction Status (reconciliation) runs as.
MPESA_INITIATOR = ("initiator_name", "security_credential")
SMS_SECRETS = ("api_key",)
PROVIDERS = (("MPESA_PAYBILL", "M-Pesa paybill"), ("MPESA_TILL", "M-Pesa till (Buy Goods)"))
PURPOSES = (("ALL", "Hotspot and PPPoE"), ("HOTSPOT", "Hotspot only"), ("PPPOE", "PPPoE only"))
ENVIRONMENTS = (
    ("sandbox", "Sandbox (Daraja test)"),
    ("production", "Production"),
    ("simulator", "Simulator (this site's test double)"),
)
SEALED = "Credentials (stored encrypted, never shown again)"


def _secret(key: str, label: str, new: bool) -> forms.Field:
    hint = "" if new else "left empty: the stored one is kept"
    return forms.password(key, label, required=new, help=hint, section=SEALED)


def mpesa_fields(*, new: bool) -> tuple[forms.Field, ...]:
    return (
        forms.text("name", "Name", required=True, placeholder="Main paybill"),
        forms.choice("provider", "Type", PROVIDERS),
        forms.choice("purpose", "Used for", PURPOSES,
                     help="one active gateway per use; hotspot and PPPoE may differ"),
        forms.text("shortcode", "Shortcode", required=True, placeholder="174379",
                   help="the paybill number, or the Buy Goods store number"),
        forms.text("till_number", "Till number", help="only when it differs from the shortcode"),
        forms.choice("environment", "Environment", ENVIRONMENTS, error_keys=("config",)),
        forms.text("base_url", "Daraja address", placeholder="https://…",
                   help="only for the simulator or a proxy"),
        forms.text("allowed_callback_ips", "Callback sources",
                   placeholder="196.201.214.0/24, 196.201.213.114",
                   help="addresses Daraja calls back from; empty: any"),
        _secret("consumer_key", "Consumer key", new),
        _secret("consumer_secret", "Consumer secret", new),
        _secret("passkey", "Passkey", new),
        forms.password("initiator_name", "Initiator name", section=SEALED,
                       help="optional, for Transaction Status; give both or neither"),
        forms.password("security_credential", "Security credential", section=SEALED,
                       help="the initiator's credential as the Daraja portal encrypts it"),
    )  # fmt: skip


def mpesa_values(values: Values) -> dict[str, Any]:
    """The form's flat values → NewPaymentGateway / PaymentGatewayFields."""
    config: dict[str, Any] = {
        "environment": values["environment"],
        "allowed_callback_ips": [
            part.strip()
            for part in (values.get("allowed_callback_ips") or "").split(",")
            if part.strip()
        ],
    }
    for key in ("till_number", "base_url"):
        if values.get(key):
            config[key] = values[key]
    return {
        "name": values["name"],
        "provider": values["provider"],
        "purpose": values["purpose"],
        "shortcode": values["shortcode"],
        "config": config,
        "credentials": {
            key: values[key] for key in (*MPESA_SECRETS, *MPESA_INITIATOR) if values.get(key)
        },
    }


def mpesa_form_values(fields: PaymentGatewayFields) -> Values:
    config = fields.config
    return {
        "name": fields.name,
        "provider": fields.provider,
        "purpose": fields.purpose,
        "shortcode": fields.shortcode,
        "till_number": config.get("till_number"),
        "environment": config.get("environment", "sandbox"),
        "base_url": config.get("base_url"),
        "allowed_callback_ips": ", ".join(config.get("allowed_callback_ips", [])),
    }


def sms_fields(*, new: bool) -> tuple[forms.Field, ...]:
    return (
        forms.text("name", "Name", required=True, placeholder="Africa's Talking"),
        forms.choice("provider", "Provider", SmsProvider),
        forms.text("sender_id", "Sender ID", placeholder="KILIMANET", help="up to 11 characters"),
        forms.text("username", "Account username", help="Africa's Talking: the app's username"),
        forms.boolean("is_default", "Default gateway"),
        _secret("api_key", "API key", new),
    )


def sms_values(values: Values) -> dict[str, Any]:
    config = {"username": values["username"]} if values.get("username") else {}
    return {
        "name": values["name"],
        "provider": values["provider"],
        "sender_id": values.get("sender_id"),
        "config": config,
        "credentials": {key: values[key] for key in SMS_SECRETS if values.get(key)},
        "is_default": bool(values.get("is_default")),
    }


def sms_form_values(fields: SmsGatewayFields) -> Values:
    return {
        "name": fields.name,
        "provider": fields.provider,
        "sender_id": fields.sender_id,
        "username": fields.config.get("username"),
        "is_default": fields.is_default,
    }
