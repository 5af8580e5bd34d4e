"""Server-level roles that the database's administrator manages (not staff users)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

SERVICE_ROLE = "easyisp_service"


class RoleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enable_service_login(self, verifier: str) -> None:
        """Let the site service log in as its own role, with this SCRAM verifier."""
        # A verifier is base64 and fixed punctuation; it cannot break out of the literal.
        quoted = self.session.execute(text("SELECT quote_literal(:v)"), {"v": verifier}).scalar()
        # exec_driver_sql: the verifier's ":xyz" must not be read as a bind parameter.
        self.session.connection().exec_driver_sql(
            f"ALTER ROLE {SERVICE_ROLE} LOGIN PASSWORD {quoted}"
        )
