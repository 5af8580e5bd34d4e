"""Property-based fuzzing (hypothesis) of the accounting side: the pyrad-free decoder
(radius/acct_codec.py) and the running accounting server over real UDP.

The decoder: any bytes decode or raise DecodeError, and a decoded request becomes a record or
UnusableRecord, nothing else; what it refuses, codec.decode (pyrad) refuses too. The server:
every datagram is counted once (dropped, or taken as a request); only a correctly signed
Accounting-Request is answered, only with a correctly signed Accounting-Response whose
Message-Authenticator comes first, and only once its record is stored; nothing is ever an
error (a NUL in a text attribute was: PostgreSQL refused the record). Afterwards it still
stores and answers a normal session.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from easyisp_core.services.radius_auth import NasClient
from radius_service import auth_methods
from radius_service.radius.acct_codec import decode_accounting, verify_request
from radius_service.radius.acct_record import UnusableRecord, read_record
from radius_service.radius.codec import DecodeError, decode
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import NAS_SECRET, PPPOE_USER, Seeded
from tests.service.radius.test_accounting import (
    AcctServerThread,
    acct_nas,
    acct_server,
    session_rows,
)

__all__ = ["acct_nas", "acct_server"]  # fixtures

SECRET = NAS_SECRET.encode()
WAIT = 20.0
ACCOUNTING_REQUEST, ACCOUNTING_RESPONSE = 4, 5
CLIENT = NasClient(
    nas_id=uuid.uuid4(),
    tenant_id=uuid.uuid4(),
    name="r1",
    ip_address="127.0.0.1",
    secret=SECRET,
    require_message_authenticator=False,
)
# The attributes an accounting record reads, weighted up; any other type may appear too.
FOUR_BYTE_TYPES = [6, 7, 8, 40, 41, 42, 43, 46, 47, 48, 49, 52, 53]
TEXT_TYPES = [1, 25, 30, 31, 44, 87]


def _uint32(kind: int) -> st.SearchStrategy[tuple[int, bytes]]:
    return st.tuples(st.just(kind), st.integers(0, 2**32 - 1).map(lambda n: n.to_bytes(4, "big")))


status_types = st.builds(
    lambda n: (40, n.to_bytes(4, "big")), st.sampled_from([1, 2, 3, 7, 8, 0, 9, 15])
)
session_ids = st.tuples(st.just(44), st.sampled_from([b"fuzz-1", b"fuzz\x00nul", b""]))
user_names = st.tuples(
    st.just(1), st.sampled_from([PPPOE_USER.encode(), b"mallory", b"", b"al\x00ice"])
)
attributes = st.one_of(
    status_types,
    st.sampled_from(FOUR_BYTE_TYPES).flatmap(_uint32),
    st.tuples(st.sampled_from(FOUR_BYTE_TYPES), st.binary(max_size=8)),  # often ill-sized
    st.tuples(st.sampled_from(TEXT_TYPES), st.binary(max_size=80)),
    st.tuples(st.just(44), st.text(max_size=20).map(lambda t: t.encode())),
    session_ids,
    user_names,
    st.tuples(st.integers(1, 255), st.binary(max_size=40)),
)
# Half the requests look like a router's (a status, a session id, a user first), so the
# store is reached often; the other half are any attributes at all.
attribute_lists = st.one_of(
    st.lists(attributes, max_size=14),
    st.builds(
        lambda head, tail: [*head, *tail],
        st.tuples(status_types, session_ids, user_names),
        st.lists(attributes, max_size=8),
    ),
)


def _packet(
    code: int, identifier: int, attrs: list[tuple[int, bytes]], *, signed: bool, ma: bool
) -> bytes:
    body = b"".join(bytes([kind, 2 + len(value)]) + value for kind, value in attrs)
    if ma:
        body = bytes([auth_methods.MESSAGE_AUTHENTICATOR, 18]) + bytes(16) + body
    packet = struct.pack("!BBH", code, identifier, 20 + len(body)) + bytes(16) + body
    if not signed:
        return packet[:4] + bytes(range(16)) + packet[20:]
    try:
        return auth_methods.sign_request(packet, SECRET)
    except ValueError:  # a second, ill-sized Message-Authenticator among the attrs
        return packet


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_decode_to_a_record_or_are_refused(data: bytes) -> None:
    try:
        request = decode_accounting(data)
    except DecodeError:
        return
    assert len(request.raw) <= len(data)
    verify_request(request, SECRET)  # never raises, whatever the bytes
    with contextlib.suppress(UnusableRecord):
        read_record(request, CLIENT, datetime.now(UTC))


@settings(max_examples=1000, deadline=None)
@given(
    code=st.sampled_from([ACCOUNTING_REQUEST] * 4 + [1, 5, 255]),
    attrs=attribute_lists,
    ma=st.booleans(),
)
def test_what_the_fast_decoder_refuses_pyrad_refuses_for_the_same_reason(
    code: int, attrs: list[tuple[int, bytes]], ma: bool
) -> None:
    datagram = _packet(code, 1, attrs, signed=True, ma=ma)
    try:
        request = decode_accounting(datagram)
    except DecodeError:
        # Refused by both (with several faults in one packet, each names the one it met
        # first: a drop counted under another reason, never a difference in what is taken).
        with pytest.raises(DecodeError):
            decode(datagram)
        return
    assert verify_request(request, SECRET) or not request.raw.startswith(datagram[:4])
    with contextlib.suppress(UnusableRecord):
        record = read_record(request, CLIENT, datetime.now(UTC))
        assert 0 <= record.input_octets < 2**64
        assert 0 <= record.output_octets < 2**64


def test_a_router_shaped_request_reads_and_its_octets_are_as_sent() -> None:
    """The fuzz test above checks octets only when a record is usable; this one always is."""
    attrs = [
        (40, (3).to_bytes(4, "big")),  # Acct-Status-Type: Interim-Update
        (44, b"router-1"),  # Acct-Session-Id
        (1, PPPOE_USER.encode()),  # User-Name
        (42, (1234).to_bytes(4, "big")),  # Acct-Input-Octets
        (43, (5678).to_bytes(4, "big")),  # Acct-Output-Octets
        (52, (1).to_bytes(4, "big")),  # Acct-Input-Gigawords
        (53, (2).to_bytes(4, "big")),  # Acct-Output-Gigawords
    ]
    request = decode_accounting(_packet(ACCOUNTING_REQUEST, 7, attrs, signed=True, ma=False))
    assert verify_request(request, SECRET)
    record = read_record(request, CLIENT, datetime.now(UTC))
    assert record.input_octets == (1 << 32) + 1234
    assert record.output_octets == (2 << 32) + 5678
    assert (record.session_id, record.username) == ("router-1", PPPOE_USER)


def _taken(server: AcctServerThread) -> int:
    counters = server.counters
    return sum(counters[f"radius.acct.{name}"] for name in ("drop", "request", "duplicate"))


def _settled(server: AcctServerThread) -> int:
    """Records whose store finished: an outcome (then the reply goes out) or an error."""
    names = ("started", "updated", "stopped", "recovered", "duplicate", "nas_reset", "error")
    return sum(server.counters[f"radius.acct.{name}"] for name in names)


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.002)


def test_the_running_accounting_server_survives_any_request_and_never_replies_wrongly(
    acct_server: AcctServerThread, acct_nas: NasSimulator, seeded_url: tuple[str, Seeded]
) -> None:
    address = acct_server.server.address
    assert address is not None
    counters = acct_server.counters

    @settings(max_examples=300, deadline=None)
    @given(
        code=st.sampled_from([ACCOUNTING_REQUEST] * 6 + [1, 2, 5, 12, 40, 255]),
        identifier=st.integers(0, 255),
        attrs=attribute_lists,
        signed=st.booleans(),
        ma=st.booleans(),
    )
    def one_datagram(
        code: int, identifier: int, attrs: list[tuple[int, bytes]], signed: bool, ma: bool
    ) -> None:
        datagram = _packet(code, identifier, attrs, signed=signed, ma=ma)
        taken, requests = _taken(acct_server), counters["radius.acct.request"]
        settled = _settled(acct_server)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(datagram, address)
            _until(lambda: _taken(acct_server) > taken, "the server counted the datagram")
            assert _taken(acct_server) == taken + 1
            if counters["radius.acct.request"] == requests:
                return  # dropped (counted with its reason), never answered
            assert signed, "an unsigned request was taken"
            _until(lambda: _settled(acct_server) > settled, "the record was stored")
            assert counters["radius.acct.error"] == 0, "a signed record could not be stored"
            sock.settimeout(WAIT)
            reply = sock.recv(8192)
        assert reply[0] == ACCOUNTING_RESPONSE
        assert reply[1] == identifier
        assert auth_methods.verify_response(reply, datagram[4:20], SECRET)
        assert reply[20] == auth_methods.MESSAGE_AUTHENTICATOR  # Blast-RADIUS: first attribute

    one_datagram()

    assert counters["radius.acct.error"] == 0
    assert counters["radius.acct.drop"] > 0
    assert counters["radius.acct.request"] > 0
    # Still storing, and correctly, after everything above.
    assert acct_nas.account("start", "after-fuzz", PPPOE_USER)
    assert acct_nas.account("stop", "after-fuzz", PPPOE_USER, session_time=7, input_octets=2**33)
    (row,) = session_rows(seeded_url[0], "session_id = 'after-fuzz'")
    assert row["stopped_at"] is not None
    assert row["input_octets"] == 2**33
