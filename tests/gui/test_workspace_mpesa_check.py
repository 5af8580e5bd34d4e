"""The workspace's "Check an M-Pesa receipt…": the question is queued through the core's
ask_status in a worker, refusals are shown in plain words, and the M-Pesa checks tab follows
the question's state live as the site service moves it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.models.enums import StaffRole
from easyisp_core.rules.permissions import ROLE_DEFAULTS
from easyisp_core.services import staff as staff_service
from easyisp_core.services.gateways import create_payment_gateway
from easyisp_desktop.framework.gui_thread_guard import GUARD_ENV, install_guard
from easyisp_desktop.framework.live_updates import LiveUpdates
from easyisp_desktop.framework.worker import WorkerPool
from easyisp_desktop.workspace.window import CustomerWorkspace
from tests.factories import PASSWORD, unique
from tests.gui.test_customer_workspace import open_workspace, submit
from tests.gui.workspace_site import TIMEOUT_MS, Site, db_value, login, staff_engine


@pytest.fixture(autouse=True)
def _guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DB call on the GUI thread."""
    monkeypatch.setenv(GUARD_ENV, "1")


def superuser(where: Site, sql: str, **params: object) -> None:
    engine = make_engine(where.url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def add_home_gateway(where: Site, box: SecretBox) -> None:
    engine = make_engine(where.url)
    try:
        with session_scope(sessionmaker(engine)) as session:
            create_payment_gateway(
                session, box,
                {"tenant": where.tenant_name, "name": "Home",
                 "provider": "MPESA_PAYBILL", "purpose": "PPPOE", "shortcode": "600984",
                 "config": {"environment": "simulator", "base_url": "http://127.0.0.1:9"},
                 "credentials": {"consumer_key": "k", "consumer_secret": "s", "passkey": "p"}},
            )  # fmt: skip
    finally:
        engine.dispose()


@pytest.fixture
def live(qtbot: QtBot, site: Site) -> Iterator[LiveUpdates]:
    engine = staff_engine(site.url, site.staff["ADMIN"])
    listener = LiveUpdates.for_url(engine.url, tenant_id=site.tenant_id)
    engine.dispose()
    listener.start()
    qtbot.waitUntil(listener.listening.is_set, timeout=TIMEOUT_MS)
    yield listener
    listener.stop()


def check(qtbot: QtBot, ws: CustomerWorkspace, receipt: str, *, ok: bool) -> str:
    """Open the dialog, type the receipt, press OK; the message shown afterwards."""
    ws.act_check_receipt()
    failures: list[str] = []
    done: list[str] = []

    def on_failed(_name: str, text: str) -> None:
        failures.append(text)

    ws.action_failed.connect(on_failed)
    ws.action_done.connect(done.append)
    try:
        submit(qtbot, ws, {"receipt": receipt})
        qtbot.waitUntil(lambda: bool(done or failures), timeout=TIMEOUT_MS)
    finally:
        ws.action_failed.disconnect(on_failed)
        ws.action_done.disconnect(done.append)
    if ok:
        assert not failures, failures
        return ws.message.text()
    assert failures, ws.message.text()
    return failures[-1]


def test_staff_ask_mpesa_about_a_receipt_and_sees_the_answer_arrive(
    qtbot: QtBot,
    site: Site,
    workers: WorkerPool,
    live: LiveUpdates,
    secret_box: SecretBox,
) -> None:
    engine, sessions = login(site, "ADMIN")
    try:
        ws = open_workspace(qtbot, sessions, workers, site)
        ws.follow(live)
        button = ws.buttons["check_receipt"]
        assert button.isVisibleTo(ws)
        assert button.text() == "Check an M-Pesa receipt…"
        assert ws.tabs.isTabVisible(ws.tabs.indexOf(ws.views["mpesa_checks"]))

        # Refusals come back from the core in plain words; nothing is stored.
        failed = check(qtbot, ws, "TKQ1111111", ok=False)
        assert "not set up for this network" in failed
        assert ws.dialog is not None
        assert ws.dialog.isVisible()
        assert "not set up" in ws.dialog.message.text()
        ws.dialog.reject()
        failed = check(qtbot, ws, "not a code!", ok=False)
        assert "is not an M-Pesa receipt code" in ws.dialog.error_text("receipt")
        ws.dialog.reject()
        add_home_gateway(site, secret_box)
        superuser(
            site,
            "INSERT INTO payments (tenant_id, customer_id, amount, method, status, "
            "transaction_id, paid_at) VALUES (:t, :c, 50, 'MPESA', 'COMPLETED', 'TKQDONE001', "
            "now())",
            t=site.tenant_id,
            c=site.customer_id,
        )
        check(qtbot, ws, "tkqdone001", ok=False)
        assert "TKQDONE001 is already credited" in ws.dialog.error_text("receipt")
        ws.dialog.reject()
        assert db_value(site, "SELECT count(*) FROM mpesa_status_queries") == 0

        # Asked: queued for the site service, listed on the M-Pesa checks tab.
        said = check(qtbot, ws, " tkq 222 2222 ", ok=True)
        assert said.startswith("Receipt TKQ2222222 is being checked with M-Pesa")
        assert not ws.dialog.isVisible()
        model = ws.models["mpesa_checks"]
        qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=TIMEOUT_MS)
        assert ws.tabs.currentWidget() is ws.views["mpesa_checks"]
        row = [model.index(0, n).data() for n in range(model.columnCount())]
        assert row[1:5] == ["TKQ2222222", "Console", "Queued", ""]
        assert (
            db_value(
                site,
                "SELECT origin || ' ' || state || ' ' || customer_id FROM mpesa_status_queries",
            )
            == f"console QUEUED {site.customer_id}"
        )
        # Asking again while it waits sends nothing more.
        again = check(qtbot, ws, "TKQ2222222", ok=True)
        assert again == "Receipt TKQ2222222 is already being checked with M-Pesa."
        assert db_value(site, "SELECT count(*) FROM mpesa_status_queries") == 1

        # The site service moves the question on: the open tab follows without a reopen.
        superuser(
            site,
            "UPDATE mpesa_status_queries SET state = 'TIMEOUT', finished_at = now(), "
            "result = 'M-Pesa did not answer in time; ask again'",
        )
        qtbot.waitUntil(lambda: model.index(0, 3).data() == "Timeout", timeout=TIMEOUT_MS)
        assert model.index(0, 6).data() == "M-Pesa did not answer in time; ask again"
        ws.stop_following(live)
    finally:
        workers.wait(10_000)
        engine.dispose()


def test_a_viewer_has_no_check_button_and_the_database_refuses_the_question(
    qtbot: QtBot,
    site: Site,
    workers: WorkerPool,
    secret_box: SecretBox,
) -> None:
    add_home_gateway(site, secret_box)
    engine, sessions = login(site, "VIEWER")
    try:
        ws = open_workspace(qtbot, sessions, workers, site)
        assert not ws.buttons["check_receipt"].isVisibleTo(ws)
        failed = check(qtbot, ws, "TKQ3333333", ok=False)
        # The viewer cannot read the gateway (gateways.read), so the core refuses first.
        assert "not set up for this network" in failed
        assert db_value(site, "SELECT count(*) FROM mpesa_status_queries") == 0
    finally:
        workers.wait(10_000)
        engine.dispose()


def add_staff(where: Site, role: str) -> str:
    """A staff member of `role` (its defaults) in the site's tenant; their login."""
    login_name = unique(f"ws.{role.lower()}")
    engine = make_engine(where.url)
    try:
        with session_scope(sessionmaker(engine)) as session:
            staff_service.create_staff(
                session,
                {"tenant": where.tenant_name, "username": login_name, "full_name": role,
                 "role": role},
                PASSWORD,
            )  # fmt: skip
    finally:
        engine.dispose()
    return login_name


def test_a_cashier_without_gateways_read_queues_a_question(
    qtbot: QtBot,
    site: Site,
    workers: WorkerPool,
    secret_box: SecretBox,
) -> None:
    # STAFF (the cashier) may take payments but not read gateways; migration 0029 lets the
    # question find the gateway anyway.
    assert "payments.create" in ROLE_DEFAULTS[StaffRole.STAFF]
    assert "gateways.read" not in ROLE_DEFAULTS[StaffRole.STAFF]
    add_home_gateway(site, secret_box)
    engine = staff_engine(site.url, add_staff(site, "STAFF"))
    install_guard(engine, force=True)
    try:
        ws = open_workspace(qtbot, sessionmaker(engine, expire_on_commit=False), workers, site)
        assert ws.buttons["check_receipt"].isVisibleTo(ws)
        said = check(qtbot, ws, "TKQ4444444", ok=True)
        assert said.startswith("Receipt TKQ4444444 is being checked with M-Pesa")
        model = ws.models["mpesa_checks"]
        qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=TIMEOUT_MS)
        assert (
            db_value(
                site,
                "SELECT origin || ' ' || state || ' ' || customer_id FROM mpesa_status_queries",
            )
            == f"console QUEUED {site.customer_id}"
        )
    finally:
        workers.wait(10_000)
        engine.dispose()
