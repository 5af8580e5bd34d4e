"""RADIUS packets to and from bytes, with pyrad's codec and our dictionaries (resources/radius).

Decoding is strict: anything malformed raises DecodeError with a short reason the listener
counts; it never answers such a packet. Every reply puts Message-Authenticator first
(Blast-RADIUS, protocols.md §4.5) and is signed by auth_methods.sign_response.
"""

from __future__ import annotations

import functools
import struct
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyrad.dictionary import Dictionary
from pyrad.packet import Packet

from radius_service import auth_methods
from radius_service.auth_methods import AUTHENTICATOR_LENGTH, HEADER_LENGTH, MalformedPacket

# A checkout (or an editable install) reads resources/radius beside the packages; a wheel
# installs the same files as data under <prefix>/share/easyisp/radius (pyproject data-files).
_SOURCE_DICTIONARIES = Path(__file__).resolve().parents[2] / "resources" / "radius"
_INSTALLED_DICTIONARIES = Path(sys.prefix) / "share" / "easyisp" / "radius"
DICTIONARY_DIR = _SOURCE_DICTIONARIES if _SOURCE_DICTIONARIES.is_dir() else _INSTALLED_DICTIONARIES
MAX_PACKET_LENGTH = 4096  # RFC 2865 §3

ACCESS_REQUEST = 1
ACCESS_ACCEPT = 2
ACCESS_REJECT = 3
STATUS_SERVER = 12  # RFC 5997

AttributeValue = str | int | bytes


class DecodeError(ValueError):
    """Not a packet we can read; `reason` is a short label for the drop counters."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@functools.cache
def dictionary() -> Dictionary:
    """The standard dictionary with the MikroTik and Microsoft vendor files it includes."""
    return Dictionary(str(DICTIONARY_DIR / "dictionary"))


@dataclass(frozen=True, slots=True)
class RadiusPacket:
    """A decoded packet: header fields, the raw bytes (trimmed to Length) and the attributes
    by dictionary name. Unknown attributes are kept under their numeric key's str()."""

    code: int
    identifier: int
    authenticator: bytes
    raw: bytes
    attributes: dict[str, list[Any]] = field(default_factory=dict)

    def first(self, name: str) -> Any | None:
        values = self.attributes.get(name)
        return values[0] if values else None

    def has(self, name: str) -> bool:
        return name in self.attributes

    def text(self, name: str) -> str | None:
        value = self.first(name)
        if value is None:
            return None
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return str(value)

    def octets(self, name: str) -> bytes | None:
        value = self.first(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, bytes):
            return value
        return None


def trim(datagram: bytes) -> bytes:
    """The packet inside a datagram: octets past the Length field are padding (RFC 2865 §3)."""
    if len(datagram) < HEADER_LENGTH:
        raise DecodeError("short header")
    (length,) = struct.unpack_from("!H", datagram, 2)
    if length < HEADER_LENGTH or length > MAX_PACKET_LENGTH:
        raise DecodeError("bad length")
    if length > len(datagram):
        raise DecodeError("truncated")
    return datagram[:length]


def decode(datagram: bytes) -> RadiusPacket:
    """Decode a received datagram; DecodeError for anything malformed."""
    raw = trim(datagram)
    try:
        # Walks every attribute header: pyrad alone accepts an attribute running off the end.
        auth_methods.message_authenticator_offset(raw)
    except MalformedPacket as exc:
        raise DecodeError("bad attributes") from exc
    packet = Packet(dict=dictionary(), secret=b"")
    try:
        packet.DecodePacket(raw)
        attributes = _decoded_attributes(packet)
    except Exception as exc:  # pyrad raises PacketError, struct.error, KeyError, UnicodeError...
        raise DecodeError("undecodable attribute") from exc
    return RadiusPacket(raw[0], raw[1], raw[4:HEADER_LENGTH], raw, attributes)


def _decoded_attributes(packet: Packet) -> dict[str, list[Any]]:
    result: dict[str, list[Any]] = {}
    for key in list(packet.keys()):
        name = key if isinstance(key, str) else str(key)
        values = packet[key]
        result[name] = list(values)
    return result


def encode_reply(
    code: int,
    request: RadiusPacket,
    attributes: Iterable[tuple[str, AttributeValue]],
    secret: bytes,
) -> bytes:
    """A signed reply to `request`: Message-Authenticator first, then `attributes` in order."""
    packet = Packet(
        code=code,
        id=request.identifier,
        secret=secret,
        authenticator=request.authenticator,
        dict=dictionary(),
    )
    packet.AddAttribute("Message-Authenticator", bytes(AUTHENTICATOR_LENGTH))
    for name, value in attributes:
        packet.AddAttribute(name, value)
    unsigned: bytes = packet.ReplyPacket()
    if len(unsigned) > MAX_PACKET_LENGTH:
        raise ValueError("the reply does not fit in a RADIUS packet")
    return auth_methods.sign_response(unsigned, request.authenticator, secret)


def encode_request(
    code: int,
    identifier: int,
    authenticator: bytes,
    attributes: Sequence[tuple[str, AttributeValue]],
    secret: bytes,
    *,
    message_authenticator: bool = True,
) -> bytes:
    """An Access-Request as a NAS sends it (for the simulator and the tests)."""
    packet = Packet(
        code=code, id=identifier, secret=secret, authenticator=authenticator, dict=dictionary()
    )
    if message_authenticator:
        packet.AddAttribute("Message-Authenticator", bytes(AUTHENTICATOR_LENGTH))
    for name, value in attributes:
        packet.AddAttribute(name, value)
    body: bytes = packet._PktEncodeAttributes()  # pyrad has no public form
    header = struct.pack("!BBH", code, identifier, HEADER_LENGTH + len(body))
    raw = header + authenticator + body
    if not message_authenticator:
        return raw
    offset = auth_methods.message_authenticator_offset(raw)
    assert offset is not None
    value = auth_methods.compute_message_authenticator(raw, secret)
    return raw[:offset] + value + raw[offset + AUTHENTICATOR_LENGTH :]


def decode_reply(datagram: bytes, request_authenticator: bytes, secret: bytes) -> RadiusPacket:
    """A reply as a NAS reads it: DecodeError unless it is well formed and correctly signed."""
    packet = decode(datagram)
    if not auth_methods.verify_response(packet.raw, request_authenticator, secret):
        raise DecodeError("bad response authenticator")
    return packet
