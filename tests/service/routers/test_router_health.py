"""The router health poll against real simulators over TCP, writing a real database as the
site service's own login (easyisp_service), so its grants are exercised too."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.models import Nas
from easyisp_core.models.enums import NasStatus
from easyisp_core.passwords import scram_verifier
from easyisp_core.repositories.roles import RoleRepository
from easyisp_core.services.nas import nas_fields, update_nas
from easyisp_core.services.router_health import mark_routers_seen, point_router_api
from easyisp_core.settings import Settings
from radius_service.app import SiteService
from radius_service.jobs.router_health import RouterHealthJob
from radius_service.simulator.routeros.controller import SimulatorThread
from tests.factories import make_nas, make_tenant
from tests.service.routers.conftest import PASSWORD, USER

Start = Callable[..., SimulatorThread]
SERVICE_PASSWORD = "Service-pass-2026"
PENDING_WAIT = 20.0  # generous: the machine is shared


@dataclass
class Site:
    admin: sessionmaker[Session]
    service: sessionmaker[Session]
    box: SecretBox

    def add_router(self, sim: SimulatorThread, *, password: str = PASSWORD) -> uuid.UUID:
        with session_scope(self.admin) as session:
            tenant = make_tenant(session)
            nas = make_nas(session, self.box, tenant)
            host, port = sim.address
            point_router_api(
                session, self.box, nas.id, host=host, port=port, username=USER, password=password
            )
        return nas.id

    def router(self, nas_id: uuid.UUID) -> Nas:
        with self.admin() as session:
            nas = session.scalar(select(Nas).where(Nas.id == nas_id))
            assert nas is not None
            session.expunge(nas)
            return nas

    def job(self, **options: Any) -> RouterHealthJob:
        return RouterHealthJob(self.service, self.box, Counter(), **options)


@pytest.fixture
def site(fresh_db_url: str, secret_box: SecretBox) -> Iterator[Site]:
    admin = make_engine(fresh_db_url, application_name="router-health-test")
    with session_scope(sessionmaker(admin)) as session:
        RoleRepository(session).enable_service_login(scram_verifier(SERVICE_PASSWORD))
    url = make_url(fresh_db_url).set(username="easyisp_service", password=SERVICE_PASSWORD)
    service = make_engine(url.render_as_string(hide_password=False), application_name="svc")
    try:
        yield Site(
            sessionmaker(admin, expire_on_commit=False),
            sessionmaker(service, expire_on_commit=False),
            secret_box,
        )
    finally:
        service.dispose()
        admin.dispose()


def test_a_router_comes_online_on_its_first_poll_with_its_figures(
    site: Site, start_sim: Start
) -> None:
    sim = start_sim("7.16", identity="Kasarani-Core")
    nas_id = site.add_router(sim)
    assert site.router(nas_id).status is NasStatus.PENDING
    job = site.job()

    async def scenario() -> None:
        try:
            await job.run_once()
        finally:
            await job.aclose()

    asyncio.run(scenario())
    nas = site.router(nas_id)
    assert nas.status is NasStatus.ONLINE
    assert nas.router_identity == "Kasarani-Core"
    assert nas.routeros_version is not None
    assert nas.routeros_version.startswith("7.16")
    assert nas.board_name == "RB4011iGS+"
    assert nas.uptime
    assert nas.cpu_load is not None
    assert 0 <= nas.cpu_load <= 100
    assert nas.total_memory
    assert nas.free_memory is not None
    assert 0 < nas.free_memory <= nas.total_memory
    assert nas.last_seen_at is not None
    assert nas.health_checked_at == nas.last_seen_at
    assert nas.health_error is None
    assert nas.health_failures == 0


def test_a_router_goes_offline_after_two_failed_polls_and_comes_back(
    site: Site, start_sim: Start
) -> None:
    sim = start_sim("6.49.10")
    nas_id = site.add_router(sim)
    job = site.job()

    async def scenario() -> None:
        try:
            await job.run_once()
            assert site.router(nas_id).status is NasStatus.ONLINE
            seen = site.router(nas_id).last_seen_at
            sim.pause()
            await job.run_once()  # one lost poll does not flap the console
            nas = site.router(nas_id)
            assert nas.status is NasStatus.ONLINE
            assert nas.health_failures == 1
            assert nas.health_error is not None
            assert "cannot connect" in nas.health_error
            await job.run_once()
            nas = site.router(nas_id)
            assert nas.status is NasStatus.OFFLINE
            assert nas.health_failures == 2
            assert nas.last_seen_at == seen  # the last time it answered
            assert nas.router_identity == "MikroTik"  # the last known figures stay
            sim.resume()
            await job.run_once()
            nas = site.router(nas_id)
            assert nas.status is NasStatus.ONLINE
            assert nas.health_error is None
            assert nas.health_failures == 0
            assert nas.last_seen_at is not None
            assert seen is not None
            assert nas.last_seen_at > seen
        finally:
            await job.aclose()

    asyncio.run(scenario())
    assert sim.simulator.logins == 2  # the connection is kept between polls


def test_a_wrong_api_password_shows_the_login_failure(site: Site, start_sim: Start) -> None:
    sim = start_sim("7.16")
    nas_id = site.add_router(sim, password="not-the-password")
    job = site.job()

    async def scenario() -> None:
        try:
            await job.run_once()
            await job.run_once()
        finally:
            await job.aclose()

    asyncio.run(scenario())
    nas = site.router(nas_id)
    # Never reached yet: still being set up, with the reason for the operator.
    assert nas.status is NasStatus.PENDING
    assert nas.health_error is not None
    assert "login refused" in nas.health_error
    assert "invalid user name or password" in nas.health_error
    assert nas.health_failures == 2
    assert nas.last_seen_at is None


def test_an_online_router_refusing_the_login_goes_offline(site: Site, start_sim: Start) -> None:
    sim = start_sim("7.16")
    nas_id = site.add_router(sim)
    job = site.job()

    async def scenario() -> None:
        try:
            await job.run_once()
            sim.pause()  # hang up, so the next poll logs in again
            sim.resume()
            sim.simulator.faults.refuse_login = True
            await job.run_once()
            await job.run_once()
        finally:
            await job.aclose()

    asyncio.run(scenario())
    nas = site.router(nas_id)
    assert nas.status is NasStatus.OFFLINE
    assert nas.health_error is not None
    assert "login refused" in nas.health_error


def test_routers_are_polled_concurrently(site: Site, start_sim: Start) -> None:
    first, second = start_sim("7.16"), start_sim("7.16")
    ids = [site.add_router(first), site.add_router(second)]
    # Both stall on the login: only concurrent polls can have both connected at once.
    first.simulator.faults.stall = True
    second.simulator.faults.stall = True
    job = site.job(timeout=60.0)

    async def scenario() -> None:
        poll = asyncio.create_task(job.run_once())
        try:
            deadline = time.monotonic() + PENDING_WAIT
            while not (first.simulator.connected and second.simulator.connected):
                assert time.monotonic() < deadline, "the routers were not polled together"
                assert not poll.done()
                await asyncio.sleep(0.05)
            assert not poll.done()
            first.pause()  # hang up on both: the stalled polls fail at once
            second.pause()
            await poll
        finally:
            await job.aclose()

    asyncio.run(scenario())
    for nas_id in ids:
        nas = site.router(nas_id)
        assert nas.health_failures == 1
        assert nas.status is NasStatus.PENDING


def test_routers_without_an_api_user_are_not_polled(site: Site) -> None:
    with session_scope(site.admin) as session:
        nas = make_nas(session, site.box, make_tenant(session))
    job = site.job()

    async def scenario() -> None:
        try:
            await job.run_once()
        finally:
            await job.aclose()

    asyncio.run(scenario())
    after = site.router(nas.id)
    assert after.status is NasStatus.PENDING
    assert after.health_checked_at is None


def test_the_site_service_polls_routers_and_stops_cleanly(
    site: Site, start_sim: Start, fresh_db_url: str, tmp_path: Path
) -> None:
    sim = start_sim("7.16")
    nas_id = site.add_router(sim)
    service = SiteService(
        Settings(database_url=fresh_db_url, data_dir=tmp_path, router_poll_seconds=0.2),
        heartbeat_interval=0.1,
        secret_box=site.box,
    )

    async def scenario() -> None:
        running = asyncio.create_task(service.run())
        await asyncio.wait_for(service.started.wait(), PENDING_WAIT)
        deadline = time.monotonic() + PENDING_WAIT
        while service.counters["router_health.online"] < 1:
            assert time.monotonic() < deadline, "the router never came online"
            await asyncio.sleep(0.05)
        await asyncio.wait_for(service.stop(), PENDING_WAIT)
        await running

    asyncio.run(scenario())
    assert site.router(nas_id).status is NasStatus.ONLINE
    assert sim.simulator.connected == 0  # the service hung up on its way out


def test_radius_traffic_marks_a_router_seen(site: Site) -> None:
    with session_scope(site.admin) as session:
        nas = make_nas(session, site.box, make_tenant(session))
    later = datetime.now(UTC)
    earlier = later - timedelta(minutes=5)
    with session_scope(site.service) as session:
        assert mark_routers_seen(session, [nas.id, nas.id], later) == 1
    with session_scope(site.service) as session:  # a late packet never moves it back
        assert mark_routers_seen(session, [nas.id], earlier) == 0
    after = site.router(nas.id)
    assert after.last_seen_at == later
    assert after.status is NasStatus.PENDING  # the API poll decides the status


def test_a_routers_api_ssl_certificate_is_pinned_on_first_use_and_a_new_one_refused(
    site: Site, start_sim: Start
) -> None:
    first = start_sim("7.16", tls=True)
    nas_id = site.add_router(first)
    point_at(site, nas_id, first.tls_address)
    poll_once(site.job())
    nas = site.router(nas_id)
    assert nas.status is NasStatus.ONLINE
    assert first.certificate is not None
    assert (
        nas.api_tls_fingerprint
        == hashlib.sha256(ssl.PEM_cert_to_DER_cert(first.certificate.cert_pem.decode())).hexdigest()
    )

    # Same address, another certificate (a replaced router, or someone in the middle).
    impostor = start_sim("7.16", tls=True)
    point_at(site, nas_id, impostor.tls_address)
    poll_once(site.job())
    nas = site.router(nas_id)
    assert nas.health_error is not None
    assert "API-SSL certificate changed" in nas.health_error
    assert impostor.simulator.logins == 0  # the password never reached it

    # Staff clear the pin (the certificate was replaced on purpose): the next poll pins anew.
    with session_scope(site.admin) as session:
        fields = nas_fields(session, nas_id).model_dump()
        update_nas(session, None, nas_id, {**fields, "forget_tls_certificate": True})
    poll_once(site.job())
    assert site.router(nas_id).health_error is None
    assert site.router(nas_id).api_tls_fingerprint not in (None, nas.api_tls_fingerprint)


def point_at(site: Site, nas_id: uuid.UUID, address: tuple[str, int]) -> None:
    with session_scope(site.admin) as session:
        session.execute(
            update(Nas)
            .where(Nas.id == nas_id)
            .values(api_host=address[0], api_port=address[1], api_use_tls=True)
        )


def poll_once(job: RouterHealthJob) -> None:
    async def scenario() -> None:
        try:
            await job.run_once()
        finally:
            await job.aclose()

    asyncio.run(scenario())
