import os
from pathlib import Path

import pytest

from easyisp_core.crypto import SecretBox, SecretDecryptionFailed, load_or_create_site_key


def test_round_trip_and_ciphertexts_differ(secret_box: SecretBox) -> None:
    first = secret_box.encrypt("s3cret", "nas.secret")
    second = secret_box.encrypt("s3cret", "nas.secret")
    assert first != second  # a fresh nonce each time
    assert b"s3cret" not in first
    assert secret_box.decrypt(first, "nas.secret") == "s3cret"


def test_a_secret_moved_to_another_column_does_not_decrypt(secret_box: SecretBox) -> None:
    sealed = secret_box.encrypt("s3cret", "nas.secret")
    with pytest.raises(SecretDecryptionFailed):
        secret_box.decrypt(sealed, "customer.password")


def test_another_sites_key_cannot_decrypt(secret_box: SecretBox, tmp_path: Path) -> None:
    other = SecretBox.from_encoded(load_or_create_site_key(tmp_path / "other.key"))
    with pytest.raises(SecretDecryptionFailed, match="site's key"):
        other.decrypt(secret_box.encrypt("x", "p"), "p")


def test_tampered_ciphertext_is_detected(secret_box: SecretBox) -> None:
    sealed = bytearray(secret_box.encrypt("s3cret", "p"))
    sealed[-1] ^= 1
    with pytest.raises(SecretDecryptionFailed):
        secret_box.decrypt(bytes(sealed), "p")


def test_site_key_file_is_created_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "site.key"
    key = load_or_create_site_key(path)
    assert load_or_create_site_key(path) == key
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600
