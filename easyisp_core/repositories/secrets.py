"""Reading secret columns: only through functions that check a permission and audit the read."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session


class SecretRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def customer_password(self, customer_id: uuid.UUID) -> bytes | None:
        value = self.session.execute(
            text("SELECT easyisp_reveal_customer_password(:c)"), {"c": customer_id}
        ).scalar_one()
        return None if value is None else bytes(value)

    def nas_secrets(self, nas_id: uuid.UUID) -> tuple[bytes, bytes | None]:
        row = self.session.execute(
            text("SELECT secret_enc, api_password_enc FROM easyisp_nas_secrets(:n)"), {"n": nas_id}
        ).one()
        return bytes(row.secret_enc), None if row.api_password_enc is None else bytes(
            row.api_password_enc
        )

    def gateway_credentials(self, table: str, gateway_id: uuid.UUID) -> bytes:
        value = self.session.execute(
            text("SELECT easyisp_gateway_credentials(:t, :g)"), {"t": table, "g": gateway_id}
        ).scalar_one()
        return bytes(value)
