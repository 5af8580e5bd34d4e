"""The audit trail: every write leaves a row, nobody can change one, and tampering shows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from easyisp_cli.main import main
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.services.audit import ChainHead, verify_chain
from tests import pg
from tests.db.security_site import SecuritySite, _sessions, build_site


@pytest.fixture
def site(admin_url: str, template_db: str) -> Iterator[SecuritySite]:
    name = pg.create_database(admin_url, "easyisp_test_audit", template=template_db)
    try:
        yield build_site(admin_url, pg.database_url(admin_url, name))
    finally:
        pg.drop_database(admin_url, name)


def _superuser(site: SecuritySite) -> psycopg.Connection[Any]:
    return psycopg.connect(site.db_url, autocommit=True)


def _last_audit(conn: psycopg.Connection[Any], action: str) -> dict[str, Any]:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    row = cur.execute(
        "SELECT a.*, u.username AS staff FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id "
        "WHERE action = %s ORDER BY id DESC LIMIT 1",
        (action,),
    ).fetchone()
    assert row is not None, f"no {action} audit row"
    return row


def test_a_staff_write_is_audited_with_who_what_and_the_change(site: SecuritySite) -> None:
    with site.connect("STAFF", autocommit=True) as cashier:
        customer = cashier.execute(
            "INSERT INTO customers (tenant_id, account_number, username, full_name, "
            "connection_type, password_enc) VALUES (%s, 'ACC777', 'baraka', 'Baraka Ali', "
            "'PPPOE', '\\x0102') RETURNING id",
            (site.a.tenant_id,),
        ).fetchone()[0]  # type: ignore[index]
        cashier.execute("UPDATE customers SET status = 'SUSPENDED' WHERE id = %s", (customer,))
    with _superuser(site) as conn:
        created = _last_audit(conn, "CUSTOMER_CREATE")
        assert created["staff"] == site.logins["STAFF"]
        assert created["actor"] == site.logins["STAFF"]
        assert created["target_customer_id"] == customer
        assert created["target_label"] == "baraka"
        assert created["after"]["full_name"] == "Baraka Ali"
        assert created["after"]["password_enc"] == "[secret]"  # never the ciphertext itself
        suspended = _last_audit(conn, "CUSTOMER_SUSPEND")
        assert suspended["before"] == {"status": "ACTIVE"}
        assert suspended["after"] == {"status": "SUSPENDED"}


def test_semantic_actions_for_money_staff_and_secrets(site: SecuritySite) -> None:
    with site.connect("ADMIN", autocommit=True) as admin:
        admin.execute(
            "SELECT easyisp_refund_payment(%s, 'double charge')", (site.a.ids["payment"],)
        )
        viewer = admin.execute(
            "SELECT id FROM users WHERE username = %s", (site.logins["VIEWER"],)
        ).fetchone()[0]  # type: ignore[index]
        admin.execute(
            "SELECT easyisp_set_staff_permissions(%s, ARRAY['sms.send'], NULL)", (viewer,)
        )
        admin.execute("SELECT easyisp_reveal_customer_password(%s)", (site.a.ids["customer"],))
    with _superuser(site) as conn:
        refund = _last_audit(conn, "PAYMENT_REFUND")
        assert refund["after"]["status"] == "REFUNDED"
        change = _last_audit(conn, "STAFF_PERMISSION_CHANGE")
        assert change["after"] == {"added_permissions": ["sms.send"]}
        assert change["target_user_id"] == viewer
        reveal = _last_audit(conn, "CUSTOMER_PASSWORD_REVEAL")
        assert reveal["staff"] == site.logins["ADMIN"]
        wallet = _last_audit(conn, "WALLET_ENTRY_CREATE")
        assert wallet["after"]["kind"] == "REFUND"


def test_operational_updates_are_not_audited(site: SecuritySite) -> None:
    with site.connect("SERVICE", autocommit=True) as service, _superuser(site) as conn:
        before = conn.execute("SELECT count(*) FROM audit_logs").fetchone()[0]  # type: ignore[index]
        service.execute(
            "UPDATE nas SET status = 'ONLINE', last_seen_at = now() WHERE id = %s",
            (site.a.ids["nas"],),
        )
        assert conn.execute("SELECT count(*) FROM audit_logs").fetchone()[0] == before  # type: ignore[index]


@pytest.mark.parametrize("role", ["SUPER_ADMIN", "ADMIN", "STAFF", "VIEWER", "SERVICE"])
def test_no_application_role_can_alter_audit_rows(site: SecuritySite, role: str) -> None:
    with site.connect(role) as conn:
        for sql in (
            "UPDATE audit_logs SET details = 'x'",
            "DELETE FROM audit_logs",
            "TRUNCATE audit_logs",
        ):
            try:
                touched = conn.execute(sql).rowcount
            except psycopg.Error:
                touched = 0
            conn.rollback()
            assert touched == 0, f"{role}: {sql}"


def test_even_the_superuser_is_refused_while_the_guard_is_on(site: SecuritySite) -> None:
    with _superuser(site) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM audit_logs")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE audit_logs SET details = 'x'")


def _verify(site: SecuritySite, anchors: dict[str, ChainHead] | None = None) -> list[str]:
    engine = make_engine(site.db_url)
    try:
        with session_scope(_sessions(engine)) as session:
            return verify_chain(session, anchors).problems
    finally:
        engine.dispose()


def _tamper(site: SecuritySite, sql: str, *params: Any) -> None:
    """What a database superuser could do: switch off the guard, change history."""
    with _superuser(site) as conn:
        conn.execute("ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_immutable")
        conn.execute(sql, params)
        conn.execute("ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_immutable")


def test_an_intact_trail_verifies(site: SecuritySite) -> None:
    assert _verify(site) == []


def test_an_edited_row_is_detected(site: SecuritySite) -> None:
    _tamper(
        site,
        "UPDATE audit_logs SET actor = 'someone_else' WHERE tenant_id = %s AND seq = 2",
        site.a.tenant_id,
    )
    problems = _verify(site)
    assert any("row 2: its content was changed" in p for p in problems), problems


def test_a_deleted_row_is_detected(site: SecuritySite) -> None:
    _tamper(site, "DELETE FROM audit_logs WHERE tenant_id = %s AND seq = 3", site.a.tenant_id)
    problems = _verify(site)
    assert any("rows 3..3 are missing" in p for p in problems), problems


def test_a_rewritten_chain_is_caught_by_an_earlier_anchor(site: SecuritySite) -> None:
    engine = make_engine(site.db_url)
    try:
        with session_scope(_sessions(engine)) as session:
            heads = verify_chain(session).heads
    finally:
        engine.dispose()
    tenant = str(site.a.tenant_id)
    # Cut the last row and re-hash nothing: the chain itself still looks whole...
    _tamper(
        site, "DELETE FROM audit_logs WHERE tenant_id = %s AND seq = %s", tenant, heads[tenant].seq
    )
    assert not any(tenant in p for p in _verify(site))
    # ...but the head recorded earlier, outside the database, is gone.
    problems = _verify(site, {tenant: heads[tenant]})
    assert any("was cut back" in p for p in problems), problems


def test_audit_verify_command_and_its_anchor_file(
    site: SecuritySite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anchor = tmp_path / "audit-anchor.json"
    assert main(["--database-url", site.db_url, "audit", "verify", "--anchor", str(anchor)]) == 0
    assert "intact" in capsys.readouterr().out
    assert anchor.exists()
    _tamper(
        site,
        "UPDATE audit_logs SET after = '{}' WHERE tenant_id = %s AND seq = 1",
        site.b.tenant_id,
    )
    assert main(["--database-url", site.db_url, "audit", "verify", "--anchor", str(anchor)]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM:" in out
    assert "changed after it was written" in out


def test_the_digest_is_plain_sha256_of_the_documented_fields(site: SecuritySite) -> None:
    with _superuser(site) as conn:
        row = conn.execute(
            "SELECT easyisp_audit_digest_input(a), row_hash FROM audit_logs a ORDER BY id LIMIT 1"
        ).fetchone()
    assert row is not None
    assert hashlib.sha256(row[0].encode()).digest() == bytes(row[1])


def test_staff_cannot_switch_the_audit_off_with_the_bulk_load_setting(
    site: SecuritySite,
) -> None:
    with site.connect("STAFF", autocommit=True) as cashier, _superuser(site) as conn:
        before = conn.execute(
            "SELECT count(*) FROM audit_logs WHERE action = 'PAYMENT_CREATE'"
        ).fetchone()[0]  # type: ignore[index]
        cashier.execute("SET easyisp.bulk_load = 'on'")
        cashier.execute(
            "SELECT easyisp_record_payment(%s, 50, 'CASH', NULL, 'quiet')",
            (site.a.ids["customer"],),
        )
        after = conn.execute(
            "SELECT count(*) FROM audit_logs WHERE action = 'PAYMENT_CREATE'"
        ).fetchone()[0]  # type: ignore[index]
    assert after == before + 1
