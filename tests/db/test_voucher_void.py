"""Voiding vouchers: only unused ones, never undone, only with vouchers.write, audited; the
rules hold for raw SQL as well as for the service the console calls."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.orm import sessionmaker

from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.errors import NotFound, PermissionDenied, ValidationFailed
from easyisp_core.services.vouchers import void_batch, void_voucher
from tests import pg
from tests.db.security_site import SecuritySite, build_site


@pytest.fixture(scope="module")
def site(admin_url: str, template_db: str) -> Iterator[SecuritySite]:
    name = pg.create_database(admin_url, "easyisp_test_voucher_void", template=template_db)
    try:
        yield build_site(admin_url, pg.database_url(admin_url, name))
    finally:
        pg.drop_database(admin_url, name)


def _new_voucher(site: SecuritySite, status: str = "AVAILABLE") -> tuple[uuid.UUID, str]:
    code = "VV" + uuid.uuid4().hex[:8].upper()
    with psycopg.connect(site.db_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO vouchers (tenant_id, code, package_id, batch_id, price, status, used_at) "
            "VALUES (%s, %s, %s, %s, 50, %s, CASE WHEN %s = 'USED' THEN now() END) "
            "RETURNING id",
            (site.a.tenant_id, code, site.a.ids["package"], site.a.ids["voucher_batch"],
             status, status),
        ).fetchone()  # fmt: skip
    assert row is not None
    return row[0], code


def _status(site: SecuritySite, voucher_id: uuid.UUID) -> str:
    with psycopg.connect(site.db_url) as conn:
        row = conn.execute("SELECT status FROM vouchers WHERE id = %s", (voucher_id,)).fetchone()
    assert row is not None
    return str(row[0])


def _as(site: SecuritySite, role: str) -> Any:
    engine = make_engine(site.url_for(site.logins[role]), application_name="easyisp-tests")
    return engine, sessionmaker(engine, expire_on_commit=False)


def test_staff_voids_an_unused_voucher_and_it_is_audited(site: SecuritySite) -> None:
    voucher_id, code = _new_voucher(site)
    engine, sessions = _as(site, "STAFF")
    try:
        with session_scope(sessions) as session:
            assert void_voucher(session, site.a.tenant_id, voucher_id) == code
    finally:
        engine.dispose()
    assert _status(site, voucher_id) == "VOIDED"
    with psycopg.connect(site.db_url) as conn:
        row = conn.execute(
            "SELECT action, actor, before, after FROM audit_logs "
            "WHERE target_voucher_id = %s ORDER BY id DESC LIMIT 1",
            (voucher_id,),
        ).fetchone()
    assert row == (
        "VOUCHER_UPDATE", site.logins["STAFF"], {"status": "AVAILABLE"}, {"status": "VOIDED"}
    )  # fmt: skip


@pytest.mark.parametrize("status", ["USED", "EXPIRED"])
def test_only_an_unused_voucher_can_be_voided_even_in_raw_sql(
    site: SecuritySite, status: str
) -> None:
    voucher_id, _code = _new_voucher(site, status)
    engine, sessions = _as(site, "ADMIN")
    try:
        with (
            pytest.raises(ValidationFailed, match="only an unused voucher"),
            session_scope(sessions) as session,
        ):
            void_voucher(session, site.a.tenant_id, voucher_id)
    finally:
        engine.dispose()
    with (
        psycopg.connect(site.db_url) as conn,  # the superuser, past every policy
        pytest.raises(psycopg.errors.CheckViolation, match="only an unused voucher"),
    ):
        conn.execute("UPDATE vouchers SET status = 'VOIDED' WHERE id = %s", (voucher_id,))
    assert _status(site, voucher_id) == status


def test_a_voided_voucher_stays_voided(site: SecuritySite) -> None:
    voucher_id, _code = _new_voucher(site, "VOIDED")
    for status in ("AVAILABLE", "USED"):
        with (
            psycopg.connect(site.db_url) as conn,
            pytest.raises(psycopg.errors.CheckViolation, match="cannot be used again"),
        ):
            conn.execute(
                "UPDATE vouchers SET status = %s, used_at = now() WHERE id = %s",
                (status, voucher_id),
            )
    assert _status(site, voucher_id) == "VOIDED"


@pytest.mark.parametrize("role", ["VIEWER", "CUSTOMER_CARE"])
def test_a_role_without_vouchers_write_is_refused_by_the_database(
    site: SecuritySite, role: str
) -> None:
    voucher_id, _code = _new_voucher(site)
    engine, sessions = _as(site, role)
    try:
        with pytest.raises(PermissionDenied), session_scope(sessions) as session:
            void_voucher(session, site.a.tenant_id, voucher_id)
        with pytest.raises(PermissionDenied), session_scope(sessions) as session:
            void_batch(session, site.a.tenant_id, site.a.ids["voucher_batch"])
        with site.connect(role, autocommit=True) as conn:
            updated = conn.execute(
                "UPDATE vouchers SET status = 'VOIDED' WHERE id = %s", (voucher_id,)
            ).rowcount
        assert updated == 0  # row-level security: nothing to change
    finally:
        engine.dispose()
    assert _status(site, voucher_id) == "AVAILABLE"


def test_another_tenants_batch_is_not_found(site: SecuritySite) -> None:
    engine, sessions = _as(site, "ADMIN")
    try:
        with pytest.raises(NotFound, match="no longer exists"), session_scope(sessions) as session:
            void_batch(session, site.a.tenant_id, site.b.ids["voucher_batch"])
    finally:
        engine.dispose()
