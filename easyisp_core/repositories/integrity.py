"""Turn the database's constraint violations into errors an operator understands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from easyisp_core.errors import Conflict, ValidationFailed

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
    "uq_payments_transaction_id": ("transaction_id", "this transaction was already recorded"),
    "uq_vouchers_tenant_id_code": ("code", "this voucher code already exists"),
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


def describe_integrity_error(exc: IntegrityError) -> Conflict | ValidationFailed:
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    sqlstate = getattr(exc.orig, "sqlstate", "") or ""
    field, message = CONSTRAINT_MESSAGES.get(constraint, ("", ""))
    if sqlstate == "23505":  # unique_violation
        return Conflict(
            f"{field.replace('_', ' ').capitalize()}: {message}."
            if field
            else "This record clashes with an existing one."
        )
    if field:
        return ValidationFailed({field: message})
    detail = getattr(diag, "message_primary", None) or str(exc.orig)
    return ValidationFailed({"record": detail}, f"The database refused this change: {detail}")


@contextmanager
def translated_integrity_errors(session: Session) -> Iterator[None]:
    """Flush inside a savepoint so a refused write leaves the unit of work usable."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError as exc:
        raise describe_integrity_error(exc) from exc
