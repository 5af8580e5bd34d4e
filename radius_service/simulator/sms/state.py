"""What the SMS double remembers: its account (credentials, balance) and every message."""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

# AT takes international numbers with the plus; the double accepts any E.164-looking one.
E164 = re.compile(r"^\+[1-9]\d{9,14}$")
# Advanta-family numbers: 2547…/2541… or 07…/01….
MSISDN = re.compile(r"^(254|0)[17]\d{8}$")


@dataclass
class SmsSimulatorConfig:
    username: str = "sandbox"
    api_key: str = "easyisp-sim-key"
    partner_id: str = "1001"
    balance: Decimal = Decimal("100.0000")
    cost: Decimal = Decimal("0.8000")  # KES per message
    # Where delivery reports go (as in AT's dashboard: SMS -> Callback URLs); None = no DLRs.
    callback_url: str | None = None
    dlr_delay: float = 0.5


@dataclass
class SentMessage:
    message_id: str
    api: str  # "africastalking" or "advanta"
    phone: str
    text: str
    sender_id: str | None
    cost: Decimal
    sent_at: datetime
    # The DLR status it will report: a number ending 99 is rejected, 98 never reports.
    dlr_status: str | None = None
    dlr_posted: bool = False


@dataclass
class SmsSimulatorState:
    config: SmsSimulatorConfig
    messages: list[SentMessage] = field(default_factory=list)
    dlr_failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def charge(self, api: str, phone: str, text: str, sender_id: str | None) -> SentMessage | None:
        """Take the cost and keep the message; None when the balance does not cover it."""
        with self._lock:
            if self.config.balance < self.config.cost:
                return None
            self.config.balance -= self.config.cost
            prefix = "ATXid_" if api == "africastalking" else ""
            message = SentMessage(
                message_id=prefix + secrets.token_hex(16),
                api=api,
                phone=phone,
                text=text,
                sender_id=sender_id,
                cost=self.config.cost,
                sent_at=datetime.now(UTC),
                dlr_status=dlr_status_for(phone),
            )
            self.messages.append(message)
            return message

    def snapshot(self) -> list[SentMessage]:
        with self._lock:
            return list(self.messages)


def dlr_status_for(phone: str) -> str | None:
    if phone.endswith("99"):
        return "Rejected"
    if phone.endswith("98"):
        return None
    return "Success"
