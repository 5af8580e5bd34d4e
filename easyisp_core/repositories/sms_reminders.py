"""Finding who is due an expiry reminder and queueing it in sms_logs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# One lock for the whole sweep: two services sweeping at once would both find a customer
# not yet reminded (sms_logs is partitioned, so no unique index can stop the second insert).
_SWEEP_LOCK = "easyisp.sms.expiry_reminders"


@dataclass(frozen=True)
class SmsTenant:
    id: uuid.UUID
    display_name: str
    config: dict[str, Any]


@dataclass(frozen=True)
class DueReminder:
    customer_id: uuid.UUID
    phone: str
    account_number: str
    expires_at: datetime
    price: Decimal | None


def reminder_key(customer_id: uuid.UUID, expires_at: datetime) -> str:
    """One reminder per customer and expiry: a renewal moves expires_at and so the key."""
    return f"expiry:{customer_id}:{int(expires_at.timestamp())}"


class SmsReminderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_sweep(self) -> None:
        self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": _SWEEP_LOCK})

    def tenants_with_sms(self) -> list[SmsTenant]:
        rows = self.session.execute(
            text(
                "SELECT id, display_name, config FROM tenants "
                "WHERE status IN ('ACTIVE', 'TRIAL') "
                "AND coalesce((config -> 'sms' ->> 'enabled')::boolean, false)"
            )
        ).all()
        return [SmsTenant(r.id, r.display_name, dict(r.config)) for r in rows]

    def paybill(self, tenant_id: uuid.UUID) -> str | None:
        return self.session.execute(
            text(
                "SELECT shortcode FROM payment_gateways WHERE tenant_id = :t AND is_active "
                "AND purpose IN ('ALL', 'PPPOE') ORDER BY purpose = 'PPPOE' DESC, name LIMIT 1"
            ),
            {"t": tenant_id},
        ).scalar()

    def due(
        self, tenant_id: uuid.UUID, now: datetime, window: timedelta, limit: int
    ) -> list[DueReminder]:
        """Active customers with a phone whose time runs out within `window` and who were not
        yet reminded of this expiry. Packages no longer than the window are skipped: a 1-day
        hotspot pass would otherwise be "reminded" the moment it is bought."""
        rows = self.session.execute(
            text(
                """
                SELECT c.id, c.phone, c.account_number, c.expires_at, p.price
                  FROM customers c JOIN packages p ON p.id = c.package_id
                 WHERE c.tenant_id = :t AND c.status = 'ACTIVE' AND c.phone IS NOT NULL
                   AND c.expires_at > :now AND c.expires_at <= :now + :window
                   AND (p.validity_value || ' ' || lower(p.validity_unit::text))::interval
                       > :window
                   AND NOT EXISTS (
                       SELECT 1 FROM sms_logs s
                        WHERE s.tenant_id = c.tenant_id
                          AND s.dedupe_key = 'expiry:' || c.id || ':'
                              || floor(extract(epoch FROM c.expires_at))::bigint
                          AND s.created_at >= :now - :window - interval '1 day')
                 ORDER BY c.expires_at
                 LIMIT :limit
                """
            ),
            {"t": tenant_id, "now": now, "window": window, "limit": limit},
        ).all()
        return [DueReminder(r.id, r.phone, r.account_number, r.expires_at, r.price) for r in rows]

    def queue(self, tenant_id: uuid.UUID, reminder: DueReminder, message: str) -> None:
        self.session.execute(
            text(
                "INSERT INTO sms_logs (tenant_id, customer_id, phone, message, kind, dedupe_key) "
                "VALUES (:t, :c, :p, :m, 'EXPIRY_REMINDER', :k)"
            ),
            {
                "t": tenant_id,
                "c": reminder.customer_id,
                "p": "+" + reminder.phone,
                "m": message,
                "k": reminder_key(reminder.customer_id, reminder.expires_at),
            },
        )
