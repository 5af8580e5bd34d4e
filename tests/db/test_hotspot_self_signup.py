"""easyisp_hotspot_self_signup (migration 0015): only the site service may create a new
device's hotspot account; one account per (tenant, MAC) even for concurrent callers; the
tenant's flag and the per-phone cap are enforced by the database itself."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from easyisp_core.models.enums import StaffRole
from tests import pg
from tests.db.security_site import SecuritySite, build_site

SIGNUP = "SELECT easyisp_hotspot_self_signup(%s, %s, %s, %s)"
SEALED = b"sealed-by-the-caller"


@pytest.fixture(scope="module")
def site(admin_url: str, template_db: str) -> Iterator[SecuritySite]:
    name = pg.create_database(admin_url, "easyisp_test_self_signup", template=template_db)
    try:
        yield build_site(admin_url, pg.database_url(admin_url, name))
    finally:
        pg.drop_database(admin_url, name)


def _sign_up(conn: psycopg.Connection[Any], tenant: uuid.UUID, mac: str, phone: str) -> Any:
    row = conn.execute(SIGNUP, (tenant, mac, phone, SEALED)).fetchone()
    assert row is not None
    return row[0]


def _wait_for_lock_waiter(conn: psycopg.Connection[Any]) -> None:
    """Until the other caller is blocked on the device's advisory lock (so the test proves
    the lock, not a lucky ordering)."""
    deadline = time.monotonic() + 30
    while True:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()
        if row and row[0]:
            return
        assert time.monotonic() < deadline, "the second caller never waited on the lock"
        time.sleep(0.02)


@pytest.mark.parametrize("role", [*(r.value for r in StaffRole), "ADMIN_B"])
def test_staff_cannot_call_it(site: SecuritySite, role: str) -> None:
    with site.connect(role) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sign_up(conn, site.a.tenant_id, "02:00:00:00:01:01", "254712000101")


def test_service_creates_one_inactive_account_and_audits_it(site: SecuritySite) -> None:
    mac = "02:00:00:00:01:02"
    with site.connect("SERVICE") as conn:
        first = _sign_up(conn, site.a.tenant_id, mac, "254712000102")
        again = _sign_up(conn, site.a.tenant_id, mac, "254712000102")
        assert again == first
        row = conn.execute(
            "SELECT username, connection_type::text, status::text, package_id, "
            "expires_at <= now(), password_enc FROM customers WHERE id = %s",
            (first,),
        ).fetchone()
        conn.rollback()
    # No package and no time: RADIUS refuses it until a payment renews it.
    assert row == ("hs020000000102", "HOTSPOT", "ACTIVE", None, True, SEALED)


def test_concurrent_calls_for_one_mac_make_one_account(site: SecuritySite) -> None:
    mac = "02:00:00:00:01:03"
    tenant = site.a.tenant_id
    results: list[Any] = []
    with site.connect("SERVICE") as first, site.connect("SERVICE") as second:
        mine = _sign_up(first, tenant, mac, "254712000103")  # holds the device's lock
        racer = threading.Thread(
            target=lambda: results.append(_sign_up(second, tenant, mac, "254712000103"))
        )
        racer.start()
        _wait_for_lock_waiter(first)
        first.commit()  # the racer was waiting on the lock; it now finds this account
        racer.join()
        second.commit()
        count = first.execute(
            "SELECT count(*) FROM customers WHERE mac_address = %s", (mac,)
        ).fetchone()
    assert results == [mine]
    assert count == (1,)


def test_flag_off_refuses(site: SecuritySite) -> None:
    mac = "02:00:00:00:01:04"
    with site.connect("SUPER_ADMIN") as admin:
        admin.execute(
            'UPDATE tenants SET config = config || \'{"hotspot": {"self_signup": false}}\' '
            "WHERE id = %s",
            (site.b.tenant_id,),
        )
        admin.commit()
    with site.connect("SERVICE") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="turned off"):
            _sign_up(conn, site.b.tenant_id, mac, "254712000104")
        conn.rollback()
        count = conn.execute(
            "SELECT count(*) FROM customers WHERE mac_address = %s", (mac,)
        ).fetchone()
    assert count == (0,)


def test_one_phone_cannot_sign_up_devices_without_limit(site: SecuritySite) -> None:
    phone = "254712000105"
    with site.connect("SERVICE") as conn:
        for n in range(3):
            _sign_up(conn, site.a.tenant_id, f"02:00:00:00:02:0{n}", phone)
        with pytest.raises(psycopg.errors.CheckViolation, match="3 hotspot accounts"):
            _sign_up(conn, site.a.tenant_id, "02:00:00:00:02:09", phone)
        conn.rollback()
