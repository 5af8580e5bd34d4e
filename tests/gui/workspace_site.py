"""A small site for the workspace tests: two tenants, staff of several roles, one customer
with a package, a bound MAC, a PPPoE password, a router and an open session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.db.urls import to_sqlalchemy_url
from easyisp_core.models import Session as RadiusSession
from easyisp_core.services import staff as staff_service
from easyisp_core.services.customers import register_customer
from easyisp_desktop.framework.gui_thread_guard import install_guard
from tests.factories import PASSWORD, make_customer, make_nas, make_package, make_tenant, unique


@dataclass(frozen=True)
class Site:
    url: str
    tenant_id: uuid.UUID
    tenant_name: str
    other_tenant_name: str
    other_customer: str
    customer_id: uuid.UUID
    username: str
    password: str
    nas_id: uuid.UUID
    package_ids: tuple[uuid.UUID, uuid.UUID]
    staff: dict[str, str]  # role -> login


def seed_site(url: str, box: SecretBox) -> Site:
    engine = make_engine(url)
    try:
        with session_scope(sessionmaker(engine)) as session:
            tenant = make_tenant(session, display_name="Kilimani Fibre")
            other = make_tenant(session)
            home = make_package(session, tenant, name="Home 10", price="1500.00")
            fast = make_package(session, tenant, name="Home 20", price="2500.00")
            nas = make_nas(session, box, tenant)
            username = unique("wsuser")
            customer = make_customer(
                session, box, tenant, username=username, full_name="Wanjiru Kamau",
                package="Home 10", password="pppoe-secret", router=nas.name,
                mac_address="AA:BB:CC:DD:EE:01",
                expires_at=datetime.now(UTC) + timedelta(days=12, hours=3),
            )  # fmt: skip
            other_customer = make_customer(session, box, other, username=unique("other"))
            session.add(
                RadiusSession(
                    tenant_id=tenant.id,
                    nas_id=nas.id,
                    customer_id=customer.id,
                    username=username,
                    session_id="81a00001",
                    input_octets=52_428_800,
                    output_octets=734_003_200,
                    session_time=5400,
                    started_at=datetime.now(UTC) - timedelta(hours=1, minutes=30),
                )
            )
            staff: dict[str, str] = {}
            for role in ("ADMIN", "VIEWER", "CUSTOMER_CARE"):
                login = unique(f"ws.{role.lower().replace('_', '')}")
                staff_service.create_staff(
                    session,
                    {"tenant": tenant.name, "username": login, "full_name": role, "role": role},
                    PASSWORD,
                )
                staff[role] = login
    finally:
        engine.dispose()
    return Site(
        url, tenant.id, tenant.name, other.name, other_customer.username, customer.id, username,
        "pppoe-secret", nas.id, (home.id, fast.id), staff,
    )  # fmt: skip


def staff_engine(url: str, login: str) -> Engine:
    """An engine that logs in as a staff member (their own role, RLS and grants apply)."""
    return make_engine(to_sqlalchemy_url(url).set(username=login, password=PASSWORD))


TIMEOUT_MS = 30_000


def login(site: Site, role: str) -> tuple[Engine, sessionmaker[Session]]:
    engine = staff_engine(site.url, site.staff[role])
    install_guard(engine, force=True)
    return engine, sessionmaker(engine, expire_on_commit=False)


def db_value(site: Site, query: str, **params: object) -> object:
    engine = make_engine(site.url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(query), params).scalar()
    finally:
        engine.dispose()


def mistaken_registration(site: Site, box: SecretBox) -> uuid.UUID:
    engine = make_engine(site.url)
    try:
        with session_scope(sessionmaker(engine)) as session:
            info, _password = register_customer(
                session, box,
                {"tenant": site.tenant_name, "username": f"typo{uuid.uuid4().hex[:6]}",
                 "full_name": "Otieno Typo", "connection_type": "PPPOE", "phone": "0712345670"},
            )  # fmt: skip
            return info.id
    finally:
        engine.dispose()
