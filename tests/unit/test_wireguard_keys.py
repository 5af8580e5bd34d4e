"""WireGuard keys are real X25519 pairs in wg(8)'s format."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from easyisp_core.wireguard_keys import generate_key_pair, is_valid_key, public_key_of


def test_known_vectors_give_the_published_public_keys() -> None:
    # RFC 7748 Alice, and a RouterOS REST sample (protocols.md §5.1).
    assert (
        public_key_of("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=")
        == "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
    )
    assert (
        public_key_of("gLP306E2BCZBeyZ0ILrS5Ubdg4VjkFYiWkg7HpKYM10=")
        == "HhbyDzG6loyFAsB040GvnOcRH1Ks+M44utp6REaWPxo="
    )


def test_generated_pairs_agree_on_a_shared_secret() -> None:
    one, two = generate_key_pair(), generate_key_pair()
    for pair in (one, two):
        assert len(pair.private_key) == len(pair.public_key) == 44
        assert pair.private_key.endswith("=")
        assert pair.public_key.endswith("=")
        raw = base64.b64decode(pair.private_key)
        assert raw[0] & 7 == 0
        assert raw[31] & 0xC0 == 0x40
    a = X25519PrivateKey.from_private_bytes(base64.b64decode(one.private_key))
    b = X25519PrivateKey.from_private_bytes(base64.b64decode(two.private_key))
    b_pub = X25519PublicKey.from_public_bytes(base64.b64decode(two.public_key))
    a_pub = X25519PublicKey.from_public_bytes(base64.b64decode(one.public_key))
    assert a.exchange(b_pub) == b.exchange(a_pub)
    assert (
        base64.b64encode(a.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
        == one.public_key
    )
    assert one.private_key != two.private_key


def test_the_private_key_stays_out_of_repr() -> None:
    pair = generate_key_pair()
    assert pair.private_key not in repr(pair)


@pytest.mark.parametrize(
    "key", ["", "abc", "A" * 44, "!" * 43 + "=", base64.b64encode(b"x" * 31).decode() + "AAAA"]
)
def test_malformed_keys_are_refused(key: str) -> None:
    assert not is_valid_key(key)
    with pytest.raises(ValueError, match="WireGuard key"):
        public_key_of(key)
