"""Every input of the auth decision reaches a running server as soon as it is committed.

The console promises that a change takes effect within one second: each case below sends
a real Access-Request over UDP, commits a change in the database as the console would, waits
for the notification to be applied (a condition with a timeout, never a sleep), and sends
the request again. Inputs the in-memory cache holds (customers, packages, tenants' RADIUS
settings, routers) are checked to come through NOTIFY; vouchers and MAC logins are read
from the database on every request, so they need no wait at all.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.models import Customer, Nas, Package, Tenant, Voucher
from easyisp_core.models import Session as RadiusSession
from easyisp_core.models.enums import CustomerStatus, VoucherStatus
from easyisp_core.services.nas import NAS_SECRET as NAS_SECRET_PURPOSE
from easyisp_core.services.vouchers import void_voucher
from radius_service.simulator.nas import NasReply, NasSimulator
from tests.service.radius.conftest import (
    EXPIRED_PASSWORD,
    EXPIRED_POOL,
    EXPIRED_USER,
    HOTSPOT_MAC,
    HOTSPOT_USER,
    NAS_SECRET,
    PPPOE_PASSWORD,
    PPPOE_USER,
    VOUCHER_CODE,
    CachedServerThread,
)

WAIT = 20.0
NEW_SECRET = "a-new-secret-9876"


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.01)


@pytest.fixture
def db(fresh_db_url: str) -> Iterator[Callable[[], Any]]:
    """A committing session factory, like the console's unit of work."""
    engine = make_engine(fresh_db_url, application_name="auth-inputs-test")

    @contextmanager
    def unit() -> Iterator[Session]:
        with Session(engine) as session, session.begin():
            yield session

    yield unit
    engine.dispose()


def _nas(server: CachedServerThread, **kw: Any) -> NasSimulator:
    assert server.server.address is not None
    return NasSimulator(server.server.address, NAS_SECRET.encode(), **{"timeout": 3.0, **kw})


def _reply(nas: NasSimulator, user: str, password: str, **kw: Any) -> NasReply:
    reply = nas.login(user, password, **kw)
    assert reply is not None, "no reply"
    return reply


def _committed(server: CachedServerThread, change: Callable[[], None]) -> None:
    """Run a committed change and wait until the cache has applied its notification."""
    applied = server.cache.changes_applied
    change()
    _until(lambda: server.cache.changes_applied > applied, "the NOTIFY reached the cache")


def _fast(server: CachedServerThread) -> int:
    return server.counters["radius.auth.fast_path"]


def _tenant_id(db: Callable[[], Any]) -> uuid.UUID:
    with db() as session:
        tenant: uuid.UUID = session.scalars(
            select(Customer.tenant_id).where(Customer.username == PPPOE_USER)
        ).one()
        return tenant


def test_a_customer_suspended_in_the_console_goes_to_the_expired_pool_at_once(
    cached: CachedServerThread, db: Callable[[], Any]
) -> None:
    nas = _nas(cached)
    before = _reply(nas, PPPOE_USER, PPPOE_PASSWORD)
    assert before.accepted
    assert before.first("Framed-Pool") is None

    def suspend() -> None:
        with db() as session:
            session.execute(
                update(Customer)
                .where(Customer.username == PPPOE_USER)
                .values(status=CustomerStatus.SUSPENDED)
            )

    _committed(cached, suspend)
    fast = _fast(cached)
    after = _reply(nas, PPPOE_USER, PPPOE_PASSWORD)
    assert after.accepted
    assert after.first("Framed-Pool") == EXPIRED_POOL
    assert _fast(cached) == fast + 1  # decided from memory, not by the database fallback


def test_a_renewed_expiry_lets_the_customer_back_on_their_package(
    cached: CachedServerThread, db: Callable[[], Any]
) -> None:
    nas = _nas(cached)
    assert _reply(nas, EXPIRED_USER, EXPIRED_PASSWORD).first("Framed-Pool") == EXPIRED_POOL

    def renew() -> None:
        with db() as session:
            session.execute(
                update(Customer)
                .where(Customer.username == EXPIRED_USER)
                .values(
                    status=CustomerStatus.ACTIVE,
                    expires_at=Customer.expires_at + timedelta(days=30),
                )
            )

    _committed(cached, renew)
    after = _reply(nas, EXPIRED_USER, EXPIRED_PASSWORD)
    assert after.accepted
    assert after.first("Framed-Pool") is None
    assert str(after.first("Mikrotik-Rate-Limit")).startswith("2M/5M")


def test_a_mac_binding_set_in_the_console_refuses_other_devices_at_once(
    cached: CachedServerThread, db: Callable[[], Any]
) -> None:
    nas = _nas(cached, calling_station_id="11:22:33:44:55:66")
    assert _reply(nas, PPPOE_USER, PPPOE_PASSWORD).accepted

    def bind() -> None:
        with db() as session:
            session.execute(
                update(Customer)
                .where(Customer.username == PPPOE_USER)
                .values(mac_address="AA:AA:AA:00:00:01")
            )

    _committed(cached, bind)
    refused = _reply(nas, PPPOE_USER, PPPOE_PASSWORD)
    assert not refused.accepted
    assert "locked to another device" in str(refused.first("Reply-Message"))
    bound = _nas(cached, calling_station_id="aa-aa-aa-00-00-01")
    assert _reply(bound, PPPOE_USER, PPPOE_PASSWORD).accepted


def test_a_static_ip_set_in_the_console_is_in_the_next_accept(
    cached: CachedServerThread, db: Callable[[], Any]
) -> None:
    nas = _nas(cached)
    assert _reply(nas, PPPOE_USER, PPPOE_PASSWORD).first("Framed-IP-Address") is None

    def give_ip() -> None:
        with db() as session:
            session.execute(
                update(Customer)
                .where(Customer.username == PPPOE_USER)
                .values(static_ip="100.64.7.9")
            )

    _committed(cached, give_ip)
    assert _reply(nas, PPPOE_USER, PPPOE_PASSWORD).first("Framed-IP-Address") == "100.64.7.9"


def test_a_package_edit_changes_the_rate_limit_and_session_timeout_at_once(
    cached: CachedServerThread, db: Callable[[], Any]
) -> None:
    nas = _nas(cached)
    before = _reply(nas, PPPOE_USER, PPPOE_PASSWORD)
    assert str(before.first("Mikrotik-Rate-Limit")).startswith("2M/5M ")
    assert int(before.first("Session-Timeout")) > 3600

    def edit() -> None:
        with db() as session:
            session.execute(
                update(Package)
                .where(Package.name == "Home 5M")
                .values(download_speed=Decimal("8"), upload_speed=Decimal("3"), session_time=3600)
            )

    _committed(cached, edit)
    fast = _fast(cached)
    after = _reply(nas, PPPOE_USER, PPPOE_PASSWORD)
    assert str(after.first("Mikrotik-Rate-Limit")).startswith("3M/8M ")
    assert after.first("Session-Timeout") == 3600  # min(time left, the package's cap)
    assert _fast(cached) == fast + 1


def _set_expired_policy(db: Callable[[], Any], **expired: Any) -> None:
    with db() as session:
        session.execute(
            update(Tenant).where(Tenant.id == _tenant_id(db)).values(config={"expired": expired})
        )


def test_a_tenants_expired_pool_choice_reaches_the_server_through_notify(
    cached: CachedServerThread, db: Callable[[], Any]
) -> None:
    """Tenant settings had no trigger (a 5-second re-read): migration 0017 adds one."""
    nas = _nas(cached)
    assert _reply(nas, EXPIRED_USER, EXPIRED_PASSWORD).first("Framed-Pool") == EXPIRED_POOL

    _committed(
        cached,
        lambda: _set_expired_policy(
            db, expired_pool_name="pay-first", expired_address_list="unpaid-list"
        ),
    )
    fast = _fast(cached)
    renamed = _reply(nas, EXPIRED_USER, EXPIRED_PASSWORD)
    assert renamed.accepted
    assert renamed.first("Framed-Pool") == "pay-first"
    assert renamed.first("Mikrotik-Address-List") == "unpaid-list"
    assert _fast(cached) == fast + 1

    _committed(cached, lambda: _set_expired_policy(db, accept_into_expired_pool=False))
    refused = _reply(nas, EXPIRED_USER, EXPIRED_PASSWORD)
    assert not refused.accepted
    assert "expired on" in str(refused.first("Reply-Message"))


def test_a_tenant_time_zone_change_shows_in_the_next_reply_message(
    cached: CachedServerThread, db: Callable[[], Any]
) -> None:
    def config(zone: str) -> None:
        with db() as session:
            session.execute(
                update(Tenant)
                .where(Tenant.id == _tenant_id(db))
                .values(config={"timezone": zone, "expired": {"accept_into_expired_pool": False}})
            )

    nas = _nas(cached)
    _committed(cached, lambda: config("UTC"))
    with db() as session:
        expiry = session.scalar(
            select(Customer.expires_at).where(Customer.username == EXPIRED_USER)
        )
    in_utc = _reply(nas, EXPIRED_USER, EXPIRED_PASSWORD).first("Reply-Message")
    assert f"at {expiry.astimezone(UTC):%H:%M}" in in_utc

    _committed(cached, lambda: config("Asia/Kolkata"))  # +05:30: the minutes differ too
    in_india = _reply(nas, EXPIRED_USER, EXPIRED_PASSWORD).first("Reply-Message")
    assert in_india != in_utc


def test_a_router_setting_reaches_the_client_table_at_once(
    cached: CachedServerThread, db: Callable[[], Any], secret_box: SecretBox
) -> None:
    """Message-Authenticator requirement and the shared secret, changed in the console."""
    unsigned = _nas(cached, message_authenticator=False, timeout=0.5)
    assert unsigned.login(PPPOE_USER, PPPOE_PASSWORD) is None  # required by default: dropped

    def client() -> Any:
        return cached.server.clients.lookup("127.0.0.1")

    with db() as session:
        session.execute(update(Nas).values(require_message_authenticator=False))
    _until(lambda: not client().require_message_authenticator, "the router table was re-read")
    assert _reply(unsigned, PPPOE_USER, PPPOE_PASSWORD).accepted

    with db() as session:
        session.execute(
            update(Nas).values(secret_enc=secret_box.encrypt(NEW_SECRET, NAS_SECRET_PURPOSE))
        )
    _until(lambda: client().secret == NEW_SECRET.encode(), "the new secret was read")
    assert _nas(cached, timeout=0.5).login(PPPOE_USER, PPPOE_PASSWORD) is None  # old secret
    assert cached.server.address is not None
    renewed = NasSimulator(cached.server.address, NEW_SECRET.encode(), timeout=3.0)
    assert _reply(renewed, PPPOE_USER, PPPOE_PASSWORD).accepted


def test_a_router_added_in_the_console_is_answered_at_once(
    cached: CachedServerThread, db: Callable[[], Any], secret_box: SecretBox
) -> None:
    nas = _nas(cached, source_ip="127.0.0.2", timeout=0.5)
    assert nas.login(PPPOE_USER, PPPOE_PASSWORD) is None  # unknown client: dropped
    with db() as session:
        template = session.scalars(select(Nas)).one()
        session.add(
            Nas(
                tenant_id=template.tenant_id,
                name="second-router",
                ip_address="127.0.0.2",
                secret_enc=secret_box.encrypt(NAS_SECRET, NAS_SECRET_PURPOSE),
            )
        )
    _until(lambda: cached.server.clients.lookup("127.0.0.2") is not None, "the new router was read")
    assert _reply(nas, PPPOE_USER, PPPOE_PASSWORD).accepted


def test_a_router_onboarded_over_wireguard_is_answered_from_its_tunnel_address(
    cached: CachedServerThread, db: Callable[[], Any]
) -> None:
    """RouterOS sends RADIUS over the tunnel from its VPN address, not the registered one;
    allocating that address (the onboarding script) reaches the client table at once."""
    tunnel = _nas(cached, source_ip="127.0.0.3", timeout=0.5)
    assert tunnel.login(PPPOE_USER, PPPOE_PASSWORD) is None  # unknown client: dropped
    with db() as session:
        session.execute(update(Nas).values(vpn_ip="127.0.0.3"))
    _until(lambda: cached.server.clients.lookup("127.0.0.3") is not None, "the tunnel was read")
    assert _reply(tunnel, PPPOE_USER, PPPOE_PASSWORD).accepted
    assert _reply(_nas(cached), PPPOE_USER, PPPOE_PASSWORD).accepted  # registered one still
    (router,) = {cached.server.clients.lookup(ip) for ip in ("127.0.0.1", "127.0.0.3")}
    assert router is not None
    assert router.vpn_ip == "127.0.0.3"


def test_a_voucher_voided_in_the_console_is_refused_on_the_next_request(
    cached: CachedServerThread, db: Callable[[], Any]
) -> None:
    """Vouchers are never cached: the database answers, so no wait is needed."""
    nas = _nas(cached)
    assert _reply(nas, VOUCHER_CODE, VOUCHER_CODE, service="hotspot").accepted
    with db() as session:
        session.execute(
            update(Voucher).where(Voucher.code == VOUCHER_CODE).values(status=VoucherStatus.EXPIRED)
        )
    refused = _reply(nas, VOUCHER_CODE, VOUCHER_CODE, service="hotspot")
    assert not refused.accepted
    assert refused.first("Reply-Message") == "This voucher has expired."


def test_an_unused_voucher_voided_in_the_console_is_refused_at_once(
    cached: CachedServerThread, db: Callable[[], Any]
) -> None:
    """The Vouchers page's Void (services.vouchers.void_voucher) on a lost card: its first
    login is refused with a message that tells the holder to ask the ISP."""
    with db() as session:
        voucher = session.scalars(select(Voucher).where(Voucher.code == VOUCHER_CODE)).one()
        assert voucher.status is VoucherStatus.AVAILABLE
        void_voucher(session, voucher.tenant_id, voucher.id)
    refused = _reply(_nas(cached), VOUCHER_CODE, VOUCHER_CODE, service="hotspot")
    assert not refused.accepted
    assert refused.first("Reply-Message") == (
        "This voucher has been cancelled by your provider; please contact them."
    )


def test_a_hotspot_mac_binding_moved_in_the_console_moves_mac_login(
    cached: CachedServerThread, db: Callable[[], Any]
) -> None:
    """MAC login is always read from the database (the MAC is the only credential)."""
    old = _nas(cached, calling_station_id=HOTSPOT_MAC)
    assert _reply(old, HOTSPOT_MAC, "", method="mac").accepted
    with db() as session:
        session.execute(
            update(Customer)
            .where(Customer.username == HOTSPOT_USER)
            .values(mac_address="02:00:00:00:00:07")
        )
    assert not _reply(old, HOTSPOT_MAC, "", method="mac").accepted
    new = _nas(cached, calling_station_id="02:00:00:00:00:07")
    assert _reply(new, "02:00:00:00:00:07", "", method="mac").accepted


def test_a_data_capped_plan_is_decided_with_this_periods_traffic(
    cached: CachedServerThread, db: Callable[[], Any]
) -> None:
    """What is left of a cap changes with every accounting record, so a capped plan always
    leaves the fast path: the next login after a session's traffic is stored sees it."""
    gib = 1024**3

    def cap() -> None:
        with db() as session:
            session.execute(
                update(Package).where(Package.name == "Home 5M").values(data_cap_bytes=10 * gib)
            )

    _committed(cached, cap)
    nas = _nas(cached)
    fast = _fast(cached)
    whole = _reply(nas, PPPOE_USER, PPPOE_PASSWORD)
    assert (whole.first("Mikrotik-Total-Limit-Gigawords"), whole.first("Mikrotik-Total-Limit")) == (
        2,
        2 * gib,
    )
    with db() as session:
        customer = session.execute(
            select(Customer.id, Customer.tenant_id).where(Customer.username == PPPOE_USER)
        ).one()
        session.add(
            RadiusSession(
                tenant_id=customer.tenant_id,
                customer_id=customer.id,
                username=PPPOE_USER,
                session_id="capped-1",
                started_at=datetime.now(UTC) - timedelta(hours=1),
                stopped_at=datetime.now(UTC),
                input_octets=gib,
                output_octets=2 * gib,
            )
        )
    left = _reply(nas, PPPOE_USER, PPPOE_PASSWORD)
    assert (left.first("Mikrotik-Total-Limit-Gigawords"), left.first("Mikrotik-Total-Limit")) == (
        1,
        3 * gib,
    )
    assert _fast(cached) == fast  # both decided by the database
