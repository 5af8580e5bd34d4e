"""A committed two-tenant site with a staff login of every role, for attacker-style tests.

Everything here is written by the database superuser; the tests then connect with each
role's own credentials through raw psycopg, the way a curious staff member with psql would.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.models.enums import StaffRole
from easyisp_core.passwords import scram_verifier
from easyisp_core.repositories.roles import RoleRepository
from easyisp_core.services.staff import create_staff
from easyisp_core.services.tenants import create_tenant
from tests.factories import PASSWORD

SERVICE_PASSWORD = "Service-pass-2026"


@dataclass
class TenantRows:
    """Ids of one tenant's seeded rows: `main` rows are read/updated, `spare` rows deleted."""

    tenant_id: uuid.UUID
    name: str
    ids: dict[str, Any] = field(default_factory=dict)


@dataclass
class SecuritySite:
    admin_url: str
    db_url: str
    a: TenantRows
    b: TenantRows
    logins: dict[str, str]  # app role (or SERVICE) -> username

    def url_for(self, username: str, password: str = PASSWORD) -> str:
        return (
            make_url(self.db_url)
            .set(drivername="postgresql", username=username, password=password)
            .render_as_string(hide_password=False)
        )

    def connect(self, role: str, **kwargs: Any) -> psycopg.Connection[Any]:
        username = self.logins[role]
        password = SERVICE_PASSWORD if role == "SERVICE" else PASSWORD
        return psycopg.connect(self.url_for(username, password), **kwargs)


def _seed_tenant(
    conn: psycopg.Connection[Any], tenant_id: uuid.UUID, name: str, n: int
) -> TenantRows:
    rows = TenantRows(tenant_id, name)
    ids = rows.ids

    def one(sql: str, *params: Any) -> Any:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return row[0]

    t = tenant_id
    for suffix in ("", "_spare"):
        ids["package" + suffix] = one(
            "INSERT INTO packages (tenant_id, name, type, price, download_speed, upload_speed, "
            "validity_value, validity_unit) VALUES (%s, %s, 'PPPOE', 1500, 5, 2, 1, 'MONTHS') "
            "RETURNING id",
            t,
            f"Home{suffix}",
        )
        ids["router_group" + suffix] = one(
            "INSERT INTO router_groups (tenant_id, name) VALUES (%s, %s) RETURNING id",
            t,
            f"Site{suffix}",
        )
        ids["nas" + suffix] = one(
            "INSERT INTO nas (tenant_id, name, ip_address, secret_enc) "
            "VALUES (%s, %s, %s, '\\x01') RETURNING id",
            t,
            f"router{suffix}",
            f"10.{90 + n}.{len(suffix)}.1",
        )
        ids["vpn_peer" + suffix] = one(
            "INSERT INTO vpn_peers (tenant_id, name, public_key, assigned_ip) "
            "VALUES (%s, %s, %s, %s) RETURNING id",
            t,
            f"wg{suffix}",
            secrets.token_hex(16),
            f"10.{10 + n}.{len(suffix)}.2",
        )
        ids["customer" + suffix] = one(
            "INSERT INTO customers (tenant_id, account_number, username, full_name, "
            "connection_type, package_id, phone) VALUES (%s, %s, %s, 'Amina Hassan', 'PPPOE', %s, "
            "'254712345678') RETURNING id",
            t,
            f"ACC00000{len(suffix)}",
            f"amina{suffix}",
            ids["package"],
        )
        ids["voucher_batch" + suffix] = one(
            "INSERT INTO voucher_batches (tenant_id, name, package_id, quantity) "
            "VALUES (%s, %s, %s, 1) RETURNING id",
            t,
            f"Batch{suffix}",
            ids["package"],
        )
        ids["voucher" + suffix] = one(
            "INSERT INTO vouchers (tenant_id, code, package_id, batch_id, price) "
            "VALUES (%s, %s, %s, %s, 50) RETURNING id",
            t,
            f"V{n}CODE{len(suffix)}",
            ids["package"],
            ids["voucher_batch"],
        )
        ids["invoice" + suffix] = one(
            "INSERT INTO invoices (tenant_id, invoice_no, items, subtotal, tax, total, issued_at) "
            'VALUES (%s, %s, \'[{"description": "x", "quantity": 1, "unit_price": 1}]\', '
            "1, 0, 1, now()) RETURNING id",
            t,
            f"INV-{suffix or 'main'}",
        )
        ids["expense" + suffix] = one(
            "INSERT INTO expenses (tenant_id, category, description, amount, expense_date) "
            "VALUES (%s, 'Rent', 'Office', 20000, current_date) RETURNING id",
            t,
        )
        ids["account" + suffix] = one(
            "INSERT INTO chart_of_accounts (tenant_id, code, name, type) "
            "VALUES (%s, %s, 'Cash', 'ASSET') RETURNING id",
            t,
            f"100{len(suffix)}",
        )
        ids["payment_gateway" + suffix] = one(
            "INSERT INTO payment_gateways (tenant_id, name, provider, shortcode, callback_token, "
            "purpose) VALUES (%s, %s, 'MPESA_PAYBILL', '174379', %s, %s) RETURNING id",
            t,
            f"Paybill{suffix}",
            secrets.token_hex(20),
            "HOTSPOT" if suffix else "PPPOE",
        )
        ids["sms_gateway" + suffix] = one(
            "INSERT INTO sms_gateways (tenant_id, name, provider) VALUES (%s, %s, 'ADVANTA') "
            "RETURNING id",
            t,
            f"Advanta{suffix}",
        )
        ids["hotspot_payment" + suffix] = one(
            "INSERT INTO pending_hotspot_payments (tenant_id, checkout_request_id, phone, amount, "
            "package_id, expires_at) VALUES (%s, %s, '254712345678', 50, %s, now()) RETURNING id",
            t,
            f"ws_CO_{secrets.token_hex(8)}",
            ids["package"],
        )
        ids["service_command" + suffix] = one(
            "INSERT INTO service_commands (tenant_id, kind, customer_id) "
            "VALUES (%s, 'DISCONNECT', %s) RETURNING id",
            t,
            ids["customer"],
        )
        ids["sms_log" + suffix] = one(
            "INSERT INTO sms_logs (tenant_id, phone, message) VALUES (%s, '254712345678', 'Hi') "
            "RETURNING id",
            t,
        )
        ids["session" + suffix] = one(
            "INSERT INTO sessions (tenant_id, username, session_id, customer_id) "
            "VALUES (%s, 'amina', %s, %s) RETURNING id",
            t,
            secrets.token_hex(4),
            ids["customer"],
        )
    ids["payment"] = one(
        "SELECT easyisp_record_payment(%s, 1000, 'CASH', NULL, 'seed')", ids["customer"]
    )
    ids["payment_spare"] = one(
        "INSERT INTO payments (tenant_id, amount, method) VALUES (%s, 10, 'CASH') RETURNING id", t
    )
    ids["mpesa_callback"] = one(
        "INSERT INTO mpesa_callbacks (tenant_id, kind, trusted, body) "
        "VALUES (%s, 'C2B_CONFIRMATION', true, '{}') RETURNING id",
        t,
    )
    ids["mpesa_suspense"] = one(
        "INSERT INTO mpesa_suspense (tenant_id, receipt, amount, reason) "
        "VALUES (%s, %s, 10, 'no such account') RETURNING id",
        t,
        f"SUSP{n}{secrets.token_hex(3).upper()}",
    )
    ids["mpesa_status_query"] = one(
        "INSERT INTO mpesa_status_queries (tenant_id, gateway_id, receipt, customer_id, origin) "
        "VALUES (%s, %s, %s, %s, 'console') RETURNING id",
        t,
        ids["payment_gateway"],
        f"TKQ{n}{secrets.token_hex(3).upper()}",
        ids["customer"],
    )
    conn.execute("SELECT easyisp_next_number(%s, 'seed')", (t,))
    return rows


def build_site(admin_url: str, db_url: str) -> SecuritySite:
    engine = make_engine(db_url)
    logins: dict[str, str] = {}
    suffix = secrets.token_hex(3)
    try:
        with session_scope(_sessions(engine)) as session:
            a = create_tenant(session, {"name": f"sec-a-{suffix}", "display_name": "A"})
            b = create_tenant(session, {"name": f"sec-b-{suffix}", "display_name": "B"})
            for role in StaffRole:
                username = f"t{suffix}.{role.value.lower().replace('_', '')}"
                create_staff(
                    session,
                    {
                        "tenant": a.name,
                        "username": username,
                        "full_name": role.title(),
                        "role": role,
                    },
                    PASSWORD,
                )
                logins[role.value] = username
            other = f"t{suffix}.adminb"
            create_staff(
                session,
                {"tenant": b.name, "username": other, "full_name": "B admin", "role": "ADMIN"},
                PASSWORD,
            )
            logins["ADMIN_B"] = other
            RoleRepository(session).enable_service_login(scram_verifier(SERVICE_PASSWORD))
            logins["SERVICE"] = "easyisp_service"
    finally:
        engine.dispose()
    libpq = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        rows_a = _seed_tenant(conn, a.id, a.name, 1)
        rows_b = _seed_tenant(conn, b.id, b.name, 2)
        conn.execute(
            "INSERT INTO service_heartbeats (instance, hostname, version, pid, started_at) "
            "VALUES ('site-1', 'server', '0.1.0', 1, now()) ON CONFLICT DO NOTHING"
        )
        conn.execute(
            "INSERT INTO vpn_site (interface_name, public_key, endpoint_host, endpoint_port, "
            "address_range) VALUES ('wg-easyisp', 'hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=', "
            "'203.0.113.10', 51820, '10.10.0.0/16') ON CONFLICT DO NOTHING"
        )
    return SecuritySite(admin_url, db_url, rows_a, rows_b, logins)


def _sessions(engine: Any) -> Any:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


MONEY = Decimal("1000.00")
