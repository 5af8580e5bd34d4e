"""What router onboarding writes besides the VPN peer: the router's API login."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session


class OnboardingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def set_api_credentials(self, nas_id: uuid.UUID, username: str, password_enc: bytes) -> None:
        # A plain UPDATE: the ORM would also SET updated_at, which staff may not write.
        self.session.execute(
            text("UPDATE nas SET api_username = :u, api_password_enc = :p WHERE id = :id"),
            {"u": username, "p": password_enc, "id": nas_id},
        )
