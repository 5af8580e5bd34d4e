"""The command worker over real UDP and a real database: a disconnect is DONE only when the
router's Accounting-Stop closed the session; NAKs and silence are retried on a backoff
(driven by an injected clock) and end FAILED with the reason; CoA changes the rate limit."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import update

from easyisp_core.models import Nas
from easyisp_core.models.enums import ServiceCommandKind, ServiceCommandStatus
from easyisp_core.rules.rate_limit import RateLimitSpec, build_rate_limit
from easyisp_core.services.session_control import SessionTarget
from radius_service.commands.worker import NO_FALLBACK
from radius_service.simulator.coa_listener import ListenerMode
from tests.service.radius.conftest import HOTSPOT_USER, PPPOE_USER
from tests.service.radius.session_control_support import Site, site

__all__ = ["site"]

DISCONNECT = ServiceCommandKind.DISCONNECT


def steps(site: Site, command_id: int) -> list[str]:
    return [step["step"] for step in site.command(command_id).steps]


def test_an_acked_disconnect_whose_stop_closes_the_session_is_done(site: Site) -> None:
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    assert site.session_row("sess-1")["stopped_at"] is None
    command = site.enqueue(DISCONNECT, reason="test")

    assert asyncio.run(site.worker().run_pending()) == 1

    row = site.command(command)
    assert row.status is ServiceCommandStatus.DONE
    assert row.attempts == 1
    assert row.result == "disconnected 1 session(s)"
    assert steps(site, command) == ["sent", "ack", "confirmed"]
    assert "Accounting-Stop arrived" in row.steps[-1]["detail"]
    closed = site.session_row("sess-1")
    assert closed["stopped_at"] is not None
    assert closed["terminate_cause"] == "Admin-Reset"
    assert site.router.sessions == {}


def test_a_router_onboarded_over_wireguard_gets_the_disconnect_at_its_tunnel_address(
    site: Site,
) -> None:
    """Behind carrier NAT the registered address is unreachable; the tunnel address is not."""
    site.router.connect(PPPOE_USER, "sess-vpn", "10.10.0.8")
    with site.sessions() as session, session.begin():
        # Nothing listens on the registered address (loopback: a test never sends elsewhere).
        session.execute(update(Nas).values(ip_address="127.0.0.66", vpn_ip="127.0.0.1"))
    command = site.enqueue(DISCONNECT, reason="test")

    assert asyncio.run(site.worker().run_pending()) == 1

    row = site.command(command)
    assert row.status is ServiceCommandStatus.DONE, row.steps
    assert "to 127.0.0.1:" in row.steps[0]["detail"]
    assert site.router.sessions == {}


def test_a_customer_who_is_not_online_is_done_at_once(site: Site) -> None:
    command = site.enqueue(DISCONNECT)
    asyncio.run(site.worker().run_pending())
    row = site.command(command)
    assert row.status is ServiceCommandStatus.DONE
    assert row.result == "customer was not online"
    assert site.router.received == []


def test_a_nak_is_retried_on_the_backoff_and_then_fails_with_the_reason(site: Site) -> None:
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    site.router.mode = ListenerMode.NAK
    site.router.nak_cause = 506
    command = site.enqueue(DISCONNECT)
    worker = site.worker(first_backoff=10.0, factor=3.0)

    asyncio.run(worker.run_pending())
    row = site.command(command)
    assert row.status is ServiceCommandStatus.QUEUED
    assert row.attempts == 1
    assert site.next_attempt_at(command) == site.clock.now + timedelta(seconds=10)
    assert "506 Resources-Unavailable" in (row.result or "")

    # Not due yet: nothing runs, nothing is sent.
    site.clock.advance(9)
    assert asyncio.run(worker.run_pending()) == 0
    site.clock.advance(1)
    assert asyncio.run(worker.run_pending()) == 1
    assert site.command(command).attempts == 2
    assert site.next_attempt_at(command) == site.clock.now + timedelta(seconds=30)

    site.clock.advance(30)
    asyncio.run(worker.run_pending())
    row = site.command(command)
    assert row.status is ServiceCommandStatus.FAILED
    assert row.attempts == 3
    assert "506 Resources-Unavailable" in (row.result or "")
    assert (row.result or "").endswith(NO_FALLBACK)
    assert steps(site, command)[-1] == "fallback"
    assert [s["attempt"] for s in row.steps if s["step"] == "sent"] == [1, 2, 3]
    assert site.session_row("sess-1")["stopped_at"] is None


def test_a_silent_router_is_retried_and_then_fails(site: Site) -> None:
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    site.router.mode = ListenerMode.SILENT
    command = site.enqueue(DISCONNECT)
    worker = site.worker(max_attempts=2, first_backoff=5.0)
    asyncio.run(worker.run_pending())
    assert site.command(command).status is ServiceCommandStatus.QUEUED
    site.clock.advance(5)
    asyncio.run(worker.run_pending())
    row = site.command(command)
    assert row.status is ServiceCommandStatus.FAILED
    assert "no answer from the router after 2 tries" in (row.result or "")
    assert NO_FALLBACK in (row.result or "")
    # Two attempts, each sent twice (the retransmission has the same Identifier).
    identifiers = [packet.identifier for packet in site.router.received]
    assert len(identifiers) == 4
    assert identifiers[0] == identifiers[1]
    assert identifiers[2] == identifiers[3]


def test_an_ack_without_accounting_stop_is_not_done(site: Site) -> None:
    """The router said yes but never sent the Stop: not confirmed, so it is retried."""
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    site.router.mode = ListenerMode.ACK_NO_STOP
    command = site.enqueue(DISCONNECT)
    asyncio.run(site.worker(confirm_timeout=0.3).run_pending())
    row = site.command(command)
    assert row.status is ServiceCommandStatus.QUEUED
    assert steps(site, command) == ["sent", "ack", "unconfirmed", "retry"]
    assert "no Accounting-Stop" in (row.result or "")


def test_a_late_stop_confirms_the_disconnect_on_the_next_attempt(site: Site) -> None:
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    site.router.mode = ListenerMode.ACK_NO_STOP
    command = site.enqueue(DISCONNECT)
    worker = site.worker(confirm_timeout=0.2, first_backoff=10.0)
    asyncio.run(worker.run_pending())
    # The Stop arrives late (the router had it queued).
    assert site.nas.account("stop", "sess-1", PPPOE_USER, terminate_cause=6)
    site.clock.advance(10)
    asyncio.run(worker.run_pending())
    row = site.command(command)
    assert row.status is ServiceCommandStatus.DONE
    assert row.attempts == 2
    assert row.result == "disconnected"


def test_coa_pushes_the_package_rate_limit_to_the_live_session(site: Site) -> None:
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    command = site.enqueue(ServiceCommandKind.CHANGE_RATE_LIMIT)
    asyncio.run(site.worker().run_pending())
    # The seeded package: 5M down / 2M up with burst 10M/4M, thresholds 4M/1.5M, 16 s, prio 5.
    expected = build_rate_limit(
        RateLimitSpec(
            download_mbps=Decimal("5"),
            upload_mbps=Decimal("2"),
            burst_download_mbps=Decimal("10"),
            burst_upload_mbps=Decimal("4"),
            burst_threshold_download_mbps=Decimal("4"),
            burst_threshold_upload_mbps=Decimal("1.5"),
            burst_time_seconds=16,
            priority=5,
        )
    )
    row = site.command(command)
    assert row.status is ServiceCommandStatus.DONE
    assert row.result == f"rate limit {expected} applied to 1 session(s)"
    assert site.router.sessions["sess-1"].rate_limit == expected


def test_coa_with_an_explicit_rate_limit_and_a_nak_fails_after_retries(site: Site) -> None:
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    site.router.mode = ListenerMode.NAK
    site.router.nak_cause = 401
    command = site.enqueue(ServiceCommandKind.CHANGE_RATE_LIMIT, rate_limit="1M/1M")
    worker = site.worker(max_attempts=2, first_backoff=1.0)
    asyncio.run(worker.run_pending())
    site.clock.advance(1)
    asyncio.run(worker.run_pending())
    row = site.command(command)
    assert row.status is ServiceCommandStatus.FAILED
    assert "401 Unsupported-Attribute" in (row.result or "")
    assert site.router.received[0].text("Mikrotik-Rate-Limit") == "1M/1M"


class SimulatedRouterApi:
    """The router issue's fallback as the hook sees it: `/ppp/active/remove` on the
    simulated router (which then sends its Accounting-Stop, as RouterOS does)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.removed: list[str] = []

    async def remove_session(self, tenant_id: uuid.UUID, target: SessionTarget) -> bool:
        session = self.site.router.sessions.pop(target.session_id, None)
        if session is None:
            return False
        self.removed.append(target.session_id)
        return await asyncio.to_thread(
            self.site.nas.account, "stop", session.session_id, session.username, terminate_cause=6
        )

    async def session_listed(self, tenant_id: uuid.UUID, target: SessionTarget) -> bool:
        return target.session_id in self.site.router.sessions


def test_after_the_last_attempt_the_router_api_fallback_gets_its_turn(site: Site) -> None:
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    site.router.mode = ListenerMode.SILENT  # CoA blocked by a firewall
    command = site.enqueue(DISCONNECT)
    api = SimulatedRouterApi(site)
    worker = site.worker(max_attempts=2, first_backoff=1.0, router_api=api)
    asyncio.run(worker.run_pending())
    site.clock.advance(1)
    asyncio.run(worker.run_pending())
    row = site.command(command)
    assert row.status is ServiceCommandStatus.DONE
    assert row.result == "disconnected through the router API"
    assert api.removed == ["sess-1"]
    assert steps(site, command)[-3:] == ["fallback", "router-api", "confirmed"]
    assert site.session_row("sess-1")["stopped_at"] is not None


def test_every_open_session_of_the_customer_is_disconnected(site: Site) -> None:
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    site.router.connect(PPPOE_USER, "sess-2", "10.10.0.9")
    command = site.enqueue(DISCONNECT)
    asyncio.run(site.worker().run_pending())
    row = site.command(command)
    assert row.status is ServiceCommandStatus.DONE
    assert row.result == "disconnected 2 session(s)"
    assert steps(site, command) == ["sent", "ack", "confirmed"] * 2
    assert site.session_row("sess-1")["stopped_at"] is not None
    assert site.session_row("sess-2")["stopped_at"] is not None


def test_a_new_command_does_not_wait_for_a_slow_one_to_finish(site: Site) -> None:
    """A renewal's DISCONNECT must not queue behind a router that acknowledges but never
    sends its Stop (up to confirm_timeout): a notification claims it into a free slot while
    the slow one is still running."""
    site.router.connect(PPPOE_USER, "sess-1", "10.10.0.7")
    site.router.mode = ListenerMode.ACK_NO_STOP
    slow = site.enqueue(DISCONNECT)
    worker = site.worker(confirm_timeout=5.0)

    async def go() -> tuple[ServiceCommandStatus, ServiceCommandStatus]:
        wake = asyncio.Event()
        running = asyncio.create_task(worker.run_pending(wake))
        while site.command(slow).status is not ServiceCommandStatus.RUNNING:
            await asyncio.sleep(0.02)
        quick = site.enqueue(DISCONNECT, username=HOTSPOT_USER)  # not online: done at once
        wake.set()
        while site.command(quick).status is not ServiceCommandStatus.DONE:
            await asyncio.sleep(0.02)
        slow_meanwhile = site.command(slow).status
        await running
        return slow_meanwhile, site.command(quick).status

    slow_meanwhile, quick_status = asyncio.run(asyncio.wait_for(go(), 30))
    assert slow_meanwhile is ServiceCommandStatus.RUNNING
    assert quick_status is ServiceCommandStatus.DONE
    assert site.command(slow).status is ServiceCommandStatus.QUEUED  # unconfirmed: retried
