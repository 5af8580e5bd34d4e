"""Pure parts of the office forms: invoice lines as typed, the rate read back from stored
amounts, and MAC addresses in their usual spellings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from easyisp_core.errors import ValidationFailed
from easyisp_core.schemas.fields import MacAddress
from easyisp_core.services.invoices import rate_of
from easyisp_desktop.views.invoice_lines import (
    format_lines,
    on_items_field,
    parse_lines,
    totals_text,
)


def test_invoice_lines_read_with_or_without_a_quantity_and_skip_blank_lines() -> None:
    items = parse_lines("Home 10 | 2 | 1,250.50\n\n  Installation | 1500  ")
    assert items == [
        {"description": "Home 10", "quantity": Decimal("2"), "unit_price": Decimal("1250.50")},
        {"description": "Installation", "quantity": Decimal("1"), "unit_price": Decimal("1500")},
    ]
    assert format_lines(items) == "Home 10 | 2 | 1250.50\nInstallation | 1 | 1500.00"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "add at least one line"),
        ("Just words", "line 1: write it as"),
        ("ok | 1\nbad | x | 2", "line 2: the quantity is not a number"),
        ("bad | 1 | NaN", "line 1: the unit price is not a number"),
    ],
)
def test_a_line_that_cannot_be_read_is_named(typed: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_lines(typed)
    assert refused.value.field_errors["items"].startswith(message)


def test_the_cores_per_line_errors_land_on_the_items_field() -> None:
    placed = on_items_field({"items.1.unit_price": "Input should be greater than 0", "notes": "x"})
    assert placed == {"items": "line 2, unit price: input should be greater than 0", "notes": "x"}


def test_the_running_total_rounds_vat_half_up_like_the_core() -> None:
    assert totals_text("A | 3 | 33.33", "16") == (
        "Subtotal KES 99.99 · VAT KES 16.00 · Total KES 115.99"
    )
    assert totals_text("A | x", "16") == ""


@pytest.mark.parametrize(
    ("subtotal", "tax", "rate"),
    [("3500.00", "560.00", "0.16"), ("33.33", "5.33", "0.16"), ("100.00", "12.50", "0.125"),
     ("0.00", "0.00", "0")],
)  # fmt: skip
def test_the_vat_rate_is_read_back_from_the_stored_amounts(
    subtotal: str, tax: str, rate: str
) -> None:
    assert rate_of(Decimal(subtotal), Decimal(tax)) == Decimal(rate)


@pytest.mark.parametrize(
    "typed", ["aa:bb:cc:00:11:22", "AA-BB-CC-00-11-22", "aabb.cc00.1122", "AABBCC001122"]
)
def test_a_mac_address_is_normalised_from_its_usual_spellings(typed: str) -> None:
    assert TypeAdapter(MacAddress).validate_python(typed) == "AA:BB:CC:00:11:22"


def test_a_mac_address_with_a_digit_missing_is_refused() -> None:
    with pytest.raises(ValidationError, match="AA:BB:CC:DD:EE:FF"):
        TypeAdapter(MacAddress).validate_python("aa-bb-cc-00-11-2")
