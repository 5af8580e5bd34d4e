"""A tenant's configuration: time zone, SMS, M-Pesa, branding and hotspot sign-up
(tenants.config)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SmsSettings(_Strict):
    enabled: bool = False
    sender_id: str | None = Field(default=None, max_length=11)
    expiry_reminder_hours: int = Field(default=24, ge=0, le=24 * 14)
    send_payment_receipts: bool = True


class MpesaSettings(_Strict):
    # Whether an STK success callback is confirmed with STK Push Query before crediting.
    # Off: the callback must already match a push of ours (CheckoutRequestID, amount, phone)
    # on the gateway's unguessable URL, and a query per payment would put the customer's wait
    # on Daraja's query endpoint (docs/mpesa-stk-flow.md).
    confirm_with_query: bool = False
    stk_timeout_seconds: int = Field(default=60, ge=15, le=600)


class BrandingSettings(_Strict):
    display_name: str | None = Field(default=None, max_length=120)
    support_phone: str | None = Field(default=None, max_length=20)
    support_email: str | None = Field(default=None, max_length=200)
    primary_color: str = Field(default="#0B6E4F", pattern=r"^#[0-9A-Fa-f]{6}$")
    receipt_footer: str | None = Field(default=None, max_length=500)


class HotspotSettings(_Strict):
    """Self sign-up: a device with no account that buys at the captive portal gets a hotspot
    account of its own (migration 0015, easyisp_hotspot_self_signup reads these keys)."""

    self_signup: bool = True
    # At most this many hotspot accounts share one paying phone (one per device MAC).
    max_accounts_per_phone: int = Field(default=3, ge=1, le=50)


def check_pool_ranges(value: str) -> str:
    """RouterOS pool ranges: comma-separated IPv4 `a-b` ranges, networks or addresses."""
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise ValueError("give at least one address range, e.g. 172.30.0.2-172.30.255.254")
    for item in items:
        try:
            if "-" in item:
                first, last = (IPv4Address(part.strip()) for part in item.split("-", 1))
                if first > last:
                    raise ValueError(f"{item}: the range ends before it starts")
            else:
                IPv4Network(item, strict=False)
        except ValueError as exc:
            raise ValueError(f"{item} is not an IPv4 range like 172.30.0.2-172.30.255.254") from exc
    return ",".join(items)


class ExpiredPolicy(_Strict):
    """What RADIUS does with an expired or suspended PPPoE subscriber (RADIUS issue)."""

    accept_into_expired_pool: bool = True
    expired_pool_name: str = Field(default="expired", max_length=64)
    expired_address_list: str = Field(default="easyisp-expired", max_length=64)
    # The addresses router sync gives the expired pool (RouterOS /ip pool ranges syntax);
    # a private range the ISP's own networks do not use.
    expired_pool_ranges: str = Field(default="172.30.0.2-172.30.255.254", max_length=200)

    @field_validator("expired_pool_ranges")
    @classmethod
    def _routeros_ranges(cls, value: str) -> str:
        return check_pool_ranges(value)


class TenantConfig(_Strict):
    timezone: str = "Africa/Nairobi"
    currency: str = Field(default="KES", pattern=r"^[A-Z]{3}$")
    sms: SmsSettings = SmsSettings()
    mpesa: MpesaSettings = MpesaSettings()
    branding: BrandingSettings = BrandingSettings()
    hotspot: HotspotSettings = HotspotSettings()
    expired: ExpiredPolicy = ExpiredPolicy()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value
