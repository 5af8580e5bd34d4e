"""Seeded randomness for demo data: one Random per tenant, plus fast helpers built on it.

Every helper draws from the same Random in call order, so a seed reproduces the same rows.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")

_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CODE_SPACE = 36**7
# Odd and not a multiple of 3, hence coprime with 36**7: n -> n * K mod 36**7 is a bijection,
# so distinct counters give distinct codes that still look random.
_SCRAMBLE = 2_654_435_761
# Leaves room for 4 billion references per tenant in the 7-character code space.
_PER_TENANT = 4_000_000_000
_MPESA_DAY = "123456789ABCDEFGHIJKLMNOPQRSTUV"


class Dice:
    """A seeded random source with the few draws the generator needs, made cheap."""

    def __init__(self, seed: str, *, id_clock: datetime | None = None) -> None:
        rng = random.Random(seed)
        self.random = rng.random
        self.randrange = rng.randrange
        self.uniform = rng.uniform
        self.choice = rng.choice
        self.choices = rng.choices
        self.bits = rng.getrandbits
        self.shuffle = rng.shuffle
        self._id_ms = int(id_clock.timestamp() * 1000) if id_clock else 0
        self._ids = 0

    def uuid(self) -> str:
        """A time-ordered UUID (version 7) as text, reproducible from the seed.

        Ids rise in the order rows are made, so every COPY appends to the right edge of the
        primary-key index, and a foreign-key check finds its parent in a recently used page.
        Random version-4 ids scatter both over the whole index, which at a million rows makes
        the load several times slower. The millisecond field advances every 4096 ids (the
        12-bit counter after the version digit keeps the order), the rest is random."""
        n = self._ids
        self._ids += 1
        ms = f"{self._id_ms + (n >> 12):012x}"
        r = self.bits(62)
        return (
            f"{ms[:8]}-{ms[8:]}-7{n & 0xFFF:03x}-{0x8 | (r >> 60):x}{(r >> 48) & 0xFFF:03x}"
            f"-{r & 0xFFFFFFFFFFFF:012x}"
        )

    def mac(self, oui: str) -> str:
        x = self.bits(24)
        return f"{oui}:{x >> 16:02X}:{(x >> 8) & 255:02X}:{x & 255:02X}"

    def hex(self, digits: int) -> str:
        return f"{self.bits(digits * 4):0{digits}x}"


class Weighted(Generic[T]):
    """Pick from items with fixed relative weights: one random() and a bisect per draw."""

    def __init__(self, dice: Dice, items: Sequence[T], weights: Sequence[float]) -> None:
        if not items or len(items) != len(weights):
            raise ValueError("need one weight per item")
        self._items = tuple(items)
        self._cumulative = list(accumulate(weights))
        self._total = self._cumulative[-1]
        self._random = dice.random

    def __call__(self) -> T:
        return self._items[bisect_right(self._cumulative, self._random() * self._total)]


class ReferenceCodes:
    """Unique 7-character upper-case codes for receipts and bank references.

    Uniqueness comes from a counter, not from luck: two million random receipts would collide
    on a unique column, a scrambled counter never does. Each tenant has its own counter range.
    """

    def __init__(self, tenant_index: int, seed: int) -> None:
        self._next = tenant_index * _PER_TENANT
        self._offset = (seed * 1_000_003) % _CODE_SPACE

    def next(self) -> str:
        n = (self._next * _SCRAMBLE + self._offset) % _CODE_SPACE
        self._next += 1
        chars = []
        for _ in range(7):
            n, digit = divmod(n, 36)
            chars.append(_BASE36[digit])
        return "".join(chars)

    def mpesa_receipt(self, when: datetime) -> str:
        """'SKB4XY12AB': year letter (S = 2024), month letter, day, then seven characters."""
        year = chr(ord("A") + (when.year - 2006) % 26)
        return f"{year}{chr(64 + when.month)}{_MPESA_DAY[when.day - 1]}{self.next()}"
