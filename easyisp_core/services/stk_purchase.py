"""Buying a hotspot package by STK push, the database side: plan a push (gateway, package,
device account, normalised phone), record the pending request Daraja accepted, settle an
unanswered push from STK Push Query through the callback path, and tell the portal where a
purchase stands and which login the router should get.

Daraja itself is called by radius_service.mpesa.stk_flow; nothing here touches the network."""

from __future__ import annotations

import json
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import ValidationFailed
from easyisp_core.models import PaymentGateway, PendingHotspotPayment
from easyisp_core.models.enums import (
    GatewayPurpose,
    HotspotPaymentStatus,
    MpesaCallbackKind,
    MpesaCallbackOutcome,
)
from easyisp_core.repositories.hotspot_purchases import (
    HotspotPurchaseRepository,
    PackageOffer,
)
from easyisp_core.repositories.mpesa_callbacks import MpesaCallbackRepository, NewCallback
from easyisp_core.rules.hotspot_login import (
    HotspotLogin,
    ReceiptRefusal,
    hotspot_login,
    receipt_login,
)
from easyisp_core.rules.hotspot_signup import SignupRefusal, SignupRefused
from easyisp_core.rules.phones import normalize_ke_phone
from easyisp_core.rules.radius_auth import normalize_mac
from easyisp_core.schemas.gateway_config import MpesaCredentials, MpesaGatewayConfig
from easyisp_core.schemas.tenant_config import BrandingSettings, TenantConfig
from easyisp_core.services.customers import CUSTOMER_PASSWORD
from easyisp_core.services.gateways import PAYMENT_CREDENTIALS
from easyisp_core.services.mpesa_callbacks import Processed, process

log = logging.getLogger(__name__)

# "I have already paid" finds payments this recent only.
RECEIPT_LOGIN_WINDOW = timedelta(days=7)
# ... and a phone number (typed instead of a receipt) finds its payments of the last day.
PHONE_LOGIN_WINDOW = timedelta(days=1)
# Digits, spaces, '+' and '-' only: a phone number. Receipts always start with a letter.
_PHONE_TYPED = re.compile(r"\+?[\d\s-]{9,20}")
SIGNUP_OFF = "this network does not create accounts for new devices"
# Where the query-settled "callback" came from, for whoever reviews the raw store.
QUERY_SOURCE_NOTE = "settled by STK Push Query (no callback arrived)"


@dataclass(frozen=True)
class GatewaySettings:
    """What calling Daraja for one gateway needs (credentials decrypted)."""

    gateway_id: uuid.UUID
    shortcode: str
    config: MpesaGatewayConfig
    credentials: MpesaCredentials
    callback_token: str


@dataclass(frozen=True)
class DeviceSignup:
    """The account a new device gets when its push is accepted."""

    mac: str
    phone: str
    password_enc: bytes
    username: str


@dataclass(frozen=True)
class PushPlan:
    tenant_id: uuid.UUID
    gateway: GatewaySettings
    package_id: uuid.UUID
    package_name: str
    amount: Decimal
    phone: str
    mac_address: str | None
    ip_address: str | None
    nas_id: uuid.UUID | None
    # None only when no account matches and the router sent no MAC (nothing to bind an
    # account to): the money then goes to suspense for staff.
    customer_id: uuid.UUID | None
    account_reference: str
    # A new device's account, made only once Daraja accepted the push (record_push).
    signup: DeviceSignup | None = None


@dataclass(frozen=True)
class PurchaseStatus:
    status: HotspotPaymentStatus
    result_code: int | None
    result_description: str | None
    paid: bool
    amount: Decimal


def gateway_settings(
    session: Session, box: SecretBox, gateway: PaymentGateway | None
) -> GatewaySettings:
    sealed = HotspotPurchaseRepository(session).credentials(gateway.id) if gateway else None
    if gateway is None or sealed is None or gateway.callback_token is None:
        raise ValidationFailed({"gateway": "M-Pesa payments are not set up for this network"})
    credentials = MpesaCredentials.model_validate(
        json.loads(box.decrypt(sealed, PAYMENT_CREDENTIALS))
    )
    return GatewaySettings(
        gateway_id=gateway.id,
        shortcode=gateway.shortcode,
        config=MpesaGatewayConfig.model_validate(gateway.config),
        credentials=credentials,
        callback_token=gateway.callback_token,
    )


def plan_push(
    session: Session,
    box: SecretBox,
    *,
    tenant_id: uuid.UUID,
    package_id: uuid.UUID,
    phone: str,
    mac_address: str | None = None,
    ip_address: str | None = None,
    nas_id: uuid.UUID | None = None,
    purpose: GatewayPurpose = GatewayPurpose.HOTSPOT,
) -> PushPlan:
    """Everything an STK push for this purchase needs; ValidationFailed (nothing changed)
    for a number that is not a Kenyan mobile, an unknown package or no gateway."""
    try:
        msisdn = normalize_ke_phone(phone)
    except ValueError as exc:
        raise ValidationFailed({"phone": str(exc)}) from exc
    repo = HotspotPurchaseRepository(session)
    package = repo.hotspot_package(tenant_id, package_id)
    if package is None:
        raise ValidationFailed({"package": "no such hotspot package"})
    settings = gateway_settings(session, box, repo.gateway_for(tenant_id, purpose))
    mac = normalize_mac(mac_address)
    account = repo.device_account(tenant_id, mac, [msisdn])
    signup = None
    if account is None and mac is not None:
        signup = _plan_sign_up(session, box, tenant_id, mac, msisdn)
    prefix = settings.config.account_reference_prefix
    name = account.username if account else signup.username if signup else msisdn
    return PushPlan(
        tenant_id=tenant_id,
        gateway=settings,
        package_id=package.id,
        package_name=package.name,
        amount=package.price,
        phone=msisdn,
        mac_address=mac,
        ip_address=ip_address or None,
        nas_id=nas_id,
        customer_id=account.customer_id if account else None,
        account_reference=(prefix + name)[:12],
        signup=signup,
    )


def _plan_sign_up(
    session: Session, box: SecretBox, tenant_id: uuid.UUID, mac: str, msisdn: str
) -> DeviceSignup:
    """A new device's own hotspot account, tried now and made in record_push: the database
    function runs in a rolled-back savepoint, so each of its refusals (sign-up off, the phone
    over its cap, the MAC bound to a home account) is told before anything is pushed, and a
    push Daraja refuses leaves no account behind. The success callback then credits and
    renews the account like any other."""
    repo = HotspotPurchaseRepository(session)
    config = TenantConfig.model_validate(repo.tenant_config(tenant_id))
    if not config.hotspot.self_signup:
        raise SignupRefused(SignupRefusal.TURNED_OFF, SIGNUP_OFF)
    # The device logs in by MAC; the password serves the same account on another device.
    sealed = box.encrypt(secrets.token_urlsafe(6), CUSTOMER_PASSWORD)
    username = repo.trial_self_signup(tenant_id, mac, msisdn, sealed)
    return DeviceSignup(mac, msisdn, sealed, username)


def record_push(
    session: Session,
    plan: PushPlan,
    *,
    checkout_request_id: str,
    merchant_request_id: str | None,
    expires_at: datetime,
    now: datetime,
) -> uuid.UUID:
    """The pending request the callback (or the query job) settles. Written only after
    Daraja accepted the push: a refused push leaves nothing behind. A new device's account
    is made here; should the database refuse it now (the phone reached its cap since the
    plan), the push is recorded without a customer and a payment goes to suspense, never lost.
    """
    repo = HotspotPurchaseRepository(session)
    customer_id = plan.customer_id
    if plan.signup is not None:
        signup = plan.signup
        try:
            customer_id = repo.self_signup(
                plan.tenant_id, signup.mac, signup.phone, signup.password_enc
            )
        except SignupRefused as exc:
            log.warning(
                "push %s: device %s was not signed up (%s); a payment goes to suspense",
                checkout_request_id,
                signup.mac,
                exc.field_errors["signup"],
            )
    pending_id = repo.add_pending(
        PendingHotspotPayment(
            tenant_id=plan.tenant_id,
            checkout_request_id=checkout_request_id,
            merchant_request_id=merchant_request_id or None,
            phone=plan.phone,
            amount=plan.amount,
            package_id=plan.package_id,
            nas_id=plan.nas_id,
            mac_address=plan.mac_address,
            ip_address=plan.ip_address,
            customer_id=customer_id,
            expires_at=expires_at,
        )
    )
    # A result that came before this row did waits PENDING (UNMATCHED_STK_GRACE): apply it.
    for callback_id in MpesaCallbackRepository(session).pending_first(
        MpesaCallbackKind.STK, checkout_request_id
    ):
        process(session, callback_id, now)
    return pending_id


def settle_from_query(
    session: Session,
    *,
    gateway_id: uuid.UUID,
    checkout_request_id: str,
    result_code: int,
    result_desc: str,
    merchant_request_id: str | None,
    now: datetime,
) -> Processed | None:
    """Settle a push whose callback never came from STK Push Query's final answer, through
    the callback path: a callback body is written into the raw store as the first delivery
    of this CheckoutRequestID and processed like any other, so it credits at most once.

    The query answer carries no receipt, so a success is credited under the
    CheckoutRequestID as the payment's transaction id; a real callback arriving later is a
    copy with different content and is kept for review, never credited again.
    None when a callback was stored meanwhile (it settles the push itself)."""
    repo = HotspotPurchaseRepository(session)
    pending = repo.pending_by_checkout(checkout_request_id)
    gateway = repo.gateway(gateway_id)
    if pending is None or gateway is None or pending.tenant_id != gateway.tenant_id:
        raise ValueError(f"no STK push {checkout_request_id} through gateway {gateway_id}")
    body = _callback_body(pending, result_code, result_desc, merchant_request_id)
    callbacks = MpesaCallbackRepository(session)
    stored = callbacks.insert_first(
        NewCallback(
            tenant_id=gateway.tenant_id,
            gateway_id=gateway.id,
            kind=MpesaCallbackKind.STK,
            external_id=checkout_request_id,
            result_code=result_code,
            trusted=True,
            source_address=None,
            body=body,
            outcome=MpesaCallbackOutcome.PENDING,
        )
    )
    if stored is None:
        return None
    return process(session, stored, now)


def _callback_body(
    pending: PendingHotspotPayment,
    result_code: int,
    result_desc: str,
    merchant_request_id: str | None,
) -> dict[str, Any]:
    callback: dict[str, Any] = {
        "MerchantRequestID": merchant_request_id or pending.merchant_request_id or "",
        "CheckoutRequestID": pending.checkout_request_id,
        "ResultCode": result_code,
        "ResultDesc": result_desc,
        "_easyisp": QUERY_SOURCE_NOTE,
    }
    if result_code == 0:
        amount = Decimal(pending.amount)
        callback["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": str(amount)},
                {"Name": "MpesaReceiptNumber", "Value": pending.checkout_request_id},
                {"Name": "PhoneNumber", "Value": int(pending.phone)},
            ]
        }
    return {"Body": {"stkCallback": callback}}


def purchase_status(
    session: Session, tenant_id: uuid.UUID, pending_id: uuid.UUID
) -> PurchaseStatus | None:
    pending = HotspotPurchaseRepository(session).pending(pending_id)
    if pending is None or pending.tenant_id != tenant_id:
        return None
    return PurchaseStatus(
        status=pending.status,
        result_code=pending.result_code,
        result_description=pending.result_description,
        paid=pending.payment_id is not None,
        amount=Decimal(pending.amount),
    )


def login_after_purchase(
    session: Session, box: SecretBox, tenant_id: uuid.UUID, pending_id: uuid.UUID
) -> HotspotLogin | None:
    """The login the router should get once the purchase is paid: MAC login when the device
    is the account's bound device, else the account's credentials (rules.hotspot_login)."""
    pending = HotspotPurchaseRepository(session).pending(pending_id)
    if pending is None or pending.tenant_id != tenant_id or pending.customer_id is None:
        return None
    if pending.status is not HotspotPaymentStatus.COMPLETED:
        return None
    device_mac = str(pending.mac_address) if pending.mac_address else None
    return _login(session, box, pending.customer_id, device_mac)


def login_by_receipt(
    session: Session,
    tenant_id: uuid.UUID,
    receipt: str,
    device_mac: str | None,
    now: datetime,
) -> HotspotLogin | ReceiptRefusal:
    """ "I have already paid": a MAC login for the device that a recent M-Pesa payment with
    this receipt (whatever route reported it) was made for; otherwise why not. A phone
    number instead of a receipt finds that phone's paid purchases of the last day."""
    if _PHONE_TYPED.fullmatch(receipt.strip()):
        return _login_by_phone(session, tenant_id, receipt, device_mac, now)
    code = "".join(receipt.split()).upper()
    if not code.isalnum() or not 8 <= len(code) <= 64:
        return ReceiptRefusal.NOT_FOUND
    repo = HotspotPurchaseRepository(session)
    customer_id = repo.paid_customer(tenant_id, code, now - RECEIPT_LOGIN_WINDOW)
    account = None if customer_id is None else repo.receipt_account(customer_id)
    if account is None:
        return ReceiptRefusal.NOT_FOUND
    bound_mac, is_hotspot = account
    return receipt_login(bound_mac, device_mac, is_hotspot)


def _login_by_phone(
    session: Session,
    tenant_id: uuid.UUID,
    phone: str,
    device_mac: str | None,
    now: datetime,
) -> HotspotLogin | ReceiptRefusal:
    """The MAC login of this device when one of the accounts the phone paid for lately is
    bound to it. A phone number is even less secret than a receipt, so it signs in only the
    bound device and every other answer is the same NO_PHONE_PAYMENT."""
    try:
        msisdn = normalize_ke_phone(phone)
    except ValueError:
        return ReceiptRefusal.NO_PHONE_PAYMENT
    repo = HotspotPurchaseRepository(session)
    for customer_id in repo.customers_paid_from(tenant_id, msisdn, now - PHONE_LOGIN_WINDOW):
        account = repo.receipt_account(customer_id)
        if account is None:
            continue
        outcome = receipt_login(account[0], device_mac, account[1])
        if isinstance(outcome, HotspotLogin):
            return outcome
    return ReceiptRefusal.NO_PHONE_PAYMENT


def _login(
    session: Session, box: SecretBox, customer_id: uuid.UUID, device_mac: str | None
) -> HotspotLogin | None:
    account = HotspotPurchaseRepository(session).customer_login(customer_id)
    if account is None:
        return None
    username, password_enc, bound_mac = account
    password = box.decrypt(password_enc, CUSTOMER_PASSWORD) if password_enc else None
    return hotspot_login(username, password, bound_mac, device_mac)


@dataclass(frozen=True)
class PortalShop:
    tenant_id: uuid.UUID
    display_name: str
    branding: BrandingSettings
    packages: list[PackageOffer]


def portal_shop(session: Session, tenant_name: str) -> PortalShop | None:
    """What the captive portal shows for a tenant: branding and hotspot packages."""
    repo = HotspotPurchaseRepository(session)
    tenant = repo.portal_tenant(tenant_name)
    if tenant is None:
        return None
    tenant_id, display_name, raw_config = tenant
    try:
        branding = TenantConfig.model_validate(raw_config).branding
    except ValueError:
        branding = BrandingSettings()
    return PortalShop(
        tenant_id=tenant_id,
        display_name=branding.display_name or display_name,
        branding=branding,
        packages=repo.hotspot_packages(tenant_id),
    )
