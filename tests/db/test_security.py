"""Attacker-style tests: each role connects with its own credentials through raw psycopg and
tries everything. The database, not the console, must say no."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.errors import PermissionDenied
from easyisp_core.models.enums import StaffRole, UserStatus
from easyisp_core.rules.permissions import PERMISSIONS, ROLE_DEFAULTS
from easyisp_core.services import staff as staff_service
from easyisp_core.services.payments import record_payment
from tests import pg
from tests.db.security_site import SecuritySite, _sessions, build_site
from tests.factories import PASSWORD

MATRIX_FILE = Path(__file__).resolve().parents[1] / "data" / "permission_matrix.csv"
TENANT_TABLES = [
    "router_groups", "nas", "vpn_peers", "packages", "customers", "voucher_batches", "vouchers",
    "payments", "wallet_transactions", "invoices", "expenses", "chart_of_accounts", "audit_logs",
    "sms_logs", "sessions", "pending_hotspot_payments", "payment_gateways", "sms_gateways",
    "service_commands", "tenant_counters", "users", "mpesa_callbacks", "mpesa_suspense",
]  # fmt: skip


@pytest.fixture(scope="module")
def site(admin_url: str, template_db: str) -> Iterator[SecuritySite]:
    name = pg.create_database(admin_url, "easyisp_test_sec", template=template_db)
    db_url = pg.database_url(admin_url, name)
    try:
        yield build_site(admin_url, db_url)
    finally:
        pg.drop_database(admin_url, name)


def _matrix() -> list[dict[str, str]]:
    with MATRIX_FILE.open(encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return list(csv.DictReader(lines))


def _statement(
    verb: str, table: str, ids: dict[str, Any], tenant: uuid.UUID
) -> tuple[str, tuple[Any, ...]]:
    """One harmless statement per verb and table, aimed at the acting role's own tenant."""
    t = str(tenant)
    u = uuid.uuid4().hex[:8]
    if verb == "select":
        return f"SELECT count(*) FROM {table}", ()
    if verb == "insert":
        inserts: dict[str, tuple[str, tuple[Any, ...]]] = {
            "router_groups": ("INSERT INTO router_groups (tenant_id, name) VALUES (%s, %s)", (t, u)),
            "nas": ("INSERT INTO nas (tenant_id, name, ip_address, secret_enc) VALUES (%s, %s, '10.250.0.9', '\\x01')", (t, u)),
            "vpn_peers": ("INSERT INTO vpn_peers (tenant_id, name, public_key, assigned_ip) VALUES (%s, %s, %s, '10.251.0.9')", (t, u, u)),
            "packages": ("INSERT INTO packages (tenant_id, name, type, price, download_speed, upload_speed, validity_value, validity_unit) VALUES (%s, %s, 'HOTSPOT', 10, 1, 1, 1, 'HOURS')", (t, u)),
            "customers": ("INSERT INTO customers (tenant_id, account_number, username, full_name, connection_type) VALUES (%s, %s, %s, 'X', 'HOTSPOT')", (t, u, u)),
            "voucher_batches": ("INSERT INTO voucher_batches (tenant_id, name, package_id, quantity) VALUES (%s, %s, %s, 1)", (t, u, ids["package"])),
            "vouchers": ("INSERT INTO vouchers (tenant_id, code, package_id, price) VALUES (%s, %s, %s, 10)", (t, u.upper(), ids["package"])),
            "payments": ("INSERT INTO payments (tenant_id, amount, method, status, paid_at) VALUES (%s, 99, 'CASH', 'COMPLETED', now())", (t,)),
            "wallet_transactions": ("INSERT INTO wallet_transactions (tenant_id, customer_id, amount, kind) VALUES (%s, %s, 5, 'TOPUP')", (t, ids["customer"])),
            "invoices": ("INSERT INTO invoices (tenant_id, invoice_no, items, subtotal, tax, total, issued_at) VALUES (%s, %s, '[{\"description\": \"x\", \"quantity\": 1, \"unit_price\": 1}]', 1, 0, 1, now())", (t, u)),
            "expenses": ("INSERT INTO expenses (tenant_id, category, description, amount, expense_date) VALUES (%s, 'Fuel', 'Generator', 500, current_date)", (t,)),
            "chart_of_accounts": ("INSERT INTO chart_of_accounts (tenant_id, code, name, type) VALUES (%s, '4001', 'Sales', 'REVENUE')", (t,)),
            "audit_logs": ("INSERT INTO audit_logs (tenant_id, action) VALUES (%s, 'FAKE_ENTRY')", (t,)),
            "sms_logs": ("INSERT INTO sms_logs (tenant_id, phone, message) VALUES (%s, '254712345678', 'x')", (t,)),
            "sessions": ("INSERT INTO sessions (tenant_id, username, session_id) VALUES (%s, 'x', %s)", (t, u)),
            "pending_hotspot_payments": ("INSERT INTO pending_hotspot_payments (tenant_id, checkout_request_id, phone, amount, package_id, expires_at) VALUES (%s, %s, '254712345678', 10, %s, now())", (t, u, ids["package"])),
            "payment_gateways": ("INSERT INTO payment_gateways (tenant_id, name, provider, shortcode, callback_token, purpose) VALUES (%s, %s, 'MPESA_TILL', '123456', %s, 'ALL')", (t, u, u * 5)),
            "sms_gateways": ("INSERT INTO sms_gateways (tenant_id, name, provider) VALUES (%s, %s, 'ONFON')", (t, u)),
            "mpesa_callbacks": ("INSERT INTO mpesa_callbacks (tenant_id, kind, trusted, body) VALUES (%s, 'STK', false, '{}')", (t,)),
            "mpesa_suspense": ("INSERT INTO mpesa_suspense (tenant_id, receipt, amount, reason) VALUES (%s, %s, 10, 'x')", (t, u)),
            "service_commands": ("INSERT INTO service_commands (tenant_id, kind, customer_id) VALUES (%s, 'DISCONNECT', %s)", (t, ids["customer"])),
            "mpesa_status_queries": ("INSERT INTO mpesa_status_queries (tenant_id, gateway_id, receipt, customer_id, origin) VALUES (%s, %s, %s, %s, 'console')", (t, ids["payment_gateway"], u.upper(), ids["customer"])),
            "tenants": ("INSERT INTO tenants (name, display_name) VALUES (%s, 'Evil')", (u,)),
            "users": ("INSERT INTO users (tenant_id, username, full_name, role) VALUES (%s, %s, 'Evil', 'SUPER_ADMIN')", (t, "x" + u)),
            "tenant_counters": ("INSERT INTO tenant_counters (tenant_id, name) VALUES (%s, %s)", (t, u)),
            "permissions": ("INSERT INTO permissions (name, description) VALUES (%s, 'x')", (u,)),
            "role_permissions": ("INSERT INTO role_permissions (role, permission) VALUES ('VIEWER', 'payments.refund')", ()),
            "vpn_site": ("INSERT INTO vpn_site (id, interface_name, public_key, endpoint_host, endpoint_port, address_range) VALUES (1, 'wg0', 'k', 'h', 51820, '10.10.0.0/16') ON CONFLICT (id) DO UPDATE SET endpoint_port = 51821", ()),
            "service_heartbeats": ("INSERT INTO service_heartbeats (instance, hostname, version, pid, started_at) VALUES (%s, 'h', '1', 1, now())", (u,)),
        }  # fmt: skip
        return inserts[table]
    if verb == "update":
        updates: dict[str, tuple[str, tuple[Any, ...]]] = {
            "router_groups": ("UPDATE router_groups SET description = 'x' WHERE id = %s", (ids["router_group"],)),
            "nas": ("UPDATE nas SET description = 'x' WHERE id = %s", (ids["nas"],)),
            "vpn_peers": ("UPDATE vpn_peers SET endpoint = 'x' WHERE id = %s", (ids["vpn_peer"],)),
            "packages": ("UPDATE packages SET description = 'x' WHERE id = %s", (ids["package"],)),
            "customers": ("UPDATE customers SET notes = 'x' WHERE id = %s", (ids["customer"],)),
            "voucher_batches": ("UPDATE voucher_batches SET prefix = 'x' WHERE id = %s", (ids["voucher_batch"],)),
            "vouchers": ("UPDATE vouchers SET price = 60 WHERE id = %s", (ids["voucher"],)),
            "payments": ("UPDATE payments SET description = 'x' WHERE id = %s", (ids["payment"],)),
            "wallet_transactions": ("UPDATE wallet_transactions SET description = 'x' WHERE customer_id = %s", (ids["customer"],)),
            "invoices": ("UPDATE invoices SET notes = 'x' WHERE id = %s", (ids["invoice"],)),
            "expenses": ("UPDATE expenses SET vendor = 'x' WHERE id = %s", (ids["expense"],)),
            "chart_of_accounts": ("UPDATE chart_of_accounts SET description = 'x' WHERE id = %s", (ids["account"],)),
            "audit_logs": ("UPDATE audit_logs SET details = 'x' WHERE tenant_id = %s", (t,)),
            "sms_logs": ("UPDATE sms_logs SET error = 'x' WHERE tenant_id = %s", (t,)),
            "sessions": ("UPDATE sessions SET terminate_cause = 'x' WHERE tenant_id = %s", (t,)),
            "pending_hotspot_payments": ("UPDATE pending_hotspot_payments SET result_description = 'x' WHERE id = %s", (ids["hotspot_payment"],)),
            "payment_gateways": ("UPDATE payment_gateways SET is_active = true WHERE id = %s", (ids["payment_gateway"],)),
            "sms_gateways": ("UPDATE sms_gateways SET sender_id = 'x' WHERE id = %s", (ids["sms_gateway"],)),
            "mpesa_callbacks": ("UPDATE mpesa_callbacks SET review_reason = 'x' WHERE tenant_id = %s", (t,)),
            "mpesa_suspense": ("UPDATE mpesa_suspense SET reason = 'x' WHERE tenant_id = %s", (t,)),
            "service_commands": ("UPDATE service_commands SET result = 'x' WHERE id = %s", (ids["service_command"],)),
            "mpesa_status_queries": ("UPDATE mpesa_status_queries SET result = 'x' WHERE id = %s", (ids["mpesa_status_query"],)),
            "tenants": ("UPDATE tenants SET display_name = 'Renamed' WHERE id = %s", (t,)),
            "users": ("UPDATE users SET full_name = 'x' WHERE tenant_id = %s", (t,)),
            "tenant_counters": ("UPDATE tenant_counters SET next_value = 1 WHERE tenant_id = %s", (t,)),
            "permissions": ("UPDATE permissions SET description = 'x'", ()),
            "role_permissions": ("UPDATE role_permissions SET role = 'VIEWER' WHERE permission = 'customers.delete'", ()),
            "vpn_site": ("UPDATE vpn_site SET endpoint_port = 51821", ()),
            "service_heartbeats": ("UPDATE service_heartbeats SET version = 'x'", ()),
        }  # fmt: skip
        return updates[table]
    spare = {
        "router_groups": "router_group_spare", "nas": "nas_spare", "vpn_peers": "vpn_peer_spare",
        "packages": "package_spare", "customers": "customer_spare",
        "voucher_batches": "voucher_batch_spare", "vouchers": "voucher_spare",
        "payments": "payment_spare", "invoices": "invoice_spare", "expenses": "expense_spare",
        "chart_of_accounts": "account_spare", "payment_gateways": "payment_gateway_spare",
        "sms_gateways": "sms_gateway_spare", "pending_hotspot_payments": "hotspot_payment_spare",
        "service_commands": "service_command_spare",
    }  # fmt: skip
    if table in spare:
        return f"DELETE FROM {table} WHERE id = %s", (ids[spare[table]],)
    by_tenant = {"wallet_transactions", "audit_logs", "sms_logs", "sessions", "tenant_counters",
                 "users"}  # fmt: skip
    if table in by_tenant:
        return f"DELETE FROM {table} WHERE tenant_id = %s", (t,)
    if table == "tenants":
        return "DELETE FROM tenants WHERE id = %s", (t,)
    return f"DELETE FROM {table}", ()


def _my_permissions(conn: psycopg.Connection[Any]) -> list[str]:
    row = conn.execute("SELECT easyisp_my_permissions()").fetchone()
    assert row is not None
    return list(row[0])


def _outcome(conn: psycopg.Connection[Any], sql: str, params: tuple[Any, ...], verb: str) -> str:
    try:
        cur = conn.execute(sql, params)
        touched = cur.fetchone()[0] if verb == "select" else cur.rowcount  # type: ignore[index]
        return "allow" if touched and touched > 0 else "deny"
    except psycopg.Error:
        return "deny"
    finally:
        conn.rollback()


def test_every_role_can_do_exactly_what_the_matrix_says(site: SecuritySite) -> None:
    mismatches: list[str] = []
    by_role: dict[str, list[dict[str, str]]] = {}
    for cell in _matrix():
        by_role.setdefault(cell["role"], []).append(cell)
    assert set(by_role) == {r.value for r in StaffRole} | {"SERVICE"}
    for role, cells in by_role.items():
        with site.connect(role) as conn:
            for cell in cells:
                for verb in ("select", "insert", "update", "delete"):
                    sql, params = _statement(verb, cell["table"], site.a.ids, site.a.tenant_id)
                    got = _outcome(conn, sql, params, verb)
                    if got != cell[verb]:
                        mismatches.append(
                            f"{role} {verb} {cell['table']}: {got}, file says {cell[verb]}"
                        )
    assert mismatches == []


def test_the_matrix_covers_every_table(site: SecuritySite) -> None:
    with psycopg.connect(
        pg.database_url(site.admin_url, site.db_url.rsplit("/", 1)[1].split("?")[0])
    ) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                "AND relkind IN ('r', 'p') AND NOT relispartition AND relname <> 'alembic_version'"
            )
        }
    assert {cell["table"] for cell in _matrix()} == tables


def test_staff_see_nothing_of_another_tenant(site: SecuritySite) -> None:
    with site.connect("SUPER_ADMIN") as conn:
        # The super admin sees both tenants: the rows are there to be hidden.
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] >= 4  # type: ignore[index]
    for role in ("ADMIN", "STAFF", "CUSTOMER_CARE", "FIELD_TECH", "VIEWER"):
        with site.connect(role) as conn:
            for table in TENANT_TABLES:
                try:
                    count = conn.execute(
                        f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (site.b.tenant_id,)
                    ).fetchone()[0]  # type: ignore[index]
                except psycopg.errors.InsufficientPrivilege:
                    count = 0
                conn.rollback()
                assert count == 0, f"{role} sees {count} rows of tenant B in {table}"
            assert conn.execute("SELECT count(*) FROM tenants").fetchone()[0] == 1  # type: ignore[index]


def test_staff_cannot_write_into_or_move_rows_to_another_tenant(site: SecuritySite) -> None:
    b = site.b.tenant_id
    with site.connect("ADMIN") as conn:
        attempts = [
            ("INSERT INTO customers (tenant_id, account_number, username, full_name, "
             "connection_type) VALUES (%s, 'X1', 'intruder', 'X', 'HOTSPOT')", (b,)),
            ("INSERT INTO packages (tenant_id, name, type, price, download_speed, upload_speed, "
             "validity_value, validity_unit) VALUES (%s, 'x', 'HOTSPOT', 1, 1, 1, 1, 'DAYS')", (b,)),
            ("UPDATE customers SET tenant_id = %s WHERE id = %s", (b, site.a.ids["customer"])),
            ("UPDATE packages SET tenant_id = %s WHERE id = %s", (b, site.a.ids["package"])),
            ("UPDATE nas SET tenant_id = %s WHERE id = %s", (b, site.a.ids["nas"])),
            ("UPDATE customers SET notes = 'x' WHERE id = %s", (site.b.ids["customer"],)),
            ("DELETE FROM packages WHERE id = %s", (site.b.ids["package_spare"],)),
            ("SELECT easyisp_record_payment(%s, 10, 'CASH', NULL, NULL)", (site.b.ids["customer"],)),
            ("SELECT easyisp_next_number(%s, 'account_number')", (b,)),
            ("SELECT easyisp_reveal_customer_password(%s)", (site.b.ids["customer"],)),
            ("SELECT * FROM easyisp_nas_secrets(%s)", (site.b.ids["nas"],)),
            ("SELECT easyisp_create_staff(%s, 'tintruder', 'X', 'ADMIN', 'SCRAM-SHA-256$4096:"
             "c2FsdA==$c3RvcmVk:c2VydmVy')", (b,)),
        ]  # fmt: skip
        for sql, params in attempts:
            assert _outcome(conn, sql, params, "write") == "deny", sql


def test_no_setting_or_role_switch_changes_the_tenant(site: SecuritySite) -> None:
    with site.connect("ADMIN") as conn:

        def visible_tenants() -> set[uuid.UUID]:
            return {r[0] for r in conn.execute("SELECT DISTINCT tenant_id FROM customers")}

        assert visible_tenants() == {site.a.tenant_id}
        for setting in ("easyisp.tenant_id", "app.tenant_id", "app.current_tenant"):
            conn.execute(f"SET {setting} = '{site.b.tenant_id}'")
            assert visible_tenants() == {site.a.tenant_id}
        for group in ("easyisp_staff", "easyisp_role_admin"):
            conn.execute(f"SET ROLE {group}")
            try:
                assert visible_tenants() <= {site.a.tenant_id}
            except psycopg.errors.InsufficientPrivilege:
                conn.rollback()  # the group itself holds nothing: refused outright
            conn.execute("RESET ROLE")
        for forbidden in (
            "SET ROLE easyisp_role_super_admin",
            "SET ROLE easyisp_service",
            "SET ROLE postgres",
            f'SET SESSION AUTHORIZATION "{site.logins["ADMIN_B"]}"',
        ):
            with pytest.raises(psycopg.Error):
                conn.execute(forbidden)
            conn.rollback()
        assert visible_tenants() == {site.a.tenant_id}


def test_only_the_superuser_bypasses_row_security(site: SecuritySite) -> None:
    with psycopg.connect(site.db_url.replace("postgresql+psycopg", "postgresql")) as conn:
        bypassers = [
            r[0]
            for r in conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolbypassrls AND NOT rolsuper"
            )
        ]
        unforced = [
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
                "AND NOT c.relispartition AND a.attname = 'tenant_id' "
                "AND NOT (c.relrowsecurity AND c.relforcerowsecurity)"
            )
        ]
    assert bypassers == []
    assert unforced == []


def test_a_viewer_cannot_raise_its_own_permissions(site: SecuritySite) -> None:
    with site.connect("VIEWER") as conn:
        me = conn.execute("SELECT easyisp_current_user_id()").fetchone()[0]  # type: ignore[index]
        attempts = [
            ("SELECT easyisp_set_staff_permissions(%s, ARRAY['customers.write'], NULL)", (me,)),
            ("SELECT easyisp_set_staff_role(%s, 'ADMIN')", (me,)),
            ("UPDATE users SET role = 'ADMIN' WHERE id = %s", (me,)),
            ("UPDATE users SET added_permissions = ARRAY['customers.write'] WHERE id = %s", (me,)),
            ("INSERT INTO role_permissions VALUES ('VIEWER', 'customers.write')", ()),
            ("GRANT easyisp_role_admin TO CURRENT_USER", ()),
        ]
        for sql, params in attempts:
            assert _outcome(conn, sql, params, "write") == "deny", sql
        assert "customers.write" not in _my_permissions(conn)


def test_an_admin_cannot_make_a_super_admin_or_change_themselves(site: SecuritySite) -> None:
    with site.connect("ADMIN") as conn:
        me = conn.execute("SELECT easyisp_current_user_id()").fetchone()[0]  # type: ignore[index]
        viewer = conn.execute(
            "SELECT id FROM users WHERE username = %s", (site.logins["VIEWER"],)
        ).fetchone()[0]  # type: ignore[index]
        conn.rollback()
        for sql, params in [
            ("SELECT easyisp_set_staff_role(%s, 'SUPER_ADMIN')", (viewer,)),
            ("SELECT easyisp_set_staff_permissions(%s, ARRAY['tenants.manage'], NULL)", (viewer,)),
            ("SELECT easyisp_set_staff_permissions(%s, NULL, ARRAY['audit.read'])", (me,)),
            ("SELECT easyisp_set_staff_status(%s, 'SUSPENDED')", (me,)),
        ]:
            assert _outcome(conn, sql, params, "write") == "deny", sql


def test_a_removed_permission_takes_effect_on_the_next_statement(site: SecuritySite) -> None:
    staff_login = site.logins["STAFF"]
    with (
        site.connect("STAFF", autocommit=True) as cashier,
        site.connect("ADMIN", autocommit=True) as admin,
    ):
        assert cashier.execute("SELECT count(*) FROM customers").fetchone()[0] > 0  # type: ignore[index]
        target = admin.execute(
            "SELECT id FROM users WHERE username = %s", (staff_login,)
        ).fetchone()[0]  # type: ignore[index]
        admin.execute(
            "SELECT easyisp_set_staff_permissions(%s, NULL, ARRAY['customers.read'])", (target,)
        )
        try:
            assert cashier.execute("SELECT count(*) FROM customers").fetchone()[0] == 0  # type: ignore[index]
            assert "customers.read" not in _my_permissions(cashier)
        finally:
            admin.execute("SELECT easyisp_set_staff_permissions(%s, NULL, NULL)", (target,))
        assert cashier.execute("SELECT count(*) FROM customers").fetchone()[0] > 0  # type: ignore[index]


def test_a_suspended_staff_member_is_cut_off_and_cannot_log_in(site: SecuritySite) -> None:
    engine = make_engine(site.db_url)
    username = site.logins["CUSTOMER_CARE"]
    try:
        open_conn = site.connect("CUSTOMER_CARE", autocommit=True)
        with session_scope(_sessions(engine)) as session:
            staff_service.set_status(session, username, UserStatus.SUSPENDED)
        with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
            site.connect("CUSTOMER_CARE")
        # The console that was already open is disconnected too.
        with pytest.raises(psycopg.OperationalError):
            open_conn.execute("SELECT 1")
        with session_scope(_sessions(engine)) as session:
            staff_service.set_status(session, username, UserStatus.ACTIVE)
        with site.connect("CUSTOMER_CARE") as conn:
            assert conn.execute("SELECT easyisp_current_tenant()").fetchone()[0] == site.a.tenant_id  # type: ignore[index]
    finally:
        engine.dispose()


def test_a_wrong_password_is_refused(site: SecuritySite) -> None:
    with psycopg.connect(site.db_url.replace("postgresql+psycopg", "postgresql")) as conn:
        methods = {
            r[0]
            for r in conn.execute(
                "SELECT auth_method FROM pg_hba_file_rules WHERE 'all' = ANY (user_name)"
            )
        }
    if methods <= {"trust"}:
        pytest.skip(
            "this server trusts every local login (EASYISP_TEST_DATABASE_URL); "
            "the embedded test server checks SCRAM passwords"
        )
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(site.url_for(site.logins["VIEWER"], "not-the-password"))
    with psycopg.connect(site.url_for(site.logins["VIEWER"], PASSWORD)) as conn:
        assert conn.execute("SELECT session_user").fetchone()[0] == site.logins["VIEWER"]  # type: ignore[index]


def test_the_console_reads_the_same_permissions_the_database_enforces(site: SecuritySite) -> None:
    for role in StaffRole:
        with site.connect(role.value) as conn:
            granted = set(conn.execute("SELECT easyisp_my_permissions()").fetchone()[0])  # type: ignore[index]
        assert granted == ROLE_DEFAULTS[role], role
    with site.connect("VIEWER") as conn:
        catalogue = {r[0] for r in conn.execute("SELECT name FROM permissions")}
    assert catalogue == set(PERMISSIONS)


def test_database_refusals_reach_the_operator_as_plain_messages(site: SecuritySite) -> None:
    engine = make_engine(site.url_for(site.logins["VIEWER"]))
    payment = {"tenant": site.a.name, "customer": "amina", "amount": 5, "method": "CASH"}
    try:
        with session_scope(_sessions(engine)) as session:
            with pytest.raises(PermissionDenied, match="You do not have permission"):
                record_payment(session, payment)
            session.rollback()
    finally:
        engine.dispose()


def test_staff_edit_a_row_through_the_orm_and_the_trigger_stamps_updated_at(
    site: SecuritySite,
) -> None:
    """The ORM must not write updated_at itself: staff have no grant on it."""
    from sqlalchemy.orm import Session

    from easyisp_core.db.engine import make_engine
    from easyisp_core.models import Package

    engine = make_engine(site.url_for(site.logins["ADMIN"]), application_name="easyisp-tests")
    try:
        with Session(engine) as orm:
            package = orm.get(Package, site.a.ids["package"])
            assert package is not None
            before = package.updated_at
            package.name = "Renamed by staff"
            orm.commit()
            assert package.updated_at >= before
            assert package.name == "Renamed by staff"
    finally:
        engine.dispose()


def test_the_list_search_functions_name_only_rows_the_caller_may_read(site: SecuritySite) -> None:
    """easyisp_payments_matching / easyisp_sessions_matching (0016) and
    easyisp_customers_matching (0025) run with the owner's
    rights, so that the trigram indexes serve staff logins (under row-level security ILIKE
    cannot use them). They must never name a row the caller's own SELECT would not show."""
    searches = {
        "payments": ("SELECT id FROM payments", "SELECT * FROM easyisp_payments_matching(%s)"),
        "sessions": ("SELECT id FROM sessions", "SELECT id FROM easyisp_sessions_matching(%s)"),
        # 0025: the customers filter; no tenant given, no cap.
        "customers": (
            "SELECT id FROM customers",
            "SELECT * FROM easyisp_customers_matching(ARRAY[%s], NULL, NULL)",
        ),
    }
    found_by_admin: dict[str, set[Any]] = {}
    for role in site.logins:
        with site.connect(role, autocommit=True) as conn:
            for table, (visible_sql, search_sql) in searches.items():
                try:
                    visible = {row[0] for row in conn.execute(visible_sql)}
                except psycopg.errors.InsufficientPrivilege:
                    visible = set()
                found = {row[0] for row in conn.execute(search_sql, ("%a%",))}
                assert found <= visible, f"{role} finds {table} it may not read"
                if role == "ADMIN":
                    found_by_admin[table] = found
    # They do find what staff may read (tenant A's seeded payment and session).
    assert site.a.ids["payment"] in found_by_admin["payments"]
    assert found_by_admin["sessions"]
    assert site.a.ids["customer"] in found_by_admin["customers"]
