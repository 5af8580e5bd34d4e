"""Accounting-Requests from bytes and Accounting-Responses to bytes, without pyrad: one walk
over the attributes keeping the raw values of the dozen an accounting record needs.

pyrad builds a dictionary of every attribute, decoded by type, for each packet, and a Packet
object for each reply; at accounting rates that was most of the listener's CPU
(bench/radius/README.md). The checks are those of codec.decode: the Length field, every
attribute header, at most one Message-Authenticator of 16 bytes, and the attributes the record
reads well formed (an integer or an address of 4 bytes); other attributes are not looked at.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from radius_service.auth_methods import AUTHENTICATOR_LENGTH, HEADER_LENGTH
from radius_service.radius.codec import DecodeError, trim

ACCOUNTING_RESPONSE = 5
MESSAGE_AUTHENTICATOR = 80
_ZERO = bytes(AUTHENTICATOR_LENGTH)
# The attribute numbers the record reads (RFC 2865, 2866, 2869).
USER_NAME, SERVICE_TYPE, FRAMED_PROTOCOL, FRAMED_IP_ADDRESS = 1, 6, 7, 8
CLASS, CALLED_STATION_ID, CALLING_STATION_ID = 25, 30, 31
ACCT_STATUS_TYPE, ACCT_DELAY_TIME, ACCT_INPUT_OCTETS, ACCT_OUTPUT_OCTETS = 40, 41, 42, 43
ACCT_SESSION_ID, ACCT_SESSION_TIME, ACCT_INPUT_PACKETS, ACCT_OUTPUT_PACKETS = 44, 46, 47, 48
ACCT_TERMINATE_CAUSE, ACCT_INPUT_GIGAWORDS, ACCT_OUTPUT_GIGAWORDS = 49, 52, 53
NAS_PORT_ID = 87
_FOUR_BYTES = frozenset({
    SERVICE_TYPE, FRAMED_PROTOCOL, FRAMED_IP_ADDRESS, ACCT_STATUS_TYPE, ACCT_DELAY_TIME,
    ACCT_INPUT_OCTETS, ACCT_OUTPUT_OCTETS, ACCT_SESSION_TIME, ACCT_INPUT_PACKETS,
    ACCT_OUTPUT_PACKETS, ACCT_TERMINATE_CAUSE, ACCT_INPUT_GIGAWORDS, ACCT_OUTPUT_GIGAWORDS,
})  # fmt: skip
_KEPT = _FOUR_BYTES | {
    USER_NAME, CLASS, CALLED_STATION_ID, CALLING_STATION_ID, ACCT_SESSION_ID, NAS_PORT_ID,
}  # fmt: skip
_UINT32 = struct.Struct("!I")
_REPLY_HEADER = struct.Struct("!BBH")


@dataclass(frozen=True, slots=True)
class AcctRequest:
    """A received Accounting-Request: header fields, the raw packet (trimmed to Length),
    whether it has a Message-Authenticator, and the first value of each attribute kept."""

    code: int
    identifier: int
    authenticator: bytes
    raw: bytes
    message_authenticator_at: int | None  # where its value starts; None when absent
    values: dict[int, bytes]

    @property
    def has_message_authenticator(self) -> bool:
        return self.message_authenticator_at is not None

    def integer(self, kind: int) -> int | None:
        value = self.values.get(kind)
        return None if value is None else int(_UINT32.unpack(value)[0])

    def text(self, kind: int) -> str | None:
        value = self.values.get(kind)
        return None if value is None else value.decode("utf-8", "replace")


def decode_accounting(datagram: bytes) -> AcctRequest:
    """DecodeError (reason as codec.decode gives it) for anything malformed."""
    raw = trim(datagram)
    values: dict[int, bytes] = {}
    ma_at: int | None = None
    end = len(raw)
    offset = HEADER_LENGTH
    while offset < end:
        if offset + 2 > end:
            raise DecodeError("bad attributes")
        kind, length = raw[offset], raw[offset + 1]
        if length < 2 or offset + length > end:
            raise DecodeError("bad attributes")
        if kind == MESSAGE_AUTHENTICATOR:
            if length - 2 != AUTHENTICATOR_LENGTH or ma_at is not None:
                raise DecodeError("bad attributes")
            ma_at = offset + 2
        elif kind in _KEPT and kind not in values:
            if kind in _FOUR_BYTES and length != 6:
                raise DecodeError("undecodable attribute")
            values[kind] = raw[offset + 2 : offset + length]
        offset += length
    return AcctRequest(raw[0], raw[1], raw[4:HEADER_LENGTH], raw, ma_at, values)


def verify_request(request: AcctRequest, secret: bytes) -> bool:
    """RFC 2866 §3: the Request Authenticator is MD5 over the packet with a zero
    authenticator, then the secret; RFC 3579 §3.2 for a Message-Authenticator, if present."""
    raw = request.raw
    expected = hashlib.md5(raw[:4] + _ZERO + raw[HEADER_LENGTH:] + secret).digest()  # noqa: S324
    if not hmac.compare_digest(request.authenticator, expected):
        return False
    at = request.message_authenticator_at
    if at is None:
        return True
    # HMAC-MD5 over the packet with a zero authenticator and a zero MA value.
    zeroed = raw[:4] + _ZERO + raw[HEADER_LENGTH:at] + _ZERO + raw[at + AUTHENTICATOR_LENGTH :]
    mac = hmac.new(secret, zeroed, hashlib.md5).digest()
    return hmac.compare_digest(raw[at : at + AUTHENTICATOR_LENGTH], mac)


def accounting_response(request: AcctRequest, secret: bytes) -> bytes:
    """The signed reply: no attributes but the Message-Authenticator, first (Blast-RADIUS,
    as codec.encode_reply)."""
    length = HEADER_LENGTH + 2 + AUTHENTICATOR_LENGTH
    header = _REPLY_HEADER.pack(ACCOUNTING_RESPONSE, request.identifier, length)
    attribute = bytes((MESSAGE_AUTHENTICATOR, 2 + AUTHENTICATOR_LENGTH))
    # HMAC-MD5 over the reply with the request's authenticator and a zero MA value.
    mac = hmac.new(secret, header + request.authenticator + attribute + _ZERO, hashlib.md5).digest()
    body = attribute + mac
    signature = hashlib.md5(header + request.authenticator + body + secret).digest()  # noqa: S324
    return header + signature + body
