"""The RADIUS dictionaries under resources/radius load in pyrad and encode what we send."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from pyrad import packet as pyrad_packet
from pyrad.dictionary import Dictionary

from easyisp_core.rules.radius_auth import Reject, RejectReason, ReplySpec
from radius_service.auth_methods import (
    decrypt_mppe_key,
    mppe_key_attributes,
    mschap2_success,
    sign_response,
    verify_response,
)

RADIUS_DIR = Path(__file__).parents[2] / "resources" / "radius"
SECRET = b"a-long-random-shared-secret"
REQUEST_AUTH = bytes.fromhex("0f403f9473978057bd83d5cb98f4227a")

# protocols.md §3.1
MIKROTIK = {
    "Mikrotik-Recv-Limit": 1,
    "Mikrotik-Xmit-Limit": 2,
    "Mikrotik-Group": 3,
    "Mikrotik-Wireless-Forward": 4,
    "Mikrotik-Wireless-Skip-Dot1x": 5,
    "Mikrotik-Wireless-Enc-Algo": 6,
    "Mikrotik-Wireless-Enc-Key": 7,
    "Mikrotik-Rate-Limit": 8,
    "Mikrotik-Realm": 9,
    "Mikrotik-Host-IP": 10,
    "Mikrotik-Mark-Id": 11,
    "Mikrotik-Advertise-URL": 12,
    "Mikrotik-Advertise-Interval": 13,
    "Mikrotik-Recv-Limit-Gigawords": 14,
    "Mikrotik-Xmit-Limit-Gigawords": 15,
    "Mikrotik-Wireless-PSK": 16,
    "Mikrotik-Total-Limit": 17,
    "Mikrotik-Total-Limit-Gigawords": 18,
    "Mikrotik-Address-List": 19,
    "Mikrotik-Wireless-MPKey": 20,
    "Mikrotik-Wireless-Comment": 21,
    "Mikrotik-Delegated-IPv6-Pool": 22,
    "Mikrotik-DHCP-Option-Set": 23,
    "Mikrotik-DHCP-Option-Param-STR1": 24,
    "Mikrotik-DHCP-Option-Param-STR2": 25,
    "Mikrotik-Wireless-VLANID": 26,
    "Mikrotik-Wireless-VLANID-Type": 27,
    "Mikrotik-Wireless-Minsignal": 28,
    "Mikrotik-Wireless-Maxsignal": 29,
}

# RFC 2548 §2
MICROSOFT = {
    "MS-CHAP-Response": 1,
    "MS-CHAP-Error": 2,
    "MS-MPPE-Encryption-Policy": 7,
    "MS-MPPE-Encryption-Types": 8,
    "MS-CHAP-Domain": 10,
    "MS-CHAP-Challenge": 11,
    "MS-MPPE-Send-Key": 16,
    "MS-MPPE-Recv-Key": 17,
    "MS-CHAP2-Response": 25,
    "MS-CHAP2-Success": 26,
}

# The standard attributes the site service reads or writes (protocols.md §4.1).
STANDARD = {
    "User-Name": 1,
    "User-Password": 2,
    "CHAP-Password": 3,
    "NAS-IP-Address": 4,
    "NAS-Port": 5,
    "Service-Type": 6,
    "Framed-Protocol": 7,
    "Framed-IP-Address": 8,
    "Reply-Message": 18,
    "Class": 25,
    "Session-Timeout": 27,
    "Called-Station-Id": 30,
    "Calling-Station-Id": 31,
    "NAS-Identifier": 32,
    "Proxy-State": 33,
    "Acct-Status-Type": 40,
    "Acct-Input-Octets": 42,
    "Acct-Output-Octets": 43,
    "Acct-Session-Id": 44,
    "Acct-Session-Time": 46,
    "Acct-Terminate-Cause": 49,
    "Acct-Input-Gigawords": 52,
    "Acct-Output-Gigawords": 53,
    "Event-Timestamp": 55,
    "CHAP-Challenge": 60,
    "NAS-Port-Type": 61,
    "Message-Authenticator": 80,
    "Acct-Interim-Interval": 85,
    "NAS-Port-Id": 87,
    "Framed-Pool": 88,
    "NAS-IPv6-Address": 95,
    "Framed-IPv6-Prefix": 97,
    "Error-Cause": 101,
    "Delegated-IPv6-Prefix": 123,
}


@pytest.fixture(scope="module")
def dictionary() -> Dictionary:
    return Dictionary(str(RADIUS_DIR / "dictionary"))


def test_the_main_dictionary_includes_both_vendor_files(dictionary: Dictionary) -> None:
    assert dictionary.vendors.GetForward("Mikrotik") == 14988
    assert dictionary.vendors.GetForward("Microsoft") == 311
    # Nothing in our files is a type pyrad has to skip.
    assert dictionary.skipped_attributes == set()


@pytest.mark.parametrize(("vendor", "table"), [(14988, MIKROTIK), (311, MICROSOFT), (0, STANDARD)])
def test_attribute_numbers_match_the_specifications(
    dictionary: Dictionary, vendor: int, table: dict[str, int]
) -> None:
    for name, code in table.items():
        expected = (vendor, code) if vendor else code
        assert dictionary.attrindex.GetForward(name) == expected, name


def test_no_code_is_defined_twice_within_a_file() -> None:
    for path in RADIUS_DIR.glob("dictionary*"):
        codes = re.findall(r"^ATTRIBUTE\s+\S+\s+(\d+)", path.read_text(), flags=re.MULTILINE)
        assert len(codes) == len(set(codes)), path.name


def test_named_values_decode_the_way_mikrotik_sends_them(dictionary: Dictionary) -> None:
    request = pyrad_packet.AuthPacket(id=1, secret=SECRET, dict=dictionary)
    request["User-Name"] = "wanjiku.kamau"
    request["Service-Type"] = "Framed-User"
    request["Framed-Protocol"] = "PPP"
    request["NAS-Port-Type"] = "Ethernet"
    request["Calling-Station-Id"] = "AA:BB:CC:00:11:22"
    request["Mikrotik-Host-IP"] = "10.5.50.20"
    raw = request.RequestPacket()
    # Service-Type 2, Framed-Protocol 1, NAS-Port-Type 15 on the wire.
    assert bytes([6, 6, 0, 0, 0, 2]) in raw
    assert bytes([7, 6, 0, 0, 0, 1]) in raw
    assert bytes([61, 6, 0, 0, 0, 15]) in raw
    decoded = pyrad_packet.AuthPacket(packet=raw, secret=SECRET, dict=dictionary)
    assert decoded["Service-Type"] == ["Framed-User"]
    assert decoded["NAS-Port-Type"] == ["Ethernet"]
    assert decoded["Mikrotik-Host-IP"] == ["10.5.50.20"]


def test_an_access_accept_for_mschapv2_encodes_and_decodes(dictionary: Dictionary) -> None:
    request = pyrad_packet.AuthPacket(
        id=42, secret=SECRET, authenticator=REQUEST_AUTH, dict=dictionary
    )
    send_key, recv_key = bytes(range(16)), bytes(range(16, 32))
    send_value, recv_value = mppe_key_attributes(
        send_key, recv_key, SECRET, REQUEST_AUTH, b"\x12\x34"
    )
    success = mschap2_success(7, b"S=407A5589115FD0D6209F510FE9C04566932CDA56")

    reply = request.CreateReply()
    reply["Mikrotik-Rate-Limit"] = "2M/10M 4M/15M 1500k/8M 16/16 8"
    reply["Session-Timeout"] = 864000
    reply["Acct-Interim-Interval"] = 300
    reply["Framed-IP-Address"] = "10.20.0.15"
    reply["Mikrotik-Total-Limit"] = 2147483648
    reply["Mikrotik-Total-Limit-Gigawords"] = 2
    reply["Class"] = b"sess-42"
    reply["MS-CHAP2-Success"] = success
    reply["MS-MPPE-Send-Key"] = send_value
    reply["MS-MPPE-Recv-Key"] = recv_value
    reply["MS-MPPE-Encryption-Policy"] = "Encryption-Allowed"
    reply["MS-MPPE-Encryption-Types"] = "RC4-40or128-bit-Allowed"
    raw = reply.ReplyPacket()

    # The vendor attribute on the wire: 26, length, vendor 14988, type 8, length, value.
    rate = b"2M/10M 4M/15M 1500k/8M 16/16 8"
    vsa = bytes([26, 8 + len(rate)]) + struct.pack("!I", 14988) + bytes([8, 2 + len(rate)])
    assert vsa + rate in raw
    assert raw[20] == 80  # Message-Authenticator first, for Blast-RADIUS
    assert verify_response(raw, REQUEST_AUTH, SECRET)

    decoded = pyrad_packet.AuthPacket(packet=raw, secret=SECRET, dict=dictionary)
    assert request.VerifyReply(decoded, raw, enforce_ma=True)
    assert decoded.code == pyrad_packet.AccessAccept
    assert decoded["Mikrotik-Rate-Limit"] == ["2M/10M 4M/15M 1500k/8M 16/16 8"]
    assert decoded["Session-Timeout"] == [864000]
    assert decoded["Framed-IP-Address"] == ["10.20.0.15"]
    assert decoded["Mikrotik-Total-Limit-Gigawords"] == [2]
    assert decoded["Class"] == [b"sess-42"]
    assert decoded["MS-CHAP2-Success"] == [success]
    assert decoded["MS-MPPE-Encryption-Types"] == ["RC4-40or128-bit-Allowed"]
    assert decrypt_mppe_key(decoded["MS-MPPE-Send-Key"][0], SECRET, REQUEST_AUTH) == send_key
    assert decrypt_mppe_key(decoded["MS-MPPE-Recv-Key"][0], SECRET, REQUEST_AUTH) == recv_key


def test_a_reply_built_from_a_decision_encodes_by_its_attribute_names(
    dictionary: Dictionary,
) -> None:
    spec = ReplySpec(
        rate_limit="256k/256k",
        session_timeout=300,
        acct_interim_interval=300,
        framed_ip="10.20.0.15",
        framed_pool="expired",
        total_limit=0,
        total_limit_gigawords=1,
        address_list="easyisp-expired",
        class_token=b"token",
    )
    reject = Reject(RejectReason.EXPIRED, "Your package has expired. Pay via M-Pesa to reconnect.")
    for attributes in (spec.attributes(), reject.attributes()):
        request = pyrad_packet.AuthPacket(
            id=1, secret=SECRET, authenticator=REQUEST_AUTH, dict=dictionary
        )
        reply = request.CreateReply()
        for name, value in attributes.items():
            assert name in dictionary, name
            reply[name] = value
        decoded = pyrad_packet.AuthPacket(
            packet=reply.ReplyPacket(), secret=SECRET, dict=dictionary
        )
        for name, value in attributes.items():
            assert decoded[name] == [value], name


def test_sign_response_output_decodes_in_pyrad(dictionary: Dictionary) -> None:
    # An Access-Reject built by hand, as the listener will: MA placeholder first.
    message = b"Wrong username or password."
    body = bytes([80, 18]) + bytes(16) + bytes([18, 2 + len(message)]) + message
    raw = struct.pack("!BBH", 3, 5, 20 + len(body)) + bytes(16) + body
    signed = sign_response(raw, REQUEST_AUTH, SECRET)
    request = pyrad_packet.AuthPacket(
        id=5, secret=SECRET, authenticator=REQUEST_AUTH, dict=dictionary
    )
    decoded = pyrad_packet.AuthPacket(packet=signed, secret=SECRET, dict=dictionary)
    assert request.VerifyReply(decoded, signed, enforce_ma=True)
    assert decoded["Reply-Message"] == [message.decode()]
