"""Turn the database's refusals into errors an operator understands."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from easyisp_core.errors import (
    Conflict,
    EasyIspError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

# constraint name -> (field, message). Unique constraints become Conflict, checks ValidationFailed.
CONSTRAINT_MESSAGES: dict[str, tuple[str, str]] = {
    "uq_tenants_name": ("name", "a tenant with this name already exists"),
    "uq_users_username": ("username", "this staff username is already taken"),
    "uq_customers_tenant_id_username": ("username", "this username is already taken"),
    "uq_customers_tenant_id_account_number": ("account_number", "this account number is taken"),
    "uq_packages_tenant_id_name": ("name", "a package with this name already exists"),
    "uq_nas_tenant_id_name": ("name", "a router with this name already exists"),
    "uq_nas_ip_address": ("ip_address", "another router already uses this address"),
    "uq_nas_vpn_ip": ("vpn_ip", "another router already uses this VPN address"),
    "uq_vpn_peers_assigned_ip": ("assigned_ip", "another router already uses this VPN address"),
    "uq_vpn_peers_nas_id": ("nas", "this router already has a VPN peer"),
    "uq_vpn_peers_public_key": ("public_key", "another VPN peer already uses this key"),
    "uq_payments_transaction_id": ("transaction_id", "this transaction was already recorded"),
    "uq_vouchers_tenant_id_code": ("code", "this voucher code already exists"),
    "uq_payment_gateways_tenant_id_name": ("name", "a payment gateway with this name exists"),
    "uq_payment_gateways_tenant_id_purpose_active": (
        "purpose",
        "an active payment gateway already serves this purpose; deactivate it first",
    ),
    "uq_sms_gateways_tenant_id_name": ("name", "an SMS gateway with this name exists"),
    "uq_sms_gateways_tenant_id_default": (
        "is_default",
        "another SMS gateway is the default; clear it there first",
    ),
    "uq_chart_of_accounts_tenant_id_code": ("code", "another account already has this code"),
    "ck_chart_of_accounts_code_digits": ("code", "use 3-10 digits"),
    "fk_chart_of_accounts_parent_id_chart_of_accounts": (
        "code",
        "other accounts sit under this one; move or delete them first",
    ),
    "ck_payment_gateways_shortcode_digits": ("shortcode", "use 5-7 digits"),
    "uq_router_groups_tenant_id_name": ("name", "a router group with this name already exists"),
    "ck_customers_wallet_not_negative": ("amount", "the wallet balance is not enough"),
    "ck_customers_phone_e164_ke": ("phone", "not a Kenyan mobile number"),
    "ck_customers_static_needs_ip": ("static_ip", "a STATIC customer needs an IP address"),
    "ck_customers_username_format": ("username", "use 3-64 letters, digits or . _ @ -"),
    "ck_users_username_format": (
        "username",
        "use 3-40 lower-case letters, digits or . _ -, starting with a letter",
    ),
    "ck_tenants_name_slug": ("name", "use lower-case letters, digits and dashes"),
}


_PERMISSION_SQLSTATES = {"42501"}  # insufficient_privilege (grants, RLS, our functions)
_NOT_FOUND_SQLSTATES = {"P0002"}  # no_data_found, raised by our functions
_INVALID_SQLSTATES = {"22023", "23514", "23502", "22P02", "23503"}


def describe_db_error(exc: DBAPIError) -> EasyIspError:
    """The database refused a statement: say why in the operator's terms."""
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    sqlstate = getattr(exc.orig, "sqlstate", "") or ""
    detail = (getattr(diag, "message_primary", None) or str(exc.orig)).strip()
    field, message = CONSTRAINT_MESSAGES.get(constraint, ("", ""))
    if sqlstate in _PERMISSION_SQLSTATES:
        return PermissionDenied(_permission_message(detail))
    if sqlstate in _NOT_FOUND_SQLSTATES:
        return NotFound(detail[:1].upper() + detail[1:] + ".")
    if sqlstate in ("23505", "42710"):  # unique_violation, duplicate_object
        if field:
            return Conflict(f"{field.replace('_', ' ').capitalize()}: {message}.")
        return Conflict(detail[:1].upper() + detail[1:] + ".")
    if field:
        return ValidationFailed({field: message})
    if sqlstate in _INVALID_SQLSTATES or sqlstate.startswith("22"):
        return ValidationFailed({"record": detail}, f"The database refused this change: {detail}")
    raise exc


def conflict_field_errors(exc: BaseException) -> dict[str, str]:
    """The field a duplicate-value refusal belongs to ({} when unknown), read from the
    database error it was translated from, so a form can show it next to that field."""
    cause = exc.__cause__
    diag = getattr(getattr(cause, "orig", None), "diag", None)
    field, message = CONSTRAINT_MESSAGES.get(getattr(diag, "constraint_name", None) or "", ("", ""))
    return {field: message} if field else {}


def _permission_message(detail: str) -> str:
    if detail.startswith("permission denied: "):
        return (
            "You do not have permission to do this: "
            + detail.removeprefix("permission denied: ")
            + "."
        )
    table = re.search(r"(?:table|relation) (\w+)", detail)
    what = table.group(1).replace("_", " ") if table else "this"
    return f"You do not have permission to change or see {what}."


@contextmanager
def translated_db_errors(session: Session) -> Iterator[None]:
    """Flush inside a savepoint so a refused write leaves the unit of work usable, and turn
    the refusal into an error the operator understands."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except DBAPIError as exc:
        raise describe_db_error(exc) from exc
    except StaleDataError as exc:
        # Row-level security hides a row from UPDATE/DELETE without an error: the statement
        # touched nothing. (A row deleted by someone else meanwhile reads the same.)
        raise PermissionDenied(
            "You do not have permission to change this, or someone else deleted it meanwhile."
        ) from exc
