"""Typed Daraja callback bodies: STK Push result, C2B validation and confirmation.

Daraja's types are loose (protocols.md §1.3, §1.5, §1.8): the STK callback sends Amount,
PhoneNumber and TransactionDate as numbers, C2B sends everything as strings. These models take
either and hand the rest of the code Decimals, strings and aware datetimes (Daraja's times are
Kenya time, EAT)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from easyisp_core.errors import ValidationFailed
from easyisp_core.schemas.validation import parse

EAT = timezone(timedelta(hours=3), "EAT")


def parse_daraja_time(raw: str | int | None) -> datetime | None:
    """YYYYMMDDHHmmss in Kenya time (number or string); None when absent or unreadable."""
    if raw is None or raw == "":
        return None
    try:
        return datetime.strptime(str(raw).strip(), "%Y%m%d%H%M%S").replace(tzinfo=EAT)
    except ValueError:
        return None


def _amount(raw: Any) -> Decimal:
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not an amount: {raw!r}") from exc
    if not value.is_finite() or value <= 0:
        raise ValueError(f"not a positive amount: {raw!r}")
    return value.quantize(Decimal("0.01"))


class _Loose(BaseModel):
    # Daraja adds fields over time; unknown ones are kept in the raw row, ignored here.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class StkItem(_Loose):
    name: str = Field(alias="Name")
    value: str | int | float | None = Field(default=None, alias="Value")


class StkMetadata(_Loose):
    items: list[StkItem] = Field(default_factory=list, alias="Item")


class StkResult(_Loose):
    merchant_request_id: str = Field(alias="MerchantRequestID", max_length=64)
    checkout_request_id: str = Field(alias="CheckoutRequestID", min_length=1, max_length=64)
    result_code: int = Field(alias="ResultCode")
    result_desc: str = Field(default="", alias="ResultDesc")
    metadata: StkMetadata | None = Field(default=None, alias="CallbackMetadata")

    def item(self, name: str) -> str | None:
        """A CallbackMetadata value by name (order is not guaranteed); None when absent."""
        for entry in self.metadata.items if self.metadata else []:
            if entry.name == name and entry.value is not None:
                # Numbers arrive as int or float; 1.00 must read as "1.00", not "1.0".
                if isinstance(entry.value, float):
                    return format(Decimal(str(entry.value)), "f")
                return str(entry.value)
        return None


class StkCallback(BaseModel):
    """The STK Push result as the rest of the code uses it."""

    model_config = ConfigDict(frozen=True)

    merchant_request_id: str
    checkout_request_id: str
    result_code: int
    result_desc: str
    # Only on success (ResultCode 0).
    amount: Decimal | None = None
    receipt: str | None = None
    phone: str | None = None
    paid_at: datetime | None = None

    @property
    def succeeded(self) -> bool:
        return self.result_code == 0


class _StkBody(_Loose):
    stk_callback: StkResult = Field(alias="stkCallback")


class _StkEnvelope(_Loose):
    body: _StkBody = Field(alias="Body")


def parse_stk_callback(body: Any) -> StkCallback:
    """Body.stkCallback → StkCallback; ValidationFailed when it is not one (a success must
    carry Amount and MpesaReceiptNumber)."""
    result = parse(_StkEnvelope, body).body.stk_callback
    callback = StkCallback(
        merchant_request_id=result.merchant_request_id,
        checkout_request_id=result.checkout_request_id,
        result_code=result.result_code,
        result_desc=result.result_desc[:300],
    )
    if not callback.succeeded:
        return callback
    raw_amount, receipt = result.item("Amount"), result.item("MpesaReceiptNumber")
    if raw_amount is None or not receipt:
        raise ValidationFailed(
            {"CallbackMetadata": "a successful result needs Amount and MpesaReceiptNumber"}
        )
    try:
        amount = _amount(raw_amount)
    except ValueError as exc:
        raise ValidationFailed({"CallbackMetadata.Amount": str(exc)}) from exc
    return callback.model_copy(
        update={
            "amount": amount,
            "receipt": receipt.strip().upper()[:64],
            "phone": result.item("PhoneNumber"),
            "paid_at": parse_daraja_time(result.item("TransactionDate")),
        }
    )


class C2BNotification(_Loose):
    """A C2B validation request or confirmation (same shape for both)."""

    transaction_type: str = Field(default="", alias="TransactionType")
    trans_id: str = Field(alias="TransID", min_length=1, max_length=64)
    trans_time: str = Field(default="", alias="TransTime")
    trans_amount: Decimal = Field(alias="TransAmount")
    business_shortcode: str = Field(alias="BusinessShortCode")
    bill_ref_number: str = Field(default="", alias="BillRefNumber")
    invoice_number: str = Field(default="", alias="InvoiceNumber")
    org_account_balance: str = Field(default="", alias="OrgAccountBalance")
    third_party_trans_id: str = Field(default="", alias="ThirdPartyTransID")
    msisdn: str = Field(default="", alias="MSISDN")
    first_name: str = Field(default="", alias="FirstName")
    middle_name: str = Field(default="", alias="MiddleName")
    last_name: str = Field(default="", alias="LastName")

    @field_validator("trans_amount", mode="before")
    @classmethod
    def _positive_amount(cls, value: Any) -> Decimal:
        return _amount(value)

    @field_validator(
        "business_shortcode",
        "bill_ref_number",
        "invoice_number",
        "org_account_balance",
        "third_party_trans_id",
        "msisdn",
        "first_name",
        "middle_name",
        "last_name",
        "trans_time",
        "transaction_type",
        mode="before",
    )
    @classmethod
    def _text(cls, value: Any) -> str:
        # Daraja sends null for empty fields (BillRefNumber on a till) and numbers sometimes.
        return "" if value is None else str(value).strip()

    @field_validator("trans_id", mode="after")
    @classmethod
    def _receipt(cls, value: str) -> str:
        return value.strip().upper()

    @property
    def receipt(self) -> str:
        return self.trans_id

    @property
    def paid_at(self) -> datetime | None:
        return parse_daraja_time(self.trans_time)

    @property
    def payer_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)


def parse_c2b(body: Any) -> C2BNotification:
    return parse(C2BNotification, body)


# Replies Daraja expects (protocols.md §1.3, §1.5).
STK_ACK: dict[str, Any] = {"ResultCode": 0, "ResultDesc": "Accepted"}
C2B_CONFIRMATION_ACK: dict[str, Any] = {"ResultCode": 0, "ResultDesc": "Success"}
C2B_ACCEPT: dict[str, Any] = {"ResultCode": "0", "ResultDesc": "Accepted"}
C2B_INVALID_ACCOUNT = "C2B00012"
C2B_INVALID_AMOUNT = "C2B00013"
C2B_INVALID_SHORTCODE = "C2B00015"
C2B_OTHER_ERROR = "C2B00016"


def c2b_reject(code: str) -> dict[str, Any]:
    return {"ResultCode": code, "ResultDesc": "Rejected"}
