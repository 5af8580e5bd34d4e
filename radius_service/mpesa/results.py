"""Typed synchronous answers from Daraja (the asynchronous callbacks are parsed elsewhere)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class TransactionType(enum.StrEnum):
    PAYBILL = "CustomerPayBillOnline"
    BUY_GOODS = "CustomerBuyGoodsOnline"


class StkState(enum.StrEnum):
    PENDING = "pending"  # the customer has not answered the prompt yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # cancelled, timed out, insufficient funds, wrong PIN ...


@dataclass(frozen=True)
class StkPushAccepted:
    """Daraja accepted the push; nothing is paid until the callback or a query says so."""

    merchant_request_id: str
    checkout_request_id: str
    response_code: str
    response_description: str
    customer_message: str


@dataclass(frozen=True)
class StkQueryResult:
    checkout_request_id: str
    state: StkState
    merchant_request_id: str | None = None
    # Daraja sends ResultCode as a string here ("1032"), unlike the callback's number.
    result_code: str | None = None
    result_desc: str | None = None


@dataclass(frozen=True)
class C2bRegistration:
    originator_conversation_id: str
    response_code: str
    response_description: str


@dataclass(frozen=True)
class C2bSimulation:
    originator_conversation_id: str
    response_code: str
    response_description: str


@dataclass(frozen=True)
class TransactionStatusAccepted:
    """The query was queued; the answer arrives later at the ResultURL."""

    originator_conversation_id: str
    conversation_id: str
    response_code: str
    response_description: str
