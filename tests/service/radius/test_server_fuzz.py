"""Property-based fuzzing of the running server (hypothesis): Access-Requests from the known
router, correctly signed but with arbitrary attributes, and unsigned ones, over real UDP.

For every datagram the server counts exactly one outcome (dropped, accepted, rejected, …);
it replies only to a signed request, only with a correctly signed reply whose
Message-Authenticator comes first, and never accepts credentials it cannot verify (all of
them are random here). Afterwards it still answers a normal login.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from radius_service import auth_methods
from radius_service.radius.codec import ACCESS_ACCEPT, ACCESS_REJECT, ACCESS_REQUEST
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import (
    EXPIRED_USER,
    HOTSPOT_MAC,
    HOTSPOT_USER,
    NAS_SECRET,
    PPPOE_PASSWORD,
    PPPOE_USER,
    VOUCHER_CODE,
    ServerThread,
)

WAIT = 20.0
OUTCOMES = ("drop", "accept", "reject", "duplicate", "status_server", "error")
SECRET = NAS_SECRET.encode()
# The attributes the server reads, weighted up; any other type may appear too.
INTERESTING_TYPES = [1, 2, 3, 6, 7, 26, 31, 33, 60, 79, 80]
USERNAMES = [
    PPPOE_USER, EXPIRED_USER, HOTSPOT_USER, VOUCHER_CODE, HOTSPOT_MAC, "mallory", "", "al\x00ice"
]  # fmt: skip


def _microsoft_vsa(vendor_type: int, value: bytes) -> bytes:
    return struct.pack("!IBB", 311, vendor_type, 2 + len(value)) + value


attribute_values = st.binary(max_size=60)
attributes = st.one_of(
    st.tuples(st.sampled_from(INTERESTING_TYPES), attribute_values),
    st.tuples(st.integers(1, 255), attribute_values),
    # MS-CHAP-Challenge (11) and MS-CHAP2-Response (25), well-framed but random inside.
    st.builds(
        lambda t, v: (26, _microsoft_vsa(t, v)),
        st.sampled_from([11, 25]),
        st.binary(min_size=0, max_size=60),
    ),
    st.builds(lambda name: (1, name.encode()), st.sampled_from(USERNAMES)),
    st.builds(lambda name: (31, name.encode()), st.sampled_from(["", "garbage", "aa-bb"])),
)


def _request(
    code: int,
    identifier: int,
    authenticator: bytes,
    attrs: list[tuple[int, bytes]],
    *,
    signed: bool,
) -> bytes:
    body = b"".join(bytes([kind, 2 + len(value)]) + value for kind, value in attrs)
    if signed:
        body = bytes([auth_methods.MESSAGE_AUTHENTICATOR, 18]) + bytes(16) + body
    packet = struct.pack("!BBH", code, identifier, 20 + len(body)) + authenticator + body
    if signed:
        try:
            mac = auth_methods.compute_message_authenticator(packet, SECRET)
        except ValueError:  # a second, ill-sized Message-Authenticator among the attrs
            return packet
        packet = packet[:22] + mac + packet[38:]
    return packet


def _outcomes(server: ServerThread) -> int:
    return sum(server.counters[f"radius.auth.{name}"] for name in OUTCOMES)


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.002)


def test_the_running_server_survives_any_request_and_never_replies_wrongly(
    radius_server: ServerThread, nas: NasSimulator
) -> None:
    address = radius_server.server.address
    assert address is not None
    counters = radius_server.counters

    @settings(max_examples=300, deadline=None)
    @given(
        code=st.sampled_from([ACCESS_REQUEST] * 6 + [2, 4, 12, 40, 255]),
        identifier=st.integers(0, 255),
        authenticator=st.binary(min_size=16, max_size=16),
        attrs=st.lists(attributes, max_size=12),
        signed=st.booleans(),
    )
    def one_datagram(
        code: int,
        identifier: int,
        authenticator: bytes,
        attrs: list[tuple[int, bytes]],
        signed: bool,
    ) -> None:
        datagram = _request(code, identifier, authenticator, attrs, signed=signed)
        before = _outcomes(radius_server)
        replies_before = counters["radius.auth.accept"] + counters["radius.auth.reject"]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(datagram, address)
            _until(lambda: _outcomes(radius_server) > before, "the server counted the datagram")
            assert _outcomes(radius_server) == before + 1
            assert counters["radius.auth.error"] == 0
            if counters["radius.auth.accept"] + counters["radius.auth.reject"] == replies_before:
                return  # dropped (or a signed Status-Server, tested elsewhere)
            assert signed, "an unsigned request was answered"
            sock.settimeout(WAIT)
            reply = sock.recv(8192)
        assert reply[0] in (ACCESS_ACCEPT, ACCESS_REJECT)
        assert reply[1] == identifier
        assert auth_methods.verify_response(reply, authenticator, SECRET)
        assert reply[20] == auth_methods.MESSAGE_AUTHENTICATOR  # Blast-RADIUS: first attribute
        if reply[0] == ACCESS_ACCEPT:
            # Random bytes never prove a password; only a voucher may take an empty one.
            names = [value for kind, value in attrs if kind == 1]
            assert names[:1] == [VOUCHER_CODE.encode()], "random credentials were accepted"

    one_datagram()

    # Still answering, and correctly, after everything above.
    reply = nas.login(PPPOE_USER, PPPOE_PASSWORD, method="mschapv2")
    assert reply is not None
    assert reply.accepted
    assert reply.mschap2_success_valid
    assert counters["radius.auth.error"] == 0
    assert counters["radius.auth.drop"] > 0
    assert counters["radius.auth.reject"] > 0
