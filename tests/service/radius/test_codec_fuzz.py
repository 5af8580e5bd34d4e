"""Property-based fuzzing of the packet decoder: any bytes either decode or raise DecodeError."""

from __future__ import annotations

import contextlib
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from radius_service.radius.codec import DecodeError, decode


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        packet = decode(data)
    except DecodeError:
        return
    assert len(packet.raw) <= len(data)


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 255), st.binary(min_size=16, max_size=16), st.binary(max_size=300))
def test_a_valid_header_with_any_attributes_decodes_or_raises_decode_error(
    code: int, authenticator: bytes, body: bytes
) -> None:
    datagram = struct.pack("!BBH", code, 1, 20 + len(body)) + authenticator + body
    with contextlib.suppress(DecodeError):
        decode(datagram)
