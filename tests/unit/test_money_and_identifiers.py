from decimal import Decimal

import pytest

from easyisp_core.rules.identifiers import (
    VOUCHER_ALPHABET,
    account_number,
    invoice_number,
    tenant_slug,
    username_from_name,
    voucher_code,
)
from easyisp_core.rules.money import format_kes, parse_amount


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1500", "1500.00"), ("1,500.50", "1500.50"), ("KES 20", "20.00"), (Decimal("0.10"), "0.10")],
)
def test_amounts_parse_to_two_place_decimals(raw: str, expected: str) -> None:
    value = parse_amount(raw)
    assert value == Decimal(expected)
    assert value.as_tuple().exponent == -2


@pytest.mark.parametrize("raw", ["", "abc", "-5", "0", "1.005", "NaN", "Infinity", "1e20"])
def test_bad_amounts_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match=r"amount|decimal|zero|large"):
        parse_amount(raw)


def test_zero_is_allowed_only_when_asked() -> None:
    assert parse_amount("0", allow_zero=True) == Decimal("0.00")


def test_money_is_never_a_float() -> None:
    with pytest.raises(TypeError):
        parse_amount(1.5)  # type: ignore[arg-type]


def test_kes_formatting() -> None:
    assert format_kes(Decimal("1500")) == "KES 1,500.00"


def test_identifiers() -> None:
    assert account_number(123) == "ACC000123"
    assert invoice_number(2026, 7) == "INV-202600007"
    code = voucher_code(8, prefix="KN")
    assert code.startswith("KN")
    assert len(code) == 10
    assert set(code[2:]) <= set(VOUCHER_ALPHABET)
    assert not set("01OIL") & set(VOUCHER_ALPHABET)


def test_usernames_and_slugs_are_ascii() -> None:
    assert username_from_name("Wanjikũ Kamau") == "wanjiku.kamau"
    assert username_from_name("Otieno", 7) == "otieno7"
    assert tenant_slug("KilimaNet Ltd.") == "kilimanet-ltd"
    with pytest.raises(ValueError, match="tenant"):
        tenant_slug("!")
