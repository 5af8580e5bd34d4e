"""RADIUS authentication cryptography over bytes: PAP, CHAP, MS-CHAPv2 with MPPE keys, and the
packet authenticators (Message-Authenticator, response and request authenticators).

Pure functions with no packet library: the listener hands in attribute values and raw packets.
Every comparison of a secret-derived value is constant-time. References: RFC 2865 §3 and §5.2
(PAP, authenticators), RFC 1994 (CHAP), RFC 2759 (MS-CHAPv2), RFC 3079 (MPPE keys), RFC 2548
(MS-CHAP attributes and key encryption), RFC 3579 §3.2 and RFC 5176 §3.3 (Message-Authenticator).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from radius_service.md4 import md4

AUTHENTICATOR_LENGTH = 16
HEADER_LENGTH = 20
MAX_PASSWORD_LENGTH = 128
MESSAGE_AUTHENTICATOR = 80

_BLOCK = 16
_ZERO_AUTHENTICATOR = bytes(AUTHENTICATOR_LENGTH)

# RFC 2759 §8.7 magic strings.
_MAGIC1 = b"Magic server to client signing constant"
_MAGIC2 = b"Pad to make it do more than one iteration"
# RFC 3079 §3.4 magic strings.
_MPPE_MASTER_MAGIC = b"This is the MPPE Master Key"
_MPPE_MAGIC_A = (
    b"On the client side, this is the send key; on the server side, it is the receive key."
)
_MPPE_MAGIC_B = (
    b"On the client side, this is the receive key; on the server side, it is the send key."
)
_SHS_PAD1 = b"\x00" * 40
_SHS_PAD2 = b"\xf2" * 40
_MPPE_KEY_LENGTH = 16


class MalformedPacket(ValueError):
    """The raw packet's header or attribute lengths do not add up."""


def _md5(*parts: bytes) -> bytes:
    # RADIUS itself mandates MD5 here; it is not a choice we could make stronger.
    digest = hashlib.md5(usedforsecurity=False)
    for part in parts:
        digest.update(part)
    return digest.digest()


def _xor(left: bytes, right: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(left, right, strict=True))


def _require_authenticator(authenticator: bytes) -> None:
    if len(authenticator) != AUTHENTICATOR_LENGTH:
        raise ValueError("a RADIUS authenticator is 16 bytes")


def _md5_chain(data: bytes, secret: bytes, first_vector: bytes, *, decrypt: bool) -> bytes:
    """RFC 2865 §5.2: c1 = p1 ^ MD5(S + vector), ci = pi ^ MD5(S + c(i-1)). Each block chains
    on the ciphertext: the output when hiding, the input when unhiding."""
    out = bytearray()
    previous = first_vector
    for offset in range(0, len(data), _BLOCK):
        block = data[offset : offset + _BLOCK]
        result = _xor(block, _md5(secret, previous))
        out += result
        previous = block if decrypt else result
    return bytes(out)


# --- PAP (RFC 2865 §5.2) ---------------------------------------------------------------


def hide_password(password: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """The User-Password value for `password` (what a NAS sends)."""
    _require_authenticator(authenticator)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError("a User-Password holds at most 128 bytes")
    # NUL-pad to whole blocks; an empty password still takes one, as the attribute cannot be empty.
    length = max(_BLOCK, -(-len(password) // _BLOCK) * _BLOCK)
    padded = password.ljust(length, b"\x00")
    return _md5_chain(padded, secret, authenticator, decrypt=False)


def unhide_password(hidden: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """The cleartext password from a User-Password value, NUL padding removed.

    Raises ValueError for a length that is not 16..128 in steps of 16: such a value was not
    made by RFC 2865 hiding, and guessing at it would only hide a broken NAS or an attack.
    """
    _require_authenticator(authenticator)
    if not hidden or len(hidden) % _BLOCK or len(hidden) > MAX_PASSWORD_LENGTH:
        raise ValueError("a User-Password is 16 to 128 bytes in steps of 16")
    return _md5_chain(hidden, secret, authenticator, decrypt=True).rstrip(b"\x00")


def verify_pap(hidden: bytes, secret: bytes, authenticator: bytes, password: bytes) -> bool:
    """Whether the User-Password value hides `password`; False for a malformed value."""
    try:
        offered = unhide_password(hidden, secret, authenticator)
    except ValueError:
        return False
    return hmac.compare_digest(offered, password)


# --- CHAP (RFC 1994, RFC 2865 §2.2 and §5.3) ----------------------------------------------


def chap_challenge(chap_challenge_attribute: bytes | None, request_authenticator: bytes) -> bytes:
    """The challenge a CHAP-Password answers: CHAP-Challenge if sent, else the authenticator."""
    if chap_challenge_attribute:
        return chap_challenge_attribute
    _require_authenticator(request_authenticator)
    return request_authenticator


def chap_response(ident: int, password: bytes, challenge: bytes) -> bytes:
    """MD5(ident + password + challenge): what a client puts after the ident octet."""
    return _md5(bytes([ident]), password, challenge)


def chap_password(ident: int, password: bytes, challenge: bytes) -> bytes:
    """A whole CHAP-Password value (ident + response), as a NAS or a test client builds it."""
    return bytes([ident]) + chap_response(ident, password, challenge)


def verify_chap(chap_password_value: bytes, password: bytes, challenge: bytes) -> bool:
    """Whether a 17-byte CHAP-Password answers `challenge` with `password`."""
    if len(chap_password_value) != 1 + AUTHENTICATOR_LENGTH:
        return False
    expected = chap_response(chap_password_value[0], password, challenge)
    return hmac.compare_digest(chap_password_value[1:], expected)


# --- MS-CHAPv2 (RFC 2759, carried per RFC 2548) -------------------------------------------


@dataclass(frozen=True, slots=True)
class MsChap2Response:
    """The 50-byte MS-CHAP2-Response attribute, split into its fields."""

    ident: int
    flags: int
    peer_challenge: bytes
    nt_response: bytes

    @classmethod
    def parse(cls, value: bytes) -> MsChap2Response:
        if len(value) != 50:
            raise ValueError("MS-CHAP2-Response is 50 bytes")
        # Ident (1), Flags (1), Peer-Challenge (16), Reserved (8, ignored), NT-Response (24).
        return cls(value[0], value[1], value[2:18], value[26:50])

    def encode(self) -> bytes:
        return bytes([self.ident, self.flags]) + self.peer_challenge + bytes(8) + self.nt_response


@dataclass(frozen=True, slots=True)
class MsChap2Result:
    """A verified MS-CHAPv2 login: what the Access-Accept must carry."""

    success: bytes  # the MS-CHAP2-Success value: ident + "S=<40 hex>"
    send_key: bytes  # the NAS's MPPE send key, cleartext; encrypt with encrypt_mppe_key
    recv_key: bytes  # the NAS's MPPE receive key, cleartext


def nt_password_hash(password: str) -> bytes:
    """NtPasswordHash: MD4 of the UTF-16LE password (RFC 2759 §8.3)."""
    return md4(password.encode("utf-16-le"))


def _strip_domain(username: str) -> str:
    # Windows sends DOMAIN\user; the hash covers the user part only (RFC 2759 §8.2).
    return username.rsplit("\\", 1)[-1]


def challenge_hash(peer_challenge: bytes, authenticator_challenge: bytes, username: str) -> bytes:
    """ChallengeHash: the first 8 bytes of SHA1(peer + authenticator challenge + user name)."""
    if len(peer_challenge) != 16 or len(authenticator_challenge) != 16:
        raise ValueError("MS-CHAPv2 challenges are 16 bytes")
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(peer_challenge)
    digest.update(authenticator_challenge)
    digest.update(_strip_domain(username).encode("utf-8"))
    return digest.digest()[:8]


def _des_key(seven: bytes) -> bytes:
    """Spread 56 key bits over 8 bytes, 7 per byte; DES ignores the low (parity) bit."""
    bits = int.from_bytes(seven, "big")
    return bytes(((bits >> (49 - 7 * i)) & 0x7F) << 1 for i in range(8))


def _des_encrypt(seven_byte_key: bytes, block: bytes) -> bytes:
    # Triple DES with the key thrice is single DES; plain DES is not offered on its own.
    key = _des_key(seven_byte_key)
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # noqa: S305 (one block)
    return encryptor.update(block) + encryptor.finalize()


def challenge_response(challenge: bytes, password_hash: bytes) -> bytes:
    """ChallengeResponse (RFC 2759 §8.5): DES of the 8-byte challenge under three 7-byte
    pieces of the zero-padded 21-byte password hash."""
    if len(challenge) != 8 or len(password_hash) != 16:
        raise ValueError("needs an 8-byte challenge and a 16-byte password hash")
    key = password_hash + bytes(5)
    return b"".join(_des_encrypt(key[i : i + 7], challenge) for i in (0, 7, 14))


def generate_nt_response(
    authenticator_challenge: bytes, peer_challenge: bytes, username: str, password_hash: bytes
) -> bytes:
    """The 24-byte NT-Response a client computes (RFC 2759 §8.1)."""
    return challenge_response(
        challenge_hash(peer_challenge, authenticator_challenge, username), password_hash
    )


def authenticator_response(
    password_hash: bytes,
    nt_response: bytes,
    peer_challenge: bytes,
    authenticator_challenge: bytes,
    username: str,
) -> bytes:
    """The "S=<40 upper-case hex>" proof that the server knows the password (RFC 2759 §8.7)."""
    password_hash_hash = md4(password_hash)
    digest = hashlib.sha1(password_hash_hash + nt_response + _MAGIC1, usedforsecurity=False)
    chal = challenge_hash(peer_challenge, authenticator_challenge, username)
    final = hashlib.sha1(digest.digest() + chal + _MAGIC2, usedforsecurity=False)
    return b"S=" + final.hexdigest().upper().encode("ascii")


def mschap2_success(ident: int, auth_response: bytes) -> bytes:
    """The MS-CHAP2-Success value: the response's ident, then "S=..." (43 bytes)."""
    return bytes([ident]) + auth_response


def mschap_error(ident: int, challenge: bytes, message: str = "Authentication failed") -> bytes:
    """An MS-CHAP-Error value for an Access-Reject: E=691 (bad password), no retry.

    `challenge` is 16 fresh random bytes; the client would use it for a retry it is told
    not to attempt, but the field must be present for clients to parse the error.
    """
    if len(challenge) != 16:
        raise ValueError("the challenge is 16 bytes")
    text = f"E=691 R=0 C={challenge.hex().upper()} V=3 M={message}"
    return bytes([ident]) + text.encode("ascii", "replace")


def verify_mschapv2_hash(
    username: str, password_hash: bytes, authenticator_challenge: bytes, response: bytes
) -> MsChap2Result | None:
    """Check an MS-CHAP2-Response against an NT password hash; None when it does not match.

    The hash form lets a server cache NtPasswordHash instead of recomputing MD4 per login.
    Malformed attributes (wrong lengths) also give None: to the client it is a failed login.
    """
    try:
        parsed = MsChap2Response.parse(response)
        expected = generate_nt_response(
            authenticator_challenge, parsed.peer_challenge, username, password_hash
        )
    except ValueError:
        return None
    if not hmac.compare_digest(expected, parsed.nt_response):
        return None
    proof = authenticator_response(
        password_hash, parsed.nt_response, parsed.peer_challenge, authenticator_challenge, username
    )
    send_key, recv_key = mppe_nas_keys(password_hash, parsed.nt_response)
    return MsChap2Result(mschap2_success(parsed.ident, proof), send_key, recv_key)


def verify_mschapv2(
    username: str, password: str, authenticator_challenge: bytes, response: bytes
) -> MsChap2Result | None:
    """Check an MS-CHAP2-Response against the cleartext password."""
    return verify_mschapv2_hash(
        username, nt_password_hash(password), authenticator_challenge, response
    )


# --- MPPE keys (RFC 3079 §3) and their RADIUS encryption (RFC 2548 §2.4.2-3) -------------------


def mppe_master_key(password_hash_hash: bytes, nt_response: bytes) -> bytes:
    return hashlib.sha1(
        password_hash_hash + nt_response + _MPPE_MASTER_MAGIC, usedforsecurity=False
    ).digest()[:_MPPE_KEY_LENGTH]


def mppe_start_key(master_key: bytes, *, is_send: bool, is_server: bool) -> bytes:
    """GetAsymmetricStartKey (128-bit): the server's send key is the client's receive key."""
    magic = _MPPE_MAGIC_B if is_send == is_server else _MPPE_MAGIC_A
    digest = hashlib.sha1(
        master_key + _SHS_PAD1 + magic + _SHS_PAD2, usedforsecurity=False
    ).digest()
    return digest[:_MPPE_KEY_LENGTH]


def mppe_nas_keys(password_hash: bytes, nt_response: bytes) -> tuple[bytes, bytes]:
    """(send key, receive key) for the NAS, which is the PPP server end of the link."""
    master = mppe_master_key(md4(password_hash), nt_response)
    return (
        mppe_start_key(master, is_send=True, is_server=True),
        mppe_start_key(master, is_send=False, is_server=True),
    )


def encrypt_mppe_key(key: bytes, secret: bytes, request_authenticator: bytes, salt: bytes) -> bytes:
    """An MS-MPPE-Send-Key / -Recv-Key value: salt + the key hidden RFC 2548 style.

    `salt` is 2 bytes with the top bit set, different for each key attribute in a reply.
    """
    _require_authenticator(request_authenticator)
    if len(salt) != 2 or not salt[0] & 0x80:
        raise ValueError("the salt is 2 bytes with the most significant bit set")
    if not key or len(key) > 255:
        raise ValueError("a key is 1 to 255 bytes")
    plain = bytes([len(key)]) + key
    plain += bytes(-len(plain) % _BLOCK)
    return salt + _md5_chain(plain, secret, request_authenticator + salt, decrypt=False)


def decrypt_mppe_key(value: bytes, secret: bytes, request_authenticator: bytes) -> bytes:
    """The key inside an MS-MPPE-*-Key value (what the NAS does; used by tests and the
    NAS simulator)."""
    _require_authenticator(request_authenticator)
    salt, cipher = value[:2], value[2:]
    if len(salt) != 2 or not salt[0] & 0x80 or not cipher or len(cipher) % _BLOCK:
        raise ValueError("not an RFC 2548 encrypted key")
    plain = _md5_chain(cipher, secret, request_authenticator + salt, decrypt=True)
    length = plain[0]
    if length == 0 or length > len(plain) - 1:
        raise ValueError("wrong secret or authenticator: the key length does not fit")
    return plain[1 : 1 + length]


def mppe_key_attributes(
    send_key: bytes, recv_key: bytes, secret: bytes, request_authenticator: bytes, seed: bytes
) -> tuple[bytes, bytes]:
    """(MS-MPPE-Send-Key, MS-MPPE-Recv-Key) values from 2 random `seed` bytes.

    The two salts come from one seed differing in the low bit, so they are always distinct
    within the reply as RFC 2548 requires, and always have the top bit set.
    """
    if len(seed) != 2:
        raise ValueError("the seed is 2 bytes")
    base = (int.from_bytes(seed, "big") | 0x8000) & 0xFFFE
    return (
        encrypt_mppe_key(send_key, secret, request_authenticator, base.to_bytes(2, "big")),
        encrypt_mppe_key(recv_key, secret, request_authenticator, (base | 1).to_bytes(2, "big")),
    )


# --- Packet authenticators (RFC 2865 §3, RFC 2866 §3, RFC 3579 §3.2, RFC 5176 §3.3) ----------


def _walk_attributes(packet: bytes) -> Iterator[tuple[int, int, int]]:
    """(type, offset of the value, value length) for each attribute of a raw packet."""
    if len(packet) < HEADER_LENGTH:
        raise MalformedPacket("shorter than the RADIUS header")
    (declared,) = struct.unpack_from("!H", packet, 2)
    if declared != len(packet):
        # The listener trims datagram padding to the Length field before calling in here.
        raise MalformedPacket("the Length field does not match the packet")
    offset = HEADER_LENGTH
    while offset < len(packet):
        if offset + 2 > len(packet):
            raise MalformedPacket("truncated attribute header")
        kind, length = packet[offset], packet[offset + 1]
        if length < 2 or offset + length > len(packet):
            raise MalformedPacket("attribute length out of range")
        yield kind, offset + 2, length - 2
        offset += length


def message_authenticator_offset(packet: bytes) -> int | None:
    """Where the Message-Authenticator's 16-byte value starts, or None when absent.

    Raises MalformedPacket for bad lengths, a wrong-sized or repeated Message-Authenticator
    (RFC 3579 allows one).
    """
    found: int | None = None
    for kind, offset, length in _walk_attributes(packet):
        if kind != MESSAGE_AUTHENTICATOR:
            continue
        if length != AUTHENTICATOR_LENGTH:
            raise MalformedPacket("Message-Authenticator must hold 16 bytes")
        if found is not None:
            raise MalformedPacket("more than one Message-Authenticator")
        found = offset
    return found


def _with_authenticator(packet: bytes, authenticator: bytes | None) -> bytearray:
    work = bytearray(packet)
    if authenticator is not None:
        _require_authenticator(authenticator)
        work[4:HEADER_LENGTH] = authenticator
    return work


def compute_message_authenticator(
    packet: bytes, secret: bytes, authenticator: bytes | None = None
) -> bytes:
    """HMAC-MD5(secret) over the packet with the Message-Authenticator value zeroed.

    `authenticator` replaces the header's while hashing: the Access-Request's authenticator
    for a reply to it, 16 zero bytes for Accounting/CoA/Disconnect requests and their replies;
    None hashes the header as it is (an Access-Request's own random authenticator).
    """
    offset = message_authenticator_offset(packet)
    if offset is None:
        raise ValueError("the packet has no Message-Authenticator")
    work = _with_authenticator(packet, authenticator)
    work[offset : offset + AUTHENTICATOR_LENGTH] = _ZERO_AUTHENTICATOR
    return hmac.new(secret, bytes(work), hashlib.md5).digest()


def verify_message_authenticator(
    packet: bytes, secret: bytes, authenticator: bytes | None = None
) -> bool:
    """Whether the packet carries a valid Message-Authenticator (False when absent or when the
    packet is malformed; check `message_authenticator_offset` to tell "absent" apart)."""
    try:
        offset = message_authenticator_offset(packet)
        if offset is None:
            return False
        expected = compute_message_authenticator(packet, secret, authenticator)
    except ValueError:
        return False
    return hmac.compare_digest(packet[offset : offset + AUTHENTICATOR_LENGTH], expected)


def response_authenticator(packet: bytes, request_authenticator: bytes, secret: bytes) -> bytes:
    """MD5(code + id + length + request authenticator + attributes + secret)."""
    message_authenticator_offset(packet)  # refuses a malformed packet before hashing it
    return _md5(bytes(_with_authenticator(packet, request_authenticator)), secret)


def _sign(packet: bytes, vector: bytes, secret: bytes) -> bytes:
    # RFC 3579 §3.2 order: the Message-Authenticator first (over the vector), then the
    # authenticator over the packet that already holds the final Message-Authenticator.
    work = bytearray(packet)
    offset = message_authenticator_offset(packet)
    if offset is not None:
        value = compute_message_authenticator(packet, secret, vector)
        work[offset : offset + AUTHENTICATOR_LENGTH] = value
    work[4:HEADER_LENGTH] = response_authenticator(bytes(work), vector, secret)
    return bytes(work)


def _verify_signed(packet: bytes, vector: bytes, secret: bytes) -> bool:
    try:
        has_ma = message_authenticator_offset(packet) is not None
        expected = response_authenticator(packet, vector, secret)
    except ValueError:
        return False
    if not hmac.compare_digest(packet[4:HEADER_LENGTH], expected):
        return False
    return not has_ma or verify_message_authenticator(packet, secret, vector)


def sign_response(packet: bytes, request_authenticator: bytes, secret: bytes) -> bytes:
    """The reply ready to send: its Message-Authenticator (if it has one, any placeholder
    value) computed with the request's authenticator, then the Response Authenticator."""
    return _sign(packet, request_authenticator, secret)


def verify_response(packet: bytes, request_authenticator: bytes, secret: bytes) -> bool:
    """What a NAS checks in a reply: the Response Authenticator and, if present, the
    Message-Authenticator (for the NAS simulator and the CoA client)."""
    return _verify_signed(packet, request_authenticator, secret)


def sign_request(packet: bytes, secret: bytes) -> bytes:
    """An Accounting-, CoA- or Disconnect-Request ready to send: Message-Authenticator (if
    present) and Request Authenticator, both computed over a zero authenticator."""
    return _sign(packet, _ZERO_AUTHENTICATOR, secret)


def verify_request_authenticator(packet: bytes, secret: bytes) -> bool:
    """Whether an Accounting-, CoA- or Disconnect-Request was signed with `secret`, including
    its Message-Authenticator when it has one."""
    return _verify_signed(packet, _ZERO_AUTHENTICATOR, secret)
