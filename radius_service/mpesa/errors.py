"""Daraja's answers sorted into the few outcomes a caller acts on, and which are safe to retry.

Daraja reports errors as `{"requestId", "errorCode", "errorMessage"}` (protocols.md §1.3); the
HTTP status alone is not enough (a pending STK query is an HTTP 500, a bad token an HTTP 404).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from easyisp_core.errors import ExternalServiceError

INVALID_TOKEN_CODES = frozenset({"404.001.03", "400.003.01", "401.003.01"})
RATE_LIMIT_CODES = frozenset({"500.003.02", "500.003.03"})
BAD_REQUEST_CODE = "400.002.02"
# A Daraja-side refusal that carries a useful message ("Merchant does not exist",
# "Wrong credentials", "Unable to lock subscriber ..."), also the pending STK query answer.
REFUSED_CODE = "500.001.1001"
STILL_PROCESSING_MESSAGE = "The transaction is being processed"


class DarajaError(ExternalServiceError):
    """Daraja did not do what was asked; `error_code`/`error_message` are Daraja's own words."""

    def __init__(
        self,
        user_message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        super().__init__(user_message)
        self.status = status
        self.error_code = error_code
        self.error_message = error_message


class DarajaInvalidCredentials(DarajaError):
    """The consumer key/secret were refused: configuration must change, retrying cannot help."""


class DarajaInvalidToken(DarajaError):
    """The access token was refused (expired or revoked): fetch a new one and resend once."""


class DarajaBadRequest(DarajaError):
    """Daraja refused the request's content; its errorMessage says which field or rule."""


class DarajaRateLimited(DarajaError):
    """Too many requests (HTTP 429, Spike Arrest or quota); wait before trying again."""


class DarajaUnavailable(DarajaError):
    """Daraja could not be reached or failed internally; the outcome of a push is unknown."""


def error_fields(response: httpx.Response) -> tuple[str | None, str | None]:
    """(errorCode, errorMessage) from a Daraja error body, (None, None) when it has none."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, None
    if not isinstance(body, dict):
        return None, None
    code = body.get("errorCode")
    message = body.get("errorMessage")
    return (
        str(code) if code is not None else None,
        str(message) if message is not None else None,
    )


def classify(response: httpx.Response, *, operation: str) -> DarajaError:
    """The outcome of a non-2xx answer from a business API (not the token endpoint)."""
    code, message = error_fields(response)
    status = response.status_code
    said = f": {message}" if message else f" (HTTP {status})"
    kind: type[DarajaError]
    if code in INVALID_TOKEN_CODES or status == 401:
        kind, text = DarajaInvalidToken, f"Daraja refused the access token ({operation}){said}"
    elif status == 429 or code in RATE_LIMIT_CODES:
        kind, text = DarajaRateLimited, f"Daraja is rate limiting {operation}{said}"
    elif code in (BAD_REQUEST_CODE, REFUSED_CODE) or 400 <= status < 500:
        kind, text = DarajaBadRequest, f"Daraja refused {operation}{said}"
    else:
        kind, text = DarajaUnavailable, f"Daraja failed {operation}{said}"
    return kind(text, status=status, error_code=code, error_message=message)


def classify_token_failure(response: httpx.Response) -> DarajaError:
    """The outcome of a non-2xx answer from the OAuth endpoint."""
    code, message = error_fields(response)
    status = response.status_code
    said = f": {message}" if message else f" (HTTP {status})"
    kind: type[DarajaError]
    if status == 429 or code in RATE_LIMIT_CODES:
        kind, text = DarajaRateLimited, f"Daraja is rate limiting token requests{said}"
    elif 400 <= status < 500:
        kind, text = DarajaInvalidCredentials, f"Daraja refused the consumer key/secret{said}"
    else:
        kind, text = DarajaUnavailable, f"Daraja's token service failed{said}"
    return kind(text, status=status, error_code=code, error_message=message)


def is_still_processing(response: httpx.Response) -> bool:
    """True for the STK query answer that means the customer has not answered yet."""
    code, message = error_fields(response)
    return code == REFUSED_CODE and (message or "").strip().lower().startswith(
        STILL_PROCESSING_MESSAGE.lower()
    )


def retryable(error: DarajaError) -> bool:
    """Worth another attempt for an idempotent call (token fetch, queries)."""
    return isinstance(error, DarajaRateLimited | DarajaUnavailable)
