"""Mikrotik-Rate-Limit strings and 64-bit byte counts split into gigawords."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from easyisp_core.rules.rate_limit import (
    RateLimitSpec,
    build_rate_limit,
    format_rate,
    join_gigawords,
    mbps_to_bps,
    split_gigawords,
)

D = Decimal


def parse_rate(text: str) -> int:
    """RouterOS rate syntax: digits with an optional k (x1000) or M (x1000000) suffix."""
    match = re.fullmatch(r"(\d+)([kM]?)", text)
    assert match, text
    return int(match[1]) * {"": 1, "k": 1_000, "M": 1_000_000}[match[2]]


def parse_rate_limit(text: str) -> dict[str, Any]:
    """A tiny reader for "rx/tx [burst-rx/tx [threshold-rx/tx [time-rx/tx [priority]]]]"."""
    groups = text.split(" ")
    assert 1 <= len(groups) <= 5, text

    def pair(group: str) -> tuple[str, str]:
        rx, _, tx = group.partition("/")
        return rx, tx or rx

    rx, tx = pair(groups[0])
    parsed: dict[str, Any] = {"upload": parse_rate(rx), "download": parse_rate(tx)}
    if len(groups) > 1:
        rx, tx = pair(groups[1])
        parsed["burst_upload"], parsed["burst_download"] = parse_rate(rx), parse_rate(tx)
    if len(groups) > 2:
        rx, tx = pair(groups[2])
        parsed["threshold_upload"], parsed["threshold_download"] = parse_rate(rx), parse_rate(tx)
    if len(groups) > 3:
        rx, tx = pair(groups[3])
        parsed["burst_time"] = (int(rx), int(tx))
    parsed["priority"] = int(groups[4]) if len(groups) > 4 else 8
    return parsed


FULL = RateLimitSpec(
    download_mbps=D("10"),
    upload_mbps=D("2"),
    burst_download_mbps=D("15"),
    burst_upload_mbps=D("4"),
    burst_threshold_download_mbps=D("8"),
    burst_threshold_upload_mbps=D("1.5"),
    burst_time_seconds=16,
    priority=8,
)


@pytest.mark.parametrize(
    ("mbps", "text"),
    [
        (D("5"), "5M"),
        (D("5.000"), "5M"),
        (D("0.5"), "500k"),
        (D("1.5"), "1500k"),
        (D("0.001"), "1k"),
        (D("0.256"), "256k"),
        (D("1000"), "1000M"),
        (D("0.0015"), "1500"),
    ],
)
def test_rates_are_rendered_exactly_and_compactly(mbps: Decimal, text: str) -> None:
    assert format_rate(mbps_to_bps(mbps)) == text


def test_zero_is_routeros_no_limit() -> None:
    assert format_rate(0) == "0"


def test_the_rate_is_upload_then_download_from_the_routers_point_of_view() -> None:
    assert build_rate_limit(RateLimitSpec(download_mbps=D(20), upload_mbps=D(5))) == "5M/20M"


def test_burst_threshold_time_and_priority_follow_in_order() -> None:
    assert build_rate_limit(FULL) == "2M/10M 4M/15M 1500k/8M 16/16 8"


def test_a_priority_without_burst_spells_out_no_burst() -> None:
    spec = RateLimitSpec(download_mbps=D(20), upload_mbps=D(5), priority=3)
    assert build_rate_limit(spec) == "5M/20M 0/0 0/0 0/0 3"


def test_floats_are_refused_because_they_are_already_inexact() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        RateLimitSpec(download_mbps=0.1, upload_mbps=D(1))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"download_mbps": D(0)}, "positive"),
        ({"upload_mbps": D(-1)}, "positive"),
        ({"download_mbps": D("NaN")}, "finite"),
        ({"burst_download_mbps": None}, "together"),
        ({"burst_time_seconds": None}, "together"),
        ({"burst_download_mbps": D(9)}, "at least the download"),
        ({"burst_upload_mbps": D(1)}, "at least the upload"),
        ({"burst_time_seconds": 0}, "burst time"),
        ({"priority": 0}, "priority"),
        ({"priority": 9}, "priority"),
    ],
)
def test_impossible_specs_are_refused(changes: dict[str, Any], message: str) -> None:
    values = {
        "download_mbps": FULL.download_mbps,
        "upload_mbps": FULL.upload_mbps,
        "burst_download_mbps": FULL.burst_download_mbps,
        "burst_upload_mbps": FULL.burst_upload_mbps,
        "burst_threshold_download_mbps": FULL.burst_threshold_download_mbps,
        "burst_threshold_upload_mbps": FULL.burst_threshold_upload_mbps,
        "burst_time_seconds": FULL.burst_time_seconds,
        "priority": FULL.priority,
    }
    with pytest.raises((ValueError, TypeError), match=message):
        RateLimitSpec(**{**values, **changes})


def test_a_fraction_of_a_bit_is_refused() -> None:
    with pytest.raises(ValueError, match="whole number"):
        mbps_to_bps(D("0.0000001"))


@pytest.mark.parametrize(
    ("total", "split"),
    [
        (0, (0, 0)),
        (4_294_967_295, (4_294_967_295, 0)),
        (4_294_967_296, (0, 1)),
        (10_737_418_240, (2_147_483_648, 2)),  # 10 GiB, the protocols.md §3.1 example
        (2**64 - 1, (2**32 - 1, 2**32 - 1)),
    ],
)
def test_byte_counts_split_into_octets_and_gigawords(total: int, split: tuple[int, int]) -> None:
    assert split_gigawords(total) == split
    assert join_gigawords(*split) == total


@pytest.mark.parametrize("total", [-1, 2**64])
def test_byte_counts_outside_64_bits_are_refused(total: int) -> None:
    with pytest.raises(ValueError, match="64 bits"):
        split_gigawords(total)


@pytest.mark.parametrize(("octets", "gigawords"), [(-1, 0), (2**32, 0), (0, 2**32), (0, -1)])
def test_attribute_values_outside_32_bits_are_refused(octets: int, gigawords: int) -> None:
    with pytest.raises(ValueError, match="32-bit"):
        join_gigawords(octets, gigawords)


# Speeds as the packages table stores them: Numeric(10, 3) Mbps.
speeds = st.decimals(min_value=D("0.001"), max_value=D("9999999.999"), places=3)


@st.composite
def specs(draw: st.DrawFn) -> RateLimitSpec:
    download, upload = draw(speeds), draw(speeds)
    priority = draw(st.integers(min_value=1, max_value=8))
    if not draw(st.booleans()):
        return RateLimitSpec(download, upload, priority=priority)
    extra = st.decimals(min_value=D(0), max_value=D("1000"), places=3)
    return RateLimitSpec(
        download,
        upload,
        burst_download_mbps=download + draw(extra),
        burst_upload_mbps=upload + draw(extra),
        burst_threshold_download_mbps=draw(speeds),
        burst_threshold_upload_mbps=draw(speeds),
        burst_time_seconds=draw(st.integers(min_value=1, max_value=3600)),
        priority=priority,
    )


@given(specs())
def test_every_rate_limit_parses_back_to_the_same_bit_rates(spec: RateLimitSpec) -> None:
    text = build_rate_limit(spec)
    assert re.fullmatch(r"[0-9kM/ ]+", text)
    parsed = parse_rate_limit(text)
    assert parsed["download"] == mbps_to_bps(spec.download_mbps)
    assert parsed["upload"] == mbps_to_bps(spec.upload_mbps)
    assert parsed["priority"] == spec.priority
    if spec.burst_download_mbps is None:
        assert parsed.get("burst_download", 0) == 0
        return
    assert spec.burst_upload_mbps is not None
    assert spec.burst_threshold_download_mbps is not None
    assert spec.burst_threshold_upload_mbps is not None
    assert parsed["burst_download"] == mbps_to_bps(spec.burst_download_mbps)
    assert parsed["burst_upload"] == mbps_to_bps(spec.burst_upload_mbps)
    assert parsed["threshold_download"] == mbps_to_bps(spec.burst_threshold_download_mbps)
    assert parsed["threshold_upload"] == mbps_to_bps(spec.burst_threshold_upload_mbps)
    assert parsed["burst_time"] == (spec.burst_time_seconds, spec.burst_time_seconds)


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_gigaword_split_and_join_round_trip(total: int) -> None:
    octets, gigawords = split_gigawords(total)
    assert 0 <= octets < 2**32
    assert 0 <= gigawords < 2**32
    assert join_gigawords(octets, gigawords) == total
