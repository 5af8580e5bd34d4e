"""Remembered passwords live only in the operating system's keyring, never in a file."""

from __future__ import annotations

import contextlib
import logging

import keyring
from keyring.errors import KeyringError, PasswordDeleteError

log = logging.getLogger(__name__)

SERVICE_PREFIX = "EasyISP"


class KeyringUnavailable(Exception):
    """This desktop has no usable keyring (e.g. a Linux session without a Secret Service)."""


class CredentialStore:
    """Passwords by (server profile, username) in the OS keyring."""

    @staticmethod
    def _service(profile_name: str) -> str:
        return f"{SERVICE_PREFIX}:{profile_name}"

    def load(self, profile_name: str, username: str) -> str | None:
        try:
            return keyring.get_password(self._service(profile_name), username)
        except KeyringError as exc:
            log.info("keyring unavailable: %s", exc)
            return None

    def save(self, profile_name: str, username: str, password: str) -> None:
        try:
            keyring.set_password(self._service(profile_name), username, password)
        except KeyringError as exc:
            raise KeyringUnavailable(
                "This computer has no password keyring, so the password cannot be remembered. "
                "You will be asked for it at each login."
            ) from exc

    def forget(self, profile_name: str, username: str) -> None:
        # Nothing stored, or no keyring: either way nothing is remembered afterwards.
        with contextlib.suppress(PasswordDeleteError, KeyringError):
            keyring.delete_password(self._service(profile_name), username)
