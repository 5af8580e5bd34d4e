"""Expected errors carry a message fit for an operator; anything else is a bug."""

from __future__ import annotations

from collections.abc import Mapping


class EasyIspError(Exception):
    """An expected failure with a plain-language message for the operator or caller."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class NotFound(EasyIspError):
    """The thing asked for does not exist (or is not visible to this tenant/role)."""


class ValidationFailed(EasyIspError):
    """Input was rejected; field_errors maps a field name to what is wrong with it."""

    def __init__(self, field_errors: Mapping[str, str], user_message: str | None = None) -> None:
        self.field_errors = dict(field_errors)
        summary = "; ".join(f"{field}: {msg}" for field, msg in self.field_errors.items())
        super().__init__(user_message or f"Invalid input — {summary}")


class Conflict(EasyIspError):
    """The write clashes with existing data (a duplicate username, a concurrent change)."""


class PermissionDenied(EasyIspError):
    """The database (or a rule) refused the operation for this user."""


class ExternalServiceError(EasyIspError):
    """An outside system (Daraja, a router, an SMS gateway) failed or was unreachable."""


class LoginRefused(EasyIspError):
    """The database refused the staff member's credentials (wrong, unknown or suspended)."""


class DatabaseUnavailable(EasyIspError):
    """The PostgreSQL server cannot be reached."""


class SchemaMismatch(EasyIspError):
    """The database schema is not the revision this program was built for."""
