"""Payment and SMS gateway settings. Non-secret settings live in `config` (JSON, typed);
secrets (passkeys, API keys) live encrypted in `credentials_enc` and never in JSON."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MpesaGatewayConfig(_Strict):
    # "simulator" is the project's Daraja double (easyisp simulate mpesa) at `base_url`.
    environment: Literal["sandbox", "production", "simulator"] = "sandbox"
    # Overrides the environment's Daraja address; required for "simulator".
    base_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    # Till number for Buy Goods; the STK party B differs from the shortcode then.
    till_number: str | None = Field(default=None, pattern=r"^\d{5,7}$")
    account_reference_prefix: str = Field(default="", max_length=12)
    # Addresses or networks (196.201.214.0/24) Daraja calls back from; empty = any source.
    allowed_callback_ips: list[str] = Field(default_factory=list)

    @field_validator("allowed_callback_ips")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not an IP address or network") from exc
        return [entry.strip() for entry in value]

    @model_validator(mode="after")
    def _simulator_address(self) -> MpesaGatewayConfig:
        if self.environment == "simulator" and self.base_url is None:
            raise ValueError("the simulator environment needs base_url")
        # Live Daraja is reached only over TLS: the calls carry the consumer secret.
        if self.environment == "production" and (self.base_url or "https:").startswith("http:"):
            raise ValueError("production needs an https base_url")
        return self


class MpesaCredentials(_Strict):
    consumer_key: str = Field(min_length=1)
    consumer_secret: str = Field(min_length=1)
    passkey: str = Field(min_length=1)
    # The API operator Transaction Status runs as (reconciliation), and its password as the
    # Daraja portal encrypts it (base64 of RSA with Safaricom's certificate). Both or neither.
    initiator_name: str | None = Field(default=None, min_length=1, max_length=100)
    security_credential: str | None = Field(default=None, min_length=1, max_length=4096)

    @model_validator(mode="after")
    def _initiator_pair(self) -> MpesaCredentials:
        if (self.initiator_name is None) != (self.security_credential is None):
            raise ValueError("give both the initiator name and its security credential, or neither")
        return self


class SmsGatewayConfig(_Strict):
    base_url: HttpUrl | None = None
    username: str | None = None
    partner_id: str | None = None


class SmsCredentials(_Strict):
    api_key: str = Field(min_length=1)
