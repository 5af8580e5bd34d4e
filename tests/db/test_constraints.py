"""Rules the database enforces for every writer, not just our services."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.db.urls import to_libpq_url
from tests.factories import make_customer, make_package, make_tenant


def _savepoint_raises(conn: Connection, sql: str, params: Mapping[str, object], match: str) -> None:
    with pytest.raises(DBAPIError, match=match), conn.begin_nested():
        conn.execute(text(sql), params)


def test_wallet_balance_is_the_running_sum_of_the_ledger(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    customer = make_customer(session, secret_box, tenant)
    conn = session.connection()
    insert = (
        "INSERT INTO wallet_transactions (tenant_id, customer_id, amount, kind) "
        "VALUES (:t, :c, :a, 'TOPUP') RETURNING balance_after"
    )
    params = {"t": tenant.id, "c": customer.id}
    assert conn.execute(text(insert), {**params, "a": Decimal("100.00")}).scalar() == Decimal("100")
    assert conn.execute(text(insert), {**params, "a": Decimal("-30.50")}).scalar() == Decimal(
        "69.5"
    )
    balance = conn.execute(
        text("SELECT wallet_balance FROM customers WHERE id = :c"), {"c": customer.id}
    ).scalar()
    total = conn.execute(
        text("SELECT sum(amount) FROM wallet_transactions WHERE customer_id = :c"),
        {"c": customer.id},
    ).scalar()
    assert balance == total == Decimal("69.50")


def test_the_wallet_cannot_be_overdrawn_edited_or_set_directly(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    customer = make_customer(session, secret_box, tenant)
    conn = session.connection()
    params = {"t": tenant.id, "c": customer.id}
    _savepoint_raises(
        conn,
        "INSERT INTO wallet_transactions (tenant_id, customer_id, amount, kind) "
        "VALUES (:t, :c, -1, 'ADJUSTMENT')",
        params,
        "wallet_not_negative",
    )
    _savepoint_raises(
        conn, "UPDATE customers SET wallet_balance = 1000 WHERE id = :c", params, "only through"
    )
    conn.execute(
        text(
            "INSERT INTO wallet_transactions (tenant_id, customer_id, amount, kind) "
            "VALUES (:t, :c, 10, 'TOPUP')"
        ),
        params,
    )
    _savepoint_raises(
        conn,
        "UPDATE wallet_transactions SET amount = 1000 WHERE customer_id = :c",
        params,
        "append-only",
    )
    _savepoint_raises(
        conn, "DELETE FROM wallet_transactions WHERE customer_id = :c", params, "append-only"
    )


def test_a_wallet_entry_must_match_the_customers_tenant(
    session: Session, secret_box: SecretBox
) -> None:
    tenant_a, tenant_b = make_tenant(session), make_tenant(session)
    customer = make_customer(session, secret_box, tenant_a)
    _savepoint_raises(
        session.connection(),
        "INSERT INTO wallet_transactions (tenant_id, customer_id, amount, kind) "
        "VALUES (:t, :c, 10, 'TOPUP')",
        {"t": tenant_b.id, "c": customer.id},
        "unknown customer",
    )


def test_a_payment_receipt_is_unique_across_the_database(session: Session) -> None:
    tenant_a, tenant_b = make_tenant(session), make_tenant(session)
    conn = session.connection()
    insert = (
        "INSERT INTO payments (tenant_id, amount, method, status, transaction_id, paid_at) "
        "VALUES (:t, 100, 'MPESA', 'COMPLETED', 'SKB4XY12AB', now())"
    )
    conn.execute(text(insert), {"t": tenant_a.id})
    with pytest.raises(IntegrityError, match="uq_payments_transaction_id"), conn.begin_nested():
        conn.execute(text(insert), {"t": tenant_b.id})


def test_cash_needs_no_reference_but_mpesa_does(session: Session) -> None:
    tenant = make_tenant(session)
    conn = session.connection()
    conn.execute(
        text(
            "INSERT INTO payments (tenant_id, amount, method, status, paid_at) "
            "VALUES (:t, 100, 'CASH', 'COMPLETED', now()), (:t, 50, 'CASH', 'COMPLETED', now())"
        ),
        {"t": tenant.id},
    )
    _savepoint_raises(
        conn,
        "INSERT INTO payments (tenant_id, amount, method, status, paid_at) "
        "VALUES (:t, 100, 'MPESA', 'COMPLETED', now())",
        {"t": tenant.id},
        "non_cash_has_reference",
    )
    _savepoint_raises(
        conn,
        "INSERT INTO payments (tenant_id, amount, method) VALUES (:t, 0, 'CASH')",
        {"t": tenant.id},
        "amount_positive",
    )


def test_money_comes_back_as_exact_decimals(session: Session) -> None:
    tenant = make_tenant(session)
    conn = session.connection()
    conn.execute(
        text(
            "INSERT INTO payments (tenant_id, amount, method, status, paid_at) "
            "VALUES (:t, 0.1, 'CASH', 'COMPLETED', now()), (:t, 0.2, 'CASH', 'COMPLETED', now())"
        ),
        {"t": tenant.id},
    )
    total = conn.execute(
        text("SELECT sum(amount) FROM payments WHERE tenant_id = :t"), {"t": tenant.id}
    ).scalar()
    assert isinstance(total, Decimal)
    assert total == Decimal("0.30")


@pytest.mark.parametrize(
    ("items", "ok"),
    [
        ('[{"description": "Home 5", "quantity": "1", "unit_price": "1500.00"}]', True),
        ('[{"description": "Home 5", "quantity": 2, "unit_price": 1500}]', True),
        ("[]", False),
        ('{"description": "x"}', False),
        ('[{"description": "", "quantity": "1", "unit_price": "1"}]', False),
        ('[{"description": "x", "quantity": "0", "unit_price": "1"}]', False),
        ('[{"description": "x", "quantity": "1", "unit_price": "-1"}]', False),
        ('[{"description": "x", "quantity": "1"}]', False),
    ],
)
def test_invoice_items_are_shape_checked_by_the_database(
    session: Session, items: str, ok: bool
) -> None:
    tenant = make_tenant(session)
    conn = session.connection()
    sql = (
        "INSERT INTO invoices (tenant_id, invoice_no, items, subtotal, tax, total, issued_at) "
        "VALUES (:t, :n, CAST(:items AS jsonb), 1500, 0, 1500, now())"
    )
    params = {"t": tenant.id, "n": f"INV-{uuid.uuid4().hex[:8]}", "items": items}
    if ok:
        conn.execute(text(sql), params)
    else:
        _savepoint_raises(conn, sql, params, "items_shape")


def test_invoice_total_must_be_subtotal_plus_tax(session: Session) -> None:
    tenant = make_tenant(session)
    _savepoint_raises(
        session.connection(),
        "INSERT INTO invoices (tenant_id, invoice_no, items, subtotal, tax, total, issued_at) "
        "VALUES (:t, 'INV-1', CAST(:items AS jsonb), 100, 16, 100, now())",
        {"t": tenant.id, "items": '[{"description": "x", "quantity": 1, "unit_price": 1}]'},
        "total_is_sum",
    )


def test_audit_rows_never_point_at_a_deleted_target(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    package = make_package(session, tenant)
    conn = session.connection()
    audit_id = conn.execute(
        text(
            "INSERT INTO audit_logs (tenant_id, action, target_type, target_package_id, "
            "target_label) VALUES (:t, 'PACKAGE_CREATE', 'PACKAGE', :p, 'Home 5') RETURNING id"
        ),
        {"t": tenant.id, "p": package.id},
    ).scalar()
    conn.execute(text("DELETE FROM packages WHERE id = :p"), {"p": package.id})
    row = conn.execute(
        text("SELECT target_package_id, target_type, target_label FROM audit_logs WHERE id = :i"),
        {"i": audit_id},
    ).one()
    assert row == (None, "PACKAGE", "Home 5")


def test_an_audit_target_must_match_its_type(session: Session) -> None:
    tenant = make_tenant(session)
    package = make_package(session, tenant)
    _savepoint_raises(
        session.connection(),
        "INSERT INTO audit_logs (tenant_id, action, target_type, target_package_id) "
        "VALUES (:t, 'CUSTOMER_CREATE', 'CUSTOMER', :p)",
        {"t": tenant.id, "p": package.id},
        "target_matches_type",
    )


def test_sms_log_keeps_integrity_when_its_customer_is_deleted(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    customer = make_customer(session, secret_box, tenant)
    conn = session.connection()
    conn.execute(
        text(
            "INSERT INTO sms_logs (tenant_id, customer_id, phone, message) "
            "VALUES (:t, :c, '254712345678', 'Your internet expires tomorrow')"
        ),
        {"t": tenant.id, "c": customer.id},
    )
    conn.execute(text("DELETE FROM customers WHERE id = :c"), {"c": customer.id})
    assert conn.execute(
        text("SELECT customer_id FROM sms_logs WHERE tenant_id = :t"), {"t": tenant.id}
    ).one() == (None,)


def test_updated_at_is_stamped_by_the_database(session: Session) -> None:
    tenant = make_tenant(session)
    conn = session.connection()
    conn.execute(
        text(
            "UPDATE tenants SET updated_at = '2000-01-01' , created_at = '2000-01-01' WHERE id = :t"
        ),
        {"t": tenant.id},
    )
    conn.execute(
        text("UPDATE tenants SET display_name = 'Renamed' WHERE id = :t"), {"t": tenant.id}
    )
    created, updated = conn.execute(
        text("SELECT created_at, updated_at FROM tenants WHERE id = :t"), {"t": tenant.id}
    ).one()
    assert updated > created


def test_queued_service_commands_wake_a_listener(fresh_db_url: str) -> None:
    listener = psycopg.connect(to_libpq_url(fresh_db_url), autocommit=True)
    try:
        listener.execute("LISTEN easyisp_service_commands")
        engine = make_engine(fresh_db_url)
        try:
            with engine.begin() as conn:
                tenant_id = conn.execute(
                    text("INSERT INTO tenants (name, display_name) VALUES ('n1', 'N') RETURNING id")
                ).scalar()
                command_id = conn.execute(
                    text(
                        "INSERT INTO service_commands (tenant_id, kind) "
                        "VALUES (:t, 'ROUTER_SYNC') RETURNING id"
                    ),
                    {"t": tenant_id},
                ).scalar()
        finally:
            engine.dispose()
        notes = list(listener.notifies(timeout=5, stop_after=1))
        assert [(n.channel, n.payload) for n in notes] == [
            ("easyisp_service_commands", str(command_id))
        ]
    finally:
        listener.close()
