"""What the Daraja double knows: its configuration, the tokens it issued and the transactions
made through it. Lives on the simulator's event loop; only its handlers touch it."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from radius_service.simulator.daraja.scenarios import Scenario

SANDBOX_SHORTCODE = "174379"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"


@dataclass(frozen=True)
class SimulatorConfig:
    shortcode: str = SANDBOX_SHORTCODE
    passkey: str = SANDBOX_PASSKEY
    consumer_key: str = "easyisp-sim-key"
    consumer_secret: str = "easyisp-sim-secret"  # noqa: S105 - a simulator's fixed secret
    token_ttl: int = 3599
    # Seconds between the push being accepted and the customer's answer (the callback).
    callback_delay: float = 2.0
    late_callback_delay: float = 120.0
    # How long M-Pesa waits for a C2B validation answer before applying ResponseType.
    c2b_validation_timeout: float = 8.0
    c2b_external_validation: bool = True
    # Daraja refuses callback URLs containing these words (protocols.md §1.3).
    reject_keyword_urls: bool = True
    # A second push to a phone with one still pending: "Unable to lock subscriber".
    lock_subscriber: bool = True
    # Older samples send expires_in as a string; clients must accept both.
    expires_in_as_string: bool = True


@dataclass
class StkTransaction:
    checkout_request_id: str
    merchant_request_id: str
    shortcode: str
    phone: str
    amount: int
    account_reference: str
    callback_url: str
    scenario: Scenario
    created_at: datetime
    state: str = "pending"  # pending -> completed (result decided)
    result_code: int | None = None
    result_desc: str | None = None
    receipt: str | None = None
    completed_at: datetime | None = None
    callbacks_delivered: int = 0
    callback_errors: list[str] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def public(self) -> dict[str, Any]:
        return {
            "checkout_request_id": self.checkout_request_id,
            "merchant_request_id": self.merchant_request_id,
            "shortcode": self.shortcode,
            "phone": self.phone,
            "amount": self.amount,
            "account_reference": self.account_reference,
            "callback_url": self.callback_url,
            "scenario": str(self.scenario),
            "state": self.state,
            "result_code": self.result_code,
            "result_desc": self.result_desc,
            "receipt": self.receipt,
            "created_at": self.created_at.isoformat(),
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "callbacks_delivered": self.callbacks_delivered,
            "callback_errors": list(self.callback_errors),
        }


@dataclass
class C2bRegistration:
    shortcode: str
    response_type: str
    confirmation_url: str
    validation_url: str
    version: int


@dataclass
class C2bPayment:
    trans_id: str
    shortcode: str
    amount: int
    msisdn: str
    bill_ref_number: str | None
    created_at: datetime
    state: str = "pending"  # pending -> confirmed | rejected | failed
    validation_result: str | None = None
    confirmations_delivered: int = 0

    def public(self) -> dict[str, Any]:
        return {
            "trans_id": self.trans_id,
            "shortcode": self.shortcode,
            "amount": self.amount,
            "msisdn": self.msisdn,
            "bill_ref_number": self.bill_ref_number,
            "created_at": self.created_at.isoformat(),
            "state": self.state,
            "validation_result": self.validation_result,
            "confirmations_delivered": self.confirmations_delivered,
        }


@dataclass
class SimulatorState:
    config: SimulatorConfig
    tokens: dict[str, float] = field(default_factory=dict)  # token -> monotonic expiry
    tokens_issued: int = 0
    stk: dict[str, StkTransaction] = field(default_factory=dict)
    c2b_urls: dict[str, C2bRegistration] = field(default_factory=dict)
    c2b: list[C2bPayment] = field(default_factory=list)
    status_queries: list[dict[str, Any]] = field(default_factory=list)
    # The next N Transaction Status questions time out in the queue (QueueTimeOutURL).
    status_timeouts: int = 0
    # Control knobs.
    next_scenarios: deque[Scenario] = field(default_factory=deque)
    default_scenario: Scenario | None = None  # None: the phone-suffix rule
    rate_limited_requests: int = 0
    rate_limit_status: int = 429
    failing_requests: int = 0  # an injected outage: HTTP 503 internal errors

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(21)  # 28 characters, like Daraja's
        self.tokens[token] = time.monotonic() + self.config.token_ttl
        self.tokens_issued += 1
        return token

    def token_valid(self, token: str) -> bool:
        expiry = self.tokens.get(token)
        return expiry is not None and time.monotonic() < expiry

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def pending_for(self, phone: str) -> bool:
        return any(t.phone == phone and t.state == "pending" for t in self.stk.values())

    def receipts(self) -> dict[str, dict[str, Any]]:
        """Every receipt M-Pesa issued, for Transaction Status answers."""
        found: dict[str, dict[str, Any]] = {}
        for t in self.stk.values():
            if t.receipt:
                found[t.receipt] = {"amount": t.amount, "msisdn": t.phone, "at": t.completed_at}
        for p in self.c2b:
            if p.state == "confirmed":
                found[p.trans_id] = {"amount": p.amount, "msisdn": p.msisdn, "at": p.created_at}
        return found
