"""Use cases through the real database: what they store, and what they refuse."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import Conflict, NotFound, ValidationFailed
from easyisp_core.models import Customer, Tenant, WalletTransaction
from easyisp_core.repositories.customers import CustomerRepository
from easyisp_core.repositories.secrets import SecretRepository
from easyisp_core.services.customer_actions import update_profile
from easyisp_core.services.customers import register_customer
from easyisp_core.services.gateways import (
    PAYMENT_CREDENTIALS,
    create_payment_gateway,
    create_sms_gateway,
)
from easyisp_core.services.invoices import create_invoice
from easyisp_core.services.nas import create_nas
from easyisp_core.services.payments import record_payment, renew_from_wallet
from easyisp_core.services.secrets import (
    RouterSecrets,
    read_router_secrets,
    reveal_customer_password,
)
from easyisp_core.services.staff import create_staff
from easyisp_core.services.tenants import create_tenant, update_config
from tests.factories import (
    PASSWORD,
    make_customer,
    make_nas,
    make_package,
    make_tenant,
    unique,
)


def test_a_tenant_gets_a_validated_default_configuration(session: Session) -> None:
    info = create_tenant(session, {"name": "kilimanet", "display_name": "KilimaNet"})
    tenant = session.get(Tenant, info.id)
    assert tenant is not None
    assert tenant.config["timezone"] == "Africa/Nairobi"
    assert tenant.config["currency"] == "KES"


def test_a_bad_tenant_configuration_changes_nothing(session: Session) -> None:
    tenant = make_tenant(session)
    with pytest.raises(ValidationFailed) as caught:
        update_config(session, tenant.name, {"timezone": "Nairobi"})
    assert "config.timezone" in caught.value.field_errors
    stored = session.get(Tenant, tenant.id)
    assert stored is not None
    assert stored.config["timezone"] == "Africa/Nairobi"


def test_duplicate_tenant_name_is_a_conflict(session: Session) -> None:
    make_tenant(session, name="dup-isp")
    with pytest.raises(Conflict, match="already exists"):
        make_tenant(session, name="dup-isp")


def test_staff_usernames_are_unique_across_tenants(session: Session) -> None:
    a, b = make_tenant(session), make_tenant(session)
    data = {"tenant": a.name, "username": unique("grace"), "full_name": "G", "role": "ADMIN"}
    create_staff(session, data, PASSWORD)
    with pytest.raises(Conflict, match="already taken"):
        create_staff(session, {**data, "tenant": b.name, "role": "STAFF"}, PASSWORD)


def test_staff_role_and_username_are_validated(session: Session) -> None:
    tenant = make_tenant(session)
    with pytest.raises(ValidationFailed) as caught:
        create_staff(
            session,
            {"tenant": tenant.name, "username": "Grace W", "full_name": "", "role": "BOSS"},
            PASSWORD,
        )
    assert set(caught.value.field_errors) == {"username", "full_name", "role"}


def test_burst_settings_must_be_complete_and_above_the_normal_rate(session: Session) -> None:
    tenant = make_tenant(session)
    with pytest.raises(ValidationFailed, match="burst needs all"):
        make_package(session, tenant, burst_download=Decimal("10"))
    with pytest.raises(ValidationFailed, match="at least the normal"):
        make_package(
            session,
            tenant,
            burst_download=Decimal("2"),
            burst_upload=Decimal("1"),
            burst_threshold_download=Decimal("4"),
            burst_threshold_upload=Decimal("1.5"),
            burst_time=8,
        )
    full = make_package(
        session,
        tenant,
        burst_download=Decimal("10"),
        burst_upload=Decimal("4"),
        burst_threshold_download=Decimal("4"),
        burst_threshold_upload=Decimal("1.5"),
        burst_time=8,
    )
    assert full.download_speed == Decimal("5")


def test_router_secrets_are_stored_encrypted(session: Session, secret_box: SecretBox) -> None:
    tenant = make_tenant(session)
    info, secret = create_nas(
        session,
        secret_box,
        {"tenant": tenant.name, "name": "hq", "ip_address": "10.9.9.9", "api_password": "apipw"},
    )
    sealed, _api = SecretRepository(session).nas_secrets(info.id)
    assert secret.encode() not in sealed
    assert read_router_secrets(session, secret_box, info.id) == RouterSecrets(secret, "apipw")
    assert info.require_message_authenticator is True


def test_two_routers_cannot_share_a_source_address(session: Session, secret_box: SecretBox) -> None:
    a, b = make_tenant(session), make_tenant(session)
    make_nas(session, secret_box, a, ip_address="10.200.0.1")
    with pytest.raises(Conflict, match="already uses this address"):
        make_nas(session, secret_box, b, ip_address="10.200.0.1")


def test_customers_get_sequential_account_numbers_per_tenant(
    session: Session, secret_box: SecretBox
) -> None:
    a, b = make_tenant(session), make_tenant(session)
    numbers_a = [make_customer(session, secret_box, a).account_number for _ in range(3)]
    numbers_b = [make_customer(session, secret_box, b).account_number for _ in range(1)]
    assert numbers_a == ["ACC000001", "ACC000002", "ACC000003"]
    assert numbers_b == ["ACC000001"]


def test_a_pppoe_customer_gets_an_encrypted_generated_password(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    info, password = register_customer(
        session,
        secret_box,
        {
            "tenant": tenant.name,
            "username": "achieng",
            "full_name": "Achieng Otieno",
            "connection_type": "PPPOE",
            "phone": "+254 712 000 111",
        },
    )
    assert password
    stored = session.get(Customer, info.id)
    assert stored is not None
    assert stored.phone == "254712000111"
    assert reveal_customer_password(session, secret_box, info.id) == password
    assert stored.search == f"achieng otieno achieng {info.account_number.lower()} 254712000111"


def test_the_same_username_may_exist_in_two_tenants_but_not_twice_in_one(
    session: Session, secret_box: SecretBox
) -> None:
    a, b = make_tenant(session), make_tenant(session)
    make_customer(session, secret_box, a, username="otieno")
    make_customer(session, secret_box, b, username="otieno")
    with pytest.raises(Conflict, match="already taken"):
        make_customer(session, secret_box, a, username="otieno")
    # The refused insert left the unit of work usable.
    make_customer(session, secret_box, a, username="otieno2")


def test_a_hotspot_package_cannot_serve_a_pppoe_line(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    hotspot = make_package(
        session, tenant, type="HOTSPOT", price=Decimal("50"), validity_unit="DAYS"
    )
    with pytest.raises(ValidationFailed, match="cannot serve"):
        make_customer(session, secret_box, tenant, package=hotspot.name)


def test_static_customers_need_an_address(session: Session, secret_box: SecretBox) -> None:
    tenant = make_tenant(session)
    with pytest.raises(ValidationFailed, match="static IP"):
        make_customer(session, secret_box, tenant, connection_type="STATIC")
    info = make_customer(
        session, secret_box, tenant, connection_type="STATIC", static_ip="100.64.0.10"
    )
    assert info.connection_type == "STATIC"


def test_unknown_tenant_or_package_is_not_found(session: Session, secret_box: SecretBox) -> None:
    with pytest.raises(NotFound, match="tenant list"):
        register_customer(
            session,
            secret_box,
            {"tenant": "nope", "username": "abc", "full_name": "A", "connection_type": "PPPOE"},
        )
    tenant = make_tenant(session)
    with pytest.raises(NotFound, match="No package"):
        make_customer(session, secret_box, tenant, package="Gold")


def test_a_cash_payment_credits_the_wallet(session: Session, secret_box: SecretBox) -> None:
    tenant = make_tenant(session)
    customer = make_customer(session, secret_box, tenant)
    payment = record_payment(
        session,
        {"tenant": tenant.name, "customer": customer.username, "amount": "1500", "method": "CASH"},
    )
    assert payment.status == "COMPLETED"
    assert payment.amount == Decimal("1500.00")
    stored = CustomerRepository(session).get(tenant.id, customer.id)
    session.refresh(stored)
    assert stored.wallet_balance == Decimal("1500.00")
    entries = session.scalars(
        select(WalletTransaction).where(WalletTransaction.customer_id == customer.id)
    ).all()
    assert [(e.amount, e.payment_id) for e in entries] == [(Decimal("1500.00"), payment.id)]


def test_the_same_receipt_never_credits_twice(session: Session, secret_box: SecretBox) -> None:
    tenant = make_tenant(session)
    customer = make_customer(session, secret_box, tenant)
    data = {
        "tenant": tenant.name,
        "customer": customer.username,
        "amount": "500",
        "method": "MPESA",
        "transaction_id": unique("SKB4XY"),
    }
    record_payment(session, data)
    with pytest.raises(Conflict, match="already recorded"):
        record_payment(session, data)
    stored = CustomerRepository(session).get(tenant.id, customer.id)
    session.refresh(stored)
    assert stored.wallet_balance == Decimal("500.00")


def test_non_cash_payments_need_a_reference(session: Session, secret_box: SecretBox) -> None:
    tenant = make_tenant(session)
    customer = make_customer(session, secret_box, tenant)
    with pytest.raises(ValidationFailed, match="reference"):
        record_payment(
            session,
            {"tenant": tenant.name, "customer": customer.username, "amount": 5, "method": "BANK"},
        )


def test_renewal_extends_from_the_later_of_now_and_expiry(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    package = make_package(
        session, tenant, price=Decimal("300"), validity_value=7, validity_unit="DAYS"
    )
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    customer = make_customer(
        session, secret_box, tenant, package=package.name, expires_at=now + timedelta(days=2)
    )
    record_payment(
        session,
        {"tenant": tenant.name, "customer": customer.username, "amount": "700", "method": "CASH"},
    )
    first = renew_from_wallet(session, tenant.name, customer.username, now=now)
    assert first.new_expiry == now + timedelta(days=9)
    assert first.customer.wallet_balance == Decimal("400.00")
    assert first.customer.expires_at == first.new_expiry
    later = now + timedelta(days=30)
    second = renew_from_wallet(session, tenant.name, customer.username, now=later)
    assert second.new_expiry == later + timedelta(days=7)


def test_renewal_without_enough_balance_changes_nothing(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    package = make_package(session, tenant, price=Decimal("1500"))
    expiry = datetime(2026, 12, 1, tzinfo=UTC)
    customer = make_customer(session, secret_box, tenant, package=package.name, expires_at=expiry)
    with pytest.raises(ValidationFailed, match="less than"):
        renew_from_wallet(session, tenant.name, customer.username)
    stored = CustomerRepository(session).get(tenant.id, customer.id)
    session.refresh(stored)
    assert stored.expires_at == expiry
    assert stored.wallet_balance == Decimal("0.00")


def test_customers_page_by_name_with_a_keyset(session: Session, secret_box: SecretBox) -> None:
    tenant = make_tenant(session)
    names = ["Wanjiru Njoroge", "Achieng Odhiambo", "Kiprop Rotich", "Mutua Musyoka", "Baraka Ali"]
    for name in names:
        make_customer(session, secret_box, tenant, full_name=name)
    repo = CustomerRepository(session)
    first = repo.page_by_name(tenant.id, limit=2)
    second = repo.page_by_name(tenant.id, after=(first[-1].full_name, first[-1].id), limit=2)
    third = repo.page_by_name(tenant.id, after=(second[-1].full_name, second[-1].id), limit=2)
    assert [c.full_name for c in [*first, *second, *third]] == sorted(names)
    assert repo.count(tenant.id) == 5


def test_an_invoice_is_numbered_and_totalled_from_typed_lines(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    customer = make_customer(session, secret_box, tenant)
    now = datetime(2026, 11, 25, tzinfo=UTC)
    lines = [
        {"description": "Home 10 Mbps, December", "quantity": "1", "unit_price": "2500"},
        {"description": "Router installation", "quantity": "0.5", "unit_price": "3333.33"},
    ]
    data = {"tenant": tenant.name, "customer": customer.username, "items": lines}
    first = create_invoice(session, {**data, "tax_rate": "0.16"}, now=now)
    second = create_invoice(session, data, now=now)
    assert (first.invoice_no, second.invoice_no) == ("INV-202600001", "INV-202600002")
    assert first.subtotal == Decimal("4166.67")
    assert first.tax == Decimal("666.67")
    assert first.total == Decimal("4833.34")
    assert second.total == second.subtotal


def test_bad_invoice_lines_are_refused_naming_the_line(session: Session) -> None:
    tenant = make_tenant(session)
    bad = [{"description": "ok", "quantity": "1", "unit_price": "1"}, {"description": ""}]
    with pytest.raises(ValidationFailed) as caught:
        create_invoice(session, {"tenant": tenant.name, "items": bad})
    assert any(key.startswith("items.1.") for key in caught.value.field_errors)


def test_gateway_settings_are_typed_and_credentials_encrypted(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    info = create_payment_gateway(
        session,
        secret_box,
        {
            "tenant": tenant.name,
            "name": "Hotspot paybill",
            "provider": "MPESA_PAYBILL",
            "purpose": "HOTSPOT",
            "shortcode": "174379",
            "config": {"environment": "sandbox"},
            "credentials": {"consumer_key": "k", "consumer_secret": "s", "passkey": "p"},
        },
    )
    assert info.callback_token is not None
    assert len(info.callback_token) >= 32
    sealed = SecretRepository(session).gateway_credentials("payment_gateways", info.id)
    assert b"passkey" not in sealed
    assert json.loads(secret_box.decrypt(sealed, PAYMENT_CREDENTIALS))["passkey"] == "p"
    with pytest.raises(ValidationFailed) as caught:
        create_sms_gateway(
            session,
            secret_box,
            {
                "tenant": tenant.name,
                "name": "SMS",
                "provider": "ADVANTA",
                "config": {"base_url": "not a url", "colour": "red"},
                "credentials": {},
            },
        )
    assert {"config.base_url", "config.colour", "credentials.api_key"} <= set(
        caught.value.field_errors
    )


def test_a_profile_edit_without_the_line_fields_keeps_the_mac_and_address(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    info = make_customer(
        session, secret_box, tenant, connection_type="STATIC", static_ip="100.64.0.11",
        mac_address="aabb.cc00.1133",
    )  # fmt: skip
    update_profile(session, info.id, {"full_name": "Renamed"})
    customer = session.get(Customer, info.id)
    assert customer is not None
    session.refresh(customer)
    assert (customer.full_name, str(customer.static_ip), str(customer.mac_address)) == (
        "Renamed", "100.64.0.11", "aa:bb:cc:00:11:33",
    )  # fmt: skip
    update_profile(session, info.id, {"full_name": "Renamed", "mac_address": ""})
    session.refresh(customer)
    assert customer.mac_address is None
