"""The MikroTik rate-limit string and 64-bit byte quotas, built from a package's plain values.

RouterOS reads `Mikrotik-Rate-Limit` from the router's point of view: rx is what the router
receives (the client's upload), tx what it transmits (the client's download). Packages store
speeds as the customer sees them (download/upload in Mbps), so the order flips here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

_BITS_PER_MBIT = Decimal(1_000_000)
_UINT32 = 1 << 32
_UINT64 = 1 << 64

# RouterOS's default queue priority; a string that omits the priority gets it.
DEFAULT_PRIORITY = 8


@dataclass(frozen=True, slots=True)
class RateLimitSpec:
    """A package's speeds in Mbps, as stored (Decimal, never float: 0.1 Mbps must stay exact).

    Burst is all-or-nothing, as the packages table enforces: a burst rate without its
    threshold and time is not something RouterOS can apply the way the operator meant.
    """

    download_mbps: Decimal
    upload_mbps: Decimal
    burst_download_mbps: Decimal | None = None
    burst_upload_mbps: Decimal | None = None
    burst_threshold_download_mbps: Decimal | None = None
    burst_threshold_upload_mbps: Decimal | None = None
    burst_time_seconds: int | None = None
    priority: int = DEFAULT_PRIORITY

    def __post_init__(self) -> None:
        burst = (
            self.burst_download_mbps,
            self.burst_upload_mbps,
            self.burst_threshold_download_mbps,
            self.burst_threshold_upload_mbps,
            self.burst_time_seconds,
        )
        if any(value is None for value in burst) and any(value is not None for value in burst):
            raise ValueError("burst needs rates, thresholds and time together")
        for name in (
            "download_mbps",
            "upload_mbps",
            "burst_download_mbps",
            "burst_upload_mbps",
            "burst_threshold_download_mbps",
            "burst_threshold_upload_mbps",
        ):
            value = getattr(self, name)
            if value is None:
                continue
            # A float here would already have lost precision (0.1 != Decimal("0.1")).
            if not isinstance(value, Decimal) or not value.is_finite():
                raise TypeError(f"{name} must be a finite Decimal, not {value!r}")
            if value <= 0:
                raise ValueError(f"{name} must be positive")
        if self.burst_download_mbps is not None and self.burst_upload_mbps is not None:
            if self.burst_download_mbps < self.download_mbps:
                raise ValueError("burst download must be at least the download speed")
            if self.burst_upload_mbps < self.upload_mbps:
                raise ValueError("burst upload must be at least the upload speed")
        if self.burst_time_seconds is not None and self.burst_time_seconds <= 0:
            raise ValueError("burst time must be positive")
        if not 1 <= self.priority <= 8:
            raise ValueError("priority must be between 1 and 8")

    @property
    def has_burst(self) -> bool:
        return self.burst_download_mbps is not None


def mbps_to_bps(mbps: Decimal) -> int:
    """Exact bit/s for a speed in Mbps; refuses a speed that is not a whole number of bits."""
    bps = mbps * _BITS_PER_MBIT
    if bps != bps.to_integral_value():
        raise ValueError(f"{mbps} Mbps is not a whole number of bit/s")
    return int(bps)


def format_rate(bps: int) -> str:
    """The shortest exact RouterOS rate: 5000000 -> "5M", 500000 -> "500k", 1500 -> "1500".

    Only whole multiples get a suffix; "1.5M" is not valid RouterOS syntax, so 1.5 Mbps
    becomes "1500k".
    """
    if bps < 0:
        raise ValueError("a rate cannot be negative")
    if bps == 0:
        return "0"
    if bps % 1_000_000 == 0:
        return f"{bps // 1_000_000}M"
    if bps % 1_000 == 0:
        return f"{bps // 1_000}k"
    return str(bps)


def _pair(upload_mbps: Decimal, download_mbps: Decimal) -> str:
    # rx (client upload) first, then tx (client download).
    return f"{format_rate(mbps_to_bps(upload_mbps))}/{format_rate(mbps_to_bps(download_mbps))}"


def build_rate_limit(spec: RateLimitSpec) -> str:
    """`Mikrotik-Rate-Limit` for a package, e.g. "2M/10M 4M/15M 1500k/8M 16/16 8".

    Groups are positional, so a non-default priority without burst needs the burst groups
    spelled as zeros ("0/0 0/0 0/0" is RouterOS's own "no burst").
    """
    rate = _pair(spec.upload_mbps, spec.download_mbps)
    if not spec.has_burst:
        if spec.priority == DEFAULT_PRIORITY:
            return rate
        return f"{rate} 0/0 0/0 0/0 {spec.priority}"
    # has_burst guarantees every burst field is set (checked in __post_init__).
    assert spec.burst_upload_mbps is not None
    assert spec.burst_download_mbps is not None
    assert spec.burst_threshold_upload_mbps is not None
    assert spec.burst_threshold_download_mbps is not None
    burst = _pair(spec.burst_upload_mbps, spec.burst_download_mbps)
    threshold = _pair(spec.burst_threshold_upload_mbps, spec.burst_threshold_download_mbps)
    seconds = spec.burst_time_seconds
    return f"{rate} {burst} {threshold} {seconds}/{seconds} {spec.priority}"


def split_gigawords(total_bytes: int) -> tuple[int, int]:
    """(low 32 bits, gigawords) for a 64-bit byte count, e.g. Mikrotik-Total-Limit and
    Mikrotik-Total-Limit-Gigawords: 10 GiB -> (2147483648, 2)."""
    if not 0 <= total_bytes < _UINT64:
        raise ValueError("byte count must fit in 64 bits")
    return total_bytes % _UINT32, total_bytes // _UINT32


def join_gigawords(octets: int, gigawords: int) -> int:
    """The 64-bit byte count from an Octets attribute and its Gigawords companion."""
    if not 0 <= octets < _UINT32 or not 0 <= gigawords < _UINT32:
        raise ValueError("octets and gigawords are 32-bit unsigned values")
    return gigawords * _UINT32 + octets
