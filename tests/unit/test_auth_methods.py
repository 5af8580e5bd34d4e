"""RADIUS authentication cryptography against the RFC test vectors (protocols.md §4.2-4.7),
cross-checked with pyrad where it implements the same thing."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyrad import packet as pyrad_packet
from pyrad.dictionary import Dictionary

from radius_service.auth_methods import (
    MalformedPacket,
    MsChap2Response,
    authenticator_response,
    challenge_hash,
    chap_challenge,
    chap_password,
    compute_message_authenticator,
    decrypt_mppe_key,
    encrypt_mppe_key,
    generate_nt_response,
    hide_password,
    message_authenticator_offset,
    mppe_key_attributes,
    mppe_master_key,
    mppe_nas_keys,
    mppe_start_key,
    mschap2_success,
    mschap_error,
    nt_password_hash,
    response_authenticator,
    sign_request,
    sign_response,
    unhide_password,
    verify_chap,
    verify_message_authenticator,
    verify_mschapv2,
    verify_mschapv2_hash,
    verify_pap,
    verify_request_authenticator,
    verify_response,
)
from radius_service.md4 import md4

H = bytes.fromhex
DICTIONARY = Path(__file__).parents[2] / "resources" / "radius" / "dictionary"


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


@pytest.fixture(scope="module")
def dictionary() -> Dictionary:
    return Dictionary(str(DICTIONARY))


# RFC 2865 §7.1
SECRET = b"xyzzy5461"
REQUEST_AUTH = H("0f403f9473978057bd83d5cb98f4227a")
HIDDEN_ARCTANGENT = H("0dbe708d93d413ce3196e43f782a0aee")
RFC2865_REQUEST = H(
    "010000380f403f9473978057bd83d5cb98f4227a01066e656d6f02120dbe708d93d413ce3196e43f"
    "782a0aee0406c0a80110050600000003"
)
RFC2865_ACCEPT_UNSIGNED = H("02000026") + REQUEST_AUTH + H("0606000000010f06000000000e06c0a80103")
RFC2865_RESPONSE_AUTH = H("86fe220e7624ba2a1005f6bf9b55e0b2")

# RFC 2759 §9.2
USER = "User"
PASSWORD = "clientPass"
AUTH_CHALLENGE = H("5B5D7C7D7B3F2F3E3C2C602132262628")
PEER_CHALLENGE = H("21402324255E262A28295F2B3A337C7E")
CHALLENGE_HASH = H("D02E4386BCE91226")
PASSWORD_HASH = H("44EBBA8D5312B8D611474411F56989AE")
NT_RESPONSE = H("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF")
PASSWORD_HASH_HASH = H("41C00C584BD2D91C4017A2A12FA59F3F")
AUTH_RESPONSE = b"S=407A5589115FD0D6209F510FE9C04566932CDA56"

# RFC 3079 §3.5.3 (128-bit keys from the same inputs)
MASTER_KEY = H("FDECE3717A8C838CB388E527AE3CDD31")
NAS_SEND_KEY = H("8B7CDC149B993A1BA118CB153F56DCCB")
NAS_RECV_KEY = H("D5F0E9521E3EA9589645E86051C82226")


# --- MD4 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "digest"),
    [
        (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
        (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
        (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
        (b"message digest", "d9130a8164549fe818874806e1c7014b"),
        (b"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"),
        (
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "043f8582f241db351ce627e153e7f0e4",
        ),
        (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),
    ],
)
def test_md4_matches_the_rfc_1320_suite(message: bytes, digest: str) -> None:
    assert md4(message).hex() == digest


@pytest.mark.parametrize("length", [55, 56, 63, 64, 65, 119, 120, 128])
def test_md4_pads_every_length_around_the_block_boundary(length: int) -> None:
    # Differing inputs that only differ in length must not collide through bad padding.
    assert md4(b"\x00" * length) != md4(b"\x00" * (length + 1))
    assert len(md4(b"x" * length)) == 16


# --- PAP -------------------------------------------------------------------------------------


def test_pap_hides_the_rfc_2865_example() -> None:
    assert hide_password(b"arctangent", SECRET, REQUEST_AUTH) == HIDDEN_ARCTANGENT
    assert RFC2865_REQUEST[20 + 6 + 2 : 20 + 6 + 18] == HIDDEN_ARCTANGENT


def test_pap_unhides_the_rfc_2865_example() -> None:
    assert unhide_password(HIDDEN_ARCTANGENT, SECRET, REQUEST_AUTH) == b"arctangent"


def test_pap_verification_accepts_the_password_and_nothing_else() -> None:
    assert verify_pap(HIDDEN_ARCTANGENT, SECRET, REQUEST_AUTH, b"arctangent")
    assert not verify_pap(HIDDEN_ARCTANGENT, SECRET, REQUEST_AUTH, b"arctangen")
    assert not verify_pap(HIDDEN_ARCTANGENT, b"other-secret", REQUEST_AUTH, b"arctangent")
    assert not verify_pap(HIDDEN_ARCTANGENT[:15], SECRET, REQUEST_AUTH, b"arctangent")


def test_pap_agrees_with_pyrad_on_multi_block_passwords() -> None:
    request = pyrad_packet.AuthPacket(secret=SECRET, authenticator=REQUEST_AUTH)
    password = "a much longer PPPoE password, 3 blocks"
    hidden = hide_password(password.encode(), SECRET, REQUEST_AUTH)
    assert len(hidden) == 48
    assert hidden == request.PwCrypt(password)
    assert request.PwDecrypt(hidden) == password


def test_an_empty_password_still_fills_one_block() -> None:
    hidden = hide_password(b"", SECRET, REQUEST_AUTH)
    assert len(hidden) == 16
    assert unhide_password(hidden, SECRET, REQUEST_AUTH) == b""


@pytest.mark.parametrize("length", [0, 1, 15, 17, 144, 160])
def test_user_password_values_of_impossible_length_are_refused(length: int) -> None:
    with pytest.raises(ValueError, match="16 to 128"):
        unhide_password(b"\x01" * length, SECRET, REQUEST_AUTH)


def test_passwords_over_128_bytes_and_short_authenticators_are_refused() -> None:
    with pytest.raises(ValueError, match="128"):
        hide_password(b"x" * 129, SECRET, REQUEST_AUTH)
    with pytest.raises(ValueError, match="16 bytes"):
        unhide_password(HIDDEN_ARCTANGENT, SECRET, REQUEST_AUTH[:8])


@given(
    password=st.binary(max_size=128).filter(lambda p: not p.endswith(b"\x00")),
    secret=st.binary(max_size=64),
    authenticator=st.binary(min_size=16, max_size=16),
)
def test_pap_hide_and_unhide_round_trip(
    password: bytes, secret: bytes, authenticator: bytes
) -> None:
    hidden = hide_password(password, secret, authenticator)
    assert len(hidden) % 16 == 0
    assert 16 <= len(hidden) <= 128
    assert unhide_password(hidden, secret, authenticator) == password


# --- CHAP ------------------------------------------------------------------------------------

CHAP_CHALLENGE = H("8a4bd12ef0c3577e19a36d5b2c44f109")


def test_chap_answers_md5_of_ident_password_challenge() -> None:
    value = chap_password(0x2A, b"s3cret", CHAP_CHALLENGE)
    assert value == b"\x2a" + _md5(b"\x2a" + b"s3cret" + CHAP_CHALLENGE)
    assert verify_chap(value, b"s3cret", CHAP_CHALLENGE)
    assert not verify_chap(value, b"s3cret!", CHAP_CHALLENGE)
    assert not verify_chap(value, b"s3cret", REQUEST_AUTH)


def test_chap_uses_chap_challenge_when_sent_else_the_request_authenticator() -> None:
    assert chap_challenge(CHAP_CHALLENGE, REQUEST_AUTH) == CHAP_CHALLENGE
    assert chap_challenge(None, REQUEST_AUTH) == REQUEST_AUTH
    assert chap_challenge(b"", REQUEST_AUTH) == REQUEST_AUTH


@pytest.mark.parametrize("length", [0, 1, 16, 18])
def test_a_chap_password_of_the_wrong_length_fails(length: int) -> None:
    assert not verify_chap(b"\x01" * length, b"s3cret", CHAP_CHALLENGE)


@pytest.mark.parametrize("with_challenge", [True, False])
def test_chap_agrees_with_pyrad(with_challenge: bool, dictionary: Dictionary) -> None:
    request = pyrad_packet.AuthPacket(secret=SECRET, authenticator=REQUEST_AUTH, dict=dictionary)
    challenge = chap_challenge(CHAP_CHALLENGE if with_challenge else None, REQUEST_AUTH)
    request["CHAP-Password"] = chap_password(7, b"hotspot-pass", challenge)
    if with_challenge:
        request["CHAP-Challenge"] = CHAP_CHALLENGE
    assert request.VerifyChapPasswd(b"hotspot-pass")


# --- MS-CHAPv2 -------------------------------------------------------------------------------


def test_mschapv2_intermediate_values_match_rfc_2759() -> None:
    assert nt_password_hash(PASSWORD) == PASSWORD_HASH
    assert md4(PASSWORD_HASH) == PASSWORD_HASH_HASH
    assert challenge_hash(PEER_CHALLENGE, AUTH_CHALLENGE, USER) == CHALLENGE_HASH
    assert generate_nt_response(AUTH_CHALLENGE, PEER_CHALLENGE, USER, PASSWORD_HASH) == (
        NT_RESPONSE
    )
    assert (
        authenticator_response(PASSWORD_HASH, NT_RESPONSE, PEER_CHALLENGE, AUTH_CHALLENGE, USER)
        == AUTH_RESPONSE
    )


def _response(ident: int = 0x17, nt_response: bytes = NT_RESPONSE) -> bytes:
    return MsChap2Response(ident, 0, PEER_CHALLENGE, nt_response).encode()


def test_mschapv2_response_attribute_layout() -> None:
    value = _response()
    assert len(value) == 50
    assert value[2:18] == PEER_CHALLENGE
    assert value[18:26] == bytes(8)
    assert MsChap2Response.parse(value) == MsChap2Response(0x17, 0, PEER_CHALLENGE, NT_RESPONSE)


def test_mschapv2_success_carries_the_ident_and_the_authenticator_response() -> None:
    result = verify_mschapv2(USER, PASSWORD, AUTH_CHALLENGE, _response(0x17))
    assert result is not None
    assert result.success == b"\x17" + AUTH_RESPONSE
    assert len(result.success) == 43
    assert result.success == mschap2_success(0x17, AUTH_RESPONSE)
    assert (result.send_key, result.recv_key) == (NAS_SEND_KEY, NAS_RECV_KEY)


def test_mschapv2_works_from_a_cached_nt_hash() -> None:
    result = verify_mschapv2_hash(USER, PASSWORD_HASH, AUTH_CHALLENGE, _response())
    assert result is not None
    assert result.send_key == NAS_SEND_KEY


def test_mschapv2_ignores_a_windows_domain_prefix() -> None:
    assert verify_mschapv2("WORKGROUP\\User", PASSWORD, AUTH_CHALLENGE, _response()) is not None


@pytest.mark.parametrize(
    ("username", "password", "challenge", "response"),
    [
        (USER, "clientPass!", AUTH_CHALLENGE, _response()),
        ("Other", PASSWORD, AUTH_CHALLENGE, _response()),
        (USER, PASSWORD, bytes(16), _response()),
        (USER, PASSWORD, AUTH_CHALLENGE, _response(nt_response=bytes(24))),
        (USER, PASSWORD, AUTH_CHALLENGE, _response()[:49]),
        (USER, PASSWORD, AUTH_CHALLENGE[:8], _response()),
    ],
    ids=["password", "user name", "challenge", "nt response", "short attribute", "short challenge"],
)
def test_mschapv2_fails_on_any_mismatch(
    username: str, password: str, challenge: bytes, response: bytes
) -> None:
    assert verify_mschapv2(username, password, challenge, response) is None


def test_mschap_error_is_the_ident_then_the_rfc_2759_failure_text() -> None:
    value = mschap_error(0x17, bytes(range(16)), "Wrong password")
    assert value == b"\x17E=691 R=0 C=000102030405060708090A0B0C0D0E0F V=3 M=Wrong password"


# --- MPPE keys -------------------------------------------------------------------------------


def test_mppe_keys_match_rfc_3079() -> None:
    assert mppe_master_key(PASSWORD_HASH_HASH, NT_RESPONSE) == MASTER_KEY
    assert mppe_nas_keys(PASSWORD_HASH, NT_RESPONSE) == (NAS_SEND_KEY, NAS_RECV_KEY)


def test_each_sides_send_key_is_the_other_sides_receive_key() -> None:
    client_send = mppe_start_key(MASTER_KEY, is_send=True, is_server=False)
    client_recv = mppe_start_key(MASTER_KEY, is_send=False, is_server=False)
    assert client_send == NAS_RECV_KEY
    assert client_recv == NAS_SEND_KEY


def test_an_mppe_key_attribute_is_salt_then_the_md5_chain_over_length_key_and_padding() -> None:
    salt = H("8123")
    value = encrypt_mppe_key(NAS_SEND_KEY, SECRET, REQUEST_AUTH, salt)
    # Built by hand from RFC 2548 §2.4.2: P = len(16) + key + 15 zero bytes, two blocks.
    plain = bytes([16]) + NAS_SEND_KEY + bytes(15)
    c1 = bytes(a ^ b for a, b in zip(plain[:16], _md5(SECRET + REQUEST_AUTH + salt), strict=True))
    c2 = bytes(a ^ b for a, b in zip(plain[16:], _md5(SECRET + c1), strict=True))
    assert value == salt + c1 + c2
    assert decrypt_mppe_key(value, SECRET, REQUEST_AUTH) == NAS_SEND_KEY


def test_mppe_key_encryption_agrees_with_pyrads_salt_decryption() -> None:
    reply = pyrad_packet.AuthPacket(
        code=pyrad_packet.AccessAccept, secret=SECRET, authenticator=REQUEST_AUTH
    )
    reply.request_authenticator = REQUEST_AUTH
    send, recv = mppe_key_attributes(NAS_SEND_KEY, NAS_RECV_KEY, SECRET, REQUEST_AUTH, H("1234"))
    assert reply.SaltDecrypt(send) == NAS_SEND_KEY
    assert reply.SaltDecrypt(recv) == NAS_RECV_KEY


@given(seed=st.binary(min_size=2, max_size=2))
def test_the_two_key_salts_always_differ_and_have_the_top_bit_set(seed: bytes) -> None:
    send, recv = mppe_key_attributes(NAS_SEND_KEY, NAS_RECV_KEY, SECRET, REQUEST_AUTH, seed)
    assert send[:2] != recv[:2]
    assert send[0] & 0x80
    assert recv[0] & 0x80
    assert decrypt_mppe_key(send, SECRET, REQUEST_AUTH) == NAS_SEND_KEY
    assert decrypt_mppe_key(recv, SECRET, REQUEST_AUTH) == NAS_RECV_KEY


@pytest.mark.parametrize("salt", [H("0123"), H("80"), H("800000")])
def test_a_salt_must_be_two_bytes_with_the_top_bit_set(salt: bytes) -> None:
    with pytest.raises(ValueError, match="salt"):
        encrypt_mppe_key(NAS_SEND_KEY, SECRET, REQUEST_AUTH, salt)


@pytest.mark.parametrize("value", [b"", H("8123"), H("0123") + bytes(32), H("8123") + bytes(17)])
def test_malformed_mppe_key_values_are_refused(value: bytes) -> None:
    with pytest.raises(ValueError, match="RFC 2548"):
        decrypt_mppe_key(value, SECRET, REQUEST_AUTH)


# --- Packet authenticators and Message-Authenticator -------------------------------------------


def test_the_rfc_2865_access_accept_gets_its_published_response_authenticator() -> None:
    assert response_authenticator(RFC2865_ACCEPT_UNSIGNED, REQUEST_AUTH, SECRET) == (
        RFC2865_RESPONSE_AUTH
    )
    signed = sign_response(RFC2865_ACCEPT_UNSIGNED, REQUEST_AUTH, SECRET)
    assert signed[4:20] == RFC2865_RESPONSE_AUTH
    assert verify_response(signed, REQUEST_AUTH, SECRET)
    assert not verify_response(signed, REQUEST_AUTH, b"wrong")


def _with_ma_first(code: int, identifier: int, authenticator: bytes, attributes: bytes) -> bytes:
    body = bytes([80, 18]) + bytes(16) + attributes
    return struct.pack("!BBH", code, identifier, 20 + len(body)) + authenticator + body


def test_a_signed_reply_passes_pyrads_blast_radius_checks(dictionary: Dictionary) -> None:
    request = pyrad_packet.AuthPacket(
        id=9, secret=SECRET, authenticator=REQUEST_AUTH, dict=dictionary
    )
    request["User-Name"] = "nemo"
    attributes = bytes([18, 6]) + b"hi!!"
    reply = sign_response(_with_ma_first(2, 9, bytes(16), attributes), REQUEST_AUTH, SECRET)
    decoded = pyrad_packet.AuthPacket(packet=reply, secret=SECRET, dict=dictionary)
    assert request.VerifyReply(decoded, reply, enforce_ma=True)
    # One flipped bit in the Message-Authenticator: pyrad (a NAS) must now refuse it.
    tampered = bytearray(reply)
    tampered[22] ^= 1
    decoded = pyrad_packet.AuthPacket(packet=bytes(tampered), secret=SECRET, dict=dictionary)
    assert not request.VerifyReply(decoded, bytes(tampered), enforce_ma=True)


def test_our_message_authenticator_equals_pyrads_for_a_reply(dictionary: Dictionary) -> None:
    request = pyrad_packet.AuthPacket(
        id=3, secret=SECRET, authenticator=REQUEST_AUTH, dict=dictionary
    )
    reply = request.CreateReply()
    reply.code = pyrad_packet.AccessReject
    reply["Reply-Message"] = "Wrong username or password."
    raw = reply.ReplyPacket()
    assert raw[20] == 80  # pyrad puts it first, as Blast-RADIUS guidance asks
    offset = message_authenticator_offset(raw)
    assert offset == 22
    assert compute_message_authenticator(raw, SECRET, REQUEST_AUTH) == raw[22:38]
    assert verify_response(raw, REQUEST_AUTH, SECRET)


def test_an_access_request_message_authenticator_is_checked(dictionary: Dictionary) -> None:
    request = pyrad_packet.AuthPacket(id=5, secret=SECRET, dict=dictionary)
    request["User-Name"] = "nemo"
    request.add_message_authenticator()
    raw = request.RequestPacket()
    assert verify_message_authenticator(raw, SECRET)
    assert not verify_message_authenticator(raw, b"other-secret")
    tampered = bytearray(raw)
    tampered[-1] ^= 1  # the User-Name's last letter
    assert not verify_message_authenticator(bytes(tampered), SECRET)


def test_a_request_without_message_authenticator_is_told_apart() -> None:
    assert message_authenticator_offset(RFC2865_REQUEST) is None
    assert not verify_message_authenticator(RFC2865_REQUEST, SECRET)
    with pytest.raises(ValueError, match="no Message-Authenticator"):
        compute_message_authenticator(RFC2865_REQUEST, SECRET)


def test_accounting_requests_signed_here_pass_pyrad_and_the_reverse(dictionary: Dictionary) -> None:
    ours = sign_request(_with_ma_first(4, 11, bytes(16), bytes([40, 6, 0, 0, 0, 1])), SECRET)
    decoded = pyrad_packet.AcctPacket(packet=ours, secret=SECRET, dict=dictionary)
    assert decoded.VerifyAcctRequest()
    assert decoded.verify_message_authenticator()
    assert verify_request_authenticator(ours, SECRET)

    theirs = pyrad_packet.AcctPacket(id=12, secret=SECRET, dict=dictionary)
    theirs["Acct-Status-Type"] = "Start"
    theirs["Acct-Session-Id"] = "81f00014"
    raw = theirs.RequestPacket()
    assert verify_request_authenticator(raw, SECRET)
    assert not verify_request_authenticator(raw, b"wrong")


@pytest.mark.parametrize(
    "raw",
    [
        b"\x01\x00\x00\x14",  # shorter than a header
        H("01000015") + bytes(16) + b"\x01",  # truncated attribute header
        H("01000016") + bytes(16) + b"\x01\x01",  # attribute length below 2
        H("01000018") + bytes(16) + b"\x01\x09ab",  # attribute runs past the end
        H("01000020") + bytes(16) + b"\x01\x06nemo",  # Length field larger than the data
        H("01000018") + bytes(16) + b"\x50\x04ab",  # Message-Authenticator of 2 bytes
        H("01000038") + bytes(16) + (b"\x50\x12" + bytes(16)) * 2,  # two of them
    ],
    ids=["short", "truncated", "length 1", "overrun", "length field", "ma size", "two ma"],
)
def test_malformed_packets_are_named_and_never_verify(raw: bytes) -> None:
    with pytest.raises(MalformedPacket):
        message_authenticator_offset(raw)
    assert not verify_message_authenticator(raw, SECRET)
    assert not verify_response(raw, REQUEST_AUTH, SECRET)
    assert not verify_request_authenticator(raw, SECRET)


@given(st.binary(max_size=300), st.binary(min_size=16, max_size=16))
def test_verification_never_raises_on_arbitrary_bytes(raw: bytes, authenticator: bytes) -> None:
    # A hostile datagram may only ever be rejected, never crash the listener.
    assert verify_message_authenticator(raw, SECRET) in (True, False)
    assert verify_response(raw, authenticator, SECRET) in (True, False)
    assert verify_request_authenticator(raw, SECRET) in (True, False)
