"""The pyrad-free accounting codec reads what pyrad reads and answers byte for byte what
codec.encode_reply answers; malformed packets are refused with codec.decode's reasons."""

from __future__ import annotations

import struct
import uuid
from datetime import UTC, datetime

import pytest

from easyisp_core.services.accounting import StatusType
from easyisp_core.services.radius_auth import NasClient
from radius_service import auth_methods
from radius_service.radius.acct_codec import (
    accounting_response,
    decode_accounting,
    verify_request,
)
from radius_service.radius.acct_record import UnusableRecord, read_record
from radius_service.radius.codec import DecodeError, decode, encode_reply, encode_request

SECRET = b"codec-secret"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CLIENT = NasClient(
    nas_id=uuid.uuid4(),
    tenant_id=uuid.uuid4(),
    name="r1",
    ip_address="127.0.0.1",
    secret=SECRET,
    require_message_authenticator=False,
)


def request(attributes: list[tuple[str, object]], *, ma: bool = False) -> bytes:
    unsigned = encode_request(4, 9, bytes(16), attributes, SECRET, message_authenticator=ma)  # type: ignore[arg-type]
    return auth_methods.sign_request(unsigned, SECRET)


FULL = [
    ("Acct-Status-Type", 2),
    ("User-Name", "alice"),
    ("Acct-Session-Id", "81a00001"),
    ("Framed-IP-Address", "10.20.30.40"),
    ("Framed-Protocol", 1),
    ("Calling-Station-Id", "AA:BB:CC:DD:EE:FF"),
    ("Called-Station-Id", "pppoe-out1"),
    ("NAS-Port-Id", "ether2"),
    ("Class", b"plan-7"),
    ("Acct-Delay-Time", 3),
    ("Acct-Session-Time", 3600),
    ("Acct-Input-Octets", 5),
    ("Acct-Input-Gigawords", 2),
    ("Acct-Output-Octets", 7),
    ("Acct-Output-Gigawords", 1),
    ("Acct-Input-Packets", 11),
    ("Acct-Output-Packets", 13),
    ("Acct-Terminate-Cause", 11),
]


@pytest.mark.parametrize("ma", [False, True])
def test_a_full_stop_is_read_as_pyrad_reads_it_and_answered_identically(ma: bool) -> None:
    raw = request(FULL, ma=ma)
    parsed = decode_accounting(raw + b"\0\0")  # padding past Length is ignored
    assert verify_request(parsed, SECRET)
    assert not verify_request(parsed, b"other-secret")
    record = read_record(parsed, CLIENT, NOW)
    assert record.status is StatusType.STOP
    assert (record.username, record.session_id) == ("alice", "81a00001")
    assert record.framed_ip == "10.20.30.40"
    assert record.service_type == "PPPOE"
    assert (record.delay, record.session_time) == (3, 3600)
    assert record.input_octets == (2 << 32) + 5
    assert record.output_octets == (1 << 32) + 7
    assert (record.input_packets, record.output_packets) == (11, 13)
    assert record.terminate_cause == "NAS-Reboot"
    assert record.class_value == "plan-7"
    assert (record.calling_station_id, record.called_station_id) == (
        "AA:BB:CC:DD:EE:FF",
        "pppoe-out1",
    )
    assert record.nas_port_id == "ether2"
    # The reply: the very bytes pyrad's encoder and our signer give, and a NAS accepts it.
    reply = accounting_response(parsed, SECRET)
    assert reply == encode_reply(5, decode(raw), [], SECRET)
    assert auth_methods.verify_response(reply, parsed.authenticator, SECRET)


def test_odd_values_are_read_as_before() -> None:
    raw = request(
        [
            ("Acct-Status-Type", 1),
            ("Acct-Session-Id", b"\xff\xfeid"),  # not UTF-8: replaced, not dropped
            ("User-Name", "x" * 80),  # cut to 64
            ("Acct-Terminate-Cause", 25),  # unnamed: its number
            ("Service-Type", 2),  # Framed-User: PPP
            ("Acct-Session-Id", "second"),  # only the first counts
        ]
    )
    record = read_record(decode_accounting(raw), CLIENT, NOW)
    assert record.session_id == "\ufffd\ufffdid"
    assert record.username == "x" * 64
    assert record.terminate_cause == "25"
    assert record.service_type == "PPPOE"


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        ([("Acct-Status-Type", 15), ("Acct-Session-Id", "s")], "unsupported status type"),
        ([("Acct-Status-Type", 1)], "no session id"),
    ],
)
def test_unusable_records_are_refused(attributes: list[tuple[str, object]], reason: str) -> None:
    with pytest.raises(UnusableRecord, match=reason):
        read_record(decode_accounting(request(attributes)), CLIENT, NOW)


def test_accounting_on_needs_no_session_id() -> None:
    record = read_record(decode_accounting(request([("Acct-Status-Type", 7)])), CLIENT, NOW)
    assert record.status is StatusType.ACCOUNTING_ON


def _raw(attributes: bytes) -> bytes:
    return struct.pack("!BBH", 4, 1, 20 + len(attributes)) + bytes(16) + attributes


@pytest.mark.parametrize(
    ("datagram", "reason"),
    [
        (b"\x04\x01\x00", "short header"),
        (_raw(b"")[:2] + b"\x00\x05" + bytes(16), "bad length"),
        (_raw(b"\x2c\x06abcd")[:-1], "truncated"),
        (_raw(b"\x2c\x01"), "bad attributes"),
        (_raw(b"\x2c\x09abc"), "bad attributes"),
        (_raw(b"\x50\x06abcd"), "bad attributes"),  # Message-Authenticator not 16 bytes
        (_raw(b"\x50\x12" + bytes(16) + b"\x50\x12" + bytes(16)), "bad attributes"),
        (_raw(b"\x28\x05abc"), "undecodable attribute"),  # an integer of 3 bytes
        (_raw(b"\x08\x07abcde"), "undecodable attribute"),  # an address of 5 bytes
    ],
)
def test_malformed_packets_are_refused_with_the_reason_decode_gives(
    datagram: bytes, reason: str
) -> None:
    with pytest.raises(DecodeError) as fast:
        decode_accounting(datagram)
    assert fast.value.reason == reason
    with pytest.raises(DecodeError) as slow:
        decode(datagram)
    assert slow.value.reason == reason
