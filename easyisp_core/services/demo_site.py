"""The live demo (`easyisp simulate site`): a simulated router's RADIUS identity and the
subscribers it brings online. Passwords and secrets are read through the audited functions."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.models.enums import PaymentProvider
from easyisp_core.repositories.demo_site import DemoSiteRepository
from easyisp_core.repositories.nas import NasRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.schemas.gateway_config import MpesaCredentials, MpesaGatewayConfig
from easyisp_core.services.gateways import (
    PAYMENT_CREDENTIALS,
    NewPaymentGateway,
    create_payment_gateway,
)
from easyisp_core.services.secrets import read_router_secrets, reveal_customer_password


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    password: str = field(repr=False)
    mac_address: str | None


def router_radius_secret(session: Session, box: SecretBox, nas_id: uuid.UUID) -> str:
    return read_router_secrets(session, box, nas_id).radius_secret


def move_router_to(
    session: Session,
    box: SecretBox,
    nas_id: uuid.UUID,
    *,
    ip_address: str,
    coa_port: int,
    logins: int,
) -> list[DemoLogin]:
    """Give the router a locally bindable address and CoA port (its RADIUS packets come from
    there and the service sends its Disconnect/CoA there); `logins` of its ACTIVE PPPoE
    subscribers with their passwords (each read audited)."""
    nas = NasRepository(session).get(nas_id)
    nas.ip_address = ip_address
    nas.coa_port = coa_port
    session.flush()
    found = []
    for customer_id, username, mac in DemoSiteRepository(session).active_pppoe_customers(
        nas_id, logins
    ):
        password = reveal_customer_password(session, box, customer_id)
        if password is not None:
            found.append(DemoLogin(username, password, mac))
    return found


SIMULATOR_GATEWAY_NAME = "M-Pesa (Daraja simulator)"


@dataclass(frozen=True, slots=True)
class SimulatedGateways:
    tenant: str
    gateways: list[str]
    # The first gateway's callback token: its C2B URLs are /pay/<token>/c2b/...
    callback_token: str


def point_payment_gateways(
    session: Session,
    box: SecretBox,
    *,
    tenant: str | None,
    base_url: str,
    shortcode: str,
    credentials: MpesaCredentials,
) -> list[SimulatedGateways]:
    """Send every active M-Pesa gateway of the tenant (or of all tenants) to the Daraja
    simulator at `base_url`, with the simulator's shortcode and credentials; a tenant without
    one gets one for all purposes. The demo's own tenants have none."""
    repo = TenantRepository(session)
    tenants = repo.list() if tenant is None else [repo.get_by_name(tenant)]
    sealed = box.encrypt(json.dumps(credentials.model_dump()), PAYMENT_CREDENTIALS)
    done = []
    for row in tenants:
        gateways = DemoSiteRepository(session).active_payment_gateways(row.id)
        for gateway in gateways:
            config = {**gateway.config, "environment": "simulator", "base_url": base_url}
            gateway.config = MpesaGatewayConfig.model_validate(config).model_dump(mode="json")
            gateway.shortcode = shortcode
            gateway.credentials_enc = sealed
        names = [gateway.name for gateway in gateways]
        token = gateways[0].callback_token if gateways else ""
        if not gateways:
            created = create_payment_gateway(
                session,
                box,
                NewPaymentGateway(
                    tenant=row.name,
                    name=SIMULATOR_GATEWAY_NAME,
                    provider=PaymentProvider.MPESA_PAYBILL,
                    shortcode=shortcode,
                    config={"environment": "simulator", "base_url": base_url},
                    credentials=credentials.model_dump(),
                ),
            )
            names.append(created.name)
            token = created.callback_token or ""
        done.append(SimulatedGateways(row.name, names, token))
    session.flush()
    return done


def tenant_names(session: Session) -> list[str]:
    return [tenant.name for tenant in TenantRepository(session).list()]
