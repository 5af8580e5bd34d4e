"""A hostile or broken client never stops the server and never gets a reply."""

from __future__ import annotations

import os
import random
import socket
import struct
import time

import pytest

from radius_service.radius.codec import ACCESS_REQUEST, encode_request
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import NAS_SECRET, PPPOE_PASSWORD, PPPOE_USER, ServerThread


def valid_request() -> bytes:
    return encode_request(
        ACCESS_REQUEST, 9, os.urandom(16), [("User-Name", PPPOE_USER)], NAS_SECRET.encode()
    )


def malformed_datagrams() -> list[tuple[str, bytes]]:
    good = valid_request()
    rng = random.Random(6)
    cases = [
        ("empty", b""),
        ("one byte", b"\x01"),
        ("short header", good[:19]),
        ("truncated", good[:-3]),
        ("length below header", good[:2] + struct.pack("!H", 12) + good[4:]),
        ("length beyond datagram", good[:2] + struct.pack("!H", len(good) + 40) + good[4:]),
        ("length over 4096", good[:2] + struct.pack("!H", 5000) + good[4:] + bytes(5000)),
        ("attribute length 0", good[:2] + struct.pack("!H", 24) + good[4:20] + b"\x01\x00\x00\x00"),
        ("attribute past the end", good[:2] + struct.pack("!H", 24) + good[4:20] + b"\x01\x09ab"),
        ("accounting code", bytes([4]) + good[1:]),
        ("access-accept code", bytes([2]) + good[1:]),
        (
            "no user name",
            encode_request(ACCESS_REQUEST, 3, os.urandom(16), [], NAS_SECRET.encode()),
        ),
        ("bad integer width", _with_attribute(good, 27, b"\x01\x02")),
        ("vendor attribute too short", _with_attribute(good, 26, b"\x00\x00")),
        ("two message authenticators", _with_attribute(good, 80, bytes(16))),
    ]
    for n in range(200):
        size = rng.randint(0, 300)
        cases.append((f"random {n}", bytes(rng.getrandbits(8) for _ in range(size))))
    for n in range(100):
        # A valid header with garbage attributes gets past the first checks.
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 80)))
        header = struct.pack("!BBH", 1, n, 20 + len(body)) + os.urandom(16)
        cases.append((f"garbage attributes {n}", header + body))
    return cases


def _with_attribute(packet: bytes, kind: int, value: bytes) -> bytes:
    body = packet[20:] + bytes([kind, 2 + len(value)]) + value
    return packet[:2] + struct.pack("!H", 20 + len(body)) + packet[4:20] + body


def test_malformed_datagrams_get_no_reply_and_the_server_keeps_answering(
    nas: NasSimulator, radius_server: ServerThread
) -> None:
    address = radius_server.server.address
    assert address is not None
    cases = malformed_datagrams()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for n, (_name, datagram) in enumerate(cases, 1):
            sock.sendto(datagram, address)
            if n % 20 == 0:
                # UDP has no flow control: paced, so the test measures the server, not loss.
                time.sleep(0.01)
        sock.settimeout(1.0)
        with pytest.raises(TimeoutError):
            sock.recv(8192)
    deadline = time.monotonic() + 5
    while radius_server.counters["radius.auth.drop"] < len(cases) and time.monotonic() < deadline:
        time.sleep(0.05)
    reply = nas.login(PPPOE_USER, PPPOE_PASSWORD, method="mschapv2")
    assert reply is not None
    assert reply.accepted
    assert reply.mschap2_success_valid
    counters = radius_server.counters
    assert counters["radius.auth.drop"] == len(cases)
    assert counters["radius.auth.error"] == 0
    assert counters["radius.auth.drop.truncated"] >= 1
    assert counters["radius.auth.drop.bad_length"] >= 2
    assert counters["radius.auth.drop.unexpected_code"] >= 2


def test_trailing_padding_after_the_length_field_is_ignored(
    nas: NasSimulator, radius_server: ServerThread
) -> None:
    from radius_service import auth_methods

    address = radius_server.server.address
    assert address is not None
    authenticator = os.urandom(16)
    secret = NAS_SECRET.encode()
    hidden = auth_methods.hide_password(PPPOE_PASSWORD.encode(), secret, authenticator)
    raw = encode_request(
        ACCESS_REQUEST,
        42,
        authenticator,
        [("User-Name", PPPOE_USER), ("User-Password", hidden), ("Framed-Protocol", 1)],
        secret,
    )
    datagram = nas.send_raw(raw + b"\x00" * 37)
    assert datagram is not None
    reply = nas.check_reply(datagram, authenticator, PPPOE_USER, PPPOE_PASSWORD)
    assert reply.accepted


def test_a_retransmission_gets_the_same_reply_without_a_second_decision(
    nas: NasSimulator, radius_server: ServerThread
) -> None:
    from radius_service import auth_methods

    address = radius_server.server.address
    assert address is not None
    authenticator = os.urandom(16)
    secret = NAS_SECRET.encode()
    hidden = auth_methods.hide_password(PPPOE_PASSWORD.encode(), secret, authenticator)
    raw = encode_request(
        ACCESS_REQUEST,
        43,
        authenticator,
        [("User-Name", PPPOE_USER), ("User-Password", hidden), ("Framed-Protocol", 1)],
        secret,
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3.0)
        sock.sendto(raw, address)
        first = sock.recv(8192)
        sock.sendto(raw, address)
        second = sock.recv(8192)
    assert first == second
    assert radius_server.counters["radius.auth.accept"] == 1
    assert radius_server.counters["radius.auth.duplicate"] == 1
