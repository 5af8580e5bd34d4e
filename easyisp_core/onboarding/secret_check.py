"""The check of a router's RADIUS secret that we keep in the comment of its `/radius` entry.

RouterOS never prints a secret to our API user (its group has no `sensitive` policy, on
purpose: that policy would also reveal PPP secrets and the router's WireGuard private key).
So sync cannot compare the secret itself; it compares this check of the secret it wrote
last, kept beside it in the entry's comment. The check is an HMAC keyed with the router's
API password, which RouterOS never prints to anyone: whoever reads the comment cannot test
guesses of the secret against it.
"""

from __future__ import annotations

import hashlib
import hmac

CHECK_HEX_DIGITS = 12
_CONTEXT = b"easyisp radius secret check v1\x00"


def secret_check(secret: str, api_password: str) -> str:
    """12 hex digits; another secret (or another API password) gives another check."""
    digest = hmac.new(
        api_password.encode("utf-8"), _CONTEXT + secret.encode("utf-8"), hashlib.sha256
    )
    return digest.hexdigest()[:CHECK_HEX_DIGITS]


def radius_comment(secret: str, api_password: str) -> str:
    """The comment of the `/radius` entry that the onboarding script and sync write."""
    return f"easyisp:radius secret-check={secret_check(secret, api_password)}"
