"""How commands reach the worker (NOTIFY, else the poll), that two workers never run one
command twice (SKIP LOCKED), the stale-session and expiry sweeps, suspension queueing a
disconnect, and all of it running inside the site service."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from easyisp_core.db.engine import make_engine
from easyisp_core.models import Session as RadiusSession
from easyisp_core.models.enums import CustomerStatus, ServiceCommandKind, ServiceCommandStatus
from easyisp_core.passwords import scram_verifier
from easyisp_core.repositories.roles import RoleRepository
from easyisp_core.repositories.service_command_queue import ServiceCommandQueue
from easyisp_core.services.customers import suspend_customer
from easyisp_core.services.session_control import STALE_CAUSE
from easyisp_core.services.staff import create_staff
from easyisp_core.settings import Settings
from radius_service.app import SiteService
from radius_service.commands.notifications import COMMANDS_CHANNEL, NotificationListener
from radius_service.commands.worker import KINDS, CommandWorker
from radius_service.jobs.expiry import ExpirySweep
from radius_service.jobs.stale_sessions import StaleSessionJob
from tests.db.security_site import SERVICE_PASSWORD
from tests.factories import PASSWORD
from tests.service.radius.conftest import EXPIRED_USER, HOTSPOT_USER, PPPOE_USER
from tests.service.radius.session_control_support import Site, site

__all__ = ["site"]

DISCONNECT = ServiceCommandKind.DISCONNECT
WAIT = 20.0


def wait_for_status(site: Site, command: int, status: ServiceCommandStatus) -> None:
    deadline = time.monotonic() + WAIT
    while site.command(command).status is not status:
        assert time.monotonic() < deadline, site.command(command)
        time.sleep(0.05)


class WorkerThread:
    """CommandWorker.serve on its own loop; `listen` adds the NOTIFY listener."""

    def __init__(self, worker: CommandWorker, site: Site, *, poll: float, listen: bool) -> None:
        self.worker = worker
        self.loop = asyncio.new_event_loop()
        self.stop_event = asyncio.Event()
        self.wake = asyncio.Event()
        self.listener = (
            NotificationListener(site.engine, COMMANDS_CHANNEL, self._notified) if listen else None
        )
        self.poll = poll
        self.notified = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _notified(self, _payload: str) -> None:
        self.notified += 1
        self.loop.call_soon_threadsafe(self.wake.set)

    def _run(self) -> None:
        self.loop.run_until_complete(self.worker.serve(self.stop_event, self.wake, self.poll))

    def __enter__(self) -> WorkerThread:
        if self.listener is not None:
            self.listener.start()
            assert self.listener.listening.wait(WAIT)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self._thread.join(WAIT)
        if self.listener is not None:
            self.listener.stop()
        self.loop.close()


def test_a_notify_wakes_the_worker(site: Site) -> None:
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    # An hour-long poll: only the NOTIFY can make this command run within the test.
    with WorkerThread(site.worker(), site, poll=3600, listen=True) as thread:
        command = site.enqueue(DISCONNECT)
        wait_for_status(site, command, ServiceCommandStatus.DONE)
    assert thread.notified >= 1
    assert site.session_row("sess-1")["stopped_at"] is not None


def test_without_a_notify_the_poll_still_runs_the_command(site: Site) -> None:
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    with WorkerThread(site.worker(), site, poll=0.1, listen=False):
        command = site.enqueue(DISCONNECT)
        wait_for_status(site, command, ServiceCommandStatus.DONE)


def test_a_command_being_claimed_is_skipped_by_another_worker(site: Site) -> None:
    first = site.enqueue(DISCONNECT)
    second = site.enqueue(ServiceCommandKind.CHANGE_RATE_LIMIT)
    now = site.clock()
    with site.sessions() as one, one.begin():
        claimed = ServiceCommandQueue(one).claim_next(KINDS, now=now, lease_expired_before=now)
        assert claimed is not None
        assert claimed.id == first
        # While the first claim is not committed, the other worker neither waits nor
        # takes the same row: it gets the next one, then nothing.
        with site.sessions() as two, two.begin():
            queue = ServiceCommandQueue(two)
            other = queue.claim_next(KINDS, now=now, lease_expired_before=now)
            assert other is not None
            assert other.id == second
            assert queue.claim_next(KINDS, now=now, lease_expired_before=now) is None


def test_two_workers_run_every_command_exactly_once(site: Site) -> None:
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    commands = [
        site.enqueue(ServiceCommandKind.CHANGE_RATE_LIMIT, rate_limit=f"{n}M/{n}M")
        for n in range(1, 13)
    ]
    workers = [site.worker(), site.worker()]
    ran = Counter[int]()

    def drain(index: int) -> None:
        ran[index] = asyncio.run(workers[index].run_pending())

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert sum(ran.values()) == len(commands)
    sent = sorted(str(p.text("Mikrotik-Rate-Limit")) for p in site.router.received)
    assert sent == sorted(f"{n}M/{n}M" for n in range(1, 13))
    for command in commands:
        row = site.command(command)
        assert row.status is ServiceCommandStatus.DONE
        assert row.attempts == 1


def test_a_running_command_whose_worker_died_is_taken_over_after_its_lease(site: Site) -> None:
    command = site.enqueue(DISCONNECT)
    now = site.clock()
    with site.sessions() as session, session.begin():
        assert ServiceCommandQueue(session).claim_next(
            KINDS, now=now, lease_expired_before=now - timedelta(seconds=300)
        )
    # The worker "died": the row stays RUNNING. Within the lease nobody takes it...
    worker = site.worker(lease=300.0)
    assert asyncio.run(worker.run_pending()) == 0
    site.clock.advance(301)
    assert asyncio.run(worker.run_pending()) == 1
    row = site.command(command)
    assert row.status is ServiceCommandStatus.DONE
    assert row.attempts == 2


def test_the_stale_sweep_closes_sessions_silent_for_two_intervals_plus_grace(site: Site) -> None:
    site.router.connect(PPPOE_USER, "quiet", "10.10.0.7")
    site.router.connect(HOTSPOT_USER, "chatty", "10.10.0.8")
    heard = site.clock() - timedelta(seconds=2 * 300 + 61)
    with site.sessions() as session, session.begin():
        session.execute(
            update(RadiusSession)
            .where(RadiusSession.session_id == "quiet")
            .values(last_update_at=heard)
        )
    job = StaleSessionJob(
        site.sessions,
        Counter(),
        interim_interval=300,
        grace=timedelta(seconds=60),
        clock=site.clock,
    )
    assert asyncio.run(job.sweep()) == 1
    quiet = site.session_row("quiet")
    assert quiet["terminate_cause"] == STALE_CAUSE
    assert quiet["stopped_at"] == heard  # billed up to when it was last heard
    assert site.session_row("chatty")["stopped_at"] is None
    # One second short of the limit is not stale. Measured from when the server really
    # stored the chatty session (a busy machine may take a while), not from the test clock.
    chatty_heard = site.session_row("chatty")["last_update_at"]
    site.clock.now = chatty_heard + timedelta(seconds=2 * 300 + 59)
    assert asyncio.run(job.sweep()) == 0
    site.clock.advance(2)
    assert asyncio.run(job.sweep()) == 1


def test_the_expiry_sweep_wakes_at_the_expiry_and_cuts_the_subscriber(site: Site) -> None:
    expires = site.clock() + timedelta(seconds=42)
    site.set_customer(PPPOE_USER, expires_at=expires)
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    sweep = ExpirySweep(site.sessions, Counter(), clock=site.clock)

    queued, wake_at = asyncio.run(sweep.run_once())
    assert queued == []
    assert wake_at == expires  # not a minute later, not a nightly batch

    site.clock.now = expires
    queued, wake_at = asyncio.run(sweep.run_once())
    assert len(queued) == 1
    assert site.command(queued[0]).payload["reason"].startswith("expired at ")
    assert wake_at == expires + timedelta(seconds=60)  # nothing else ahead: re-check in 60 s
    # Already queued: the next run does not queue it again.
    assert asyncio.run(sweep.run_once())[0] == []

    asyncio.run(site.worker().run_pending())
    assert site.command(queued[0]).status is ServiceCommandStatus.DONE
    assert site.session_row("sess-1")["terminate_cause"] == "Admin-Reset"


def test_the_expiry_sweep_never_wakes_later_than_a_minute(site: Site) -> None:
    site.set_customer(PPPOE_USER, expires_at=site.clock() + timedelta(days=3))
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    sweep = ExpirySweep(site.sessions, Counter(), clock=site.clock)
    _queued, wake_at = asyncio.run(sweep.run_once())
    assert wake_at == site.clock() + timedelta(seconds=60)


def test_a_session_begun_in_the_expired_pool_is_not_cut_again(site: Site) -> None:
    """Tenants may let expired customers in to pay; that session must not be cut in a loop."""
    site.set_customer(EXPIRED_USER, expires_at=site.clock() - timedelta(hours=1))
    site.router.connect(EXPIRED_USER, "pool-1", "10.99.0.2")
    sweep = ExpirySweep(site.sessions, Counter(), clock=site.clock)
    assert asyncio.run(sweep.run_once())[0] == []


def test_suspending_an_online_customer_queues_a_disconnect_in_the_same_transaction(
    site: Site,
) -> None:
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    customer, tenant = site.customer_id(), site.tenant_id()
    with site.sessions() as session, session.begin():
        command = suspend_customer(session, tenant, customer)
        assert command is not None
        session.rollback()  # the caller changes its mind: neither survives
    with site.sessions() as session:
        status = session.execute(
            text("SELECT status FROM customers WHERE id = :c"), {"c": customer}
        ).scalar_one()
        pending = session.execute(text("SELECT count(*) FROM service_commands")).scalar_one()
    assert status == CustomerStatus.ACTIVE.value
    assert pending == 0

    with site.sessions() as session, session.begin():
        command = suspend_customer(session, tenant, customer)
    assert command is not None
    row = site.command(command)
    assert row.kind is DISCONNECT
    assert row.payload == {"reason": "suspended by staff"}
    # The expiry sweep sees the disconnect is pending and adds none.
    assert asyncio.run(ExpirySweep(site.sessions, Counter(), clock=site.clock).run_once())[0] == []


def test_suspending_an_offline_customer_queues_nothing(site: Site) -> None:
    with site.sessions() as session, session.begin():
        command = suspend_customer(session, site.tenant_id(), site.customer_id(HOTSPOT_USER))
    assert command is None


def test_the_site_service_disconnects_a_customer_when_asked(site: Site) -> None:
    """End to end in the service: the console inserts a row, the NOTIFY wakes the worker,
    the router acks and sends its Stop to the service's own accounting listener."""
    service = SiteService(
        Settings(database_url=site.url),
        heartbeat_interval=60,
        radius_auth_addr=None,
        radius_acct_addr=None,
        secret_box=site.box,
        command_poll_interval=3600,
    )
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")

    async def scenario() -> int:
        running = asyncio.create_task(service.run())
        await asyncio.wait_for(service.started.wait(), WAIT)
        control = service.session_control
        assert control is not None

        async def listening() -> None:
            while not control.listening:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(listening(), WAIT)
        command = await asyncio.to_thread(site.enqueue, DISCONNECT)
        await asyncio.to_thread(wait_for_status, site, command, ServiceCommandStatus.DONE)
        await asyncio.wait_for(service.stop(), WAIT)
        await running
        return command

    command = asyncio.run(scenario())
    assert site.command(command).result == "disconnected 1 session(s)"
    assert service.counters["commands.done"] == 1


def test_session_control_runs_under_the_services_own_database_role(site: Site) -> None:
    """The site service logs in as easyisp_service: RLS and grants must let it claim, write
    steps, read the router secrets, queue expiry disconnects and close stale sessions."""
    with site.sessions() as session, session.begin():
        RoleRepository(session).enable_service_login(scram_verifier(SERVICE_PASSWORD))
    url = make_url(site.url).set(username="easyisp_service", password=SERVICE_PASSWORD)
    engine = make_engine(url.render_as_string(hide_password=False), application_name="svc")
    try:
        as_service = sessionmaker(engine, expire_on_commit=False)
        site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
        site.set_customer(PPPOE_USER, expires_at=site.clock() + timedelta(seconds=5))
        site.clock.advance(5)
        sweep = ExpirySweep(as_service, Counter(), clock=site.clock)
        (command,), _wake = asyncio.run(sweep.run_once())
        asyncio.run(site.worker(sessions=as_service).run_pending())
        row = site.command(command)
        assert row.status is ServiceCommandStatus.DONE, row
        assert [step["step"] for step in row.steps] == ["sent", "ack", "confirmed"]
        site.router.connect(HOTSPOT_USER, "old", "10.10.0.8")
        site.clock.advance(3600)
        assert asyncio.run(StaleSessionJob(as_service, Counter(), clock=site.clock).sweep()) == 1
    finally:
        engine.dispose()


def test_customer_care_staff_suspending_an_online_customer_queues_the_disconnect(
    site: Site,
) -> None:
    """Through the staff member's own database login: RLS lets customer care read the open
    session and insert the command (sessions.read, sessions.disconnect)."""
    username = f"care.{secrets.token_hex(3)}"
    with site.sessions() as session, session.begin():
        tenant_name = session.execute(text("SELECT name FROM tenants LIMIT 1")).scalar_one()
        create_staff(
            session,
            {
                "tenant": tenant_name,
                "username": username,
                "full_name": "Customer Care",
                "role": "CUSTOMER_CARE",
            },
            PASSWORD,
        )
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    url = make_url(site.url).set(username=username, password=PASSWORD)
    engine = make_engine(url.render_as_string(hide_password=False), application_name="care")
    try:
        with sessionmaker(engine)() as session, session.begin():
            command = suspend_customer(session, site.tenant_id(), site.customer_id())
    finally:
        engine.dispose()
    assert command is not None
    assert site.command(command).kind is DISCONNECT
