"""MD4 (RFC 1320) in pure Python, for the MS-CHAPv2 NT password hash.

OpenSSL 3 moved MD4 to its "legacy" provider, so `hashlib.new("md4")` fails on most current
systems. MS-CHAPv2 only ever hashes short inputs (a UTF-16 password, then a 16-byte hash), so a
small pure-Python implementation is fast enough and removes the dependency on how the system's
OpenSSL was built.
"""

from __future__ import annotations

import struct

_MASK = 0xFFFFFFFF
_INITIAL_STATE = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)

# Round 2 and 3 constants: sqrt(2) and sqrt(3) scaled to 32 bits (RFC 1320 §3.4).
_ROUND2_CONSTANT = 0x5A827999
_ROUND3_CONSTANT = 0x6ED9EBA1

# Word order and shift amounts per round, straight from RFC 1320 §3.4.
_ROUND1_ORDER = tuple(range(16))
_ROUND2_ORDER = (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)
_ROUND3_ORDER = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)
_ROUND1_SHIFTS = (3, 7, 11, 19)
_ROUND2_SHIFTS = (3, 5, 9, 13)
_ROUND3_SHIFTS = (3, 9, 11, 15)


def _rotate_left(value: int, count: int) -> int:
    value &= _MASK
    return ((value << count) | (value >> (32 - count))) & _MASK


def _compress(state: tuple[int, int, int, int], block: bytes) -> tuple[int, int, int, int]:
    x = struct.unpack("<16I", block)
    a, b, c, d = state

    for i, k in enumerate(_ROUND1_ORDER):
        f = (b & c) | (~b & d)
        a = _rotate_left(a + f + x[k], _ROUND1_SHIFTS[i % 4])
        a, b, c, d = d, a, b, c
    for i, k in enumerate(_ROUND2_ORDER):
        g = (b & c) | (b & d) | (c & d)
        a = _rotate_left(a + g + x[k] + _ROUND2_CONSTANT, _ROUND2_SHIFTS[i % 4])
        a, b, c, d = d, a, b, c
    for i, k in enumerate(_ROUND3_ORDER):
        h = b ^ c ^ d
        a = _rotate_left(a + h + x[k] + _ROUND3_CONSTANT, _ROUND3_SHIFTS[i % 4])
        a, b, c, d = d, a, b, c

    return (
        (state[0] + a) & _MASK,
        (state[1] + b) & _MASK,
        (state[2] + c) & _MASK,
        (state[3] + d) & _MASK,
    )


def md4(data: bytes) -> bytes:
    """The 16-byte MD4 digest of `data`."""
    bit_length = (len(data) * 8) & 0xFFFFFFFFFFFFFFFF
    # Pad with 0x80, zeros to 56 mod 64, then the message length in bits (little-endian).
    padded = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack("<Q", bit_length)
    state = _INITIAL_STATE
    for offset in range(0, len(padded), 64):
        state = _compress(state, padded[offset : offset + 64])
    return struct.pack("<4I", *state)
