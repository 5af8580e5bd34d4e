"""Daraja payload parsing (loose types in, Decimals out) and the pure M-Pesa rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from easyisp_core.errors import ValidationFailed
from easyisp_core.rules.mpesa import normalize_account, same_msisdn, source_allowed
from easyisp_core.schemas.gateway_config import MpesaGatewayConfig
from easyisp_core.schemas.mpesa import EAT, parse_c2b, parse_stk_callback
from tests.service.payments.payloads import c2b, stk_failure, stk_success


@pytest.mark.parametrize("amount", [1, 1.0])
def test_stk_amounts_arrive_as_numbers_and_become_decimals(amount: float) -> None:
    parsed = parse_stk_callback(stk_success("ws_CO_1", amount=amount, receipt="nlj7rt61sv"))
    assert parsed.amount == Decimal("1.00")
    assert parsed.receipt == "NLJ7RT61SV"
    assert parsed.phone == "254712345678"
    assert parsed.paid_at == datetime(2026, 11, 25, 14, 30, 15, tzinfo=EAT)


def test_stk_failure_has_no_metadata() -> None:
    parsed = parse_stk_callback(stk_failure("ws_CO_2", 1032, "Request cancelled by user"))
    assert not parsed.succeeded
    assert parsed.result_code == 1032
    assert parsed.amount is None


def test_a_success_without_a_receipt_is_refused() -> None:
    body = stk_success("ws_CO_3", amount=10, receipt="X")
    items = body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    body["Body"]["stkCallback"]["CallbackMetadata"]["Item"] = [
        i for i in items if i["Name"] != "MpesaReceiptNumber"
    ]
    with pytest.raises(ValidationFailed):
        parse_stk_callback(body)


@pytest.mark.parametrize("body", [{}, {"Body": {}}, {"Body": {"stkCallback": {"ResultCode": 0}}}])
def test_bodies_that_are_not_stk_results_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationFailed):
        parse_stk_callback(body)


def test_c2b_strings_and_nulls() -> None:
    body = c2b("rktqdm7w6s", amount="5.00", account="ACC 001")
    body["BillRefNumber"] = None  # a till payment
    parsed = parse_c2b(body)
    assert parsed.trans_amount == Decimal("5.00")
    assert parsed.receipt == "RKTQDM7W6S"
    assert parsed.bill_ref_number == ""
    assert parsed.payer_name == "Wanjiru Kamau"


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "NaN"])
def test_c2b_amounts_must_be_positive_numbers(amount: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_c2b(c2b("X1", amount=amount, account="a"))


def test_source_allow_list() -> None:
    assert source_allowed("10.0.0.1", [])  # no list configured: the token guards
    assert source_allowed("196.201.214.200", ["196.201.214.200"])
    assert source_allowed("196.201.212.74", ["196.201.212.0/24"])
    assert not source_allowed("8.8.8.8", ["196.201.212.0/24"])
    assert not source_allowed(None, ["196.201.212.0/24"])
    assert not source_allowed("garbage", ["196.201.212.0/24"])


def test_gateway_config_refuses_an_unreadable_allow_list_entry() -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        MpesaGatewayConfig.model_validate({"allowed_callback_ips": ["safaricom"]})


def test_account_numbers_compare_without_case_or_spaces() -> None:
    assert normalize_account(" Acc 00 12 ") == "acc0012"
    assert same_msisdn("254712345678", "254712345678")
    assert not same_msisdn(None, "254712345678")
