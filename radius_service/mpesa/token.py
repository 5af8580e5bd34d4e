"""The OAuth client-credentials token: cached, renewed before it expires, fetched once at a time.

Daraja's FAQ says a new token may invalidate the previous one, so concurrent callers must
share one fetch rather than each asking for their own (protocols.md §1.2).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from radius_service.mpesa.errors import (
    DarajaUnavailable,
    classify_token_failure,
)
from radius_service.mpesa.retry import RetryPolicy, with_retries

log = logging.getLogger(__name__)
TOKEN_PATH = "/oauth/v1/generate"  # noqa: S105 - a URL path, not a secret
# Renew this long before Daraja's expiry (a minute for the usual 3599 s token), so a request
# never leaves with a token that dies in flight; short test tokens renew at 90 % of their life.
REFRESH_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_in: float
    renew_at: float  # on the cache's clock


class TokenCache:
    """Hands out a valid access token for one consumer key, fetching only when needed."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        consumer_key: str,
        consumer_secret: str,
        *,
        retry: RetryPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        credentials = f"{consumer_key}:{consumer_secret}".encode()
        self._authorization = "Basic " + base64.b64encode(credentials).decode("ascii")
        self._retry = retry
        self._clock = clock
        self._token: AccessToken | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self) -> str:
        """A token that is not about to expire; one fetch serves every waiting caller."""
        token = self._token
        if token is not None and self._clock() < token.renew_at:
            return token.value
        async with self._lock:
            token = self._token
            if token is not None and self._clock() < token.renew_at:
                return token.value
            token = await with_retries("token fetch", self._fetch, self._retry)
            self._token = token
            return token.value

    async def refresh_after_rejection(self, rejected: str) -> str:
        """A new token after Daraja refused `rejected`; callers that saw the same refusal
        at the same time share one fetch instead of each replacing the other's token."""
        async with self._lock:
            if self._token is not None and self._token.value != rejected:
                return self._token.value
            log.info("daraja refused the cached access token; fetching a new one")
            self._token = None
        return await self.get()

    async def _fetch(self) -> AccessToken:
        self.fetches += 1
        try:
            response = await self._http.get(
                TOKEN_PATH,
                params={"grant_type": "client_credentials"},
                headers={"Authorization": self._authorization},
            )
        except httpx.HTTPError as exc:
            raise DarajaUnavailable(f"Daraja's token service is unreachable: {exc}") from exc
        if response.status_code != 200:
            raise classify_token_failure(response)
        return self._parse(response)

    def _parse(self, response: httpx.Response) -> AccessToken:
        try:
            body = response.json()
            value = str(body["access_token"])
            # The docs show a number, older samples a string: accept both.
            expires_in = float(body["expires_in"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DarajaUnavailable(
                "Daraja's token service answered without a usable token", status=200
            ) from exc
        if not value or expires_in <= 0:
            raise DarajaUnavailable(
                "Daraja's token service answered with an empty token", status=200
            )
        margin = min(REFRESH_MARGIN_SECONDS, expires_in * 0.1)
        log.info("daraja access token fetched, valid for %.0f s", expires_in)
        return AccessToken(value, expires_in, self._clock() + expires_in - margin)
