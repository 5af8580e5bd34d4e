"""Daraja callback bodies exactly as protocols.md §1.3 and §1.5 describe them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def stk_success(
    checkout: str,
    *,
    amount: Decimal | int | float,
    receipt: str,
    phone: int = 254712345678,
    merchant: str = "29115-34620561-1",
    when: int = 20261125143015,
) -> dict[str, Any]:
    # Amount, TransactionDate and PhoneNumber are numbers; Balance has no Value (older form).
    value = amount if isinstance(amount, int) else float(amount)
    return {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": merchant,
                "CheckoutRequestID": checkout,
                "ResultCode": 0,
                "ResultDesc": "The service request is processed successfully.",
                "CallbackMetadata": {
                    "Item": [
                        {"Name": "Amount", "Value": value},
                        {"Name": "MpesaReceiptNumber", "Value": receipt},
                        {"Name": "Balance"},
                        {"Name": "TransactionDate", "Value": when},
                        {"Name": "PhoneNumber", "Value": phone},
                    ]
                },
            }
        }
    }


def stk_failure(
    checkout: str, code: int, desc: str, merchant: str = "29115-34620561-1"
) -> dict[str, Any]:
    return {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": merchant,
                "CheckoutRequestID": checkout,
                "ResultCode": code,
                "ResultDesc": desc,
            }
        }
    }


def c2b(
    trans_id: str,
    *,
    amount: str,
    account: str,
    shortcode: str = "600984",
    msisdn: str = "2547 ***** 126",
    balance: str = "",
) -> dict[str, Any]:
    return {
        "TransactionType": "Pay Bill",
        "TransID": trans_id,
        "TransTime": "20261125143512",
        "TransAmount": amount,
        "BusinessShortCode": shortcode,
        "BillRefNumber": account,
        "InvoiceNumber": "",
        "OrgAccountBalance": balance,
        "ThirdPartyTransID": "",
        "MSISDN": msisdn,
        "FirstName": "Wanjiru",
        "MiddleName": "",
        "LastName": "Kamau",
    }
