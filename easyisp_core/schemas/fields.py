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
MacAddress = Annotated[
    str,
    _matching(
        r"([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}", "a MAC address looks like AA:BB:CC:DD:EE:FF"
    ),
]
