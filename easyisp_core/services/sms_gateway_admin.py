"""Listing a tenant's SMS gateways with their delivery-report URLs (operator administration)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyisp_core.models import SmsGateway
from easyisp_core.repositories.tenants import TenantRepository


@dataclass(frozen=True)
class SmsGatewayRow:
    id: uuid.UUID
    name: str
    provider: str
    sender_id: str | None
    is_default: bool
    is_active: bool
    dlr_path: str


def dlr_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/sms/{token}/dlr"


def list_sms_gateways(session: Session, tenant: str) -> list[SmsGatewayRow]:
    tenant_id = TenantRepository(session).get_by_name(tenant).id
    rows = session.execute(
        select(
            SmsGateway.id,
            SmsGateway.name,
            SmsGateway.provider,
            SmsGateway.sender_id,
            SmsGateway.is_default,
            SmsGateway.is_active,
            SmsGateway.callback_token,
        )
        .where(SmsGateway.tenant_id == tenant_id)
        .order_by(SmsGateway.name)
    ).all()
    return [
        SmsGatewayRow(
            r.id,
            r.name,
            str(r.provider),
            r.sender_id,
            r.is_default,
            r.is_active,
            f"/sms/{r.callback_token}/dlr",
        )
        for r in rows
    ]
