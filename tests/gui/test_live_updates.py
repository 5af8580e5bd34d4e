"""Live updates: a change committed by another connection shows in the open console without a
refresh, another tenant's change wakes nothing, and a dropped connection is re-established."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.models import Session as RadiusSession
from easyisp_core.services.payments import record_payment
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV, install_guard
from easyisp_desktop.framework.live_updates import LiveChange, LiveUpdates
from easyisp_desktop.framework.worker import WorkerPool
from easyisp_desktop.views.customers import CustomersPage
from tests.gui.workspace_site import Site, seed_site, staff_engine

TIMEOUT_MS = 30_000


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GUARD_ENV, "1")


@pytest.fixture
def site(fresh_db_url: str, secret_box: SecretBox) -> Site:
    return seed_site(fresh_db_url, secret_box)


@pytest.fixture
def live(qtbot: QtBot, site: Site) -> Iterator[LiveUpdates]:
    engine = staff_engine(site.url, site.staff["ADMIN"])
    listener = LiveUpdates.for_url(engine.url, tenant_id=site.tenant_id)
    engine.dispose()
    listener.start()
    qtbot.waitUntil(listener.listening.is_set, timeout=TIMEOUT_MS)
    yield listener
    listener.stop()


def as_superuser(site: Site, sql: str, **params: object) -> None:
    """Another connection (the site service, another console) changes something and commits."""
    engine = make_engine(site.url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def pay(site: Site, tenant: str, username: str, amount: str) -> None:
    engine = make_engine(site.url)
    try:
        with session_scope(sessionmaker(engine)) as session:
            record_payment(
                session,
                {"tenant": tenant, "customer": username, "amount": amount, "method": "CASH"},
            )
    finally:
        engine.dispose()


def test_a_payment_from_another_connection_appears_in_the_open_table_and_workspace(
    qtbot: QtBot, site: Site, tmp_path: Path
) -> None:
    engine = staff_engine(site.url, site.staff["ADMIN"])
    install_guard(engine, force=True)
    workers = WorkerPool()
    try:
        page = CustomersPage(
            sessionmaker(engine, expire_on_commit=False), workers,
            QSettings(str(tmp_path / "t.ini"), QSettings.Format.IniFormat),
            tenant_id=site.tenant_id,
        )  # fmt: skip
        qtbot.addWidget(page)
        live = page.start_live_updates(engine.url)
        qtbot.waitUntil(live.listening.is_set, timeout=TIMEOUT_MS)
        page.show()
        qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=TIMEOUT_MS)
        workspace = page.open_workspace(site.customer_id)
        qtbot.waitUntil(lambda: workspace.data is not None, timeout=TIMEOUT_MS)
        balance = page.model.column_index("wallet_balance")
        assert page.model.index(0, balance).data() == "KES 0.00"

        pay(site, site.tenant_name, site.username, "750.00")

        qtbot.waitUntil(
            lambda: page.model.index(0, balance).data() == "KES 750.00", timeout=TIMEOUT_MS
        )
        qtbot.waitUntil(lambda: workspace.models["payments"].rowCount() == 1, timeout=TIMEOUT_MS)
        qtbot.waitUntil(
            lambda: workspace.header["wallet"].text() == "KES 750.00", timeout=TIMEOUT_MS
        )

        # The site service reports a disconnect's progress: the commands tab follows it.
        as_superuser(
            site,
            "INSERT INTO service_commands (tenant_id, kind, customer_id, nas_id) "
            "VALUES (:t, 'DISCONNECT', :c, :n)",
            t=site.tenant_id, c=site.customer_id, n=site.nas_id,
        )  # fmt: skip
        qtbot.waitUntil(lambda: workspace.models["commands"].rowCount() == 1, timeout=TIMEOUT_MS)
        as_superuser(site, "UPDATE service_commands SET status = 'RUNNING'")
        qtbot.waitUntil(
            lambda: workspace.models["commands"].index(0, 2).data() == "RUNNING",
            timeout=TIMEOUT_MS,
        )
        as_superuser(site, "UPDATE service_commands SET status = 'DONE', result = 'Disconnect-ACK'")
        qtbot.waitUntil(
            lambda: workspace.models["commands"].index(0, 2).data() == "DONE", timeout=TIMEOUT_MS
        )
        assert workspace.models["commands"].index(0, 4).data() == "Disconnect-ACK"
        page.shutdown()
        assert not live.listening.is_set()
    finally:
        workers.cancel_all()
        workers.wait(10_000)
        engine.dispose()


def test_another_tenants_change_wakes_nothing(qtbot: QtBot, site: Site, live: LiveUpdates) -> None:
    heard: list[LiveChange] = []
    live.changed.connect(heard.append)
    pay(site, site.other_tenant_name, site.other_customer, "100.00")
    # A session of our own tenant, on the partitioned sessions table, comes after it: once it
    # is heard, the other tenant's payment (committed first) has been passed over.
    as_superuser(
        site,
        "INSERT INTO sessions (tenant_id, customer_id, username, session_id, started_at) "
        "VALUES (:t, :c, :u, 'live-1', :at)",
        t=site.tenant_id, c=site.customer_id, u=site.username, at=datetime.now(UTC),
    )  # fmt: skip
    qtbot.waitUntil(lambda: len(heard) >= 1, timeout=TIMEOUT_MS)
    assert [(c.table, c.op, c.tenant_id) for c in heard] == [("sessions", "INSERT", site.tenant_id)]
    assert heard[0].customer_id == site.customer_id


@pytest.mark.expected_log("live updates lost their connection")
def test_the_listener_reconnects_when_its_connection_drops(
    qtbot: QtBot, site: Site, live: LiveUpdates
) -> None:
    heard: list[LiveChange] = []
    live.changed.connect(heard.append)
    first_pid = live.backend_pid
    assert first_pid is not None
    as_superuser(site, "SELECT pg_terminate_backend(:pid)", pid=first_pid)
    qtbot.waitUntil(
        lambda: live.listening.is_set() and live.backend_pid != first_pid, timeout=TIMEOUT_MS
    )
    pay(site, site.tenant_name, site.username, "50.00")
    qtbot.waitUntil(lambda: any(c.table == "payments" for c in heard), timeout=TIMEOUT_MS)


def test_a_notification_that_is_not_ours_is_ignored() -> None:
    assert LiveChange.parse("not json") is None
    assert LiveChange.parse('{"id": "1"}') is None
    change = LiveChange.parse('{"table": "payments", "op": "INSERT", "id": "7", "tenant_id": null}')
    assert change == LiveChange("payments", "INSERT", "7", None, None)


def test_sessions_trigger_lives_on_the_partitioned_parent(site: Site) -> None:
    # RadiusSession is imported so the test documents which table the trigger serves.
    assert RadiusSession.__tablename__ == "sessions"
    engine = make_engine(site.url)
    try:
        with engine.connect() as conn:
            names = conn.execute(
                text(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'sessions'::regclass "
                    "AND tgname LIKE 'sessions_live_%' ORDER BY 1"
                )
            ).scalars().all()  # fmt: skip
    finally:
        engine.dispose()
    assert names == ["sessions_live_insert", "sessions_live_stop"]
