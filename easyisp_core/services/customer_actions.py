"""What front-desk staff do to one customer from the workspace: edit, change package, take a
payment, top up, suspend/reactivate, disconnect now, reset the MAC binding.

Each action runs as the staff member; the database refuses what their role may not do
(grants, RLS, permission-checking functions), whatever the console shows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from ipaddress import IPv4Address
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound, PermissionDenied, ValidationFailed
from easyisp_core.models.enums import CustomerStatus, PaymentMethod, ServiceCommandKind
from easyisp_core.repositories.customer_workspace import CustomerWorkspaceRepository
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.payments import PaymentRepository, WalletRepository
from easyisp_core.rules.phones import normalize_ke_phone
from easyisp_core.schemas.fields import MacAddress
from easyisp_core.schemas.validation import parse
from easyisp_core.services.customer_workspace import CustomerProfile, customer_profile
from easyisp_core.services.results import PaymentInfo
from easyisp_core.services.service_commands import ServiceCommandInfo, queue_command
from easyisp_core.services.session_control import queue_disconnect_if_online

LINE_FIELDS = frozenset({"static_ip", "mac_address"})


class ProfileChanges(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    full_name: str = Field(min_length=1, max_length=200)
    phone: str | None = None
    email: str | None = Field(default=None, max_length=254)
    id_number: str | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=300)
    notes: str | None = Field(default=None, max_length=2000)
    # The line: changed only when given (a caller that leaves them out keeps them).
    static_ip: IPv4Address | None = None
    mac_address: MacAddress | None = None

    @field_validator(
        "phone", "email", "id_number", "address", "notes", "static_ip", "mac_address",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("phone")
    @classmethod
    def _kenyan_phone(cls, value: str | None) -> str | None:
        return normalize_ke_phone(value) if value else None


class CounterPayment(BaseModel):
    """Money taken at the counter: cash, or a bank deposit with its reference."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    method: Literal["CASH", "BANK"]
    reference: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=300)

    @field_validator("reference", "note", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _bank_has_reference(self) -> Self:
        if self.method == "BANK" and not self.reference:
            raise ValueError("a bank payment needs its reference")
        if self.reference is not None and len(self.reference) < 4:
            raise ValueError("a reference has at least 4 characters")
        return self


class WalletTopUp(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    reason: str = Field(min_length=3, max_length=300)


@dataclass(frozen=True)
class Receipt:
    """What a printed receipt shows; the receipt number is derived from the payment's id."""

    number: str
    payment: PaymentInfo
    customer: CustomerProfile


def receipt_number(payment_id: uuid.UUID) -> str:
    return "RCT-" + payment_id.hex[:10].upper()


def update_profile(
    session: Session, customer_id: uuid.UUID, data: ProfileChanges | dict[str, Any]
) -> CustomerProfile:
    changes = data if isinstance(data, ProfileChanges) else parse(ProfileChanges, data)
    values = changes.model_dump()
    for line_field in LINE_FIELDS - changes.model_fields_set:
        del values[line_field]
    if values.get("static_ip") is not None:
        values["static_ip"] = str(values["static_ip"])
    _update(session, customer_id, values)
    return customer_profile(session, customer_id)


def change_package(
    session: Session, customer_id: uuid.UUID, package_id: uuid.UUID | str | None
) -> CustomerProfile:
    try:
        package = uuid.UUID(str(package_id))
    except ValueError:
        raise ValidationFailed({"package_id": "choose a package"}) from None
    _update(session, customer_id, {"package_id": package})
    return customer_profile(session, customer_id)


def set_suspended(session: Session, customer_id: uuid.UUID, suspended: bool) -> CustomerProfile:
    """Suspend or reactivate; a suspended customer who is online is cut at once (a
    DISCONNECT queued in the same transaction, as services.customers.suspend_customer does;
    the expiry sweep would otherwise take up to a minute)."""
    status = CustomerStatus.SUSPENDED if suspended else CustomerStatus.ACTIVE
    _update(session, customer_id, {"status": status})
    profile = customer_profile(session, customer_id)
    if suspended:
        queue_disconnect_if_online(
            session, profile.tenant_id, customer_id, reason="suspended by staff"
        )
    return profile


def reset_mac_binding(session: Session, customer_id: uuid.UUID) -> CustomerProfile:
    """Forget the bound MAC: the next login from any device binds again."""
    _update(session, customer_id, {"mac_address": None})
    return customer_profile(session, customer_id)


def take_payment(
    session: Session, customer_id: uuid.UUID, data: CounterPayment | dict[str, Any]
) -> Receipt:
    """Record a completed cash/bank payment, credited to the wallet (database function)."""
    new = data if isinstance(data, CounterPayment) else parse(CounterPayment, data)
    payments = PaymentRepository(session)
    with translated_db_errors(session):
        payment_id = payments.record_completed(
            customer_id, new.amount, PaymentMethod(new.method), new.reference, new.note
        )
    payment = payments.get(payment_id)
    if payment is None:
        raise NotFound("The payment was recorded but cannot be read back.")
    info = PaymentInfo.of(payment)
    return Receipt(receipt_number(info.id), info, customer_profile(session, customer_id))


def payment_receipt(session: Session, customer_id: uuid.UUID, payment_id: uuid.UUID) -> Receipt:
    """The receipt of one of the customer's completed payments, to print it again."""
    payment = PaymentRepository(session).get(payment_id)
    if payment is None or payment.customer_id != customer_id:
        raise NotFound("No such payment of this customer (or not one you may read).")
    info = PaymentInfo.of(payment)
    if info.status != "COMPLETED":
        raise ValidationFailed(
            {"payment": "not completed"},
            f"This payment is {info.status.lower()}: only a completed payment has a receipt.",
        )
    return Receipt(receipt_number(info.id), info, customer_profile(session, customer_id))


def top_up_wallet(
    session: Session, customer_id: uuid.UUID, data: WalletTopUp | dict[str, Any]
) -> Decimal:
    """A manual credit to the wallet (wallet.adjust, audited); returns the new balance."""
    top_up = data if isinstance(data, WalletTopUp) else parse(WalletTopUp, data)
    with translated_db_errors(session):
        return WalletRepository(session).adjust(customer_id, top_up.amount, top_up.reason)


def disconnect_now(session: Session, customer_id: uuid.UUID) -> ServiceCommandInfo:
    """Queue a DISCONNECT for the site service, aimed at the router of the open session."""
    profile = customer_profile(session, customer_id)
    nas_id = CustomerWorkspaceRepository(session).open_session_nas(customer_id) or profile.nas_id
    return queue_command(
        session,
        kind=ServiceCommandKind.DISCONNECT,
        customer_id=customer_id,
        nas_id=nas_id,
        payload={"username": profile.username},
    )


def _update(session: Session, customer_id: uuid.UUID, values: dict[str, Any]) -> None:
    with translated_db_errors(session):
        changed = CustomerWorkspaceRepository(session).update(customer_id, values)
    if changed == 0:
        # RLS filters an UPDATE the role may not make down to no rows; the customer itself is
        # still readable, so say what really happened.
        CustomerWorkspaceRepository(session).profile(customer_id)  # NotFound when not visible
        raise PermissionDenied("You do not have permission to change this customer.")
    if changed != 1:
        raise ValidationFailed({"customer": "more than one customer matched"})
