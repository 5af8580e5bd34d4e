"""What the operator sees when a router misbehaves, and how the queue recovers."""

from __future__ import annotations

import hashlib
import socket
import ssl
from collections.abc import Callable

import pytest

from radius_service.routers.errors import (
    RouterCertificateChanged,
    RouterConnectionLost,
    RouterLoginFailed,
    RouterTimedOut,
    RouterUnreachable,
)
from radius_service.simulator.routeros.controller import SimulatorThread
from radius_service.simulator.routeros.sessions import add_ppp_session
from tests.service.routers.conftest import client_for, endpoint_for, run

Start = Callable[..., SimulatorThread]


@pytest.mark.parametrize("version", ["6.40.9", "6.49.10", "7.16"])
def test_wrong_password_is_a_login_failure(start_sim: Start, version: str) -> None:
    sim = start_sim(version)

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address, password="wrong")) as client:
            with pytest.raises(RouterLoginFailed) as caught:
                await client.test_connection()
        assert "invalid user name or password" in caught.value.user_message
        assert "Router sim:" in caught.value.user_message

    run(scenario())


def test_a_router_refusing_every_login_is_a_login_failure(start_sim: Start) -> None:
    sim = start_sim("7.16")
    sim.simulator.faults.refuse_login = True

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address), connect_attempts=3) as client:
            with pytest.raises(RouterLoginFailed):
                await client.ppp_active()
        assert sim.simulator.logins == 0

    run(scenario())


def test_closed_port_is_unreachable_after_the_backoff_attempts() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = probe.getsockname()

    async def scenario() -> None:
        async with client_for(endpoint_for(address), connect_attempts=3) as client:
            with pytest.raises(RouterUnreachable) as caught:
                await client.test_connection()
        assert "connection refused" in caught.value.user_message
        assert "/ip service" in caught.value.user_message

    run(scenario())


def test_a_stalled_login_times_out(start_sim: Start) -> None:
    sim = start_sim("7.16")
    sim.simulator.faults.stall = True

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address, timeout=1.0)) as client:
            with pytest.raises(RouterTimedOut) as caught:
                await client.test_connection()
        assert "no answer within 1 s" in caught.value.user_message

    run(scenario())


def test_a_stalled_command_times_out_and_the_next_one_reconnects(start_sim: Start) -> None:
    sim = start_sim("7.16", sessions=2)

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address, timeout=1.0)) as client:
            assert len(await client.ppp_active()) == 2
            sim.simulator.faults.stall = True
            with pytest.raises(RouterTimedOut):
                await client.ppp_active()
            sim.simulator.faults.stall = False
            assert len(await client.ppp_active()) == 2
            assert client.queue.connects == 2

    run(scenario())


def test_a_read_dropped_mid_reply_is_retried_on_a_new_connection(start_sim: Start) -> None:
    sim = start_sim("7.16", sessions=5)

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            await client.test_connection()
            sim.simulator.faults.drop_next_replies = 1
            sessions = await client.ppp_active()
            assert [s.name for s in sessions] == [f"ppp000{n}" for n in range(1, 6)]
        assert sim.simulator.logins == 2

    run(scenario())


def test_a_write_dropped_mid_reply_is_reported_not_repeated(start_sim: Start) -> None:
    sim = start_sim("7.16")
    session_id = add_ppp_session(sim.state, "alice")

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            await client.test_connection()
            sim.simulator.faults.drop_next_replies = 1
            with pytest.raises(RouterConnectionLost) as caught:
                await client.remove("/ppp/active", session_id)
            assert "check the router before retrying" in caught.value.user_message
            # The router did apply it; the next command reconnects and sees that.
            assert await client.ppp_active() == []
            assert client.queue.connects == 2

    run(scenario())


def test_disconnect_survives_a_dropped_connection(start_sim: Start) -> None:
    sim = start_sim("7.16")
    add_ppp_session(sim.state, "alice")

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            await client.test_connection()
            sim.simulator.faults.drop_next_replies = 1
            assert await client.disconnect("alice") is True
            assert await client.ppp_active() == []

    run(scenario())


def test_api_ssl_with_the_routers_certificate_pinned(start_sim: Start) -> None:
    sim = start_sim("7.16", tls=True, sessions=1)
    assert sim.certificate is not None
    pem = sim.certificate.cert_pem.decode()

    async def scenario() -> None:
        endpoint = endpoint_for(sim.tls_address, use_tls=True, tls_ca_pem=pem)
        async with client_for(endpoint) as client:
            assert (await client.test_connection()).version == "7.16 (stable)"
            assert await client.disconnect("ppp0001") is True

    run(scenario())


def test_api_ssl_without_verification_accepts_a_self_signed_router(start_sim: Start) -> None:
    sim = start_sim("6.49.10", tls=True)

    async def scenario() -> None:
        endpoint = endpoint_for(sim.tls_address, use_tls=True, tls_verify=False)
        async with client_for(endpoint) as client:
            assert (await client.test_connection()).major_version == 6

    run(scenario())


def test_api_ssl_refuses_an_unknown_certificate_when_verifying(start_sim: Start) -> None:
    sim = start_sim("7.16", tls=True)

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.tls_address, use_tls=True)) as client:
            with pytest.raises(RouterUnreachable) as caught:
                await client.test_connection()
        assert "API-SSL handshake failed" in caught.value.user_message

    run(scenario())


def fingerprint_of(sim: SimulatorThread) -> str:
    assert sim.certificate is not None
    der = ssl.PEM_cert_to_DER_cert(sim.certificate.cert_pem.decode())
    return hashlib.sha256(der).hexdigest()


def test_api_ssl_reports_the_certificate_it_saw_and_keeps_to_a_pin(start_sim: Start) -> None:
    sim = start_sim("7.16", tls=True)
    seen = fingerprint_of(sim)

    async def scenario() -> None:
        unpinned = endpoint_for(sim.tls_address, use_tls=True, tls_verify=False)
        async with client_for(unpinned) as client:
            assert (await client.test_connection()).tls_fingerprint == seen
        pinned = endpoint_for(sim.tls_address, use_tls=True, tls_verify=False, tls_fingerprint=seen)
        async with client_for(pinned) as client:
            assert (await client.test_connection()).tls_fingerprint == seen
        other = endpoint_for(
            sim.tls_address, use_tls=True, tls_verify=False, tls_fingerprint="ab" * 32
        )
        async with client_for(other) as client:
            with pytest.raises(RouterCertificateChanged) as caught:
                await client.test_connection()
        assert "certificate changed (pinned ab:ab:ab" in caught.value.user_message
        assert "nothing was sent to it" in caught.value.user_message

    run(scenario())
    # Refused before the login: the simulator saw no password.
    assert sim.simulator.logins == 2
