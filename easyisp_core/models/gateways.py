"""Payment and SMS gateway configurations (several per tenant, by purpose)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, TenantScoped, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import GatewayPurpose, PaymentProvider, SmsProvider


class PaymentGateway(TenantScoped, Timestamps, Base):
    __tablename__ = "payment_gateways"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        # The unguessable path segment of this gateway's callback URLs.
        UniqueConstraint("callback_token"),
        CheckConstraint("jsonb_typeof(config) = 'object'", name="config_object"),
        CheckConstraint("shortcode ~ '^[0-9]{5,7}$'", name="shortcode_digits"),
        CheckConstraint("length(callback_token) >= 32", name="callback_token_long"),
        # One active gateway per tenant and purpose, so a payment flow never has to guess.
        Index(
            "uq_payment_gateways_tenant_id_purpose_active",
            "tenant_id",
            "purpose",
            unique=True,
            postgresql_where=text("is_active"),
        ),
    )

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(100))
    provider: Mapped[PaymentProvider] = mapped_column(pg_enum(PaymentProvider, "payment_provider"))
    purpose: Mapped[GatewayPurpose] = mapped_column(
        pg_enum(GatewayPurpose, "gateway_purpose"), server_default=GatewayPurpose.ALL.value
    )
    shortcode: Mapped[str] = mapped_column(String(7))
    # Typed by schemas.gateway_config.MpesaGatewayConfig; secrets never go here.
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # MpesaCredentials as JSON, AES-GCM encrypted with the site key.
    credentials_enc: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, deferred_raiseload=True
    )
    callback_token: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(server_default="true")


class SmsGateway(TenantScoped, Timestamps, Base):
    __tablename__ = "sms_gateways"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("jsonb_typeof(config) = 'object'", name="config_object"),
        # The unguessable path segment of its delivery-report URL (migration 0021).
        UniqueConstraint("callback_token"),
        CheckConstraint("length(callback_token) >= 32", name="callback_token_long"),
        Index(
            "uq_sms_gateways_tenant_id_default",
            "tenant_id",
            unique=True,
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(100))
    provider: Mapped[SmsProvider] = mapped_column(pg_enum(SmsProvider, "sms_provider"))
    purpose: Mapped[GatewayPurpose] = mapped_column(
        pg_enum(GatewayPurpose, "gateway_purpose"), server_default=GatewayPurpose.ALL.value
    )
    sender_id: Mapped[str | None] = mapped_column(String(11))
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    credentials_enc: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, deferred_raiseload=True
    )
    is_default: Mapped[bool] = mapped_column(server_default="false")
    is_active: Mapped[bool] = mapped_column(server_default="true")
    callback_token: Mapped[str] = mapped_column(
        String(64),
        server_default=text(
            "replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '')"
        ),
    )
