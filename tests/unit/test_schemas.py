from decimal import Decimal

import pytest

from easyisp_core.errors import ValidationFailed
from easyisp_core.schemas.invoice_items import InvoiceItems
from easyisp_core.schemas.tenant_config import TenantConfig
from easyisp_core.schemas.validation import parse


def test_tenant_config_defaults_to_nairobi_and_kes() -> None:
    config = TenantConfig()
    assert config.timezone == "Africa/Nairobi"
    assert config.currency == "KES"
    assert config.expired.accept_into_expired_pool


def test_tenant_config_errors_name_the_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(TenantConfig, {"timezone": "Mars/Olympus", "branding": {"primary_color": "red"}})
    errors = caught.value.field_errors
    assert "unknown time zone" in errors["timezone"]
    assert "branding.primary_color" in errors


def test_tenant_config_rejects_unknown_keys() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(TenantConfig, {"smss": {}}, field="config")
    assert "config.smss" in caught.value.field_errors


def test_invoice_items_compute_amounts_exactly() -> None:
    items = parse(
        InvoiceItems,
        [
            {"description": "Home 10 Mbps, November", "quantity": "1", "unit_price": "2500.00"},
            {"description": "Router installation", "quantity": "0.5", "unit_price": "3333.33"},
        ],
    )
    assert items.subtotal == Decimal("4166.67")
    dumped = items.model_dump(mode="json")
    assert dumped[1] == {
        "description": "Router installation",
        "quantity": "0.5",
        "unit_price": "3333.33",
    }


@pytest.mark.parametrize(
    "bad",
    [
        [],
        [{"description": "", "quantity": "1", "unit_price": "1"}],
        [{"description": "x", "quantity": "0", "unit_price": "1"}],
        [{"description": "x", "quantity": "1", "unit_price": "-1"}],
        [{"description": "x", "quantity": "1", "unit_price": "1", "colour": "blue"}],
    ],
)
def test_bad_invoice_items_are_refused(bad: list[dict[str, str]]) -> None:
    with pytest.raises(ValidationFailed):
        parse(InvoiceItems, bad)


def test_expired_pool_ranges_take_routeros_syntax_and_refuse_anything_else() -> None:
    from easyisp_core.schemas.tenant_config import ExpiredPolicy

    assert ExpiredPolicy(
        expired_pool_ranges=" 172.30.0.2-172.30.0.254, 10.99.0.0/24 "
    ).expired_pool_ranges == ("172.30.0.2-172.30.0.254,10.99.0.0/24")
    for bad in ("", "172.30.0.9-172.30.0.2", "not-an-address", "fd00::1-fd00::9"):
        with pytest.raises(ValueError, match="range"):
            ExpiredPolicy(expired_pool_ranges=bad)
