"""Who may resolve the M-Pesa suspense list: payments.create in the entry's own tenant."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests import pg
from tests.db.security_site import SecuritySite, build_site


@pytest.fixture(scope="module")
def site(admin_url: str, template_db: str) -> Iterator[SecuritySite]:
    name = pg.create_database(admin_url, "easyisp_test_mpesa_sec", template=template_db)
    try:
        yield build_site(admin_url, pg.database_url(admin_url, name))
    finally:
        pg.drop_database(admin_url, name)


def _resolve(site: SecuritySite, role: str) -> str:
    ids = site.a.ids
    with site.connect(role) as conn:
        try:
            conn.execute(
                "SELECT easyisp_resolve_suspense(%s, %s)", (ids["mpesa_suspense"], ids["customer"])
            )
            receipt = conn.execute(
                "SELECT transaction_id FROM payments WHERE id = "
                "(SELECT payment_id FROM mpesa_suspense WHERE id = %s)",
                (ids["mpesa_suspense"],),
            ).fetchone()
            return "allow" if receipt and receipt[0].startswith("SUSP") else "no payment"
        except psycopg.errors.InsufficientPrivilege:
            return "deny"
        finally:
            conn.rollback()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("ADMIN", "allow"),
        ("STAFF", "allow"),
        ("CUSTOMER_CARE", "allow"),
        ("VIEWER", "deny"),
        ("FIELD_TECH", "deny"),
        ("ADMIN_B", "deny"),  # another tenant's admin
    ],
)
def test_only_cashiers_of_the_tenant_resolve_suspense(
    site: SecuritySite, role: str, expected: str
) -> None:
    assert _resolve(site, role) == expected


def test_staff_cannot_write_callbacks_or_suspense_directly(site: SecuritySite) -> None:
    with site.connect("ADMIN") as conn:
        for sql in (
            "UPDATE mpesa_suspense SET status = 'RESOLVED'",
            "UPDATE mpesa_callbacks SET outcome = 'APPLIED'",
            "DELETE FROM mpesa_callbacks",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
            conn.rollback()


def _ask_status(site: SecuritySite, role: str, **overrides: str) -> str:
    """A staff login queues a Transaction Status question the way the console does."""
    ids = site.a.ids
    values = {"origin": "console", **overrides}
    with site.connect(role) as conn:
        try:
            conn.execute(
                "INSERT INTO mpesa_status_queries (tenant_id, gateway_id, receipt, customer_id, "
                "origin) VALUES (%s, %s, 'TKQSTAFF01', %s, %s)",
                (site.a.tenant_id, ids["payment_gateway"], ids["customer"], values["origin"]),
            )
            row = conn.execute(
                "SELECT state::text, requested_by IS NOT NULL FROM mpesa_status_queries "
                "WHERE receipt = 'TKQSTAFF01'"
            ).fetchone()
            return "allow" if row == ("QUEUED", True) else f"stored {row}"
        except psycopg.errors.InsufficientPrivilege:
            return "deny"
        finally:
            conn.rollback()


@pytest.mark.parametrize(
    ("role", "expected"),
    [("ADMIN", "allow"), ("STAFF", "allow"), ("VIEWER", "deny"), ("ADMIN_B", "deny")],
)
def test_only_cashiers_of_the_tenant_queue_transaction_status_questions(
    site: SecuritySite, role: str, expected: str
) -> None:
    assert _ask_status(site, role) == expected


def test_staff_cannot_write_what_mpesa_answered(site: SecuritySite) -> None:
    assert _ask_status(site, "ADMIN", origin="portal") == "deny"
    with site.connect("ADMIN") as conn:
        for sql in (
            "UPDATE mpesa_status_queries SET state = 'CREDITED'",
            "INSERT INTO mpesa_status_queries (tenant_id, gateway_id, receipt, customer_id, "
            "origin, state) SELECT tenant_id, gateway_id, receipt, customer_id, origin, 'SENT' "
            "FROM mpesa_status_queries",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
            conn.rollback()


@pytest.mark.parametrize(
    ("role", "finds_gateway"),
    [("ADMIN", True), ("STAFF", True), ("CUSTOMER_CARE", True), ("VIEWER", False)],
)
def test_a_cashier_who_cannot_read_gateways_still_finds_the_one_a_question_goes_through(
    site: SecuritySite, role: str, finds_gateway: bool
) -> None:
    """0029: ask_status finds the gateway through a definer function that names only its id,
    for callers with payments.create in that tenant; never another tenant's."""
    with site.connect(role) as conn:
        found = conn.execute(
            "SELECT easyisp_status_query_gateway(%s, 'PPPOE')", (site.a.tenant_id,)
        ).fetchone()
        assert (found == (site.a.ids["payment_gateway"],)) is finds_gateway
        for purpose in ("HOTSPOT", "PPPOE"):
            other = conn.execute(
                "SELECT easyisp_status_query_gateway(%s, %s)", (site.b.tenant_id, purpose)
            ).fetchone()
            assert other == (None,)
