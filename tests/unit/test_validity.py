from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from easyisp_core.models.enums import ValidityUnit
from easyisp_core.rules.validity import (
    add_validity,
    period_start,
    renewal_start,
    subtract_validity,
    validity_seconds_estimate,
)

NAIROBI = ZoneInfo("Africa/Nairobi")
START = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "unit", "delta"),
    [
        (30, ValidityUnit.MINUTES, timedelta(minutes=30)),
        (3, ValidityUnit.HOURS, timedelta(hours=3)),
        (1, ValidityUnit.DAYS, timedelta(days=1)),
        (2, ValidityUnit.WEEKS, timedelta(days=14)),
    ],
)
def test_fixed_units_add_exact_durations(value: int, unit: ValidityUnit, delta: timedelta) -> None:
    assert add_validity(START, value, unit, NAIROBI) == START + delta


def test_a_month_keeps_the_calendar_date() -> None:
    assert add_validity(START, 1, ValidityUnit.MONTHS, NAIROBI) == datetime(
        2026, 2, 10, 12, 0, tzinfo=UTC
    )


def test_a_month_from_the_31st_ends_on_the_last_day_of_a_short_month() -> None:
    # 31 Jan 10:00 in Nairobi -> 28 Feb 10:00 in Nairobi.
    start = datetime(2026, 1, 31, 10, 0, tzinfo=NAIROBI)
    assert add_validity(start, 1, ValidityUnit.MONTHS, NAIROBI) == datetime(
        2026, 2, 28, 10, 0, tzinfo=NAIROBI
    )


def test_months_roll_over_the_year() -> None:
    start = datetime(2026, 11, 15, tzinfo=NAIROBI)
    assert add_validity(start, 3, ValidityUnit.MONTHS, NAIROBI) == datetime(
        2027, 2, 15, tzinfo=NAIROBI
    )


def test_months_are_counted_in_the_tenants_zone_not_utc() -> None:
    # 31 Jan 23:30 UTC is already 1 Feb in Nairobi, so one month later is 1 Mar (Nairobi).
    start = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    assert add_validity(start, 1, ValidityUnit.MONTHS, NAIROBI).astimezone(NAIROBI).date() == (
        datetime(2026, 3, 1).date()
    )


def test_naive_times_and_non_positive_values_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        add_validity(datetime(2026, 1, 1), 1, ValidityUnit.DAYS, NAIROBI)
    with pytest.raises(ValueError, match="positive"):
        add_validity(START, 0, ValidityUnit.DAYS, NAIROBI)


def test_renewal_extends_from_the_current_expiry_when_paying_early() -> None:
    expiry = START + timedelta(days=5)
    assert renewal_start(START, expiry) == expiry


def test_renewal_starts_now_when_already_expired_or_new() -> None:
    assert renewal_start(START, START - timedelta(days=2)) == START
    assert renewal_start(START, None) == START


def test_seconds_estimate_for_sorting() -> None:
    assert validity_seconds_estimate(1, ValidityUnit.HOURS) == 3600
    assert validity_seconds_estimate(1, ValidityUnit.MONTHS) == 30 * 86400


@pytest.mark.parametrize(
    ("unit", "value"),
    [
        (ValidityUnit.MINUTES, 30),
        (ValidityUnit.HOURS, 3),
        (ValidityUnit.DAYS, 1),
        (ValidityUnit.WEEKS, 2),
        (ValidityUnit.MONTHS, 1),
    ],
)
def test_subtracting_a_validity_undoes_adding_it(unit: ValidityUnit, value: int) -> None:
    end = add_validity(START, value, unit, NAIROBI)
    assert subtract_validity(end, value, unit, NAIROBI) == START


def test_the_current_period_is_the_one_that_contains_now() -> None:
    expires = datetime(2026, 3, 31, 9, 0, tzinfo=NAIROBI)
    # Paid for two months ahead: now is in the first of them.
    now = datetime(2026, 2, 10, tzinfo=NAIROBI)
    assert period_start(now, expires, 1, ValidityUnit.MONTHS, NAIROBI) == datetime(
        2026, 1, 31, 9, 0, tzinfo=NAIROBI
    )
    # In the last month: one month back, clamped to the short month's end.
    now = datetime(2026, 3, 5, tzinfo=NAIROBI)
    assert period_start(now, expires, 1, ValidityUnit.MONTHS, NAIROBI) == datetime(
        2026, 2, 28, 9, 0, tzinfo=NAIROBI
    )
    # Already expired: the last period.
    late = datetime(2026, 4, 2, tzinfo=NAIROBI)
    assert period_start(late, expires, 1, ValidityUnit.DAYS, NAIROBI) == expires - timedelta(days=1)
