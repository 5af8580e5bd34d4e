"""The reminder's words: the ISP's name first, one SMS segment, optional parts dropped."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from easyisp_core.rules.sms_text import SEGMENT, amount_text, brand_of, expiry_reminder

WHEN = datetime(2026, 11, 26, 14, 30, tzinfo=ZoneInfo("Africa/Nairobi"))


def test_a_full_reminder_fits_one_sms() -> None:
    text = expiry_reminder(
        brand="Acme Net",
        expires_local=WHEN,
        account="10023",
        currency="KES",
        price=Decimal("1500.00"),
        paybill="600984",
        support_phone="0700 111 222",
    )
    assert text == (
        "Acme Net: your internet expires Thu 26 Nov 14:30. Pay KES 1,500 to paybill 600984, "
        "acc 10023, to stay online. Help: 0700 111 222"
    )
    assert len(text) <= SEGMENT


def test_a_long_brand_is_cut_and_the_help_line_goes_first() -> None:
    brand = brand_of("The Very Long Name Of A Rural Wireless Internet Cooperative", "x")
    text = expiry_reminder(
        brand=brand,
        expires_local=WHEN,
        account="ACC-000000012345",
        currency="KES",
        price=Decimal("12500.50"),
        paybill="4001234",
        support_phone="+254 700 111 222 ext 9",
    )
    assert len(brand) == 30
    assert len(text) <= SEGMENT
    assert "Help" not in text
    assert "Pay KES 12,500.50 to paybill 4001234" in text


def test_amounts_drop_zero_cents() -> None:
    assert amount_text(Decimal("1500.00")) == "1,500"
    assert amount_text(Decimal("49.5")) == "49.50"
    assert brand_of("  ", "Fallback Net") == "Fallback Net"
