"""Reusable input fields with messages written for operators, not developers."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator


def _matching(pattern: str, message: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


TenantName = Annotated[
    str,
    _matching(
        r"[a-z0-9][a-z0-9-]{1,62}",
        "use 2-63 lower-case letters, digits and dashes (e.g. kilimanet)",
    ),
]
StaffUsername = Annotated[
    str,
    _matching(
        r"[a-z][a-z0-9_.-]{2,39}",
        "use 3-40 lower-case letters, digits or . _ -, starting with a letter",
    ),
]
CustomerUsername = Annotated[
    str,
    _matching(r"[A-Za-z0-9_.@-]{3,64}", "use 3-64 letters, digits or . _ @ - (no spaces)"),
]
AccountCode = Annotated[str, _matching(r"[0-9]{3,10}", "use 3-10 digits, like 4001")]

_MAC_SEPARATORS = re.compile(r"[\s:.-]")


def _normal_mac(value: str) -> str:
    """AA:BB:CC:DD:EE:FF from any usual spelling (aa-bb-…, aabb.ccdd.eeff, aabbccddeeff)."""
    digits = _MAC_SEPARATORS.sub("", value).upper()
    if not re.fullmatch(r"[0-9A-F]{12}", digits):
        raise ValueError("a MAC address looks like AA:BB:CC:DD:EE:FF")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


MacAddress = Annotated[str, AfterValidator(_normal_mac)]
