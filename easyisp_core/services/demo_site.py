"""The live demo (`easyisp simulate site`): a simulated router's RADIUS identity and the
subscribers it brings online. Passwords and secrets are read through the audited functions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.repositories.demo_site import DemoSiteRepository
from easyisp_core.repositories.nas import NasRepository
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
