""" "I have already paid": which device a receipt may sign in, and the guessing limit."""

from __future__ import annotations

from easyisp_core.rules.hotspot_login import HotspotLogin, LoginKind, ReceiptRefusal, receipt_login
from radius_service.http.portal.attempts import (
    PER_ADDRESS,
    PER_DEVICE,
    WINDOW_SECONDS,
    AttemptLimiter,
)


def test_the_bound_device_gets_a_mac_login_whatever_the_mac_spelling() -> None:
    assert receipt_login("aa:bb:cc:00:00:01", "AA-BB-CC-00-00-01", True) == HotspotLogin(
        LoginKind.MAC, "AA:BB:CC:00:00:01", ""
    )


def test_any_other_device_or_account_is_refused_with_the_reason() -> None:
    assert receipt_login("aa:bb:cc:00:00:01", "aa:bb:cc:00:00:02", True) is (
        ReceiptRefusal.OTHER_DEVICE
    )
    assert receipt_login("aa:bb:cc:00:00:01", None, True) is ReceiptRefusal.OTHER_DEVICE
    assert receipt_login(None, "aa:bb:cc:00:00:02", True) is ReceiptRefusal.NO_DEVICE
    assert receipt_login("aa:bb:cc:00:00:01", "aa:bb:cc:00:00:01", False) is (
        ReceiptRefusal.NOT_HOTSPOT
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_device_is_blocked_after_a_few_failures_until_the_window_passes() -> None:
    clock = Clock()
    limiter = AttemptLimiter(clock)
    for _ in range(PER_DEVICE):
        assert not limiter.blocked("10.5.50.1", "aa")
        limiter.failed("10.5.50.1", "aa")
    assert limiter.blocked("10.5.50.1", "aa")
    assert not limiter.blocked("10.5.50.1", "bb")  # another device behind the same router
    clock.now += WINDOW_SECONDS + 1
    assert not limiter.blocked("10.5.50.1", "aa")


def test_an_address_is_blocked_when_many_devices_fail_from_it() -> None:
    limiter = AttemptLimiter(Clock())
    for n in range(PER_ADDRESS):
        limiter.failed("10.5.50.1", f"device-{n}")
    assert limiter.blocked("10.5.50.1", "a-new-device")
    assert not limiter.blocked("10.5.50.2", "a-new-device")
