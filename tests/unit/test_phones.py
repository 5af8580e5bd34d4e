import pytest

from easyisp_core.rules.phones import display_ke_phone, normalize_ke_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0712345678", "254712345678"),
        ("0712 345 678", "254712345678"),
        ("+254 712-345-678", "254712345678"),
        ("254712345678", "254712345678"),
        ("712345678", "254712345678"),
        ("0110123456", "254110123456"),  # the newer 011x Safaricom range
    ],
)
def test_kenyan_mobile_numbers_are_normalised_to_the_mpesa_form(raw: str, expected: str) -> None:
    assert normalize_ke_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "123", "0212345678", "25571234567", "07123456789", "abc"])
def test_anything_else_is_refused_with_an_example(raw: str) -> None:
    with pytest.raises(ValueError, match="0712 345 678"):
        normalize_ke_phone(raw)


def test_display_form_is_how_staff_read_numbers() -> None:
    assert display_ke_phone("254712345678") == "0712 345 678"
