"""The one interface every SMS provider client offers, and the normalised results it returns.

A send answers per recipient (accepted with the provider's message id, or refused with a
reason and whether trying again later can help). A request that failed as a whole raises
SmsGatewayError; `maybe_sent` says the provider may have taken the message all the same (the
answer was lost), which a caller that must never send twice treats as "do not resend".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from easyisp_core.errors import ExternalServiceError


class DeliveryState(enum.StrEnum):
    PENDING = "PENDING"  # still on its way (sent to the network, buffered, retried by it)
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class SendResult:
    """What the provider said about one recipient (`phone` in E.164)."""

    phone: str
    accepted: bool
    message_id: str | None = None
    reason: str | None = None
    retryable: bool = False
    cost: Decimal | None = None


@dataclass(frozen=True)
class DeliveryReport:
    message_id: str
    state: DeliveryState
    reason: str | None = None


class SmsGatewayError(ExternalServiceError):
    """The whole request failed: nothing per recipient to report."""

    def __init__(self, user_message: str, *, retryable: bool, maybe_sent: bool = False) -> None:
        super().__init__(user_message)
        self.retryable = retryable
        self.maybe_sent = maybe_sent


class SmsGateway(Protocol):
    """A provider client. `send` takes E.164 numbers and returns one result per number."""

    provider: str

    async def send(
        self, recipients: Sequence[str], message: str, sender_id: str | None
    ) -> list[SendResult]: ...

    async def aclose(self) -> None: ...


class DeliveryReportParser(Protocol):
    """Reads a provider's delivery-report callback (form fields or JSON, flattened)."""

    def __call__(self, fields: Mapping[str, str]) -> DeliveryReport | None: ...
