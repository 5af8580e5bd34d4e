"""The STK password and timestamp rule, and the whole-shilling rule, without a network."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from easyisp_core.errors import ValidationFailed
from radius_service.mpesa.client import whole_shillings
from radius_service.mpesa.password import stk_password, stk_timestamp
from radius_service.simulator.daraja.state import SANDBOX_PASSKEY, SANDBOX_SHORTCODE

# The Password printed in Daraja's official sample request (protocols.md §1.3).
SANDBOX_SAMPLE_PASSWORD = (
    "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4"
    "ZTZiNzJhZGExZWQyYzkxOTIwMjEwNjI4MDkyNDA4"
)


def test_password_matches_the_official_sandbox_sample() -> None:
    assert stk_password(SANDBOX_SHORTCODE, SANDBOX_PASSKEY, "20210628092408") == (
        SANDBOX_SAMPLE_PASSWORD
    )


def test_timestamp_is_kenya_time() -> None:
    # 06:24:08 UTC is 09:24:08 in Nairobi: the sample's timestamp.
    assert stk_timestamp(datetime(2021, 6, 28, 6, 24, 8, tzinfo=UTC)) == "20210628092408"


def test_timestamp_rolls_over_to_the_kenyan_date() -> None:
    assert stk_timestamp(datetime(2026, 12, 31, 22, 30, 0, tzinfo=UTC)) == "20270101013000"


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        stk_timestamp(datetime(2026, 1, 1, 12, 0, 0))


@pytest.mark.parametrize(
    ("amount", "shillings"), [(Decimal("10"), 10), (Decimal("10.00"), 10), (250_000, 250_000)]
)
def test_whole_amounts_are_sent_as_shillings(amount: Decimal, shillings: int) -> None:
    assert whole_shillings(amount) == shillings


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        (Decimal("10.50"), "whole shillings"),
        (Decimal("0.99"), "whole shillings"),
        (Decimal("0"), "at least KES 1"),
        (Decimal("-5"), "at least KES 1"),
        (Decimal("250001"), "at most"),
        (Decimal("NaN"), "whole shillings"),
    ],
)
def test_other_amounts_are_refused_clearly(amount: Decimal, says: str) -> None:
    with pytest.raises(ValidationFailed, match=says) as caught:
        whole_shillings(amount)
    assert "amount" in caught.value.field_errors
