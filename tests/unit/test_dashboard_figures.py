"""The dashboard's pure parts: revenue per day into today / month / chart, service liveness."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from easyisp_core.repositories.dashboard import DayTotal
from easyisp_core.services.dashboard import revenue_figures, service_is_running

TODAY = date(2026, 12, 3)


def test_revenue_fills_missing_days_with_zero_and_sums_only_this_month() -> None:
    totals = [
        DayTotal(date(2026, 11, 25), Decimal("1000.00"), 2),  # last month: chart only
        DayTotal(date(2026, 12, 1), Decimal("250.50"), 1),
        DayTotal(TODAY, Decimal("99.99"), 3),
    ]

    figures = revenue_figures(totals, TODAY)

    assert figures.today == Decimal("99.99")
    assert figures.today_count == 3
    assert figures.month == Decimal("350.49")
    assert len(figures.days) == 14
    assert figures.days[0].day == TODAY - timedelta(days=13)
    assert figures.days[-1].day == TODAY
    by_day = {d.day: d.total for d in figures.days}
    assert by_day[date(2026, 11, 25)] == Decimal("1000.00")
    assert by_day[date(2026, 12, 2)] == Decimal("0.00")
    assert sum(by_day.values()) == Decimal("1350.49")


def test_a_day_without_payments_is_zero_not_missing() -> None:
    figures = revenue_figures([], TODAY)

    assert figures.today == Decimal("0.00")
    assert figures.today_count == 0
    assert figures.month == Decimal("0.00")
    assert {d.total for d in figures.days} == {Decimal("0.00")}


def test_the_service_runs_while_its_heartbeat_is_fresh() -> None:
    now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    assert service_is_running(now - timedelta(seconds=30), now)
    assert not service_is_running(now - timedelta(seconds=31), now)
    assert not service_is_running(None, now)
