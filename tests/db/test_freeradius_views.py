"""Migration 0007's FreeRADIUS views return the columns and rows rlm_sql's stock queries read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from tests.factories import make_customer, make_nas, make_package, make_tenant

STOCK_COLUMNS = {
    "radcheck": ["id", "tenant_id", "username", "attribute", "op", "value"],
    "radreply": ["id", "tenant_id", "username", "attribute", "op", "value"],
    "radusergroup": ["tenant_id", "username", "groupname", "priority"],
    "radgroupcheck": ["id", "tenant_id", "groupname", "attribute", "op", "value"],
    "radgroupreply": ["id", "tenant_id", "groupname", "attribute", "op", "value"],
    "nas": [
        "id", "tenant_id", "nasname", "shortname", "type", "ports", "secret", "server",
        "community", "description",
    ],
}  # fmt: skip


def _columns(session: Session, view: str) -> list[str]:
    rows = session.execute(
        text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'freeradius' AND table_name = :v ORDER BY ordinal_position"
        ),
        {"v": view},
    )
    return [row[0] for row in rows]


def test_the_views_have_the_stock_columns(session: Session) -> None:
    for view, columns in STOCK_COLUMNS.items():
        assert _columns(session, view) == columns, view
    radacct = _columns(session, "radacct")
    for column in ("radacctid", "acctsessionid", "acctuniqueid", "username", "nasipaddress",
                   "acctstarttime", "acctstoptime", "acctinputoctets", "acctoutputoctets",
                   "framedipaddress", "acctterminatecause"):  # fmt: skip
        assert column in radacct


def test_a_subscriber_as_freeradius_reads_it(session: Session, secret_box: SecretBox) -> None:
    tenant = make_tenant(session)
    package = make_package(
        session, tenant, name="Home 5M", burst_download=Decimal("10"), burst_upload=Decimal("4"),
        burst_threshold_download=Decimal("4"), burst_threshold_upload=Decimal("1.5"),
        burst_time=16, priority=5, shared_users=2,
    )  # fmt: skip
    customer = make_customer(
        session, secret_box, tenant, username="wanjiru", package=package.name,
        static_ip="10.20.0.7", password="pass-1234",
    )  # fmt: skip
    nas = make_nas(session, secret_box, tenant, ip_address="10.9.8.7")
    session.execute(
        text("INSERT INTO freeradius.customer_passwords VALUES (:c, :t, 'pass-1234')"),
        {"c": customer.id, "t": tenant.id},
    )
    session.execute(
        text("INSERT INTO freeradius.nas_secrets VALUES (:n, :t, 'nas-secret')"),
        {"n": nas.id, "t": tenant.id},
    )
    params = {"u": "wanjiru"}
    check = session.execute(
        text("SELECT attribute, op, value FROM freeradius.radcheck WHERE username = :u"), params
    ).all()
    assert ("Cleartext-Password", ":=", "pass-1234") in [tuple(r) for r in check]
    reply = session.execute(
        text("SELECT attribute, value FROM freeradius.radreply WHERE username = :u"), params
    ).all()
    assert [tuple(r) for r in reply] == [("Framed-IP-Address", "10.20.0.7")]
    group = session.execute(
        text("SELECT groupname FROM freeradius.radusergroup WHERE username = :u"), params
    ).scalar_one()
    assert group == f"Home 5M@{tenant.id}"
    group_check = session.execute(
        text("SELECT attribute, op, value FROM freeradius.radgroupcheck WHERE groupname = :g"),
        {"g": group},
    ).all()
    assert [tuple(r) for r in group_check] == [("Simultaneous-Use", ":=", "2")]
    group_reply: dict[str, str] = dict(
        session.execute(
            text("SELECT attribute, value FROM freeradius.radgroupreply WHERE groupname = :g"),
            {"g": group},
        ).all()
    )
    assert group_reply["Mikrotik-Rate-Limit"] == "2M/5M 4M/10M 1500k/4M 16/16 5"
    assert group_reply["Acct-Interim-Interval"] == "300"
    nas_row = session.execute(
        text("SELECT nasname, secret FROM freeradius.nas WHERE nasname = '10.9.8.7'")
    ).one()
    assert tuple(nas_row) == ("10.9.8.7", "nas-secret")


def test_freeradius_as_its_own_role_refuses_lapsed_accounts_and_reads_accounting(
    session: Session, secret_box: SecretBox
) -> None:
    """Read as `easyisp_freeradius` (the role FreeRADIUS logs in with): a suspended or
    expired subscriber gets Auth-Type := Reject, radacct shows our sessions, and the
    encrypted columns stay out of reach."""
    tenant = make_tenant(session)
    package = make_package(session, tenant, name="Home 5M")
    future = datetime.now(UTC) + timedelta(days=5)
    past = datetime.now(UTC) - timedelta(days=1)
    accounts = {
        "active": ("ACTIVE", future),
        "suspended": ("SUSPENDED", future),
        "lapsed": ("ACTIVE", past),
    }
    for username, (status, expires_at) in accounts.items():
        customer = make_customer(
            session, secret_box, tenant, username=username, package=package.name,
            status=status, expires_at=expires_at, password="pass-1234",
        )  # fmt: skip
        session.execute(
            text(
                "INSERT INTO sessions (tenant_id, customer_id, username, session_id, "
                "input_octets, output_octets, started_at) "
                "VALUES (:t, :c, :u, :s, 1000, 5000, now())"
            ),
            {"t": tenant.id, "c": customer.id, "u": username, "s": f"81f0{len(username):04x}"},
        )
    session.execute(text("SET LOCAL ROLE easyisp_freeradius"))
    rejected = {
        row.username
        for row in session.execute(
            text("SELECT username FROM freeradius.radcheck WHERE attribute = 'Auth-Type'")
        )
        if row.username in accounts
    }
    assert rejected == {"suspended", "lapsed"}
    acct = session.execute(
        text(
            "SELECT acctinputoctets, acctoutputoctets, acctstoptime FROM freeradius.radacct "
            "WHERE username = 'active'"
        )
    ).one()
    assert tuple(acct) == (1000, 5000, None)
    with pytest.raises(ProgrammingError, match="permission denied"):
        session.execute(text("SELECT password_enc FROM customers LIMIT 1"))
