"""A committed site with a staff login of every role, and pages built over each login.

The pages run over the staff member's own database role with the GUI-thread guard on, so
what a page offers and what the database allows are tested together.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Protocol, TypeVar

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.models.enums import StaffRole
from easyisp_core.services.identity import SessionIdentity, current_identity
from easyisp_core.services.invoices import create_invoice
from easyisp_core.services.payments import record_payment
from easyisp_core.services.staff import create_staff
from easyisp_core.services.tenants import create_tenant
from easyisp_desktop.framework.entity_page import EntityPage, PageContext
from easyisp_desktop.framework.forms import FormDialog
from easyisp_desktop.framework.gui_thread_guard import install_guard
from easyisp_desktop.framework.worker import WorkerPool
from tests import pg
from tests.factories import PASSWORD, make_customer, make_nas, make_package

WAIT_MS = 20_000
ROLES = [role.value for role in StaffRole]


@dataclass
class Site:
    url: str
    tenant: str
    logins: dict[str, str]  # role -> username
    box: SecretBox
    customer: str  # the username of a customer of `tenant`
    engines: list[Engine] = field(default_factory=list)

    def url_for(self, role: str) -> str:
        return (
            make_url(self.url)
            .set(drivername="postgresql+psycopg", username=self.logins[role], password=PASSWORD)
            .render_as_string(hide_password=False)
        )

    def engine(self, role: str, *, guarded: bool = True) -> Engine:
        engine = make_engine(self.url_for(role), application_name="easyisp-tests")
        if guarded:
            install_guard(engine, force=True)
        self.engines.append(engine)
        return engine

    def identity(self, role: str) -> SessionIdentity:
        with session_scope(sessionmaker(self.engine(role, guarded=False))) as session:
            return current_identity(session)

    def admin_sessions(self) -> sessionmaker:  # type: ignore[type-arg]
        return sessionmaker(self.engine_admin(), expire_on_commit=False)

    def engine_admin(self) -> Engine:
        engine = make_engine(self.url, application_name="easyisp-tests")
        self.engines.append(engine)
        return engine


@pytest.fixture(scope="module")
def site(admin_url: str, template_db: str, secret_box: SecretBox) -> Iterator[Site]:
    name = pg.create_database(admin_url, "easyisp_test_pages", template=template_db)
    url = pg.database_url(admin_url, name)
    suffix = secrets.token_hex(3)
    engine = make_engine(url, application_name="easyisp-tests")
    logins: dict[str, str] = {}
    now = datetime.now(UTC)
    try:
        with session_scope(sessionmaker(engine, expire_on_commit=False)) as session:
            tenant = create_tenant(session, {"name": f"pages-{suffix}", "display_name": "Pages"})
            other = create_tenant(session, {"name": f"other-{suffix}", "display_name": "Other"})
            for role in StaffRole:
                username = f"p{suffix}.{role.value.lower().replace('_', '')}"
                create_staff(
                    session,
                    {"tenant": tenant.name, "username": username, "full_name": role.title(),
                     "role": role},
                    PASSWORD,
                )  # fmt: skip
                logins[role.value] = username
            make_package(session, tenant, name="Home 5")
            make_package(session, tenant, name="Home 10", price=Decimal("2500.00"))
            make_package(session, other, name="Other plan")
            make_nas(session, secret_box, tenant, name="core-router")
            make_nas(session, secret_box, other, name="other-router")
            payer = make_customer(session, secret_box, tenant, full_name="Wanjiru Kamau")
            make_customer(session, secret_box, other, full_name="Not Ours")
            record_payment(
                session,
                {"tenant": tenant.name, "customer": payer.username, "amount": "1500.00",
                 "method": "MPESA", "transaction_id": f"TP{suffix}1"},
            )  # fmt: skip
            session.execute(
                text(
                    "INSERT INTO sessions (tenant_id, customer_id, username, session_id, "
                    "framed_ip, started_at, stopped_at, session_time, input_octets, "
                    "output_octets) VALUES "
                    "(:t, :c, :u, 'open-1', '10.10.0.2', :s1, NULL, 600, 1048576, 5242880), "
                    "(:t, :c, :u, 'done-1', '10.10.0.3', :s2, :e2, 3600, 2048, 4096)"
                ),
                {"t": tenant.id, "c": payer.id, "u": payer.username, "s1": now,
                 "s2": now - timedelta(days=1), "e2": now - timedelta(hours=23)},
            )  # fmt: skip
            office = {"t": tenant.id, "c": payer.id}
            for statement in (
                "INSERT INTO chart_of_accounts (tenant_id, code, name, type) "
                "VALUES (:t, '4001', 'Internet sales', 'REVENUE')",
                "INSERT INTO expenses (tenant_id, category, description, amount, expense_date) "
                "VALUES (:t, 'Power', 'KPLC tokens', 2500, current_date)",
                "INSERT INTO sms_logs (tenant_id, customer_id, phone, message, status) "
                "VALUES (:t, :c, '254712345678', 'Your internet expires tomorrow', 'SENT')",
                "INSERT INTO vpn_peers (tenant_id, name, public_key, assigned_ip) VALUES "
                "(:t, 'core-tunnel', 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=', '10.99.0.2')",
            ):
                session.execute(text(statement), office)
            create_invoice(
                session,
                {"tenant": tenant.name, "customer": payer.username,
                 "items": [{"description": "Home 5, December", "quantity": 1,
                            "unit_price": "1500.00"}]},
            )  # fmt: skip
        yield Site(url, tenant.name, logins, secret_box, payer.username)
    finally:
        engine.dispose()
        pg.drop_database(admin_url, name)


PageT = TypeVar("PageT", bound=QWidget)


class OpenPage(Protocol):
    def __call__(self, page_type: type[PageT], role: str, *, load: bool = True) -> PageT: ...


@pytest.fixture
def open_page(qtbot: QtBot, site: Site, tmp_path: Path) -> Iterator[OpenPage]:
    """open_page(PageClass, role) → the page shown, its first rows loaded."""
    pools: list[WorkerPool] = []

    def open_it(page_type: type[PageT], role: str, *, load: bool = True) -> PageT:
        pool = WorkerPool()
        pools.append(pool)
        context = PageContext(
            sessions=sessionmaker(site.engine(role), expire_on_commit=False),
            workers=pool,
            settings=QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat),
            identity=site.identity(role),
            box=site.box,
        )
        page = page_type(context)  # type: ignore[arg-type]  # every page takes a context
        qtbot.addWidget(page)
        page.resize(1200, 600)
        if load and isinstance(page, EntityPage):
            with qtbot.waitSignal(page.model.page_loaded, timeout=WAIT_MS):
                page.show()
        else:
            page.show()
        return page

    yield open_it
    for pool in pools:
        pool.cancel_all()
        assert pool.wait(WAIT_MS)


@pytest.fixture(autouse=True)
def engines_disposed(site: Site) -> Iterator[None]:
    """Every engine a test opened is closed after it (set up first, so torn down last)."""
    yield
    for engine in site.engines:
        engine.dispose()
    site.engines.clear()


# Driving a page's forms ---------------------------------------------------------------


def save(qtbot: QtBot, form: FormDialog) -> object:
    with qtbot.waitSignal(form.saved, timeout=WAIT_MS) as saved:
        form.save_button.click()
    return saved.args[0]


def refused(qtbot: QtBot, form: FormDialog) -> str:
    with qtbot.waitSignal(form.failed, timeout=WAIT_MS) as failed:
        form.save_button.click()
    assert form.isVisible()
    return str(failed.args[0])


def loaded(qtbot: QtBot, form: FormDialog | None) -> FormDialog:
    assert form is not None
    qtbot.waitUntil(lambda: not form.busy, timeout=WAIT_MS)
    return form


def row_index(page: EntityPage, **match: object) -> int:
    for index, row in enumerate(page.model.rows):
        if all(getattr(row, k) == v for k, v in match.items()):
            return index
    raise AssertionError(f"no row {match}")


def reloaded(qtbot: QtBot, page: EntityPage, **match: object) -> int:
    def shown() -> bool:
        try:
            row_index(page, **match)
        except AssertionError:
            return False
        return True

    qtbot.waitUntil(shown, timeout=WAIT_MS)
    return row_index(page, **match)
