"""Kenyan mobile numbers in the 2547XXXXXXXX / 2541XXXXXXXX form M-Pesa uses."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d+")
_KE_MOBILE = re.compile(r"^254[17]\d{8}$")


def normalize_ke_phone(raw: str) -> str:
    """Accept 0712 345 678, +254712345678, 254712345678 or 712345678; return 254712345678.

    Raises ValueError with a message fit for the operator when it is not a Kenyan mobile number.
    """
    digits = "".join(_DIGITS.findall(raw))
    if len(digits) == 10 and digits[0] == "0":
        digits = "254" + digits[1:]
    elif len(digits) == 9 and digits[0] in "17":
        digits = "254" + digits
    if not _KE_MOBILE.match(digits):
        raise ValueError(f"{raw!r} is not a Kenyan mobile number (e.g. 0712 345 678)")
    return digits


def display_ke_phone(normalized: str) -> str:
    """254712345678 -> 0712 345 678, the way front-desk staff read numbers out."""
    local = "0" + normalized[3:]
    return f"{local[:4]} {local[4:7]} {local[7:]}"
