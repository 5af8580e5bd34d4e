"""The command worker with the real router API (RouterOperations over TCP to the RouterOS
simulator) next to CoA over UDP to the NAS simulator: the disconnect fallback, confirmation
by the router no longer listing a session, and the ROUTER_TEST / ROUTER_SYNC commands."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text, update

from easyisp_core.models import Nas
from easyisp_core.models.enums import ServiceCommandKind, ServiceCommandStatus
from easyisp_core.repositories.service_command_queue import ServiceCommandQueue
from easyisp_core.services.router_health import point_router_api
from easyisp_core.services.vpn import VpnSiteInfo, publish_site
from easyisp_core.settings import Settings
from radius_service.commands.worker import CommandWorker
from radius_service.routers.operations import NOTHING_TO_CHANGE, RouterOperations
from radius_service.simulator.coa_listener import ListenerMode
from radius_service.simulator.routeros.controller import SimulatorThread
from radius_service.simulator.routeros.sessions import add_hotspot_session, add_ppp_session
from tests.factories import make_nas, make_tenant
from tests.service.radius.conftest import PPPOE_USER
from tests.service.radius.session_control_support import Site, site

__all__ = ["site"]

DISCONNECT = ServiceCommandKind.DISCONNECT
API_USER = "easyisp-api"
API_PASSWORD = "api-pass-123"
SETTINGS = Settings(portal_url="https://pay.example-isp.co.ke/", portal_address="192.0.2.80")
# add_ppp_session(number=1) lists session-id 0x81F00001: the router's Acct-Session-Id.
SESSION_ID = "81f00001"
TEST_LINE = re.compile(
    r"^RouterOS 7\.16 on \S+ 'core-1', up \d+[wdhms]( \d+[wdhms])?, CPU \d+%, "
    r"memory \d+/\d+ MiB$"
)


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    simulator = SimulatorThread("7.16", users={API_USER: API_PASSWORD}, identity="core-1").start()
    yield simulator
    simulator.stop()


def nas_id(site: Site) -> uuid.UUID:
    with site.sessions() as session:
        value: uuid.UUID = session.execute(text("SELECT id FROM nas LIMIT 1")).scalar_one()
        return value


def point_api(site: Site, address: tuple[str, int], password: str = API_PASSWORD) -> None:
    with site.sessions() as session, session.begin():
        point_router_api(
            session,
            site.box,
            nas_id(site),
            host=address[0],
            port=address[1],
            username=API_USER,
            password=password,
        )


def enqueue_router_command(site: Site, kind: ServiceCommandKind, **payload: Any) -> int:
    router = nas_id(site)
    with site.sessions() as session, session.begin():
        command = ServiceCommandQueue(session).enqueue(
            site.tenant_id(), kind, customer_id=None, payload=payload
        )
        session.execute(
            text("UPDATE service_commands SET nas_id = :n WHERE id = :i"),
            {"n": router, "i": command},
        )
    return command


def steps(site: Site, command_id: int) -> list[tuple[str, str]]:
    return [(step["step"], step["detail"]) for step in site.command(command_id).steps]


async def run_attempts(worker: CommandWorker, site: Site, attempts: int) -> None:
    """Run the worker `attempts` times, moving the clock past each backoff; one event loop
    so the router connections are reused, closed at the end."""
    try:
        for _ in range(attempts):
            await worker.run_pending()
            site.clock.advance(3600)
    finally:
        assert isinstance(worker.routers, RouterOperations)
        await worker.routers.aclose()


def make_worker(site: Site, **policy: Any) -> CommandWorker:
    operations = RouterOperations(site.sessions, site.box, SETTINGS, timeout=3.0)
    return site.worker(router_api=operations, routers=operations, **policy)


def test_coa_silent_the_router_api_removes_the_session_and_confirms(
    site: Site, sim: SimulatorThread
) -> None:
    point_api(site, sim.address)
    site.router.connect(PPPOE_USER, SESSION_ID, "10.10.0.7")
    add_ppp_session(sim.state, PPPOE_USER, number=1, address="10.10.0.7")
    # The same user on another session the database does not know, and someone else.
    add_ppp_session(sim.state, PPPOE_USER, number=2)
    add_hotspot_session(sim.state, "someone-else", number=3)
    site.router.mode = ListenerMode.SILENT  # CoA blocked by a firewall
    command = site.enqueue(DISCONNECT)

    asyncio.run(run_attempts(make_worker(site, max_attempts=2), site, 2))

    row = site.command(command)
    assert row.status is ServiceCommandStatus.DONE
    assert row.result == "disconnected through the router API"
    names = [name for name, _detail in steps(site, command)]
    coa = ["sent", "no-answer", "retry", "sent", "no-answer"]
    assert names == [*coa, "fallback", "router-api", "confirmed"]
    details = dict(steps(site, command)[-3:])
    assert "CoA not confirmed after 2 attempts" in details["fallback"]
    assert "removed through the router API" in details["router-api"]
    assert "the router no longer lists the session" in details["confirmed"]
    left = {row["session-id"] for row in sim.state.rows("/ppp/active")}
    assert left == {"0x81F00002"}
    assert [row["user"] for row in sim.state.rows("/ip/hotspot/active")] == ["someone-else"]


def test_coa_and_router_api_both_failing_fails_with_both_reasons(
    site: Site, sim: SimulatorThread
) -> None:
    point_api(site, sim.address, password="wrong-password")
    site.router.connect(PPPOE_USER, SESSION_ID, "10.10.0.7")
    add_ppp_session(sim.state, PPPOE_USER, number=1, address="10.10.0.7")
    site.router.mode = ListenerMode.SILENT
    command = site.enqueue(DISCONNECT)

    asyncio.run(run_attempts(make_worker(site, max_attempts=2), site, 2))

    row = site.command(command)
    assert row.status is ServiceCommandStatus.FAILED
    result = row.result or ""
    assert "no answer from the router after 2 tries" in result
    assert "router API:" in result
    assert "login refused" in result
    assert [name for name, _ in steps(site, command)][-2:] == ["fallback", "router-api"]
    assert len(sim.state.rows("/ppp/active")) == 1


def test_an_ack_without_stop_is_confirmed_by_the_router_no_longer_listing_it(
    site: Site, sim: SimulatorThread
) -> None:
    point_api(site, sim.address)
    site.router.connect(PPPOE_USER, SESSION_ID, "10.10.0.7")
    site.router.mode = ListenerMode.ACK_NO_STOP  # the router's Stop is lost
    command = site.enqueue(DISCONNECT)

    asyncio.run(run_attempts(make_worker(site, confirm_timeout=0.2), site, 1))

    row = site.command(command)
    assert row.status is ServiceCommandStatus.DONE
    assert row.result == "disconnected 1 session(s)"
    assert steps(site, command)[-1] == (
        "confirmed",
        f"session {SESSION_ID} of {PPPOE_USER} on 127.0.0.1: the router no longer lists the "
        "session",
    )


def test_router_test_describes_the_router_in_one_line(site: Site, sim: SimulatorThread) -> None:
    point_api(site, sim.address)
    command = enqueue_router_command(site, ServiceCommandKind.ROUTER_TEST)

    asyncio.run(run_attempts(make_worker(site), site, 1))

    row = site.command(command)
    assert row.status is ServiceCommandStatus.DONE, row.result
    assert TEST_LINE.match(row.result or ""), row.result
    assert [name for name, _ in steps(site, command)] == ["sent", "done"]


def test_router_test_of_an_unreachable_router_fails_with_the_error(
    site: Site, sim: SimulatorThread
) -> None:
    point_api(site, sim.address)
    sim.pause()  # switched off
    command = enqueue_router_command(site, ServiceCommandKind.ROUTER_TEST)

    asyncio.run(run_attempts(make_worker(site), site, 1))

    row = site.command(command)
    assert row.status is ServiceCommandStatus.FAILED
    assert "cannot connect" in (row.result or "")
    assert [name for name, _ in steps(site, command)] == ["sent", "failed"]


def test_a_router_command_without_a_router_or_for_another_tenant_fails(
    site: Site, sim: SimulatorThread
) -> None:
    point_api(site, sim.address)
    foreign = enqueue_router_command(site, ServiceCommandKind.ROUTER_TEST)
    with site.sessions() as session, session.begin():
        other = make_nas(session, site.box, make_tenant(session), ip_address="127.0.0.9")
        session.execute(
            text("UPDATE service_commands SET nas_id = :n WHERE id = :i"),
            {"n": other.id, "i": foreign},
        )
        nameless = ServiceCommandQueue(session).enqueue(
            site.tenant_id(), ServiceCommandKind.ROUTER_TEST, customer_id=None, payload={}
        )
    asyncio.run(run_attempts(make_worker(site), site, 1))
    assert site.command(foreign).status is ServiceCommandStatus.FAILED
    assert site.command(foreign).result == "No such router."
    assert site.command(nameless).result == "no router named"


def test_router_sync_previews_applies_and_then_has_nothing_to_change(
    site: Site, sim: SimulatorThread
) -> None:
    point_api(site, sim.address)
    with site.sessions() as session, session.begin():
        publish_site(
            session,
            VpnSiteInfo("wg-easyisp", "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
                        "203.0.113.10", 51820, "10.10.0.0/16"),
        )  # fmt: skip
        session.execute(update(Nas).values(name="core-1"))
    sync = ServiceCommandKind.ROUTER_SYNC
    preview = enqueue_router_command(site, sync, apply=False)
    asyncio.run(run_attempts(make_worker(site), site, 1))
    row = site.command(preview)
    assert row.status is ServiceCommandStatus.DONE, row.result
    lines = (row.result or "").splitlines()
    assert lines
    assert lines[0].startswith("1. ")
    assert all(re.match(r"^\d+\. \S", line) for line in lines)
    assert sim.state.writes == 0

    apply = enqueue_router_command(site, sync, apply=True)
    asyncio.run(run_attempts(make_worker(site), site, 1))
    row = site.command(apply)
    assert row.status is ServiceCommandStatus.DONE, row.result
    applied = (row.result or "").splitlines()
    assert applied[0] == f"Applied {len(lines)} changes:"
    assert applied[1:] == lines
    assert sim.state.writes == len(lines)

    again = enqueue_router_command(site, sync, apply=False)
    asyncio.run(run_attempts(make_worker(site), site, 1))
    assert site.command(again).result == NOTHING_TO_CHANGE
    assert sim.state.writes == len(lines)

    # After a hand edit on the router the console asks for the secret to be re-sent.
    resend = enqueue_router_command(site, sync, apply=True, resend_secret=True)
    asyncio.run(run_attempts(make_worker(site), site, 1))
    row = site.command(resend)
    assert row.status is ServiceCommandStatus.DONE, row.result
    assert re.fullmatch(
        r"Applied 1 changes:\n1\. /radius set \*\w+: secret=\*\*\* "
        r"\(radius: secret re-sent on request\)",
        row.result or "",
    ), row.result
    assert sim.state.writes == len(lines) + 1


def test_router_sync_with_a_bad_payload_changes_nothing(site: Site, sim: SimulatorThread) -> None:
    point_api(site, sim.address)
    command = enqueue_router_command(site, ServiceCommandKind.ROUTER_SYNC, apply="yes")
    asyncio.run(run_attempts(make_worker(site), site, 1))
    row = site.command(command)
    assert row.status is ServiceCommandStatus.FAILED
    assert row.result == "payload 'apply' must be true or false"
    command = enqueue_router_command(
        site, ServiceCommandKind.ROUTER_SYNC, apply=False, resend_secret=1
    )
    asyncio.run(run_attempts(make_worker(site), site, 1))
    assert site.command(command).result == "payload 'resend_secret' must be true or false"
    assert sim.state.writes == 0
