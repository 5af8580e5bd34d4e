"""Deleting a customer: only one with nothing on record, only with customers.delete, audited;
the rule holds for raw SQL as well as for the service the console calls."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.orm import sessionmaker

from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.errors import NotFound, PermissionDenied, ValidationFailed
from easyisp_core.services.customer_removal import customer_history, delete_customer
from tests import pg
from tests.db.security_site import SecuritySite, build_site


@pytest.fixture(scope="module")
def site(admin_url: str, template_db: str) -> Iterator[SecuritySite]:
    name = pg.create_database(admin_url, "easyisp_test_customer_delete", template=template_db)
    try:
        yield build_site(admin_url, pg.database_url(admin_url, name))
    finally:
        pg.drop_database(admin_url, name)


def _customer(site: SecuritySite, *, paid: bool = False) -> uuid.UUID:
    tag = uuid.uuid4().hex[:8]
    with psycopg.connect(site.db_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO customers (tenant_id, account_number, username, full_name, "
            "connection_type) VALUES (%s, %s, %s, 'Juma Typo', 'PPPOE') RETURNING id",
            (site.a.tenant_id, f"DEL{tag}", f"del{tag}"),
        ).fetchone()
        assert row is not None
        if paid:
            conn.execute(
                "INSERT INTO payments (tenant_id, customer_id, amount, method, status, "
                "transaction_id, paid_at) VALUES (%s, %s, 100, 'CASH', 'COMPLETED', %s, now())",
                (site.a.tenant_id, row[0], f"DEL{tag}"),
            )
    customer_id: uuid.UUID = row[0]
    return customer_id


def _exists(site: SecuritySite, customer_id: uuid.UUID) -> bool:
    with psycopg.connect(site.db_url) as conn:
        row = conn.execute("SELECT 1 FROM customers WHERE id = %s", (customer_id,)).fetchone()
    return row is not None


def _as(site: SecuritySite, role: str) -> Any:
    engine = make_engine(site.url_for(site.logins[role]), application_name="easyisp-tests")
    return engine, sessionmaker(engine, expire_on_commit=False)


def test_an_admin_deletes_a_customer_with_nothing_on_record_and_it_is_audited(
    site: SecuritySite,
) -> None:
    customer = _customer(site)
    engine, sessions = _as(site, "ADMIN")
    try:
        with session_scope(sessions) as session:
            assert customer_history(session, customer) == []
            assert delete_customer(session, customer) == "Juma Typo"
    finally:
        engine.dispose()
    assert not _exists(site, customer)
    with psycopg.connect(site.db_url) as conn:
        row = conn.execute(
            "SELECT actor, target_label FROM audit_logs WHERE action = 'CUSTOMER_DELETE' "
            "AND before->>'id' = %s",
            (str(customer),),
        ).fetchone()
    assert row is not None
    assert row[0] == site.logins["ADMIN"]


def test_a_customer_with_money_history_is_never_deleted(site: SecuritySite) -> None:
    customer = _customer(site, paid=True)
    engine, sessions = _as(site, "ADMIN")
    try:
        with pytest.raises(ValidationFailed) as refused, session_scope(sessions) as session:
            delete_customer(session, customer)
        message = str(refused.value)
        assert message.startswith("Juma Typo has payments")
        assert message.endswith("on record, so they cannot be deleted; suspend them instead.")
    finally:
        engine.dispose()
    for connect in (lambda: site.connect("ADMIN"), lambda: psycopg.connect(site.db_url)):
        with (
            connect() as conn,
            pytest.raises(psycopg.errors.CheckViolation, match="on record, so they cannot be"),
        ):
            conn.execute("DELETE FROM customers WHERE id = %s", (customer,))
    assert _exists(site, customer)


@pytest.mark.parametrize("role", ["VIEWER", "STAFF", "CUSTOMER_CARE"])
def test_a_role_without_customers_delete_is_refused_by_the_database(
    site: SecuritySite, role: str
) -> None:
    customer = _customer(site)
    engine, sessions = _as(site, role)
    try:
        with pytest.raises(PermissionDenied), session_scope(sessions) as session:
            delete_customer(session, customer)
    finally:
        engine.dispose()
    with site.connect(role, autocommit=True) as conn:
        try:
            deleted = conn.execute("DELETE FROM customers WHERE id = %s", (customer,)).rowcount
        except psycopg.errors.InsufficientPrivilege:
            deleted = 0
    assert deleted == 0
    assert _exists(site, customer)


def test_another_tenants_customer_history_is_not_told(site: SecuritySite) -> None:
    engine, sessions = _as(site, "ADMIN")
    try:
        with pytest.raises(NotFound), session_scope(sessions) as session:
            customer_history(session, site.b.ids["customer"])
    finally:
        engine.dispose()
