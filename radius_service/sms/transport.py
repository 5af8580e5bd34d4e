"""Turning httpx failures into SmsGatewayError: retry only when the request surely never
reached the provider; a lost answer means the message may be out already."""

from __future__ import annotations

import httpx

from radius_service.sms.gateway import SmsGatewayError


def transport_error(provider: str, exc: httpx.HTTPError) -> SmsGatewayError:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return SmsGatewayError(f"{provider} could not be reached ({exc!r})", retryable=True)
    # Written but no (whole) answer: the provider may have queued the message.
    return SmsGatewayError(
        f"{provider} did not answer ({type(exc).__name__}); the message may have been sent",
        retryable=False,
        maybe_sent=True,
    )


def http_status_error(provider: str, response: httpx.Response) -> SmsGatewayError:
    text = response.text.strip()[:200]
    if response.status_code in (401, 403):
        return SmsGatewayError(
            f"{provider} refused the credentials (HTTP {response.status_code}: {text}); "
            "check the gateway's username and API key",
            retryable=False,
        )
    if response.status_code == 429 or response.status_code >= 500:
        return SmsGatewayError(
            f"{provider} is unavailable (HTTP {response.status_code}: {text})", retryable=True
        )
    return SmsGatewayError(
        f"{provider} refused the request (HTTP {response.status_code}: {text})", retryable=False
    )
