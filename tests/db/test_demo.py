"""The demo loader fills a real database with consistent, realistic data, and refuses twice."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from easyisp_cli.main import main
from easyisp_core.crypto import SecretBox, new_site_key
from easyisp_core.db.engine import make_engine
from easyisp_core.demo import DemoOptions, DemoResult, load_demo
from easyisp_core.demo.catalog import DEMO_TENANTS, PLANS, STAFF_ROLES
from easyisp_core.demo.generator import TenantGenerator
from easyisp_core.demo.rows import PlanRef, RouterRef, TenantContext
from easyisp_core.errors import Conflict
from easyisp_core.models.enums import ConnectionType, CustomerStatus, PaymentMethod, StaffRole
from easyisp_core.repositories.bulk import BulkWriter
from easyisp_core.repositories.sms_outbox import suppress_receipts_in_transaction
from easyisp_core.schemas.invoice_items import InvoiceItems
from easyisp_core.services.customers import CUSTOMER_PASSWORD
from tests import pg
from tests.factories import make_customer, make_tenant

CUSTOMERS = 300
KE_MOBILE = re.compile(r"^254[17]\d{8}$")
DEMO_LOGINS = [f"{prefix}.{t.slug}" for t in DEMO_TENANTS for prefix, _ in STAFF_ROLES]


def _skip_if_demo_logins_exist(admin_url: str) -> None:
    """Staff logins are server-wide roles; someone's demo on a shared server would clash."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        found = admin.execute(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (DEMO_LOGINS,)
        ).fetchone()
    if found:
        pytest.skip(f"the demo login {found[0]} already exists on the test server")


def _drop_demo_logins(admin_url: str) -> None:
    """The logins outlive the test database; remove the ones the test created."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for login in DEMO_LOGINS:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))


@pytest.fixture
def demo_logins_dropped(admin_url: str) -> Iterator[None]:
    _skip_if_demo_logins_exist(admin_url)
    yield
    _drop_demo_logins(admin_url)


@pytest.fixture(scope="module")
def demo_box() -> SecretBox:
    return SecretBox.from_encoded(new_site_key())


@pytest.fixture(scope="module")
def demo_engine(admin_url: str, template_db: str) -> Iterator[Engine]:
    """One private database loaded once for the whole module (the load commits)."""
    name = pg.create_database(admin_url, "easyisp_test_demo", template=template_db)
    engine = make_engine(pg.database_url(admin_url, name), application_name="easyisp-tests")
    yield engine
    engine.dispose()
    pg.drop_database(admin_url, name)


@pytest.fixture(scope="module")
def demo(demo_engine: Engine, demo_box: SecretBox, admin_url: str) -> DemoResult:
    _skip_if_demo_logins_exist(admin_url)
    with Session(demo_engine) as session:
        result = load_demo(session, demo_box, DemoOptions(customers=CUSTOMERS, tenants=2))
        session.commit()
    # The logins are server-wide; the CLI tests below create them again in their own databases.
    _drop_demo_logins(admin_url)
    return result


@pytest.fixture
def conn(demo_engine: Engine, demo: DemoResult) -> Iterator[Connection]:
    with demo_engine.connect() as connection:
        yield connection


def _main_tenant_id(conn: Connection) -> uuid.UUID:
    tenant_id: uuid.UUID = conn.execute(
        text("SELECT id FROM tenants WHERE name = :n"), {"n": DEMO_TENANTS[0].slug}
    ).scalar_one()
    return tenant_id


def _values(conn: Connection, query: str, **params: object) -> set[str]:
    return {str(v) for v in conn.execute(text(query), params).scalars()}


def test_both_tenants_exist_with_staff_of_every_role(conn: Connection, demo: DemoResult) -> None:
    names = _values(conn, "SELECT name FROM tenants")
    assert {DEMO_TENANTS[0].slug, DEMO_TENANTS[1].slug} <= names
    roles = _values(conn, "SELECT role FROM users WHERE tenant_id = :t", t=_main_tenant_id(conn))
    assert roles == {r.value for r in StaffRole}
    assert [t.name for t in demo.tenants] == [DEMO_TENANTS[0].slug, DEMO_TENANTS[1].slug]
    assert all(s.username.endswith("." + t.name) for t in demo.tenants for s in t.staff)


def test_customers_cover_every_connection_type_and_status(conn: Connection) -> None:
    tenant = _main_tenant_id(conn)
    sql = "SELECT DISTINCT {} FROM customers WHERE tenant_id = :t"
    assert _values(conn, sql.format("connection_type"), t=tenant) == {
        c.value for c in ConnectionType
    }
    assert _values(conn, sql.format("status"), t=tenant) == {s.value for s in CustomerStatus}
    total = conn.execute(text("SELECT count(*) FROM customers")).scalar_one()
    assert total == CUSTOMERS


def test_phones_are_kenyan_mobile_numbers(conn: Connection) -> None:
    phones = _values(conn, "SELECT phone FROM customers WHERE phone IS NOT NULL")
    phones |= _values(conn, "SELECT phone FROM payments WHERE phone IS NOT NULL")
    assert phones
    assert all(KE_MOBILE.match(p) for p in phones), [p for p in phones if not KE_MOBILE.match(p)]


def test_payments_use_every_method_with_valid_references(conn: Connection) -> None:
    methods = _values(
        conn, "SELECT DISTINCT method FROM payments WHERE tenant_id = :t", t=_main_tenant_id(conn)
    )
    assert methods == {m.value for m in PaymentMethod}
    receipts = _values(
        conn, "SELECT transaction_id FROM payments WHERE method = 'MPESA' AND status = 'COMPLETED'"
    )
    assert receipts
    assert all(re.fullmatch(r"[A-Z0-9]{10}", r) for r in receipts)
    per_customer = conn.execute(
        text("SELECT count(*)::numeric / (SELECT count(*) FROM customers) FROM payments")
    ).scalar_one()
    assert Decimal("1.5") < per_customer < Decimal("3")


def test_wallet_balance_equals_the_sum_of_the_ledger(conn: Connection) -> None:
    mismatches = conn.execute(
        text(
            "SELECT count(*) FROM customers c LEFT JOIN ("
            "  SELECT customer_id, sum(amount) AS total FROM wallet_transactions"
            "  GROUP BY customer_id) w ON w.customer_id = c.id "
            "WHERE c.wallet_balance <> coalesce(w.total, 0)"
        )
    ).scalar_one()
    assert mismatches == 0
    credited = conn.execute(text("SELECT count(*) FROM customers WHERE wallet_balance > 0"))
    assert 0 < credited.scalar_one() < CUSTOMERS // 2


def test_sessions_exist_and_have_usage(conn: Connection) -> None:
    count, with_usage, still_open = conn.execute(
        text(
            "SELECT count(*), count(*) FILTER (WHERE output_octets > 0 AND session_time > 0),"
            " count(*) FILTER (WHERE stopped_at IS NULL) FROM sessions"
        )
    ).one()
    assert count > CUSTOMERS
    assert with_usage == count
    assert 0 < still_open < count


def test_vouchers_belong_to_batches_of_their_size(conn: Connection) -> None:
    orphans = conn.execute(text("SELECT count(*) FROM vouchers WHERE batch_id IS NULL"))
    assert orphans.scalar_one() == 0
    wrong_size = conn.execute(
        text(
            "SELECT count(*) FROM voucher_batches b WHERE quantity <> "
            "(SELECT count(*) FROM vouchers v WHERE v.batch_id = b.id)"
        )
    )
    assert wrong_size.scalar_one() == 0
    statuses = _values(conn, "SELECT DISTINCT status FROM vouchers")
    assert {"AVAILABLE", "USED"} <= statuses


def test_invoice_totals_are_subtotal_plus_tax_over_valid_items(conn: Connection) -> None:
    rows = conn.execute(text("SELECT items, subtotal, tax, total FROM invoices")).all()
    assert rows
    for items, subtotal, tax, total in rows:
        assert total == subtotal + tax
        assert InvoiceItems.model_validate(items).subtotal == subtotal


def test_every_customer_row_stays_within_its_tenant(conn: Connection) -> None:
    leaks = conn.execute(
        text(
            "SELECT count(*) FROM customers c "
            "LEFT JOIN packages p ON p.id = c.package_id "
            "LEFT JOIN nas n ON n.id = c.nas_id "
            "WHERE p.tenant_id <> c.tenant_id OR n.tenant_id <> c.tenant_id"
        )
    ).scalar_one()
    assert leaks == 0
    foreign_payments = conn.execute(
        text(
            "SELECT count(*) FROM payments p JOIN customers c ON c.id = p.customer_id "
            "WHERE p.tenant_id <> c.tenant_id"
        )
    ).scalar_one()
    assert foreign_payments == 0


def test_demo_logins_work_with_the_site_key(
    conn: Connection, demo: DemoResult, demo_box: SecretBox
) -> None:
    sample = next(s for s in demo.tenants[0].subscribers if s.password)
    sealed = conn.execute(
        text("SELECT password_enc FROM customers WHERE username = :u AND tenant_id = :t"),
        {"u": sample.username, "t": _main_tenant_id(conn)},
    ).scalar_one()
    assert demo_box.decrypt(sealed, CUSTOMER_PASSWORD) == sample.password
    burst_plans = _values(conn, "SELECT name FROM packages WHERE burst_download IS NOT NULL")
    assert burst_plans == {p.name for p in PLANS if p.burst}


def test_a_second_load_is_refused(demo_engine: Engine, demo_box: SecretBox) -> None:
    with Session(demo_engine) as session, pytest.raises(Conflict, match="already loaded"):
        load_demo(session, demo_box, DemoOptions(customers=CUSTOMERS))


def _context(index: int = 0) -> TenantContext:
    ids = iter(uuid.UUID(int=n) for n in range(1, 1000))
    return TenantContext(
        index=index,
        tenant_id=str(next(ids)),
        tenant=DEMO_TENANTS[index],
        plans=tuple(PlanRef(str(next(ids)), spec) for spec in PLANS),
        routers=(RouterRef(str(next(ids)), "KLM-Kasarani", "Kasarani", "Nairobi"),),
        staff={StaffRole.ADMIN: (str(next(ids)),), StaffRole.STAFF: (str(next(ids)),)},
        first_account_number=1,
        now=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
    )


def _generate(seed: int) -> list[object]:
    gen = TenantGenerator(_context(), seed, lambda password: password.encode())
    rows: list[object] = []
    for batch in gen.customer_batches(120, 50):
        rows += [*batch.customers, *batch.payments, *batch.wallet, *batch.sessions, *batch.sms]
    rows += gen.invoices(1)
    rows += gen.vouchers(100)[1]
    accounts = gen.accounts()
    return [*rows, *accounts, *gen.expenses(accounts, 120)]


def test_the_generator_is_deterministic_for_a_seed() -> None:
    first = _generate(seed=7)
    assert first == _generate(seed=7)
    assert first != _generate(seed=8)


@pytest.mark.usefixtures("demo_logins_dropped")
def test_cli_demo_prints_logins_and_refuses_a_second_run(
    fresh_db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("EASYISP_SITE_KEY", new_site_key())
    monkeypatch.setenv("EASYISP_DATA_DIR", str(tmp_path))
    args = ["--database-url", fresh_db_url, "demo", "--customers", "50"]

    assert main(args) == 0
    out = capsys.readouterr().out
    assert re.search(r"owner\.kilimanet +\S{10,} +SUPER_ADMIN", out)
    assert "admin.pwani-fibre" in out
    assert "easyisp user password" in out

    assert main(args) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("easyisp: error:")
    assert "already loaded" in err
    assert len(err.splitlines()) == 1


@pytest.mark.usefixtures("demo_logins_dropped")
def test_cli_demo_prints_json_logins(
    fresh_db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("EASYISP_SITE_KEY", new_site_key())
    monkeypatch.setenv("EASYISP_DATA_DIR", str(tmp_path))
    args = ["--database-url", fresh_db_url, "demo", "--customers", "40", "--tenants", "1"]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    [tenant] = data["tenants"]
    assert tenant["name"] == DEMO_TENANTS[0].slug
    assert {s["role"] for s in tenant["staff"]} == {r.value for r in StaffRole}
    assert data["counts"]["customers"] == 40


def test_bad_arguments_are_refused_before_touching_the_database(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # An unreachable URL proves the check happens first.
    args = ["--database-url", "postgresql://nobody@127.0.0.1:1/none", "demo", "--customers", "3"]
    assert main(args) == 2
    assert "customers" in capsys.readouterr().err


_INDEX_DEFINITIONS = text(
    "SELECT indexname, indexdef FROM pg_indexes "
    "WHERE tablename IN ('customers', 'sessions') OR tablename LIKE 'sessions\\_%' "
    "ORDER BY indexname"
)


def test_deferred_indexes_come_back_exactly_and_survive_a_failed_load(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url, application_name="easyisp-tests")
    try:
        with engine.connect() as conn:
            before = conn.execute(_INDEX_DEFINITIONS).all()
        with Session(engine) as session:
            writer = BulkWriter(session)
            with writer.deferred_indexes(["customers", "sessions"]) as deferred:
                assert deferred == ["customers", "sessions"]
                left = session.execute(_INDEX_DEFINITIONS).scalars().all()
                assert not [name for name in left if name.startswith("ix_customers")]
            session.commit()
        with Session(engine) as session:
            writer = BulkWriter(session)
            with pytest.raises(RuntimeError), writer.deferred_indexes(["customers"]):
                raise RuntimeError("the load failed")
            session.commit()
        with engine.connect() as conn:
            assert conn.execute(_INDEX_DEFINITIONS).all() == before
    finally:
        engine.dispose()


def test_indexes_of_tables_with_rows_are_left_alone(demo_engine: Engine, demo: DemoResult) -> None:
    with Session(demo_engine) as session:
        with BulkWriter(session).deferred_indexes(["customers", "payments"]) as deferred:
            assert deferred == []
        session.rollback()


def test_indexes_come_back_over_rows_with_deferred_trigger_events(
    fresh_db_url: str, secret_box: SecretBox
) -> None:
    """A completed payment queues the deferred SMS-receipt trigger (0021) until commit;
    CREATE INDEX refuses a table with pending events, so the 1,000,000-customer demo (which
    defers indexes from 50,000 customers) failed at its index rebuild."""
    engine = make_engine(fresh_db_url, application_name="easyisp-tests")
    try:
        with engine.connect() as conn:
            before = conn.execute(_INDEX_DEFINITIONS).all()
        with Session(engine) as session:
            tenant = make_tenant(session)
            customer = make_customer(session, secret_box, tenant)
            session.commit()
            suppress_receipts_in_transaction(session)
            with BulkWriter(session).deferred_indexes(["payments"]) as deferred:
                assert deferred == ["payments"]
                session.execute(
                    text(
                        "INSERT INTO payments (tenant_id, customer_id, amount, method, status, "
                        "paid_at) VALUES (:t, :c, 100, 'CASH', 'COMPLETED', now())"
                    ),
                    {"t": tenant.id, "c": customer.id},
                )
            session.commit()
        with engine.connect() as conn:
            assert conn.execute(_INDEX_DEFINITIONS).all() == before
            assert conn.execute(text("SELECT count(*) FROM sms_logs")).scalar() == 0
    finally:
        engine.dispose()
