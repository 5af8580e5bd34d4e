"""The RADIUS auth server end to end: real UDP on 127.0.0.1, a real database, the NAS
simulator as the router."""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.models import Nas
from easyisp_core.services.nas import create_nas
from radius_service import auth_methods
from radius_service.radius.codec import ACCESS_REQUEST, encode_request
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import (
    EXPIRED_PASSWORD,
    EXPIRED_POOL,
    EXPIRED_USER,
    PPPOE_PASSWORD,
    PPPOE_USER,
    Seeded,
    ServerThread,
)

RATE_LIMIT = "2M/5M 4M/10M 1500k/4M 16/16 5"


@pytest.mark.parametrize("method", ["pap", "chap", "mschapv2"])
def test_pppoe_login_is_accepted_with_the_package_rate_limit(
    nas: NasSimulator, method: str
) -> None:
    reply = nas.login(PPPOE_USER, PPPOE_PASSWORD, method=method)
    assert reply is not None
    assert reply.accepted, reply.attributes
    assert reply.message_authenticator_first
    assert reply.first("Mikrotik-Rate-Limit") == RATE_LIMIT
    timeout = reply.first("Session-Timeout")
    assert isinstance(timeout, int)
    assert 9 * 86400 < timeout <= 10 * 86400
    assert reply.first("Acct-Interim-Interval") == 300
    assert reply.first("Class").startswith(b"easyisp:")


def test_mschapv2_accept_proves_the_password_and_carries_mppe_keys(nas: NasSimulator) -> None:
    reply = nas.login(PPPOE_USER, PPPOE_PASSWORD, method="mschapv2")
    assert reply is not None
    assert reply.accepted
    assert reply.mschap2_success_valid is True
    assert reply.mppe_keys_valid is True


@pytest.mark.parametrize("method", ["pap", "chap", "mschapv2"])
def test_a_wrong_password_is_rejected_with_a_reply_message(
    nas: NasSimulator, radius_server: ServerThread, method: str
) -> None:
    reply = nas.login(PPPOE_USER, "wrong-password", method=method)
    assert reply is not None
    assert not reply.accepted
    assert reply.message_authenticator_first
    assert reply.first("Reply-Message") == "Wrong username or password."
    assert "Mikrotik-Rate-Limit" not in reply.attributes
    if method == "mschapv2":
        assert reply.first("MS-CHAP-Error")[1:].startswith(b"E=691")
    assert radius_server.counters["radius.auth.reject"] == 1


def test_an_unknown_user_gets_the_same_reject_as_a_wrong_password(nas: NasSimulator) -> None:
    reply = nas.login("nobody-here", "whatever")
    assert reply is not None
    assert not reply.accepted
    assert reply.first("Reply-Message") == "Wrong username or password."


def test_an_expired_pppoe_customer_is_let_into_the_tenants_expired_pool(
    nas: NasSimulator,
) -> None:
    reply = nas.login(EXPIRED_USER, EXPIRED_PASSWORD, method="chap")
    assert reply is not None
    assert reply.accepted
    assert reply.first("Framed-Pool") == EXPIRED_POOL
    assert reply.first("Mikrotik-Address-List") == "easyisp-expired"
    assert reply.first("Mikrotik-Rate-Limit") == "256k/256k"
    assert reply.first("Session-Timeout") == 300


def test_a_request_from_an_unknown_nas_gets_no_reply(radius_server: ServerThread) -> None:
    address = radius_server.server.address
    assert address is not None
    stranger = NasSimulator(address, b"sim-secret-0123456789", timeout=0.5, source_ip="127.0.0.2")
    assert stranger.login(PPPOE_USER, PPPOE_PASSWORD) is None
    assert radius_server.counters["radius.auth.drop.unknown_client"] == 1


def test_a_request_without_message_authenticator_is_dropped_when_the_nas_requires_it(
    nas: NasSimulator, radius_server: ServerThread
) -> None:
    nas.message_authenticator = False
    nas.timeout = 0.5
    assert nas.login(PPPOE_USER, PPPOE_PASSWORD) is None
    assert radius_server.counters["radius.auth.drop.missing_message_authenticator"] == 1


def test_a_request_signed_with_the_wrong_secret_is_dropped(
    radius_server: ServerThread,
) -> None:
    address = radius_server.server.address
    assert address is not None
    impostor = NasSimulator(address, b"not-the-secret-at-all", timeout=0.5)
    assert impostor.login(PPPOE_USER, PPPOE_PASSWORD) is None
    assert radius_server.counters["radius.auth.drop.bad_message_authenticator"] == 1


def test_the_heartbeat_counters_count_accepts_and_rejects(
    nas: NasSimulator, radius_server: ServerThread
) -> None:
    assert nas.login(PPPOE_USER, PPPOE_PASSWORD) is not None
    assert nas.login(PPPOE_USER, "nope") is not None
    assert radius_server.counters["radius.auth.accept"] == 1
    assert radius_server.counters["radius.auth.reject"] == 1


def test_a_router_added_while_running_is_served_after_its_first_retransmission(
    seeded_url: tuple[str, Seeded], radius_server: ServerThread, secret_box: SecretBox
) -> None:
    url, seeded = seeded_url
    engine = make_engine(url, application_name="radius-test-add-nas")
    try:
        with Session(engine) as session, session.begin():
            create_nas(
                session,
                secret_box,
                {
                    "tenant": seeded.tenant_name,
                    "name": "new-router",
                    "ip_address": "127.0.0.2",
                    "secret": "second-router-secret",
                },
            )
    finally:
        engine.dispose()
    address = radius_server.server.address
    assert address is not None
    router = NasSimulator(
        address, b"second-router-secret", timeout=1.5, retries=3, source_ip="127.0.0.2"
    )
    reply = router.login(PPPOE_USER, PPPOE_PASSWORD)
    assert reply is not None
    assert reply.accepted
    assert radius_server.counters["radius.auth.drop.unknown_client"] >= 1


def test_proxy_state_without_message_authenticator_is_dropped_even_when_not_required(
    seeded_url: tuple[str, Seeded], radius_server: ServerThread
) -> None:
    """Blast-RADIUS: a router that does not sign its requests (the per-NAS setting turned
    off) is still answered, but never for a request carrying Proxy-State, the attack's
    vehicle, unless it is signed."""
    engine = make_engine(seeded_url[0], application_name="radius-test-blast")
    try:
        with Session(engine) as session, session.begin():
            session.execute(update(Nas).values(require_message_authenticator=False))
    finally:
        engine.dispose()
    asyncio.run_coroutine_threadsafe(
        radius_server.server.refresh_clients(), radius_server.loop
    ).result(timeout=10)
    address = radius_server.server.address
    assert address is not None
    nas = NasSimulator(address, b"sim-secret-0123456789", timeout=0.5, message_authenticator=False)

    def unsigned(extra: list[tuple[str, bytes]]) -> bytes | None:
        authenticator = os.urandom(16)
        hidden = auth_methods.hide_password(PPPOE_PASSWORD.encode(), nas.secret, authenticator)
        attributes: list[tuple[str, str | int | bytes]] = [
            ("User-Name", PPPOE_USER),
            ("User-Password", hidden),
            ("Framed-Protocol", 1),
            *extra,
        ]
        raw = encode_request(
            ACCESS_REQUEST, 5, authenticator, attributes, nas.secret, message_authenticator=False
        )
        return nas.send_raw(raw)

    assert unsigned([]) is not None  # the setting is off: an unsigned request is answered
    assert unsigned([("Proxy-State", b"\x01\x02")]) is None
    counters = radius_server.counters
    assert counters["radius.auth.drop.proxy_state_without_message_authenticator"] == 1
